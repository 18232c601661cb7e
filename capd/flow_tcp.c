/* SPDX-License-Identifier: BSD-2-Clause */
#include "flow_tcp.h"

#include <string.h>

enum {
	TH_FIN = 0x01,
	TH_SYN = 0x02,
	TH_RST = 0x04,
	TH_ACK = 0x10,
};

/* What one segment turned out to be (tshark's TCP_A_* for the flags we count). */
enum {
	SEG_ZERO_WINDOW_PROBE = 1u << 0,
	SEG_ZERO_WINDOW = 1u << 1,
	SEG_KEEP_ALIVE = 1u << 2,
	SEG_DUP_ACK = 1u << 3,
	SEG_RETRANSMISSION = 1u << 4, /* plain, fast or spurious */
	SEG_OUT_OF_ORDER = 1u << 5,
};

/* What a side's last segment was, for the next segment of the other side; and whether it has a base. */
enum {
	FLOW_TCP_LAST_KEEP_ALIVE = 1u << 0,
	FLOW_TCP_LAST_ZWP = 1u << 1,
	FLOW_TCP_BASE_SET = 1u << 7,
};

#define FAST_RETRANSMISSION_US 20000 /* after the last duplicate ACK */
#define OUT_OF_ORDER_US 3000         /* without an initial RTT to go by */

/* Sequence-space comparisons, modulo 2^32. */
static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

bool flow_tcp_new_connection(const struct flow_tcp *t, int dir, const struct wl_flow *seg)
{
	return (seg->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN && (t->last[dir] & FLOW_TCP_BASE_SET) &&
	       seg->tcp_seq != t->side[dir].base_seq;
}

/* A zero-length segment that repeats this side's last ACK, window and sequence number. */
static bool repeats_last(const struct flow_tcp_side *fwd, const struct wl_flow *seg, uint32_t seglen)
{
	return seglen == 0 && seg->tcp_win == fwd->window && seg->tcp_seq == fwd->nextseq &&
	       seg->tcp_ack == fwd->lastack && !(seg->tcp_flags & (TH_SYN | TH_FIN | TH_RST));
}

/*
 * The checks before the retransmission test: zero window probes and their
 * ACKs, zero windows, keep-alives and duplicate ACKs (packet-tcp.c, from
 * "ZERO WINDOW PROBE" to "finished_fwd").
 */
static unsigned classify_fwd(struct flow_tcp *t, int dir, const struct wl_flow *seg, uint32_t seglen)
{
	const struct flow_tcp_side *fwd = &t->side[dir], *rev = &t->side[!dir];
	uint16_t flags = seg->tcp_flags;
	unsigned kind = 0;

	if (seglen == 1 && seg->tcp_seq == fwd->nextseq && rev->window == 0)
		return SEG_ZERO_WINDOW_PROBE;
	if (seg->tcp_win == 0 && !(flags & (TH_RST | TH_FIN | TH_SYN)))
		kind |= SEG_ZERO_WINDOW;
	if (seglen <= 1 && seg->tcp_seq == fwd->nextseq - 1 && !(flags & (TH_SYN | TH_FIN | TH_RST)))
		kind |= SEG_KEEP_ALIVE;
	/* The ACK of a keep-alive or of a zero window probe is no duplicate. */
	if (repeats_last(fwd, seg, seglen) && seg->tcp_win && (t->last[!dir] & FLOW_TCP_LAST_KEEP_ALIVE))
		return kind;
	if (repeats_last(fwd, seg, seglen) && seg->tcp_win == 0 && (t->last[!dir] & FLOW_TCP_LAST_ZWP))
		return kind;
	if (repeats_last(fwd, seg, seglen) && seg->tcp_win) {
		int8_t *n = &t->dupacks[dir];

		*n = *n == -1 ? 1 : *n < 127 ? *n + 1 : 127;
		kind |= SEG_DUP_ACK;
	}
	return kind;
}

/* An ACK beyond what the other side can have sent: segments went missing. */
static void acked_lost(struct flow_tcp *t, int dir, const struct wl_flow *seg)
{
	struct flow_tcp_side *rev = &t->side[!dir];

	if (!rev->maxseqtobeacked || !seq_gt(seg->tcp_ack, rev->maxseqtobeacked) || !(seg->tcp_flags & TH_ACK))
		return;
	if (seq_lt(rev->maxseqtobeacked, rev->nextseq))
		rev->maxseqtobeacked = rev->nextseq;
	else
		t->dupacks[!dir] = -1;
}

/*
 * A segment that carries data (or SYN or FIN) and does not advance the
 * sequence: spurious (already acknowledged), fast (right after duplicate
 * ACKs), out of order (soon after the highest one), or a plain retransmission.
 */
static unsigned classify_resend(const struct flow_tcp *t, int dir, const struct wl_flow *seg, uint32_t seglen,
				uint32_t now)
{
	const struct flow_tcp_side *fwd = &t->side[dir], *rev = &t->side[!dir];
	uint16_t flags = seg->tcp_flags;
	uint32_t seq = seg->tcp_seq, ooo_limit = t->have_rtt ? t->rtt_us : OUT_OF_ORDER_US;
	bool not_advanced = fwd->nextseq && seq_lt(seq, fwd->nextseq);

	if (seglen > 1 && fwd->nextseq - 1 == seq)
		not_advanced = false; /* new data after a possible window probe */
	if (seglen > 0 && rev->lastack && seq_le(seq + seglen, rev->lastack))
		return SEG_RETRANSMISSION; /* spurious */
	if (not_advanced && t->dupacks[!dir] >= 2 && rev->lastack == seq &&
	    (uint32_t)(now - rev->lastack_time) < FAST_RETRANSMISSION_US)
		return SEG_RETRANSMISSION; /* fast */
	if (not_advanced && (uint32_t)(now - fwd->nextseq_time) < ooo_limit &&
	    fwd->nextseq != seq + seglen + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0))
		return SEG_OUT_OF_ORDER;
	return not_advanced ? SEG_RETRANSMISSION : 0;
}

