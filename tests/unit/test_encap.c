/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The encapsulations of issue 14 through the public wl_dissect(), on frames
 * built byte by byte: data-centre shims (FabricPath, E-tag, TRILL, NSH),
 * tunnels (VXLAN-GPE, GTP, L2TP, LISP, MPLS over UDP, CAPWAP, LWAPP), IPsec,
 * serial links (Cisco HDLC, PPP), 802.11 with and without radiotap, and
 * Linux cooked captures of other ARPHRD types. Each frame is decoded from a
 * heap block of exactly its length, so AddressSanitizer sees any overread;
 * tests/captures/encap checks the same protocols against tshark.
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

#define OUT_A "192.0.2.1"
#define OUT_B "198.51.100.2"
#define IN_A "10.1.0.1"
#define IN_B "10.2.0.2"
#define IN6_A "2001:db8:1::1"
#define IN6_B "2001:db8:2::2"

static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x1a };
static const uint8_t MAC_D[6] = { 0x02, 0, 0, 0, 0, 0x1b };
static const uint8_t MAC_AP[6] = { 0x02, 0, 0, 0, 0, 0x0c };

/* ---- Building frames ------------------------------------------------------------ */

static void put_eth_macs(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	put_mem(f, dst, 6);
	put_mem(f, src, 6);
	put_u16(f, type);
}

static size_t put_ipv4(struct frame *f, uint8_t proto, const char *src, const char *dst)
{
	size_t at = f->n;

	put_u8(f, 0x45);
	put_u8(f, 0);
	put_u16(f, 0);
	put_u16(f, 1);
	put_u16(f, 0);
	put_u8(f, 64);
	put_u8(f, proto);
	put_u16(f, 0);
	put_addr(f, AF_INET, src);
	put_addr(f, AF_INET, dst);
	return at;
}

static size_t put_ipv6(struct frame *f, uint8_t nh, const char *src, const char *dst)
{
	size_t at = f->n;

	put_u32(f, 0x60000000);
	put_u16(f, 0);
	put_u8(f, nh);
	put_u8(f, 64);
	put_addr(f, AF_INET6, src);
	put_addr(f, AF_INET6, dst);
	return at;
}

static void end_ip(struct frame *f, size_t at)
{
	if (f->b[at] >> 4 == 4)
		set_u16(f, at + 2, (uint16_t)(f->n - at));
	else
		set_u16(f, at + 4, (uint16_t)(f->n - at - 40));
}

static size_t put_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	size_t at = f->n;

	put_u16(f, sport);
	put_u16(f, dport);
	put_u32(f, 0);
	return at;
}

static void end_udp(struct frame *f, size_t at)
{
	set_u16(f, at + 4, (uint16_t)(f->n - at));
}

static void put_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t flags)
{
	put_u16(f, sport);
	put_u16(f, dport);
	put_u32(f, 1000);
	put_u32(f, 0);
	put_u16(f, (uint16_t)(5 << 12 | flags));
	put_u16(f, 8192);
	put_u32(f, 0);
}

/* The tunnelled packet of most tests: IPv4 IN_A -> IN_B, UDP 33333 -> 9999, 4 bytes. */
static void put_inner_udp(struct frame *f)
{
	size_t ip = put_ipv4(f, 17, IN_A, IN_B);
	size_t udp = put_udp(f, 33333, 9999);

	put_u32(f, 0xdeadbeef);
	end_udp(f, udp);
	end_ip(f, ip);
}

static void put_inner_tcp6(struct frame *f)
{
	size_t ip = put_ipv6(f, 6, IN6_A, IN6_B);

	put_tcp(f, 40000, 443, 0x002);
	end_ip(f, ip);
}

static void put_inner_eth_udp(struct frame *f)
{
	put_eth_macs(f, MAC_D, MAC_C, 0x0800);
	put_inner_udp(f);
}

/* Ethernet, IPv4 OUT_A -> OUT_B, UDP to dport: the caller adds the payload. */
struct udp_frame {
	size_t ip, udp;
};

static struct udp_frame begin_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	struct udp_frame u;

	put_eth_macs(f, MAC_DST, MAC_SRC, 0x0800);
	u.ip = put_ipv4(f, 17, OUT_A, OUT_B);
	u.udp = put_udp(f, sport, dport);
	return u;
}

static void end_udp_frame(struct frame *f, struct udp_frame u)
{
	end_udp(f, u.udp);
	end_ip(f, u.ip);
}

/* ---- Decoding and checking --------------------------------------------------------- */

static struct wl_packet pkt;

