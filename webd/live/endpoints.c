/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/endpoints.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

static const char *const sort_names[ENDPOINT_SORT__MAX] = { "bytes", "packets", "flows", "peers", "last" };

const char *endpoint_sort_name(enum endpoint_sort sort)
{
	return (unsigned)sort < ENDPOINT_SORT__MAX ? sort_names[sort] : "bytes";
}

int endpoint_sort_parse(const char *name, enum endpoint_sort *ret)
{
	for (int s = 0; s < ENDPOINT_SORT__MAX; s++)
		if (strcmp(name, sort_names[s]) == 0) {
			*ret = (enum endpoint_sort)s;
			return 0;
		}
	return -EINVAL;
}

/*
 * Open addressing, keyed by address (or address pair) under the flow
 * table's SipHash key: the addresses come from the network.
 */
struct agg {
	const struct live_flows *t;
	struct endpoint *eps;
	uint32_t *slots, mask, n;
	struct wl_addr (*pairs)[2];
	uint32_t *pair_slots, pair_mask, n_pairs;
};

static size_t addr_len(const struct wl_addr *a)
{
	return a->family == 6 ? 16 : a->family == 4 ? 4 : 6;
}

static bool same(const struct wl_addr *a, const struct wl_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, addr_len(a)) == 0;
}

static struct endpoint *endpoint_of(struct agg *g, const struct wl_addr *a)
{
	uint32_t i = (uint32_t)wl_siphash24(&g->t->key, a, sizeof(*a)) & g->mask;

	for (; g->slots[i] != NONE; i = (i + 1) & g->mask)
		if (same(&g->eps[g->slots[i]].addr, a))
			return &g->eps[g->slots[i]];
	g->slots[i] = g->n;
	memset(&g->eps[g->n], 0, sizeof(g->eps[g->n]));
	g->eps[g->n].addr = *a;
	return &g->eps[g->n++];
}

/* Whether the pair (in either order) is new. */
static bool new_pair(struct agg *g, const struct wl_addr *x, const struct wl_addr *y)
{
	struct wl_addr pair[2] = { *x, *y };
	uint32_t i;

	if (memcmp(x, y, sizeof(*x)) > 0) {
		pair[0] = *y;
		pair[1] = *x;
	}
	for (i = (uint32_t)wl_siphash24(&g->t->key, pair, sizeof(pair)) & g->pair_mask; g->pair_slots[i] != NONE;
	     i = (i + 1) & g->pair_mask)
		if (same(&g->pairs[g->pair_slots[i]][0], &pair[0]) && same(&g->pairs[g->pair_slots[i]][1], &pair[1]))
			return false;
	g->pair_slots[i] = g->n_pairs;
	memcpy(g->pairs[g->n_pairs++], pair, sizeof(pair));
	return true;
}

static void count_side(struct endpoint *e, const struct live_flow *f, int side)
{
	e->bytes_out += f->bytes[side];
	e->packets_out += f->packets[side];
	e->bytes_in += f->bytes[!side];
	e->packets_in += f->packets[!side];
	e->flows++;
	if (!e->first_us || f->first_us < e->first_us)
		e->first_us = f->first_us;
	if (f->last_us > e->last_us)
		e->last_us = f->last_us;
}

struct walk {
	struct agg *g;
	const struct flow_query *q;
	const struct flow_join *join;
};

static bool add_flow(const struct live_flow *f, void *ctx)
{
	struct walk *w = ctx;
	struct endpoint *a, *b;

	if (!flow_query_matches(w->g->t, w->q, w->join, f))
		return true;
	a = endpoint_of(w->g, &f->addr[0]);
	count_side(a, f, 0);
	if (same(&f->addr[0], &f->addr[1]))
		return true; /* talking to itself: one endpoint, no peer */
	b = endpoint_of(w->g, &f->addr[1]);
	count_side(b, f, 1);
	/* The array never moves (room for two endpoints a flow was made first): a is still good. */
	if (new_pair(w->g, &f->addr[0], &f->addr[1])) {
		a->peers++;
		b->peers++;
	}
	return true;
}

static int alloc_agg(struct agg *g, const struct live_flows *t)
{
	uint32_t flows = t->stats.n ? (uint32_t)t->stats.n : 1, n = 1, m = 1;

	while (n < 4 * flows)
		n <<= 1;
	while (m < 2 * flows)
		m <<= 1;
	*g = (struct agg){ .t = t, .mask = n - 1, .pair_mask = m - 1 };
	g->eps = malloc(2 * (size_t)flows * sizeof(*g->eps));
	g->slots = malloc((size_t)n * sizeof(*g->slots));
	g->pairs = malloc((size_t)flows * sizeof(*g->pairs));
	g->pair_slots = malloc((size_t)m * sizeof(*g->pair_slots));
	if (!g->eps || !g->slots || !g->pairs || !g->pair_slots)
		return -ENOMEM;
	memset(g->slots, 0xff, (size_t)n * sizeof(*g->slots));
	memset(g->pair_slots, 0xff, (size_t)m * sizeof(*g->pair_slots));
	return 0;
}

static uint64_t endpoint_key(const struct endpoint *e, enum endpoint_sort by)
{
	switch (by) {
	case ENDPOINT_SORT_PACKETS:
		return e->packets_in + e->packets_out;
	case ENDPOINT_SORT_FLOWS:
		return e->flows;
	case ENDPOINT_SORT_PEERS:
		return e->peers;
	case ENDPOINT_SORT_LAST:
		return (uint64_t)e->last_us;
	default:
		return e->bytes_in + e->bytes_out;
	}
}

static int by_key_desc(const void *a, const void *b, void *ctx)
{
	enum endpoint_sort by = *(const enum endpoint_sort *)ctx;
	uint64_t x = endpoint_key(a, by), y = endpoint_key(b, by);

	if (x != y)
		return x > y ? -1 : 1;
	return memcmp(&((const struct endpoint *)a)->addr, &((const struct endpoint *)b)->addr, sizeof(struct wl_addr));
}

long endpoints_collect(const struct live_flows *t, const struct flow_query *q, const struct flow_join *join,
		       enum endpoint_sort by, size_t limit, struct endpoint **ret, size_t *total)
{
	struct agg g;
	struct walk w = { .g = &g, .q = q, .join = join };
	long n;

	if (alloc_agg(&g, t) < 0) {
		free(g.eps);
		free(g.slots);
		free(g.pairs);
		free(g.pair_slots);
		return -ENOMEM;
	}
	flows_each(t, add_flow, &w);
	qsort_r(g.eps, g.n, sizeof(*g.eps), by_key_desc, &by);
	*total = g.n;
	n = (long)(g.n < limit ? g.n : limit);
	free(g.slots);
	free(g.pairs);
	free(g.pair_slots);
	*ret = g.eps;
	return n;
}
