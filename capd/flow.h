/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow table: every packet's summary, once, folded into conversations.
 *
 * A flow is keyed by protocol, the two endpoints (addresses and, for TCP,
 * UDP and SCTP, ports; the identifier for ICMP echo; MACs and the ethertype
 * for non-IP), the VLAN ids and whether it is tunnelled (then by its inner
 * headers). Both directions share one entry; side a sent the first packet.
 *
 * Memory is fixed by max_flows, allocated as it is used. Look-up is a hash
 * table under a random per-process SipHash key, so that no sender can choose
 * colliding keys. Flows are kept on one list per timeout class, oldest
 * activity first, so expiry and eviction cost nothing per idle flow.
 *
 * Time is the capture's clock. A flow ends when it has been idle longer
 * than its class's timeout: found so by its next packet, by a sweep
 * (flow_table_expire(), which a live capture calls every second), by the
 * end of the capture, or when the table is full and it is the oldest. A
 * file read without sweeps (--flows) thus gives the same flows every time,
 * and a timestamp far off in a broken capture ends no other flow.
 *
 * A pure library: no I/O, no logging. Reports go to a callback.
 */
#ifndef CAPD_FLOW_H
#define CAPD_FLOW_H

#include "wlite-proto.h"
#include "wlite-wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Idle timeouts, by what the flow looks like now. */
enum flow_class {
	FLOW_CLASS_TCP,        /* established, mid-stream, one side closing */
	FLOW_CLASS_TCP_SYN,    /* a handshake that has not completed */
	FLOW_CLASS_TCP_CLOSED, /* both FINs, or a RST: late segments may still come for 2 MSL */
	FLOW_CLASS_UDP,
	FLOW_CLASS_ICMP,
	FLOW_CLASS_OTHER,
	FLOW_CLASS__MAX
};

struct flow_config {
	uint32_t max_flows;
	uint32_t idle_s[FLOW_CLASS__MAX];
	uint32_t active_s;   /* a long flow is reported every active_s, and goes on */
	uint64_t id_base;    /* ids are id_base + 1, + 2, ... */
};

/* Defaults: 1,000,000 flows; TCP 300 s, handshake 30 s, closed 60 s (2 MSL, as TIME_WAIT), UDP 60 s, ICMP 30 s, other 60 s. */
void flow_config_default(struct flow_config *cfg);

struct flow_stats {
	uint64_t active;             /* flows in the table now */
	uint64_t created, ended;     /* ended: every final report, whatever the reason */
	uint64_t by_end[WL_FLOW_END__MAX]; /* reports by reason (active ones included) */
	uint64_t evicted;            /* = by_end[WL_FLOW_EVICTED] */
	uint64_t packets;            /* packets folded in */
	uint64_t names_dropped;      /* names not kept: the name pool was full */
	uint64_t memory;             /* bytes the table has allocated */
};

/* Called for every report; the record is valid during the call only. */
typedef void (*flow_report_fn)(void *ctx, const struct wl_flow_record *rec);

struct flow_table;

/* Returns NULL with *err set: -ENOMEM, or -EINVAL for a bad configuration. */
struct flow_table *flow_table_new(const struct flow_config *cfg, flow_report_fn report, void *ctx, int *err);
struct flow_table *flow_table_free(struct flow_table *t);

/*
 * Folds one decoded packet in, at its capture time. May report flows.
 * Returns the id of the flow it is counted in, or 0 for a packet no flow
 * can hold.
 */
uint64_t flow_table_packet(struct flow_table *t, const struct wl_packet *pkt);

/* Reports and removes the flows idle longer than their timeout at now_us. */
void flow_table_expire(struct flow_table *t, int64_t now_us);

/*
 * Reports every flow still in the table and empties it: why (eof) for those
 * still open by the capture's clock, idle, fin or rst for the others.
 */
void flow_table_flush(struct flow_table *t, enum wl_flow_end why);

void flow_table_stats(const struct flow_table *t, struct flow_stats *ret);

/* The capture time of the newest packet seen, in microseconds (0 before any). */
int64_t flow_table_clock(const struct flow_table *t);

#endif
