/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for proto/tls_hello.c: the JA3, JA3S and JA4 texts of
 * hand-built hello bodies, and each part of JA4 on its own.
 *
 * JA4 vectors are the worked example of FoxIO's specification
 * (technical_details/JA4.md); the hashes of its texts are checked in
 * test_fingerprint.c, which links libcrypto. JA3 and JA3S texts are what
 * tshark 4.0.17 prints as tls.handshake.ja3_full and ja3s_full for the very
 * same bytes: `test-tls_hello --write-pcap FILE` writes them (one frame per
 * case, in the order of the cases below), and
 *     tshark -r FILE -T fields -e frame.number -e tls.handshake.ja3_full -e tls.handshake.ja3s_full
 * printed the strings the cases expect.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tls_hello.h"

#include "hello.h"

static struct wl_packet pkt;

static void reset(void)
{
	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.has = 0;
	pkt.tls_cut = 0;
}

static void client(const struct hb *h, char transport)
{
	reset();
	wl_tls_client_hello_texts(&pkt, cur_make(h->b, h->n), transport);
}

static void server(const struct hb *h)
{
	reset();
	wl_tls_server_hello_texts(&pkt, cur_make(h->b, h->n));
}

/* ---- JA4's parts ---------------------------------------------------------------- */

static void test_grease_values(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 16; i++)
		assert_true(wl_tls_grease((uint16_t)(0x0a0a + 0x1010 * i)));
	assert_false(wl_tls_grease(0x0a1a));
	assert_false(wl_tls_grease(0x1a0a));
	assert_false(wl_tls_grease(0x0b0b));
	assert_false(wl_tls_grease(0x0000));
	assert_false(wl_tls_grease(0x1301));
}

/* The specification's cipher list, sorted "in hex order". */
static void test_ja4_sort_spec(void **state)
{
	static const uint16_t sorted[] = { 0x002f, 0x0035, 0x009c, 0x009d, 0x1301, 0x1302, 0x1303, 0xc013,
					   0xc014, 0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca8, 0xcca9 };
	uint16_t v[15];

	(void)state;
	memcpy(v, SPEC_CIPHERS, sizeof(v));
	wl_ja4_sort(v, 15);
	assert_memory_equal(v, sorted, sizeof(sorted));
	wl_ja4_sort(v, 0);
}

static void test_ja4_version(void **state)
{
	(void)state;
	assert_string_equal(wl_ja4_version(0x0304), "13");
	assert_string_equal(wl_ja4_version(0x0303), "12");
	assert_string_equal(wl_ja4_version(0x0302), "11");
	assert_string_equal(wl_ja4_version(0x0301), "10");
	assert_string_equal(wl_ja4_version(0x0300), "s3");
	assert_string_equal(wl_ja4_version(0x0002), "s2");
	assert_string_equal(wl_ja4_version(0xfeff), "d1");
	assert_string_equal(wl_ja4_version(0xfefd), "d2");
	assert_string_equal(wl_ja4_version(0xfefc), "d3");
	assert_string_equal(wl_ja4_version(0x7f1c), "00");
	assert_string_equal(wl_ja4_version(0x0a0a), "00");
}

static void alpn_chars(const char *name, size_t len, const char *want)
{
	char got[3] = { 0 };

	wl_ja4_alpn_chars((const uint8_t *)name, len, got);
	assert_string_equal(got, want);
}

/* The specification's examples, non-alphanumeric ones included. */
static void test_ja4_alpn_chars_spec(void **state)
{
	(void)state;
	alpn_chars("h2", 2, "h2");
	alpn_chars("http/1.1", 8, "h1");
	alpn_chars("\xab", 1, "ab");
	alpn_chars("\xab\xcd", 2, "ad");
	alpn_chars("\x30\xab", 2, "3b");
	alpn_chars("\x30\x31\xab\xcd", 4, "3d");
	alpn_chars("\x30\xab\xcd\x31", 4, "01");
	/* One character is both the first and the last; none is "00". */
	alpn_chars("h", 1, "hh");
	alpn_chars("", 0, "00");
	/* Only the ends count: the middle may be anything. */
	alpn_chars("a\x01z", 3, "az");
	alpn_chars("/z", 2, "2a");
}

/* ---- JA4 of whole ClientHellos ------------------------------------------------------ */