static int dissect_n(int linktype, const struct frame *f, size_t caplen)
{
	uint8_t *copy = malloc(caplen ? caplen : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.len = (uint32_t)f->n;
	pkt.caplen = (uint32_t)caplen;
	r = wl_dissect(&pkt, linktype, copy, caplen);
	free(copy);

	assert_true(memchr(pkt.info, '\0', sizeof(pkt.info)) != NULL);
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

/* The packet's inner flow is put_inner_udp()'s. */
static void assert_inner_udp(void)
{
	assert_true(pkt.has & WL_PKT_INNER);
	assert_int_equal(pkt.inner.l3, WL_L3_IPV4);
	assert_addr(&pkt.inner.src, IN_A);
	assert_addr(&pkt.inner.dst, IN_B);
	assert_int_equal(pkt.inner.ipproto, 17);
	assert_int_equal(pkt.inner.sport, 33333);
	assert_int_equal(pkt.inner.dport, 9999);
}

/* The outer flow is begin_udp()'s, with dport. */
static void assert_outer_udp(uint16_t dport)
{
	assert_int_equal(pkt.outer.l3, WL_L3_IPV4);
	assert_addr(&pkt.outer.src, OUT_A);
	assert_addr(&pkt.outer.dst, OUT_B);
	assert_int_equal(pkt.outer.ipproto, 17);
	assert_int_equal(pkt.outer.dport, dport);
}

static bool has_layer(enum wl_proto proto)
{
	for (unsigned i = 0; i < pkt.n_layers; i++)
		if (pkt.layers[i].proto == proto)
			return true;
	return false;
}

/* Every prefix of f decodes without a crash, and those cut inside headers_end are truncated. */
static void check_every_prefix(int linktype, const struct frame *f, size_t headers_end)
{
	for (size_t n = 0; n <= f->n; n++) {
		int r = dissect_n(linktype, f, n);

		if (n < headers_end)
			assert_int_equal(r, -EMSGSIZE);
		else
			assert_int_equal(r, 0);
	}
}

/* ---- FabricPath, E-tag, TRILL ---------------------------------------------------- */

static void build_fabricpath(struct frame *f, bool tagged)
{
	static const uint8_t hdst[6] = { 0x02, 0x01, 0x23, 0x00, 0x00, 0x07 };
	static const uint8_t hsrc[6] = { 0x02, 0x04, 0x56, 0x00, 0x00, 0x09 };

	put_mem(f, hdst, 6);
	put_mem(f, hsrc, 6);
	if (tagged) {
		put_u16(f, 0x8100);
		put_u16(f, 100);
	}
	put_u16(f, 0x8903);
	put_u16(f, 5 << 6 | 32);
	put_inner_eth_udp(f);
	put_u32(f, 0xdeadbeef); /* FabricPath's FCS */
}

static void test_fabricpath_inner_frame_is_the_ethernet(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_fabricpath(&f, false);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	/* The outer addresses are switch ids, not MACs: the inner frame's are reported. */
	assert_true(pkt.has & WL_PKT_ETH);
	assert_memory_equal(pkt.eth_src, MAC_C, 6);
	assert_memory_equal(pkt.eth_dst, MAC_D, 6);
	assert_int_equal(pkt.layers[0].proto, WL_P_FABRICPATH);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV4);
	assert_addr(&pkt.outer.src, IN_A);
	assert_int_equal(pkt.outer.dport, 9999);
	assert_int_equal(pkt.n_vlan, 0);
}

static void test_fabricpath_behind_vlan_tag(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_fabricpath(&f, true);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.n_vlan, 0); /* the tag is FabricPath's, as tshark reads it */
	assert_memory_equal(pkt.eth_src, MAC_C, 6);
	assert_int_equal(pkt.outer.sport, 33333);
}

static void test_fabricpath_fcs_is_not_payload(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	build_fabricpath(&f, false);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	/* The FabricPath layer holds the FCS; the frame inside ends before it. */
	assert_true(pkt.n_layers > 1);
	for (unsigned i = 1; i < pkt.n_layers; i++)
		assert_true(pkt.layers[i].off + pkt.layers[i].len <= f.n - 4);
}

static void test_fabricpath_shorter_than_fcs_invalid(void **state)
{
	struct frame f = { .n = 0 };
	static const uint8_t hmac[6] = { 0x02, 0x01, 0x23, 0, 0, 7 };

	(void)state;
	put_mem(&f, hmac, 6);
	put_mem(&f, hmac, 6);
	put_u16(&f, 0x8903);
	put_u16(&f, 0x0120);
	put_u16(&f, 0); /* two bytes: no room for the FCS */
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), -EBADMSG);
	assert_int_equal(dissect_n(WL_LINK_ETHERNET, &f, 15), -EMSGSIZE);
}

static void test_etag_then_ipv4(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x893f);
	put_u16(&f, 3 << 13 | 0x012);
	put_u16(&f, 1 << 12 | 0x345);
	put_u8(&f, 0x01);
	put_u8(&f, 0x02);
	put_u16(&f, 0x0800);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_ETAG));
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6);
	assert_int_equal(pkt.outer.l3, WL_L3_IPV4);
	assert_int_equal(pkt.outer.dport, 9999);
	assert_false(pkt.has & WL_PKT_INNER);
	check_every_prefix(WL_LINK_ETHERNET, &f, 14 + 8 + 20 + 8);
}

static void test_etag_info_names_ecid(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x893f);
	put_u16(&f, 0);
	put_u16(&f, 0x0345);
	put_u8(&f, 0);
	put_u8(&f, 0x02);
	put_u16(&f, 0x88b5); /* nothing decodes it: E-tag has the last word */
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_ETAG);
	assert_string_equal(pkt.info, "E-Tag E-CID 9029"); /* 0x02 << 12 | 0x345 */
}

static void test_trill_with_options(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x22f3);
	put_u16(&f, 2 << 6 | 20); /* 8 bytes of options, hop count 20 */
	put_u16(&f, 0x0101);
	put_u16(&f, 0x0202);
	put_fill(&f, 0, 8);
	put_inner_eth_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_TRILL));
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6); /* the outer Ethernet is the frame's */
	assert_int_equal(pkt.outer.sport, 33333);
	/* Options cut short: truncated, not a wrong reading. */
	assert_int_equal(dissect_n(WL_LINK_ETHERNET, &f, 14 + 6 + 4), -EMSGSIZE);
}

/* ---- NSH and VXLAN-GPE ------------------------------------------------------------- */

static void put_nsh(struct frame *f, uint8_t md_type, uint8_t next)
{
	unsigned words = md_type == 1 ? 6 : 3;

	put_u16(f, (uint16_t)(63 << 6 | words));
	put_u8(f, md_type);
	put_u8(f, next);
	put_u32(f, 42 << 8 | 254);
	put_fill(f, 0, (words - 2) * 4);
}

