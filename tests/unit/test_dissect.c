/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Whole-frame tests through the public wl_dissect(), on frames built header by
 * header. Each frame is copied into a heap block of exactly its length before
 * it is decoded, so that AddressSanitizer sees any read past the capture.
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

#include "wlite-proto.h"
#include "frame.h"

#include <errno.h>

/* ---- Building frames ----------------------------------------------------------- */

static const uint8_t MAC_IN_DST[6] = { 0x02, 0, 0, 0, 0, 0x1b };
static const uint8_t MAC_IN_SRC[6] = { 0x02, 0, 0, 0, 0, 0x1a };

#define A4 "192.0.2.1"
#define B4 "198.51.100.2"
#define C4 "10.0.0.3"
#define D4 "10.0.0.4"
#define A6 "2001:db8::1"
#define B6 "2001:db8::2"

static void put_eth_macs(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	put_mem(f, dst, 6);
	put_mem(f, src, 6);
	put_u16(f, type);
}

static void put_eth(struct frame *f, uint16_t type)
{
	put_eth_macs(f, MAC_DST, MAC_SRC, type);
}

/* One tag's TCI and the ethertype after it; the TPID came before. */
static void put_vlan(struct frame *f, uint16_t tci, uint16_t next)
{
	put_u16(f, tci);
	put_u16(f, next);
}

/* An IPv4 header; total length is filled in later by end_ip(). Returns its offset. */
static size_t put_ipv4_full(struct frame *f, uint8_t ihl, uint16_t frag, uint8_t proto,
			    const char *src, const char *dst)
{
	size_t at = f->n;

	put_u8(f, (uint8_t)(0x40 | ihl));
	put_u8(f, 0);
	put_u16(f, 0); /* total length */
	put_u16(f, 0x1234);
	put_u16(f, frag);
	put_u8(f, 64);
	put_u8(f, proto);
	put_u16(f, 0);
	put_addr(f, AF_INET, src);
	put_addr(f, AF_INET, dst);
	for (unsigned i = 5; i < ihl; i++)
		put_u32(f, 0x01010100); /* NOP NOP NOP EOL */
	return at;
}

static size_t put_ipv4(struct frame *f, uint8_t proto, const char *src, const char *dst)
{
	return put_ipv4_full(f, 5, 0, proto, src, dst);
}

static size_t put_ipv6(struct frame *f, uint8_t nh, const char *src, const char *dst)
{
	size_t at = f->n;

	put_u32(f, 0x60000000);
	put_u16(f, 0); /* payload length */
	put_u8(f, nh);
	put_u8(f, 64);
	put_addr(f, AF_INET6, src);
	put_addr(f, AF_INET6, dst);
	return at;
}

/* Sets the length field of the IP header at offset at to cover the frame so far. */
static void end_ip(struct frame *f, size_t at)
{
	if (f->b[at] >> 4 == 4)
		set_u16(f, at + 2, (uint16_t)(f->n - at));
	else
		set_u16(f, at + 4, (uint16_t)(f->n - at - 40));
}

/* An IPv6 extension header of (hdrlen + 1) * 8 bytes: hop-by-hop, routing, options. */
static void put_ext6(struct frame *f, uint8_t next, uint8_t hdrlen)
{
	put_u8(f, next);
	put_u8(f, hdrlen);
	put_fill(f, 0, (size_t)(hdrlen + 1) * 8 - 2);
}

static void put_frag6(struct frame *f, uint8_t next, uint16_t offset, bool more)
{
	put_u8(f, next);
	put_u8(f, 0);
	put_u16(f, (uint16_t)(offset << 3 | more));
	put_u32(f, 0xcafe);
}

#define TCP_SYN 0x002
#define TCP_ACK 0x010

static void put_tcp_full(struct frame *f, uint16_t sport, uint16_t dport, uint8_t doff,
			 uint16_t flags)
{
	put_u16(f, sport);
	put_u16(f, dport);
	put_u32(f, 1000);
	put_u32(f, 2000);
	put_u16(f, (uint16_t)(doff << 12 | (flags & 0x0fff)));
	put_u16(f, 65535);
	put_u16(f, 0);
	put_u16(f, 0);
	for (unsigned i = 5; i < doff; i++)
		put_u32(f, 0x01010101); /* NOPs */
}

static void put_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t flags)
{
	put_tcp_full(f, sport, dport, 5, flags);
}

/* A UDP header; end_udp() fills its length. Returns its offset. */
static size_t put_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	size_t at = f->n;

	put_u16(f, sport);
	put_u16(f, dport);
	put_u16(f, 0);
	put_u16(f, 0);
	return at;
}

static void end_udp(struct frame *f, size_t at)
{
	set_u16(f, at + 4, (uint16_t)(f->n - at));
}

/* Ethernet, IPv4 A4 -> B4, TCP 40000 -> 9999 with SYN+ACK, and payload bytes. */
static void build_eth_ipv4_tcp(struct frame *f, size_t payload)
{
	put_eth(f, 0x0800);
	size_t ip = put_ipv4(f, 6, A4, B4);
	put_tcp(f, 40000, 9999, TCP_SYN | TCP_ACK);
	put_fill(f, 0x00, payload);
	end_ip(f, ip);
}

/* IPv4 A4 -> B4 carrying UDP 40000 -> 9999 and four bytes, no link header. */
static void build_ipv4_udp(struct frame *f)
{
	size_t ip = put_ipv4(f, 17, A4, B4);
	size_t udp = put_udp(f, 40000, 9999);
	put_u32(f, 0xdeadbeef);
	end_udp(f, udp);
	end_ip(f, ip);
}

static void build_ipv6_udp(struct frame *f)
{
	size_t ip = put_ipv6(f, 17, A6, B6);
	size_t udp = put_udp(f, 40000, 9999);
	put_u32(f, 0xdeadbeef);
	end_udp(f, udp);
	end_ip(f, ip);
}

/* ---- Decoding and checking ----------------------------------------------------- */

