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

int wl_decode_udp(struct wl_dctx *d, struct cursor *c)
{
	struct wl_flow *flow = d->flow;
	uint16_t sport, dport, len, csum;
	int r;

	d->flow = NULL;
	wl_enter(d, WL_P_UDP, c);
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
	if ((r = cur_be16(c, &len)) < 0 || (r = cur_be16(c, &csum)) < 0)
		return wl_fail(d, r);
	summarise(d, sport, dport, len);
	if (len < UDP_HEADER)
		return wl_fail(d, -EBADMSG);
	struct cursor payload = cur_rest(c);
	/* Past the capture, the payload's decoder reports truncation; past a whole
	 * datagram, the length is wrong. */
	if (cur_narrow(&payload, len - UDP_HEADER) == -EBADMSG)
		wl_fail(d, -EBADMSG);
	return wl_dispatch_udp(d, sport, dport, &payload);
}
