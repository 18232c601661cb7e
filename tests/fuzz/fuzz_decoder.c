/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for one decoder, called directly rather than through
 * wl_dissect(), so that the fuzzer reaches it with any bytes at all instead
 * of only those that lower layers let through.
 *
 * Compiled once per decoder (tests/fuzz/meson.build) with
 * -DWL_FUZZ_DECODER=wl_decode_<name> -DWL_FUZZ_NAME="<name>".
 *
 * Input: the low bit of byte 0 sets cursor.cut (the frame went on past the
 * capture), so both truncation paths get fuzzed; the rest is the layer's bytes.
 * The checks are wl_dissect()'s (fuzz_checks.c) plus those a direct call adds.
 */
#include "dissect.h"
#include "fuzz_checks.h"

#include <string.h>

#if !defined(WL_FUZZ_DECODER) || !defined(WL_FUZZ_NAME)
#error "build with -DWL_FUZZ_DECODER=wl_decode_<name> -DWL_FUZZ_NAME=\"<name>\""
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

/*
 * fuzz_main.c feeds the packets of a pcap as whole frames; those mean nothing
 * to a single decoder, so it gets none (its seeds come from
 * fuzz-dissect-replay --extract-layers).
 */
int wl_fuzz_link_index(int linktype)
{
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Static: the struct is large (about 18 KiB) and reused, as capd does. */
	static struct wl_packet pkt;
	bool cut = size > 0 && (data[0] & 1);
	const uint8_t *frame = size > 0 ? data + 1 : data;
	size_t frame_len = size > 0 ? size - 1 : 0;

	/* Poisoned, not zeroed: see fuzz_dissect.c. */
	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.seq = 1;
	pkt.ts_sec = 0;
	pkt.ts_usec = 0;
	/*
	 * wl_dissect() sets cut exactly when caplen < len, and decoders may
	 * look at either (dns.c does), so keep the two in step.
	 */
	pkt.caplen = (uint32_t)frame_len;
	pkt.len = (uint32_t)frame_len + cut;
	pkt.flow_id = 0;
	/* What wl_dissect() clears before its first decoder. */
	memset(&pkt.has, 0, offsetof(struct wl_packet, info) - offsetof(struct wl_packet, has));
	pkt.info[0] = '\0';

	struct wl_dctx d = { .pkt = &pkt, .frame = frame };
	struct cursor c = cur_make(frame, frame_len);

	c.cut = cut;
	int ret = WL_FUZZ_DECODER(&d, &c);

	/*
	 * A decoder may note an error and go on, then return a later one, so ret
	 * need not be d.first_err; but dissect.h wants every error to go through
	 * wl_fail(), so a failing decoder has recorded one. (wl_dissect() would
	 * paper over a miss by recording ret itself; a direct call does not.)
	 */
	CHECK(ret <= 0);
	if (ret < 0)
		CHECK(d.first_err < 0);
	/* Every descend() into a lower decoder came back up. */
	CHECK(d.depth == 0);
	wl_fuzz_check_packet(&pkt, d.first_err, frame_len);
	return 0;
}