static struct wl_packet pkt;

/*
 * Decodes the first caplen bytes of f from a heap copy of exactly that size,
 * over a packet full of garbage, and checks what must hold for every frame.
 */
static int dissect_n(int linktype, const struct frame *f, size_t caplen)
{
	uint8_t *copy = malloc(caplen ? caplen : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.len = (uint32_t)f->n; /* a prefix is a frame cut by the snaplen */
	pkt.caplen = (uint32_t)caplen;
	r = wl_dissect(&pkt, linktype, copy, caplen);
	free(copy);

	assert_true(memchr(pkt.info, '\0', sizeof(pkt.info)) != NULL);
	assert_true(pkt.n_vlan <= WL_VLAN_MAX);
	assert_true(pkt.n_layers <= WL_LAYERS_MAX);
	for (unsigned i = 0; i < pkt.n_layers; i++) {
		assert_true(pkt.layers[i].proto < WL_P__MAX);
		assert_true((size_t)pkt.layers[i].off + pkt.layers[i].len <= caplen);
	}
	assert_int_equal(pkt.malformed, r == 0 ? WL_OK : r == -EMSGSIZE ? WL_TRUNCATED : WL_INVALID);
	return r;
}

static int dissect(int linktype, const struct frame *f)
{
	return dissect_n(linktype, f, f->n);
}

static void assert_addr(const struct wl_addr *a, const char *text)
{
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	uint8_t b[16];

	assert_int_equal(inet_pton(family, text, b), 1);
	assert_int_equal(a->family, family == AF_INET6 ? 6 : 4);
	assert_memory_equal(a->b, b, family == AF_INET6 ? 16 : 4);
}

#define HAS_ADDRS (WL_HAS_SRC | WL_HAS_DST)
#define HAS_PORTS (WL_HAS_SPORT | WL_HAS_DPORT)

static void assert_ports(const struct wl_flow *flow, uint16_t sport, uint16_t dport)
{
	assert_int_equal(flow->has & HAS_PORTS, HAS_PORTS);
	assert_int_equal(flow->sport, sport);
	assert_int_equal(flow->dport, dport);
}

static void assert_ipv4_udp_flow(const struct wl_flow *flow, const char *src, const char *dst)
{
	assert_int_equal(flow->l3, WL_L3_IPV4);
	assert_int_equal(flow->has & HAS_ADDRS, HAS_ADDRS);
	assert_addr(&flow->src, src);
	assert_addr(&flow->dst, dst);
	assert_int_equal(flow->ipproto, 17);
	assert_ports(flow, 40000, 9999);
}

static bool has_layer(enum wl_proto proto)
{
	for (unsigned i = 0; i < pkt.n_layers; i++)
		if (pkt.layers[i].proto == proto)
			return true;
	return false;
}

static const int all_links[] = {
	WL_LINK_ETHERNET, WL_LINK_SLL, WL_LINK_SLL2, WL_LINK_RAW,
	WL_LINK_IPV4,     WL_LINK_IPV6, WL_LINK_NULL, WL_LINK_LOOP,
};

/* ---- Ethernet / IPv4 / TCP ----------------------------------------------------- */

static void test_eth_ipv4_tcp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_eth_ipv4_tcp(&f, 0);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(pkt.has & WL_PKT_ETH);
	assert_false(pkt.has & WL_PKT_INNER);
	assert_memory_equal(pkt.eth_dst, MAC_DST, 6);
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV4);
	assert_int_equal(pkt.outer.ethertype, 0x0800);
	assert_addr(&pkt.outer.src, A4);
	assert_addr(&pkt.outer.dst, B4);
	assert_int_equal(pkt.outer.ipproto, 6);
	assert_ports(&pkt.outer, 40000, 9999);
	assert_true(pkt.outer.has & WL_HAS_TCP_FLAGS);
	assert_int_equal(pkt.outer.tcp_flags, TCP_SYN | TCP_ACK);
	assert_int_equal(pkt.proto, WL_P_TCP);
	assert_int_equal(pkt.n_vlan, 0);
	assert_true(pkt.info[0] != '\0');
	assert_non_null(strstr(pkt.info, "40000"));
}

static void test_tcp_flags_all_twelve_bits(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	size_t ip = put_ipv4(&f, 6, A4, B4);
	put_tcp(&f, 40000, 9999, 0x0fff);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.outer.tcp_flags, 0x0fff);
}

static void test_eth_padding_after_ipv4_ignored(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_eth_ipv4_tcp(&f, 0);
	put_fill(&f, 0xff, 6); /* padding to the 60-byte Ethernet minimum */
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_TCP);
	assert_non_null(strstr(pkt.info, "Len=0"));
	assert_int_equal(pkt.n_layers, 3);
	assert_int_equal(pkt.layers[2].proto, WL_P_TCP);
	assert_int_equal(pkt.layers[2].len, 20);
}

static void test_eth_padding_after_udp_ignored(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	build_ipv4_udp(&f);
	put_fill(&f, 0xff, 10);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
	assert_non_null(strstr(pkt.info, "Len=4"));
}

/* ---- Link types -------------------------------------------------------------------- */

static void test_link_sll(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_u16(&f, 0);      /* packet type: to us */
	put_u16(&f, 1);      /* ARPHRD_ETHER */
	put_u16(&f, 6);      /* address length */
	put_mem(&f, MAC_SRC, 6);
	put_u16(&f, 0);      /* address padding */
	put_u16(&f, 0x0800); /* protocol */
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_SLL, &f), 0);
	assert_false(pkt.has & WL_PKT_ETH);
	assert_int_equal(pkt.layers[0].proto, WL_P_SLL);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
	assert_int_equal(pkt.proto, WL_P_UDP);
}

