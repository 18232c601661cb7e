/* SPDX-License-Identifier: BSD-2-Clause */
#include "history/history_flowquery.h"

#include "history/history_flows.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_MAX 4096
#define FILTERS_MAX 10
#define UNION_COUNT_MAX 20000 /* two arms counted exactly (their ids deduplicated) up to this */

/* A way in: an index (one, or two whose rows are united: either end) and its key. */
struct driver {
	const char *what;
	const char *index[2], *key[2];
	int arms;
	bool by_bytes; /* keyed by value, then bytes: a walk by bytes can follow it */
	size_t count;  /* candidates in the range, up to HFQ_SMALL */
};

struct hfq {
	sqlite3 *db;
	const struct flow_query *q;
	void (*trace)(const char *sql, void *ctx);
	void *trace_ctx;
	char like[2 * FLOW_QUERY_NAME_MAX + 3];
	int64_t from, to, to_hi;
	const char *residual[FILTERS_MAX];
	int n_residual;
	struct driver drivers[FILTERS_MAX + 1]; /* [0]: the time range alone */
	int n_drivers;
	const char *dir;
	size_t need;    /* offset + limit: matches a walk must find */
	int64_t *ids;   /* the page, in order */
	size_t n_ids;
	size_t matched; /* by the last walk or sort */
};

struct sql {
	char s[SQL_MAX];
	size_t n;
};

static void add(struct sql *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct sql *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->n >= sizeof(b->s))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
	va_end(ap);
	b->n = n < 0 || (size_t)n >= sizeof(b->s) - b->n ? sizeof(b->s) : b->n + (size_t)n;
}

/* ---- Statements ---------------------------------------------------------------------------- */

#define T_RANGE "last >= :from AND last <= :to_hi AND first <= :to"