static void test_nsh_md1_ipv4(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x894f);
	put_nsh(&f, 1, 1);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_NSH));
	assert_int_equal(pkt.outer.l3, WL_L3_IPV4);
	assert_addr(&pkt.outer.src, IN_A);
	check_every_prefix(WL_LINK_ETHERNET, &f, 14 + 24 + 20 + 8);
}

static void test_nsh_md2_ethernet(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x894f);
	put_nsh(&f, 2, 3);
	put_inner_eth_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6);
	assert_int_equal(pkt.outer.dport, 9999);
}

static void test_nsh_unknown_next_protocol_stops(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x894f);
	put_nsh(&f, 1, 0x7f);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_NSH);
	assert_string_equal(pkt.info, "Network Service Header SPI 42 SI 254");
	assert_int_equal(pkt.outer.l3, WL_L3_OTHER);
}

static void test_nsh_in_nsh_40_deep_bounded(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x894f);
	for (int i = 0; i < 40; i++)
		put_nsh(&f, 1, i == 39 ? 1 : 4);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), -ELOOP);
	assert_int_equal(pkt.malformed, WL_INVALID);
}

static void test_vxlan_gpe_nsh_ipv4_inner(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 50000, 4790);

	(void)state;
	put_u8(&f, 0x0c);
	put_u16(&f, 0);
	put_u8(&f, 4); /* next: NSH */
	put_u32(&f, 4242 << 8);
	put_nsh(&f, 1, 1);
	put_inner_udp(&f);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_VXLAN_GPE) && has_layer(WL_P_NSH));
	assert_outer_udp(4790);
	assert_inner_udp();
}

static void test_vxlan_gpe_ipv6_inner(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 50000, 4790);

	(void)state;
	put_u8(&f, 0x0c);
	put_u16(&f, 0);
	put_u8(&f, 2);
	put_u32(&f, 7 << 8);
	put_inner_tcp6(&f);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.inner.l3, WL_L3_IPV6);
	assert_addr(&pkt.inner.dst, IN6_B);
	assert_int_equal(pkt.inner.dport, 443);
	assert_int_equal(pkt.proto, WL_P_TCP);
}

/* ---- GTP --------------------------------------------------------------------------- */

static void test_gtpu_tpdu_inner_flow(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 2152, 2152);
	size_t gtp = f.n;

	(void)state;
	put_u8(&f, 0x30);
	put_u8(&f, 255);
	put_u16(&f, 0);
	put_u32(&f, 0x1234);
	put_inner_udp(&f);
	set_u16(&f, gtp + 2, (uint16_t)(f.n - gtp - 8));
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_GTP));
	assert_outer_udp(2152);
	assert_inner_udp();
}

/* Two extension headers (a PDU session container, then a UDP port), then IPv6. */
static void test_gtpu_extension_headers(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 2152, 2152);
	size_t gtp = f.n;

	(void)state;
	put_u8(&f, 0x34); /* E */
	put_u8(&f, 255);
	put_u16(&f, 0);
	put_u32(&f, 0x1235);
	put_u16(&f, 0);   /* sequence */
	put_u8(&f, 0);    /* N-PDU */
	put_u8(&f, 0x85); /* next: PDU session container */
	put_u8(&f, 1);
	put_u16(&f, 0x0009);
	put_u8(&f, 0x40); /* next: UDP port */
	put_u8(&f, 1);
	put_u16(&f, 2152);
	put_u8(&f, 0);    /* no more */
	put_inner_tcp6(&f);
	set_u16(&f, gtp + 2, (uint16_t)(f.n - gtp - 8));
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.inner.l3, WL_L3_IPV6);
	assert_int_equal(pkt.inner.dport, 443);
	/* Cut inside the second extension header: truncated. */
	assert_int_equal(dissect_n(WL_LINK_ETHERNET, &f, 14 + 20 + 8 + 12 + 4 + 2), -EMSGSIZE);
}

static void test_gtpu_zero_length_extension_invalid(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 2152, 2152);
	size_t gtp = f.n;

	(void)state;
	put_u8(&f, 0x34);
	put_u8(&f, 255);
	put_u16(&f, 0);
	put_u32(&f, 1);
	put_u32(&f, 0x85); /* sequence, N-PDU, next type */
	put_u32(&f, 0);    /* an extension header of length 0 */
	put_inner_udp(&f);
	set_u16(&f, gtp + 2, (uint16_t)(f.n - gtp - 8));
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), -EBADMSG);
	assert_false(pkt.has & WL_PKT_INNER);
}

static void test_gtp_length_past_datagram_invalid(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 2152, 2152);
	size_t gtp = f.n;

	(void)state;
	put_u8(&f, 0x30);
	put_u8(&f, 255);
	put_u16(&f, 0);
	put_u32(&f, 1);
	put_inner_udp(&f);
	set_u16(&f, gtp + 2, (uint16_t)(f.n - gtp - 8 + 100));
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), -EBADMSG);
	assert_inner_udp(); /* what there is still decodes, as tshark does */
}

static void test_gtp_unknown_message_is_not_gtp(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 40000, 2152);

	(void)state;
	put_u8(&f, 0x30);
	put_u8(&f, 9); /* undefined */
	put_u16(&f, 4);
	put_u32(&f, 1);
	put_u32(&f, 0);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_false(has_layer(WL_P_GTP));
	assert_int_equal(pkt.proto, WL_P_UDP);
}