static void test_link_sll2(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_u16(&f, 0x86dd); /* protocol */
	put_u16(&f, 0);      /* reserved */
	put_u32(&f, 3);      /* ifindex */
	put_u16(&f, 1);      /* ARPHRD_ETHER */
	put_u8(&f, 4);       /* outgoing */
	put_u8(&f, 6);
	put_mem(&f, MAC_SRC, 6);
	put_u16(&f, 0);
	build_ipv6_udp(&f);
	assert_int_equal(dissect(WL_LINK_SLL2, &f), 0);
	assert_int_equal(pkt.layers[0].proto, WL_P_SLL);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV6);
	assert_addr(&pkt.outer.src, A6);
	assert_ports(&pkt.outer, 40000, 9999);
}

static void test_link_raw_ipv4(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
	assert_int_equal(pkt.layers[0].proto, WL_P_IPV4);
	assert_int_equal(pkt.layers[0].off, 0);
}

static void test_link_raw_ipv6(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv6_udp(&f);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV6);
	assert_addr(&pkt.outer.dst, B6);
	assert_ports(&pkt.outer, 40000, 9999);
}

static void test_link_raw_bad_version_invalid(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv4_udp(&f);
	f.b[0] = 0x55;
	assert_int_equal(dissect(WL_LINK_RAW, &f), -EBADMSG);
	assert_int_equal(pkt.outer.has, 0);
}

static void test_link_ipv4_228(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_IPV4, &f), 0);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
}

static void test_link_ipv6_229(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv6_udp(&f);
	assert_int_equal(dissect(WL_LINK_IPV6, &f), 0);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV6);
	assert_addr(&pkt.outer.src, A6);
	assert_ports(&pkt.outer, 40000, 9999);
}

/* NULL/LOOP header with family af, stored big- or little-endian, then IPv4 or IPv6. */
static void build_bsd(struct frame *f, uint32_t af, bool big_endian)
{
	if (big_endian)
		put_u32(f, af);
	else
		put_u32(f, __builtin_bswap32(af));
	if (af == 2)
		build_ipv4_udp(f);
	else
		build_ipv6_udp(f);
}

static void test_link_null_af_inet_both_orders(void **state)
{
	(void)state;
	for (int be = 0; be <= 1; be++) {
		struct frame f = { .n = 0 };

		build_bsd(&f, 2, be);
		assert_int_equal(dissect(WL_LINK_NULL, &f), 0);
		assert_int_equal(pkt.layers[0].proto, WL_P_NULL);
		assert_ipv4_udp_flow(&pkt.outer, A4, B4);
	}
}

static void test_link_null_af_inet6_both_orders(void **state)
{
	static const uint32_t afs[] = { 24, 28, 30, 10 };

	(void)state;
	for (size_t i = 0; i < sizeof(afs) / sizeof(afs[0]); i++) {
		for (int be = 0; be <= 1; be++) {
			struct frame f = { .n = 0 };

			build_bsd(&f, afs[i], be);
			assert_int_equal(dissect(WL_LINK_NULL, &f), 0);
			assert_int_equal(pkt.outer.l3, WL_L3_IPV6);
			assert_addr(&pkt.outer.src, A6);
			assert_ports(&pkt.outer, 40000, 9999);
		}
	}
}

static void test_link_null_unknown_family_stops(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_bsd(&f, 7, true);
	assert_int_equal(dissect(WL_LINK_NULL, &f), 0);
	assert_int_equal(pkt.outer.l3, WL_L3_NONE);
	assert_int_equal(pkt.proto, WL_P_NULL);
}

static void test_link_loop_big_endian(void **state)
{
	struct frame f = { .n = 0 }, g = { .n = 0 };

	(void)state;
	build_bsd(&f, 2, true);
	assert_int_equal(dissect(WL_LINK_LOOP, &f), 0);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
	build_bsd(&g, 24, true);
	assert_int_equal(dissect(WL_LINK_LOOP, &g), 0);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV6);
}

static void test_link_loop_ignores_host_order(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_bsd(&f, 2, false); /* LOOP is always network order: 0x02000000 is no family */
	assert_int_equal(dissect(WL_LINK_LOOP, &f), 0);
	assert_int_equal(pkt.outer.l3, WL_L3_NONE);
}

static void test_link_unknown_not_supported(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_eth_ipv4_tcp(&f, 0);
	assert_int_equal(wl_dissect(&pkt, 147, f.b, f.n), -EPROTONOSUPPORT);
	assert_int_equal(wl_dissect(&pkt, -1, f.b, f.n), -EPROTONOSUPPORT);
	assert_int_equal(wl_dissect(&pkt, 9999, f.b, f.n), -EPROTONOSUPPORT);
	assert_int_equal(pkt.n_layers, 0);
	assert_string_equal(pkt.info, "");
}

static void test_link_zero_length_truncated(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(all_links) / sizeof(all_links[0]); i++) {
		assert_int_equal(dissect(all_links[i], &f), -EMSGSIZE);
		assert_int_equal(pkt.malformed, WL_TRUNCATED);
		assert_int_equal(pkt.outer.has, 0);
	}
}

/* ---- VLAN -------------------------------------------------------------------------- */

static void test_vlan_single(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8100);
	put_vlan(&f, 3 << 13 | 100, 0x0800);
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.n_vlan, 1);
	assert_int_equal(pkt.vlan[0], 100);
	assert_int_equal(pkt.outer.ethertype, 0x0800);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
	assert_true(has_layer(WL_P_VLAN));
}

static void test_vlan_qinq(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x88a8);
	put_vlan(&f, 200, 0x8100);
	put_vlan(&f, 0xf000 | 100, 0x0800); /* PCP 7, DEI set */
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.n_vlan, 2);
	assert_int_equal(pkt.vlan[0], 200);
	assert_int_equal(pkt.vlan[1], 100);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
}

static void test_vlan_deeper_than_max_bounded(void **state)
{
	struct frame f = { .n = 0 };
	const unsigned n = WL_VLAN_MAX + 2;

	(void)state;
	put_eth(&f, 0x8100);
	for (unsigned i = 1; i <= n; i++)
		put_vlan(&f, (uint16_t)i, i == n ? 0x0800 : 0x8100);
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.n_vlan, WL_VLAN_MAX);
	for (unsigned i = 0; i < WL_VLAN_MAX; i++)
		assert_int_equal(pkt.vlan[i], i + 1);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
}