static const char SPEC_B[] = "002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9";
static const char SPEC_C[] = "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
			     "0403,0804,0401,0503,0805,0501,0806,0601";

static void test_spec_hello_ja4(void **state)
{
	struct hb h = { .n = 0 };

	(void)state;
	hb_spec_client_hello(&h, true, true);
	client(&h, WL_JA4_TCP);
	assert_true(pkt.has & WL_PKT_JA4_TEXT);
	assert_int_equal(pkt.tls_cut, 0);
	/* t, TLS 1.3, SNI, 15 ciphers, 16 extensions (GREASE left out), h2 */
	assert_string_equal(pkt.tls.ja4_a, "t13d1516h2");
	assert_string_equal(pkt.tls.ja4_b_text, SPEC_B);
	assert_string_equal(pkt.tls.ja4_c_text, SPEC_C);
}

static void test_spec_hello_quic(void **state)
{
	struct hb h = { .n = 0 };

	(void)state;
	hb_spec_client_hello(&h, true, true);
	client(&h, WL_JA4_QUIC);
	assert_string_equal(pkt.tls.ja4_a, "q13d1516h2");
}

/* GREASE changes neither JA3 nor JA4. */
static void test_grease_ignored(void **state)
{
	struct hb plain = { .n = 0 }, greased = { .n = 0 };
	char ja3[WL_JA3_TEXT_MAX], a[11], b[WL_JA4_TEXT_MAX], c[WL_JA4_TEXT_MAX];

	(void)state;
	hb_spec_client_hello(&plain, false, true);
	hb_spec_client_hello(&greased, true, true);
	assert_int_not_equal(plain.n, greased.n);
	client(&plain, WL_JA4_TCP);
	strcpy(ja3, pkt.tls.ja3_text);
	strcpy(a, pkt.tls.ja4_a);
	strcpy(b, pkt.tls.ja4_b_text);
	strcpy(c, pkt.tls.ja4_c_text);
	client(&greased, WL_JA4_TCP);
	assert_string_equal(pkt.tls.ja3_text, ja3);
	assert_string_equal(pkt.tls.ja4_a, a);
	assert_string_equal(pkt.tls.ja4_b_text, b);
	assert_string_equal(pkt.tls.ja4_c_text, c);
}

/* Without signature algorithms the extension list ends without '_'. */
static void test_ja4_without_sigalgs(void **state)
{
	struct hb h = { .n = 0 };

	(void)state;
	hb_spec_client_hello(&h, true, false);
	client(&h, WL_JA4_TCP);
	assert_string_equal(pkt.tls.ja4_a, "t13d1515h2");
	assert_string_equal(pkt.tls.ja4_c_text, "0005,000a,000b,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01");
}

/* A small hello: given ciphers and extensions (each type with its data). */
struct ext {
	uint16_t type;
	const char *data;
	size_t len;
};

static void small_hello(struct hb *h, unsigned version, const uint16_t *ciphers, size_t n_ciphers,
			const struct ext *exts, size_t n_exts)
{
	size_t at;

	hb_client_prefix(h, version);
	hb_list16(h, ciphers, n_ciphers);
	hb8(h, 1);
	hb8(h, 0);
	if (n_exts == SIZE_MAX)
		return; /* no extensions block at all */
	at = h->n;
	hb16(h, 0);
	for (size_t i = 0; i < n_exts; i++)
		hb_ext(h, exts[i].type, exts[i].data, exts[i].len);
	hb_patch16(h, at, h->n - at - 2);
}

static void test_ja4_no_sni_no_alpn(void **state)
{
	static const uint16_t ciphers[] = { 0x002f };
	static const struct ext exts[] = { { 0x000a, "\x00\x02\x00\x1d", 4 } };
	struct hb h = { .n = 0 };

	(void)state;
	small_hello(&h, 0x0303, ciphers, 1, exts, 1);
	client(&h, WL_JA4_TCP);
	assert_string_equal(pkt.tls.ja4_a, "t12i010100");
	assert_string_equal(pkt.tls.ja4_b_text, "002f");
	assert_string_equal(pkt.tls.ja4_c_text, "000a");
}

