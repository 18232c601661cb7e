/* SPDX-License-Identifier: BSD-2-Clause */
#include "fuzz_tls.h"

#include "fuzz_checks.h"
#include "tls_reasm.h"

#include <string.h>

#define FUZZ_MAX_STREAMS 8
#define FUZZ_STREAM_BYTES 4096
#define FUZZ_MAX_BYTES (3 * FUZZ_STREAM_BYTES)

static struct tls_reasm *table(void)
{
	static struct tls_reasm *t;
	struct tls_reasm_config cfg = { .max_streams = FUZZ_MAX_STREAMS, .stream_bytes = FUZZ_STREAM_BYTES,
					.max_bytes = FUZZ_MAX_BYTES, .timeout_s = 2 };
	int err;

	if (!t) {
		t = tls_reasm_new(&cfg, &err);
		CHECK(t != NULL);
	}
	return t;
}

/* Hex digits that depend on the text: a stand-in for its hash. */
static void stand_in(const char *text, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t h = 2166136261u;

	for (const char *c = text; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (size_t i = 0; i < n; i++)
		out[i] = hex[(h >> (i % 8 * 4)) & 15];
	out[n] = '\0';
}

static void fake_hashes(struct wl_packet *pkt)
{
	struct wl_tls *tls = &pkt->tls;

	if (pkt->has & WL_PKT_JA3_TEXT) {
		stand_in(tls->ja3_text, tls->ja3, WL_JA3_LEN);
		pkt->has |= WL_PKT_JA3;
	}
	if (pkt->has & WL_PKT_JA3S_TEXT) {
		stand_in(tls->ja3s_text, tls->ja3s, WL_JA3_LEN);
		pkt->has |= WL_PKT_JA3S;
	}
	if (pkt->has & WL_PKT_JA4_TEXT) {
		memcpy(tls->ja4, tls->ja4_a, 10);
		tls->ja4[10] = '_';
		stand_in(tls->ja4_b_text, tls->ja4 + 11, 12);
		tls->ja4[23] = '_';
		stand_in(tls->ja4_c_text, tls->ja4 + 24, 12);
		pkt->has |= WL_PKT_JA4;
	}
}

int wl_fuzz_tls(struct wl_packet *pkt, const uint8_t *frame, size_t caplen)
{
	static uint64_t inputs;
	struct tls_reasm *t = table();
	struct tls_reasm_stats st;
	int r;

	/* 10 ms an input: the timeout passes now and then. */
	inputs++;
	pkt->ts_sec = (int64_t)(inputs / 100);
	pkt->ts_usec = (uint32_t)(inputs % 100 * 10000);
	r = tls_reasm_packet(t, pkt, frame, caplen);
	CHECK(r == 0 || r == 1);
	if (r)
		CHECK(pkt->proto == WL_P_TLS && !(pkt->has & WL_PKT_TLS_SEGMENT));
	tls_reasm_stats(t, &st);
	CHECK(st.active <= FUZZ_MAX_STREAMS);
	CHECK(st.completed <= st.started);
	/* The fixed part (table, buckets, filter) plus at most the buffers' bound. */
	CHECK(st.memory_peak <= 256 * 1024 + FUZZ_MAX_BYTES);
	fake_hashes(pkt);
	return r;
}