static void test_vlan_cut_inside_tag(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8100);
	put_vlan(&f, 100, 0x0800);
	assert_int_equal(dissect_n(WL_LINK_ETHERNET, &f, 15), -EMSGSIZE);
	assert_int_equal(pkt.n_vlan, 0);
	assert_int_equal(dissect_n(WL_LINK_ETHERNET, &f, 17), -EMSGSIZE);
	assert_int_equal(pkt.n_vlan, 1);
	assert_int_equal(pkt.vlan[0], 100);
	assert_int_equal(pkt.outer.l3, WL_L3_OTHER);
}

static void test_vlan_stack_of_40_bounded(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8100);
	for (unsigned i = 1; i <= 40; i++)
		put_vlan(&f, (uint16_t)i, i == 40 ? 0x0800 : 0x8100);
	build_ipv4_udp(&f);
	int r = dissect(WL_LINK_ETHERNET, &f);
	assert_true(r < 0);
	assert_int_not_equal(r, -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_INVALID);
	assert_int_equal(pkt.n_vlan, WL_VLAN_MAX);
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6);
	assert_int_equal(pkt.outer.has, 0);
}

/* ---- PPPoE, MPLS ------------------------------------------------------------------------ */

static void test_pppoe_session_ipv4(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8864);
	put_u8(&f, 0x11);
	put_u8(&f, 0);
	put_u16(&f, 0x1234);
	size_t len_at = f.n;
	put_u16(&f, 0);
	put_u16(&f, 0x0021); /* PPP: IPv4 */
	build_ipv4_udp(&f);
	set_u16(&f, len_at, (uint16_t)(f.n - len_at - 2));
	put_fill(&f, 0xee, 8); /* Ethernet padding */
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_PPPOE));
	assert_true(has_layer(WL_P_PPP));
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
	assert_int_equal(pkt.proto, WL_P_UDP);
}

static void put_mpls(struct frame *f, uint32_t label, bool bottom)
{
	put_u32(f, label << 12 | (bottom ? 0x100u : 0) | 64);
}

static void test_mpls_two_labels_ipv4(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8847);
	put_mpls(&f, 100, false);
	put_mpls(&f, 200, true);
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_MPLS));
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
}

static void test_mpls_explicit_null_ipv6(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8847);
	put_mpls(&f, 2, true);
	build_ipv6_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV6);
	assert_addr(&pkt.outer.src, A6);
	assert_ports(&pkt.outer, 40000, 9999);
}

static void test_mpls_pseudowire_control_word(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8847);
	put_mpls(&f, 1000, true);
	put_u32(&f, 0x00000001); /* control word, sequence 1 */
	put_eth_macs(&f, MAC_IN_DST, MAC_IN_SRC, 0x0800);
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6); /* the outer frame's */
	assert_int_equal(pkt.layers[2].proto, WL_P_ETH);
	assert_int_equal(pkt.layers[2].off, 14 + 4 + 4);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
}

static void test_mpls_stack_without_bottom_invalid(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8847);
	for (int i = 0; i < 20; i++)
		put_mpls(&f, 100, false);
	build_ipv4_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), -EBADMSG);
	assert_int_equal(pkt.outer.has, 0);
}

/* ---- ARP ------------------------------------------------------------------------------ */

static void test_arp_request(void **state)
{
	struct frame f = { .n = 0 };
	static const uint8_t zero[6];

	(void)state;
	put_eth(&f, 0x0806);
	put_u16(&f, 1);
	put_u16(&f, 0x0800);
	put_u8(&f, 6);
	put_u8(&f, 4);
	put_u16(&f, 1);
	put_mem(&f, MAC_SRC, 6);
	put_addr(&f, AF_INET, A4);
	put_mem(&f, zero, 6);
	put_addr(&f, AF_INET, B4);
	put_fill(&f, 0, 18);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.outer.l3, WL_L3_ARP);
	assert_int_equal(pkt.outer.ethertype, 0x0806);
	assert_int_equal(pkt.proto, WL_P_ARP);
	assert_string_equal(pkt.info, "Who has " B4 "? Tell " A4);
}

/* ---- IPv4 ------------------------------------------------------------------------------- */

static void test_ipv4_ihl_below_5_invalid(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv4_udp(&f);
	f.b[0] = 0x44;
	assert_int_equal(dissect(WL_LINK_RAW, &f), -EBADMSG);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV4);
	assert_int_equal(pkt.outer.has & (HAS_ADDRS | HAS_PORTS), 0);
}

static void test_ipv4_total_below_header_invalid(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv4_udp(&f);
	set_u16(&f, 2, 19);
	assert_int_equal(dissect(WL_LINK_RAW, &f), -EBADMSG);
	assert_int_equal(pkt.outer.has & (HAS_ADDRS | HAS_PORTS), 0);
}

static void test_ipv4_total_zero_is_offload(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	build_ipv4_udp(&f);
	set_u16(&f, 14 + 2, 0);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_ipv4_udp_flow(&pkt.outer, A4, B4);
}

static void test_ipv4_options_skipped(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4_full(&f, 6, 0, 6, A4, B4);
	put_tcp(&f, 40000, 9999, TCP_SYN);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_ports(&pkt.outer, 40000, 9999);
	assert_int_equal(pkt.outer.tcp_flags, TCP_SYN);
	assert_int_equal(pkt.layers[1].off, 24);
}

static void test_ipv4_options_cut_truncated(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_ipv4_full(&f, 15, 0, 6, A4, B4);
	set_u16(&f, 2, 60);
	assert_int_equal(dissect_n(WL_LINK_RAW, &f, 40), -EMSGSIZE);
	assert_int_equal(pkt.outer.has & HAS_ADDRS, HAS_ADDRS);
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
}

