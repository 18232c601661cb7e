/* SPDX-License-Identifier: BSD-2-Clause */
/* PPPoE (RFC 2516): the session stage carries PPP; discovery is only named. */
#include "dissect.h"

/* PPP protocol numbers that carry something we decode, as ethertypes. */
static int dispatch_ppp(struct wl_dctx *d, uint16_t protocol, struct cursor *c)
{
	switch (protocol) {
	case 0x0021:
		return wl_dispatch_ethertype(d, 0x0800, c);
	case 0x0057:
		return wl_dispatch_ethertype(d, 0x86dd, c);
	case 0x0281:
		return wl_dispatch_ethertype(d, 0x8847, c);
	default:
		return 0;
	}
}

/*
 * A PPP header: an optional 0xff 0x03 address/control pair, then a protocol
 * of one byte when compressed (odd first byte, RFC 1661 PFC) or two.
 */
int wl_decode_ppp(struct wl_dctx *d, struct cursor *c)
{
	uint8_t b0, b1;
	uint16_t protocol;
	int r;

	wl_enter(d, WL_P_PPP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_PPP, "Point-to-Point Protocol", c);
	if ((r = cur_peek_u8(c, c->off, &b0)) < 0)
		return wl_fail(d, r);
	if (b0 == 0xff) {
		if ((r = cur_skip(c, 1)) < 0 || (r = cur_u8(c, &b1)) < 0)
			return wl_fail(d, r);
		if (b1 != 0x03)
			return wl_fail(d, -EBADMSG);
		if ((r = cur_peek_u8(c, c->off, &b0)) < 0)
			return wl_fail(d, r);
	}
	if (b0 & 1) {
		cur_skip(c, 1);
		protocol = b0;
	} else if ((r = cur_be16(c, &protocol)) < 0) {
		return wl_fail(d, r);
	}
	if (d->tree)
		wl_tree_hex(d, c, c->off - (b0 & 1 ? 1 : 2), b0 & 1 ? 1 : 2, "Protocol", protocol);
	struct cursor payload = cur_rest(c);

	return dispatch_ppp(d, protocol, &payload);
}

int wl_decode_pppoe(struct wl_dctx *d, struct cursor *c)
{
	uint8_t ver_type, code;
	uint16_t session, length;
	int r;

	wl_enter(d, WL_P_PPPOE, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_PPPOE, "PPP-over-Ethernet Session", c);
	if ((r = cur_u8(c, &ver_type)) < 0 || (r = cur_u8(c, &code)) < 0 ||
	    (r = cur_be16(c, &session)) < 0 || (r = cur_be16(c, &length)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_uint(d, c, 0, 1, "Version", ver_type >> 4);
		wl_tree_uint(d, c, 0, 1, "Type", ver_type & 0xf);
		wl_tree_hex(d, c, 1, 1, "Code", code);
		wl_tree_hex(d, c, 2, 2, "Session ID", session);
		wl_tree_uint(d, c, 4, 2, "Payload length", length);
	}
	if (ver_type != 0x11 || code != 0)
		return wl_fail(d, -EBADMSG);

	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "Session 0x");
	wl_sb_hex(&info, session, 4);

	struct cursor payload = cur_rest(c);
	/* The declared length bounds the PPP frame; Ethernet padding follows it. */
	cur_narrow(&payload, length);
	return wl_decode_ppp(d, &payload);
}

int wl_decode_pppoed(struct wl_dctx *d, struct cursor *c)
{
	static const struct {
		uint8_t code;
		const char *name;
	} codes[] = {
		{ 0x09, "Active Discovery Initiation (PADI)" },
		{ 0x07, "Active Discovery Offer (PADO)" },
		{ 0x19, "Active Discovery Request (PADR)" },
		{ 0x65, "Active Discovery Session-confirmation (PADS)" },
		{ 0xa7, "Active Discovery Terminate (PADT)" },
	};
	uint8_t ver_type, code;
	int r;

	wl_enter(d, WL_P_PPPOED, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_PPPOED, "PPP-over-Ethernet Discovery", c);
	if ((r = cur_u8(c, &ver_type)) < 0 || (r = cur_u8(c, &code)) < 0)
		return wl_fail(d, r);
	struct wl_sb info = wl_info(d);
	const char *name = NULL;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			name = codes[i].name;
	if (name)
		wl_sb_str(&info, name);
	if (d->tree) {
		wl_tree_uint(d, c, 0, 1, "Version", ver_type >> 4);
		wl_tree_uint(d, c, 0, 1, "Type", ver_type & 0xf);
		wl_tree_named(d, c, 1, 1, "Code", code, name);
	}
	return 0;
}