/* The version: supported_versions' highest non-GREASE value when present, else the legacy field. */
static void test_ja4_versions(void **state)
{
	static const uint16_t ciphers[] = { 0x002f };
	static const struct ext only_grease[] = { { 0x002b, "\x02\x1a\x1a", 3 } };
	static const struct ext lower[] = { { 0x002b, "\x04\x03\x02\x03\x01", 5 } };
	static const struct ext highest[] = { { 0x002b, "\x06\x03\x03\x7a\x7a\x03\x04", 7 } };
	struct hb h = { .n = 0 };

	(void)state;
	small_hello(&h, 0x0303, ciphers, 1, only_grease, 1);
	client(&h, WL_JA4_TCP);
	assert_memory_equal(pkt.tls.ja4_a, "t00", 3);
	h.n = 0;
	small_hello(&h, 0x0303, ciphers, 1, lower, 1);
	client(&h, WL_JA4_TCP);
	assert_memory_equal(pkt.tls.ja4_a, "t11", 3);
	h.n = 0;
	small_hello(&h, 0x0303, ciphers, 1, highest, 1);
	client(&h, WL_JA4_TCP);
	assert_memory_equal(pkt.tls.ja4_a, "t13", 3);
	h.n = 0;
	small_hello(&h, 0x0301, ciphers, 1, NULL, 0);
	client(&h, WL_JA4_TCP);
	assert_memory_equal(pkt.tls.ja4_a, "t10", 3);
}

/* Counts stop at 99; the hashes still cover every value. */
static void test_ja4_counts_capped(void **state)
{
	uint16_t ciphers[120];
	struct ext exts[101];
	struct hb h = { .n = 0 };

	(void)state;
	for (unsigned i = 0; i < 120; i++)
		ciphers[i] = (uint16_t)(0x0100 + i);
	for (unsigned i = 0; i < 101; i++)
		exts[i] = (struct ext){ (uint16_t)(0x1000 + i), NULL, 0 };
	small_hello(&h, 0x0303, ciphers, 120, exts, 101);
	client(&h, WL_JA4_TCP);
	assert_true(pkt.has & WL_PKT_JA4_TEXT);
	assert_string_equal(pkt.tls.ja4_a, "t12i999900");
	assert_int_equal(strlen(pkt.tls.ja4_b_text), 120 * 5 - 1);
	assert_int_equal(strlen(pkt.tls.ja4_c_text), 101 * 5 - 1);
}

/* Empty lists give empty texts (the caller shows them as twelve zeros). */
static void test_ja4_empty_lists(void **state)
{
	static const struct ext exts[] = { { 0x0000, "\x00\x04\x00\x00\x01x", 6 }, { 0x0010, "\x00\x02\x01x", 4 } };
	struct hb h = { .n = 0 };

	(void)state;
	small_hello(&h, 0x0303, NULL, 0, exts, 2);
	client(&h, WL_JA4_TCP);
	assert_true(pkt.has & WL_PKT_JA4_TEXT);
	assert_string_equal(pkt.tls.ja4_a, "t12d0002xx");
	assert_string_equal(pkt.tls.ja4_b_text, "");
	assert_string_equal(pkt.tls.ja4_c_text, "");
}

/* ALPN's first name, not alphanumeric at an end: hex digits (0x30 0xab: "3b"). */
static void test_ja4_hex_alpn(void **state)
{
	static const uint16_t ciphers[] = { 0x1301 };
	static const struct ext exts[] = { { 0x0010, "\x00\x06\x02\x30\xab\x02h2", 8 } };
	struct hb h = { .n = 0 };

	(void)state;
	small_hello(&h, 0x0303, ciphers, 1, exts, 1);
	client(&h, WL_JA4_TCP);
	assert_string_equal(pkt.tls.ja4_a, "t12i01013b");
}

/* ---- JA3 of whole ClientHellos, as tshark builds ja3_full --------------------------- */

static const char SPEC_JA3[] = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
			       "27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0";

static void test_spec_hello_ja3(void **state)
{
	struct hb h = { .n = 0 };

	(void)state;
	hb_spec_client_hello(&h, true, true);
	client(&h, WL_JA4_TCP);
	assert_true(pkt.has & WL_PKT_JA3_TEXT);
	assert_string_equal(pkt.tls.ja3_text, SPEC_JA3);
}

/* The cases tshark was asked about (see the top): body builders and tshark's ja3_full. */
static const uint16_t TWO_CIPHERS[] = { 0x002f, 0x0035 };

static void hello_no_extensions(struct hb *h)
{
	small_hello(h, 0x0301, TWO_CIPHERS, 2, NULL, SIZE_MAX);
}

