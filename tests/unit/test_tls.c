/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for proto/tls.c, on hand-built records: names and SNI, the
 * ALPN list, hello records that go on in the next segment (named, noted for
 * reassembly, not decoded) against those the snap length cut (decoded as
 * far as captured), and wl_dissect_tls_stream() for reassembled bytes. The
 * fingerprint texts themselves: test_tls_hello.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dissect.h"

/* A byte buffer to build records in; lengths are patched in afterwards. */
struct buf {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct buf *b, unsigned v)
{
	assert_true(b->n < sizeof(b->b));
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put24(struct buf *b, unsigned v)
{
	put8(b, v >> 16);
	put16(b, v);
}

static void putmem(struct buf *b, const void *p, size_t n)
{
	assert_true(n <= sizeof(b->b) - b->n);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void patch16(struct buf *b, size_t at, size_t v)
{
	b->b[at] = (uint8_t)(v >> 8);
	b->b[at + 1] = (uint8_t)v;
}

static void patch24(struct buf *b, size_t at, size_t v)
{
	b->b[at] = (uint8_t)(v >> 16);
	patch16(b, at + 1, v);
}

/* Where the builder put the length fields, so tests can corrupt them. */
struct hello_layout {
	size_t record_len;  /* offset of the record's 2-byte length */
	size_t hs_len;      /* the handshake message's 3-byte length */
	size_t session_id;  /* the session id's 1-byte length */
	size_t exts_len;    /* the extensions block's 2-byte length */
	size_t sni_ext_len; /* the server_name extension's 2-byte length */
	size_t sni_end;     /* first byte after the server_name extension */
};

/*
 * A ClientHello record: server_name (type 0 host_name = name) unless name is
 * NULL, then a padding extension of pad bytes.
 */
static struct hello_layout client_hello(struct buf *b, const char *name, size_t name_len,
					size_t pad)
{
	struct hello_layout l;
	size_t rec_start, hs_start, exts_start, ext_start;
	static const uint8_t random[32] = { 1, 2, 3 };

	put8(b, 22);
	put16(b, 0x0301);
	l.record_len = b->n;
	put16(b, 0);
	rec_start = b->n;
	put8(b, 1);
	l.hs_len = b->n;
	put24(b, 0);
	hs_start = b->n;
	put16(b, 0x0303);
	putmem(b, random, sizeof(random));
	l.session_id = b->n;
	put8(b, 0);
	put16(b, 4); /* cipher suites */
	put16(b, 0x1301);
	put16(b, 0x002f);
	put8(b, 1); /* compression methods */
	put8(b, 0);
	l.exts_len = b->n;
	put16(b, 0);
	exts_start = b->n;
	put16(b, 0x000a); /* supported_groups, before the SNI as browsers do */
	put16(b, 4);
	put16(b, 2);
	put16(b, 0x001d);
	l.sni_ext_len = 0;
	if (name) {
		put16(b, 0); /* server_name */
		l.sni_ext_len = b->n;
		put16(b, 0);
		ext_start = b->n;
		put16(b, name_len + 3); /* ServerNameList */
		put8(b, 0);
		put16(b, name_len);
		putmem(b, name, name_len);
		patch16(b, l.sni_ext_len, b->n - ext_start);
	}
	l.sni_end = b->n;
	put16(b, 0x0015); /* padding */
	put16(b, pad);
	for (size_t i = 0; i < pad; i++)
		put8(b, 0);
	patch16(b, l.exts_len, b->n - exts_start);
	patch24(b, l.hs_len, b->n - hs_start);
	patch16(b, l.record_len, b->n - rec_start);
	return l;
}

static void record(struct buf *b, unsigned type, const void *body, size_t len)
{
	put8(b, type);
	put16(b, 0x0303);
	put16(b, len);
	putmem(b, body, len);
}

/* A packet whose members after info[] hold garbage, as wl_dissect leaves them. */
static void packet_init(struct wl_packet *pkt)
{
	memset(pkt, 0xa5, sizeof(*pkt));
	pkt->has = 0;
	pkt->tls_cut = 0;
	pkt->malformed = WL_OK;
	pkt->proto = WL_P_TCP;
	pkt->n_layers = 0;
	pkt->info[0] = '\0';
}

static int decode(struct wl_packet *pkt, const uint8_t *p, size_t len)
{
	struct wl_dctx d = { .pkt = pkt, .frame = p };
	struct cursor c = cur_make(p, len);

	return wl_decode_tls(&d, &c);
}

/* The snap length cut the frame after len bytes; it had wire_len on the wire. */
static int decode_cut(struct wl_packet *pkt, const uint8_t *p, size_t len, size_t wire_len)
{
	struct wl_dctx d = { .pkt = pkt, .frame = p };
	struct cursor c = cur_make(p, len);

	c.cut = true;
	pkt->len = (uint32_t)wire_len;
	pkt->caplen = (uint32_t)len;
	return wl_decode_tls(&d, &c);
}

static void test_empty_is_not_tls(void **state)
{
	struct wl_packet pkt;
	static const uint8_t none[1] = { 0 };

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, none, 0), 0);
	assert_int_equal(pkt.proto, WL_P_TCP);
	assert_int_equal(pkt.n_layers, 0);
	assert_int_equal(pkt.malformed, WL_OK);
}

