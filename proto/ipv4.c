/* SPDX-License-Identifier: BSD-2-Clause */
/* IPv4 (RFC 791): header, options skipped by their declared length, fragments. */
#include "dissect.h"

#define IPV4_MIN_HEADER 20
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

static void summarise(struct wl_dctx *d, const struct wl_addr *src, const struct wl_addr *dst,
		      uint8_t proto, uint16_t frag)
{
	struct wl_sb info = wl_info(d);

	if (frag & IPV4_OFFSET_MASK) {
		wl_sb_str(&info, "Fragmented IP protocol (proto=");
		wl_sb_u64(&info, proto);
		wl_sb_str(&info, ", off=");
		wl_sb_u64(&info, (uint64_t)(frag & IPV4_OFFSET_MASK) * 8);
		wl_sb_str(&info, ")");
		return;
	}
	wl_sb_addr(&info, src);
	wl_sb_str(&info, " \xe2\x86\x92 ");
	wl_sb_addr(&info, dst);
	wl_sb_str(&info, " proto ");
	wl_sb_u64(&info, proto);
}

static const char *ipproto_name(uint8_t p)
{
	switch (p) {
	case 1: return "ICMP";
	case 2: return "IGMP";
	case 4: return "IPIP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 41: return "IPv6";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 58: return "ICMPv6";
	case 132: return "SCTP";
	case 137: return "MPLS-in-IP";
	default: return NULL;
	}
}

void wl_tree_ipproto(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name,
		     uint8_t proto)
{
	wl_tree_named(d, c, at, 1, name, proto, ipproto_name(proto));
}

/* The header from its first byte at c->p + start; the decoder has read it all. */
static void tree_ipv4(struct wl_dctx *d, const struct cursor *c, size_t start, uint8_t vhl,
		      uint8_t tos, uint16_t total, uint16_t id, uint16_t frag, uint8_t ttl,
		      uint8_t proto, uint16_t csum, const struct wl_addr *src,
		      const struct wl_addr *dst, size_t hlen)
{
	struct wl_sb sb;

	wl_tree_uint(d, c, start, 1, "Version", vhl >> 4);
	if (wl_tree_field(d, c, start, 1, "Header length", &sb)) {
		wl_sb_u64(&sb, hlen);
		wl_sb_str(&sb, " bytes (");
		wl_sb_u64(&sb, vhl & 0x0f);
		wl_sb_char(&sb, ')');
	}
	wl_tree_uint(d, c, start + 1, 1, "DSCP", tos >> 2);
	wl_tree_uint(d, c, start + 1, 1, "ECN", tos & 3);
	wl_tree_uint(d, c, start + 2, 2, "Total length", total);
	wl_tree_hex(d, c, start + 4, 2, "Identification", id);
	wl_tree_hex(d, c, start + 6, 1, "Flags", frag >> 13);
	wl_tree_flag(d, c, start + 6, 1, "Reserved bit", frag, 0x8000);
	wl_tree_flag(d, c, start + 6, 1, "Don't fragment", frag, 0x4000);
	wl_tree_flag(d, c, start + 6, 1, "More fragments", frag, IPV4_MF);
	wl_tree_uint(d, c, start + 6, 2, "Fragment offset", (uint64_t)(frag & IPV4_OFFSET_MASK) * 8);
	wl_tree_uint(d, c, start + 8, 1, "Time to live", ttl);
	wl_tree_ipproto(d, c, start + 9, "Protocol", proto);
	wl_tree_hex(d, c, start + 10, 2, "Header checksum", csum);
	wl_tree_addr(d, c, start + 12, "Source address", src);
	wl_tree_addr(d, c, start + 16, "Destination address", dst);
	if (hlen > IPV4_MIN_HEADER)
		wl_tree_bytes(d, c, start + IPV4_MIN_HEADER, hlen - IPV4_MIN_HEADER, "Options");
	if (wl_tree_layer_value(d, &sb)) {
		wl_sb_str(&sb, "Src: ");
		wl_sb_addr(&sb, src);
		wl_sb_str(&sb, ", Dst: ");
		wl_sb_addr(&sb, dst);
	}
}