static void test_ipv4_non_first_fragment_no_ports(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4_full(&f, 5, 185, 6, A4, B4); /* offset 1480 */
	put_tcp(&f, 40000, 9999, TCP_SYN);                 /* would-be ports */
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.outer.has & HAS_ADDRS, HAS_ADDRS);
	assert_int_equal(pkt.outer.ipproto, 6);
	assert_int_equal(pkt.outer.has & (HAS_PORTS | WL_HAS_TCP_FLAGS), 0);
	assert_int_equal(pkt.proto, WL_P_IPV4);
	assert_non_null(strstr(pkt.info, "off=1480"));
}

static void test_ipv4_first_fragment_has_ports(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4_full(&f, 5, 0x2000, 6, A4, B4); /* MF, offset 0 */
	put_tcp(&f, 40000, 9999, TCP_SYN);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_ports(&pkt.outer, 40000, 9999);
}

static void test_ipv4_cut_after_14_bytes(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv4_udp(&f);
	assert_int_equal(dissect_n(WL_LINK_RAW, &f, 14), -EMSGSIZE);
	assert_true(pkt.outer.has & WL_HAS_IPPROTO);
	assert_int_equal(pkt.outer.ipproto, 17);
	assert_int_equal(pkt.outer.has & HAS_ADDRS, 0);
}

static void test_ipv4_cut_after_src(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv4_udp(&f);
	assert_int_equal(dissect_n(WL_LINK_RAW, &f, 16), -EMSGSIZE);
	assert_int_equal(pkt.outer.has & HAS_ADDRS, WL_HAS_SRC);
	assert_addr(&pkt.outer.src, A4);
}

/* ---- IPv6 ------------------------------------------------------------------------------ */

static void test_ipv6_udp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x86dd);
	build_ipv6_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV6);
	assert_int_equal(pkt.outer.ethertype, 0x86dd);
	assert_addr(&pkt.outer.src, A6);
	assert_addr(&pkt.outer.dst, B6);
	assert_int_equal(pkt.outer.ipproto, 17);
	assert_ports(&pkt.outer, 40000, 9999);
	assert_int_equal(pkt.proto, WL_P_UDP);
}

static void test_ipv6_extension_chain_then_tcp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv6(&f, 0, A6, B6);
	put_ext6(&f, 43, 0);  /* hop-by-hop, 8 bytes */
	put_ext6(&f, 60, 2);  /* routing, 24 bytes */
	put_ext6(&f, 6, 1);   /* destination options, 16 bytes */
	put_tcp(&f, 40000, 9999, TCP_ACK);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.outer.ipproto, 6);
	assert_ports(&pkt.outer, 40000, 9999);
	assert_int_equal(pkt.outer.tcp_flags, TCP_ACK);
	assert_int_equal(pkt.layers[1].off, 40 + 8 + 24 + 16);
}

static void test_ipv6_first_fragment_has_ports(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv6(&f, 44, A6, B6);
	put_frag6(&f, 17, 0, true);
	size_t udp = put_udp(&f, 40000, 9999);
	end_udp(&f, udp);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.outer.ipproto, 17);
	assert_ports(&pkt.outer, 40000, 9999);
}

static void test_ipv6_non_first_fragment_no_ports(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv6(&f, 44, A6, B6);
	put_frag6(&f, 17, 185, false);
	put_udp(&f, 40000, 9999);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.outer.ipproto, 17);
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
	assert_int_equal(pkt.proto, WL_P_IPV6);
}

static void test_ipv6_extension_chain_cut_truncated(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv6(&f, 0, A6, B6);
	put_ext6(&f, 60, 1);
	put_ext6(&f, 17, 1);
	size_t udp = put_udp(&f, 40000, 9999);
	end_udp(&f, udp);
	end_ip(&f, ip);
	assert_int_equal(dissect_n(WL_LINK_RAW, &f, 40 + 16 + 10), -EMSGSIZE);
	assert_int_equal(pkt.outer.has & HAS_ADDRS, HAS_ADDRS);
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
}

static void test_ipv6_cut_fragment_header_truncated(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv6(&f, 44, A6, B6);
	put_frag6(&f, 17, 0, true);
	put_udp(&f, 40000, 9999);
	end_ip(&f, ip);
	assert_int_equal(dissect_n(WL_LINK_RAW, &f, 40 + 7), -EMSGSIZE);
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
}

static void test_ipv6_39_bytes_src_only(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv6_udp(&f);
	assert_int_equal(dissect_n(WL_LINK_RAW, &f, 39), -EMSGSIZE);
	assert_int_equal(pkt.outer.has & HAS_ADDRS, WL_HAS_SRC);
	assert_addr(&pkt.outer.src, A6);
	assert_int_equal(pkt.outer.ipproto, 17);
}

static void test_ipv6_ah_stops_walk(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv6(&f, 51, A6, B6);
	put_u8(&f, 6); /* AH: next header TCP */
	put_u8(&f, 4); /* (4 + 2) * 4 = 24 bytes */
	put_fill(&f, 0, 22);
	put_tcp(&f, 40000, 9999, TCP_SYN);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.outer.ipproto, 51);
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
}

static void test_ipv6_bad_version_invalid(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv6_udp(&f);
	assert_int_equal(dissect(WL_LINK_IPV6, &f), 0);
	f.b[0] = 0x70;
	assert_int_equal(dissect(WL_LINK_IPV6, &f), -EBADMSG);
	assert_int_equal(pkt.outer.has, 0);
}

/* ---- TCP, UDP, SCTP ---------------------------------------------------------------------- */

static void test_tcp_data_offset_below_5_invalid(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4(&f, 6, A4, B4);
	put_tcp_full(&f, 40000, 9999, 4, TCP_SYN);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), -EBADMSG);
	assert_ports(&pkt.outer, 40000, 9999);
	assert_false(pkt.outer.has & WL_HAS_TCP_FLAGS);
}

