/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The v1 wire format (common/wire.c): records encoded from wl_dissect()'s
 * summaries of hand-built frames and of real captures must decode to packets
 * whose v1 JSON is byte-identical to the original's; hostile batches must be
 * refused or bounded, never read out of bounds (every message is decoded from
 * a heap copy of exactly its length, so AddressSanitizer sees its end); and
 * the encoder must refuse, not overrun, a buffer that is too small.
 *
 *   test-wire                      run the tests
 *   test-wire --write-seeds DIR    write the seed batches of fuzz-wire to DIR
 *                                  (tests/fuzz/corpus/wire/)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "packet-json.h"
#include "wlite-proto.h"
#include "wlite-wire.h"

/* ---- Byte builders (frames and wire messages alike) ------------------------ */

struct buf {
	uint8_t b[64 * 1024];
	size_t n;
};

static void put_u8(struct buf *f, uint8_t v)
{
	assert_true(f->n < sizeof(f->b));
	f->b[f->n++] = v;
}

static void put_u16(struct buf *f, uint16_t v)
{
	put_u8(f, (uint8_t)(v >> 8));
	put_u8(f, (uint8_t)v);
}

static void put_u32(struct buf *f, uint32_t v)
{
	put_u16(f, (uint16_t)(v >> 16));
	put_u16(f, (uint16_t)v);
}

static void put_u64(struct buf *f, uint64_t v)
{
	put_u32(f, (uint32_t)(v >> 32));
	put_u32(f, (uint32_t)v);
}

static void put_mem(struct buf *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_u8(f, ((const uint8_t *)p)[i]);
}

static void put_fill(struct buf *f, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_u8(f, v);
}

static void put_str(struct buf *f, const char *s)
{
	put_mem(f, s, strlen(s));
}

static void set_u16(struct buf *f, size_t at, uint16_t v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static void set_u32(struct buf *f, size_t at, uint32_t v)
{
	set_u16(f, at, (uint16_t)(v >> 16));
	set_u16(f, at + 2, (uint16_t)v);
}

/* ---- Hand-built frames ------------------------------------------------------- */

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t IP4_A[4] = { 192, 0, 2, 1 };
static const uint8_t IP4_B[4] = { 198, 51, 100, 2 };
static const uint8_t IP6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t IP6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void put_eth(struct buf *f, uint16_t type)
{
	put_mem(f, MAC_B, 6);
	put_mem(f, MAC_A, 6);
	put_u16(f, type);
}

/* An IPv4 header without options; end_ip4() fills its total length. */
static size_t put_ip4(struct buf *f, uint8_t proto, const uint8_t *src, const uint8_t *dst)
{
	size_t at = f->n;

	put_u8(f, 0x45);
	put_u8(f, 0);
	put_u16(f, 0);
	put_u16(f, 0x1234);
	put_u16(f, 0);
	put_u8(f, 64);
	put_u8(f, proto);
	put_u16(f, 0);
	put_mem(f, src, 4);
	put_mem(f, dst, 4);
	return at;
}

static void end_ip4(struct buf *f, size_t at)
{
	set_u16(f, at + 2, (uint16_t)(f->n - at));
}

static size_t put_ip6(struct buf *f, uint8_t nh)
{
	size_t at = f->n;

	put_u32(f, 0x60000000);
	put_u16(f, 0);
	put_u8(f, nh);
	put_u8(f, 64);
	put_mem(f, IP6_A, 16);
	put_mem(f, IP6_B, 16);
	return at;
}

static void end_ip6(struct buf *f, size_t at)
{
	set_u16(f, at + 4, (uint16_t)(f->n - at - 40));
}

static size_t put_udp(struct buf *f, uint16_t sport, uint16_t dport)
{
	size_t at = f->n;

	put_u16(f, sport);
	put_u16(f, dport);
	put_u32(f, 0);
	return at;
}

static void end_udp(struct buf *f, size_t at)
{
	set_u16(f, at + 4, (uint16_t)(f->n - at));
}

static void put_tcp(struct buf *f, uint16_t sport, uint16_t dport, uint16_t flags)
{
	put_u16(f, sport);
	put_u16(f, dport);
	put_u32(f, 1000);
	put_u32(f, 2000);
	put_u16(f, (uint16_t)(5 << 12 | flags));
	put_u16(f, 65535);
	put_u32(f, 0);
}

static void put_dns_name(struct buf *f, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		put_u8(f, (uint8_t)n);
		put_mem(f, name, n);
		name += n + (dot ? 1 : 0);
	}
	put_u8(f, 0);
}

/* Ethernet, 802.1Q, IPv4, UDP, a DNS response with n_a A records. */
static void build_dns_response(struct buf *f, unsigned n_a)
{
	size_t ip, udp;

	f->n = 0;
	put_eth(f, 0x8100);
	put_u16(f, 42);
	put_u16(f, 0x0800);
	ip = put_ip4(f, 17, IP4_B, IP4_A);
	udp = put_udp(f, 53, 40000);
	put_u16(f, 0xbeef);
	put_u16(f, 0x8180);
	put_u16(f, 1);
	put_u16(f, (uint16_t)n_a);
	put_u16(f, 0);
	put_u16(f, 0);
	put_dns_name(f, "www.example.com");
	put_u16(f, 1);
	put_u16(f, 1);
	for (unsigned i = 0; i < n_a; i++) {
		put_u16(f, 0xc00c); /* the question's name */
		put_u16(f, 1);
		put_u16(f, 1);
		put_u32(f, 300 + i);
		put_u16(f, 4);
		put_u8(f, 10);
		put_u8(f, 0);
		put_u8(f, (uint8_t)(i >> 8));
		put_u8(f, (uint8_t)i);
	}
	end_udp(f, udp);
	end_ip4(f, ip);
}

/* Ethernet, IPv6, TCP, an HTTP GET with a Host header. */
static void build_http_get(struct buf *f)
{
	size_t ip;

	f->n = 0;
	put_eth(f, 0x86dd);
	ip = put_ip6(f, 6);
	put_tcp(f, 50000, 80, 0x018);
	put_str(f, "GET /index.html?q=\"x\" HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
	end_ip6(f, ip);
}

/* Ethernet, IPv4, UDP 68 -> 67, a DHCPDISCOVER with a hostname. */
static void build_dhcp_discover(struct buf *f)
{
	size_t ip, udp;

	f->n = 0;
	put_eth(f, 0x0800);
	ip = put_ip4(f, 17, (const uint8_t[4]){ 0 }, (const uint8_t[4]){ 255, 255, 255, 255 });
	udp = put_udp(f, 68, 67);
	put_u8(f, 1); /* op: request */
	put_u8(f, 1);
	put_u8(f, 6);
	put_u8(f, 0);
	put_u32(f, 0xdeadbeef);
	put_fill(f, 0, 20);   /* secs, flags, ciaddr, yiaddr, siaddr, giaddr */
	put_mem(f, MAC_A, 6); /* chaddr */
	put_fill(f, 0, 10 + 64 + 128);
	put_u32(f, 0x63825363);
	put_u8(f, 53);
	put_u8(f, 1);
	put_u8(f, 1);
	put_u8(f, 12);
	put_u8(f, 6);
	put_str(f, "laptop");
	put_u8(f, 255);
	end_udp(f, udp);
	end_ip4(f, ip);
}

/* Ethernet, IPv4, UDP 4789, VXLAN, Ethernet, IPv4, TCP SYN. */
static void build_vxlan(struct buf *f)
{
	size_t ip, udp, ip_in;

	f->n = 0;
	put_eth(f, 0x0800);
	ip = put_ip4(f, 17, IP4_A, IP4_B);
	udp = put_udp(f, 55555, 4789);
	put_u32(f, 0x08000000);
	put_u32(f, 0x00007b00);
	put_eth(f, 0x0800);
	ip_in = put_ip4(f, 6, (const uint8_t[4]){ 10, 0, 0, 3 }, (const uint8_t[4]){ 10, 0, 0, 4 });
	put_tcp(f, 1234, 443, 0x002);
	end_ip4(f, ip_in);
	end_udp(f, udp);
	end_ip4(f, ip);
}

/* ---- Encoding and decoding ----------------------------------------------------- */

static struct wl_packet orig;
static struct wl_wire_record rec;
static char json_a[WL_JSON_PACKET_MAX], json_b[WL_JSON_PACKET_MAX];

/* Fills orig from a frame, the struct poisoned first as in fuzz_dissect.c. */
static void dissect_into(struct wl_packet *pkt, uint64_t seq, int linktype, const uint8_t *frame,
			 size_t caplen, size_t len)
{
	memset(pkt, 0xa5, sizeof(*pkt));
	pkt->seq = seq;
	pkt->ts_sec = 1700000000 + (int64_t)seq;
	pkt->ts_usec = (uint32_t)(seq * 7919 % 1000000);
	pkt->len = (uint32_t)len;
	pkt->caplen = (uint32_t)caplen;
	wl_dissect(pkt, linktype, frame, caplen);
}

static long json_of(const struct wl_packet *pkt, char *out)
{
	long n = wl_json_packet(pkt, out, WL_JSON_PACKET_MAX);

	assert_true(n > 0);
	return n;
}

/* A growing batch: header space first, records appended. */
struct batch {
	uint8_t *b;
	size_t n, cap;
	uint16_t count;
};

static void batch_init(struct batch *bt)
{
	*bt = (struct batch){ .n = WL_WIRE_BATCH_HEADER };
	bt->cap = 4096;
	bt->b = malloc(bt->cap);
	assert_non_null(bt->b);
}

static void batch_add(struct batch *bt, const struct wl_packet *pkt, int linktype,
		      const uint8_t *raw, size_t raw_len)
{
	size_t need = WL_WIRE_RECORD_MAX(raw_len);
	long n;

	if (bt->cap - bt->n < need) {
		bt->cap = bt->n + need + bt->cap;
		bt->b = realloc(bt->b, bt->cap);
		assert_non_null(bt->b);
	}
	n = wl_wire_put_record(bt->b + bt->n, bt->cap - bt->n, pkt, linktype, raw, raw_len);
	assert_true(n >= WL_WIRE_RECORD_FIXED + (long)raw_len);
	assert_true((size_t)n <= need);
	bt->n += (size_t)n;
	assert_true(bt->count < UINT16_MAX);
	bt->count++;
	wl_wire_put_batch_header(bt->b, bt->count, 0);
}

/* The batch as a message: a heap block of exactly its length. */
static uint8_t *batch_finish(struct batch *bt)
{
	uint8_t *msg = malloc(bt->n);

	assert_non_null(msg);
	memcpy(msg, bt->b, bt->n);
	free(bt->b);
	bt->b = NULL;
	return msg;
}

static uint8_t *heap_copy(const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, p, n);
	return c;
}