static void test_other_bytes_are_not_tls(void **state)
{
	struct wl_packet pkt;
	static const char get[] = "GET / HTTP/1.1\r\n\r\n";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, (const uint8_t *)get, strlen(get)), 0);
	assert_int_equal(pkt.proto, WL_P_TCP);
	assert_int_equal(pkt.has, 0);
}

static void test_looks_like_tls(void **state)
{
	static const uint8_t ok[][3] = { { 22, 3, 1 }, { 20, 3, 0 }, { 24, 3, 4 }, { 23, 3, 3 } };
	static const uint8_t bad[][3] = { { 19, 3, 1 }, { 25, 3, 1 }, { 22, 2, 1 }, { 22, 3, 5 } };
	static const uint8_t shorter[2] = { 22, 3 };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct cursor c = cur_make(ok[i], 3);

		assert_true(wl_looks_like_tls(&c));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cursor c = cur_make(bad[i], 3);

		assert_false(wl_looks_like_tls(&c));
	}
	struct cursor c = cur_make(shorter, sizeof(shorter));

	assert_false(wl_looks_like_tls(&c));
	/* The sniff looks at the cursor's position, not at the buffer's start. */
	c = cur_make(ok[0], 3);
	c.off = 1;
	assert_false(wl_looks_like_tls(&c));
}

static void test_client_hello_sni(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	client_hello(&b, "example.com", 11, 20);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.proto, WL_P_TLS);
	assert_int_equal(pkt.malformed, WL_OK);
	assert_true(pkt.has & WL_PKT_SNI);
	assert_string_equal(pkt.sni, "example.com");
	assert_string_equal(pkt.info, "Client Hello (SNI=example.com)");
	assert_int_equal(pkt.n_layers, 1);
	assert_int_equal(pkt.layers[0].proto, WL_P_TLS);
	assert_int_equal(pkt.layers[0].off, 0);
	assert_int_equal(pkt.layers[0].len, b.n);
}

static void test_client_hello_without_sni(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	client_hello(&b, NULL, 0, 4);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_false(pkt.has & WL_PKT_SNI);
	assert_string_equal(pkt.info, "Client Hello");
}

/* Before TLS 1.2 a ClientHello may end right after the compression methods. */
static void test_client_hello_without_extensions(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, NULL, 0, 0);

	(void)state;
	b.n = l.exts_len;
	patch24(&b, l.hs_len, b.n - l.hs_len - 3);
	patch16(&b, l.record_len, b.n - l.record_len - 2);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_false(pkt.has & WL_PKT_SNI);
	assert_string_equal(pkt.info, "Client Hello");
}

