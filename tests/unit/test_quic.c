/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for proto/quic.c on hand-built datagrams: which UDP payloads
 * are QUIC, the headers of coalesced packets, Info, the summary's quic
 * object, truncated against invalid, the detail tree, and the frames of a
 * decrypted Initial. Frames go through the public wl_dissect() in a heap
 * block of exactly their length, so that AddressSanitizer sees any read
 * past the capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "packet-json.h"
#include "quic.h"
#include "wlite-proto.h"
#include "wlite-wire.h"
#include "frame.h"

#include <errno.h>

static const uint8_t DCID8[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
static const uint8_t SCID4[4] = { 0xaa, 0xbb, 0xcc, 0xdd };

/* Raw IPv4 (link type 228) and UDP around a payload; lengths patched by end_udp(). */
static size_t begin_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put_u8(f, 0x45);
	put_u8(f, 0);
	put_u16(f, 0);
	put_u32(f, 0);
	put_u8(f, 64);
	put_u8(f, 17);
	put_u16(f, 0);
	put_addr(f, AF_INET, "192.0.2.1");
	put_addr(f, AF_INET, "198.51.100.2");
	put_u16(f, sport);
	put_u16(f, dport);
	put_u32(f, 0); /* length and checksum */
	return f->n;
}

static void end_udp(struct frame *f)
{
	set_u16(f, 2, (uint16_t)f->n);
	set_u16(f, 24, (uint16_t)(f->n - 20));
}

/* A long header: first byte, version, CIDs. */
static void put_long(struct frame *f, uint8_t first, uint32_t version, const uint8_t *dcid, uint8_t dcil,
		     const uint8_t *scid, uint8_t scil)
{
	put_u8(f, first);
	put_u32(f, version);
	put_u8(f, dcil);
	put_mem(f, dcid, dcil);
	put_u8(f, scil);
	put_mem(f, scid, scil);
}

/* An Initial (v1 type bits) with an empty token and n bytes after its 2-byte Length. */
static void put_initial(struct frame *f, uint32_t version, uint8_t type_bits, size_t n)
{
	put_long(f, (uint8_t)(0xc0 | type_bits << 4), version, DCID8, 8, NULL, 0);
	put_u8(f, 0);
	put_u16(f, (uint16_t)(0x4000 | n));
	put_fill(f, 0x5a, n);
}

static void put_handshake(struct frame *f, size_t n)
{
	put_long(f, 0xe0, WL_QUIC_VERSION_1, DCID8, 8, SCID4, 4);
	put_u16(f, (uint16_t)(0x4000 | n));
	put_fill(f, 0x33, n);
}

static int dissect(struct wl_packet *pkt, const struct frame *f, size_t caplen)
{
	uint8_t *copy = malloc(caplen ? caplen : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	memset(pkt, 0, sizeof(*pkt));
	pkt->len = (uint32_t)f->n;
	pkt->caplen = (uint32_t)caplen;
	r = wl_dissect(pkt, WL_LINK_IPV4, copy, caplen);
	free(copy);
	return r;
}

static struct wl_packet *new_pkt(void)
{
	struct wl_packet *pkt = malloc(sizeof(*pkt));

	assert_non_null(pkt);
	return pkt;
}

/* ---- Which payloads are QUIC ---------------------------------------------------- */

static void test_initial_v1(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };

	begin_udp(&f, 50000, 443);
	put_initial(&f, WL_QUIC_VERSION_1, 0, 40);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_int_equal(pkt->proto, WL_P_QUIC);
	assert_string_equal(pkt->info, "Initial, DCID=8394c8f03e515708");
	assert_true(pkt->has & WL_PKT_QUIC);
	assert_int_equal(pkt->quic.type, WL_QUIC_INITIAL);
	assert_int_equal(pkt->quic.version, 1);
	assert_int_equal(pkt->quic.flags, WL_QUIC_HAS_VERSION | WL_QUIC_HAS_DCID | WL_QUIC_HAS_SCID);
	assert_int_equal(pkt->quic.dcid_len, 8);
	assert_memory_equal(pkt->quic.dcid, DCID8, 8);
	assert_int_equal(pkt->quic.scid_len, 0);
	assert_int_equal(pkt->quic.packets, 1);
	assert_int_equal(pkt->malformed, WL_OK);
	free(pkt);
	(void)state;
}