/* The fields that the JSON does not show, compared directly. */
static void assert_same_hidden_fields(const struct wl_packet *a, const struct wl_packet *b)
{
	assert_int_equal(a->n_vlan, b->n_vlan);
	assert_memory_equal(a->vlan, b->vlan, a->n_vlan * sizeof(a->vlan[0]));
	assert_int_equal(a->n_layers, b->n_layers);
	for (unsigned i = 0; i < a->n_layers; i++) {
		assert_int_equal(a->layers[i].proto, b->layers[i].proto);
		assert_int_equal(a->layers[i].off, b->layers[i].off);
		assert_int_equal(a->layers[i].len, b->layers[i].len);
	}
	assert_int_equal(a->malformed, b->malformed);
	assert_int_equal(a->proto, b->proto);
	if (a->has & WL_PKT_DNS) {
		assert_int_equal(a->dns.flags, b->dns.flags);
		assert_int_equal(a->dns.opcode, b->dns.opcode);
		assert_int_equal(a->dns.qdcount, b->dns.qdcount);
		assert_int_equal(a->dns.ancount, b->dns.ancount);
		assert_int_equal(a->dns.nscount, b->dns.nscount);
		assert_int_equal(a->dns.arcount, b->dns.arcount);
		assert_int_equal(a->dns.answers_total, b->dns.answers_total);
		assert_int_equal(a->dns.n_answers, b->dns.n_answers);
		for (unsigned i = 0; i < a->dns.n_answers; i++)
			assert_int_equal(a->dns.answers[i].class, b->dns.answers[i].class);
	}
	if (a->has & WL_PKT_DHCP)
		assert_int_equal(a->dhcp.xid, b->dhcp.xid);
	if (a->has & WL_PKT_ALPN)
		assert_int_equal(a->tls.alpn_total, b->tls.alpn_total);
}

/* Checks the record just read against the original packet and its bytes. */
static void assert_record_matches(const struct wl_packet *pkt, long json_len, const char *json,
				  int linktype, const uint8_t *raw, size_t raw_len)
{
	long n = json_of(&rec.pkt, json_b);

	assert_int_equal(n, json_len);
	assert_memory_equal(json_b, json, (size_t)n);
	assert_int_equal(rec.linktype, linktype);
	assert_int_equal(rec.raw_len, raw_len);
	assert_int_equal(rec.pkt.caplen, raw_len);
	if (raw_len)
		assert_memory_equal(rec.raw, raw, raw_len);
	assert_same_hidden_fields(pkt, &rec.pkt);
}

/* One packet through a one-record batch and back. */
static void assert_round_trip(const struct wl_packet *pkt, int linktype, const uint8_t *raw,
			      size_t raw_len)
{
	struct batch bt;
	struct wl_wire_reader r;
	uint8_t *msg;
	long n = json_of(pkt, json_a);

	batch_init(&bt);
	batch_add(&bt, pkt, linktype, raw, raw_len);
	size_t len = bt.n;
	msg = batch_finish(&bt);
	assert_int_equal(wl_wire_reader_init(&r, msg, len), 0);
	memset(&rec, 0x5a, sizeof(rec));
	assert_int_equal(wl_wire_next(&r, &rec), 1);
	assert_record_matches(pkt, n, json_a, linktype, raw, raw_len);
	assert_int_equal(wl_wire_next(&r, &rec), 0);
	free(msg);
}

static void dissect_round_trip(int linktype, const struct buf *f)
{
	uint8_t *frame = heap_copy(f->b, f->n);

	dissect_into(&orig, 1, linktype, frame, f->n, f->n);
	assert_round_trip(&orig, linktype, frame, f->n);
	free(frame);
}

/* ---- Round trips of hand-built frames ------------------------------------------ */

static struct buf frame;

static void test_header_bytes(void **state)
{
	static const uint8_t want[WL_WIRE_BATCH_HEADER] = { 0x57, 0x4c, 1, 0, 0, 16, 0x01, 0x02,
							    0, 0x05, 0xfb, 0x38, 0x1a, 0x2b, 0x3c, 0x4d };
	uint8_t got[WL_WIRE_BATCH_HEADER + 4];
	struct wl_wire_reader r;

	memset(got, 0xee, sizeof(got));
	wl_wire_put_batch_header(got, 0x0102, 0x0005fb381a2b3c4dull);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(got[WL_WIRE_BATCH_HEADER], 0xee);
	/* The sent time comes back from the reader. */
	wl_wire_put_batch_header(got, 0, 0x0005fb381a2b3c4dull);
	assert_int_equal(wl_wire_reader_init(&r, got, WL_WIRE_BATCH_HEADER), 0);
	assert_true(r.sent_us == 0x0005fb381a2b3c4dull);
}