static void test_gtpc_v1_and_v2_named(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 2123, 2123);

	(void)state;
	put_u8(&f, 0x32);
	put_u8(&f, 16);
	put_u16(&f, 4);
	put_u32(&f, 0);
	put_u32(&f, 7 << 16);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_GTP);
	assert_string_equal(pkt.info, "Create PDP context request");

	f.n = 0;
	u = begin_udp(&f, 2123, 2123);
	put_u8(&f, 0x48); /* version 2, TEID present */
	put_u8(&f, 32);
	put_u16(&f, 8);
	put_u32(&f, 0);
	put_u32(&f, 0x10 << 8);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_GTPV2);
	assert_string_equal(pkt.info, "Create Session Request");
}

/* ---- L2TP, LISP, MPLS over UDP ------------------------------------------------------ */

static void test_l2tpv2_data_ppp_inner(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 1701, 1701);
	size_t l2tp = f.n;

	(void)state;
	put_u16(&f, 0x4002); /* length present, version 2 */
	put_u16(&f, 0);
	put_u16(&f, 7);
	put_u16(&f, 9);
	put_u32(&f, 0xff030021); /* PPP: address, control, IPv4 */
	put_inner_udp(&f);
	set_u16(&f, l2tp + 2, (uint16_t)(f.n - l2tp));
	put_fill(&f, 0xee, 6); /* past the L2TP length: not PPP's */
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_L2TP) && has_layer(WL_P_PPP));
	assert_inner_udp();
}

static void test_l2tpv2_control_info(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 1701, 1701);

	(void)state;
	put_u16(&f, 0xc802);
	put_u16(&f, 20);
	put_u16(&f, 0);
	put_u16(&f, 0);
	put_u32(&f, 0);
	put_u16(&f, 0x8008); /* Message Type AVP: SCCRQ */
	put_u16(&f, 0);
	put_u16(&f, 0);
	put_u16(&f, 1);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_string_equal(pkt.info, "Control Message - SCCRQ (tunnel id=0, session id=0)");
}

static void test_l2tp_other_version_not_l2tp(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 1701, 1701);

	(void)state;
	put_u16(&f, 0x0005);
	put_u32(&f, 0);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_UDP);
}

static void test_l2tpv3_ip_ethernet_pseudowire(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x0800);
	size_t ip = put_ipv4(&f, 115, OUT_A, OUT_B);
	put_u32(&f, 0x11223344);
	put_inner_eth_udp(&f);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_L2TPV3));
	assert_int_equal(pkt.outer.ipproto, 115);
	assert_inner_udp();
}

static void test_l2tpv3_ip_control_info(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x0800);
	size_t ip = put_ipv4(&f, 115, OUT_A, OUT_B);
	put_u32(&f, 0);      /* session 0: control */
	put_u16(&f, 0xc803);
	put_u16(&f, 20);
	put_u32(&f, 0x55);
	put_u32(&f, 0);
	put_u16(&f, 0x8008);
	put_u16(&f, 0);
	put_u16(&f, 0);
	put_u16(&f, 10); /* ICRQ */
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_string_equal(pkt.info, "Control Message - ICRQ (ccid=0x00000055)");
}

static void test_lisp_ipv6_inner(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 4341, 4341);

	(void)state;
	put_u32(&f, 0x88123456); /* N and I flags, nonce */
	put_u32(&f, 77 << 8);
	put_inner_tcp6(&f);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_LISP));
	assert_int_equal(pkt.inner.l3, WL_L3_IPV6);
	assert_addr(&pkt.inner.src, IN6_A);
}

static void test_mpls_over_udp(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 6635, 6635);

	(void)state;
	put_u32(&f, 1000 << 12 | 1 << 8 | 64);
	put_inner_udp(&f);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_MPLS));
	assert_inner_udp();
}

static void test_nvgre_key_and_ethernet(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x0800);
	size_t ip = put_ipv4(&f, 47, OUT_A, OUT_B);
	put_u16(&f, 0x3000); /* key and sequence */
	put_u16(&f, 0x6558);
	put_u32(&f, 5000 << 8 | 7);
	put_u32(&f, 1234);
	put_inner_eth_udp(&f);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_memory_equal(pkt.eth_src, MAC_SRC, 6);
	assert_inner_udp();
}

/* ---- CAPWAP and LWAPP --------------------------------------------------------------- */

static void put_capwap(struct frame *f, unsigned flags, bool radio_mac)
{
	unsigned hlen = radio_mac ? 4 : 2;

	put_u8(f, 0);
	put_u8(f, (uint8_t)(hlen << 3));
	put_u16(f, (uint16_t)(1 << 14 | 1 << 9 | flags));
	put_u16(f, 7);
	put_u16(f, 0);
	if (radio_mac) {
		put_u8(f, 6);
		put_mem(f, MAC_AP, 6);
		put_u8(f, 0);
	}
}

/* An 802.11 data frame to the DS carrying LLC/SNAP and put_inner_udp(). */
static void put_dot11_data(struct frame *f, bool swapped)
{
	put_u8(f, swapped ? 0x01 : 0x08);
	put_u8(f, swapped ? 0x08 : 0x01);
	put_u16(f, 0);
	put_mem(f, MAC_AP, 6);
	put_mem(f, MAC_C, 6);
	put_mem(f, MAC_D, 6);
	put_u16(f, 0x2001);
	put_u32(f, 0xaaaa0300);
	put_u16(f, 0x0000);
	put_u16(f, 0x0800);
	put_inner_udp(f);
}

static void test_capwap_ethernet_and_80211(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 5247, 5247);

	(void)state;
	put_capwap(&f, 0, false);
	put_inner_eth_udp(&f);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_CAPWAP_DATA));
	assert_inner_udp();

	f.n = 0;
	u = begin_udp(&f, 5247, 5247);
	put_capwap(&f, 0x100, true); /* a native frame, after a radio MAC */
	put_dot11_data(&f, true);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_WLAN));
	assert_inner_udp();
}