/* Groups are read to the end of their extension, past their own vector. */
static void hello_groups_past_vector(struct hb *h)
{
	static const struct ext exts[] = { { 0x000a, "\x00\x02\x00\x1d\x00\x17", 6 } };

	small_hello(h, 0x0303, TWO_CIPHERS, 2, exts, 1);
}

/* Twice supported_groups: both lists, each with its comma. */
static void hello_groups_twice(struct hb *h)
{
	static const struct ext exts[] = { { 0x000a, "\x00\x02\x00\x1d", 4 }, { 0x000a, "\x00\x02\x00\x17", 4 },
					   { 0x000b, "\x03\x00\x01\x02", 4 } };

	small_hello(h, 0x0303, TWO_CIPHERS, 2, exts, 3);
}

/* An extension longer than the block (not the hello): the text stops after its type. */
static void hello_extension_past_block(struct hb *h)
{
	static const struct ext exts[] = { { 0x000a, "\x00\x02\x00\x1d", 4 }, { 0x000b, "\x01\x00", 2 } };

	small_hello(h, 0x0303, TWO_CIPHERS, 2, exts, 2);
	hb_patch16(h, h->n - 16, 12); /* the block ends before ec_point_formats' data */
}

/* Fewer than 4 bytes left in the block: the walk ends there, as usual. */
static void hello_block_trailing_bytes(struct hb *h)
{
	static const struct ext exts[] = { { 0x000a, "\x00\x02\x00\x1d", 4 }, { 0x000b, "\x01\x00", 2 } };

	small_hello(h, 0x0303, TWO_CIPHERS, 2, exts, 2);
	hb_patch16(h, h->n - 16, 10);
}

/* An empty ec_point_formats: tshark reads its count from the next extension's bytes. */
static void hello_empty_point_formats(struct hb *h)
{
	static const struct ext exts[] = { { 0x000b, NULL, 0 }, { 0x0201, NULL, 0 } };

	small_hello(h, 0x0303, TWO_CIPHERS, 2, exts, 2);
}

/* One byte where the extensions' length would be. */
static void hello_one_byte_left(struct hb *h)
{
	small_hello(h, 0x0303, TWO_CIPHERS, 2, NULL, SIZE_MAX);
	hb8(h, 0);
}

static const struct {
	const char *name;
	void (*build)(struct hb *h);
	const char *ja3_full;
} JA3_CASES[] = {
	{ "no extensions", hello_no_extensions, "769,47-53,,," },
	{ "groups past their vector", hello_groups_past_vector, "771,47-53,10,29-23," },
	{ "groups twice", hello_groups_twice, "771,47-53,10-10-11,29,23,0-1-2" },
	{ "extension past the block", hello_extension_past_block, "771,47-53,10-11" },
	{ "block with trailing bytes", hello_block_trailing_bytes, "771,47-53,10,29," },
	{ "empty point formats", hello_empty_point_formats, "771,47-53,11-513,,1-0" },
	{ "one byte left", hello_one_byte_left, "771,47-53," },
};

static void test_ja3_tshark_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(JA3_CASES) / sizeof(JA3_CASES[0]); i++) {
		struct hb h = { .n = 0 };

		JA3_CASES[i].build(&h);
		client(&h, WL_JA4_TCP);
		print_message("%s\n", JA3_CASES[i].name);
		assert_true(pkt.has & WL_PKT_JA3_TEXT);
		assert_string_equal(pkt.tls.ja3_text, JA3_CASES[i].ja3_full);
	}
}

/* An extension longer than the hello: tshark throws, so no fingerprint (its frame 6). */
static void hello_extension_past_hello(struct hb *h)
{
	static const struct ext exts[] = { { 0x000a, "\x00\x02\x00\x1d", 4 }, { 0x000b, "\x01\x00", 2 } };

	small_hello(h, 0x0303, TWO_CIPHERS, 2, exts, 2);
	hb_patch16(h, h->n - 4, 40);
}

