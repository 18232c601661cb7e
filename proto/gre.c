/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GRE (RFC 2784/2890), the enhanced GRE of PPTP (RFC 2637, version 1) and
 * the ERSPAN headers that ride on it. The payload goes to the ethertype
 * table, so IPv4/IPv6 inside GRE become the packet's inner flow.
 */
#include "dissect.h"

#define GRE_CHECKSUM 0x8000
#define GRE_ROUTING 0x4000
#define GRE_KEY 0x2000
#define GRE_SEQ 0x1000
#define GRE_ACK 0x0080
#define GRE_VERSION 0x0007

#define GRE_PROTO_PPP 0x880b
#define GRE_PROTO_ERSPAN2 0x88be
#define GRE_PROTO_ERSPAN3 0x22eb

/* Source route entries (RFC 1701), up to the null entry that ends them. */
static int skip_routing(struct cursor *c)
{
	for (;;) {
		uint16_t family;
		uint8_t offset, len;
		int r;

		if ((r = cur_be16(c, &family)) < 0 || (r = cur_u8(c, &offset)) < 0 ||
		    (r = cur_u8(c, &len)) < 0)
			return r;
		if (family == 0 && len == 0)
			return 0;
		if ((r = cur_skip(c, len)) < 0)
			return r;
	}
}

static int skip_optional_fields(uint16_t flags, struct cursor *c)
{
	size_t words = !!(flags & (GRE_CHECKSUM | GRE_ROUTING)) + !!(flags & GRE_KEY) +
		       !!(flags & GRE_SEQ) + ((flags & GRE_VERSION) == 1 && (flags & GRE_ACK));
	int r;

	if ((r = cur_skip(c, words * 4)) < 0)
		return r;
	return (flags & GRE_ROUTING) && (flags & GRE_VERSION) == 0 ? skip_routing(c) : 0;
}

/* ERSPAN type II has an 8-byte header, type III 12 and an optional 8 more. */
static int decode_erspan(struct wl_dctx *d, uint16_t protocol, uint16_t gre_flags, struct cursor *c)
{
	uint32_t word;
	int r;

	if (protocol == GRE_PROTO_ERSPAN2 && !(gre_flags & GRE_SEQ)) {
		/* Type I: no ERSPAN header at all. */
	} else if (protocol == GRE_PROTO_ERSPAN2) {
		if ((r = cur_skip(c, 8)) < 0)
			return wl_fail(d, r);
	} else {
		if ((r = cur_skip(c, 8)) < 0 || (r = cur_be32(c, &word)) < 0)
			return wl_fail(d, r);
		if ((word & 1) && (r = cur_skip(c, 8)) < 0) /* platform-specific subheader */
			return wl_fail(d, r);
	}
	struct cursor frame = cur_rest(c);
	return wl_decode_ethernet(d, &frame);
}

/* Flags, protocol, and the optional key and sequence number when captured. */
static void tree_gre(struct wl_dctx *d, const struct cursor *c, uint16_t flags, uint16_t protocol)
{
	struct cursor opt = *c;
	uint32_t word;

	wl_tree_hex(d, c, 0, 2, "Flags and version", flags);
	wl_tree_flag(d, c, 0, 1, "Checksum", flags, GRE_CHECKSUM);
	wl_tree_flag(d, c, 0, 1, "Routing", flags, GRE_ROUTING);
	wl_tree_flag(d, c, 0, 1, "Key", flags, GRE_KEY);
	wl_tree_flag(d, c, 0, 1, "Sequence number", flags, GRE_SEQ);
	d->tree_depth = 2;
	wl_tree_uint(d, c, 1, 1, "Version", flags & GRE_VERSION);
	wl_tree_pop(d);
	wl_tree_ethertype(d, c, 2, "Protocol type", protocol);
	if ((flags & (GRE_CHECKSUM | GRE_ROUTING)) && cur_be32(&opt, &word) == 0)
		wl_tree_hex(d, c, opt.off - 4, 2, "Checksum", word >> 16);
	if ((flags & GRE_KEY) && cur_be32(&opt, &word) == 0)
		wl_tree_hex(d, c, opt.off - 4, 4, "Key", word);
	if ((flags & GRE_SEQ) && cur_be32(&opt, &word) == 0)
		wl_tree_uint(d, c, opt.off - 4, 4, "Sequence number", word);
}

int wl_decode_gre(struct wl_dctx *d, struct cursor *c)
{
	uint16_t flags, protocol;
	int r;

	d->flow = NULL;
	wl_enter(d, WL_P_GRE, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_GRE, "Generic Routing Encapsulation", c);
	if ((r = cur_be16(c, &flags)) < 0 || (r = cur_be16(c, &protocol)) < 0)
		return wl_fail(d, r);
	if (d->tree)
		tree_gre(d, c, flags, protocol);
	if ((flags & GRE_VERSION) > 1)
		return wl_fail(d, -EBADMSG);
	if ((r = skip_optional_fields(flags, c)) < 0)
		return wl_fail(d, r);

	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "Encapsulated 0x");
	wl_sb_hex(&info, protocol, 4);

	struct cursor payload = cur_rest(c);
	switch (protocol) {
	case GRE_PROTO_PPP:
		return cur_left(&payload) ? wl_decode_ppp(d, &payload) : 0;
	case GRE_PROTO_ERSPAN2:
	case GRE_PROTO_ERSPAN3:
		return decode_erspan(d, protocol, flags, &payload);
	default:
		/* Aruba access points tunnel 802.11 frames in GRE, 0x8200 to 0x8370. */
		if (protocol >= 0x8200 && protocol <= 0x8370 && (protocol & 0xf) == 0)
			return wl_decode_wlan(d, &payload);
		return wl_dispatch_ethertype(d, protocol, &payload);
	}
}