static void test_capwap_fragment_not_decoded(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 5247, 5247);

	(void)state;
	put_capwap(&f, 0x80, false);
	put_inner_eth_udp(&f);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_false(pkt.has & WL_PKT_INNER);
	assert_string_equal(pkt.info, "CAPWAP-Data (Fragment ID: 7, Fragment Offset: 0)");
}

static void test_lwapp_to_control_port_has_mac(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 20105, 12223);

	(void)state;
	put_mem(&f, MAC_AP, 6); /* datagrams to 12223 start with a MAC */
	put_u8(&f, 0);
	put_u8(&f, 0);
	put_u16(&f, 0);
	put_u16(&f, 0);
	put_dot11_data(&f, false);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_LWAPP) && has_layer(WL_P_WLAN));
	assert_inner_udp();
}

/* ---- IPsec -------------------------------------------------------------------------- */

static void test_esp_spi_and_sequence(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x0800);
	size_t ip = put_ipv4(&f, 50, OUT_A, OUT_B);
	put_u32(&f, 0xc0ffee);
	put_u32(&f, 17);
	put_fill(&f, 0x99, 40);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_ESP);
	assert_string_equal(pkt.info, "ESP (SPI=0x00c0ffee) Seq=17");
	assert_int_equal(pkt.outer.ipproto, 50);
	assert_false(pkt.outer.has & WL_HAS_SPORT);
	assert_int_equal(dissect_n(WL_LINK_ETHERNET, &f, 14 + 20 + 6), -EMSGSIZE);
}

static void test_esp_in_udp_keepalive_and_ike(void **state)
{
	struct frame f = { .n = 0 };
	struct udp_frame u = begin_udp(&f, 4500, 4500);

	(void)state;
	put_u32(&f, 0xabcd);
	put_u32(&f, 9);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_string_equal(pkt.info, "ESP (SPI=0x0000abcd) Seq=9");
	assert_int_equal(pkt.outer.dport, 4500);

	f.n = 0;
	u = begin_udp(&f, 4500, 4500);
	put_u8(&f, 0xff);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_string_equal(pkt.info, "NAT-keepalive");

	f.n = 0;
	u = begin_udp(&f, 4500, 4500);
	put_u32(&f, 0);
	put_fill(&f, 1, 28);
	end_udp_frame(&f, u);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_ISAKMP);
}

static void test_ah_then_tcp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x0800);
	size_t ip = put_ipv4(&f, 51, OUT_A, OUT_B);
	put_u8(&f, 6);
	put_u8(&f, 4); /* 24 bytes */
	put_u16(&f, 0);
	put_u32(&f, 0x1001);
	put_u32(&f, 3);
	put_fill(&f, 0x11, 12);
	put_tcp(&f, 40000, 22, 0x002);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_true(has_layer(WL_P_AH));
	assert_int_equal(pkt.proto, WL_P_TCP);
	/* Behind AH, the ports are not the IP header's own transport header. */
	assert_int_equal(pkt.outer.ipproto, 51);
	assert_false(pkt.outer.has & (WL_HAS_SPORT | WL_HAS_DPORT | WL_HAS_TCP_FLAGS));
	check_every_prefix(WL_LINK_ETHERNET, &f, 14 + 20 + 24 + 20);
}

/* A length of 0 says 8 bytes: the next header starts there, inside what would be the sequence. */
static void test_ah_zero_length_next_header_at_8(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth_macs(&f, MAC_DST, MAC_SRC, 0x0800);
	size_t ip = put_ipv4(&f, 51, OUT_A, OUT_B);
	size_t ah = f.n;
	put_u8(&f, 17);
	put_u8(&f, 0);
	put_u16(&f, 0);
	put_u32(&f, 0x1001);
	size_t udp = put_udp(&f, 40000, 9999);
	put_u32(&f, 0);
	end_udp(&f, udp);
	end_ip(&f, ip);
	assert_int_equal(dissect(WL_LINK_ETHERNET, &f), 0);
	assert_int_equal(pkt.proto, WL_P_UDP);
	assert_int_equal(pkt.layers[pkt.n_layers - 1].off, ah + 8);
}

/* ---- Serial links --------------------------------------------------------------------- */

static void test_chdlc_ipv4_and_slarp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_u16(&f, 0x0f00);
	put_u16(&f, 0x0800);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_C_HDLC, &f), 0);
	assert_int_equal(pkt.layers[0].proto, WL_P_CHDLC);
	assert_addr(&pkt.outer.src, IN_A);
	assert_false(pkt.has & WL_PKT_ETH);

	f.n = 0;
	put_u16(&f, 0x8f00);
	put_u16(&f, 0x8035);
	put_u32(&f, 2);
	put_u32(&f, 10);
	put_u32(&f, 9);
	put_u16(&f, 0xffff);
	assert_int_equal(dissect(WL_LINK_C_HDLC, &f), 0);
	assert_int_equal(pkt.proto, WL_P_SLARP);
	assert_string_equal(pkt.info, "Line keepalive, outgoing sequence 10, returned sequence 9");
	check_every_prefix(WL_LINK_C_HDLC, &f, 16);
}

static void test_ppp_links_with_and_without_hdlc_bytes(void **state)
{
	static const int links[] = { WL_LINK_PPP, WL_LINK_PPP_HDLC };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct frame f = { .n = 0 };

		put_u32(&f, 0xff030021);
		put_inner_udp(&f);
		assert_int_equal(dissect(links[i], &f), 0);
		assert_int_equal(pkt.layers[0].proto, WL_P_PPP);
		assert_addr(&pkt.outer.dst, IN_B);

		f.n = 0;
		put_u8(&f, 0x21); /* address, control and protocol compressed */
		put_inner_udp(&f);
		assert_int_equal(dissect(links[i], &f), 0);
		assert_int_equal(pkt.outer.sport, 33333);
	}
}