/* Long headers are QUIC on any port, as tshark's heuristic finds them. */
static void test_long_header_any_port(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };

	begin_udp(&f, 40000, 4433);
	put_long(&f, 0xe1, 0xff00001d, DCID8, 8, SCID4, 4); /* draft-29 Handshake */
	put_u8(&f, 20);
	put_fill(&f, 1, 20);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_int_equal(pkt->proto, WL_P_QUIC);
	assert_string_equal(pkt->info, "Handshake, DCID=8394c8f03e515708, SCID=aabbccdd");
	assert_int_equal(pkt->quic.version, 0xff00001d);
	free(pkt);
	(void)state;
}

/* RFC 9369 3.2: v2's packet types are shuffled. */
static void test_v2_types(void **state)
{
	static const struct {
		uint8_t bits;
		uint8_t type;
		const char *info;
	} cases[] = {
		{ 0, WL_QUIC_RETRY, "Retry" },
		{ 1, WL_QUIC_INITIAL, "Initial" },
		{ 2, WL_QUIC_0RTT, "0-RTT" },
		{ 3, WL_QUIC_HANDSHAKE, "Handshake" },
	};
	struct wl_packet *pkt = new_pkt();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f = { .n = 0 };

		begin_udp(&f, 50000, 443);
		put_long(&f, (uint8_t)(0xc0 | cases[i].bits << 4), WL_QUIC_VERSION_2, DCID8, 8, NULL, 0);
		if (cases[i].type == WL_QUIC_INITIAL)
			put_u8(&f, 0); /* token length */
		if (cases[i].type == WL_QUIC_RETRY) {
			put_fill(&f, 0x77, 16 + 5); /* token and integrity tag */
		} else {
			put_u8(&f, 30);
			put_fill(&f, 1, 30);
		}
		end_udp(&f);
		assert_int_equal(dissect(pkt, &f, f.n), 0);
		assert_int_equal(pkt->quic.type, cases[i].type);
		assert_int_equal(strncmp(pkt->info, cases[i].info, strlen(cases[i].info)), 0);
	}
	free(pkt);
	(void)state;
}

/* Unknown versions (Google's Q046 included) and CIDs over 20 bytes are not QUIC. */
static void test_not_quic_long(void **state)
{
	static const uint32_t versions[] = { 0x12345678, 0x51303436 /* Q046 */, 0xff00000a /* draft-10 */ };
	struct wl_packet *pkt = new_pkt();
	struct frame f;

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		f.n = 0;
		begin_udp(&f, 50000, 443);
		put_initial(&f, versions[i], 0, 40);
		end_udp(&f);
		assert_int_equal(dissect(pkt, &f, f.n), 0);
		assert_int_equal(pkt->proto, WL_P_UDP);
		assert_false(pkt->has & WL_PKT_QUIC);
	}
	f.n = 0;
	begin_udp(&f, 50000, 443);
	uint8_t cid[21] = { 0 };
	put_long(&f, 0xc0, 1, cid, 21, NULL, 0);
	put_fill(&f, 0, 30);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_int_equal(pkt->proto, WL_P_UDP);
	free(pkt);
	(void)state;
}

static void put_short(struct frame *f, uint8_t first, size_t n)
{
	put_u8(f, first);
	put_fill(f, 0x42, n - 1);
}

/* Short headers: fixed bit set, at least 21 bytes, and UDP port 443. */
static void test_short_header_rule(void **state)
{
	static const struct {
		uint16_t sport, dport;
		uint8_t first;
		size_t len;
		bool quic;
	} cases[] = {
		{ 50000, 443, 0x40, 21, true },  { 443, 50000, 0x5f, 100, true }, { 50000, 443, 0x40, 20, false },
		{ 50000, 443, 0x00, 100, false }, { 50000, 4433, 0x40, 100, false },
	};
	struct wl_packet *pkt = new_pkt();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f = { .n = 0 };

		begin_udp(&f, cases[i].sport, cases[i].dport);
		put_short(&f, cases[i].first, cases[i].len);
		end_udp(&f);
		assert_int_equal(dissect(pkt, &f, f.n), 0);
		assert_int_equal(pkt->proto, cases[i].quic ? WL_P_QUIC : WL_P_UDP);
		if (!cases[i].quic)
			continue;
		assert_string_equal(pkt->info, "Protected Payload (KP0)");
		assert_int_equal(pkt->quic.type, WL_QUIC_1RTT);
		/* A short header alone: its DCID's length is the connection's to know. */
		assert_int_equal(pkt->quic.flags, 0);
	}
	free(pkt);
	(void)state;
}

