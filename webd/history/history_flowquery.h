/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /api/flows' questions (struct flow_query: the same filters, sorts and
 * pages) asked of the history's flows table, as SQL built from fixed pieces
 * with every value a bound parameter.
 *
 * The plan, chosen per request from index-only counts:
 *  - every filter that has an index is a possible "driver"; so is the time
 *    range (flows_last). Each driver's candidates in the range are counted
 *    inside its index, up to HFQ_SMALL;
 *  - when one has fewer than HFQ_SMALL, its candidates are read, filtered
 *    and sorted: a few thousand rows at most ("sort");
 *  - otherwise the rows are read in the order asked from an index that
 *    holds it (the sort's own, or, sorted by bytes, the filter's, which are
 *    keyed by value then bytes), the other filters checked row by row,
 *    until the page is full ("walk"). A walk that meets too few matches in
 *    its budget (filters that match little, all at the far end of the
 *    order) gives way to "sort" over the smallest driver.
 * Flows without the sort's value (RTT, retransmissions: not TCP, no
 * handshake) come after the others either way, as in /api/flows. Ties go
 * by last seen, first seen, then storage order.
 *
 * total counts the matches exactly when total_exact is set; otherwise it
 * is a lower bound (there are at least that many): counting stops at
 * HFQ_COUNT_CAP, and for several filters together at what the walk saw.
 */
#ifndef WEBD_HISTORY_FLOWQUERY_H
#define WEBD_HISTORY_FLOWQUERY_H

#include "live/flowquery.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define HFQ_SMALL 5000        /* candidates a "sort" plan reads, at most */
#define HFQ_COUNT_CAP 100000  /* counted inside an index, at most */
#define HFQ_WALK_BUDGET 20000 /* rows a walk reads, plus 20 per row of the page and the offset */

struct hfq_result {
	size_t total;
	bool total_exact;
	size_t rows;     /* on this page */
	char plan[96];   /* how it was answered, for the curious and the benchmark */
};

/*
 * Calls row(st, ctx) for each flow of the page q asks for (q->sensor: an id
 * of the sensors table, history_flowquery_sensor), in order; st's columns
 * are those of history_flows_columns, then the sensor's name. Returns
 * SQLITE_OK or the SQLite error (the message is db's).
 */
int history_flowquery_run(sqlite3 *db, const struct flow_query *q, void (*row)(sqlite3_stmt *st, void *ctx),
			  void *ctx, struct hfq_result *ret);

/* For flow_query_parse: the sensors table's id of name (ctx: the sqlite3 *), or -1. */
int history_flowquery_sensor(void *ctx, const char *name);

/*
 * The statements a query runs, for tests and EXPLAIN: its plan as chosen on
 * db, with each statement's SQL passed to fn. Returns SQLITE_OK or an error.
 */
int history_flowquery_explain(sqlite3 *db, const struct flow_query *q, void (*fn)(const char *sql, void *ctx),
			      void *ctx);

#endif
