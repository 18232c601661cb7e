/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Serial links: Cisco HDLC (link type 104) with its SLARP keepalives, and
 * PPP captured as link types 9 and 50, which libpcap and Wireshark treat
 * alike: PPP in HDLC-like framing (RFC 1662) unless the first byte is a
 * Cisco HDLC address, as routers put both on the same wire.
 */
#include "dissect.h"

#define CHDLC_ADDR_UNICAST 0x0f
#define CHDLC_ADDR_MULTICAST 0x8f
#define CHDLC_SLARP 0x8035

/* The Cisco HDLC protocols carried on, as the ethertypes they are. */
static bool chdlc_carries(uint16_t protocol)
{
	switch (protocol) {
	case 0x0800: /* IPv4 */
	case 0x86dd: /* IPv6 */
	case 0x8847: /* MPLS */
	case 0x8848:
	case 0x6558: /* bridged Ethernet */
		return true;
	default:
		return false;
	}
}

static const char *const slarp_types[] = { "Request", "Reply", "Line keepalive" };

static void summarise_slarp(struct wl_dctx *d, uint32_t code, uint32_t a, uint32_t b)
{
	struct wl_sb info = wl_info(d);
	struct wl_addr addr = { .family = 4 }, mask = { .family = 4 };

	if (code > 2) {
		wl_sb_str(&info, "Unknown packet type 0x");
		wl_sb_hex(&info, code, 8);
		return;
	}
	wl_sb_str(&info, slarp_types[code]);
	if (code == 2) {
		wl_sb_str(&info, ", outgoing sequence ");
		wl_sb_u64(&info, a);
		wl_sb_str(&info, ", returned sequence ");
		wl_sb_u64(&info, b);
		return;
	}
	for (int i = 0; i < 4; i++) {
		addr.b[i] = (uint8_t)(a >> (24 - 8 * i));
		mask.b[i] = (uint8_t)(b >> (24 - 8 * i));
	}
	wl_sb_str(&info, ", from ");
	wl_sb_addr(&info, &addr);
	wl_sb_str(&info, ", mask ");
	wl_sb_addr(&info, &mask);
}

/* SLARP: a code, then two words (address and mask, or two sequence numbers). */
static int decode_slarp(struct wl_dctx *d, struct cursor *c)
{
	uint32_t code, a, b;

	wl_enter(d, WL_P_SLARP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_SLARP, "Cisco SLARP", c);
	if (cur_be32(c, &code) < 0 || cur_be32(c, &a) < 0 || cur_be32(c, &b) < 0)
		return wl_fail_short(d, c);
	if (d->tree) {
		wl_tree_named(d, c, 0, 4, "Packet type", code, code <= 2 ? slarp_types[code] : NULL);
		wl_tree_uint(d, c, 4, 4, code == 2 ? "Outgoing sequence number" : "Address", a);
		wl_tree_uint(d, c, 8, 4, code == 2 ? "Returned sequence number" : "Netmask", b);
	}
	summarise_slarp(d, code, a, b);
	return 0;
}

/* Address, control, then an ethertype-like protocol. */
int wl_decode_chdlc(struct wl_dctx *d, struct cursor *c)
{
	uint8_t addr, control;
	uint16_t protocol;

	wl_enter(d, WL_P_CHDLC, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_CHDLC, "Cisco HDLC", c);
	if (cur_u8(c, &addr) < 0 || cur_u8(c, &control) < 0 ||
	    cur_be16(c, &protocol) < 0)
		return wl_fail_short(d, c);
	if (d->tree) {
		wl_tree_named(d, c, 0, 1, "Address", addr,
			      addr == CHDLC_ADDR_UNICAST ? "Unicast" : addr == CHDLC_ADDR_MULTICAST ? "Multicast" : NULL);
		wl_tree_hex(d, c, 1, 1, "Control", control);
		if (protocol == CHDLC_SLARP)
			wl_tree_text(d, c, 2, 2, "Protocol", "SLARP (0x8035)");
		else
			wl_tree_ethertype(d, c, 2, "Protocol", protocol);
	}
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "CHDLC protocol 0x");
	wl_sb_hex(&info, protocol, 4);

	struct cursor payload = cur_rest(c);
	if (protocol == CHDLC_SLARP)
		return decode_slarp(d, &payload);
	return chdlc_carries(protocol) ? wl_dispatch_ethertype(d, protocol, &payload) : 0;
}

/*
 * Link types 9 and 50: PPP, with or without the 0xff 0x03 address and
 * control bytes, or a Cisco HDLC frame on the same link.
 */
int wl_decode_ppp_hdlc(struct wl_dctx *d, struct cursor *c)
{
	uint8_t first;

	if (cur_peek_u8(c, c->off, &first) < 0)
		return wl_fail_short(d, c);
	if (first == CHDLC_ADDR_UNICAST || first == CHDLC_ADDR_MULTICAST)
		return wl_decode_chdlc(d, c);
	return wl_decode_ppp(d, c);
}