int wl_decode_ipv4(struct wl_dctx *d, struct cursor *c)
{
	struct wl_addr src = { .family = 4 }, dst = { .family = 4 };
	uint8_t vhl, tos, ttl, proto;
	uint16_t total, id, frag, csum;
	int r;

	if ((r = cur_peek_u8(c, c->off, &vhl)) < 0)
		return wl_fail(d, r);
	/* Wireshark reads an IPv6 header sent with the IPv4 ethertype as IPv6. */
	if ((vhl >> 4) == 6)
		return wl_decode_ipv6(d, c);

	wl_enter(d, WL_P_IPV4, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_IPV4, "Internet Protocol Version 4", c);
	size_t start = c->off;
	struct wl_flow *flow = wl_begin_ip(d);
	if (flow)
		flow->l3 = WL_L3_IPV4;
	size_t hlen = (size_t)(vhl & 0x0f) * 4;

	if ((vhl >> 4) != 4 || hlen < IPV4_MIN_HEADER)
		return wl_fail(d, (r = cur_need(c, 1)) < 0 ? r : -EBADMSG);
	if ((r = cur_skip(c, 1)) < 0 || (r = cur_u8(c, &tos)) < 0 || (r = cur_be16(c, &total)) < 0)
		return wl_fail(d, r);
	/* Zero is what segmentation offload leaves; take the frame's length then. */
	if (total == 0)
		total = (uint16_t)(c->len > UINT16_MAX ? UINT16_MAX : c->len);
	else if (total < hlen)
		return wl_fail(d, -EBADMSG);
	if ((r = cur_be16(c, &id)) < 0 || (r = cur_be16(c, &frag)) < 0 ||
	    (r = cur_u8(c, &ttl)) < 0 || (r = cur_u8(c, &proto)) < 0)
		return wl_fail(d, r);
	if (flow) {
		flow->ipproto = proto;
		flow->has |= WL_HAS_IPPROTO;
	}
	if ((r = cur_be16(c, &csum)) < 0 || (r = wl_read_addr(flow, c, WL_HAS_SRC, &src)) < 0 ||
	    (r = wl_read_addr(flow, c, WL_HAS_DST, &dst)) < 0)
		return wl_fail(d, r);

	/* The payload is what the header declares, not the Ethernet padding after it. */
	struct cursor payload = *c;
	payload.off = start;
	if (cur_narrow(&payload, total) == -EBADMSG)
		wl_fail(d, -EBADMSG); /* longer than the whole frame */
	if (d->tree)
		tree_ipv4(d, c, start, vhl, tos, total, id, frag, ttl, proto, csum, &src, &dst, hlen);
	if (frag & IPV4_MF)
		payload.cut = true; /* the datagram goes on in the next fragment */
	if ((r = cur_skip(&payload, hlen)) < 0)
		return wl_fail(d, r); /* options cut short */
	if (flow && (frag & (IPV4_MF | IPV4_OFFSET_MASK)))
		flow->l4 |= WL_L4_FRAGMENT;
	if (frag & IPV4_OFFSET_MASK) {
		summarise(d, &src, &dst, proto, frag);
		return 0; /* only the first fragment holds the transport header */
	}
	size_t on_wire = total < wl_wire_left(d, c, start) ? total : wl_wire_left(d, c, start);

	d->l4_declared = on_wire > hlen ? on_wire - hlen : 0;
	payload = cur_rest(&payload);
	r = wl_dispatch_ipproto(d, proto, &payload);
	/* Formatting addresses costs; do it only if no layer above had its say. */
	if (d->pkt->proto == WL_P_IPV4)
		summarise(d, &src, &dst, proto, frag);
	return r;
}