static int prepare(struct hfq *h, const struct sql *b, sqlite3_stmt **ret)
{
	const struct flow_query *q = h->q;
	sqlite3_stmt *st;
	int rc;

	*ret = NULL;
	if (b->n >= sizeof(b->s))
		return SQLITE_TOOBIG;
	if (h->trace)
		h->trace(b->s, h->trace_ctx);
	if ((rc = sqlite3_prepare_v2(h->db, b->s, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	/* Each value by name; a statement that does not use one has no slot for it. */
#define BIND(name, call)                                                              \
	do {                                                                          \
		int i_ = sqlite3_bind_parameter_index(st, name);                      \
		if (i_ > 0)                                                           \
			call;                                                         \
	} while (0)
	BIND(":from", sqlite3_bind_int64(st, i_, h->from));
	BIND(":to", sqlite3_bind_int64(st, i_, h->to));
	BIND(":to_hi", sqlite3_bind_int64(st, i_, h->to_hi));
	BIND(":addr", sqlite3_bind_blob(st, i_, q->addr.b, q->addr.family == 4 ? 4 : 16, SQLITE_STATIC));
	BIND(":port", sqlite3_bind_int(st, i_, q->port));
	BIND(":proto", sqlite3_bind_int(st, i_, q->ipproto));
	BIND(":app", sqlite3_bind_int(st, i_, q->app));
	BIND(":sensor", sqlite3_bind_int(st, i_, q->sensor));
	BIND(":name", sqlite3_bind_text(st, i_, h->like, -1, SQLITE_STATIC));
	BIND(":country", sqlite3_bind_text(st, i_, q->country, -1, SQLITE_STATIC));
	BIND(":tcp", sqlite3_bind_int(st, i_, q->tcp_state));
	BIND(":min_bytes", sqlite3_bind_int64(st, i_, q->min_bytes > INT64_MAX ? INT64_MAX : (int64_t)q->min_bytes));
	BIND(":small", sqlite3_bind_int(st, i_, HFQ_SMALL));
	BIND(":cap", sqlite3_bind_int(st, i_, HFQ_COUNT_CAP));
#undef BIND
	*ret = st;
	return SQLITE_OK;
}

/* A one-number query. */
static int query_count(struct hfq *h, const struct sql *b, size_t *ret)
{
	sqlite3_stmt *st;
	int rc = prepare(h, b, &st);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	sqlite3_finalize(st);
	return rc;
}

/* ---- The question's parts ----------------------------------------------------------------------- */

static void add_filter(struct hfq *h, const char *residual, const char *what, const char *ia, const char *ka,
		       const char *ib, const char *kb, bool by_bytes)
{
	h->residual[h->n_residual++] = residual;
	if (!ia)
		return;
	h->drivers[h->n_drivers++] = (struct driver){
		.what = what, .index = { ia, ib }, .key = { ka, kb }, .arms = ib ? 2 : 1, .by_bytes = by_bytes,
	};
}

static void make_like(struct hfq *h)
{
	size_t o = 0;

	/* name= is a substring, matched without case as /api/flows does; % _ \ match themselves. */
	h->like[o++] = '%';
	for (const char *c = h->q->name; *c; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			h->like[o++] = '\\';
		h->like[o++] = *c;
	}
	h->like[o++] = '%';
	h->like[o] = '\0';
}

static void state_filter(struct hfq *h)
{
	const struct flow_query *q = h->q;

	if (q->state == FLOW_STATE_ACTIVE)
		add_filter(h, "ended = 0", "active", "flows_active", "ended = 0", NULL, NULL, true);
	else if (q->state == FLOW_STATE_ENDED)
		add_filter(h, "ended = 1", "ended", NULL, NULL, NULL, NULL, false);
	else if (q->state == FLOW_STATE_TCP)
		add_filter(h, "tcp_state = :tcp", "state", "flows_tcp_state", "tcp_state = :tcp", NULL, NULL, true);
}

static void collect_filters(struct hfq *h)
{
	const struct flow_query *q = h->q;

	h->drivers[h->n_drivers++] = (struct driver){ .what = "time", .index = { "flows_last" }, .key = { "1" }, .arms = 1 };
	if (q->has_addr && (q->addr.family == 4 || q->addr.family == 6))
		add_filter(h, "(a = :addr OR b = :addr)", "addr", "flows_a", "a = :addr", "flows_b", "b = :addr", true);
	if (q->port >= 0)
		add_filter(h, "(a_port = :port OR b_port = :port)", "port", "flows_a_port", "a_port = :port",
			   "flows_b_port", "b_port = :port", true);
	if (q->ipproto >= 0)
		add_filter(h, "ipproto = :proto", "proto", "flows_ipproto", "ipproto = :proto", NULL, NULL, true);
	if (q->app >= 0)
		add_filter(h, "app = :app", "app", "flows_app", "app = :app", NULL, NULL, true);
	if (q->sensor >= 0)
		add_filter(h, "sensor = :sensor", "sensor", "flows_sensor", "sensor = :sensor", NULL, NULL, true);
	if (q->name[0]) {
		make_like(h);
		add_filter(h, "name LIKE :name ESCAPE '\\'", "name", "flows_name",
			   "name IS NOT NULL AND name LIKE :name ESCAPE '\\'", NULL, NULL, false);
	}
	if (q->country[0])
		add_filter(h, "(a_country = :country OR b_country = :country)", "country", "flows_a_country",
			   "a_country = :country", "flows_b_country", "b_country = :country", true);
	state_filter(h);
	if (q->min_bytes > 0)
		add_filter(h, "bytes >= :min_bytes", "min_bytes", "flows_bytes", "bytes >= :min_bytes", NULL, NULL, true);
}

/* Every filter, as one SQL condition. */
static void add_residual(struct sql *b, const struct hfq *h)
{
	add(b, "(1");
	for (int i = 0; i < h->n_residual; i++)
		add(b, " AND %s", h->residual[i]);
	add(b, ")");
}

static const struct {
	const char *expr, *index;
	bool nullable;
} sorts[FLOW_SORT__MAX] = {
	[FLOW_SORT_BYTES] = { "bytes", "flows_bytes", false },
	[FLOW_SORT_PACKETS] = { "packets", "flows_packets", false },
	[FLOW_SORT_DURATION] = { "last - first", "flows_duration", false },
	/* As flows_rate's expression, and as /api/flows reckons a rate. */
	[FLOW_SORT_RATE] = { "bytes * 8.0 / max((last - first) / 1e6, 0.001)", "flows_rate", false },
	[FLOW_SORT_RETRANSMISSIONS] = { "retransmissions", "flows_retransmissions", true },
	[FLOW_SORT_RTT] = { "rtt", "flows_rtt", true },
	[FLOW_SORT_LAST] = { "last", "flows_last", false },
};

/* The page's order; with nulls_last, flows without the value go after the others. */
static void add_order(struct sql *b, const struct hfq *h, enum flow_sort sort, bool nulls_last)
{
	const char *d = h->dir;

	add(b, " ORDER BY ");
	if (nulls_last && sorts[sort].nullable)
		add(b, "(%s) IS NULL, ", sorts[sort].expr);
	if (sort != FLOW_SORT_LAST)
		add(b, "(%s) %s, ", sorts[sort].expr, d);
	add(b, "last %s, first %s, id %s", d, d, d);
}

/* ---- Counting ------------------------------------------------------------------------------------ */

/* One arm's candidates in the range, inside its index, up to limit (":small" or ":cap"). */
static void add_arm_count(struct sql *b, const struct driver *d, int arm, const char *limit)
{
	add(b, "SELECT count(*) FROM (SELECT 1 FROM flows INDEXED BY %s WHERE %s AND " T_RANGE " LIMIT %s)",
	    d->index[arm], d->key[arm], limit);
}

static int count_driver(struct hfq *h, const struct driver *d, const char *limit, size_t counts[2])
{
	int rc = SQLITE_OK;

	counts[1] = 0;
	for (int arm = 0; arm < d->arms && rc == SQLITE_OK; arm++) {
		struct sql b = { .n = 0 };

		add_arm_count(&b, d, arm, limit);
		rc = query_count(h, &b, &counts[arm]);
	}
	return rc;
}

/* Both arms' candidates, each flow once (a flow can match at both ends: port 53 to port 53). */
static int count_union(struct hfq *h, const struct driver *d, size_t *ret)
{
	struct sql b = { .n = 0 };

	add(&b, "SELECT count(*) FROM (SELECT id FROM flows INDEXED BY %s WHERE %s AND " T_RANGE
		" UNION SELECT id FROM flows INDEXED BY %s WHERE %s AND " T_RANGE ")",
	    d->index[0], d->key[0], d->index[1], d->key[1]);
	return query_count(h, &b, ret);
}

static int count_candidates(struct hfq *h)
{
	int rc = SQLITE_OK;

	for (int i = 0; i < h->n_drivers && rc == SQLITE_OK; i++) {
		size_t c[2];

		rc = count_driver(h, &h->drivers[i], ":small", c);
		h->drivers[i].count = c[0] + c[1];
	}
	return rc;
}

static struct driver *smallest(struct hfq *h, bool by_bytes_only)
{
	struct driver *best = NULL;

	for (int i = by_bytes_only ? 1 : 0; i < h->n_drivers; i++)
		if ((!by_bytes_only || h->drivers[i].by_bytes) && (!best || h->drivers[i].count < best->count))
			best = &h->drivers[i];
	return best;
}

/*
 * After a walk that filled the page: the total when one index holds the
 * whole question (no filter, or one), else what the walk saw, at least.
 */
static int walk_total(struct hfq *h, struct hfq_result *ret)
{
	const struct driver *d = h->n_residual == 0 ? &h->drivers[0] : h->n_drivers == 2 ? &h->drivers[1] : NULL;
	size_t c[2];
	int rc;

	ret->total = h->matched;
	ret->total_exact = false;
	if (!d || h->n_residual > 1)
		return SQLITE_OK;
	if ((rc = count_driver(h, d, ":cap", c)) != SQLITE_OK)
		return rc;
	if (d->arms == 1) {
		ret->total = c[0];
		ret->total_exact = c[0] < HFQ_COUNT_CAP;
		return SQLITE_OK;
	}
	ret->total = c[0] > c[1] ? c[0] : c[1];
	if (c[0] + c[1] > UNION_COUNT_MAX)
		return SQLITE_OK;
	ret->total_exact = true;
	return count_union(h, d, &ret->total);
}

/* ---- Sort: read a driver's candidates, keep the matches, sort them ---------------------------------- */

static int run_sort(struct hfq *h, const struct driver *d)
{
	const struct flow_query *q = h->q;
	struct sql b = { .n = 0 };
	sqlite3_stmt *st;
	int rc;

	if (d->arms == 1) {
		add(&b, "SELECT id FROM flows INDEXED BY %s WHERE %s AND " T_RANGE " AND ", d->index[0], d->key[0]);
	} else {
		/* NOT INDEXED: the united ids are looked up by rowid, not by some other index. */
		add(&b, "SELECT id FROM flows NOT INDEXED WHERE id IN (SELECT id FROM flows INDEXED BY %s WHERE %s AND "
			T_RANGE " UNION ALL SELECT id FROM flows INDEXED BY %s WHERE %s AND " T_RANGE ") AND ",
		    d->index[0], d->key[0], d->index[1], d->key[1]);
	}
	add_residual(&b, h);
	add_order(&b, h, q->sort, true);
	if ((rc = prepare(h, &b, &st)) != SQLITE_OK)
		return rc;
	h->n_ids = h->matched = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (h->matched >= q->offset && h->n_ids < q->limit)
			h->ids[h->n_ids++] = sqlite3_column_int64(st, 0);
		h->matched++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- Walk: read in order, check each row, stop when the page is full ----------------------------- */

enum walk_end { WALK_FULL, WALK_END, WALK_BUDGET };

/* Steps a walk whose rows are (id, matches?); the page collects as they come. */
static int step_walk(struct hfq *h, const struct sql *b, size_t budget, size_t *examined, enum walk_end *ret)
{
	sqlite3_stmt *st;
	int rc = prepare(h, b, &st);

	if (rc != SQLITE_OK)
		return rc;
	*ret = WALK_END;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (++*examined > budget) {
			*ret = WALK_BUDGET;
			break;
		}
		if (!sqlite3_column_int(st, 1))
			continue;
		if (h->matched >= h->q->offset && h->n_ids < h->q->limit)
			h->ids[h->n_ids++] = sqlite3_column_int64(st, 0);
		if (++h->matched >= h->need) {
			*ret = WALK_FULL;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* By bytes along a filter's own index (both arms merged, each flow once). */
static void build_filter_walk(struct sql *b, const struct hfq *h, const struct driver *d)
{
	const char *x = h->dir;

	for (int arm = 0; arm < d->arms; arm++) {
		add(b, "%sSELECT id, ", arm ? " UNION " : "");
		add_residual(b, h);
		add(b, ", bytes, last, first FROM flows INDEXED BY %s WHERE %s AND " T_RANGE, d->index[arm], d->key[arm]);
	}
	if (d->arms == 1)
		add(b, " ORDER BY bytes %s, last %s, first %s, id %s", x, x, x, x);
	else
		add(b, " ORDER BY 3 %s, 4 %s, 5 %s, 1 %s", x, x, x, x);
}

/* Along the sort's index: the flows with the value, then (nullable sorts) those without, by time. */
static void build_sort_walk(struct sql *b, const struct hfq *h, bool without_value)
{
	enum flow_sort s = h->q->sort;

	add(b, "SELECT id, ");
	if (without_value)
		add(b, "(%s) IS NULL AND ", sorts[s].expr);
	add_residual(b, h);
	add(b, " FROM flows INDEXED BY %s WHERE ", without_value ? "flows_last" : sorts[s].index);
	if (sorts[s].nullable && !without_value)
		add(b, "%s IS NOT NULL AND ", sorts[s].expr);
	add(b, T_RANGE);
	add_order(b, h, without_value ? FLOW_SORT_LAST : s, false);
}

static int run_walk(struct hfq *h, const struct driver *along, enum walk_end *ret)
{
	size_t examined = 0, budget = HFQ_WALK_BUDGET + 20 * h->need;
	struct sql b = { .n = 0 };
	int rc;

	h->n_ids = h->matched = 0;
	if (along) {
		build_filter_walk(&b, h, along);
		return step_walk(h, &b, budget, &examined, ret);
	}
	build_sort_walk(&b, h, false);
	rc = step_walk(h, &b, budget, &examined, ret);
	if (rc == SQLITE_OK && *ret == WALK_END && sorts[h->q->sort].nullable) {
		b.n = 0;
		build_sort_walk(&b, h, true);
		rc = step_walk(h, &b, budget, &examined, ret);
	}
	return rc;
}

/* ---- The plan ------------------------------------------------------------------------------------- */

static void describe(struct hfq_result *ret, const char *how, const struct driver *d, const char *then)
{
	snprintf(ret->plan, sizeof(ret->plan), "%s %s%s%s%s", how, d ? d->index[0] : "",
		 d && d->arms == 2 ? "+" : "", d && d->arms == 2 ? d->index[1] : "", then);
}

static int walk_or_sort(struct hfq *h, struct hfq_result *ret)
{
	struct driver *best = smallest(h, false);
	struct driver *along = h->q->sort == FLOW_SORT_BYTES ? smallest(h, true) : NULL;
	enum walk_end end;
	int rc;

	if (best->count < HFQ_SMALL) {
		describe(ret, "sort", best, "");
		if ((rc = run_sort(h, best)) == SQLITE_OK) {
			ret->total = h->matched;
			ret->total_exact = true;
		}
		return rc;
	}
	if ((rc = run_walk(h, along, &end)) != SQLITE_OK)
		return rc;
	snprintf(ret->plan, sizeof(ret->plan), "walk %s", along ? along->index[0] : sorts[h->q->sort].index);
	if (end == WALK_END) {
		ret->total = h->matched;
		ret->total_exact = true;
		return SQLITE_OK;
	}
	if (end == WALK_FULL)
		return walk_total(h, ret);
	/* Too few matches along the order: sort the smallest driver's candidates after all. */
	describe(ret, "sort", best, ", after a walk");
	if ((rc = run_sort(h, best)) == SQLITE_OK) {
		ret->total = h->matched;
		ret->total_exact = true;
	}
	return rc;
}

static int fetch_page(struct hfq *h, void (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
	struct sql b = { .n = 0 };
	char cols[2048];
	sqlite3_stmt *st;
	int rc;

	if (history_flows_columns(cols, sizeof(cols), "") >= sizeof(cols))
		return SQLITE_TOOBIG;
	add(&b, "SELECT %s, (SELECT sensors.name FROM sensors WHERE sensors.id = flows.sensor) FROM flows WHERE id = ?1",
	    cols);
	if ((rc = prepare(h, &b, &st)) != SQLITE_OK)
		return rc;
	for (size_t i = 0; i < h->n_ids && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(st, 1, h->ids[i]);
		rc = sqlite3_step(st);
		/* A row gone since (retention): the page is one shorter. */
		if (rc == SQLITE_ROW && row)
			row(st, ctx);
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* The longest flow stored bounds how far past the range a flow active in it can have been last seen. */
static int set_range(struct hfq *h)
{
	struct sql b = { .n = 0 };
	size_t longest;
	int rc;

	h->from = h->q->from_us;
	h->to = h->q->to_us ? h->q->to_us : INT64_MAX;
	add(&b, "SELECT coalesce(max(last - first), 0) FROM flows INDEXED BY flows_duration");
	if ((rc = query_count(h, &b, &longest)) != SQLITE_OK)
		return rc;
	h->to_hi = h->to > INT64_MAX - (int64_t)longest ? INT64_MAX : h->to + (int64_t)longest;
	return SQLITE_OK;
}

static int run(sqlite3 *db, const struct flow_query *q, void (*row)(sqlite3_stmt *st, void *ctx), void *ctx,
	       void (*trace)(const char *sql, void *ctx), struct hfq_result *ret)
{
	struct hfq h = { .db = db, .q = q, .trace = trace, .trace_ctx = ctx, .dir = q->ascending ? "ASC" : "DESC" };
	int rc;

	memset(ret, 0, sizeof(*ret));
	if ((unsigned)q->sort >= FLOW_SORT__MAX)
		return SQLITE_MISUSE;
	h.need = q->offset + q->limit;
	if (!(h.ids = malloc((q->limit ? q->limit : 1) * sizeof(*h.ids))))
		return SQLITE_NOMEM;
	collect_filters(&h);
	if ((rc = set_range(&h)) == SQLITE_OK && (rc = count_candidates(&h)) == SQLITE_OK &&
	    (rc = walk_or_sort(&h, ret)) == SQLITE_OK && row)
		rc = fetch_page(&h, row, ctx);
	ret->rows = h.n_ids;
	free(h.ids);
	return rc;
}

int history_flowquery_run(sqlite3 *db, const struct flow_query *q, void (*row)(sqlite3_stmt *st, void *ctx),
			  void *ctx, struct hfq_result *ret)
{
	return run(db, q, row, ctx, NULL, ret);
}

int history_flowquery_explain(sqlite3 *db, const struct flow_query *q, void (*fn)(const char *sql, void *ctx),
			      void *ctx)
{
	struct hfq_result r;

	return run(db, q, NULL, ctx, fn, &r);
}

int history_flowquery_sensor(void *ctx, const char *name)
{
	sqlite3_stmt *st;
	int id = -1;

	if (sqlite3_prepare_v2(ctx, "SELECT id FROM sensors WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return id;
}