static void put_vn(struct frame *f, const uint32_t *versions, size_t n)
{
	put_long(f, 0x80, 0, SCID4, 4, DCID8, 8);
	for (size_t i = 0; i < n; i++)
		put_u32(f, versions[i]);
}

/* Version Negotiation: version 0 and a list that names a version tshark knows. */
static void test_version_negotiation(void **state)
{
	static const uint32_t good[] = { 0x1a2a3a4a, WL_QUIC_VERSION_1 };
	static const uint32_t bad[] = { 0x12345678 };
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };

	begin_udp(&f, 4433, 50000);
	put_vn(&f, good, 2);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_int_equal(pkt->proto, WL_P_QUIC);
	assert_string_equal(pkt->info, "Version Negotiation, DCID=aabbccdd, SCID=8394c8f03e515708");
	assert_int_equal(pkt->quic.type, WL_QUIC_VERSION_NEGOTIATION);
	assert_int_equal(pkt->quic.version, 0);
	assert_true(pkt->quic.flags & WL_QUIC_HAS_VERSION);

	f.n = 0;
	begin_udp(&f, 4433, 50000);
	put_vn(&f, bad, 1);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_int_equal(pkt->proto, WL_P_UDP);
	free(pkt);
	(void)state;
}

/* ---- Coalesced packets ------------------------------------------------------------ */

/* Initial, Handshake and 1-RTT in one datagram: Info is the last one's, as in tshark. */
static void test_coalesced(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };

	begin_udp(&f, 50000, 443);
	put_initial(&f, WL_QUIC_VERSION_1, 0, 30);
	put_handshake(&f, 30);
	put_u8(&f, 0x41);
	put_mem(&f, DCID8, 8);
	put_fill(&f, 0x99, 30);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_int_equal(pkt->quic.packets, 3);
	assert_int_equal(pkt->quic.type, WL_QUIC_INITIAL);
	assert_string_equal(pkt->info, "Protected Payload (KP0), DCID=8394c8f03e515708");
	free(pkt);
	(void)state;
}

/* Bytes after the packets whose DCID is not the first packet's are padding (tshark). */
static void test_trailing_padding(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };

	begin_udp(&f, 50000, 443);
	put_initial(&f, WL_QUIC_VERSION_1, 0, 30);
	put_fill(&f, 0, 200);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_int_equal(pkt->quic.packets, 1);
	assert_string_equal(pkt->info, "Initial, DCID=8394c8f03e515708");
	assert_int_equal(pkt->malformed, WL_OK);
	free(pkt);
	(void)state;
}

/* ---- Truncated and invalid --------------------------------------------------------- */

/* A Length past the datagram contradicts it; past the capture, the capture was cut. */
static void test_length_past_end(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };

	begin_udp(&f, 50000, 443);
	put_long(&f, 0xc0, 1, DCID8, 8, NULL, 0);
	put_u8(&f, 0);
	put_u16(&f, 0x4000 | 100);
	put_fill(&f, 1, 60);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
	assert_int_equal(pkt->proto, WL_P_QUIC);
	assert_string_equal(pkt->info, "Initial, DCID=8394c8f03e515708");

	f.n = 0;
	begin_udp(&f, 50000, 443);
	put_initial(&f, WL_QUIC_VERSION_1, 0, 100);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n - 50), -EMSGSIZE);
	assert_int_equal(pkt->malformed, WL_TRUNCATED);
	assert_int_equal(pkt->quic.type, WL_QUIC_INITIAL);
	free(pkt);
	(void)state;
}