/* A cipher suite vector longer than the hello: tshark gives up, so no fingerprint. */
static void test_ja3_vector_past_hello(void **state)
{
	struct hb h = { .n = 0 };

	(void)state;
	hello_extension_past_hello(&h);
	client(&h, WL_JA4_TCP);
	assert_false(pkt.has & (WL_PKT_JA3_TEXT | WL_PKT_JA4_TEXT));
	h.n = 0;
	small_hello(&h, 0x0303, TWO_CIPHERS, 2, NULL, 0);
	hb_patch16(&h, 2 + 32 + 1 + 32, 400);
	client(&h, WL_JA4_TCP);
	assert_false(pkt.has & (WL_PKT_JA3_TEXT | WL_PKT_JA4_TEXT));
	/* And every prefix of a good hello: either no text, or no crash. */
	h.n = 0;
	hb_spec_client_hello(&h, true, true);
	for (size_t n = 0; n < h.n; n++) {
		reset();
		wl_tls_client_hello_texts(&pkt, cur_make(h.b, n), WL_JA4_TCP);
		if (n < 2 + 32 + 1 + 32 + 2 + 32 + 2)
			assert_false(pkt.has & WL_PKT_JA3_TEXT);
	}
}

/* Texts past their bounds are left out and said so, never cut. */
static void test_text_bounds(void **state)
{
	uint16_t ciphers[400];
	struct hb h = { .n = 0 };

	(void)state;
	for (unsigned i = 0; i < 400; i++)
		ciphers[i] = (uint16_t)(0xc100 + i); /* five digits each in JA3 */
	small_hello(&h, 0x0303, ciphers, 400, NULL, 0);
	client(&h, WL_JA4_TCP);
	assert_false(pkt.has & (WL_PKT_JA3_TEXT | WL_PKT_JA4_TEXT));
	assert_int_equal(pkt.tls_cut, WL_TLS_CUT_JA3 | WL_TLS_CUT_JA4);
	/* 250 short values: JA3 fits (2 characters each), JA4's list does not (5). */
	for (unsigned i = 0; i < 250; i++)
		ciphers[i] = (uint16_t)(1 + i % 9);
	h.n = 0;
	small_hello(&h, 0x0303, ciphers, 250, NULL, 0);
	client(&h, WL_JA4_TCP);
	assert_true(pkt.has & WL_PKT_JA3_TEXT);
	assert_false(pkt.has & WL_PKT_JA4_TEXT);
	assert_int_equal(pkt.tls_cut, WL_TLS_CUT_JA4);
}

/* A frame's first hello gives the texts; a second one changes nothing. */
static void test_first_hello_kept(void **state)
{
	struct hb first = { .n = 0 }, second = { .n = 0 };

	(void)state;
	hello_no_extensions(&first);
	hb_spec_client_hello(&second, false, true);
	client(&first, WL_JA4_TCP);
	wl_tls_client_hello_texts(&pkt, cur_make(second.b, second.n), WL_JA4_TCP);
	assert_string_equal(pkt.tls.ja3_text, "769,47-53,,,");
}

/* ---- JA3S of whole ServerHellos -------------------------------------------------------- */

static void server_hello(struct hb *h, unsigned version, bool sid, unsigned suite, const struct ext *exts,
			 size_t n_exts)
{
	size_t at;

	hb16(h, version);
	for (int i = 0; i < 32; i++)
		hb8(h, 0x40 + i);
	if (sid) {
		hb8(h, 32);
		for (int i = 0; i < 32; i++)
			hb8(h, i);
	}
	hb16(h, suite);
	if (sid)
		hb8(h, 0); /* compression */
	if (n_exts == SIZE_MAX)
		return;
	at = h->n;
	hb16(h, 0);
	for (size_t i = 0; i < n_exts; i++)
		hb_ext(h, exts[i].type, exts[i].data, exts[i].len);
	hb_patch16(h, at, h->n - at - 2);
}

static const char KEY_SHARE[] = "\x00\x1d\x00\x20" "0123456789abcdef0123456789abcdef";

static void server_tls13(struct hb *h)
{
	static const struct ext exts[] = { { 0x002b, "\x03\x04", 2 }, { 0x0033, KEY_SHARE, 36 } };

	server_hello(h, 0x0303, true, 0x1301, exts, 2);
}

static void server_no_extensions(struct hb *h)
{
	server_hello(h, 0x0301, true, 0x002f, NULL, SIZE_MAX);
}

static void server_grease_extension(struct hb *h)
{
	static const struct ext exts[] = { { 0xff01, "\x00", 1 }, { 0x3a3a, NULL, 0 }, { 0x000b, "\x01\x00", 2 } };

	server_hello(h, 0x0303, true, 0xc02f, exts, 3);
}

