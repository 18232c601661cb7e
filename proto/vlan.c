/* SPDX-License-Identifier: BSD-2-Clause */
/* 802.1Q and 802.1ad VLAN tags, stacked: each tag dispatches the next type. */
#include "dissect.h"

int wl_decode_vlan(struct wl_dctx *d, struct cursor *c)
{
	struct wl_packet *pkt = d->pkt;
	uint16_t tci, type;
	int r;

	wl_enter(d, WL_P_VLAN, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_VLAN, "802.1Q Virtual LAN", c);
	if ((r = cur_be16(c, &tci)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_uint(d, c, 0, 2, "Priority", tci >> 13);
		wl_tree_uint(d, c, 0, 2, "DEI", tci >> 12 & 1);
		wl_tree_uint(d, c, 0, 2, "ID", tci & 0x0fff);
	}
	/* Only the frame's own tag stack is reported, not tags inside tunnels. */
	if (d->n_ip == 0 && pkt->n_vlan < WL_VLAN_MAX)
		pkt->vlan[pkt->n_vlan++] = tci & 0x0fff;
	if ((r = cur_be16(c, &type)) < 0)
		return wl_fail(d, r);
	if (d->tree)
		wl_tree_ethertype(d, c, 2, "Type", type);

	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "PRI: ");
	wl_sb_u64(&info, tci >> 13);
	wl_sb_str(&info, "  ID: ");
	wl_sb_u64(&info, tci & 0x0fff);

	struct cursor payload = cur_rest(c);
	return wl_dispatch_ethertype(d, type, &payload);
}