/* Every prefix of a coalesced datagram: truncated or not QUIC yet, never invalid, no crash. */
static void test_every_prefix(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };
	size_t payload;

	payload = begin_udp(&f, 50000, 443);
	put_initial(&f, WL_QUIC_VERSION_1, 0, 30);
	put_handshake(&f, 30);
	end_udp(&f);
	for (size_t cap = payload; cap < f.n; cap++) {
		int r = dissect(pkt, &f, cap);

		if (pkt->proto == WL_P_QUIC)
			assert_int_equal(r, -EMSGSIZE);
		else
			assert_true(cap - payload < 1 + 4 + 1 + 8 + 1); /* the heuristic reads up to the SCID length */
	}
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_int_equal(pkt->quic.packets, 2);
	free(pkt);
	(void)state;
}

/* A Retry: the token, then the 16-byte integrity tag; too short for a tag is invalid. */
static void test_retry(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };

	begin_udp(&f, 443, 50000);
	put_long(&f, 0xf0, 1, NULL, 0, SCID4, 4);
	put_fill(&f, 0x11, 10 + 16);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	assert_string_equal(pkt->info, "Retry, SCID=aabbccdd");
	assert_int_equal(pkt->quic.type, WL_QUIC_RETRY);

	f.n = 0;
	begin_udp(&f, 443, 50000);
	put_long(&f, 0xf0, 1, NULL, 0, SCID4, 4);
	put_fill(&f, 0x11, 10);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), -EBADMSG);
	free(pkt);
	(void)state;
}

/* ---- The detail tree -------------------------------------------------------------- */

