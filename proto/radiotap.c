/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Radiotap (link type 127, and Linux cooked captures of ARPHRD 803): a
 * little-endian header of declared length whose present bitmaps say which
 * fields follow, each aligned to its own size from the header's start. Only
 * the Flags field matters here: it says whether the 802.11 frame ends with
 * an FCS and whether its header is padded to 4 bytes.
 */
#include "dissect.h"

#define RADIOTAP_MIN 8
#define PRESENT_TSFT 0x00000001u
#define PRESENT_FLAGS 0x00000002u
#define PRESENT_EXT 0x80000000u /* another bitmap word follows */
#define FLAG_FCS 0x10
#define FLAG_DATAPAD 0x20
#define FCS_LEN 4

/*
 * The Flags field's value, or 0. The bitmaps come first, one word after
 * another while bit 31 is set; the fields start after the last one. Flags
 * sits after TSFT (8 bytes, 8-aligned) when that is present.
 */
static uint8_t radiotap_flags(const struct cursor *hdr, uint32_t present)
{
	struct cursor words = *hdr;
	uint32_t word = present;
	uint8_t flags = 0;

	words.off = 8;
	while ((word & PRESENT_EXT) && cur_le32(&words, &word) == 0)
		;
	if (word & PRESENT_EXT)
		return 0; /* the bitmaps run past the header */
	size_t at = words.off;

	if (!(present & PRESENT_FLAGS))
		return 0;
	if (present & PRESENT_TSFT)
		at = ((at + 7) & ~(size_t)7) + 8;
	cur_peek_u8(hdr, at, &flags);
	return flags;
}

static void tree_radiotap(struct wl_dctx *d, const struct cursor *c, uint8_t version, uint16_t len,
			  uint32_t present, uint8_t flags)
{
	wl_tree_uint(d, c, 0, 1, "Header revision", version);
	wl_tree_uint(d, c, 2, 2, "Header length", len);
	wl_tree_hex(d, c, 4, 4, "Present flags", present);
	if (present & PRESENT_FLAGS) {
		wl_tree_text(d, c, 4, 4, "Flags", "");
		wl_tree_push(d);
		wl_tree_flag(d, c, 4, 4, "FCS at end", flags, FLAG_FCS);
		wl_tree_flag(d, c, 4, 4, "Data pad", flags, FLAG_DATAPAD);
		wl_tree_pop(d);
	}
}

int wl_decode_radiotap(struct wl_dctx *d, struct cursor *c)
{
	uint8_t version, pad;
	uint16_t len;
	uint32_t present;

	wl_enter(d, WL_P_RADIOTAP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_RADIOTAP, "Radiotap Header", c);
	if (cur_u8(c, &version) < 0 || cur_u8(c, &pad) < 0 || cur_le16(c, &len) < 0 ||
	    cur_le32(c, &present) < 0)
		return wl_fail_short(d, c);
	if (version != 0 || len < RADIOTAP_MIN)
		return wl_fail(d, -EBADMSG);
	struct cursor hdr = *c;

	hdr.off = 0;
	if (cur_narrow(&hdr, len) < 0)
		return wl_fail_short(d, c);
	uint8_t flags = radiotap_flags(&hdr, present);

	if (d->tree)
		tree_radiotap(d, c, version, len, present, flags);
	c->off = len;
	struct cursor frame = cur_rest(c);

	/* The frame ends before the FCS, counted from its end on the wire. */
	if (flags & FLAG_FCS) {
		size_t wire = wl_wire_left(d, c, len);

		if (wire < FCS_LEN)
			return wl_fail(d, -EBADMSG);
		if (cur_left(&frame) > wire - FCS_LEN)
			cur_narrow(&frame, wire - FCS_LEN);
	}
	return wl_decode_wlan_frame(d, &frame, ((flags & FLAG_FCS) ? WL_WLAN_FCS : 0) |
						((flags & FLAG_DATAPAD) ? WL_WLAN_DATAPAD : 0));
}
