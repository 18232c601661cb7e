/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flows webd knows: the reports of every sensor's "flow" topic, one
 * entry per (sensor, id), updated in place as a long flow's active reports
 * arrive, kept after it ends. Bounded: when the table is full the flow that
 * ended longest ago makes room (then, if none has ended, the one heard of
 * longest ago), and both are counted.
 *
 * A sensor whose capd restarts starts a new run of flow ids (capd puts a
 * random run prefix above its counter): the old run's flows that were
 * still active will never get their final report, so webd ends them (as
 * eof: capd stopped) and counts them.
 *
 * Each entry also remembers a few of its reports (time and bytes so far) for
 * a rate sparkline, and when its last report arrived by webd's clock, so
 * that "now" figures follow what arrives whatever the capture's clock says.
 *
 * Look-up is a hash table under a random SipHash key (the ids come from
 * sensors, which the network can reach). Not thread-safe: the caller holds
 * the state lock.
 */
#ifndef WEBD_LIVE_FLOWS_H
#define WEBD_LIVE_FLOWS_H

#include "idx-list.h"
#include "intern.h"
#include "sensors.h"
#include "siphash.h"
#include "wlite-wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOWS_DEFAULT_MAX 200000
#define FLOWS_LIMIT_MAX (1u << 26) /* the largest table flows_init accepts */
#define FLOWS_SPARK_POINTS 8

struct live_flow_point {
	int64_t at_us;     /* the report's last packet (capture clock) */
	uint64_t bytes;    /* both sides, so far */
};

struct live_flow {
	uint64_t id;
	int64_t first_us, last_us;
	uint64_t packets[2], bytes[2];
	int64_t heard_us;  /* webd's wall clock at the last report */
	struct wl_addr addr[2]; /* IP; for non-IP flows the MACs, family 0 */
	struct wl_addr outer[2];
	struct wl_flow_tcp tcp;
	uint32_t name;     /* intern reference, 0: none */
	uint32_t ja4, ja3s; /* the client's JA4, the server's JA3S: intern references, 0: none */
	uint32_t hash_next;
	struct wl_idx_link lru; /* in the active or the ended list */
	uint16_t port[2], vlan[WL_FLOW_VLAN_MAX], ethertype, icmp_id;
	uint8_t sensor, l3, ipproto, app, end, flags, n_vlan, icmp_type, icmp_code;
	bool ended, used;
	uint8_t n_points;
	struct live_flow_point points[FLOWS_SPARK_POINTS]; /* oldest first */
};

struct flows_stats {
	uint64_t reports, flows_seen;
	uint64_t evicted_ended, evicted_active; /* made room when full */
	uint64_t names_dropped;
	uint64_t ids_reused; /* a sensor restarted: an id came back with another flow */
	uint64_t ended_by_restart; /* active when their capd restarted: ended (eof) by webd */
	size_t n, max, active;
};

struct live_flows {
	struct live_flow *flows;
	uint32_t *buckets;
	uint32_t mask, max, hwm, free_head;
	struct wl_idx_list active; /* by heard_us, oldest first */
	struct wl_idx_list ended;  /* by when they ended, oldest first */
	struct wl_siphash_key key;
	struct wl_intern *names;
	uint32_t run[WL_SENSORS_MAX]; /* each sensor's run of flow ids, + 1 (0: none seen yet) */
	struct flows_stats stats;
};

int flows_init(struct live_flows *t, uint32_t max_flows);
void flows_free(struct live_flows *t);

/* Takes one report from a sensor at webd's wall time now_us; returns the entry (valid until the next call). */
const struct live_flow *flows_report(struct live_flows *t, uint8_t sensor, const struct wl_flow_record *rec,
				     int64_t now_us);

const struct live_flow *flows_find(const struct live_flows *t, uint8_t sensor, uint64_t id);

/* An interned text of a flow (ja4, ja3s; "" when none), valid while the flow is. */
const char *flows_text(const struct live_flows *t, uint32_t ref, size_t *len);

/* The name of a flow ("" when none), valid while the flow is. */
const char *flows_name(const struct live_flows *t, const struct live_flow *f, size_t *len);

/* Calls fn for every flow; stops early when fn returns false. */
void flows_each(const struct live_flows *t, bool (*fn)(const struct live_flow *f, void *ctx), void *ctx);

/* Empties the table (the "Clear" button); the counters stay. */
void flows_clear(struct live_flows *t);

#endif