/*
 * The snap length cut the hello: what was captured is decoded, as tshark
 * does (it stops at the end of the capture).
 */
static void test_client_hello_cut_after_sni(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "cut.example", 11, 500);

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode_cut(&pkt, b.b, l.sni_end + 10, b.n), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_int_equal(pkt.proto, WL_P_TLS);
	assert_true(pkt.has & WL_PKT_SNI);
	assert_string_equal(pkt.sni, "cut.example");
	assert_string_equal(pkt.info, "Client Hello (SNI=cut.example)");
	/* No fingerprint from part of a hello, and no reassembly: the frame was whole on the wire. */
	assert_false(pkt.has & (WL_PKT_JA3_TEXT | WL_PKT_JA4_TEXT | WL_PKT_TLS_SEGMENT));
}

/* Exactly at the end of the SNI extension: the next extension's header is cut. */
static void test_client_hello_cut_at_sni_end(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "edge.example", 12, 8);

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode_cut(&pkt, b.b, l.sni_end, b.n), -EMSGSIZE);
	assert_string_equal(pkt.sni, "edge.example");
}

static void test_client_hello_cut_inside_sni(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "inside.example", 14, 8);

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode_cut(&pkt, b.b, l.sni_end - 3, b.n), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_false(pkt.has & WL_PKT_SNI);
	assert_string_equal(pkt.info, "Client Hello");
}

/*
 * A hello record that goes on in the next segment (the frame is whole, the
 * record is not): named, not decoded, as tshark does without reassembly,
 * and its place noted for capd's reassembly.
 */
static void test_client_hello_next_segment(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "next.example", 12, 500);

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, l.sni_end + 10), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_int_equal(pkt.proto, WL_P_TLS);
	assert_string_equal(pkt.info, "Client Hello");
	assert_false(pkt.has & (WL_PKT_SNI | WL_PKT_ALPN | WL_PKT_JA3_TEXT | WL_PKT_JA4_TEXT));
	assert_true(pkt.has & WL_PKT_TLS_SEGMENT);
	assert_int_equal(pkt.tls.rec_off, 0);
	assert_int_equal(pkt.tls.rec_len, b.n);
}

/* The hello's record after a whole one: its offset in the segment is noted. */
static void test_next_segment_after_a_record(void **state)
{
	static const uint8_t alert[] = { 21, 3, 3, 0, 2, 1, 0 };
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	putmem(&b, alert, sizeof(alert));
	client_hello(&b, "after.example", 13, 300);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, 100), -EMSGSIZE);
	assert_string_equal(pkt.info, "Alert, Client Hello");
	assert_true(pkt.has & WL_PKT_TLS_SEGMENT);
	assert_int_equal(pkt.tls.rec_off, sizeof(alert));
	assert_int_equal(pkt.tls.rec_len, b.n - sizeof(alert));
}

/* Not for a quoted packet inside an ICMP error: its bytes belong to no stream here. */
static void test_no_segment_in_icmp_quote(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	client_hello(&b, "quoted.example", 14, 300);
	packet_init(&pkt);
	struct wl_dctx d = { .pkt = &pkt, .frame = b.b, .in_icmp = true };
	struct cursor c = cur_make(b.b, 100);

	assert_int_equal(wl_decode_tls(&d, &c), -EMSGSIZE);
	assert_false(pkt.has & WL_PKT_TLS_SEGMENT);
}

/* Every prefix of a valid hello is truncation, never invalid, never a crash. */
static void test_client_hello_every_prefix(void **state)
{
	struct buf b = { .n = 0 };

	(void)state;
	client_hello(&b, "prefix.example", 14, 3);
	/* Under 3 bytes the sniff cannot tell, so those are not TLS at all. */
	for (size_t n = 3; n < b.n; n++) {
		struct wl_packet pkt;

		packet_init(&pkt);
		assert_int_equal(decode(&pkt, b.b, n), -EMSGSIZE);
		assert_int_equal(pkt.malformed, WL_TRUNCATED);
	}
}