static void test_ppp_hdlc_link_takes_cisco_hdlc(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_u16(&f, 0x0f00);
	put_u16(&f, 0x0800);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_PPP_HDLC, &f), 0);
	assert_int_equal(pkt.layers[0].proto, WL_P_CHDLC);
	assert_int_equal(pkt.outer.dport, 9999);
}

/* ---- 802.11 ------------------------------------------------------------------------------ */

static void put_mgmt_header(struct frame *f, uint8_t subtype, uint16_t seq)
{
	put_u8(f, (uint8_t)(subtype << 4));
	put_u8(f, 0);
	put_u16(f, 0);
	put_fill(f, 0xff, 6);
	put_mem(f, MAC_AP, 6);
	put_mem(f, MAC_AP, 6);
	put_u8(f, (uint8_t)(seq << 4));
	put_u8(f, (uint8_t)(seq >> 4));
}

static void put_beacon(struct frame *f, const void *ssid, size_t len)
{
	put_mgmt_header(f, 8, 100);
	put_fill(f, 0, 8);   /* timestamp */
	put_u8(f, 100);      /* beacon interval, little-endian */
	put_u8(f, 0);
	put_u16(f, 0x1104);  /* capabilities */
	put_u8(f, 0);        /* SSID */
	put_u8(f, (uint8_t)len);
	put_mem(f, ssid, len);
	put_u8(f, 1);        /* supported rates */
	put_u8(f, 1);
	put_u8(f, 0x82);
}

static void test_wlan_beacon_ssid_escaped(void **state)
{
	static const char ssid[] = "<b>\"x\"\\\x01";
	struct frame f = { .n = 0 };

	(void)state;
	put_beacon(&f, ssid, sizeof(ssid) - 1);
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_int_equal(pkt.proto, WL_P_WLAN);
	assert_string_equal(pkt.info, "Beacon frame, SN=100, FN=0, Flags=........, BI=100, "
				      "SSID=\"<b>\\x22x\\x22\\x5c\\x01\"");
	assert_int_equal(pkt.outer.l3, WL_L3_NONE);
	assert_false(pkt.has & WL_PKT_ETH);
}

static void test_wlan_long_ssid_bounded_and_quoted(void **state)
{
	uint8_t ssid[255];
	struct frame f = { .n = 0 };

	(void)state;
	memset(ssid, 0xfe, sizeof(ssid));
	put_beacon(&f, ssid, sizeof(ssid));
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	size_t n = strlen(pkt.info);

	assert_true(n < WL_INFO_MAX);
	assert_int_equal(pkt.info[n - 1], '"');
	assert_non_null(strstr(pkt.info, "SSID=\"\\xfe\\xfe"));
}

static void test_wlan_probe_request_wildcard(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_mgmt_header(&f, 4, 1);
	put_u16(&f, 0x0000); /* SSID, length 0 */
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_string_equal(pkt.info, "Probe Request, SN=1, FN=0, Flags=........, SSID=Wildcard (Broadcast)");
}

static void test_wlan_ssid_past_frame(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_mgmt_header(&f, 4, 1);
	put_u8(&f, 0);
	put_u8(&f, 20); /* 20 bytes promised, 3 given */
	put_mem(&f, "abc", 3);
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), -EBADMSG);
	assert_int_equal(dissect_n(WL_LINK_IEEE802_11, &f, f.n - 1), -EMSGSIZE);
}

static void test_wlan_data_llc_ipv4(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_dot11_data(&f, false);
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_true(has_layer(WL_P_LLC));
	assert_int_equal(pkt.outer.l3, WL_L3_IPV4);
	assert_addr(&pkt.outer.src, IN_A);
	assert_int_equal(pkt.outer.dport, 9999);
	check_every_prefix(WL_LINK_IEEE802_11, &f, 24 + 8 + 20 + 8);
}

/* QoS data with an HT Control field (+HTC), then LLC. */
static void test_wlan_qos_htc(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_u8(&f, 0x88);
	put_u8(&f, 0x81); /* to DS, order */
	put_u16(&f, 0);
	put_mem(&f, MAC_AP, 6);
	put_mem(&f, MAC_C, 6);
	put_mem(&f, MAC_D, 6);
	put_u16(&f, 0x0010);
	put_u16(&f, 0x0005); /* QoS control: TID 5 */
	put_u32(&f, 0);      /* HT control */
	put_u32(&f, 0xaaaa0300);
	put_u16(&f, 0);
	put_u16(&f, 0x0800);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_addr(&pkt.outer.dst, IN_B);
	assert_int_equal(pkt.proto, WL_P_UDP);
}

static void test_wlan_protected_not_decoded(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_dot11_data(&f, false);
	f.b[1] |= 0x40; /* protected */
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_int_equal(pkt.proto, WL_P_WLAN);
	assert_int_equal(pkt.outer.l3, WL_L3_NONE);
	assert_string_equal(pkt.info, "Data, SN=18, FN=0, Flags=.p.....T"); /* 0x0120, little-endian */
}

static void test_wlan_fragment_not_decoded(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_dot11_data(&f, false);
	f.b[22] = 0x00; /* fragment 0 ... */
	f.b[1] |= 0x04; /* ... with more to come */
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_int_equal(pkt.proto, WL_P_WLAN);
	assert_int_equal(pkt.outer.l3, WL_L3_NONE);
}

