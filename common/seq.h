/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Counting what a subscriber missed, from capd's sequence numbers: every
 * packet capd publishes (or fails to) takes the next number, so a jump is a
 * loss. A lower number means capd started over, which is not one.
 */
#ifndef WL_SEQ_H
#define WL_SEQ_H

#include <stdint.h>

struct wl_seq {
	uint64_t last; /* 0: nothing seen yet */
	uint64_t gaps, missed;
	uint64_t restarts; /* numbers not above the last one: capd started over */
};

static inline uint64_t wl_seq_count_loss(struct wl_seq *s, uint64_t lost)
{
	if (lost) {
		s->gaps++;
		s->missed += lost;
	}
	return lost;
}

/* A packet numbered seq arrived: returns how many were missed just before it. */
static inline uint64_t wl_seq_packet(struct wl_seq *s, uint64_t seq)
{
	uint64_t lost = s->last && seq > s->last + 1 ? seq - s->last - 1 : 0;

	if (s->last && seq <= s->last)
		s->restarts++;
	s->last = seq;
	return wl_seq_count_loss(s, lost);
}

/*
 * capd's "stats" say it has numbered packets up to seq, and it sends them
 * after those packets on the same pipe: any beyond the last one seen were
 * lost, even when no later packet comes to show the gap. Returns how many.
 * A subscriber that joined late takes seq as its last: the next packet of
 * this run is numbered above it (a gap counts from there), one of a new run
 * is not (a restart).
 */
static inline uint64_t wl_seq_sent(struct wl_seq *s, uint64_t seq)
{
	uint64_t lost = s->last && seq > s->last ? seq - s->last : 0;

	if (seq > s->last)
		s->last = seq;
	return wl_seq_count_loss(s, lost);
}

#endif
