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

static const struct hfq_limits default_limits = { .count_cap = 10000, .small = 5000, .walk_budget = 20000 };

/* A way in: an index (one, or two for either end: disjoint, the second excludes the first's) and its key. */
struct driver {
	const char *what;
	const char *index[2], *key[2];
	int arms;
	enum flow_sort order; /* the index's order after its key: FLOW_SORT_LAST, BYTES, or __MAX (none) */
	bool all_sorts;       /* holds every sort's value (flows_bytes: only bytes and time) */
	bool light_inside;    /* holds the light filters' columns (all but flows_bytes) */
	bool is_filter;       /* a filter's (else the time range's) */
	int filter;           /* its filter's index in hfq.filters; -1: the range's */
	size_t count;         /* its flows in the range, up to the cap (arms added) */
	bool capped;
};

struct hfq {
	sqlite3 *db;
	const struct flow_query *q;
	struct hfq_limits lim;
	void (*trace)(const char *sql, void *ctx);
	void *trace_ctx;
	char like[2 * FLOW_QUERY_NAME_MAX + 3];
	int64_t from, to, to_hi;
	struct {
		const char *sql; /* over the flows table's columns: inside every index when light */
		bool light;      /* one value each flow has once (not either end): every filter index holds it */
	} filters[FILTERS_MAX];
	int n_filters;
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
	BIND(":cap", sqlite3_bind_int64(st, i_, (int64_t)h->lim.count_cap));
	BIND(":need", sqlite3_bind_int64(st, i_, (int64_t)h->need));
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

static void add_filter(struct hfq *h, const char *sql, const char *what, const char *ia, const char *ka,
		       const char *ib, const char *kb)
{
	h->filters[h->n_filters].sql = sql;
	h->filters[h->n_filters].light = !ib;
	if (ia)
		h->drivers[h->n_drivers++] = (struct driver){
			.what = what, .index = { ia, ib }, .key = { ka, kb }, .arms = ib ? 2 : 1, .order = FLOW_SORT_LAST,
			.all_sorts = true, .light_inside = true, .is_filter = true, .filter = h->n_filters,
		};
	h->n_filters++;
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
		add_filter(h, "ended = 0", "active", "flows_active", "ended = 0", NULL, NULL);
	else if (q->state == FLOW_STATE_ENDED)
		add_filter(h, "ended = 1", "ended", NULL, NULL, NULL, NULL);
	else if (q->state == FLOW_STATE_TCP)
		add_filter(h, "tcp_state = :tcp", "state", "flows_tcp_state", "tcp_state = :tcp", NULL, NULL);
}

/* Either end: the second arm leaves out what the first has (the index holds the other end). */
static void collect_ends(struct hfq *h)
{
	const struct flow_query *q = h->q;

	if (q->has_addr && (q->addr.family == 4 || q->addr.family == 6))
		add_filter(h, "(a = :addr OR b = :addr)", "addr", "flows_a", "a = :addr", "flows_b",
			   "b = :addr AND a IS NOT :addr");
	if (q->port >= 0)
		add_filter(h, "(a_port = :port OR b_port = :port)", "port", "flows_a_port", "a_port = :port",
			   "flows_b_port", "b_port = :port AND a_port IS NOT :port");
	if (q->country[0])
		add_filter(h, "(a_country = :country OR b_country = :country)", "country", "flows_a_country",
			   "a_country = :country", "flows_b_country", "b_country = :country AND a_country IS NOT :country");
}

static void collect_filters(struct hfq *h)
{
	const struct flow_query *q = h->q;

	h->drivers[h->n_drivers++] = (struct driver){
		.what = "time", .index = { "flows_last" }, .key = { "1" }, .arms = 1, .order = FLOW_SORT_LAST,
		.all_sorts = true, .light_inside = true, .filter = -1,
	};
	collect_ends(h);
	if (q->ipproto >= 0)
		add_filter(h, "ipproto = :proto", "proto", "flows_ipproto", "ipproto = :proto", NULL, NULL);
	if (q->app >= 0)
		add_filter(h, "app = :app", "app", "flows_app", "app = :app", NULL, NULL);
	if (q->sensor >= 0)
		add_filter(h, "sensor = :sensor", "sensor", "flows_sensor", "sensor = :sensor", NULL, NULL);
	if (q->name[0]) {
		/* Matched against the distinct names; their flows through flows_name, in no one order. */
		make_like(h);
		add_filter(h, "name_id IN (SELECT id FROM names WHERE name LIKE :name ESCAPE '\\')", "name", "flows_name",
			   "name_id IS NOT NULL AND name_id IN (SELECT id FROM names WHERE name LIKE :name ESCAPE '\\')",
			   NULL, NULL);
		h->drivers[h->n_drivers - 1].order = FLOW_SORT__MAX;
	}
	state_filter(h);
	if (q->min_bytes > 0) {
		add_filter(h, "bytes >= :min_bytes", "min_bytes", "flows_bytes", "bytes >= :min_bytes", NULL, NULL);
		/* flows_bytes: ordered by bytes, and without packets, RTT, retransmissions or the light filters. */
		h->drivers[h->n_drivers - 1].order = FLOW_SORT_BYTES;
		h->drivers[h->n_drivers - 1].all_sorts = false;
		h->drivers[h->n_drivers - 1].light_inside = false;
	}
}

/* Every filter, as one SQL condition; light_only: those inside every filter index. */
static void add_filters(struct sql *b, const struct hfq *h, bool light_only)
{
	add(b, "(1");
	for (int i = 0; i < h->n_filters; i++)
		if (!light_only || h->filters[i].light)
			add(b, " AND %s", h->filters[i].sql);
	add(b, ")");
}

static void add_residual(struct sql *b, const struct hfq *h)
{
	add_filters(b, h, false);
}

/* What a driver's index can check of the filters besides its key. */
static void add_inside(struct sql *b, const struct hfq *h, const struct driver *d)
{
	if (d->light_inside)
		add_filters(b, h, true);
	else
		add(b, "1");
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

/* Its flows in the range, up to the cap; with inside, only those that pass the light filters. */
static int count_driver(struct hfq *h, struct driver *d, bool inside)
{
	int rc = SQLITE_OK;

	d->count = 0;
	d->capped = false;
	for (int arm = 0; arm < d->arms && rc == SQLITE_OK; arm++) {
		struct sql b = { .n = 0 };
		size_t n;

		add(&b, "/* count */ SELECT count(*) FROM (SELECT 1 FROM flows INDEXED BY %s WHERE %s AND " T_RANGE " AND ",
		    d->index[arm], d->key[arm]);
		if (inside)
			add_inside(&b, h, d);
		else
			add(&b, "1");
		add(&b, " LIMIT :cap)");
		rc = query_count(h, &b, &n);
		d->count += n;
		d->capped |= n >= h->lim.count_cap;
	}
	return rc;
}

/*
 * Each driver's flows by its key alone: a seek and a short count each. With
 * the light filters too, a selective one (a rare name) would make the
 * range's count read every flow of the range before the cap.
 */
static int count_drivers(struct hfq *h)
{
	int rc = SQLITE_OK;

	for (int i = 0; i < h->n_drivers && rc == SQLITE_OK; i++)
		rc = count_driver(h, &h->drivers[i], false);
	return rc;
}

/*
 * Fewer flows: one counted to the end before one that reached the cap; of
 * two that reached it, a filter's before the range's (which holds them
 * all), else the larger count is only the larger cap.
 */
static bool fewer(const struct driver *a, const struct driver *b)
{
	if (a->capped != b->capped)
		return !a->capped;
	if (a->capped && a->is_filter != b->is_filter)
		return a->is_filter;
	if (a->count != b->count)
		return a->count < b->count;
	return a->is_filter && !b->is_filter;
}

/* The driver with the fewest flows; with order set, only filters' indexes in that order; but one: not it. */
static struct driver *smallest_but(struct hfq *h, int order, const struct driver *but)
{
	struct driver *best = NULL;

	for (int i = order >= 0 ? 1 : 0; i < h->n_drivers; i++) {
		struct driver *d = &h->drivers[i];

		if ((order >= 0 && (int)d->order != order) || d == but)
			continue;
		if (!best || fewer(d, best))
			best = d;
	}
	return best;
}

static struct driver *smallest(struct hfq *h, int order)
{
	return smallest_but(h, order, NULL);
}

static bool covers(const struct hfq *h, const struct driver *d);

/*
 * Before sorting after a walk: the filters' drivers that reached the cap
 * counted again by their key, up to factor times it (with covering_only,
 * only the indexes that hold the question), so that the sort reads the
 * fewest flows.
 */
static int recount_capped(struct hfq *h, size_t factor, bool covering_only)
{
	size_t cap = h->lim.count_cap;
	int rc = SQLITE_OK, n = 0;

	/* One candidate (and the range's, which holds them all): nothing to choose. */
	for (int i = 1; i < h->n_drivers; i++)
		n += h->drivers[i].capped && (!covering_only || covers(h, &h->drivers[i]));
	if (n < 2)
		return SQLITE_OK;
	h->lim.count_cap = cap * factor;
	for (int i = 1; i < h->n_drivers && rc == SQLITE_OK; i++)
		if (h->drivers[i].capped && (!covering_only || covers(h, &h->drivers[i])))
			rc = count_driver(h, &h->drivers[i], false);
	h->lim.count_cap = cap;
	return rc;
}

/* Whether d's index alone answers the question: every filter (its own, or light inside it), the sort's value. */
static bool covers(const struct hfq *h, const struct driver *d)
{
	enum flow_sort s = h->q->sort;

	if (!d->all_sorts && s != FLOW_SORT_BYTES && s != FLOW_SORT_LAST && s != FLOW_SORT_DURATION &&
	    s != FLOW_SORT_RATE)
		return false;
	for (int i = 0; i < h->n_filters; i++)
		if (i != d->filter && !(h->filters[i].light && d->light_inside))
			return false;
	return true;
}

/* The driver with the fewest flows whose index alone answers the question, or NULL. */
static struct driver *covering(struct hfq *h)
{
	struct driver *best = NULL;

	for (int i = 0; i < h->n_drivers; i++)
		if (covers(h, &h->drivers[i]) && (!best || fewer(&h->drivers[i], best)))
			best = &h->drivers[i];
	return best;
}

/* ---- Index: sort a driver's flows inside its index, read only the page ----------------------------- */

static int collect_page(struct hfq *h, const struct sql *b)
{
	sqlite3_stmt *st;
	int rc = prepare(h, b, &st);

	if (rc != SQLITE_OK)
		return rc;
	h->n_ids = h->matched = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (h->matched >= h->q->offset && h->n_ids < h->q->limit)
			h->ids[h->n_ids++] = sqlite3_column_int64(st, 0);
		h->matched++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int run_index(struct hfq *h, const struct driver *d)
{
	const char *e = sorts[h->q->sort].expr, *x = h->dir;
	struct sql b = { .n = 0 };

	if (d->arms == 1) {
		add(&b, "/* index */ SELECT id FROM flows INDEXED BY %s WHERE %s AND " T_RANGE " AND ", d->index[0],
		    d->key[0]);
		add_inside(&b, h, d);
		add_order(&b, h, h->q->sort, true);
	} else {
		for (int arm = 0; arm < 2; arm++) {
			add(&b, "%sSELECT id, (%s) IS NULL, (%s), last, first FROM flows INDEXED BY %s WHERE %s AND " T_RANGE
				" AND ", arm ? " UNION ALL " : "/* index */ ", e, e, d->index[arm], d->key[arm]);
			add_inside(&b, h, d);
		}
		add(&b, " ORDER BY 2, 3 %s, 4 %s, 5 %s, 1 %s", x, x, x, x);
	}
	add(&b, " LIMIT :need");
	return collect_page(h, &b);
}

/* ---- Sort: read a driver's flows, check the other filters, sort them ------------------------------- */

/* A driver's flows in the range, as a SELECT of their ids (inside its indexes). */
static void add_ids(struct sql *b, const struct hfq *h, const struct driver *d)
{
	for (int arm = 0; arm < d->arms; arm++) {
		add(b, "%sSELECT id FROM flows INDEXED BY %s WHERE %s AND " T_RANGE " AND ", arm ? " UNION ALL " : "",
		    d->index[arm], d->key[arm]);
		add_inside(b, h, d);
	}
}

/*
 * With two filters both too large to sort (also), the flows both hold,
 * found inside their indexes: only those rows are read.
 */
static int run_sort(struct hfq *h, const struct driver *d, const struct driver *also)
{
	struct sql b = { .n = 0 };

	if (also) {
		add(&b, "/* sort */ SELECT id FROM flows NOT INDEXED WHERE id IN (SELECT id FROM (");
		add_ids(&b, h, d);
		add(&b, ") INTERSECT SELECT id FROM (");
		add_ids(&b, h, also);
		add(&b, ")) AND ");
	} else {
		/* NOT INDEXED: the ids found inside the indexes are looked up by rowid, not by some other index. */
		add(&b, "/* sort */ SELECT id FROM flows NOT INDEXED WHERE id IN (");
		add_ids(&b, h, d);
		add(&b, ") AND ");
	}
	add_residual(&b, h);
	add_order(&b, h, h->q->sort, true);
	return collect_page(h, &b);
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

/* Along a filter's own index, in its order (time, or bytes for min_bytes): both ends merged. */
static void build_filter_walk(struct sql *b, const struct hfq *h, const struct driver *d)
{
	const char *x = h->dir, *e = sorts[d->order].expr;

	for (int arm = 0; arm < d->arms; arm++) {
		add(b, "%sSELECT id, ", arm ? " UNION ALL " : "/* walk */ ");
		add_residual(b, h);
		add(b, ", (%s), last, first FROM flows INDEXED BY %s WHERE %s AND " T_RANGE, e, d->index[arm],
		    d->key[arm]);
	}
	add(b, " ORDER BY 3 %s, 4 %s, 5 %s, 1 %s", x, x, x, x);
}

/* Along the sort's index: the flows with the value, then (nullable sorts) those without, by time. */
static void build_sort_walk(struct sql *b, const struct hfq *h, bool without_value)
{
	enum flow_sort s = h->q->sort;

	add(b, "/* walk */ SELECT id, ");
	if (without_value)
		add(b, "(%s) IS NULL AND ", sorts[s].expr);
	add_residual(b, h);
	add(b, " FROM flows INDEXED BY %s WHERE ", without_value ? "flows_last" : sorts[s].index);
	if (sorts[s].nullable && !without_value)
		add(b, "%s IS NOT NULL AND ", sorts[s].expr);
	add(b, T_RANGE);
	add_order(b, h, without_value ? FLOW_SORT_LAST : s, false);
}

/* cheap_fallback: an index holds the question, so a walk that finds little gives way soon. */
static int run_walk(struct hfq *h, const struct driver *along, bool cheap_fallback, enum walk_end *ret)
{
	size_t examined = 0, budget = cheap_fallback ? h->lim.walk_budget / 20 + 2 * h->need
						    : h->lim.walk_budget + 20 * h->need;
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

static void describe(struct hfq_result *ret, const char *how, const char *index, const struct driver *d,
		     const char *then)
{
	snprintf(ret->plan, sizeof(ret->plan), "%s %s%s%s%s", how, d ? d->index[0] : index,
		 d && d->arms == 2 ? "+" : "", d && d->arms == 2 ? d->index[1] : "", then);
}

static void set_total(struct hfq_result *ret, size_t total, bool exact)
{
	ret->total = total;
	ret->total_exact = exact;
}

/* A walk and what follows it: the page, or, when the walk ran out of budget, a sort after all. */
static int walk_then_sort(struct hfq *h, struct driver *cover, struct hfq_result *ret)
{
	struct driver *best = smallest(h, -1);
	struct driver *along = h->q->sort == FLOW_SORT_LAST || h->q->sort == FLOW_SORT_BYTES ?
				       smallest(h, (int)h->q->sort) : NULL;
	enum walk_end end;
	int rc;

	if ((rc = run_walk(h, along, cover != NULL, &end)) != SQLITE_OK)
		return rc;
	describe(ret, "walk", sorts[h->q->sort].index, along, "");
	if (end == WALK_END) {
		set_total(ret, h->matched, true);
	} else if (end == WALK_FULL) {
		/* One index holds the question: its count (at the cap); else what the walk saw. */
		set_total(ret, cover ? cover->count : h->matched, false);
	} else if (cover) {
		/* The matches counted so far (at the cap) stay the total; the sort takes the smallest index. */
		set_total(ret, cover->count, false);
		if ((rc = recount_capped(h, 20, true)) != SQLITE_OK)
			return rc;
		cover = covering(h);
		describe(ret, "index", NULL, cover, ", after a walk");
		rc = run_index(h, cover);
	} else {
		struct driver *also;

		if ((rc = recount_capped(h, 1000, false)) != SQLITE_OK)
			return rc;
		best = smallest(h, -1);
		also = best->is_filter ? smallest_but(h, -1, best) : NULL;
		also = also && also->is_filter && also->count >= h->lim.small ? also : NULL;
		describe(ret, "sort", NULL, best, also ? " and another, after a walk" : ", after a walk");
		rc = run_sort(h, best, also);
		set_total(ret, h->matched, true);
	}
	return rc;
}

static int choose_and_run(struct hfq *h, struct hfq_result *ret)
{
	struct driver *best = smallest(h, -1), *cover = covering(h);
	int rc;

	/* The index that holds the question, counted with all of it: the matches, up to the cap. */
	if (cover && (rc = count_driver(h, cover, true)) != SQLITE_OK)
		return rc;
	if (cover && !cover->capped) {
		describe(ret, "index", NULL, cover, "");
		set_total(ret, cover->count, true);
		return run_index(h, cover);
	}
	if (!best->capped && best->count < h->lim.small) {
		describe(ret, "sort", NULL, best, "");
		if ((rc = run_sort(h, best, NULL)) == SQLITE_OK)
			set_total(ret, h->matched, true);
		return rc;
	}
	return walk_then_sort(h, cover, ret);
}

static int fetch_page(struct hfq *h, void (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
	struct sql b = { .n = 0 };
	char cols[2048];
	sqlite3_stmt *st;
	int rc;

	if (history_flows_columns(cols, sizeof(cols), "") >= sizeof(cols))
		return SQLITE_TOOBIG;
	add(&b, "/* page */ SELECT %s, (SELECT sensors.name FROM sensors WHERE sensors.id = flows.sensor) FROM flows"
		" WHERE id = ?1", cols);
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
	add(&b, "/* count */ SELECT coalesce(max(last - first), 0) FROM flows INDEXED BY flows_duration");
	if ((rc = query_count(h, &b, &longest)) != SQLITE_OK)
		return rc;
	h->to_hi = h->to > INT64_MAX - (int64_t)longest ? INT64_MAX : h->to + (int64_t)longest;
	return SQLITE_OK;
}

static int run(sqlite3 *db, const struct flow_query *q, const struct hfq_limits *limits,
	       void (*row)(sqlite3_stmt *st, void *ctx), void *ctx, void (*trace)(const char *sql, void *ctx),
	       struct hfq_result *ret)
{
	struct hfq h = {
		.db = db, .q = q, .lim = limits ? *limits : default_limits, .trace = trace, .trace_ctx = ctx,
		.dir = q->ascending ? "ASC" : "DESC",
	};
	int rc;

	memset(ret, 0, sizeof(*ret));
	if ((unsigned)q->sort >= FLOW_SORT__MAX || h.lim.count_cap == 0)
		return SQLITE_MISUSE;
	h.need = q->offset + q->limit;
	if (!(h.ids = malloc((q->limit ? q->limit : 1) * sizeof(*h.ids))))
		return SQLITE_NOMEM;
	collect_filters(&h);
	if ((rc = set_range(&h)) == SQLITE_OK && (rc = count_drivers(&h)) == SQLITE_OK &&
	    (rc = choose_and_run(&h, ret)) == SQLITE_OK && row)
		rc = fetch_page(&h, row, ctx);
	ret->rows = h.n_ids;
	free(h.ids);
	return rc;
}

int history_flowquery_run(sqlite3 *db, const struct flow_query *q, const struct hfq_limits *limits,
			  void (*row)(sqlite3_stmt *st, void *ctx), void *ctx, struct hfq_result *ret)
{
	return run(db, q, limits, row, ctx, NULL, ret);
}

int history_flowquery_explain(sqlite3 *db, const struct flow_query *q, const struct hfq_limits *limits,
			      void (*fn)(const char *sql, void *ctx), void *ctx)
{
	struct hfq_result r;

	return run(db, q, limits, NULL, ctx, fn, &r);
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