/* Moves this side's sequence state on after the segment. */
static void advance(struct flow_tcp *t, int dir, const struct wl_flow *seg, uint32_t seglen, unsigned kind,
		    uint32_t now)
{
	struct flow_tcp_side *fwd = &t->side[dir];
	uint32_t nextseq = seg->tcp_seq + seglen + ((seg->tcp_flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	bool probe = kind & SEG_ZERO_WINDOW_PROBE;

	if ((seq_gt(nextseq, fwd->nextseq) || !fwd->nextseq) && !probe) {
		fwd->nextseq = nextseq;
		fwd->nextseq_time = now;
	}
	if ((seg->tcp_seq == fwd->maxseqtobeacked || !fwd->maxseqtobeacked) && !probe)
		fwd->maxseqtobeacked = fwd->nextseq;
	fwd->window = seg->tcp_win;
	fwd->lastack = seg->tcp_ack;
	fwd->lastack_time = now;
	t->last[dir] = (uint8_t)((t->last[dir] & FLOW_TCP_BASE_SET) |
				 ((kind & SEG_KEEP_ALIVE) ? FLOW_TCP_LAST_KEEP_ALIVE : 0) | (probe ? FLOW_TCP_LAST_ZWP : 0));
}

/* The first segment of a side fixes its base; a repeated SYN restores nextseq (packet-tcp.c). */
static void note_base(struct flow_tcp *t, int dir, const struct wl_flow *seg)
{
	struct flow_tcp_side *fwd = &t->side[dir];
	uint16_t flags = seg->tcp_flags;
	bool base_set = t->last[dir] & FLOW_TCP_BASE_SET;

	if ((flags & (TH_SYN | TH_ACK)) == TH_SYN && base_set && seg->tcp_seq == fwd->base_seq)
		fwd->nextseq = fwd->maxseqtobeacked;
	if ((flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && base_set)
		fwd->base_seq = seg->tcp_seq;
	if (!base_set) {
		fwd->base_seq = (flags & TH_SYN) ? seg->tcp_seq : seg->tcp_seq - 1;
		t->last[dir] |= FLOW_TCP_BASE_SET;
	}
}

static void count(struct flow_tcp *t, int dir, unsigned kind)
{
	t->retransmissions[dir] += (kind & SEG_RETRANSMISSION) != 0;
	t->out_of_order[dir] += (kind & SEG_OUT_OF_ORDER) != 0;
	t->dup_acks[dir] += (kind & SEG_DUP_ACK) != 0;
	t->zero_windows[dir] += (kind & SEG_ZERO_WINDOW) != 0;
}

/* The connection's state, from the flags each side has sent. */
static void move_state(struct flow_tcp *t, uint16_t flags, bool first)
{
	bool fin_a = t->side[0].flags_seen & TH_FIN, fin_b = t->side[1].flags_seen & TH_FIN;

	if (flags & TH_RST)
		t->state = WL_TCP_RESET;
	if (t->state == WL_TCP_RESET)
		return;
	if (first)
		t->state = (flags & (TH_SYN | TH_ACK)) == TH_SYN ? WL_TCP_SYN_SENT
			   : (flags & TH_SYN)			   ? WL_TCP_SYN_RECEIVED
								   : WL_TCP_MIDSTREAM;
	else if (t->state == WL_TCP_SYN_SENT && (flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		t->state = WL_TCP_SYN_RECEIVED;
	else if (t->state == WL_TCP_SYN_RECEIVED && (flags & (TH_SYN | TH_ACK)) == TH_ACK)
		t->state = WL_TCP_ESTABLISHED;
	if (fin_a && fin_b)
		t->state = WL_TCP_CLOSED;
	else if ((fin_a || fin_b) && t->state != WL_TCP_SYN_SENT)
		t->state = WL_TCP_CLOSING;
}

/* The initial RTT: from the most recent pure SYN to the first ACK without SYN. */
static void note_rtt(struct flow_tcp *t, uint16_t flags, uint32_t now)
{
	if ((flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		t->syn_time = now;
		t->have_syn = true;
	} else if ((flags & (TH_SYN | TH_ACK)) == TH_ACK && t->have_syn && !t->have_rtt) {
		t->rtt_us = now - t->syn_time;
		/* tshark takes a zero RTT for none, and tries again on the next ACK. */
		t->have_rtt = t->rtt_us != 0;
	}
}

void flow_tcp_segment(struct flow_tcp *t, int dir, const struct wl_flow *seg, uint32_t now)
{
	struct flow_tcp_side *fwd = &t->side[dir];
	uint32_t seglen = seg->l4_payload;
	bool first = !((t->last[0] | t->last[1]) & FLOW_TCP_BASE_SET);
	unsigned kind;

	note_base(t, dir, seg);
	kind = classify_fwd(t, dir, seg, seglen);
	if (seg->tcp_ack != fwd->lastack)
		t->dupacks[dir] = 0;
	acked_lost(t, dir, seg);
	if ((seglen > 0 || (seg->tcp_flags & (TH_SYN | TH_FIN))) && !(kind & SEG_KEEP_ALIVE))
		kind |= classify_resend(t, dir, seg, seglen, now);
	advance(t, dir, seg, seglen, kind, now);
	count(t, dir, kind);
	fwd->flags_seen |= seg->tcp_flags;
	t->resets += (seg->tcp_flags & TH_RST) != 0;
	move_state(t, seg->tcp_flags, first);
	note_rtt(t, seg->tcp_flags, now);
}

void flow_tcp_report(const struct flow_tcp *t, struct wl_flow_tcp *ret)
{
	ret->state = t->state;
	ret->flags[0] = t->side[0].flags_seen;
	ret->flags[1] = t->side[1].flags_seen;
	ret->rtt_us = t->have_rtt ? t->rtt_us : UINT32_MAX;
	memcpy(ret->retransmissions, t->retransmissions, sizeof(ret->retransmissions));
	memcpy(ret->out_of_order, t->out_of_order, sizeof(ret->out_of_order));
	memcpy(ret->dup_acks, t->dup_acks, sizeof(ret->dup_acks));
	memcpy(ret->zero_windows, t->zero_windows, sizeof(ret->zero_windows));
	ret->resets = t->resets;
}