/* The documented layout, byte for byte, for a record with only an info section. */
static void test_record_layout(void **state)
{
	static const uint8_t raw[3] = { 0xaa, 0xbb, 0xcc };
	static const uint8_t want[] = {
		0, 0, 0, 45,                   /* record length */
		1, 2, 3, 4, 5, 6, 7, 8,        /* seq */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /* ts_sec -2 */
		0, 0x0f, 0x42, 0x3f,           /* ts_usec 999999 */
		0, 0, 0, 60,                   /* len */
		0, 0, 0, 3,                    /* caplen */
		0, 1,                          /* link type */
		WL_P_UDP, WL_TRUNCATED,
		0xaa, 0xbb, 0xcc,
		WL_SEC_INFO, 0, 0, 2, 'h', 'i',
	};
	uint8_t got[128];

	memset(&orig, 0, sizeof(orig));
	orig.seq = 0x0102030405060708;
	orig.ts_sec = -2;
	orig.ts_usec = 999999;
	orig.len = 60;
	orig.caplen = 3;
	orig.proto = WL_P_UDP;
	orig.malformed = WL_TRUNCATED;
	strcpy(orig.info, "hi");
	assert_int_equal(wl_wire_put_record(got, sizeof(got), &orig, 1, raw, 3), sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	assert_round_trip(&orig, 1, raw, 3);
}

static void test_round_trip_dns_response(void **state)
{
	build_dns_response(&frame, 3);
	dissect_round_trip(WL_LINK_ETHERNET, &frame);
	assert_true(orig.has & WL_PKT_DNS);
	assert_int_equal(orig.dns.n_answers, 3);
	assert_int_equal(orig.n_vlan, 1);
	assert_string_equal(rec.pkt.dns.qname, "www.example.com");
	assert_string_equal(rec.pkt.dns.answers[2].data, "10.0.0.2");
}

/* 40 answers: 32 kept on both sides, the total still says 40. */
static void test_round_trip_dns_answers_bounded(void **state)
{
	build_dns_response(&frame, 40);
	dissect_round_trip(WL_LINK_ETHERNET, &frame);
	assert_int_equal(orig.dns.n_answers, WL_DNS_MAX_ANSWERS);
	assert_int_equal(rec.pkt.dns.n_answers, WL_DNS_MAX_ANSWERS);
	assert_int_equal(rec.pkt.dns.answers_total, 40);
}

static void test_round_trip_http(void **state)
{
	build_http_get(&frame);
	dissect_round_trip(WL_LINK_ETHERNET, &frame);
	assert_true(orig.has & WL_PKT_HTTP);
	assert_string_equal(rec.pkt.http.host, "www.example.com");
	assert_string_equal(rec.pkt.http.method, "GET");
}

static void test_round_trip_dhcp(void **state)
{
	build_dhcp_discover(&frame);
	dissect_round_trip(WL_LINK_ETHERNET, &frame);
	assert_true(orig.has & WL_PKT_DHCP);
	assert_string_equal(rec.pkt.dhcp.hostname, "laptop");
	assert_int_equal(rec.pkt.dhcp.xid, 0xdeadbeef);
}

static void test_round_trip_vxlan_inner(void **state)
{
	build_vxlan(&frame);
	dissect_round_trip(WL_LINK_ETHERNET, &frame);
	assert_true(orig.has & WL_PKT_INNER);
	assert_true(rec.pkt.has & WL_PKT_INNER);
	assert_int_equal(rec.pkt.inner.dport, 443);
}

/* Every cut of the DNS frame: truncated summaries round-trip too. */
static void test_round_trip_every_cut(void **state)
{
	build_dns_response(&frame, 2);
	size_t full = frame.n;

	for (size_t cut = 0; cut <= full; cut++) {
		uint8_t *f = heap_copy(frame.b, cut);

		dissect_into(&orig, cut, WL_LINK_ETHERNET, f, cut, full);
		assert_round_trip(&orig, WL_LINK_ETHERNET, f, cut);
		free(f);
	}
}

/* Link types pass through as 16 bits, including ones wl_dissect() refuses. */
static void test_round_trip_link_types(void **state)
{
	static const int links[] = { WL_LINK_RAW, WL_LINK_IPV4, WL_LINK_SLL, 147, 0xffff };
	size_t ip;

	frame.n = 0;
	ip = put_ip4(&frame, 17, IP4_A, IP4_B);
	end_udp(&frame, put_udp(&frame, 1, 2));
	end_ip4(&frame, ip);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		dissect_round_trip(links[i], &frame);
}

/* A summary with every section at its largest and bytes JSON must escape. */
static void fill_worst_case(struct wl_packet *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->seq = UINT64_MAX;
	pkt->ts_sec = INT64_MIN;
	pkt->ts_usec = 999999;
	pkt->len = UINT32_MAX;
	pkt->flow_id = UINT64_MAX;
	pkt->has = WL_PKT_ETH | WL_PKT_INNER | WL_PKT_DNS | WL_PKT_SNI | WL_PKT_HTTP | WL_PKT_DHCP | WL_PKT_ALPN |
		   WL_PKT_JA3 | WL_PKT_JA3S | WL_PKT_JA4;
	pkt->malformed = WL_INVALID;
	pkt->proto = WL_P__MAX - 1;
	memcpy(pkt->eth_src, MAC_A, 6);
	memcpy(pkt->eth_dst, MAC_B, 6);
	pkt->n_vlan = WL_VLAN_MAX;
	for (unsigned i = 0; i < WL_VLAN_MAX; i++)
		pkt->vlan[i] = (uint16_t)(4095 - i);
	pkt->outer = (struct wl_flow){ .l3 = WL_L3_IPV6, .has = 0x7f, .ipproto = 132,
				       .ethertype = 0x86dd, .sport = 1, .dport = 65535,
				       .tcp_flags = 0xfff };
	pkt->outer.src.family = pkt->outer.dst.family = 6;
	memcpy(pkt->outer.src.b, IP6_A, 16);
	memcpy(pkt->outer.dst.b, IP6_B, 16);
	pkt->inner = (struct wl_flow){ .l3 = WL_L3_OTHER, .has = WL_HAS_SRC | WL_HAS_DST,
				       .ethertype = 0x88cc };
	pkt->inner.src.family = pkt->inner.dst.family = 4;
	memcpy(pkt->inner.src.b, IP4_A, 4);
	memcpy(pkt->inner.dst.b, IP4_B, 4);
	pkt->n_layers = WL_LAYERS_MAX;
	for (unsigned i = 0; i < WL_LAYERS_MAX; i++)
		pkt->layers[i] = (struct wl_layer){ .proto = (uint8_t)i, .off = (uint16_t)i,
						    .len = (uint16_t)(65535 - i) };
	memset(pkt->info, '"', sizeof(pkt->info) - 1);
	pkt->info[5] = '\x01';
	pkt->info[6] = (char)0xe2;
	memset(pkt->sni, '\\', sizeof(pkt->sni) - 1);
	memset(pkt->http.method, 'M', sizeof(pkt->http.method) - 1);
	memset(pkt->http.host, 'h', sizeof(pkt->http.host) - 1);
	memset(pkt->http.path, '\x1f', sizeof(pkt->http.path) - 1);
	pkt->http.status = 599;
	pkt->tls.n_alpn = WL_ALPN_MAX;
	pkt->tls.alpn_total = UINT16_MAX;
	for (unsigned i = 0; i < WL_ALPN_MAX; i++)
		memset(pkt->tls.alpn[i], '"', WL_ALPN_LEN);
	memset(pkt->tls.ja3, 'f', WL_JA3_LEN);
	memset(pkt->tls.ja3s, 'e', WL_JA3_LEN);
	memset(pkt->tls.ja4, '_', WL_JA4_LEN);
	pkt->dhcp = (struct wl_dhcp){ .op = 2, .msg_type = 5, .xid = UINT32_MAX };
	memset(pkt->dhcp.hostname, 'd', sizeof(pkt->dhcp.hostname) - 1);
	pkt->dns.id = 0xffff;
	pkt->dns.flags = 0x8000 | 0x7800 | 0xf;
	pkt->dns.response = true;
	pkt->dns.opcode = 0xf;
	pkt->dns.rcode = 0xf;
	pkt->dns.has_question = true;
	pkt->dns.qtype = 255;
	pkt->dns.qdcount = pkt->dns.ancount = pkt->dns.nscount = pkt->dns.arcount = 0xffff;
	memset(pkt->dns.qname, 'q', sizeof(pkt->dns.qname) - 1);
	pkt->dns.n_answers = WL_DNS_MAX_ANSWERS;
	pkt->dns.answers_total = 0xffff;
	for (unsigned i = 0; i < WL_DNS_MAX_ANSWERS; i++) {
		struct wl_dns_rr *rr = &pkt->dns.answers[i];

		rr->section = (uint8_t)(i % 3);
		rr->type = (uint16_t)i;
		rr->class = 0xffff;
		rr->ttl = UINT32_MAX - i;
		memset(rr->name, 'a' + (int)(i % 26), sizeof(rr->name) - 1);
		memset(rr->data, '\x7f', sizeof(rr->data) - 1);
	}
}

static void test_round_trip_worst_case(void **state)
{
	uint8_t raw[1500];

	memset(raw, 0x42, sizeof(raw));
	fill_worst_case(&orig);
	orig.caplen = sizeof(raw);
	assert_round_trip(&orig, WL_LINK_ETHERNET, raw, sizeof(raw));
	assert_string_equal(rec.pkt.sni, orig.sni);
	assert_string_equal(rec.pkt.dns.answers[31].name, orig.dns.answers[31].name);
	assert_string_equal(rec.pkt.http.path, orig.http.path);
	assert_true(rec.pkt.flow_id == UINT64_MAX);
}

/*
 * The TLS fields: the ALPN list (with the count of names listed) and the
 * fingerprints, in the JSON as the README shows them; a record after it
 * without them reads none.
 */
static void test_round_trip_tls(void **state)
{
	static const char want[] = "\"sni\":\"example.com\",\"alpn\":[\"h2\",\"http/1.1\"],"
				   "\"ja3\":\"c000e2caf3a25423f9de6c8a4b12a975\","
				   "\"ja3s\":\"f4febc55ea12b31ae17cfb7e614afda8\","
				   "\"ja4\":\"t13d1516h2_8daaf6152771_e5627efa2ab1\"";
	uint8_t raw[64] = { 0 };
	uint8_t b[8192];
	struct wl_wire_reader r;
	long n;
	size_t off = WL_WIRE_BATCH_HEADER;

	memset(&orig, 0, sizeof(orig));
	orig.len = orig.caplen = sizeof(raw);
	orig.proto = WL_P_TLS;
	orig.has = WL_PKT_SNI | WL_PKT_ALPN | WL_PKT_JA3 | WL_PKT_JA3S | WL_PKT_JA4;
	strcpy(orig.sni, "example.com");
	orig.tls.n_alpn = 2;
	orig.tls.alpn_total = 3;
	strcpy(orig.tls.alpn[0], "h2");
	strcpy(orig.tls.alpn[1], "http/1.1");
	strcpy(orig.tls.ja3, "c000e2caf3a25423f9de6c8a4b12a975");
	strcpy(orig.tls.ja3s, "f4febc55ea12b31ae17cfb7e614afda8");
	strcpy(orig.tls.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	n = json_of(&orig, json_a);
	json_a[n] = '\0';
	assert_non_null(strstr(json_a, want));
	assert_round_trip(&orig, WL_LINK_ETHERNET, raw, sizeof(raw));
	assert_int_equal(rec.pkt.tls.alpn_total, 3);
	for (unsigned i = 0; i < 2; i++) {
		n = wl_wire_put_record(b + off, sizeof(b) - off, &orig, WL_LINK_ETHERNET, raw, sizeof(raw));
		assert_true(n > 0);
		off += (size_t)n;
		orig.has = 0;
	}
	wl_wire_put_batch_header(b, 2, 1);
	assert_int_equal(wl_wire_reader_init(&r, b, off), 0);
	assert_int_equal(wl_wire_next(&r, &rec), 1);
	assert_int_equal(wl_wire_next(&r, &rec), 1);
	assert_false(rec.pkt.has & (WL_PKT_SNI | WL_PKT_ALPN | WL_PKT_JA3 | WL_PKT_JA3S | WL_PKT_JA4));
}

/* A packet's flow id travels; the next record without one reads 0, not the last id. */
static void test_round_trip_flow_id(void **state)
{
	uint8_t raw[64] = { 0 };
	uint8_t b[4096];
	struct wl_wire_reader r;
	struct wl_packet pkt;
	long n;
	size_t off = WL_WIRE_BATCH_HEADER;

	memset(&pkt, 0, sizeof(pkt));
	pkt.len = pkt.caplen = sizeof(raw);
	for (unsigned i = 0; i < 2; i++) {
		pkt.seq = i + 1;
		pkt.flow_id = i == 0 ? 0x123456789abcdefULL : 0;
		n = wl_wire_put_record(b + off, sizeof(b) - off, &pkt, WL_LINK_ETHERNET, raw, sizeof(raw));
		assert_true(n > 0);
		off += (size_t)n;
	}
	wl_wire_put_batch_header(b, 2, 1);
	assert_int_equal(wl_wire_reader_init(&r, b, off), 0);
	assert_int_equal(wl_wire_next(&r, &rec), 1);
	assert_true(rec.pkt.flow_id == 0x123456789abcdefULL);
	assert_int_equal(wl_wire_next(&r, &rec), 1);
	assert_true(rec.pkt.flow_id == 0);
	assert_int_equal(wl_wire_next(&r, &rec), 0);
}

/* ---- Round trips of real captures ---------------------------------------------- */

#ifndef WL_CORPUS_DIR
#define WL_CORPUS_DIR ""
#endif

/* What the captures below were picked for: each must show up at least once. */
static const char *const corpus_files[] = {
	"dns_udp.pcap",                 /* DNS A and AAAA answers */
	"dnssec.pcap",                  /* DNS with many record types */
	"zeek-dns__long-connection.pcap",
	"zeek-tls__tls13draft16-ff52.a01-aborted.pcap", /* TLS SNI */
	"ipv4_tcp_http_xml.pcap",       /* HTTP */
	"zeek-dhcp__dhcp_discover_param_req_and_client_id.pcap", /* DHCP */
	"802.1ad_QinQ.pcap",            /* two VLAN tags */
	"zeek-tunnels__vxlan.pcap",     /* VXLAN: an inner flow */
	"zeek-tunnels__geneve-ipv6.pcap",
	"erspan-type-ii-1.pcap",        /* GRE */
	"RADIUS-RFC4675.pcap",          /* Linux SLL */
	"dns-badcookie.pcap",           /* BSD NULL */
	"babel_rtt.pcap",               /* raw IP */
	"LINKTYPE_IPV6_invalid.pcap",   /* malformed */
	"bootp_asan.pcap",              /* a fuzzer reproducer */
};

struct capture {
	uint8_t *data;
	size_t len;
	int linktype;
	bool swap, nsec;
	size_t off; /* of the next record header */
};

static uint32_t cap_u32(const struct capture *c, size_t at)
{
	const uint8_t *p = c->data + at;
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 24;

	return c->swap ? __builtin_bswap32(v) : v;
}

static bool corpus_present(void)
{
	struct stat st;

	return WL_CORPUS_DIR[0] && stat(WL_CORPUS_DIR, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads a classic pcap file whole; fails the test if it is not one. */
static void capture_open(struct capture *c, const char *name)
{
	char path[4096];
	FILE *f;
	long size;
	uint32_t magic;

	snprintf(path, sizeof(path), "%s/%s", WL_CORPUS_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 24 && size < (64l << 20));
	rewind(f);
	*c = (struct capture){ .len = (size_t)size, .off = 24 };
	c->data = malloc(c->len);
	assert_non_null(c->data);
	assert_int_equal(fread(c->data, 1, c->len, f), c->len);
	fclose(f);

	magic = cap_u32(c, 0);
	if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
		c->swap = true;
		magic = __builtin_bswap32(magic);
	}
	assert_true(magic == 0xa1b2c3d4 || magic == 0xa1b23c4d);
	c->nsec = magic == 0xa1b23c4d;
	c->linktype = (int)(cap_u32(c, 20) & 0xffff);
}

/* The next packet, or false at the end (or where the file stops making sense). */
static bool capture_next(struct capture *c, const uint8_t **data, uint32_t *caplen,
			 uint32_t *len, int64_t *sec, uint32_t *usec)
{
	if (c->len - c->off < 16)
		return false;
	*sec = cap_u32(c, c->off);
	*usec = cap_u32(c, c->off + 4);
	*caplen = cap_u32(c, c->off + 8);
	*len = cap_u32(c, c->off + 12);
	if (c->nsec)
		*usec /= 1000;
	c->off += 16;
	if (*caplen > c->len - c->off)
		return false;
	*data = c->data + c->off;
	c->off += *caplen;
	return true;
}

/* What the whole set of captures exercised: the sections each must reach. */
struct seen {
	uint32_t has;
	unsigned max_vlan, max_answers, packets, malformed;
};

/*
 * All packets of one capture into one batch, then decoded in order: each
 * record's JSON must equal its original's, its bytes the captured bytes.
 */
static void round_trip_capture(const char *name, struct seen *seen)
{
	struct capture cap;
	struct batch bt;
	struct wl_wire_reader r;
	const uint8_t *data;
	uint32_t caplen, len, usec;
	int64_t sec;
	char **jsons = NULL;
	const uint8_t **raws = NULL;
	uint32_t *raw_lens = NULL;
	unsigned n = 0;

	capture_open(&cap, name);
	batch_init(&bt);
	while (capture_next(&cap, &data, &caplen, &len, &sec, &usec)) {
		jsons = realloc(jsons, (n + 1) * sizeof(*jsons));
		raws = realloc(raws, (n + 1) * sizeof(*raws));
		raw_lens = realloc(raw_lens, (n + 1) * sizeof(*raw_lens));
		assert_true(jsons && raws && raw_lens);

		uint8_t *frame_copy = heap_copy(data, caplen);

		memset(&orig, 0xa5, sizeof(orig));
		orig.seq = n;
		orig.ts_sec = sec;
		orig.ts_usec = usec % 1000000;
		orig.len = len;
		orig.caplen = caplen;
		wl_dissect(&orig, cap.linktype, frame_copy, caplen);
		free(frame_copy);

		long jn = json_of(&orig, json_a);

		jsons[n] = (char *)heap_copy(json_a, (size_t)jn + 1);
		jsons[n][jn] = '\0';
		raws[n] = data;
		raw_lens[n] = caplen;
		batch_add(&bt, &orig, cap.linktype, data, caplen);
		seen->has |= orig.has;
		if (orig.n_vlan > seen->max_vlan)
			seen->max_vlan = orig.n_vlan;
		if ((orig.has & WL_PKT_DNS) && orig.dns.n_answers > seen->max_answers)
			seen->max_answers = orig.dns.n_answers;
		seen->malformed += orig.malformed != WL_OK;
		n++;
	}
	assert_true(n > 0);
	assert_int_equal(bt.count, n);

	size_t msg_len = bt.n;
	uint8_t *msg = batch_finish(&bt);
	unsigned got = 0;
	int ret;

	assert_int_equal(wl_wire_reader_init(&r, msg, msg_len), 0);
	while ((ret = wl_wire_next(&r, &rec)) == 1) {
		assert_true(got < n);
		assert_int_equal(rec.pkt.seq, got);
		long jn = json_of(&rec.pkt, json_b);

		assert_int_equal(jn, strlen(jsons[got]));
		assert_memory_equal(json_b, jsons[got], (size_t)jn);
		assert_int_equal(rec.linktype, cap.linktype);
		assert_int_equal(rec.raw_len, raw_lens[got]);
		assert_int_equal(rec.pkt.caplen, raw_lens[got]);
		assert_memory_equal(rec.raw, raws[got], raw_lens[got]);
		free(jsons[got]);
		got++;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(got, n);
	seen->packets += n;
	free(jsons);
	free(raws);
	free(raw_lens);
	free(msg);
	free(cap.data);
}

static void test_round_trip_corpus(void **state)
{
	struct seen seen = { 0 };

	if (!corpus_present())
		skip();
	for (size_t i = 0; i < sizeof(corpus_files) / sizeof(corpus_files[0]); i++)
		round_trip_capture(corpus_files[i], &seen);

	/* The captures must have reached every kind of section. */
	assert_true(seen.has & WL_PKT_ETH);
	assert_true(seen.has & WL_PKT_DNS);
	assert_true(seen.has & WL_PKT_SNI);
	assert_true(seen.has & WL_PKT_HTTP);
	assert_true(seen.has & WL_PKT_DHCP);
	assert_true(seen.has & WL_PKT_INNER);
	assert_true(seen.max_vlan >= 2);
	assert_true(seen.max_answers >= 4);
	assert_true(seen.malformed > 0);
	assert_true(seen.packets > 50);
}

/* ---- Hostile batches ------------------------------------------------------------- */

static struct buf msg;

static void msg_header(uint16_t count)
{
	msg.n = 0;
	put_u16(&msg, WL_WIRE_MAGIC);
	put_u8(&msg, WL_WIRE_VERSION);
	put_u8(&msg, 0);
	put_u16(&msg, WL_WIRE_BATCH_HEADER);
	put_u16(&msg, count);
	put_u64(&msg, 0);
}

/* The fixed part of a record and raw bytes; rec_end() patches its length. */
static size_t rec_begin(uint32_t caplen)
{
	size_t at = msg.n;

	put_u32(&msg, 0);
	put_u64(&msg, 7);
	put_u64(&msg, 1700000000);
	put_u32(&msg, 5);
	put_u32(&msg, caplen);
	put_u32(&msg, caplen);
	put_u16(&msg, WL_LINK_ETHERNET);
	put_u8(&msg, WL_P_UDP);
	put_u8(&msg, WL_OK);
	put_fill(&msg, 0x11, caplen);
	return at;
}

static void rec_end(size_t at)
{
	set_u32(&msg, at, (uint32_t)(msg.n - at));
}

static void sec_put(uint8_t type, const void *value, size_t n)
{
	put_u8(&msg, type);
	put_u8(&msg, 0);
	put_u16(&msg, (uint16_t)n);
	put_mem(&msg, value, n);
}

/* A flow section: IPv4 UDP 1 -> 2, with family as given. */
static void sec_flow(uint8_t type, uint8_t l3, uint8_t family, size_t addr_bytes)
{
	struct buf v = { .n = 0 };

	put_u8(&v, l3);
	put_u8(&v, WL_HAS_SRC | WL_HAS_DST | WL_HAS_SPORT | WL_HAS_DPORT);
	put_u8(&v, 17);
	put_u8(&v, family);
	put_u16(&v, 0x0800);
	put_u16(&v, 1);
	put_u16(&v, 2);
	put_u16(&v, 0);
	put_fill(&v, 9, addr_bytes);
	sec_put(type, v.b, v.n);
}

static void sec_dns(const char *qname)
{
	struct buf v = { .n = 0 };

	put_u16(&v, 0x1234);
	put_u16(&v, 0x8180);
	put_u8(&v, 0);
	put_u8(&v, 0);
	put_u8(&v, 1);
	put_u16(&v, 1);
	put_u16(&v, 1);
	put_u16(&v, 1);
	put_u16(&v, 0);
	put_u16(&v, 0);
	put_u16(&v, 1);
	put_str(&v, qname);
	sec_put(WL_SEC_DNS, v.b, v.n);
}

static void sec_dns_rr(uint32_t ttl, const char *name, bool nul, const char *data)
{
	struct buf v = { .n = 0 };

	put_u8(&v, WL_DNS_AN);
	put_u16(&v, 1);
	put_u16(&v, 1);
	put_u32(&v, ttl);
	put_str(&v, name);
	if (nul)
		put_u8(&v, 0);
	put_str(&v, data);
	sec_put(WL_SEC_DNS_RR, v.b, v.n);
}

/* A one-record batch with the given extra sections appended by the caller. */
static size_t msg_one_record(void)
{
	msg_header(1);
	return rec_begin(4);
}

/* Decodes msg from an exact heap copy: the first wl_wire_next() result. */
static int decode_first(void)
{
	struct wl_wire_reader r;
	uint8_t *m = heap_copy(msg.b, msg.n);
	int ret = wl_wire_reader_init(&r, m, msg.n);

	if (ret == 0) {
		memset(&rec, 0x5a, sizeof(rec));
		ret = wl_wire_next(&r, &rec);
	}
	free(m);
	return ret;
}

/* Decodes all of msg: the number of records read, and the last result. */
static unsigned decode_all(int *last)
{
	struct wl_wire_reader r;
	uint8_t *m = heap_copy(msg.b, msg.n);
	unsigned n = 0;
	int ret = wl_wire_reader_init(&r, m, msg.n);

	if (ret == 0)
		while ((ret = wl_wire_next(&r, &rec)) == 1)
			n++;
	*last = ret;
	free(m);
	return n;
}

static int init_only(size_t len)
{
	struct wl_wire_reader r;
	uint8_t *m = heap_copy(msg.b, len);
	int ret = wl_wire_reader_init(&r, m, len);

	free(m);
	return ret;
}

static void test_reader_empty_message(void **state)
{
	msg_header(0);
	assert_int_equal(init_only(0), -EBADMSG);
}

static void test_reader_short_header(void **state)
{
	msg_header(0);
	for (size_t len = 1; len < WL_WIRE_BATCH_HEADER; len++)
		assert_int_equal(init_only(len), -EBADMSG);
	assert_int_equal(init_only(WL_WIRE_BATCH_HEADER), 0);
}

static void test_reader_empty_batch(void **state)
{
	int last;

	msg_header(0);
	assert_int_equal(decode_all(&last), 0);
	assert_int_equal(last, 0);
}

static void test_reader_wrong_magic(void **state)
{
	msg_header(0);
	msg.b[0] = 'L';
	msg.b[1] = 'W';
	assert_int_equal(init_only(msg.n), -EBADMSG);
}

static void test_reader_other_version(void **state)
{
	msg_header(0);
	msg.b[2] = WL_WIRE_VERSION + 1;
	assert_int_equal(init_only(msg.n), -EPROTO);
	msg.b[2] = 0;
	assert_int_equal(init_only(msg.n), -EPROTO);
}

static void test_reader_header_length_past_end(void **state)
{
	msg_header(0);
	set_u16(&msg, 4, (uint16_t)(msg.n + 1));
	assert_int_equal(init_only(msg.n), -EBADMSG);
	set_u16(&msg, 4, 0xffff);
	assert_int_equal(init_only(msg.n), -EBADMSG);
}

static void test_reader_header_length_below_16(void **state)
{
	msg_header(0);
	set_u16(&msg, 4, WL_WIRE_BATCH_HEADER - 1);
	assert_int_equal(init_only(msg.n), -EBADMSG);
	set_u16(&msg, 4, 0);
	assert_int_equal(init_only(msg.n), -EBADMSG);
}

/* A longer header (a later minor revision) is skipped up to its length. */
static void test_reader_longer_header_skipped(void **state)
{
	msg_header(1);
	set_u16(&msg, 4, WL_WIRE_BATCH_HEADER + 8);
	put_fill(&msg, 0xff, 8);
	rec_end(rec_begin(2));
	assert_int_equal(decode_first(), 1);
	assert_int_equal(rec.pkt.seq, 7);
	assert_int_equal(rec.raw_len, 2);
}

static void test_reader_count_past_records(void **state)
{
	int last;

	msg_header(3);
	rec_end(rec_begin(4));
	rec_end(rec_begin(0));
	assert_int_equal(decode_all(&last), 2);
	assert_int_equal(last, -EBADMSG);
}

static void test_reader_bytes_after_last_record(void **state)
{
	int last;

	msg_header(1);
	rec_end(rec_begin(4));
	put_u8(&msg, 0);
	assert_int_equal(decode_all(&last), 1);
	assert_int_equal(last, -EBADMSG);
}

static void test_reader_record_length_below_fixed(void **state)
{
	static const uint32_t lens[] = { 0, 4, WL_WIRE_RECORD_FIXED - 1 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t at = msg_one_record();

		rec_end(at);
		set_u32(&msg, at, lens[i]);
		assert_int_equal(decode_first(), -EBADMSG);
	}
}

static void test_reader_record_length_past_end(void **state)
{
	size_t at = msg_one_record();

	rec_end(at);
	set_u32(&msg, at, (uint32_t)(msg.n - at + 1));
	assert_int_equal(decode_first(), -EBADMSG);
	set_u32(&msg, at, UINT32_MAX);
	assert_int_equal(decode_first(), -EBADMSG);
}

static void test_reader_record_header_cut(void **state)
{
	msg_header(1);
	put_u16(&msg, 0);
	assert_int_equal(decode_first(), -EBADMSG);
}

/* The raw bytes run past the record into the next one: refused. */
static void test_reader_caplen_past_record(void **state)
{
	size_t at;

	msg_header(2);
	at = rec_begin(4);
	rec_end(at);
	set_u32(&msg, at + 28, 5);
	rec_end(rec_begin(4));
	assert_int_equal(decode_first(), -EBADMSG);
	set_u32(&msg, at + 28, UINT32_MAX);
	assert_int_equal(decode_first(), -EBADMSG);
}

/* A section that runs past its record into the next one: refused. */
static void test_reader_section_length_past_record(void **state)
{
	size_t at;

	msg_header(2);
	at = rec_begin(0);
	sec_put(WL_SEC_INFO, "abc", 3);
	rec_end(at);
	set_u16(&msg, msg.n - 5, 4);
	rec_end(rec_begin(0));
	assert_int_equal(decode_first(), -EBADMSG);
}

static void test_reader_section_header_cut(void **state)
{
	for (size_t extra = 1; extra < 4; extra++) {
		size_t at = msg_one_record();

		put_fill(&msg, WL_SEC_INFO, extra);
		rec_end(at);
		assert_int_equal(decode_first(), -EBADMSG);
	}
}

static void test_reader_bad_fixed_fields(void **state)
{
	size_t at = msg_one_record();

	rec_end(at);
	assert_int_equal(decode_first(), 1);
	msg.b[at + 34] = WL_P__MAX;
	assert_int_equal(decode_first(), -EBADMSG);
	msg.b[at + 34] = WL_P_UDP;
	msg.b[at + 35] = WL_INVALID + 1;
	assert_int_equal(decode_first(), -EBADMSG);
	msg.b[at + 35] = WL_OK;
	set_u32(&msg, at + 20, 1000000);
	assert_int_equal(decode_first(), -EBADMSG);
	set_u32(&msg, at + 20, 999999);
	assert_int_equal(decode_first(), 1);
}

/* Unknown types are skipped, and the sections after them still apply. */
static void test_reader_unknown_section_skipped(void **state)
{
	size_t at = msg_one_record();

	sec_put(200, "\x00\x01\x02zzz", 6);
	sec_put(0, "", 0);
	sec_put(WL_SEC_INFO, "after", 5);
	rec_end(at);
	assert_int_equal(decode_first(), 1);
	assert_string_equal(rec.pkt.info, "after");
	assert_int_equal(rec.pkt.has, 0);
}

static void test_reader_dns_rr_without_dns(void **state)
{
	size_t at = msg_one_record();

	sec_dns_rr(1, "a.example", true, "10.0.0.1");
	sec_dns("a.example");
	rec_end(at);
	assert_int_equal(decode_first(), -EBADMSG);
}

static void test_reader_dns_rr_after_dns(void **state)
{
	size_t at = msg_one_record();

	sec_dns("a.example");
	sec_dns_rr(1, "a.example", true, "10.0.0.1");
	rec_end(at);
	assert_int_equal(decode_first(), 1);
	assert_true(rec.pkt.has & WL_PKT_DNS);
	assert_int_equal(rec.pkt.dns.n_answers, 1);
	assert_string_equal(rec.pkt.dns.answers[0].data, "10.0.0.1");
	assert_true(rec.pkt.dns.response);
}

/* The DNS state of one record does not leak into the next. */
static void test_reader_dns_rr_in_next_record(void **state)
{
	int last;
	size_t at;

	msg_header(2);
	at = rec_begin(0);
	sec_dns("a.example");
	rec_end(at);
	at = rec_begin(0);
	sec_dns_rr(1, "a.example", true, "10.0.0.1");
	rec_end(at);
	assert_int_equal(decode_all(&last), 1);
	assert_int_equal(last, -EBADMSG);
}

static void test_reader_flow_bad_family(void **state)
{
	static const uint8_t families[] = { 1, 5, 255 };

	for (size_t i = 0; i < sizeof(families); i++) {
		size_t at = msg_one_record();

		sec_flow(WL_SEC_OUTER, WL_L3_IPV4, families[i], 8);
		rec_end(at);
		assert_int_equal(decode_first(), -EBADMSG);
	}
}

static void test_reader_flow_addresses_cut(void **state)
{
	size_t at = msg_one_record();

	sec_flow(WL_SEC_INNER, WL_L3_IPV6, 6, 31);
	rec_end(at);
	assert_int_equal(decode_first(), -EBADMSG);
}

static void test_reader_flow_bad_l3(void **state)
{
	size_t at = msg_one_record();

	sec_flow(WL_SEC_OUTER, WL_L3_OTHER + 1, 4, 8);
	rec_end(at);
	assert_int_equal(decode_first(), -EBADMSG);
}

static void test_reader_flow_ipv6(void **state)
{
	char text[64];
	size_t at = msg_one_record();

	sec_flow(WL_SEC_OUTER, WL_L3_IPV6, 6, 32);
	rec_end(at);
	assert_int_equal(decode_first(), 1);
	assert_int_equal(rec.pkt.outer.src.family, 6);
	assert_int_equal(rec.pkt.outer.dst.family, 6);
	assert_string_equal(wl_addr_str(&rec.pkt.outer.dst, text, sizeof(text)),
			    "909:909:909:909:909:909:909:909");
}

static void test_reader_short_fixed_sections(void **state)
{
	static const uint8_t types[] = { WL_SEC_ETH, WL_SEC_OUTER, WL_SEC_INNER, WL_SEC_HTTP,
					 WL_SEC_DHCP, WL_SEC_DNS };

	for (size_t i = 0; i < sizeof(types); i++) {
		size_t at = msg_one_record();

		sec_put(types[i], "\x01\x02", 2);
		rec_end(at);
		assert_int_equal(decode_first(), -EBADMSG);
	}
}

static void assert_terminated(const char *s, size_t size, size_t want_len, char fill)
{
	const char *nul = memchr(s, '\0', size);

	assert_non_null(nul);
	assert_int_equal((size_t)(nul - s), want_len);
	for (size_t i = 0; i < want_len; i++)
		assert_int_equal(s[i], fill);
}

/* Text longer than its array and without a NUL is cut and terminated. */
static void test_reader_long_text_cut(void **state)
{
	char big[600];
	size_t at = msg_one_record();

	memset(big, 'x', sizeof(big));
	sec_put(WL_SEC_INFO, big, sizeof(big));
	sec_put(WL_SEC_SNI, big, sizeof(big));
	big[0] = 0; /* request */
	big[1] = 0;
	big[2] = (char)200;
	sec_put(WL_SEC_HTTP, big, 3 + 40); /* a method of 40 bytes, no NUL */
	rec_end(at);
	assert_int_equal(decode_first(), 1);
	assert_terminated(rec.pkt.info, sizeof(rec.pkt.info), WL_INFO_MAX - 1, 'x');
	assert_terminated(rec.pkt.sni, sizeof(rec.pkt.sni), WL_NAME_MAX - 1, 'x');
	assert_terminated(rec.pkt.http.method, sizeof(rec.pkt.http.method), 15, 'x');
	assert_terminated(rec.pkt.http.host, sizeof(rec.pkt.http.host), 0, 0);
	assert_terminated(rec.pkt.http.path, sizeof(rec.pkt.http.path), 0, 0);
	assert_int_equal(rec.pkt.http.status, 200);
}

static void test_reader_dns_text_without_nul(void **state)
{
	char big[400];
	size_t at = msg_one_record();

	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sec_dns(big);
	sec_dns_rr(5, big, false, "");
	rec_end(at);
	assert_int_equal(decode_first(), 1);
	assert_terminated(rec.pkt.dns.qname, sizeof(rec.pkt.dns.qname), WL_NAME_MAX - 1, 'n');
	assert_int_equal(rec.pkt.dns.n_answers, 1);
	assert_terminated(rec.pkt.dns.answers[0].name, WL_NAME_MAX, WL_NAME_MAX - 1, 'n');
	assert_terminated(rec.pkt.dns.answers[0].data, WL_DNS_DATA_MAX, 0, 0);
}

static void test_reader_dhcp_hostname_without_nul(void **state)
{
	char v[6 + 300];
	size_t at = msg_one_record();

	memset(v, 'h', sizeof(v));
	v[0] = 1;
	v[1] = 3;
	sec_put(WL_SEC_DHCP, v, sizeof(v));
	rec_end(at);
	assert_int_equal(decode_first(), 1);
	assert_terminated(rec.pkt.dhcp.hostname, WL_NAME_MAX, WL_NAME_MAX - 1, 'h');
	assert_int_equal(rec.pkt.dhcp.msg_type, 3);
}

/* More RR sections than WL_DNS_MAX_ANSWERS: the first ones kept, in order. */
static void test_reader_too_many_rrs_bounded(void **state)
{
	size_t at = msg_one_record();

	sec_dns("a.example");
	for (unsigned i = 0; i < WL_DNS_MAX_ANSWERS + 40; i++)
		sec_dns_rr(i, "a.example", true, "d");
	sec_put(WL_SEC_INFO, "end", 3);
	rec_end(at);
	assert_int_equal(decode_first(), 1);
	assert_int_equal(rec.pkt.dns.n_answers, WL_DNS_MAX_ANSWERS);
	for (unsigned i = 0; i < WL_DNS_MAX_ANSWERS; i++)
		assert_int_equal(rec.pkt.dns.answers[i].ttl, i);
	assert_string_equal(rec.pkt.info, "end");
	assert_true(json_of(&rec.pkt, json_b) > 0);
}

static void test_reader_vlan_and_layers_bounded(void **state)
{
	uint8_t v[5 * (WL_LAYERS_MAX + 4)];
	size_t at = msg_one_record();

	memset(v, 1, sizeof(v));
	sec_put(WL_SEC_VLAN, v, 2 * (WL_VLAN_MAX + 4) + 1);
	sec_put(WL_SEC_LAYERS, v, sizeof(v));
	rec_end(at);
	assert_int_equal(decode_first(), 1);
	assert_int_equal(rec.pkt.n_vlan, WL_VLAN_MAX);
	assert_int_equal(rec.pkt.n_layers, WL_LAYERS_MAX);
	assert_int_equal(rec.pkt.vlan[WL_VLAN_MAX - 1], 0x0101);
}

static void test_reader_layer_bad_proto(void **state)
{
	uint8_t v[5] = { WL_P__MAX, 0, 0, 0, 1 };
	size_t at = msg_one_record();

	sec_put(WL_SEC_LAYERS, v, sizeof(v));
	rec_end(at);
	assert_int_equal(decode_first(), -EBADMSG);
}

static void test_reader_rr_bad_section(void **state)
{
	size_t at = msg_one_record();

	sec_dns("a.example");
	sec_put(WL_SEC_DNS_RR, "\x03\x00\x01\x00\x01\x00\x00\x00\x01x", 10);
	rec_end(at);
	assert_int_equal(decode_first(), -EBADMSG);
}

/* Every prefix of a valid batch: refused somewhere, never read past its end. */
static void test_reader_every_prefix(void **state)
{
	struct batch bt;
	uint8_t *full;
	size_t full_len;

	batch_init(&bt);
	build_dns_response(&frame, 3);
	dissect_into(&orig, 1, WL_LINK_ETHERNET, frame.b, frame.n, frame.n);
	batch_add(&bt, &orig, WL_LINK_ETHERNET, frame.b, frame.n);
	build_http_get(&frame);
	dissect_into(&orig, 2, WL_LINK_ETHERNET, frame.b, frame.n, frame.n);
	batch_add(&bt, &orig, WL_LINK_ETHERNET, frame.b, frame.n);
	build_vxlan(&frame);
	dissect_into(&orig, 3, WL_LINK_ETHERNET, frame.b, frame.n, frame.n);
	batch_add(&bt, &orig, WL_LINK_ETHERNET, frame.b, frame.n);
	full_len = bt.n;
	full = batch_finish(&bt);

	for (size_t len = 0; len <= full_len; len++) {
		struct wl_wire_reader r;
		uint8_t *m = heap_copy(full, len);
		unsigned n = 0;
		int ret = wl_wire_reader_init(&r, m, len);

		if (ret == 0)
			while ((ret = wl_wire_next(&r, &rec)) == 1) {
				assert_true(json_of(&rec.pkt, json_b) > 0);
				n++;
			}
		if (len < full_len) {
			assert_int_equal(ret, -EBADMSG);
			assert_true(n < 3);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(n, 3);
		}
		free(m);
	}
	free(full);
}

/* ---- The encoder's bounds --------------------------------------------------------- */

#define GUARD 64

static void assert_enobufs_below_size(const struct wl_packet *pkt, const uint8_t *raw,
				      size_t raw_len)
{
	size_t cap = WL_WIRE_RECORD_MAX(raw_len) + GUARD;
	uint8_t *want = malloc(cap), *b = malloc(cap);
	long need;

	assert_true(want && b);
	need = wl_wire_put_record(want, cap, pkt, WL_LINK_ETHERNET, raw, raw_len);
	assert_true(need > WL_WIRE_RECORD_FIXED);

	for (size_t size = 0; size <= (size_t)need; size++) {
		memset(b, 0xcc, size + GUARD);
		long got = wl_wire_put_record(b, size, pkt, WL_LINK_ETHERNET, raw, raw_len);

		if (size < (size_t)need)
			assert_int_equal(got, -ENOBUFS);
		else {
			assert_int_equal(got, need);
			assert_memory_equal(b, want, (size_t)need);
		}
		for (size_t i = size; i < size + GUARD; i++)
			assert_int_equal(b[i], 0xcc);
	}
	/* And into a heap block of exactly the size, for ASan. */
	for (size_t size = 0; size <= (size_t)need; size += 1 + size / 8) {
		uint8_t *exact = malloc(size ? size : 1);

		assert_non_null(exact);
		assert_int_equal(wl_wire_put_record(exact, size, pkt, WL_LINK_ETHERNET, raw, raw_len),
				 size < (size_t)need ? -ENOBUFS : need);
		free(exact);
	}
	free(want);
	free(b);
}

static void test_put_record_enobufs_dns(void **state)
{
	build_dns_response(&frame, 5);
	dissect_into(&orig, 1, WL_LINK_ETHERNET, frame.b, frame.n, frame.n);
	assert_enobufs_below_size(&orig, frame.b, frame.n);
}

static void test_put_record_enobufs_worst_case(void **state)
{
	uint8_t raw[64];

	memset(raw, 0x42, sizeof(raw));
	fill_worst_case(&orig);
	assert_enobufs_below_size(&orig, raw, sizeof(raw));
}

/* The largest summary fits the room the header promises. */
static void test_put_record_worst_case_fits_max(void **state)
{
	uint8_t raw[1];
	size_t cap = WL_WIRE_RECORD_MAX(0) * 2;
	uint8_t *b = malloc(cap);
	long n;

	assert_non_null(b);
	fill_worst_case(&orig);
	n = wl_wire_put_record(b, cap, &orig, WL_LINK_ETHERNET, raw, 0);
	assert_true(n > 0);
	assert_true((size_t)n <= WL_WIRE_RECORD_MAX(0));
	free(b);
}

/*
 * An empty capture may come without a buffer: no bytes are read from raw, so
 * raw == NULL must be fine. (wire.c passes it to memcpy(), which UBSan flags
 * with halt_on_error=1, as scripts/test runs it.)
 */
static void test_put_record_empty_raw_null(void **state)
{
	uint8_t b[256];
	long n;

	memset(&orig, 0, sizeof(orig));
	strcpy(orig.info, "empty");
	n = wl_wire_put_record(b, sizeof(b), &orig, WL_LINK_ETHERNET, NULL, 0);
	assert_int_equal(n, WL_WIRE_RECORD_FIXED + 4 + 5);
	assert_round_trip(&orig, WL_LINK_ETHERNET, NULL, 0);
}

/* ---- Seeds for tests/fuzz/corpus/wire/ ---------------------------------------------- */

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "test-wire: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

/* One batch per hand-built frame, and one of the first packets of some captures. */
static int write_seeds(const char *dir)
{
	static const char *const captures[] = {
		"dns_udp.pcap", "dnssec.pcap", "zeek-tls__tls13draft16-ff52.a01-aborted.pcap",
		"ipv4_tcp_http_xml.pcap", "zeek-dhcp__dhcp_discover_param_req_and_client_id.pcap",
		"802.1ad_QinQ.pcap", "zeek-tunnels__vxlan.pcap", "RADIUS-RFC4675.pcap",
		"LINKTYPE_IPV6_invalid.pcap",
	};
	struct batch bt;
	int err = 0;

	for (int kind = 0; kind < 5; kind++) {
		static const char *const names[] = { "hand-dns", "hand-dns-40", "hand-http",
						     "hand-dhcp", "hand-vxlan" };

		if (kind == 0)
			build_dns_response(&frame, 3);
		else if (kind == 1)
			build_dns_response(&frame, 40);
		else if (kind == 2)
			build_http_get(&frame);
		else if (kind == 3)
			build_dhcp_discover(&frame);
		else
			build_vxlan(&frame);
		batch_init(&bt);
		dissect_into(&orig, 1, WL_LINK_ETHERNET, frame.b, frame.n, frame.n);
		batch_add(&bt, &orig, WL_LINK_ETHERNET, frame.b, frame.n);
		err |= write_file(dir, names[kind], bt.b, bt.n);
		free(bt.b);
	}

	batch_init(&bt);
	fill_worst_case(&orig);
	orig.caplen = 0;
	batch_add(&bt, &orig, WL_LINK_ETHERNET, frame.b, 0);
	err |= write_file(dir, "hand-worst-case", bt.b, bt.n);
	free(bt.b);

	for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		struct capture cap;
		const uint8_t *data;
		uint32_t caplen, len, usec;
		int64_t sec;
		char name[300];

		capture_open(&cap, captures[i]);
		batch_init(&bt);
		/* A few packets each: the seeds stay small. */
		while (bt.count < 4 && bt.n < 3000 &&
		       capture_next(&cap, &data, &caplen, &len, &sec, &usec)) {
			dissect_into(&orig, bt.count, cap.linktype, data, caplen, len);
			orig.ts_sec = sec;
			orig.ts_usec = usec % 1000000;
			batch_add(&bt, &orig, cap.linktype, data, caplen);
		}
		snprintf(name, sizeof(name), "pcap-%s", captures[i]);
		*strrchr(name, '.') = '\0';
		err |= write_file(dir, name, bt.b, bt.n);
		free(bt.b);
		free(cap.data);
	}
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_bytes),
		cmocka_unit_test(test_record_layout),
		cmocka_unit_test(test_round_trip_dns_response),
		cmocka_unit_test(test_round_trip_dns_answers_bounded),
		cmocka_unit_test(test_round_trip_http),
		cmocka_unit_test(test_round_trip_dhcp),
		cmocka_unit_test(test_round_trip_vxlan_inner),
		cmocka_unit_test(test_round_trip_every_cut),
		cmocka_unit_test(test_round_trip_link_types),
		cmocka_unit_test(test_round_trip_worst_case),
		cmocka_unit_test(test_round_trip_flow_id),
		cmocka_unit_test(test_round_trip_tls),
		cmocka_unit_test(test_round_trip_corpus),
		cmocka_unit_test(test_reader_empty_message),
		cmocka_unit_test(test_reader_short_header),
		cmocka_unit_test(test_reader_empty_batch),
		cmocka_unit_test(test_reader_wrong_magic),
		cmocka_unit_test(test_reader_other_version),
		cmocka_unit_test(test_reader_header_length_past_end),
		cmocka_unit_test(test_reader_header_length_below_16),
		cmocka_unit_test(test_reader_longer_header_skipped),
		cmocka_unit_test(test_reader_count_past_records),
		cmocka_unit_test(test_reader_bytes_after_last_record),
		cmocka_unit_test(test_reader_record_length_below_fixed),
		cmocka_unit_test(test_reader_record_length_past_end),
		cmocka_unit_test(test_reader_record_header_cut),
		cmocka_unit_test(test_reader_caplen_past_record),
		cmocka_unit_test(test_reader_section_length_past_record),
		cmocka_unit_test(test_reader_section_header_cut),
		cmocka_unit_test(test_reader_bad_fixed_fields),
		cmocka_unit_test(test_reader_unknown_section_skipped),
		cmocka_unit_test(test_reader_dns_rr_without_dns),
		cmocka_unit_test(test_reader_dns_rr_after_dns),
		cmocka_unit_test(test_reader_dns_rr_in_next_record),
		cmocka_unit_test(test_reader_flow_bad_family),
		cmocka_unit_test(test_reader_flow_addresses_cut),
		cmocka_unit_test(test_reader_flow_bad_l3),
		cmocka_unit_test(test_reader_flow_ipv6),
		cmocka_unit_test(test_reader_short_fixed_sections),
		cmocka_unit_test(test_reader_long_text_cut),
		cmocka_unit_test(test_reader_dns_text_without_nul),
		cmocka_unit_test(test_reader_dhcp_hostname_without_nul),
		cmocka_unit_test(test_reader_too_many_rrs_bounded),
		cmocka_unit_test(test_reader_vlan_and_layers_bounded),
		cmocka_unit_test(test_reader_layer_bad_proto),
		cmocka_unit_test(test_reader_rr_bad_section),
		cmocka_unit_test(test_reader_every_prefix),
		cmocka_unit_test(test_put_record_enobufs_dns),
		cmocka_unit_test(test_put_record_enobufs_worst_case),
		cmocka_unit_test(test_put_record_worst_case_fits_max),
		cmocka_unit_test(test_put_record_empty_raw_null),
	};

	if (argc == 3 && !strcmp(argv[1], "--write-seeds")) {
		if (!corpus_present()) {
			fprintf(stderr, "test-wire: no corpus at %s\n", WL_CORPUS_DIR);
			return 1;
		}
		return write_seeds(argv[2]);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