/* TLS 1.3 draft 18: no session id, no compression. */
static void server_draft18(struct hb *h)
{
	static const struct ext exts[] = { { 0x0028, KEY_SHARE, 36 } };

	server_hello(h, 0x7f12, false, 0x1301, exts, 1);
}

static const struct {
	const char *name;
	void (*build)(struct hb *h);
	const char *ja3s_full;
} JA3S_CASES[] = {
	{ "TLS 1.3", server_tls13, "771,4865,43-51" },
	{ "no extensions", server_no_extensions, "769,47," },
	{ "GREASE extension", server_grease_extension, "771,49199,65281-11" },
	{ "draft 18", server_draft18, "32530,4865,40" },
};

static void test_ja3s_tshark_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(JA3S_CASES) / sizeof(JA3S_CASES[0]); i++) {
		struct hb h = { .n = 0 };

		JA3S_CASES[i].build(&h);
		server(&h);
		print_message("%s\n", JA3S_CASES[i].name);
		assert_true(pkt.has & WL_PKT_JA3S_TEXT);
		assert_string_equal(pkt.tls.ja3s_text, JA3S_CASES[i].ja3s_full);
	}
}

static void test_ja3s_cut(void **state)
{
	struct hb h = { .n = 0 };

	(void)state;
	server_tls13(&h);
	for (size_t n = 0; n < 2 + 32 + 1 + 32 + 3; n++) {
		reset();
		wl_tls_server_hello_texts(&pkt, cur_make(h.b, n));
		assert_false(pkt.has & WL_PKT_JA3S_TEXT);
	}
}

/* ---- --write-pcap: the same bytes for tshark ------------------------------------------ */

static int write_pcap(const char *path)
{
	static uint8_t frame[20000];
	struct hb h, rec;
	FILE *f = hb_pcap_open(path);
	uint32_t n = 0;

	if (!f)
		return 1;
#define EMIT(type, build)                                                                     \
	do {                                                                                  \
		h.n = rec.n = 0;                                                              \
		build;                                                                        \
		hb_record(&rec, type, h.b, h.n);                                              \
		size_t len = hb_frame(frame, sizeof(frame), type == 2, 1, 0x18, rec.b, rec.n); \
		/* A connection of its own (client port), or tshark sees retransmissions. */ \
		frame[type == 2 ? 36 : 34] = (uint8_t)((41000 + n) >> 8);                     \
		frame[type == 2 ? 37 : 35] = (uint8_t)(41000 + n);                            \
		hb_pcap_write(f, ++n, frame, len);                                            \
	} while (0)
	EMIT(1, hb_spec_client_hello(&h, true, true));
	EMIT(1, hello_extension_past_hello(&h));
	for (size_t i = 0; i < sizeof(JA3_CASES) / sizeof(JA3_CASES[0]); i++)
		EMIT(1, JA3_CASES[i].build(&h));
	for (size_t i = 0; i < sizeof(JA3S_CASES) / sizeof(JA3S_CASES[0]); i++)
		EMIT(2, JA3S_CASES[i].build(&h));
#undef EMIT
	return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grease_values),
		cmocka_unit_test(test_ja4_sort_spec),
		cmocka_unit_test(test_ja4_version),
		cmocka_unit_test(test_ja4_alpn_chars_spec),
		cmocka_unit_test(test_spec_hello_ja4),
		cmocka_unit_test(test_spec_hello_quic),
		cmocka_unit_test(test_grease_ignored),
		cmocka_unit_test(test_ja4_without_sigalgs),
		cmocka_unit_test(test_ja4_no_sni_no_alpn),
		cmocka_unit_test(test_ja4_versions),
		cmocka_unit_test(test_ja4_counts_capped),
		cmocka_unit_test(test_ja4_empty_lists),
		cmocka_unit_test(test_ja4_hex_alpn),
		cmocka_unit_test(test_spec_hello_ja3),
		cmocka_unit_test(test_ja3_tshark_cases),
		cmocka_unit_test(test_ja3_vector_past_hello),
		cmocka_unit_test(test_text_bounds),
		cmocka_unit_test(test_first_hello_kept),
		cmocka_unit_test(test_ja3s_tshark_cases),
		cmocka_unit_test(test_ja3s_cut),
	};

	if (argc == 3 && !strcmp(argv[1], "--write-pcap"))
		return write_pcap(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
