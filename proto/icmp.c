/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP (RFC 792). Errors quote the offending packet; the quote describes
 * another packet, so it is left out of this frame's summary.
 */
#include "dissect.h"

struct icmp_name {
	uint8_t type;
	const char *name;
};

static const struct icmp_name icmp_types[] = {
	{ 0, "Echo (ping) reply" },
	{ 3, "Destination unreachable" },
	{ 4, "Source quench" },
	{ 5, "Redirect" },
	{ 8, "Echo (ping) request" },
	{ 9, "Router advertisement" },
	{ 10, "Router solicitation" },
	{ 11, "Time-to-live exceeded" },
	{ 12, "Parameter problem" },
	{ 13, "Timestamp request" },
	{ 14, "Timestamp reply" },
	{ 17, "Address mask request" },
	{ 18, "Address mask reply" },
};

static const char *const unreachable_codes[] = {
	"Network unreachable", "Host unreachable", "Protocol unreachable", "Port unreachable",
	"Fragmentation needed", "Source route failed", "Destination network unknown",
	"Destination host unknown", "Source host isolated", "Network administratively prohibited",
	"Host administratively prohibited", "Network unreachable for ToS",
	"Host unreachable for ToS", "Communication administratively filtered",
};

static const char *type_name(uint8_t type)
{
	for (size_t i = 0; i < sizeof(icmp_types) / sizeof(icmp_types[0]); i++)
		if (icmp_types[i].type == type)
			return icmp_types[i].name;
	return NULL;
}

int wl_decode_icmp(struct wl_dctx *d, struct cursor *c)
{
	struct wl_flow *flow = d->flow;
	uint8_t type, code;
	uint16_t csum, id, seq;
	int r;

	d->flow = NULL;
	wl_enter(d, WL_P_ICMP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ICMP, "Internet Control Message Protocol", c);
	if ((r = cur_u8(c, &type)) < 0 || (r = cur_u8(c, &code)) < 0 || (r = cur_be16(c, &csum)) < 0)
		return wl_fail(d, r);
	wl_note_icmp(flow, c, type, code, type == 0 || type == 8);
	if (d->tree) {
		wl_tree_named(d, c, 0, 1, "Type", type, type_name(type));
		wl_tree_named(d, c, 1, 1, "Code", code,
			      type == 3 && code < sizeof(unreachable_codes) / sizeof(unreachable_codes[0])
				      ? unreachable_codes[code] : NULL);
		wl_tree_hex(d, c, 2, 2, "Checksum", csum);
	}

	struct wl_sb info = wl_info(d);
	const char *name = type_name(type);
	if (name) {
		wl_sb_str(&info, name);
	} else {
		wl_sb_str(&info, "Type ");
		wl_sb_u64(&info, type);
	}
	if (type == 3 && code < sizeof(unreachable_codes) / sizeof(unreachable_codes[0])) {
		wl_sb_str(&info, " (");
		wl_sb_str(&info, unreachable_codes[code]);
		wl_sb_char(&info, ')');
	}
	if ((type == 0 || type == 8) && cur_be16(c, &id) == 0 && cur_be16(c, &seq) == 0) {
		if (d->tree) {
			wl_tree_hex(d, c, 4, 2, "Identifier", id);
			wl_tree_uint(d, c, 6, 2, "Sequence number", seq);
		}
		wl_sb_str(&info, "  id=0x");
		wl_sb_hex(&info, id, 4);
		wl_sb_str(&info, ", seq=");
		wl_sb_u64(&info, seq);
	}
	return 0;
}