static void test_wlan_amsdu_first_subframe(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_u8(&f, 0x88);
	put_u8(&f, 0x02); /* from DS */
	put_u16(&f, 0);
	put_mem(&f, MAC_C, 6);
	put_mem(&f, MAC_AP, 6);
	put_mem(&f, MAC_D, 6);
	put_u16(&f, 0x0010);
	put_u16(&f, 0x0080); /* A-MSDU present */
	put_mem(&f, MAC_C, 6);
	put_mem(&f, MAC_D, 6);
	size_t len = f.n;
	put_u16(&f, 0);
	put_u32(&f, 0xaaaa0300);
	put_u16(&f, 0);
	put_u16(&f, 0x0800);
	put_inner_udp(&f);
	set_u16(&f, len, (uint16_t)(f.n - len - 2));
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_addr(&pkt.outer.src, IN_A);
	assert_int_equal(pkt.outer.sport, 33333);
}

static void test_wlan_control_frames(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_u8(&f, 0xd4); /* ACK */
	put_u8(&f, 0);
	put_u16(&f, 0);
	put_mem(&f, MAC_C, 6);
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_string_equal(pkt.info, "Acknowledgement, Flags=........");
	assert_int_equal(dissect_n(WL_LINK_IEEE802_11, &f, 9), -EMSGSIZE);

	f.n = 0;
	put_u8(&f, 0xb4); /* RTS */
	put_u8(&f, 0);
	put_u16(&f, 500);
	put_mem(&f, MAC_AP, 6);
	put_mem(&f, MAC_C, 6);
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_string_equal(pkt.info, "Request-to-send, Flags=........");
}

static void test_wlan_other_protocol_versions_named(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_dot11_data(&f, false);
	f.b[0] |= 2;
	assert_int_equal(dissect(WL_LINK_IEEE802_11, &f), 0);
	assert_string_equal(pkt.info, "Unknown protocol version: 2");
	assert_int_equal(pkt.outer.l3, WL_L3_NONE);
}

/* Radiotap: TSFT, Flags (FCS at end, data pad), rate; the frame ends in an FCS. */
static void put_radiotap(struct frame *f, uint8_t flags, bool extended)
{
	put_u8(f, 0);
	put_u8(f, 0);
	size_t len = f->n;
	put_u16(f, 0);
	put_u8(f, 0x07);
	put_u8(f, 0);
	put_u8(f, 0);
	put_u8(f, extended ? 0x80 : 0);
	if (extended)
		put_u32(f, 0); /* a second present word (little-endian, empty) */
	while (f->n % 8)
		put_u8(f, 0);  /* TSFT is 8-aligned */
	put_fill(f, 0x11, 8);
	put_u8(f, flags);
	put_u8(f, 2);
	f->b[len] = (uint8_t)(f->n - len + 2);
	f->b[len + 1] = 0;
}

static void test_radiotap_fcs_stripped(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_radiotap(&f, 0x10, false);
	put_dot11_data(&f, false);
	put_u32(&f, 0x12345678); /* FCS */
	assert_int_equal(dissect(WL_LINK_IEEE802_11_RADIOTAP, &f), 0);
	assert_int_equal(pkt.layers[0].proto, WL_P_RADIOTAP);
	assert_true(has_layer(WL_P_WLAN));
	assert_int_equal(pkt.outer.dport, 9999);
	/* No layer above radiotap covers the FCS. */
	assert_true(pkt.n_layers > 1);
	for (unsigned i = 1; i < pkt.n_layers; i++)
		assert_true(pkt.layers[i].off + pkt.layers[i].len <= f.n - 4);
}

static void test_radiotap_extended_bitmap_and_datapad(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_radiotap(&f, 0x20, true);
	put_u8(&f, 0x88); /* QoS data: 26 bytes of header, padded to 28 */
	put_u8(&f, 0x01);
	put_u16(&f, 0);
	put_mem(&f, MAC_AP, 6);
	put_mem(&f, MAC_C, 6);
	put_mem(&f, MAC_D, 6);
	put_u16(&f, 0x0010);
	put_u16(&f, 0);
	put_u16(&f, 0); /* the pad */
	put_u32(&f, 0xaaaa0300);
	put_u16(&f, 0);
	put_u16(&f, 0x0800);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_IEEE802_11_RADIOTAP, &f), 0);
	assert_addr(&pkt.outer.src, IN_A);
}

static void test_radiotap_bad_headers(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_radiotap(&f, 0, false);
	put_dot11_data(&f, false);
	f.b[0] = 1; /* version 1 does not exist */
	assert_int_equal(dissect(WL_LINK_IEEE802_11_RADIOTAP, &f), -EBADMSG);
	f.b[0] = 0;
	f.b[2] = 4; /* shorter than its own fixed part */
	assert_int_equal(dissect(WL_LINK_IEEE802_11_RADIOTAP, &f), -EBADMSG);
	f.b[2] = 0xff; /* longer than the frame */
	f.b[3] = 0x7f;
	assert_int_equal(dissect(WL_LINK_IEEE802_11_RADIOTAP, &f), -EBADMSG);
	assert_int_equal(dissect_n(WL_LINK_IEEE802_11_RADIOTAP, &f, 30), -EMSGSIZE);
}

/* ---- Linux cooked captures of other ARPHRD types -------------------------------------- */

static void put_sll(struct frame *f, uint16_t hatype, uint16_t protocol)
{
	put_u16(f, 0);
	put_u16(f, hatype);
	put_u16(f, 6);
	put_mem(f, MAC_C, 6);
	put_u16(f, 0);
	put_u16(f, protocol);
}