static void test_extension_longer_than_block(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "example.com", 11, 4);

	(void)state;
	patch16(&b, l.sni_ext_len, 400);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), -EBADMSG);
	assert_int_equal(pkt.malformed, WL_INVALID);
	assert_false(pkt.has & WL_PKT_SNI);
}

static void test_extensions_longer_than_hello(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "example.com", 11, 4);

	(void)state;
	patch16(&b, l.exts_len, 1000);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), -EBADMSG);
	assert_int_equal(pkt.malformed, WL_INVALID);
}

static void test_extensions_shorter_than_hello(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "example.com", 11, 4);

	(void)state;
	/* Drop the padding extension from the block but not from the hello. */
	patch16(&b, l.exts_len, l.sni_end - l.exts_len - 2);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), -EBADMSG);
	/* The SNI was read before the contradiction showed. */
	assert_string_equal(pkt.sni, "example.com");
}

/* A handshake message longer than its record is not plaintext we can read. */
static void test_handshake_longer_than_record(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "example.com", 11, 4);

	(void)state;
	patch24(&b, l.hs_len, 5000);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_false(pkt.has & WL_PKT_SNI);
	assert_string_equal(pkt.info, "Encrypted Handshake Message");
}

static void test_session_id_too_long(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	struct hello_layout l = client_hello(&b, "example.com", 11, 40);

	(void)state;
	b.b[l.session_id] = 33;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), -EBADMSG);
}

static void test_hostile_sni(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	static const char name[] = "<script>\x01\x7f\xff.x";

	(void)state;
	client_hello(&b, name, sizeof(name) - 1, 4);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.sni, "<script>\\x01\\x7f\\xff.x");
	assert_string_equal(pkt.info, "Client Hello (SNI=<script>\\x01\\x7f\\xff.x)");
}

/* A long name is cut at the buffer's end, never in the middle of an escape. */
static void test_long_sni_capped(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	char name[600];

	(void)state;
	memset(name, 'a', sizeof(name));
	name[WL_NAME_MAX - 3] = '\x01';
	client_hello(&b, name, sizeof(name), 0);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(strlen(pkt.sni), WL_NAME_MAX - 3);
	assert_int_equal(strlen(pkt.info), WL_INFO_MAX - 1);
}

static void test_empty_host_name_is_invalid(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	client_hello(&b, "", 0, 4);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), -EBADMSG);
	assert_false(pkt.has & WL_PKT_SNI);
}

/* Only a host_name entry counts, and the first such one. */
static void test_sni_skips_other_name_types(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	static const uint8_t hs[] = {
		1, 0, 0, 0, /* ClientHello, length patched below */
	};
	static const uint8_t prefix[2 + 32 + 1 + 4 + 2] = { 3, 3, [34] = 0, 0, 2, 0, 0x2f, 1, 0 };
	static const uint8_t exts[] = {
		0, 18,		 /* extensions length */
		0, 0, 0, 14,	 /* server_name, 14 bytes */
		0, 12,		 /* list: 12 bytes */
		1, 0, 3, 'b', 'a', 'd', /* name type 1 */
		0, 0, 3, 'o', 'k', '!', /* host_name */
	};

	(void)state;
	put8(&b, 22);
	put16(&b, 0x0301);
	put16(&b, sizeof(hs) + sizeof(prefix) + sizeof(exts));
	putmem(&b, hs, sizeof(hs));
	putmem(&b, prefix, sizeof(prefix));
	putmem(&b, exts, sizeof(exts));
	patch24(&b, 6, sizeof(prefix) + sizeof(exts));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.sni, "ok!");
}

/* The first SNI of a frame is kept, e.g. the outer one of a tunnel. */
static void test_sni_not_overwritten(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	client_hello(&b, "second.example", 14, 4);
	packet_init(&pkt);
	pkt.has = WL_PKT_SNI;
	strcpy(pkt.sni, "first.example");
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.sni, "first.example");
	assert_string_equal(pkt.info, "Client Hello (SNI=second.example)");
}