static void test_tcp_options_cut_truncated(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4(&f, 6, A4, B4);
	put_tcp_full(&f, 40000, 9999, 8, TCP_SYN);
	end_ip(&f, ip);
	assert_int_equal(dissect_n(WL_LINK_RAW, &f, 20 + 24), -EMSGSIZE);
	assert_ports(&pkt.outer, 40000, 9999);
	assert_int_equal(pkt.outer.tcp_flags, TCP_SYN);
}

static void test_tcp_options_complete(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4(&f, 6, A4, B4);
	put_tcp_full(&f, 40000, 9999, 8, TCP_SYN);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_non_null(strstr(pkt.info, "Len=0"));
}

static void test_udp_length_below_8_invalid(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_ipv4_udp(&f);
	set_u16(&f, 20 + 4, 7);
	assert_int_equal(dissect(WL_LINK_RAW, &f), -EBADMSG);
	assert_ports(&pkt.outer, 40000, 9999);
}

static void test_sctp_ports_in_own_bit(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4(&f, 132, A4, B4);
	put_u16(&f, 2905);
	put_u16(&f, 2906);
	put_u32(&f, 0x11223344); /* verification tag */
	put_u32(&f, 0);          /* checksum */
	put_u8(&f, 1);           /* INIT */
	put_fill(&f, 0, 3);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_true(pkt.outer.has & WL_HAS_SCTP_PORTS);
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
	assert_int_equal(pkt.outer.sport, 2905);
	assert_int_equal(pkt.outer.dport, 2906);
	assert_int_equal(pkt.proto, WL_P_SCTP);
}

/* ---- Tunnels ----------------------------------------------------------------------------- */

static void test_ipip_inner_flow(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	size_t outer = put_ipv4(&f, 4, A4, B4);
	size_t inner = put_ipv4(&f, 17, C4, D4);
	size_t udp = put_udp(&f, 40000, 9999);
	end_udp(&f, udp);
	end_ip(&f, inner);
	end_ip(&f, outer);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.outer.ipproto, 4);
	assert_addr(&pkt.outer.src, A4);
	assert_addr(&pkt.outer.dst, B4);
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
	assert_true(pkt.has & WL_PKT_INNER);
	assert_ipv4_udp_flow(&pkt.inner, C4, D4);
}

static void test_6in4_inner_flow(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t outer = put_ipv4(&f, 41, A4, B4);
	build_ipv6_udp(&f);
	end_ip(&f, outer);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.outer.ipproto, 41);
	assert_addr(&pkt.outer.src, A4);
	assert_true(pkt.has & WL_PKT_INNER);
	assert_int_equal(pkt.inner.l3, WL_L3_IPV6);
	assert_addr(&pkt.inner.src, A6);
	assert_addr(&pkt.inner.dst, B6);
	assert_ports(&pkt.inner, 40000, 9999);
}

static void test_gre_key_seq_ipv4_udp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t outer = put_ipv4(&f, 47, A4, B4);
	put_u16(&f, 0x3000); /* K and S */
	put_u16(&f, 0x0800);
	put_u32(&f, 0xabcdef01); /* key */
	put_u32(&f, 7);          /* sequence */
	build_ipv4_udp(&f);
	end_ip(&f, outer);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.outer.ipproto, 47);
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
	assert_true(has_layer(WL_P_GRE));
	assert_true(pkt.has & WL_PKT_INNER);
	assert_ipv4_udp_flow(&pkt.inner, A4, B4);
	assert_int_equal(pkt.layers[2].off, 20 + 12);
}

static void test_gre_transparent_ethernet(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	size_t outer = put_ipv4(&f, 47, A4, B4);
	put_u16(&f, 0);
	put_u16(&f, 0x6558);
	put_eth_macs(&f, MAC_IN_DST, MAC_IN_SRC, 0x0800);
	size_t inner = put_ipv4(&f, 6, C4, D4);
	put_tcp(&f, 40000, 443, TCP_SYN);
	end_ip(&f, inner);
	end_ip(&f, outer);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6);
	assert_memory_equal(pkt.eth_dst, MAC_DST, 6);
	assert_addr(&pkt.inner.src, C4);
	assert_ports(&pkt.inner, 40000, 443);
	assert_int_equal(pkt.inner.tcp_flags, TCP_SYN);
}

/* Ethernet / IPv4 A4->B4 / UDP 50000->dport / tunnel header / Ethernet / IPv4 C4->D4 / TCP. */
static void build_udp_tunnel(struct frame *f, uint16_t dport, const uint8_t *hdr, size_t hdr_len)
{
	put_eth(f, 0x0800);
	size_t outer = put_ipv4(f, 17, A4, B4);
	size_t udp = put_udp(f, 50000, dport);
	put_mem(f, hdr, hdr_len);
	put_eth_macs(f, MAC_IN_DST, MAC_IN_SRC, 0x0800);
	size_t inner = put_ipv4(f, 6, C4, D4);
	put_tcp(f, 40000, 9999, TCP_SYN | TCP_ACK);
	end_ip(f, inner);
	end_udp(f, udp);
	end_ip(f, outer);
}

static const uint8_t vxlan_hdr[8] = { 0x08, 0, 0, 0, 0x00, 0x13, 0x88, 0 }; /* VNI 5000 */

static void assert_tunnelled_tcp(void)
{
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6);
	assert_memory_equal(pkt.eth_dst, MAC_DST, 6);
	assert_addr(&pkt.outer.src, A4);
	assert_int_equal(pkt.outer.ipproto, 17);
	assert_true(pkt.has & WL_PKT_INNER);
	assert_int_equal(pkt.inner.l3, WL_L3_IPV4);
	assert_addr(&pkt.inner.src, C4);
	assert_addr(&pkt.inner.dst, D4);
	assert_ports(&pkt.inner, 40000, 9999);
	assert_int_equal(pkt.inner.tcp_flags, TCP_SYN | TCP_ACK);
	assert_false(pkt.outer.has & WL_HAS_TCP_FLAGS);
	assert_int_equal(pkt.proto, WL_P_TCP);
}

