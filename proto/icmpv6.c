/* SPDX-License-Identifier: BSD-2-Clause */
/* ICMPv6 (RFC 4443), with neighbour discovery (RFC 4861) and MLD named. */
#include "dissect.h"

struct icmpv6_name {
	uint8_t type;
	const char *name;
};

static const struct icmpv6_name icmpv6_types[] = {
	{ 1, "Destination Unreachable" },
	{ 2, "Packet Too Big" },
	{ 3, "Time Exceeded" },
	{ 4, "Parameter Problem" },
	{ 128, "Echo (ping) request" },
	{ 129, "Echo (ping) reply" },
	{ 130, "Multicast Listener Query" },
	{ 131, "Multicast Listener Report" },
	{ 132, "Multicast Listener Done" },
	{ 133, "Router Solicitation" },
	{ 134, "Router Advertisement" },
	{ 135, "Neighbor Solicitation" },
	{ 136, "Neighbor Advertisement" },
	{ 137, "Redirect" },
	{ 143, "Multicast Listener Report Message v2" },
};

static void sb_target(struct wl_sb *sb, struct cursor *c)
{
	struct wl_addr a = { .family = 6 };
	const uint8_t *b;

	if (cur_skip(c, 4) < 0 || cur_bytes(c, 16, &b) < 0)
		return;
	memcpy(a.b, b, 16);
	wl_sb_str(sb, " for ");
	wl_sb_addr(sb, &a);
}

int wl_decode_icmpv6(struct wl_dctx *d, struct cursor *c)
{
	struct wl_flow *flow = d->flow;
	uint8_t type, code;
	uint16_t csum;
	int r;

	d->flow = NULL;
	wl_enter(d, WL_P_ICMPV6, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ICMPV6, "ICMPv6", c);
	if ((r = cur_u8(c, &type)) < 0 || (r = cur_u8(c, &code)) < 0 || (r = cur_be16(c, &csum)) < 0)
		return wl_fail(d, r);
	wl_note_icmp(flow, c, type, code, type == 128 || type == 129);

	struct wl_sb info = wl_info(d);
	const char *name = NULL;
	for (size_t i = 0; i < sizeof(icmpv6_types) / sizeof(icmpv6_types[0]); i++)
		if (icmpv6_types[i].type == type)
			name = icmpv6_types[i].name;
	if (name) {
		wl_sb_str(&info, name);
	} else {
		wl_sb_str(&info, "Type ");
		wl_sb_u64(&info, type);
	}
	if (d->tree) {
		uint16_t id, seq;
		struct cursor echo = *c;

		wl_tree_named(d, c, 0, 1, "Type", type, name);
		wl_tree_uint(d, c, 1, 1, "Code", code);
		wl_tree_hex(d, c, 2, 2, "Checksum", csum);
		if ((type == 128 || type == 129) && cur_be16(&echo, &id) == 0 && cur_be16(&echo, &seq) == 0) {
			wl_tree_hex(d, c, 4, 2, "Identifier", id);
			wl_tree_uint(d, c, 6, 2, "Sequence number", seq);
		}
		if (type == 135 || type == 136) {
			struct cursor t = *c;
			const uint8_t *b;
			struct wl_addr a = { .family = 6 };

			if (cur_skip(&t, 4) == 0 && cur_bytes(&t, 16, &b) == 0) {
				memcpy(a.b, b, 16);
				wl_tree_addr(d, c, 8, "Target address", &a);
			}
		}
	}
	if (type == 135 || type == 136)
		sb_target(&info, c);
	return 0;
}