static void test_several_records(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	static const uint8_t server_hello[] = { 2, 0, 0, 2, 3, 3 };
	static const uint8_t ccs[] = { 1 };
	static const uint8_t data[] = { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2 };

	(void)state;
	record(&b, 22, server_hello, sizeof(server_hello));
	record(&b, 20, ccs, sizeof(ccs));
	record(&b, 23, data, sizeof(data));
	record(&b, 23, data, sizeof(data));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info,
			    "Server Hello, Change Cipher Spec, Application Data, Application Data");
	assert_false(pkt.has & WL_PKT_SNI);
}

/* Several handshake messages in one record, as servers send them. */
static void test_several_messages_in_record(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	static const uint8_t msgs[] = {
		2, 0, 0, 2, 3, 3, /* Server Hello */
		11, 0, 0, 3, 0, 0, 0, /* Certificate */
		14, 0, 0, 0, /* Server Hello Done */
	};

	(void)state;
	record(&b, 22, msgs, sizeof(msgs));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info, "Server Hello, Certificate, Server Hello Done");
}

/* Decoding stops at the first record the segment cuts. */
static void test_second_record_cut(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	static const uint8_t data[40] = { 0 };

	(void)state;
	record(&b, 23, data, 4);
	record(&b, 23, data, sizeof(data));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n - 10), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_string_equal(pkt.info, "Application Data, Application Data");
}

static void test_record_header_cut(void **state)
{
	struct wl_packet pkt;
	static const uint8_t hdr[] = { 22, 3, 1, 0 };

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, hdr, sizeof(hdr)), -EMSGSIZE);
	assert_int_equal(pkt.proto, WL_P_TLS);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_string_equal(pkt.info, "Truncated Record");
}

static void test_second_record_bad_type(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	static const uint8_t data[4] = { 0 };

	(void)state;
	record(&b, 23, data, sizeof(data));
	record(&b, 99, data, sizeof(data));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), -EBADMSG);
	assert_int_equal(pkt.malformed, WL_INVALID);
	assert_string_equal(pkt.info, "Application Data, Ignored Unknown Record");
}

static void test_record_too_long(void **state)
{
	struct wl_packet pkt;
	static const uint8_t first[] = { 23, 3, 3, 0xff, 0xff, 0 };
	static const uint8_t second[] = { 23, 3, 3, 0, 1, 0, 23, 3, 3, 0xff, 0xff, 0 };

	(void)state;
	/* At the start of a segment it is continuation data that looks like a header. */
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, first, sizeof(first)), 0);
	assert_int_equal(pkt.proto, WL_P_TCP);
	/* After a good record it contradicts the format. */
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, second, sizeof(second)), -EBADMSG);
	assert_int_equal(pkt.malformed, WL_INVALID);
}

/* After Change Cipher Spec the Finished is encrypted, even if it looks like a Hello Request. */
static void test_encrypted_finished(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	static const uint8_t ccs[] = { 1 };
	uint8_t finished[40] = { 0 }; /* zero explicit nonce, then ciphertext */

	(void)state;
	for (size_t i = 8; i < sizeof(finished); i++)
		finished[i] = (uint8_t)(0x91 * i);
	record(&b, 20, ccs, sizeof(ccs));
	record(&b, 22, finished, sizeof(finished));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info, "Change Cipher Spec, Encrypted Handshake Message");
	/* Alone in its segment, the chain of messages does not add up. */
	b.n = 0;
	record(&b, 22, finished, sizeof(finished));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info, "Encrypted Handshake Message");
}

static void test_alerts(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };
	static const uint8_t plain[] = { 2, 40 };
	static const uint8_t sealed[26] = { 0 };

	(void)state;
	record(&b, 21, plain, sizeof(plain));
	record(&b, 21, sealed, sizeof(sealed));
	record(&b, 24, sealed, sizeof(sealed));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info, "Alert, Encrypted Alert, Heartbeat");
}

