/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Data-centre bridging headers: Cisco FabricPath (MAC-in-MAC with
 * hierarchical addresses), IEEE 802.1BR E-tags and TRILL (RFC 6325). Each
 * carries a customer's Ethernet frame or an ethertype, so what they carry is
 * decoded as if they were not there.
 */
#include "dissect.h"

#define ETHERTYPE_FABRICPATH 0x8903
#define FP_HEADER 16          /* outer DA, SA, 0x8903, FTag/TTL */
#define FP_HEADER_TAGGED 20   /* with an 802.1Q/802.1ad tag before 0x8903 */
#define FP_FCS 4
#define FP_MULTICAST 0x01     /* I/G bit of the outer destination's first byte */

/*
 * Wireshark takes a frame for FabricPath by its ethertype at offset 12 (or
 * at 16 behind one VLAN tag) before it reads the frame as Ethernet, so the
 * outer header is not an Ethernet header at all: its addresses are switch
 * ids, not MACs. c stands at the frame's first byte.
 */
bool wl_looks_like_fabricpath(const struct cursor *c)
{
	uint16_t type, inner;

	if (cur_peek_be16(c, c->off + 12, &type) < 0)
		return false;
	if (type == ETHERTYPE_FABRICPATH)
		return true;
	return (type == 0x8100 || type == 0x88a8) && cur_peek_be16(c, c->off + 16, &inner) == 0 &&
	       inner == ETHERTYPE_FABRICPATH;
}

/* A hierarchical MAC: switch id (12 bits), sub-switch id, local id. */
static void tree_hmac(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name)
{
	const uint8_t *b = c->p + at;
	struct wl_sb sb;

	if (at > c->len || 6 > c->len - at)
		return;
	if (name[0] == 'D' && (b[0] & FP_MULTICAST)) {
		wl_tree_mac(d, c, at, "Multicast destination");
		return;
	}
	if (!wl_tree_field(d, c, at, 6, name, &sb))
		return;
	wl_sb_hex(&sb, (uint64_t)(b[1] & 0x0f) << 8 | b[2], 3);
	wl_sb_char(&sb, '.');
	wl_sb_hex(&sb, b[3], 2);
	wl_sb_char(&sb, '.');
	wl_sb_hex(&sb, (uint64_t)b[4] << 8 | b[5], 4);
}

int wl_decode_fabricpath(struct wl_dctx *d, struct cursor *c)
{
	uint16_t type, ftag_ttl;
	size_t header;

	wl_enter(d, WL_P_FABRICPATH, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_FABRICPATH, "Cisco FabricPath", c);
	if (cur_skip(c, 12) < 0 || cur_be16(c, &type) < 0)
		return wl_fail_short(d, c);
	header = type == ETHERTYPE_FABRICPATH ? FP_HEADER : FP_HEADER_TAGGED;
	if (header == FP_HEADER_TAGGED &&
	    (cur_skip(c, 2) < 0 || cur_be16(c, &type) < 0))
		return wl_fail_short(d, c);
	if (type != ETHERTYPE_FABRICPATH)
		return wl_fail(d, -EBADMSG); /* not what wl_looks_like_fabricpath() saw */
	if (cur_be16(c, &ftag_ttl) < 0)
		return wl_fail_short(d, c);
	if (d->tree) {
		tree_hmac(d, c, 0, "Destination");
		tree_hmac(d, c, 6, "Source");
		wl_tree_uint(d, c, header - 2, 2, "FTAG", ftag_ttl >> 6);
		wl_tree_uint(d, c, header - 2, 2, "TTL", ftag_ttl & 0x3f);
	}
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "Cisco FabricPath MiM Encapsulated Frame");

	/* The customer's frame ends before FabricPath's own FCS. */
	struct cursor frame = cur_rest(c);
	size_t wire = wl_wire_left(d, c, c->off);

	if (wire < FP_FCS)
		return wl_fail(d, -EBADMSG);
	if (cur_left(&frame) > wire - FP_FCS)
		cur_narrow(&frame, wire - FP_FCS);
	return wl_decode_ethernet(d, &frame);
}

/* 802.1BR: a 6-byte E-TAG after the 0x893F TPID, then the next ethertype. */
int wl_decode_etag(struct wl_dctx *d, struct cursor *c)
{
	const uint8_t *t;
	uint16_t type;

	wl_enter(d, WL_P_ETAG, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ETAG, "IEEE 802.1BR E-Tag", c);
	if (cur_bytes(c, 6, &t) < 0 || cur_be16(c, &type) < 0)
		return wl_fail_short(d, c);
	uint32_t ecid = (uint32_t)t[5] << 12 | (uint32_t)(t[2] & 0x0f) << 8 | t[3];
	uint32_t ingress = (uint32_t)t[4] << 12 | (uint32_t)(t[0] & 0x0f) << 8 | t[1];

	if (d->tree) {
		wl_tree_uint(d, c, 0, 1, "E-PCP", t[0] >> 5);
		wl_tree_uint(d, c, 0, 1, "E-DEI", t[0] >> 4 & 1);
		wl_tree_uint(d, c, 0, 6, "Ingress E-CID", ingress);
		wl_tree_uint(d, c, 2, 1, "GRP", t[2] >> 4 & 3);
		wl_tree_uint(d, c, 2, 6, "E-CID", ecid);
		wl_tree_ethertype(d, c, 6, "Type", type);
	}
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "E-Tag E-CID ");
	wl_sb_u64(&info, ecid);

	struct cursor payload = cur_rest(c);
	return wl_dispatch_ethertype(d, type, &payload);
}

/* TRILL: flags, hop count, egress and ingress nicknames, options, then a frame. */
int wl_decode_trill(struct wl_dctx *d, struct cursor *c)
{
	uint16_t flags, egress, ingress;

	wl_enter(d, WL_P_TRILL, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_TRILL, "TRILL", c);
	if (cur_be16(c, &flags) < 0 || cur_be16(c, &egress) < 0 ||
	    cur_be16(c, &ingress) < 0)
		return wl_fail_short(d, c);
	size_t options = (size_t)(flags >> 6 & 0x1f) * 4;

	if (d->tree) {
		wl_tree_uint(d, c, 0, 1, "Version", flags >> 14);
		wl_tree_uint(d, c, 0, 1, "Multi-destination", flags >> 11 & 1);
		wl_tree_uint(d, c, 0, 2, "Options length", options);
		wl_tree_uint(d, c, 1, 1, "Hop count", flags & 0x3f);
		wl_tree_uint(d, c, 2, 2, "Egress nickname", egress);
		wl_tree_uint(d, c, 4, 2, "Ingress nickname", ingress);
		if (options)
			wl_tree_bytes(d, c, 6, options, "Options");
	}
	if (cur_skip(c, options) < 0)
		return wl_fail_short(d, c);
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "TRILL Encapsulated Frame");

	struct cursor frame = cur_rest(c);
	return wl_decode_ethernet(d, &frame);
}
