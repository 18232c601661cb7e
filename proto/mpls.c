/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MPLS label stacks (RFC 3032). The payload has no type field: after the
 * bottom label, the reserved labels and then the first nibble decide, as
 * routers and Wireshark do: IPv4, IPv6, or an Ethernet pseudowire with or
 * without its control word (RFC 4385, first nibble 0).
 */
#include "dissect.h"

#define MPLS_LABEL_IPV4_NULL 0
#define MPLS_LABEL_IPV6_NULL 2
#define MPLS_MAX_LABELS 16

static int decode_pseudowire(struct wl_dctx *d, struct cursor *c)
{
	uint8_t first;

	if (cur_peek_u8(c, c->off, &first) == 0 && (first >> 4) == 0 && cur_left(c) >= 4 + 14) {
		/* A control word, then the customer's Ethernet frame. */
		cur_skip(c, 4);
	}
	struct cursor frame = cur_rest(c);

	return wl_decode_ethernet(d, &frame);
}

static int dispatch_payload(struct wl_dctx *d, uint32_t bottom_label, struct cursor *c)
{
	struct cursor payload = cur_rest(c);
	uint8_t first;

	if (bottom_label == MPLS_LABEL_IPV4_NULL)
		return wl_dispatch_ethertype(d, 0x0800, &payload);
	if (bottom_label == MPLS_LABEL_IPV6_NULL)
		return wl_dispatch_ethertype(d, 0x86dd, &payload);
	if (cur_peek_u8(&payload, 0, &first) < 0)
		return 0;
	switch (first >> 4) {
	case 4:
		return wl_dispatch_ethertype(d, 0x0800, &payload);
	case 6:
		return wl_dispatch_ethertype(d, 0x86dd, &payload);
	default:
		return decode_pseudowire(d, &payload);
	}
}

/* One label stack entry, just read from c. */
static void tree_label(struct wl_dctx *d, const struct cursor *c, uint32_t entry)
{
	size_t at = c->off - 4;

	wl_tree_uint(d, c, at, 4, "MPLS Label", entry >> 12);
	wl_tree_push(d);
	wl_tree_uint(d, c, at, 3, "Label", entry >> 12);
	wl_tree_uint(d, c, at + 2, 1, "Traffic class", entry >> 9 & 7);
	wl_tree_uint(d, c, at + 2, 1, "Bottom of stack", entry >> 8 & 1);
	wl_tree_uint(d, c, at + 3, 1, "TTL", entry & 0xff);
	wl_tree_pop(d);
}

int wl_decode_mpls(struct wl_dctx *d, struct cursor *c)
{
	uint32_t entry = 0, label = 0;
	int r;

	wl_enter(d, WL_P_MPLS, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_MPLS, "MultiProtocol Label Switching", c);
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "MPLS Label");
	for (int n = 0; n < MPLS_MAX_LABELS; n++) {
		if ((r = cur_be32(c, &entry)) < 0)
			return wl_fail(d, r);
		label = entry >> 12;
		if (d->tree)
			tree_label(d, c, entry);
		wl_sb_char(&info, ' ');
		wl_sb_u64(&info, label);
		if (entry & 0x100) /* bottom of stack */
			return dispatch_payload(d, label, c);
	}
	return wl_fail(d, -EBADMSG);
}
