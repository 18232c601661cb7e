/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shim headers that sit between an Ethernet header and the payload's
 * ethertype: VN-Tag, Arista timestamps, 802.1ah provider backbone (PBB) and
 * MACsec (802.1AE) frames that are integrity-protected but not encrypted.
 */
#include "dissect.h"

/* VN-Tag (Cisco, 802.1Qbh): 4 bytes of tag, then the next ethertype. */
int wl_decode_vntag(struct wl_dctx *d, struct cursor *c)
{
	uint16_t type;
	int r;

	wl_enter(d, WL_P_ETH, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ETH, "VN-Tag", c);
	if ((r = cur_skip(c, 4)) < 0 || (r = cur_be16(c, &type)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_bytes(d, c, 0, 4, "Tag");
		wl_tree_ethertype(d, c, 4, "Type", type);
	}
	struct cursor payload = cur_rest(c);
	return wl_dispatch_ethertype(d, type, &payload);
}

/*
 * Arista switch timestamps: subtype, version, then a 64-bit (version low
 * byte 0x10) or 48-bit (0x20) timestamp, then the next ethertype.
 */
int wl_decode_arista(struct wl_dctx *d, struct cursor *c)
{
	uint16_t subtype, version, type;
	size_t ts_len;
	int r;

	wl_enter(d, WL_P_ETH, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ETH, "Arista timestamp", c);
	if ((r = cur_be16(c, &subtype)) < 0 || (r = cur_be16(c, &version)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_uint(d, c, 0, 2, "Subtype", subtype);
		wl_tree_hex(d, c, 2, 2, "Version", version);
	}
	if (subtype != 1)
		return 0;
	switch (version & 0xff) {
	case 0x10:
		ts_len = 8;
		break;
	case 0x20:
		ts_len = 6;
		break;
	default:
		return wl_fail(d, -EBADMSG);
	}
	if ((r = cur_skip(c, ts_len)) < 0 || (r = cur_be16(c, &type)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_bytes(d, c, 4, ts_len, "Timestamp");
		wl_tree_ethertype(d, c, 4 + ts_len, "Type", type);
	}
	struct cursor payload = cur_rest(c);
	return wl_dispatch_ethertype(d, type, &payload);
}

/* 802.1ah: a 4-byte I-TAG, then the customer's whole Ethernet frame. */
int wl_decode_pbb(struct wl_dctx *d, struct cursor *c)
{
	int r;

	wl_enter(d, WL_P_ETH, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ETH, "802.1ah PBB", c);
	if ((r = cur_skip(c, 4)) < 0)
		return wl_fail(d, r);
	if (d->tree)
		wl_tree_bytes(d, c, 0, 4, "I-TAG");
	struct cursor frame = cur_rest(c);
	return wl_decode_ethernet(d, &frame);
}

#define MACSEC_TCI_SC 0x20
#define MACSEC_TCI_E 0x08
#define MACSEC_TCI_C 0x04
#define MACSEC_ICV_LEN 16

/*
 * MACsec SecTAG: TCI/AN, short length, packet number, optional SCI. Only
 * frames that are neither encrypted nor modified carry a readable payload,
 * followed by a 16-byte ICV.
 */
int wl_decode_macsec(struct wl_dctx *d, struct cursor *c)
{
	uint8_t tci, short_len;
	uint32_t pn;
	uint16_t type;
	int r;

	wl_enter(d, WL_P_ETH, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ETH, "MACsec", c);
	if ((r = cur_u8(c, &tci)) < 0 || (r = cur_u8(c, &short_len)) < 0 ||
	    (r = cur_be32(c, &pn)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_hex(d, c, 0, 1, "TCI/AN", tci);
		wl_tree_flag(d, c, 0, 1, "SC", tci, MACSEC_TCI_SC);
		wl_tree_flag(d, c, 0, 1, "E (encrypted)", tci, MACSEC_TCI_E);
		wl_tree_flag(d, c, 0, 1, "C (changed)", tci, MACSEC_TCI_C);
		wl_tree_uint(d, c, 1, 1, "Short length", short_len);
		wl_tree_uint(d, c, 2, 4, "Packet number", pn);
	}
	if ((tci & MACSEC_TCI_SC) && (r = cur_skip(c, 8)) < 0)
		return wl_fail(d, r);
	if (d->tree && (tci & MACSEC_TCI_SC))
		wl_tree_bytes(d, c, 6, 8, "SCI");
	if (tci & (MACSEC_TCI_E | MACSEC_TCI_C))
		return 0; /* encrypted: nothing more to read */
	struct cursor payload = cur_rest(c);
	/* The ICV closes the frame; a short length field counts the bytes before it. */
	if (short_len)
		cur_narrow(&payload, short_len);
	else if (cur_left(&payload) >= MACSEC_ICV_LEN + 2)
		cur_narrow(&payload, cur_left(&payload) - MACSEC_ICV_LEN);
	if ((r = cur_be16(&payload, &type)) < 0)
		return wl_fail(d, r);
	if (d->tree)
		wl_tree_ethertype(d, &payload, 0, "Type", type);
	struct cursor inner = cur_rest(&payload);
	return wl_dispatch_ethertype(d, type, &inner);
}
