/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP (RFC 768): ports, the declared length bounds the payload. */
#include "dissect.h"

#define UDP_HEADER 8

static void summarise(struct wl_dctx *d, uint16_t sport, uint16_t dport, uint16_t len)
{
	struct wl_sb info = wl_info(d);

	wl_sb_u64(&info, sport);
	wl_sb_str(&info, " \xe2\x86\x92 ");
	wl_sb_u64(&info, dport);
	wl_sb_str(&info, " Len=");
	wl_sb_u64(&info, len >= UDP_HEADER ? len - UDP_HEADER : 0);
}

static void tree_udp(struct wl_dctx *d, const struct cursor *c, uint16_t sport, uint16_t dport,
		     uint16_t len, uint16_t csum)
{
	struct wl_sb sb;

	wl_tree_uint(d, c, 0, 2, "Source port", sport);
	wl_tree_uint(d, c, 2, 2, "Destination port", dport);
	wl_tree_uint(d, c, 4, 2, "Length", len);
	wl_tree_hex(d, c, 6, 2, "Checksum", csum);
	if (wl_tree_layer_value(d, &sb)) {
		wl_sb_str(&sb, "Src Port: ");
		wl_sb_u64(&sb, sport);
		wl_sb_str(&sb, ", Dst Port: ");
		wl_sb_u64(&sb, dport);
	}
}

int wl_decode_udp(struct wl_dctx *d, struct cursor *c)
{
	struct wl_flow *flow = d->flow;
	uint16_t sport, dport, len, csum;
	int r;

	d->flow = NULL;
	wl_enter(d, WL_P_UDP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_UDP, "User Datagram Protocol", c);
	if ((r = cur_be16(c, &sport)) < 0)
		return wl_fail(d, r);
	if (flow) {
		flow->sport = sport;
		flow->has |= WL_HAS_SPORT;
	}
	if ((r = cur_be16(c, &dport)) < 0)
		return wl_fail(d, r);
	if (flow) {
		flow->dport = dport;
		flow->has |= WL_HAS_DPORT;
	}
	d->udp_dport = dport;
	if ((r = cur_be16(c, &len)) < 0 || (r = cur_be16(c, &csum)) < 0)
		return wl_fail(d, r);
	summarise(d, sport, dport, len);
	if (d->tree)
		tree_udp(d, c, sport, dport, len, csum);
	if (len < UDP_HEADER)
		return wl_fail(d, -EBADMSG);
	struct cursor payload = cur_rest(c);
	/* Past the capture, the payload's decoder reports truncation; past a whole
	 * datagram, the length is wrong. */
	if (cur_narrow(&payload, len - UDP_HEADER) == -EBADMSG)
		wl_fail(d, -EBADMSG);
	return wl_dispatch_udp(d, sport, dport, &payload);
}