static void test_vxlan_ethernet_ipv4_tcp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_udp_tunnel(&f, 4789, vxlan_hdr, sizeof(vxlan_hdr));
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_ports(&pkt.outer, 50000, 4789);
	assert_tunnelled_tcp();
	assert_true(has_layer(WL_P_VXLAN));
}

static void test_geneve_with_options(void **state)
{
	static const uint8_t geneve_hdr[] = {
		0x02, 0x00, 0x65, 0x58, /* version 0, 2 option words; TEB */
		0x00, 0x00, 0x2a, 0x00, /* VNI 42 */
		0x01, 0x02, 0x03, 0x01, /* option class 0x0102, type 3, 1 word */
		0xde, 0xad, 0xbe, 0xef,
	};
	struct frame f = { .n = 0 };

	(void)state;
	build_udp_tunnel(&f, 6081, geneve_hdr, sizeof(geneve_hdr));
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_ports(&pkt.outer, 50000, 6081);
	assert_tunnelled_tcp();
	assert_true(has_layer(WL_P_GENEVE));
}

/* UDP declares a VXLAN header and more, the capture ends right before it. */
static void test_vxlan_cut_after_udp_header_truncated(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_udp_tunnel(&f, 4789, vxlan_hdr, sizeof(vxlan_hdr));
	assert_int_equal(dissect_n(WL_LINK_ETHERNET, &f, 14 + 20 + 8), -EMSGSIZE);
	assert_ports(&pkt.outer, 50000, 4789);
}

/* An empty datagram to the VXLAN port declares no payload: nothing was cut. */
static void test_empty_udp_to_vxlan_port_ok(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4(&f, 17, A4, B4);
	size_t udp = put_udp(&f, 50000, 4789);
	end_udp(&f, udp);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.proto, WL_P_UDP);
}

static void test_layers_of_vxlan_frame(void **state)
{
	static const struct {
		uint8_t proto;
		uint16_t off;
	} want[] = {
		{ WL_P_ETH, 0 },   { WL_P_IPV4, 14 }, { WL_P_UDP, 34 }, { WL_P_VXLAN, 42 },
		{ WL_P_ETH, 50 },  { WL_P_IPV4, 64 }, { WL_P_TCP, 84 },
	};
	struct frame f = { .n = 0 };

	(void)state;
	build_udp_tunnel(&f, 4789, vxlan_hdr, sizeof(vxlan_hdr));
	put_fill(&f, 0, 4); /* trailing bytes beyond the outer IPv4 length */
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.n_layers, 7);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(pkt.layers[i].proto, want[i].proto);
		assert_int_equal(pkt.layers[i].off, want[i].off);
	}
	assert_int_equal(pkt.layers[0].len, f.n);
	assert_int_equal(pkt.layers[2].len, f.n - 4 - 34); /* UDP: bounded by the IPv4 length */
	assert_int_equal(pkt.layers[6].len, 20);
}

/* ---- ICMP, ICMPv6 ------------------------------------------------------------------------- */

static void test_icmp_echo_request_info(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv4(&f, 1, A4, B4);
	put_u8(&f, 8);
	put_u8(&f, 0);
	put_u16(&f, 0);
	put_u16(&f, 0x1234);
	put_u16(&f, 7);
	put_fill(&f, 0x61, 8);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.proto, WL_P_ICMP);
	assert_string_equal(pkt.info, "Echo (ping) request  id=0x1234, seq=7");
	assert_int_equal(pkt.outer.has & HAS_PORTS, 0);
}

static void test_icmpv6_neighbour_solicitation_info(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	size_t ip = put_ipv6(&f, 58, "fe80::2", "ff02::1:ff00:1");
	put_u8(&f, 135);
	put_u8(&f, 0);
	put_u16(&f, 0);
	put_u32(&f, 0);
	put_addr(&f, AF_INET6, "fe80::1");
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_RAW, &f), 0);
	assert_int_equal(pkt.proto, WL_P_ICMPV6);
	assert_string_equal(pkt.info, "Neighbor Solicitation for fe80::1");
}

/* ---- Bounds on recursion and on every cut ----------------------------------------------- */

static void test_nested_ipip_40_bounded(void **state)
{
	struct frame f = { .n = 0 };
	size_t at[40];

	(void)state;
	for (int i = 0; i < 40; i++)
		at[i] = put_ipv4(&f, i == 39 ? 17 : 4, A4, B4);
	size_t udp = put_udp(&f, 40000, 9999);
	end_udp(&f, udp);
	for (int i = 0; i < 40; i++)
		end_ip(&f, at[i]);
	int r = dissect(WL_LINK_RAW, &f);
	assert_true(r < 0);
	assert_int_not_equal(r, -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_INVALID);
	assert_int_equal(pkt.outer.ipproto, 4);
	assert_true(pkt.has & WL_PKT_INNER);
	assert_int_equal(pkt.inner.ipproto, 4);
	assert_int_equal(pkt.n_layers, WL_LAYERS_MAX);
}

/*
 * Every prefix of f: no crash, and truncated exactly when shorter than
 * headers_end. The length except (SIZE_MAX for none) is left to its own test.
 */
static void check_every_prefix(int linktype, const struct frame *f, size_t headers_end,
			       size_t except)
{
	for (size_t n = 0; n <= f->n; n++) {
		int r = dissect_n(linktype, f, n);

		if (n == except)
			continue;
		if (n < headers_end) {
			assert_int_equal(r, -EMSGSIZE);
			assert_int_equal(pkt.malformed, WL_TRUNCATED);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(pkt.malformed, WL_OK);
		}
	}
}

static void test_every_prefix_eth_ipv4_tcp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_eth_ipv4_tcp(&f, 6);
	check_every_prefix(WL_LINK_ETHERNET, &f, 14 + 20 + 20, SIZE_MAX);
}

