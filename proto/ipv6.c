/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 (RFC 8200) and the extension headers a sniffer must walk to find the
 * transport: hop-by-hop, routing, fragment and destination options.
 */
#include "dissect.h"

enum {
	NH_HOPOPTS = 0,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_DSTOPTS = 60,
};

static const char *extension_name(uint8_t nh)
{
	switch (nh) {
	case NH_HOPOPTS: return "Hop-by-Hop Options";
	case NH_ROUTING: return "Routing Header";
	case NH_FRAGMENT: return "Fragment Header";
	default: return "Destination Options";
	}
}

/* The extension header *nh that skip_extension() has just stepped over, from at. */
static void tree_extension(struct wl_dctx *d, const struct cursor *c, size_t at, uint8_t nh)
{
	uint8_t next = 0, hdrlen = 0;
	uint16_t offset_flags = 0;
	struct cursor h = *c;

	h.off = at;
	cur_u8(&h, &next);
	cur_u8(&h, &hdrlen);
	wl_tree_text(d, c, at, c->off - at, extension_name(nh), "");
	wl_tree_push(d);
	wl_tree_ipproto(d, c, at, "Next header", next);
	if (nh == NH_FRAGMENT) {
		uint32_t ident = 0;

		cur_be16(&h, &offset_flags);
		cur_be32(&h, &ident);
		wl_tree_uint(d, c, at + 2, 2, "Offset", (uint64_t)(offset_flags >> 3) * 8);
		wl_tree_uint(d, c, at + 3, 1, "More fragments", offset_flags & 1);
		wl_tree_hex(d, c, at + 4, 4, "Identification", ident);
	} else {
		struct wl_sb sb;

		if (wl_tree_field(d, c, at + 1, 1, "Length", &sb)) {
			wl_sb_u64(&sb, hdrlen);
			wl_sb_str(&sb, " (");
			wl_sb_u64(&sb, ((uint64_t)hdrlen + 1) * 8);
			wl_sb_str(&sb, " bytes)");
		}
	}
	wl_tree_pop(d);
}

static bool is_walked_extension(uint8_t nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_FRAGMENT || nh == NH_DSTOPTS;
}

static void summarise(struct wl_dctx *d, const struct wl_addr *src, const struct wl_addr *dst,
		      uint8_t nh)
{
	struct wl_sb info = wl_info(d);

	wl_sb_addr(&info, src);
	wl_sb_str(&info, " \xe2\x86\x92 ");
	wl_sb_addr(&info, dst);
	wl_sb_str(&info, " next header ");
	wl_sb_u64(&info, nh);
}

/*
 * Steps over one extension header. *nh becomes the header it announces;
 * *first_fragment is cleared for a fragment other than the first.
 */
static int skip_extension(struct wl_dctx *d, struct wl_flow *flow, struct cursor *c, uint8_t *nh,
			  bool *first_fragment)
{
	uint8_t next, hdrlen;
	uint16_t offset_flags;
	size_t len;
	int r;

	if (*nh == NH_FRAGMENT) {
		/* Fixed size: a cut fragment header does not count as one. */
		if ((r = cur_need(c, 8)) < 0 || (r = cur_u8(c, &next)) < 0 || (r = cur_skip(c, 1)) < 0 ||
		    (r = cur_be16(c, &offset_flags)) < 0 || (r = cur_skip(c, 4)) < 0)
			return wl_fail(d, r);
		if (offset_flags & 0xfff8)
			*first_fragment = false;
		if (offset_flags & 1)
			c->cut = true; /* more fragments: the datagram goes on elsewhere */
		if (flow) {
			flow->ipproto = next;
			flow->l4 |= WL_L4_FRAGMENT; /* even an atomic fragment: tshark calls it one */
		}
	} else {
		if ((r = cur_u8(c, &next)) < 0)
			return wl_fail(d, r);
		if (flow)
			flow->ipproto = next;
		if ((r = cur_u8(c, &hdrlen)) < 0)
			return wl_fail(d, r);
		len = ((size_t)hdrlen + 1) * 8;
		if ((r = cur_skip(c, len - 2)) < 0)
			return wl_fail(d, r);
	}
	*nh = next;
	return 0;
}

