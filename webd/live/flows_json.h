/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flows as the API and the live feed show them: the flow schema v1 object
 * (common/flow-json.c) with the sensor's name and webd's additions, and a
 * page of a flow query as one JSON object. One writer, so that /api/flows
 * and the feed's "flows" messages cannot drift apart.
 */
#ifndef WEBD_LIVE_FLOWS_JSON_H
#define WEBD_LIVE_FLOWS_JSON_H

#include "live/flowquery.h"
#include "live/state.h"
#include "text.h"

#include <stddef.h>

/* What webd knows of an address, for the flow filters (country=). */
struct flow_join flows_json_join(struct state *s);

/* The country webd has for a (ctx: the state; lock held), "" when none. */
void flows_json_country(void *ctx, const struct wl_addr *a, char cc[3]);

/* The index of the sensor called name (ctx: the state), or -1. */
int flows_json_sensor_index(void *ctx, const char *name);

/*
 * Reads a flow query string against s's sensor names (lock not needed: the
 * sensors are fixed at start). Returns 0, or -EINVAL with a message in err.
 */
int flows_json_parse(struct state *s, struct flow_query *q, const char *query, char *err, size_t errlen);

/* The filters only: sort= and order= are the caller's (endpoints). */
int flows_json_parse_filters(struct state *s, struct flow_query *q, const char *query, char *err, size_t errlen);

/* One flow as JSON into out (state lock held). */
void flows_json_one(struct state *s, const struct live_flow *f, struct text *out);

/*
 * The page q asks for, as {"flows":[...],"total":N,"offset":..,"limit":..,
 * "sort":"..","order":".."} without the closing brace, so that a caller can
 * add keys (state lock held). Sets out->failed when memory runs out.
 */
void flows_json_page(struct state *s, const struct flow_query *q, struct text *out);

#endif
