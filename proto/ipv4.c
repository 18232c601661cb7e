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
	if (frag & IPV4_MF)
		payload.cut = true; /* the datagram goes on in the next fragment */
	if ((r = cur_skip(&payload, hlen)) < 0)
		return wl_fail(d, r); /* options cut short */
	if (frag & IPV4_OFFSET_MASK) {
		summarise(d, &src, &dst, proto, frag);
		return 0; /* only the first fragment holds the transport header */
	}
	payload = cur_rest(&payload);
	r = wl_dispatch_ipproto(d, proto, &payload);
	/* Formatting addresses costs; do it only if no layer above had its say. */
	if (d->pkt->proto == WL_P_IPV4)
		summarise(d, &src, &dst, proto, frag);
	return r;
}