static const struct wl_field *find_field(const struct wl_tree *t, const char *name, unsigned from)
{
	for (unsigned i = from; i < t->n; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return &t->fields[i];
	return NULL;
}

static void test_tree(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct wl_field fields[128];
	struct wl_tree tree = { .fields = fields, .max = 128 };
	struct frame f = { .n = 0 };
	size_t payload = begin_udp(&f, 50000, 443);
	const struct wl_field *l;

	put_initial(&f, WL_QUIC_VERSION_1, 0, 30);
	put_handshake(&f, 30);
	end_udp(&f);
	pkt->len = pkt->caplen = (uint32_t)f.n;
	assert_int_equal(wl_dissect_tree(pkt, WL_LINK_IPV4, f.b, f.n, &tree), 0);
	assert_non_null(l = find_field(&tree, "QUIC IETF", 0));
	assert_int_equal(l->depth, 0);
	assert_int_equal(l->off, payload);
	assert_string_equal(l->value, "Initial, DCID=8394c8f03e515708");
	assert_string_equal(find_field(&tree, "Version", (unsigned)(l - fields))->value, "0x00000001 (1)");
	assert_string_equal(find_field(&tree, "Destination connection ID", 0)->value, "8394c8f03e515708");
	assert_string_equal(find_field(&tree, "Length", (unsigned)(l - fields))->value, "30");
	/* The second packet has its own layer line, where its bytes start. */
	assert_non_null(l = find_field(&tree, "QUIC IETF", (unsigned)(l - fields) + 1));
	assert_int_equal(l->off, payload + 1 + 4 + 1 + 8 + 1 + 1 + 2 + 30);
	assert_string_equal(l->value, "Handshake, DCID=8394c8f03e515708, SCID=aabbccdd");
	free(pkt);
	(void)state;
}

/* ---- Frames of a decrypted Initial -------------------------------------------------- */

struct seen {
	unsigned n;
	struct wl_quic_frame f[16];
};

static void collect(void *ctx, const struct wl_quic_frame *f)
{
	struct seen *s = ctx;

	if (s->n < 16)
		s->f[s->n++] = *f;
}

static void test_frames(void **state)
{
	static const uint8_t p[] = {
		0x00, 0x00, 0x00,                         /* PADDING, one frame of 3 */
		0x01,                                     /* PING */
		0x02, 0x05, 0x00, 0x01, 0x00, 0x01, 0x01, /* ACK: largest 5, one extra range */
		0x03, 0x05, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, /* ACK_ECN with its three counts */
		0x06, 0x44, 0x00, 0x03, 'a', 'b', 'c',    /* CRYPTO at 1024, 3 bytes */
		0x1c, 0x0a, 0x06, 0x02, 'n', 'o',         /* CONNECTION_CLOSE */
		0x00,                                     /* PADDING to the end */
	};
	struct seen s = { .n = 0 };

	assert_int_equal(wl_quic_initial_frames(p, sizeof(p), collect, &s), 0);
	assert_int_equal(s.n, 7);
	assert_int_equal(s.f[0].type, WL_QUIC_FRAME_PADDING);
	assert_int_equal(s.f[0].len, 3);
	assert_int_equal(s.f[1].type, WL_QUIC_FRAME_PING);
	assert_int_equal(s.f[2].type, WL_QUIC_FRAME_ACK);
	assert_int_equal(s.f[3].type, WL_QUIC_FRAME_ACK_ECN);
	assert_int_equal(s.f[4].type, WL_QUIC_FRAME_CRYPTO);
	assert_int_equal(s.f[4].offset, 1024);
	assert_int_equal(s.f[4].len, 3);
	assert_memory_equal(s.f[4].data, "abc", 3);
	assert_int_equal(s.f[5].type, WL_QUIC_FRAME_CONNECTION_CLOSE);
	assert_int_equal(s.f[6].type, WL_QUIC_FRAME_PADDING);
	assert_string_equal(wl_quic_frame_name(WL_QUIC_FRAME_CONNECTION_CLOSE), "CC");
	(void)state;
}

/* RFC 9000 12.4: STREAM (and any frame but these) is not allowed in an Initial. */
static void test_frames_invalid(void **state)
{
	static const uint8_t stream[] = { 0x01, 0x08, 0x00, 'x' };
	static const uint8_t short_crypto[] = { 0x06, 0x00, 0x05, 'a', 'b' };
	static const uint8_t huge_offset[] = { 0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'a' };
	static const uint8_t ack_ranges[] = { 0x02, 0x05, 0x00, 0x7f, 0xff, 0x00 }; /* 16383 ranges claimed */
	static const uint8_t cc_reason[] = { 0x1c, 0x00, 0x00, 0x09, 'a' };
	struct seen s = { .n = 0 };

	assert_int_equal(wl_quic_initial_frames(stream, sizeof(stream), collect, &s), -EBADMSG);
	assert_int_equal(s.n, 1); /* the PING before it was handed over */
	assert_int_equal(wl_quic_initial_frames(short_crypto, sizeof(short_crypto), collect, &s), -EBADMSG);
	assert_int_equal(wl_quic_initial_frames(huge_offset, sizeof(huge_offset), collect, &s), -EBADMSG);
	assert_int_equal(wl_quic_initial_frames(ack_ranges, sizeof(ack_ranges), collect, &s), -EBADMSG);
	assert_int_equal(wl_quic_initial_frames(cc_reason, sizeof(cc_reason), collect, &s), -EBADMSG);
	assert_int_equal(s.n, 1);
	(void)state;
}

/* RFC 9000 A.1's examples. */
static void test_varint(void **state)
{
	static const struct {
		uint8_t b[8];
		size_t len;
		uint64_t v;
	} cases[] = {
		{ { 0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c }, 8, 151288809941952652ULL },
		{ { 0x9d, 0x7f, 0x3e, 0x7d }, 4, 494878333 },
		{ { 0x7b, 0xbd }, 2, 15293 },
		{ { 0x25 }, 1, 37 },
		{ { 0x40, 0x25 }, 2, 37 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t off = 0;
		uint64_t v = 0;

		assert_int_equal(wl_quic_varint(cases[i].b, cases[i].len, &off, &v), 0);
		assert_int_equal(off, cases[i].len);
		assert_int_equal(v, cases[i].v);
		off = 0;
		assert_int_equal(wl_quic_varint(cases[i].b, cases[i].len - 1, &off, &v), -EMSGSIZE);
	}
	(void)state;
}

static void test_versions(void **state)
{
	assert_int_equal(wl_quic_draft(WL_QUIC_VERSION_1), 34);
	assert_int_equal(wl_quic_draft(WL_QUIC_VERSION_2), 100);
	assert_int_equal(wl_quic_draft(0xff00001d), 29);
	assert_int_equal(wl_quic_draft(0xfaceb002), 27);
	assert_int_equal(wl_quic_draft(0x3a4a5a6a), 29); /* GREASE */
	assert_int_equal(wl_quic_draft(0x709a50c4), 0);  /* v2 draft 01: tshark 4.0 does not know it */
	assert_true(wl_quic_version_known(0xff00000b));
	assert_false(wl_quic_version_known(0xff00000a));
	(void)state;
}

/* ---- The quic object in the JSON and on the wire -------------------------------------- */

static void test_json(void **state)
{
	struct wl_packet *pkt = new_pkt();
	struct frame f = { .n = 0 };
	char json[4096];
	long n;

	begin_udp(&f, 50000, 443);
	put_initial(&f, WL_QUIC_VERSION_1, 0, 30);
	put_handshake(&f, 30);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	n = wl_json_packet(pkt, json, sizeof(json));
	assert_true(n > 0);
	json[n] = '\0';
	assert_non_null(strstr(json, "\"quic\":{\"version\":1,\"packet_type\":\"Initial\","
				     "\"dcid\":\"8394c8f03e515708\",\"scid\":\"\",\"packets\":2}"));
	/* A short header alone: no version, no DCID. */
	f.n = 0;
	begin_udp(&f, 443, 50000);
	put_short(&f, 0x40, 30);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	n = wl_json_packet(pkt, json, sizeof(json));
	assert_true(n > 0);
	json[n] = '\0';
	assert_non_null(strstr(json, "\"quic\":{\"packet_type\":\"1-RTT\"}"));
	free(pkt);
	(void)state;
}

/* Wire section 17 carries the object whole, and a reader refuses a CID over 20 bytes. */
static void test_wire(void **state)
{
	static uint8_t buf[8192];
	static struct wl_wire_record rec;
	struct wl_packet *pkt = new_pkt();
	struct wl_wire_reader r;
	struct frame f = { .n = 0 };
	long n;

	begin_udp(&f, 40000, 4433);
	put_long(&f, 0xe1, 0xff00001d, DCID8, 8, SCID4, 4);
	put_u8(&f, 20);
	put_fill(&f, 1, 20);
	end_udp(&f);
	assert_int_equal(dissect(pkt, &f, f.n), 0);
	pkt->seq = 1;
	wl_wire_put_batch_header(buf, 1, 0);
	n = wl_wire_put_record(buf + WL_WIRE_BATCH_HEADER, sizeof(buf) - WL_WIRE_BATCH_HEADER, pkt, 228, f.b, f.n);
	assert_true(n > 0);
	assert_int_equal(wl_wire_reader_init(&r, buf, WL_WIRE_BATCH_HEADER + (size_t)n), 0);
	assert_int_equal(wl_wire_next(&r, &rec), 1);
	assert_true(rec.pkt.has & WL_PKT_QUIC);
	assert_int_equal(rec.pkt.quic.version, 0xff00001d);
	assert_int_equal(rec.pkt.quic.type, WL_QUIC_HANDSHAKE);
	assert_int_equal(rec.pkt.quic.flags, pkt->quic.flags);
	assert_int_equal(rec.pkt.quic.packets, 1);
	assert_int_equal(rec.pkt.quic.dcid_len, 8);
	assert_memory_equal(rec.pkt.quic.dcid, DCID8, 8);
	assert_int_equal(rec.pkt.quic.scid_len, 4);
	assert_memory_equal(rec.pkt.quic.scid, SCID4, 4);

	/* The section: type 17, reserved, length, then the version; its DCID length 4 + 4 + 3 bytes in. */
	static const uint8_t head[] = { WL_SEC_QUIC, 0, 0, 4 + 3 + 1 + 8 + 1 + 4, 0xff, 0, 0, 0x1d };
	size_t sec = 0;

	for (size_t i = WL_WIRE_BATCH_HEADER + f.n; i + sizeof(head) <= sizeof(buf) && !sec; i++)
		if (memcmp(buf + i, head, sizeof(head)) == 0)
			sec = i;
	assert_true(sec > 0);
	buf[sec + 4 + 4 + 3] = 21;
	assert_int_equal(wl_wire_reader_init(&r, buf, WL_WIRE_BATCH_HEADER + (size_t)n), 0);
	assert_int_equal(wl_wire_next(&r, &rec), -EBADMSG);
	free(pkt);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_v1),
		cmocka_unit_test(test_long_header_any_port),
		cmocka_unit_test(test_v2_types),
		cmocka_unit_test(test_not_quic_long),
		cmocka_unit_test(test_short_header_rule),
		cmocka_unit_test(test_version_negotiation),
		cmocka_unit_test(test_coalesced),
		cmocka_unit_test(test_trailing_padding),
		cmocka_unit_test(test_length_past_end),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_frames_invalid),
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
