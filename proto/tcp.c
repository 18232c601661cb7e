/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP (RFC 9293): ports, flags, options skipped by the data offset, payload. */
#include "dissect.h"

#define TCP_MIN_HEADER 20

static void sb_flags(struct wl_sb *sb, uint16_t flags)
{
	/* Three letters each, "AE" padded with its NUL: a fixed-size copy per flag. */
	static const char names[][3] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE" };
	bool first = true;

	wl_sb_char(sb, '[');
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & (1u << i)))
			continue;
		if (!first)
			wl_sb_mem(sb, ", ", 2);
		wl_sb_mem(sb, names[i], names[i][2] ? 3 : 2);
		first = false;
	}
	wl_sb_char(sb, ']');
}

/* The header, which the decoder has read up to the options: c->off is 16. */
static void tree_tcp(struct wl_dctx *d, const struct cursor *c, uint16_t sport, uint16_t dport,
		     uint32_t seq, uint32_t ack, uint16_t offset_flags, uint16_t win, size_t hlen)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE" };
	uint16_t flags = offset_flags & 0x0fff, csum = 0, urg = 0;
	struct cursor rest = *c;
	struct wl_sb sb;

	wl_tree_uint(d, c, 0, 2, "Source port", sport);
	wl_tree_uint(d, c, 2, 2, "Destination port", dport);
	wl_tree_uint(d, c, 4, 4, "Sequence number (raw)", seq);
	wl_tree_uint(d, c, 8, 4, "Acknowledgment number (raw)", ack);
	if (wl_tree_field(d, c, 12, 1, "Header length", &sb)) {
		wl_sb_u64(&sb, hlen);
		wl_sb_str(&sb, " bytes (");
		wl_sb_u64(&sb, offset_flags >> 12);
		wl_sb_char(&sb, ')');
	}
	if (wl_tree_field(d, c, 12, 2, "Flags", &sb)) {
		wl_sb_str(&sb, "0x");
		wl_sb_hex(&sb, flags, 3);
		wl_sb_char(&sb, ' ');
		sb_flags(&sb, flags);
	}
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i))
			wl_tree_flag(d, c, i < 8 ? 13 : 12, 1, names[i], flags, 1u << i);
	wl_tree_uint(d, c, 14, 2, "Window", win);
	/* Checksum and urgent pointer: shown if captured. */
	if (cur_be16(&rest, &csum) == 0)
		wl_tree_hex(d, c, 16, 2, "Checksum", csum);
	if (cur_be16(&rest, &urg) == 0)
		wl_tree_uint(d, c, 18, 2, "Urgent pointer", urg);
	if (hlen > TCP_MIN_HEADER && cur_left(c) > 4)
		wl_tree_bytes(d, c, TCP_MIN_HEADER, hlen - TCP_MIN_HEADER, "Options");
	wl_tree_uint(d, c, hlen, c->len > hlen ? c->len - hlen : 0, "Payload length",
		     c->len > hlen ? c->len - hlen : 0);
	if (wl_tree_layer_value(d, &sb)) {
		wl_sb_str(&sb, "Src Port: ");
		wl_sb_u64(&sb, sport);
		wl_sb_str(&sb, ", Dst Port: ");
		wl_sb_u64(&sb, dport);
	}
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

/*
 * A SYN's window scale option (RFC 7323 2.2), -1 without one. The options
 * are what the header length covers; c->off is 16 (a copy is walked).
 */
static int8_t window_scale(const struct cursor *c, size_t hlen)
{
	struct cursor opt = *c;
	uint8_t kind, len, shift;

	if (cur_skip(&opt, 4) < 0 || cur_narrow(&opt, hlen - TCP_MIN_HEADER) < 0)
		return -1;
	while (cur_u8(&opt, &kind) == 0 && kind != 0) {
		if (kind == 1)
			continue; /* no-op */
		if (cur_u8(&opt, &len) < 0 || len < 2)
			return -1;
		if (kind == 3 && len == 3 && cur_u8(&opt, &shift) == 0)
			return (int8_t)(shift > 14 ? 14 : shift);
		if (cur_skip(&opt, (size_t)len - 2) < 0)
			return -1;
	}
	return -1;
}

/* What the flow engine reads: the sequence space, from the declared lengths. */
static void note_sequence(struct wl_dctx *d, struct wl_flow *flow, const struct cursor *c, uint32_t seq,
			  uint32_t ack, uint16_t win, size_t hlen)
{
	flow->l4 |= WL_L4_TCP;
	flow->tcp_seq = seq;
	flow->tcp_ack = ack;
	flow->tcp_win = win;
	flow->tcp_wscale = (flow->tcp_flags & 0x02) ? window_scale(c, hlen) : -1;
	flow->l4_payload = (uint32_t)(d->l4_declared - hlen);
	/* capd's handshake reassembly takes the payload from here. */
	flow->tcp_payload_off = (uint32_t)wl_frame_off(d, c, hlen);
}

int wl_decode_tcp(struct wl_dctx *d, struct cursor *c)
{
	struct wl_flow *flow = d->flow;
	uint16_t sport, dport, offset_flags, win;
	uint32_t seq, ack;
	int r;

	d->flow = NULL; /* whatever this segment carries has its own header */
	wl_enter(d, WL_P_TCP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_TCP, "Transmission Control Protocol", c);
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
	/* tshark analyses only whole segments: not a fragment, not shorter than its header. */
	if (flow && !(flow->l4 & WL_L4_FRAGMENT) && d->l4_declared >= hlen)
		note_sequence(d, flow, c, seq, ack, win, hlen);
	summarise(d, sport, dport, flags, win, c->len > hlen ? c->len - hlen : 0);
	if (d->tree)
		tree_tcp(d, c, sport, dport, seq, ack, offset_flags, win, hlen);
	if ((r = cur_skip(c, hlen - 16)) < 0)
		return wl_fail(d, r); /* options cut short */
	struct cursor payload = cur_rest(c);
	return wl_dispatch_tcp(d, sport, dport, &payload);
}