static void test_every_prefix_ipv6_extensions_udp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x86dd);
	size_t ip = put_ipv6(&f, 0, A6, B6);
	put_ext6(&f, 44, 1);
	put_frag6(&f, 17, 0, true);
	size_t udp = put_udp(&f, 40000, 9999);
	put_u32(&f, 0x01020304);
	end_udp(&f, udp);
	end_ip(&f, ip);
	check_every_prefix(WL_LINK_ETHERNET, &f, 14 + 40 + 16 + 8 + 8, SIZE_MAX);
}

static void test_every_prefix_vxlan(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_udp_tunnel(&f, 4789, vxlan_hdr, sizeof(vxlan_hdr));
	/* The cut right after the UDP header: test_vxlan_cut_after_udp_header_truncated. */
	check_every_prefix(WL_LINK_ETHERNET, &f, f.n, 14 + 20 + 8);
}

static void test_every_prefix_full_frame_fields(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_eth_ipv4_tcp(&f, 0);
	for (size_t n = 0; n <= f.n; n++) {
		dissect_n(WL_LINK_ETHERNET, &f, n);
		/* Ports appear only once both were captured, addresses likewise. */
		assert_int_equal(!!(pkt.outer.has & WL_HAS_DPORT), n >= 14 + 20 + 4);
		assert_int_equal(!!(pkt.outer.has & WL_HAS_DST), n >= 14 + 20);
		assert_int_equal(!!(pkt.has & WL_PKT_ETH), n >= 12);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_ipv4_tcp),
		cmocka_unit_test(test_tcp_flags_all_twelve_bits),
		cmocka_unit_test(test_eth_padding_after_ipv4_ignored),
		cmocka_unit_test(test_eth_padding_after_udp_ignored),
		cmocka_unit_test(test_link_sll),
		cmocka_unit_test(test_link_sll2),
		cmocka_unit_test(test_link_raw_ipv4),
		cmocka_unit_test(test_link_raw_ipv6),
		cmocka_unit_test(test_link_raw_bad_version_invalid),
		cmocka_unit_test(test_link_ipv4_228),
		cmocka_unit_test(test_link_ipv6_229),
		cmocka_unit_test(test_link_null_af_inet_both_orders),
		cmocka_unit_test(test_link_null_af_inet6_both_orders),
		cmocka_unit_test(test_link_null_unknown_family_stops),
		cmocka_unit_test(test_link_loop_big_endian),
		cmocka_unit_test(test_link_loop_ignores_host_order),
		cmocka_unit_test(test_link_unknown_not_supported),
		cmocka_unit_test(test_link_zero_length_truncated),
		cmocka_unit_test(test_vlan_single),
		cmocka_unit_test(test_vlan_qinq),
		cmocka_unit_test(test_vlan_deeper_than_max_bounded),
		cmocka_unit_test(test_vlan_cut_inside_tag),
		cmocka_unit_test(test_vlan_stack_of_40_bounded),
		cmocka_unit_test(test_pppoe_session_ipv4),
		cmocka_unit_test(test_mpls_two_labels_ipv4),
		cmocka_unit_test(test_mpls_explicit_null_ipv6),
		cmocka_unit_test(test_mpls_pseudowire_control_word),
		cmocka_unit_test(test_mpls_stack_without_bottom_invalid),
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_ipv4_ihl_below_5_invalid),
		cmocka_unit_test(test_ipv4_total_below_header_invalid),
		cmocka_unit_test(test_ipv4_total_zero_is_offload),
		cmocka_unit_test(test_ipv4_options_skipped),
		cmocka_unit_test(test_ipv4_options_cut_truncated),
		cmocka_unit_test(test_ipv4_non_first_fragment_no_ports),
		cmocka_unit_test(test_ipv4_first_fragment_has_ports),
		cmocka_unit_test(test_ipv4_cut_after_14_bytes),
		cmocka_unit_test(test_ipv4_cut_after_src),
		cmocka_unit_test(test_ipv6_udp),
		cmocka_unit_test(test_ipv6_extension_chain_then_tcp),
		cmocka_unit_test(test_ipv6_first_fragment_has_ports),
		cmocka_unit_test(test_ipv6_non_first_fragment_no_ports),
		cmocka_unit_test(test_ipv6_extension_chain_cut_truncated),
		cmocka_unit_test(test_ipv6_cut_fragment_header_truncated),
		cmocka_unit_test(test_ipv6_39_bytes_src_only),
		cmocka_unit_test(test_ipv6_ah_stops_walk),
		cmocka_unit_test(test_ipv6_bad_version_invalid),
		cmocka_unit_test(test_tcp_data_offset_below_5_invalid),
		cmocka_unit_test(test_tcp_options_cut_truncated),
		cmocka_unit_test(test_tcp_options_complete),
		cmocka_unit_test(test_udp_length_below_8_invalid),
		cmocka_unit_test(test_sctp_ports_in_own_bit),
		cmocka_unit_test(test_ipip_inner_flow),
		cmocka_unit_test(test_6in4_inner_flow),
		cmocka_unit_test(test_gre_key_seq_ipv4_udp),
		cmocka_unit_test(test_gre_transparent_ethernet),
		cmocka_unit_test(test_vxlan_ethernet_ipv4_tcp),
		cmocka_unit_test(test_geneve_with_options),
		cmocka_unit_test(test_vxlan_cut_after_udp_header_truncated),
		cmocka_unit_test(test_empty_udp_to_vxlan_port_ok),
		cmocka_unit_test(test_layers_of_vxlan_frame),
		cmocka_unit_test(test_icmp_echo_request_info),
		cmocka_unit_test(test_icmpv6_neighbour_solicitation_info),
		cmocka_unit_test(test_nested_ipip_40_bounded),
		cmocka_unit_test(test_every_prefix_eth_ipv4_tcp),
		cmocka_unit_test(test_every_prefix_ipv6_extensions_udp),
		cmocka_unit_test(test_every_prefix_vxlan),
		cmocka_unit_test(test_every_prefix_full_frame_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
