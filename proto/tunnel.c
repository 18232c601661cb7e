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
	if (d->tree)
		wl_tree_layer(d, WL_P_VXLAN, "Virtual eXtensible LAN", c);
	if ((r = cur_u8(c, &flags)) < 0 || (r = cur_skip(c, 3)) < 0 || (r = cur_be24(c, &vni)) < 0 ||
	    (r = cur_skip(c, 1)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_hex(d, c, 0, 1, "Flags", flags);
		wl_tree_flag(d, c, 0, 1, "VNI present", flags, 0x08);
		wl_tree_uint(d, c, 4, 3, "VXLAN Network Identifier (VNI)", vni);
	}
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
	if (d->tree)
		wl_tree_layer(d, WL_P_GENEVE, "Geneve", c);
	if ((r = cur_u8(c, &ver_optlen)) < 0 || (r = cur_u8(c, &flags)) < 0 ||
	    (r = cur_be16(c, &protocol)) < 0 || (r = cur_be24(c, &vni)) < 0 ||
	    (r = cur_skip(c, 1)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_uint(d, c, 0, 1, "Version", ver_optlen >> 6);
		wl_tree_uint(d, c, 0, 1, "Options length (bytes)", (uint64_t)(ver_optlen & 0x3f) * 4);
		wl_tree_hex(d, c, 1, 1, "Flags", flags);
		wl_tree_ethertype(d, c, 2, "Protocol type", protocol);
		wl_tree_uint(d, c, 4, 3, "Virtual Network Identifier (VNI)", vni);
		if (ver_optlen & 0x3f)
			wl_tree_bytes(d, c, 8, (size_t)(ver_optlen & 0x3f) * 4, "Options");
	}
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
/* Origin indication (RFC 4380 5.1.1): port and address, obfuscated by XOR. */
static void tree_origin(struct wl_dctx *d, const struct cursor *c, size_t at)
{
	struct cursor o = *c;
	struct wl_addr a = { .family = 4 };
	uint16_t port = 0;
	const uint8_t *b;

	o.off = at + 2;
	if (cur_be16(&o, &port) < 0 || cur_bytes(&o, 4, &b) < 0)
		return;
	for (int i = 0; i < 4; i++)
		a.b[i] = (uint8_t)~b[i];
	wl_tree_text(d, c, at, 8, "Origin indication", "");
	wl_tree_push(d);
	wl_tree_uint(d, c, at + 2, 2, "Origin UDP port", (uint16_t)~port);
	wl_tree_addr(d, c, at + 4, "Origin IPv4 address", &a);
	wl_tree_pop(d);
}

int wl_decode_teredo(struct wl_dctx *d, struct cursor *c)
{
	uint16_t type;
	uint8_t id_len, auth_len;
	struct cursor start = *c;
	int r;

	/* The line goes first, though the summary names Teredo only if IPv6 follows. */
	if (d->tree)
		wl_tree_layer(d, WL_P_TEREDO, "Teredo IPv6 over UDP tunneling", c);
	if (cur_peek_be16(c, c->off, &type) == 0 && type == 1) {
		if ((r = cur_skip(c, 2)) < 0 || (r = cur_u8(c, &id_len)) < 0 ||
		    (r = cur_u8(c, &auth_len)) < 0 || (r = cur_skip(c, (size_t)id_len + auth_len + 9)) < 0)
			return wl_fail(d, r);
		if (d->tree)
			wl_tree_bytes(d, c, start.off, c->off - start.off, "Authentication indicator");
	}
	size_t origin = c->off;

	if (cur_peek_be16(c, c->off, &type) == 0 && type == 0 && (r = cur_skip(c, 8)) < 0)
		return wl_fail(d, r);
	if (d->tree && c->off > origin)
		tree_origin(d, c, origin);

	uint8_t first;
	if (cur_peek_u8(c, c->off, &first) < 0 || (first >> 4) != 6)
		return 0; /* a bubble without IPv6, or not Teredo at all */
	wl_enter(d, WL_P_TEREDO, c);
	struct cursor payload = cur_rest(c);
	return wl_decode_ipv6(d, &payload);
}
