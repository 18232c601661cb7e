/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for wl_dissect().
 *
 * Input: byte 0 picks a link type from fuzz_links[] (modulo its size); the rest is
 * the frame. After decoding, every output string is read and the invariants
 * that consumers (capd's JSON writer, the web UI) rely on are checked, so a
 * decoder bug shows up as a crash here rather than as garbage downstream.
 *
 * The checks live in fuzz_checks.c, shared with the per-decoder targets of
 * fuzz_decoder.c. Every summary then goes through capd's TLS handshake
 * reassembly (fuzz_tls.c) and into its flow table, as it does in capd
 * (fuzz_flows.c): reports are checked and sizes bounded. Built two ways (tests/fuzz/meson.build): with
 * -fsanitize=fuzzer as fuzz-dissect, and with fuzz_main.c as the plain replay
 * driver that runs under meson test.
 */
#include "fuzz_checks.h"
#include "fuzz_flows.h"
#include "fuzz_tls.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

/* Every link type wl_dissect() understands; fuzz_main.c maps pcaps onto it. */
static const int fuzz_links[] = {
	WL_LINK_NULL, WL_LINK_ETHERNET, WL_LINK_RAW,  WL_LINK_LOOP,
	WL_LINK_SLL,  WL_LINK_IPV4,     WL_LINK_IPV6, WL_LINK_SLL2,
	/* Encapsulations (issue 14): serial links and 802.11. */
	WL_LINK_PPP,  WL_LINK_PPP_HDLC, WL_LINK_C_HDLC, WL_LINK_IEEE802_11,
	WL_LINK_IEEE802_11_RADIOTAP,
};
#define N_FUZZ_LINKS (sizeof(fuzz_links) / sizeof(fuzz_links[0]))

int wl_fuzz_link_index(int linktype)
{
	for (size_t i = 0; i < N_FUZZ_LINKS; i++)
		if (fuzz_links[i] == linktype)
			return (int)i;
	return -1;
}

/*
 * The same frame through wl_dissect_tree(): the same result, and every line
 * terminated, within the frame and within a tree kept small enough to fill.
 */
static void fuzz_tree(const uint8_t *frame, size_t frame_len, int linktype, int ret)
{
	enum { TREE_MAX = 64 };
	static struct wl_packet pkt;
	static struct wl_field fields[TREE_MAX + 1];
	struct wl_tree tree = { .fields = fields, .max = TREE_MAX };

	memset(&pkt, 0xa5, sizeof(pkt));
	memset(fields, 0xa5, sizeof(fields));
	pkt.len = (uint32_t)frame_len;
	pkt.caplen = (uint32_t)frame_len;
	pkt.flow_id = 0;
	CHECK(wl_dissect_tree(&pkt, linktype, frame, frame_len, &tree) == ret);
	wl_fuzz_check_packet(&pkt, ret, frame_len);
	CHECK(tree.n <= TREE_MAX);
	CHECK(fields[TREE_MAX].depth == 0xa5); /* nothing past max */
	for (unsigned i = 0; i < tree.n; i++) {
		CHECK(fields[i].depth <= 2);
		CHECK((size_t)fields[i].off + fields[i].len <= frame_len);
		CHECK(strlen(fields[i].name) < sizeof(fields[i].name));
		CHECK(strlen(fields[i].value) < sizeof(fields[i].value));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Static: the struct is large (about 18 KiB) and reused, as capd does. */
	static struct wl_packet pkt;
	static uint64_t seq;

	if (size < 1)
		return 0;

	const uint8_t *frame = data + 1;
	size_t frame_len = size - 1;
	int linktype = fuzz_links[data[0] % N_FUZZ_LINKS];

	/*
	 * Poison the whole struct rather than zeroing it: wl_dissect() promises
	 * to clear the fixed part and to terminate every string it marks valid,
	 * and stale zeros from an earlier input would hide a broken promise.
	 */
	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.seq = ++seq;
	pkt.ts_sec = 0;
	pkt.ts_usec = 0;
	pkt.len = (uint32_t)frame_len;
	pkt.caplen = (uint32_t)frame_len;
	pkt.flow_id = 0;

	int ret = wl_dissect(&pkt, linktype, frame, frame_len);

	wl_fuzz_check_packet(&pkt, ret, frame_len);
	fuzz_tree(frame, frame_len, linktype, ret);
	/* As capd: the TLS reassembly and fingerprints, then the flow. */
	if (wl_fuzz_tls(&pkt, frame, frame_len))
		wl_fuzz_check_packet(&pkt, ret, frame_len);
	wl_fuzz_flows(&pkt);
	return 0;
}