static void test_sll_radiotap_ethernet_ppp_netlink(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_sll(&f, 803, 0x0003);
	put_radiotap(&f, 0, false);
	put_dot11_data(&f, false);
	assert_int_equal(dissect(WL_LINK_SLL, &f), 0);
	assert_true(has_layer(WL_P_RADIOTAP));
	assert_int_equal(pkt.outer.dport, 9999);

	f.n = 0;
	put_sll(&f, 1, 0x0003); /* a whole Ethernet frame */
	put_inner_eth_udp(&f);
	assert_int_equal(dissect(WL_LINK_SLL, &f), 0);
	assert_memory_equal(pkt.eth_src, MAC_C, 6);
	assert_int_equal(pkt.outer.sport, 33333);

	f.n = 0;
	put_sll(&f, 512, 0x0007); /* PPP */
	put_u32(&f, 0xff030021);
	put_inner_udp(&f);
	assert_int_equal(dissect(WL_LINK_SLL, &f), 0);
	assert_true(has_layer(WL_P_PPP));
	assert_addr(&pkt.outer.src, IN_A);

	f.n = 0;
	put_sll(&f, 824, 0);
	put_fill(&f, 0, 20);
	assert_int_equal(dissect(WL_LINK_SLL, &f), 0);
	assert_int_equal(pkt.proto, WL_P_NETLINK);
}

/* ---- The detail tree --------------------------------------------------------------------- */

static void test_tree_of_beacon_escapes_ssid(void **state)
{
	static struct wl_field fields[64];
	struct wl_tree tree = { .fields = fields, .max = 64 };
	struct frame f = { .n = 0 };
	bool seen = false;

	(void)state;
	put_radiotap(&f, 0, false);
	put_beacon(&f, "a\x07<", 3);
	memset(&pkt, 0, sizeof(pkt));
	pkt.len = pkt.caplen = (uint32_t)f.n;
	assert_int_equal(wl_dissect_tree(&pkt, WL_LINK_IEEE802_11_RADIOTAP, f.b, f.n, &tree), 0);
	for (unsigned i = 0; i < tree.n; i++) {
		assert_true((size_t)fields[i].off + fields[i].len <= f.n);
		if (strcmp(fields[i].name, "SSID") == 0) {
			assert_string_equal(fields[i].value, "a\\x07<");
			seen = true;
		}
	}
	assert_true(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fabricpath_inner_frame_is_the_ethernet),
		cmocka_unit_test(test_fabricpath_behind_vlan_tag),
		cmocka_unit_test(test_fabricpath_fcs_is_not_payload),
		cmocka_unit_test(test_fabricpath_shorter_than_fcs_invalid),
		cmocka_unit_test(test_etag_then_ipv4),
		cmocka_unit_test(test_etag_info_names_ecid),
		cmocka_unit_test(test_trill_with_options),
		cmocka_unit_test(test_nsh_md1_ipv4),
		cmocka_unit_test(test_nsh_md2_ethernet),
		cmocka_unit_test(test_nsh_unknown_next_protocol_stops),
		cmocka_unit_test(test_nsh_in_nsh_40_deep_bounded),
		cmocka_unit_test(test_vxlan_gpe_nsh_ipv4_inner),
		cmocka_unit_test(test_vxlan_gpe_ipv6_inner),
		cmocka_unit_test(test_gtpu_tpdu_inner_flow),
		cmocka_unit_test(test_gtpu_extension_headers),
		cmocka_unit_test(test_gtpu_zero_length_extension_invalid),
		cmocka_unit_test(test_gtp_length_past_datagram_invalid),
		cmocka_unit_test(test_gtp_unknown_message_is_not_gtp),
		cmocka_unit_test(test_gtpc_v1_and_v2_named),
		cmocka_unit_test(test_l2tpv2_data_ppp_inner),
		cmocka_unit_test(test_l2tpv2_control_info),
		cmocka_unit_test(test_l2tp_other_version_not_l2tp),
		cmocka_unit_test(test_l2tpv3_ip_ethernet_pseudowire),
		cmocka_unit_test(test_l2tpv3_ip_control_info),
		cmocka_unit_test(test_lisp_ipv6_inner),
		cmocka_unit_test(test_mpls_over_udp),
		cmocka_unit_test(test_nvgre_key_and_ethernet),
		cmocka_unit_test(test_capwap_ethernet_and_80211),
		cmocka_unit_test(test_capwap_fragment_not_decoded),
		cmocka_unit_test(test_lwapp_to_control_port_has_mac),
		cmocka_unit_test(test_esp_spi_and_sequence),
		cmocka_unit_test(test_esp_in_udp_keepalive_and_ike),
		cmocka_unit_test(test_ah_then_tcp),
		cmocka_unit_test(test_ah_zero_length_next_header_at_8),
		cmocka_unit_test(test_chdlc_ipv4_and_slarp),
		cmocka_unit_test(test_ppp_links_with_and_without_hdlc_bytes),
		cmocka_unit_test(test_ppp_hdlc_link_takes_cisco_hdlc),
		cmocka_unit_test(test_wlan_beacon_ssid_escaped),
		cmocka_unit_test(test_wlan_long_ssid_bounded_and_quoted),
		cmocka_unit_test(test_wlan_probe_request_wildcard),
		cmocka_unit_test(test_wlan_ssid_past_frame),
		cmocka_unit_test(test_wlan_data_llc_ipv4),
		cmocka_unit_test(test_wlan_qos_htc),
		cmocka_unit_test(test_wlan_protected_not_decoded),
		cmocka_unit_test(test_wlan_fragment_not_decoded),
		cmocka_unit_test(test_wlan_amsdu_first_subframe),
		cmocka_unit_test(test_wlan_control_frames),
		cmocka_unit_test(test_wlan_other_protocol_versions_named),
		cmocka_unit_test(test_radiotap_fcs_stripped),
		cmocka_unit_test(test_radiotap_extended_bitmap_and_datapad),
		cmocka_unit_test(test_radiotap_bad_headers),
		cmocka_unit_test(test_sll_radiotap_ethernet_ppp_netlink),
		cmocka_unit_test(test_tree_of_beacon_escapes_ssid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
