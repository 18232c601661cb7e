/* SPDX-License-Identifier: BSD-2-Clause */
/* SCTP (RFC 9260): the common header's ports and the first chunk's type. */
#include "dissect.h"

int wl_decode_sctp(struct wl_dctx *d, struct cursor *c)
{
	struct wl_flow *flow = d->flow;
	uint16_t sport, dport;
	uint32_t vtag, csum;
	uint8_t chunk;
	int r;

	d->flow = NULL;
	wl_enter(d, WL_P_SCTP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_SCTP, "SCTP", c);
	if ((r = cur_be16(c, &sport)) < 0 || (r = cur_be16(c, &dport)) < 0)
		return wl_fail(d, r);
	if (flow) {
		flow->sport = sport;
		flow->dport = dport;
		flow->has |= WL_HAS_SCTP_PORTS;
	}
	struct wl_sb info = wl_info(d);
	wl_sb_u64(&info, sport);
	wl_sb_str(&info, " \xe2\x86\x92 ");
	wl_sb_u64(&info, dport);
	if (d->tree) {
		wl_tree_uint(d, c, 0, 2, "Source port", sport);
		wl_tree_uint(d, c, 2, 2, "Destination port", dport);
	}
	if ((r = cur_be32(c, &vtag)) < 0 || (r = cur_be32(c, &csum)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_hex(d, c, 4, 4, "Verification tag", vtag);
		wl_tree_hex(d, c, 8, 4, "Checksum", csum);
	}
	if (cur_u8(c, &chunk) == 0) {
		wl_sb_str(&info, " chunk ");
		wl_sb_u64(&info, chunk);
		if (d->tree)
			wl_tree_uint(d, c, 12, 1, "First chunk type", chunk);
	}
	return 0;
}
