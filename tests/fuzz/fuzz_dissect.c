/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for wl_dissect().
 *
 * Input: byte 0 picks a link type from fuzz_links[] (byte % 8); the rest is
 * the frame. After decoding, every output string is read and the invariants
 * that consumers (capd's JSON writer, the web UI) rely on are checked, so a
 * decoder bug shows up as a crash here rather than as garbage downstream.
 *
 * Built two ways (tests/fuzz/meson.build): with -fsanitize=fuzzer as
 * fuzz-dissect, and with fuzz_main.c as the plain replay driver that runs
 * under meson test.
 */
#include "wlite-proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

/* Every link type wl_dissect() understands; fuzz_main.c maps pcaps onto it. */
static const int fuzz_links[8] = {
	WL_LINK_NULL, WL_LINK_ETHERNET, WL_LINK_RAW,  WL_LINK_LOOP,
	WL_LINK_SLL,  WL_LINK_IPV4,     WL_LINK_IPV6, WL_LINK_SLL2,
};

int wl_fuzz_link_index(int linktype)
{
	for (size_t i = 0; i < sizeof(fuzz_links) / sizeof(fuzz_links[0]); i++)
		if (fuzz_links[i] == linktype)
			return (int)i;
	return -1;
}

/*
 * assert() would vanish under -Db_ndebug=true (the release build also builds
 * the replay driver), so check explicitly. abort() is what libFuzzer and
 * meson test both report as a crash.
 */
#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",        \
				__FILE__, __LINE__, #cond);                     \
			abort();                                                \
		}                                                               \
	} while (0)

/*
 * A string member must hold its NUL inside its own array. strlen() alone is
 * not enough: ASan does not see an overrun into the next member of the same
 * struct, so look for the terminator within the array's size.
 */
#define CHECK_STR(arr) CHECK(memchr((arr), '\0', sizeof(arr)) != NULL)

/* Keeps the reads from being optimised away. */
static volatile size_t fuzz_sink;

static void touch(const char *s)
{
	fuzz_sink += strlen(s);
}

static void check_flow(const struct wl_flow *f)
{
	char buf[46];

	CHECK(f->l3 <= WL_L3_OTHER);
	CHECK(f->src.family == 0 || f->src.family == 4 || f->src.family == 6);
	CHECK(f->dst.family == 0 || f->dst.family == 4 || f->dst.family == 6);
	touch(wl_addr_str(&f->src, buf, sizeof(buf)));
	touch(wl_addr_str(&f->dst, buf, sizeof(buf)));
}

static void check_dns(const struct wl_dns *dns)
{
	CHECK_STR(dns->qname);
	touch(dns->qname);
	CHECK(dns->n_answers <= WL_DNS_MAX_ANSWERS);
	CHECK(dns->answers_total >= dns->n_answers);
	for (unsigned i = 0; i < dns->n_answers; i++) {
		const struct wl_dns_rr *rr = &dns->answers[i];

		CHECK(rr->section <= WL_DNS_AR);
		CHECK_STR(rr->name);
		CHECK_STR(rr->data);
		touch(rr->name);
		touch(rr->data);
	}
}

static void check_packet(const struct wl_packet *pkt, int ret, size_t frame_len)
{
	/*
	 * Any negative errno may come back (the depth limit gives -ELOOP), but
	 * every error must be recorded in malformed, and of the right kind.
	 */
	CHECK(ret <= 0);
	CHECK(pkt->malformed <= WL_INVALID);
	if (ret == -EMSGSIZE)
		CHECK(pkt->malformed == WL_TRUNCATED);
	else if (ret < 0 && ret != -EPROTONOSUPPORT)
		CHECK(pkt->malformed == WL_INVALID);

	CHECK(pkt->proto < WL_P__MAX);
	touch(wl_proto_name((enum wl_proto)pkt->proto));
	CHECK(pkt->n_vlan <= WL_VLAN_MAX);
	check_flow(&pkt->outer);
	check_flow(&pkt->inner);

	CHECK(pkt->n_layers <= WL_LAYERS_MAX);
	for (unsigned i = 0; i < pkt->n_layers; i++) {
		const struct wl_layer *l = &pkt->layers[i];

		CHECK(l->proto < WL_P__MAX);
		CHECK((size_t)l->off + l->len <= frame_len);
	}

	CHECK_STR(pkt->info);
	touch(pkt->info);
	if (pkt->has & WL_PKT_SNI) {
		CHECK_STR(pkt->sni);
		touch(pkt->sni);
	}
	if (pkt->has & WL_PKT_DNS)
		check_dns(&pkt->dns);
	if (pkt->has & WL_PKT_HTTP) {
		CHECK_STR(pkt->http.method);
		CHECK_STR(pkt->http.host);
		CHECK_STR(pkt->http.path);
		touch(pkt->http.method);
		touch(pkt->http.host);
		touch(pkt->http.path);
	}
	if (pkt->has & WL_PKT_DHCP) {
		CHECK_STR(pkt->dhcp.hostname);
		touch(pkt->dhcp.hostname);
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
	int linktype = fuzz_links[data[0] % 8];

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

	int ret = wl_dissect(&pkt, linktype, frame, frame_len);

	check_packet(&pkt, ret, frame_len);
	return 0;
}
