/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP tunnels: VXLAN (RFC 7348) and Geneve (RFC 8926). */
#include "dissect.h"

static void summarise_vni(struct wl_dctx *d, const char *name, uint32_t vni)
{
	struct wl_sb info = wl_info(d);

	wl_sb_str(&info, name);
	wl_sb_str(&info, " VNI ");
	wl_sb_u64(&info, vni);
}

int wl_decode_vxlan(struct wl_dctx *d, struct cursor *c)
{
	uint8_t flags;
	uint32_t vni;
	int r;

	wl_enter(d, WL_P_VXLAN, c);
	if ((r = cur_u8(c, &flags)) < 0 || (r = cur_skip(c, 3)) < 0 || (r = cur_be24(c, &vni)) < 0 ||
	    (r = cur_skip(c, 1)) < 0)
		return wl_fail(d, r);
	summarise_vni(d, "VXLAN", vni);
	struct cursor frame = cur_rest(c);
	return wl_decode_ethernet(d, &frame);
}

int wl_decode_geneve(struct wl_dctx *d, struct cursor *c)
{
	uint8_t ver_optlen, flags;
	uint16_t protocol;
	uint32_t vni;
	int r;

	wl_enter(d, WL_P_GENEVE, c);
	if ((r = cur_u8(c, &ver_optlen)) < 0 || (r = cur_u8(c, &flags)) < 0 ||
	    (r = cur_be16(c, &protocol)) < 0 || (r = cur_be24(c, &vni)) < 0 ||
	    (r = cur_skip(c, 1)) < 0)
		return wl_fail(d, r);
	if (ver_optlen >> 6)
		return wl_fail(d, -EBADMSG); /* only version 0 exists */
	if ((r = cur_skip(c, (size_t)(ver_optlen & 0x3f) * 4)) < 0)
		return wl_fail(d, r);
	summarise_vni(d, "Geneve", vni);
	struct cursor payload = cur_rest(c);
	return wl_dispatch_ethertype(d, protocol, &payload);
}
