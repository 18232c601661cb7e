/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP tunnels: VXLAN (RFC 7348), Geneve (RFC 8926) and Teredo (RFC 4380). */
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

/*
 * Teredo: IPv6 in UDP, optionally behind an authentication indicator
 * (type 1) and an origin indicator (type 0, 8 bytes), in that order.
 */
int wl_decode_teredo(struct wl_dctx *d, struct cursor *c)
{
	uint16_t type;
	uint8_t id_len, auth_len;
	int r;

	if (cur_peek_be16(c, c->off, &type) == 0 && type == 1) {
		if ((r = cur_skip(c, 2)) < 0 || (r = cur_u8(c, &id_len)) < 0 ||
		    (r = cur_u8(c, &auth_len)) < 0 || (r = cur_skip(c, (size_t)id_len + auth_len + 9)) < 0)
			return wl_fail(d, r);
	}
	if (cur_peek_be16(c, c->off, &type) == 0 && type == 0 && (r = cur_skip(c, 8)) < 0)
		return wl_fail(d, r);

	uint8_t first;
	if (cur_peek_u8(c, c->off, &first) < 0 || (first >> 4) != 6)
		return 0; /* a bubble without IPv6, or not Teredo at all */
	wl_enter(d, WL_P_TEREDO, c);
	struct cursor payload = cur_rest(c);
	return wl_decode_ipv6(d, &payload);
}
