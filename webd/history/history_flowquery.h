/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /api/flows' questions (struct flow_query: the same filters, sorts and
 * pages) asked of the history's flows table, as SQL built from fixed pieces
 * with every value a bound parameter.
 *
 * Every filter has an index keyed by its value then time, which also holds
 * what the sorts need and the "light" filters' values, those a flow has one
 * of (protocol, application, state, sensor, name; min_bytes is its bytes),
 * as the time range alone has (flows_last): history_db.c, migration 4.
 * Those are the "drivers". The either-end filters (address, port, country)
 * are checked inside their own index only. Per request:
 *  - each driver's flows in the range that pass the light filters are
 *    counted inside its index, up to count_cap;
 *  - when one driver's index holds the whole question (light filters, and
 *    one either-end filter at most: its own) and fewer than count_cap flows
 *    match, they are sorted inside it, no row read but the page's ("index");
 *  - else, when a driver has fewer than small flows, they are read, the
 *    other filters checked, and sorted ("sort");
 *  - else rows are read in the order asked along an index that holds it
 *    (the sort's own; by time, the smallest filter's), each checked, until
 *    the page is full ("walk"). A walk that meets too few matches within
 *    its budget (filters that match little, all at the far end of the
 *    order) gives way to sorting after all: inside the index that holds
 *    the question (so that walk is given up soon), else row by row, the
 *    flows of the driver with the fewest (counted in full first), or those
 *    the two smallest both have, found inside their indexes.
 * Flows without the sort's value (RTT, retransmissions: not TCP, no
 * handshake) come after the others either way, as in /api/flows. Ties go
 * by last seen, first seen, then storage order. name= is a substring: it is
 * matched against the table of distinct names, and the flows of those that
 * match come through flows_name.
 *
 * total counts the matches exactly when total_exact is set; otherwise it
 * is a lower bound (there are at least that many): counting stops at
 * count_cap, and when no index holds the question a walk counts what it
 * saw.
 */
#ifndef WEBD_HISTORY_FLOWQUERY_H
#define WEBD_HISTORY_FLOWQUERY_H

#include "live/flowquery.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

struct hfq_limits {
	size_t count_cap;   /* flows counted inside an index, at most (10,000) */
	size_t small;       /* flows a "sort" reads row by row, at most (5,000) */
	size_t walk_budget; /* rows a walk reads, plus 20 per row of the page and its offset (20,000);
			       a twentieth, plus 2 per row, when an index holds the question */
};

struct hfq_result {
	size_t total;
	bool total_exact;
	size_t rows;     /* on this page */
	char plan[96];   /* how it was answered, for the curious and the benchmark */
};

/*
 * Calls row(st, ctx) for each flow of the page q asks for (q->sensor: an id
 * of the sensors table, history_flowquery_sensor), in order; st's columns
 * are those of history_flows_columns, then the sensor's name. limits: NULL
 * for the defaults. Returns SQLITE_OK or the SQLite error (the message is
 * db's).
 */
int history_flowquery_run(sqlite3 *db, const struct flow_query *q, const struct hfq_limits *limits,
			  void (*row)(sqlite3_stmt *st, void *ctx), void *ctx, struct hfq_result *ret);

/* For flow_query_parse: the sensors table's id of name (ctx: the sqlite3 *), or -1. */
int history_flowquery_sensor(void *ctx, const char *name);

/*
 * The statements a query runs, for tests and EXPLAIN: its plan as chosen on
 * db, each statement's SQL passed to fn before it runs. Returns SQLITE_OK or
 * an error.
 */
int history_flowquery_explain(sqlite3 *db, const struct flow_query *q, const struct hfq_limits *limits,
			      void (*fn)(const char *sql, void *ctx), void *ctx);

#endif