static void test_empty_record(void **state)
{
	struct wl_packet pkt;
	static const uint8_t rec[] = { 23, 3, 3, 0, 0 };

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, rec, sizeof(rec)), 0);
	assert_string_equal(pkt.info, "Application Data");
}

static void test_sslv2_client_hello(void **state)
{
	struct wl_packet pkt;
	static const uint8_t v2[] = {
		0x80, 0x0b, 1, 3, 1, 0, 3, 0, 0, 0, 0, 0, 0x2f, 0,
	};

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, v2, sizeof(v2) - 1), 0);
	assert_int_equal(pkt.proto, WL_P_TLS);
	assert_string_equal(pkt.info, "Client Hello");
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, v2, 8), -EMSGSIZE);
}

/* A ClientHello record whose only extension is ALPN with the n names given. */
static void alpn_hello(struct buf *b, const char *const *names, size_t n)
{
	size_t rec, hs, exts, ext, list;
	static const uint8_t random[32];

	put8(b, 22);
	put16(b, 0x0301);
	rec = b->n;
	put16(b, 0);
	put8(b, 1);
	hs = b->n;
	put24(b, 0);
	put16(b, 0x0303);
	putmem(b, random, sizeof(random));
	put8(b, 0);
	put16(b, 2);
	put16(b, 0x1301);
	put8(b, 1);
	put8(b, 0);
	exts = b->n;
	put16(b, 0);
	put16(b, 16);
	ext = b->n;
	put16(b, 0);
	list = b->n;
	put16(b, 0);
	for (size_t i = 0; i < n; i++) {
		put8(b, strlen(names[i]));
		putmem(b, names[i], strlen(names[i]));
	}
	patch16(b, list, b->n - list - 2);
	patch16(b, ext, b->n - ext - 2);
	patch16(b, exts, b->n - exts - 2);
	patch24(b, hs, b->n - hs - 3);
	patch16(b, rec, b->n - rec - 2);
}

static void test_alpn(void **state)
{
	static const char *const names[] = { "h2", "http/1.1" };
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	alpn_hello(&b, names, 2);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_true(pkt.has & WL_PKT_ALPN);
	assert_int_equal(pkt.tls.n_alpn, 2);
	assert_int_equal(pkt.tls.alpn_total, 2);
	assert_string_equal(pkt.tls.alpn[0], "h2");
	assert_string_equal(pkt.tls.alpn[1], "http/1.1");
	assert_int_equal(pkt.tls_cut, 0);
	/* A whole hello also has its fingerprint texts. */
	assert_true(pkt.has & WL_PKT_JA3_TEXT);
	assert_true(pkt.has & WL_PKT_JA4_TEXT);
	assert_string_equal(pkt.tls.ja4_a, "t12i0101h2");
}

/* At most WL_ALPN_MAX names of at most WL_ALPN_LEN characters, escaped; what is cut is said. */
static void test_alpn_bounds(void **state)
{
	static const char *const many[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
	static const char *const odd[] = { "0123456789012345678901234567890123456789", "\x01<x>\\" };
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	alpn_hello(&b, many, 10);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.tls.n_alpn, WL_ALPN_MAX);
	assert_int_equal(pkt.tls.alpn_total, 10);
	assert_string_equal(pkt.tls.alpn[7], "h");
	assert_int_equal(pkt.tls_cut, WL_TLS_CUT_ALPN);
	b.n = 0;
	alpn_hello(&b, odd, 2);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.tls.n_alpn, 2);
	assert_string_equal(pkt.tls.alpn[0], "01234567890123456789012345678901");
	assert_string_equal(pkt.tls.alpn[1], "\\x01<x>\\x5c");
	assert_int_equal(pkt.tls_cut, WL_TLS_CUT_ALPN);
}

