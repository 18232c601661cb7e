/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for capd/fingerprint.c (the hashes, with libcrypto) and
 * capd/tls_reasm.c (the handshake reassembly), on frames decoded by
 * wl_dissect() as capd decodes them.
 *
 * The JA4 hashes are those of the worked example in FoxIO's specification.
 * The JA3 of the same hello is tshark 4.0.17's tls.handshake.ja3 for the
 * bytes test-tls_hello --write-pcap writes (its first frame).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fingerprint.h"
#include "tls_reasm.h"

#include "hello.h"

#include <errno.h>

static struct wl_packet pkt;

static const char SPEC_B[] = "002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9";
static const char SPEC_C[] = "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
			     "0403,0804,0401,0503,0805,0501,0806,0601";
static const char SPEC_C_NO_SIGALGS[] = "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01";
static const char SPEC_JA4[] = "t13d1516h2_8daaf6152771_e5627efa2ab1";
/* tshark 4.0.17, tls.handshake.ja3 of hb_spec_client_hello(grease, sigalgs). */
static const char SPEC_JA3[] = "c000e2caf3a25423f9de6c8a4b12a975";

static struct fingerprints *new_fingerprints(void)
{
	int err;
	struct fingerprints *f = fingerprints_new(&err);

	assert_non_null(f);
	assert_int_equal(err, 0);
	return f;
}

static void texts(const char *a, const char *b, const char *c)
{
	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.has = WL_PKT_JA4_TEXT;
	pkt.tls_cut = 0;
	strcpy(pkt.tls.ja4_a, a);
	strcpy(pkt.tls.ja4_b_text, b);
	strcpy(pkt.tls.ja4_c_text, c);
}

/* ---- Hashes -------------------------------------------------------------------------- */