/* The fixed header, which the decoder has read: c stands right after it. */
static void tree_ipv6(struct wl_dctx *d, const struct cursor *c, uint32_t vtcfl, uint16_t plen,
		      uint8_t nh, uint8_t hlim, const struct wl_addr *src, const struct wl_addr *dst)
{
	size_t at = c->off - 40;
	struct wl_sb sb;

	wl_tree_uint(d, c, at, 1, "Version", vtcfl >> 28);
	wl_tree_hex(d, c, at, 2, "Traffic class", vtcfl >> 20 & 0xff);
	wl_tree_hex(d, c, at + 1, 3, "Flow label", vtcfl & 0xfffff);
	wl_tree_uint(d, c, at + 4, 2, "Payload length", plen);
	wl_tree_ipproto(d, c, at + 6, "Next header", nh);
	wl_tree_uint(d, c, at + 7, 1, "Hop limit", hlim);
	wl_tree_addr(d, c, at + 8, "Source address", src);
	wl_tree_addr(d, c, at + 24, "Destination address", dst);
	if (wl_tree_layer_value(d, &sb)) {
		wl_sb_str(&sb, "Src: ");
		wl_sb_addr(&sb, src);
		wl_sb_str(&sb, ", Dst: ");
		wl_sb_addr(&sb, dst);
	}
}

int wl_decode_ipv6(struct wl_dctx *d, struct cursor *c)
{
	struct wl_addr src = { .family = 6 }, dst = { .family = 6 };
	uint32_t vtcfl;
	uint16_t plen;
	uint8_t nh, hlim;
	bool first_fragment = true;
	int r;

	wl_enter(d, WL_P_IPV6, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_IPV6, "Internet Protocol Version 6", c);
	struct wl_flow *flow = wl_begin_ip(d);
	if (flow)
		flow->l3 = WL_L3_IPV6;
	if ((r = cur_be32(c, &vtcfl)) < 0)
		return wl_fail(d, r);
	if ((vtcfl >> 28) != 6)
		return wl_fail(d, -EBADMSG);
	if ((r = cur_be16(c, &plen)) < 0 || (r = cur_u8(c, &nh)) < 0)
		return wl_fail(d, r);
	if (flow) {
		flow->ipproto = nh;
		flow->has |= WL_HAS_IPPROTO;
	}
	if ((r = cur_u8(c, &hlim)) < 0 || (r = wl_read_addr(flow, c, WL_HAS_SRC, &src)) < 0 ||
	    (r = wl_read_addr(flow, c, WL_HAS_DST, &dst)) < 0)
		return wl_fail(d, r);

	/* A zero payload length means a jumbogram or offload: keep what was captured. */
	size_t fixed_end = c->off, wire = wl_wire_left(d, c, fixed_end);
	if (plen && cur_narrow(c, plen) == -EBADMSG)
		wl_fail(d, -EBADMSG); /* longer than the whole frame */
	if (d->tree)
		tree_ipv6(d, c, vtcfl, plen, nh, hlim, &src, &dst);
	while (is_walked_extension(nh)) {
		size_t at = c->off;
		uint8_t this = nh;

		if ((r = skip_extension(d, flow, c, &nh, &first_fragment)) < 0) {
			summarise(d, &src, &dst, nh);
			return r;
		}
		if (d->tree)
			tree_extension(d, c, at, this);
	}
	r = 0;
	if (first_fragment) {
		struct cursor payload = cur_rest(c);

		size_t declared = plen && plen < wire ? plen : wire;

		d->l4_declared = declared > c->off - fixed_end ? declared - (c->off - fixed_end) : 0;
		r = wl_dispatch_ipproto(d, nh, &payload);
	}
	/* Formatting addresses costs; do it only if no layer above had its say. */
	if (d->pkt->proto == WL_P_IPV6)
		summarise(d, &src, &dst, nh);
	return r;
}
