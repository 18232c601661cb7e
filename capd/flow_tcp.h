/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP analysis of one flow, with the meaning tshark gives its
 * tcp.analysis.* flags, so that the counts agree with Wireshark's on the
 * same capture: retransmissions (plain, fast and spurious, which tshark all
 * marks tcp.analysis.retransmission), out-of-order segments, duplicate ACKs,
 * zero windows, resets, and the handshake's initial RTT
 * (tcp.analysis.initial_rtt: the last SYN to the first ACK without SYN).
 *
 * It follows tshark 4.0's tcp_analyze_sequence_number() (packet-tcp.c) in
 * the tests it makes and their order, with the state it needs kept small:
 * per side the next expected sequence number, the highest one that can be
 * acknowledged, the last ACK and window, and two times. What tshark keeps
 * beyond that (the list of unacknowledged segments, for RTO figures and
 * bytes in flight) changes none of these flags. Times are microseconds,
 * wrapping at 32 bits: only differences under a few seconds matter.
 */
#ifndef CAPD_FLOW_TCP_H
#define CAPD_FLOW_TCP_H

#include "wlite-proto.h"
#include "wlite-wire.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * One side's sequence state. Laid out without padding: a million flows
 * hold two each, and the byte-sized parts live in struct flow_tcp.
 */
struct flow_tcp_side {
	uint32_t base_seq;        /* the first segment's seq (a SYN's), or seq - 1 */
	uint32_t nextseq;         /* the highest seq + length seen; 0: unknown, as in tshark */
	uint32_t maxseqtobeacked; /* the highest contiguous one */
	uint32_t lastack;         /* the last ACK this side sent */
	uint32_t nextseq_time;    /* when nextseq last moved */
	uint32_t lastack_time;
	uint16_t window;          /* the last window this side sent, unscaled */
	uint16_t flags_seen;
};

struct flow_tcp {
	struct flow_tcp_side side[2]; /* 0: side a, 1: side b */
	uint32_t retransmissions[2], out_of_order[2], dup_acks[2], zero_windows[2];
	uint32_t resets;
	uint32_t syn_time;  /* the most recent pure SYN */
	uint32_t rtt_us;    /* the initial RTT; valid with have_rtt */
	int8_t dupacks[2];  /* tshark's dupacknum per side: -1, 0, 1, ... (saturates) */
	uint8_t last[2];    /* FLOW_TCP_LAST_* per side: what its last segment was */
	uint8_t state;      /* enum wl_tcp_state */
	bool have_syn, have_rtt;
};

/*
 * Whether a segment from side dir starts a new connection on the same
 * ports: a pure SYN whose sequence number is not the one this side started
 * with (tshark then opens a new tcp.stream).
 */
bool flow_tcp_new_connection(const struct flow_tcp *t, int dir, const struct wl_flow *seg);

/* Analyses one segment from side dir (0 or 1) at time now_us (wrapping). */
void flow_tcp_segment(struct flow_tcp *t, int dir, const struct wl_flow *seg, uint32_t now_us);

/* Copies the analysis into a report. */
void flow_tcp_report(const struct flow_tcp *t, struct wl_flow_tcp *ret);

#endif
