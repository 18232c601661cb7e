/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * LISP data (RFC 9300, UDP 4341): an 8-byte header (flags, nonce or map
 * versions, instance id or locator status bits), then the endpoint's own
 * IPv4 or IPv6 packet. Control messages (UDP 4342) are only named.
 */
#include "dissect.h"

#define LISP_FLAG_N 0x80 /* nonce present */
#define LISP_FLAG_L 0x40 /* locator status bits */
#define LISP_FLAG_E 0x20 /* echo nonce request */
#define LISP_FLAG_V 0x10 /* map version present */
#define LISP_FLAG_I 0x08 /* instance id present */

static void tree_lisp(struct wl_dctx *d, const struct cursor *c, uint8_t flags, uint32_t first,
		      uint32_t second)
{
	wl_tree_hex(d, c, 0, 1, "Flags", flags);
	wl_tree_flag(d, c, 0, 1, "Nonce present", flags, LISP_FLAG_N);
	wl_tree_flag(d, c, 0, 1, "Locator status bits", flags, LISP_FLAG_L);
	wl_tree_flag(d, c, 0, 1, "Echo nonce request", flags, LISP_FLAG_E);
	wl_tree_flag(d, c, 0, 1, "Map version present", flags, LISP_FLAG_V);
	wl_tree_flag(d, c, 0, 1, "Instance ID present", flags, LISP_FLAG_I);
	if (flags & LISP_FLAG_N)
		wl_tree_hex(d, c, 1, 3, "Nonce", first);
	else if (flags & LISP_FLAG_V)
		wl_tree_hex(d, c, 1, 3, "Map versions", first);
	if (flags & LISP_FLAG_I)
		wl_tree_uint(d, c, 4, 3, "Instance ID", second >> 8);
	else if (flags & LISP_FLAG_L)
		wl_tree_hex(d, c, 4, 4, "Locator status bits", second);
}

int wl_decode_lisp(struct wl_dctx *d, struct cursor *c)
{
	uint8_t flags, version;
	uint32_t first, second;

	wl_enter(d, WL_P_LISP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_LISP, "Locator/ID Separation Protocol (Data)", c);
	if (cur_u8(c, &flags) < 0 || cur_be24(c, &first) < 0 || cur_be32(c, &second) < 0)
		return wl_fail_short(d, c);
	if (d->tree)
		tree_lisp(d, c, flags, first, second);
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "LISP Encapsulation Header");

	struct cursor payload = cur_rest(c);
	if (cur_peek_u8(&payload, 0, &version) < 0)
		return 0;
	switch (version >> 4) {
	case 4:
		return wl_dispatch_ethertype(d, 0x0800, &payload);
	case 6:
		return wl_dispatch_ethertype(d, 0x86dd, &payload);
	default:
		return 0;
	}
}
