/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capd's flow reports carry counters cumulative since the flow began; IPFIX
 * wants what is new in each record (packetDeltaCount, octetDeltaCount). This
 * table remembers, per (sensor, flow id), the counters of the last active
 * report, so that the next report exports the difference and a flow's final
 * report exports the remainder (and is forgotten).
 *
 * Only flows that have had an active report are kept: most flows end before
 * their first active timeout and never take an entry. The table is bounded:
 * when full, the entry updated longest ago makes room (counted); its flow's
 * next report then exports the counters since the flow began. Keys come from
 * the network (capd's ids), so the buckets are chosen by SipHash under a
 * random key.
 */
#ifndef WL_IPFIX_DELTAS_H
#define WL_IPFIX_DELTAS_H

#include "wlite-wire.h"

#include <stddef.h>
#include <stdint.h>

struct ipfix_deltas;

struct ipfix_deltas_stats {
	size_t entries;
	uint64_t evicted;   /* entries dropped to make room */
	uint64_t backwards; /* a report whose counters were below the last one's (exported whole) */
};

/* A table of at most max entries (max >= 1). Returns NULL with *ret_err set. */
struct ipfix_deltas *ipfix_deltas_new(size_t max, int *ret_err);

struct ipfix_deltas *ipfix_deltas_free(struct ipfix_deltas *t);

/*
 * The counters to export for rec from sensor: rec's own minus those of the
 * last report of the same flow. An active report is remembered, a final one
 * forgotten. Returns 0, or -ENOMEM when an entry could not be made (the
 * deltas are still right for this report; the next may repeat them).
 */
int ipfix_deltas_apply(struct ipfix_deltas *t, uint16_t sensor, const struct wl_flow_record *rec,
		       uint64_t ret_packets[2], uint64_t ret_bytes[2]);

/* A sensor's capd started over (new ids): forgets every entry of that sensor. */
void ipfix_deltas_forget_sensor(struct ipfix_deltas *t, uint16_t sensor);

void ipfix_deltas_stats(const struct ipfix_deltas *t, struct ipfix_deltas_stats *ret);

#endif
