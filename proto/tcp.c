/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP (RFC 9293): ports, flags, options skipped by the data offset, payload. */
#include "dissect.h"

#define TCP_MIN_HEADER 20

static void sb_flags(struct wl_sb *sb, uint16_t flags)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE" };
	bool first = true;

	wl_sb_char(sb, '[');
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & (1u << i)))
			continue;
		if (!first)
			wl_sb_str(sb, ", ");
		wl_sb_str(sb, names[i]);
		first = false;
	}
	wl_sb_char(sb, ']');
}

static void summarise(struct wl_dctx *d, uint16_t sport, uint16_t dport, uint16_t flags,
		      uint16_t win, size_t payload)
{
	struct wl_sb info = wl_info(d);

	wl_sb_u64(&info, sport);
	wl_sb_str(&info, " \xe2\x86\x92 ");
	wl_sb_u64(&info, dport);
	wl_sb_char(&info, ' ');
	sb_flags(&info, flags);
	/* Raw sequence numbers say little without a flow to make them relative. */
	wl_sb_str(&info, " Win=");
	wl_sb_u64(&info, win);
	wl_sb_str(&info, " Len=");
	wl_sb_u64(&info, payload);
}

int wl_decode_tcp(struct wl_dctx *d, struct cursor *c)
{
	struct wl_flow *flow = d->flow;
	uint16_t sport, dport, offset_flags, win;
	uint32_t seq, ack;
	int r;

	d->flow = NULL; /* whatever this segment carries has its own header */
	wl_enter(d, WL_P_TCP, c);
	if ((r = cur_be16(c, &sport)) < 0)
		return wl_fail(d, r);
	if (flow) {
		flow->sport = sport;
		flow->has |= WL_HAS_SPORT;
	}
	if ((r = cur_be16(c, &dport)) < 0)
		return wl_fail(d, r);
	if (flow) {
		flow->dport = dport;
		flow->has |= WL_HAS_DPORT;
	}
	if ((r = cur_be32(c, &seq)) < 0 || (r = cur_be32(c, &ack)) < 0 ||
	    (r = cur_be16(c, &offset_flags)) < 0)
		return wl_fail(d, r);
	size_t hlen = (size_t)(offset_flags >> 12) * 4;

	if (hlen < TCP_MIN_HEADER)
		return wl_fail(d, -EBADMSG); /* flags are meaningless then */
	uint16_t flags = offset_flags & 0x0fff;

	if (flow) {
		flow->tcp_flags = flags;
		flow->has |= WL_HAS_TCP_FLAGS;
	}
	if ((r = cur_be16(c, &win)) < 0)
		return wl_fail(d, r);
	summarise(d, sport, dport, flags, win, c->len > hlen ? c->len - hlen : 0);
	if ((r = cur_skip(c, hlen - 16)) < 0)
		return wl_fail(d, r); /* options cut short */
	struct cursor payload = cur_rest(c);
	return wl_dispatch_tcp(d, sport, dport, &payload);
}
