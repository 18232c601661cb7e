/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Questions asked of the flow table: which flows (filters), in what order
 * (one sort key), which page; and the endpoints the flows add up to. The
 * table is scanned once per question (200,000 flows in a few milliseconds)
 * and only the page asked for is sorted out of it, so that no order has to
 * be kept up to date as reports arrive.
 */
#ifndef WEBD_LIVE_FLOWQUERY_H
#define WEBD_LIVE_FLOWQUERY_H

#include "live/flows.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum flow_sort {
	FLOW_SORT_BYTES,
	FLOW_SORT_PACKETS,
	FLOW_SORT_DURATION,
	FLOW_SORT_RATE, /* bytes a second over the flow's life */
	FLOW_SORT_RETRANSMISSIONS,
	FLOW_SORT_RTT,
	FLOW_SORT_LAST, /* last seen */
	FLOW_SORT__MAX
};

enum flow_state_filter {
	FLOW_STATE_ANY,
	FLOW_STATE_ACTIVE, /* no final report yet */
	FLOW_STATE_ENDED,
	FLOW_STATE_TCP,    /* + tcp_state: a TCP state */
};

#define FLOW_QUERY_LIMIT_MAX 10000
#define FLOW_QUERY_NAME_MAX 128

struct flow_query {
	bool has_addr;
	struct wl_addr addr;       /* either end */
	int port;                  /* either end; -1: any */
	int ipproto;               /* -1: any */
	int app;                   /* enum wl_proto; -1: any */
	int sensor;                /* -1: any */
	char name[FLOW_QUERY_NAME_MAX]; /* lowercase substring of the name; "": any */
	char country[3];           /* either end (ISO code, upper case); "": any */
	enum flow_state_filter state;
	uint8_t tcp_state;         /* with FLOW_STATE_TCP */
	uint64_t min_bytes;        /* both directions */
	int64_t from_us, to_us;    /* flows active at some time in [from, to]; 0: open */
	enum flow_sort sort;
	bool ascending;
	size_t offset, limit;
};

/* What the flow table cannot know: the country of an address (webd's geolocation). */
struct flow_join {
	void (*country)(void *ctx, const struct wl_addr *a, char cc[3]);
	void *ctx;
};

/* The defaults: every flow, by bytes, the top 100. */
void flow_query_default(struct flow_query *q);

/*
 * Reads a query string (addr, port, proto, app, name, country, state,
 * min_bytes, from, to, sensor, sort, order, offset, limit; sensor is given as
 * an index by the caller's mapping function). Returns 0, or -EINVAL with a
 * message naming the parameter.
 */
int flow_query_parse(struct flow_query *q, const char *query, int (*sensor_index)(void *ctx, const char *name),
		     void *ctx, char *err, size_t errlen);

/*
 * The same, but sort= and order= are left to the caller, who sorts by
 * something else (/api/endpoints: flows, peers, ...); q keeps the default.
 */
int flow_query_parse_filters(struct flow_query *q, const char *query,
			     int (*sensor_index)(void *ctx, const char *name), void *ctx, char *err, size_t errlen);

/*
 * Runs q: fills out[0..n) with the flows of the page asked for, in order,
 * and returns n; *total is the number of flows that match. out must hold
 * q->limit entries. -ENOMEM if the scratch space cannot be had.
 */
long flow_query_run(const struct live_flows *t, const struct flow_query *q, const struct flow_join *join,
		    const struct live_flow **out, size_t *total);

/* Whether f passes q's filters (not its page). */
bool flow_query_matches(const struct live_flows *t, const struct flow_query *q, const struct flow_join *join,
			const struct live_flow *f);

/* The value a flow is sorted by (larger is "more"), for the API's extra keys too. */
double flow_sort_value(const struct live_flow *f, enum flow_sort sort);

const char *flow_sort_name(enum flow_sort sort);

#endif