/* The specification's example, and its hash without signature algorithms. */
static void test_ja4_spec_hashes(void **state)
{
	struct fingerprints *f = new_fingerprints();

	(void)state;
	texts("t13d1516h2", SPEC_B, SPEC_C);
	fingerprints_hash(f, &pkt);
	assert_true(pkt.has & WL_PKT_JA4);
	assert_string_equal(pkt.tls.ja4, SPEC_JA4);
	texts("t13d1516h2", SPEC_B, SPEC_C_NO_SIGALGS);
	fingerprints_hash(f, &pkt);
	assert_string_equal(pkt.tls.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
	fingerprints_free(f);
}

/* Empty lists are twelve zeros, not the hash of nothing. */
static void test_ja4_empty_lists(void **state)
{
	struct fingerprints *f = new_fingerprints();

	(void)state;
	texts("t12i000000", "", "");
	fingerprints_hash(f, &pkt);
	assert_string_equal(pkt.tls.ja4, "t12i000000_000000000000_000000000000");
	fingerprints_free(f);
}

static void test_ja3_md5(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;

	(void)state;
	memset(&pkt, 0, sizeof(pkt));
	pkt.has = WL_PKT_JA3_TEXT | WL_PKT_JA3S_TEXT;
	/* RFC 1321's test suite: MD5("abc"), MD5(""). */
	strcpy(pkt.tls.ja3_text, "abc");
	strcpy(pkt.tls.ja3s_text, "");
	fingerprints_hash(f, &pkt);
	assert_true(pkt.has & WL_PKT_JA3);
	assert_true(pkt.has & WL_PKT_JA3S);
	assert_false(pkt.has & WL_PKT_JA4);
	assert_string_equal(pkt.tls.ja3, "900150983cd24fb0d6963f7d28e17f72");
	assert_string_equal(pkt.tls.ja3s, "d41d8cd98f00b204e9800998ecf8427e");
	fingerprints_stats(f, &st);
	assert_int_equal(st.ja3, 1);
	assert_int_equal(st.ja3s, 1);
	assert_int_equal(st.ja4, 0);
	fingerprints_free(f);
}

/* ---- Frames ---------------------------------------------------------------------------- */

static uint8_t frame[20000];
static uint32_t now_s = 1700000000;

/* One segment through wl_dissect() and the fingerprints, as capd does it. */
static void segment(struct fingerprints *f, bool reply, uint32_t seq, const uint8_t *payload, size_t len,
		    size_t caplen_cut)
{
	size_t n = hb_frame(frame, sizeof(frame), reply, seq, 0x18, payload, len);
	size_t caplen = caplen_cut && caplen_cut < n ? caplen_cut : n;

	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.ts_sec = now_s;
	pkt.ts_usec = 0;
	pkt.len = (uint32_t)n;
	pkt.caplen = (uint32_t)caplen;
	pkt.flow_id = 0;
	wl_dissect(&pkt, WL_LINK_ETHERNET, frame, caplen);
	fingerprints_packet(f, &pkt, frame, caplen);
}

static void spec_record(struct hb *rec)
{
	struct hb h = { .n = 0 };

	hb_spec_client_hello(&h, true, true);
	rec->n = 0;
	hb_record(rec, 1, h.b, h.n);
}

static void assert_whole_hello(void)
{
	assert_int_equal(pkt.proto, WL_P_TLS);
	assert_true(pkt.has & WL_PKT_SNI);
	assert_string_equal(pkt.sni, "example.com");
	assert_true(pkt.has & WL_PKT_ALPN);
	assert_int_equal(pkt.tls.n_alpn, 2);
	assert_string_equal(pkt.tls.alpn[0], "h2");
	assert_string_equal(pkt.tls.alpn[1], "http/1.1");
	assert_true(pkt.has & WL_PKT_JA3);
	assert_string_equal(pkt.tls.ja3, SPEC_JA3);
	assert_true(pkt.has & WL_PKT_JA4);
	assert_string_equal(pkt.tls.ja4, SPEC_JA4);
	assert_string_equal(pkt.info, "Client Hello (SNI=example.com)");
}

static void assert_nothing_yet(void)
{
	assert_false(pkt.has & (WL_PKT_SNI | WL_PKT_ALPN | WL_PKT_JA3 | WL_PKT_JA4));
}

/* A hello in one segment needs no reassembly. */
static void test_one_segment(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;
	struct hb rec;

	(void)state;
	spec_record(&rec);
	segment(f, false, 1000, rec.b, rec.n, 0);
	assert_whole_hello();
	assert_int_equal(pkt.n_layers, 4);
	fingerprints_stats(f, &st);
	assert_int_equal(st.reasm.started, 0);
	fingerprints_free(f);
}

/* Two segments: nothing on the first, everything on the one that completes the record. */
static void test_two_segments(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;
	struct hb rec;

	(void)state;
	spec_record(&rec);
	segment(f, false, 1000, rec.b, 300, 0);
	assert_int_equal(pkt.proto, WL_P_TLS);
	assert_true(pkt.has & WL_PKT_TLS_SEGMENT);
	assert_nothing_yet();
	/* The other direction, meanwhile, changes nothing. */
	segment(f, true, 5000, NULL, 0, 0);
	segment(f, false, 1300, rec.b + 300, rec.n - 300, 0);
	assert_whole_hello();
	/* The frame's own layers stay: no layer for the reassembled bytes. */
	assert_int_equal(pkt.layers[pkt.n_layers - 1].proto, WL_P_TCP);
	assert_int_equal(pkt.malformed, WL_OK);
	fingerprints_stats(f, &st);
	assert_int_equal(st.reasm.started, 1);
	assert_int_equal(st.reasm.completed, 1);
	assert_int_equal(st.reasm.active, 0);
	assert_int_equal(st.ja3, 1);
	assert_int_equal(st.ja4, 1);
	fingerprints_free(f);
}

/* In order only: a segment past a hole waits for the hole to be filled again. */
static void test_out_of_order(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;
	struct hb rec;

	(void)state;
	spec_record(&rec);
	segment(f, false, 1000, rec.b, 100, 0);
	segment(f, false, 1200, rec.b + 200, rec.n - 200, 0); /* before 1100 came */
	assert_nothing_yet();
	segment(f, false, 1100, rec.b + 100, 100, 0);
	assert_nothing_yet();
	/* The retransmission of the last segment, with a little of the one before. */
	segment(f, false, 1150, rec.b + 150, rec.n - 150, 0);
	assert_whole_hello();
	fingerprints_stats(f, &st);
	assert_int_equal(st.reasm.out_of_order, 1);
	assert_int_equal(st.reasm.completed, 1);
	fingerprints_free(f);
}

/* A first segment sent again neither restarts nor completes anything. */
static void test_retransmitted_first_segment(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;
	struct hb rec;

	(void)state;
	spec_record(&rec);
	segment(f, false, 1000, rec.b, 200, 0);
	segment(f, false, 1200, rec.b + 200, 100, 0);
	segment(f, false, 1000, rec.b, 200, 0);
	assert_nothing_yet();
	segment(f, false, 1300, rec.b + 300, rec.n - 300, 0);
	assert_whole_hello();
	fingerprints_stats(f, &st);
	assert_int_equal(st.reasm.started, 1);
	fingerprints_free(f);
}

/* The sequence space wraps in the middle of the hello. */
static void test_sequence_wraps(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct hb rec;

	(void)state;
	spec_record(&rec);
	segment(f, false, 0xffffff80u, rec.b, 200, 0);
	segment(f, false, 0xffffff80u + 200, rec.b + 200, rec.n - 200, 0);
	assert_whole_hello();
	fingerprints_free(f);
}

/* A segment the snap length cut leaves a hole nothing fills: given up. */
static void test_cut_segment_abandons(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;
	struct hb rec;

	(void)state;
	spec_record(&rec);
	segment(f, false, 1000, rec.b, 200, 0);
	segment(f, false, 1200, rec.b + 200, rec.n - 200, 100);
	assert_nothing_yet();
	fingerprints_stats(f, &st);
	assert_int_equal(st.reasm.abandoned, 1);
	assert_int_equal(st.reasm.active, 0);
	fingerprints_free(f);
}

/*
 * A ServerHello in one record with a long Certificate (9 KB, past the 8 KiB
 * kept): the JA3S comes on the frame that ends the record, from its first bytes.
 */
static void test_long_record_cut(void **state)
{
	static const uint8_t cert[9000];
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;
	struct hb body = { .n = 0 }, rec = { .n = 0 };
	size_t at, sent;

	(void)state;
	hb16(&body, 0x0303);
	for (int i = 0; i < 32; i++)
		hb8(&body, i);
	hb8(&body, 0);
	hb16(&body, 0xc02f);
	hb8(&body, 0);
	hb16(&body, 5);
	hb_ext(&body, 0xff01, "\x00", 1);
	hb_record(&rec, 2, body.b, body.n);
	/* The Certificate message, in the same record. */
	hb8(&rec, 11);
	hb8(&rec, 0);
	hb16(&rec, sizeof(cert));
	hbmem(&rec, cert, sizeof(cert));
	hb_patch16(&rec, 3, rec.n - 5);
	for (at = 0; at < rec.n; at += sent) {
		sent = rec.n - at < 1400 ? rec.n - at : 1400;
		segment(f, true, 7000 + (uint32_t)at, rec.b + at, sent, 0);
		if (at + sent < rec.n)
			assert_false(pkt.has & WL_PKT_JA3S);
	}
	assert_true(pkt.has & WL_PKT_JA3S);
	assert_string_equal(pkt.info, "Server Hello, Certificate");
	fingerprints_stats(f, &st);
	assert_int_equal(st.reasm.cut, 1);
	assert_int_equal(st.ja3s, 1);
	assert_true(st.reasm.memory_peak < 200 * 1024);
	fingerprints_free(f);
}

/* A direction silent for longer than the timeout is dropped. */
static void test_expiry(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;
	struct hb rec;

	(void)state;
	spec_record(&rec);
	segment(f, false, 1000, rec.b, 200, 0);
	now_s += 11;
	segment(f, false, 1200, rec.b + 200, rec.n - 200, 0);
	assert_nothing_yet();
	fingerprints_stats(f, &st);
	assert_int_equal(st.reasm.expired, 1);
	assert_int_equal(st.reasm.active, 0);
	fingerprints_free(f);
}

/* One that stops short is given up too when only other traffic comes by. */
static void test_expiry_by_other_traffic(void **state)
{
	struct fingerprints *f = new_fingerprints();
	struct fingerprint_stats st;
	struct hb rec;

	(void)state;
	spec_record(&rec);
	segment(f, false, 1000, rec.b, 200, 0);
	now_s += 11;
	for (int i = 0; i < 2048; i++)
		segment(f, true, 5000, NULL, 0, 0); /* the server's ACKs: no payload */
	fingerprints_stats(f, &st);
	assert_int_equal(st.reasm.expired, 1);
	assert_int_equal(st.reasm.active, 0);
	fingerprints_free(f);
}

/* ---- Bounds, on the table itself --------------------------------------------------------- */

/* Frames of distinct connections (by the client port), each starting a hello record of rec_len. */
static void start_hello(struct tls_reasm *t, uint16_t port, uint32_t rec_len)
{
	uint8_t payload[16] = { 22, 3, 1, (uint8_t)((rec_len - 5) >> 8), (uint8_t)(rec_len - 5), 1, 0,
				(uint8_t)((rec_len - 9) >> 8), (uint8_t)(rec_len - 9), 3, 3 };
	size_t n = hb_frame(frame, sizeof(frame), false, 1, 0x18, payload, sizeof(payload));

	frame[34] = (uint8_t)(port >> 8);
	frame[35] = (uint8_t)port;
	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.ts_sec = now_s;
	pkt.ts_usec = 0;
	pkt.len = pkt.caplen = (uint32_t)n;
	wl_dissect(&pkt, WL_LINK_ETHERNET, frame, n);
	assert_true(pkt.has & WL_PKT_TLS_SEGMENT);
	tls_reasm_packet(t, &pkt, frame, n);
}

static void test_bounds(void **state)
{
	struct tls_reasm_config cfg = { .max_streams = 4, .stream_bytes = 1024, .max_bytes = 2048, .timeout_s = 10 };
	struct tls_reasm_stats st;
	int err;
	struct tls_reasm *t = tls_reasm_new(&cfg, &err);

	(void)state;
	assert_non_null(t);
	/* Streams: at most 4 at once, the oldest making room. */
	for (uint16_t i = 0; i < 10; i++)
		start_hello(t, (uint16_t)(30000 + i), 300);
	tls_reasm_stats(t, &st);
	assert_int_equal(st.started, 10);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.evicted, 6);
	/* Bytes: 2 KiB in all, 1 KiB each, whatever the records claim. */
	for (uint16_t i = 0; i < 10; i++)
		start_hello(t, (uint16_t)(31000 + i), 16000);
	tls_reasm_stats(t, &st);
	assert_int_equal(st.active, 2);
	uint64_t fixed = st.memory - 2 * 1024;

	assert_true(st.memory_peak <= fixed + 2048);
	tls_reasm_free(t);
	/* Configurations that cannot work are refused. */
	cfg.max_streams = 0;
	assert_null(tls_reasm_new(&cfg, &err));
	assert_int_equal(err, -EINVAL);
	cfg = (struct tls_reasm_config){ .max_streams = 4, .stream_bytes = 4096, .max_bytes = 2048, .timeout_s = 1 };
	assert_null(tls_reasm_new(&cfg, &err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ja4_spec_hashes),
		cmocka_unit_test(test_ja4_empty_lists),
		cmocka_unit_test(test_ja3_md5),
		cmocka_unit_test(test_one_segment),
		cmocka_unit_test(test_two_segments),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_retransmitted_first_segment),
		cmocka_unit_test(test_sequence_wraps),
		cmocka_unit_test(test_cut_segment_abandons),
		cmocka_unit_test(test_long_record_cut),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_expiry_by_other_traffic),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