/* A ServerHello record, whole: its JA3S text. */
static void test_server_hello_text(void **state)
{
	static const uint8_t body[] = { 3, 3, [34] = 0, 0x13, 0x01, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4 };
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	put8(&b, 22);
	put16(&b, 0x0303);
	put16(&b, sizeof(body) + 4);
	put8(&b, 2);
	put24(&b, sizeof(body));
	putmem(&b, body, sizeof(body));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info, "Server Hello");
	assert_true(pkt.has & WL_PKT_JA3S_TEXT);
	assert_string_equal(pkt.tls.ja3s_text, "771,4865,43");
	assert_false(pkt.has & (WL_PKT_JA3_TEXT | WL_PKT_ALPN));
}

/* Reassembled bytes: the hello decoded whole, the frame's layers and malformed untouched. */
static void test_stream(void **state)
{
	struct wl_packet pkt;
	struct buf b = { .n = 0 };

	(void)state;
	client_hello(&b, "stream.example", 14, 700);
	packet_init(&pkt);
	pkt.malformed = WL_OK;
	pkt.n_layers = 3;
	pkt.has = WL_PKT_SNI; /* what the frame's own bytes said is replaced */
	strcpy(pkt.sni, "stale");
	assert_int_equal(wl_dissect_tls_stream(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.proto, WL_P_TLS);
	assert_int_equal(pkt.n_layers, 3);
	assert_string_equal(pkt.sni, "stream.example");
	assert_string_equal(pkt.info, "Client Hello (SNI=stream.example)");
	assert_true(pkt.has & WL_PKT_JA3_TEXT);
	assert_false(pkt.has & WL_PKT_TLS_SEGMENT);
	/* A buffer shorter than the record (capd keeps at most its first bytes): truncated, but decoded. */
	packet_init(&pkt);
	assert_int_equal(wl_dissect_tls_stream(&pkt, b.b, b.n - 100), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_OK);
	assert_string_equal(pkt.sni, "stream.example");
	assert_false(pkt.has & WL_PKT_JA3_TEXT);
	/* Not TLS at all: nothing. */
	packet_init(&pkt);
	assert_int_equal(wl_dissect_tls_stream(&pkt, (const uint8_t *)"GET /", 5), -EBADMSG);
	assert_false(pkt.has & WL_PKT_SNI);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_not_tls),
		cmocka_unit_test(test_other_bytes_are_not_tls),
		cmocka_unit_test(test_looks_like_tls),
		cmocka_unit_test(test_client_hello_sni),
		cmocka_unit_test(test_client_hello_without_sni),
		cmocka_unit_test(test_client_hello_without_extensions),
		cmocka_unit_test(test_client_hello_cut_after_sni),
		cmocka_unit_test(test_client_hello_cut_at_sni_end),
		cmocka_unit_test(test_client_hello_cut_inside_sni),
		cmocka_unit_test(test_client_hello_next_segment),
		cmocka_unit_test(test_next_segment_after_a_record),
		cmocka_unit_test(test_no_segment_in_icmp_quote),
		cmocka_unit_test(test_client_hello_every_prefix),
		cmocka_unit_test(test_extension_longer_than_block),
		cmocka_unit_test(test_extensions_longer_than_hello),
		cmocka_unit_test(test_extensions_shorter_than_hello),
		cmocka_unit_test(test_handshake_longer_than_record),
		cmocka_unit_test(test_session_id_too_long),
		cmocka_unit_test(test_hostile_sni),
		cmocka_unit_test(test_long_sni_capped),
		cmocka_unit_test(test_empty_host_name_is_invalid),
		cmocka_unit_test(test_sni_skips_other_name_types),
		cmocka_unit_test(test_sni_not_overwritten),
		cmocka_unit_test(test_several_records),
		cmocka_unit_test(test_several_messages_in_record),
		cmocka_unit_test(test_second_record_cut),
		cmocka_unit_test(test_record_header_cut),
		cmocka_unit_test(test_second_record_bad_type),
		cmocka_unit_test(test_record_too_long),
		cmocka_unit_test(test_encrypted_finished),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_empty_record),
		cmocka_unit_test(test_sslv2_client_hello),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_alpn_bounds),
		cmocka_unit_test(test_server_hello_text),
		cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
