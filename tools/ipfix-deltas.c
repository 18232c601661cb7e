/* SPDX-License-Identifier: BSD-2-Clause */
#include "ipfix-deltas.h"

#include "siphash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS_MIN 1024

struct entry {
	struct entry *hnext;       /* bucket chain */
	struct entry *older, *newer; /* the LRU list, oldest first */
	uint64_t id;
	uint64_t packets[2], bytes[2];
	uint16_t sensor;
};

struct ipfix_deltas {
	struct wl_siphash_key key;
	struct entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t count, max;
	struct entry *oldest, *newest;
	uint64_t evicted, backwards;
};

struct ipfix_deltas *ipfix_deltas_new(size_t max, int *ret_err)
{
	struct ipfix_deltas *t = calloc(1, sizeof(*t));
	int r;

	if (!t || max == 0) {
		free(t);
		*ret_err = max == 0 ? -EINVAL : -ENOMEM;
		return NULL;
	}
	if ((r = wl_siphash_key_random(&t->key)) < 0) {
		free(t);
		*ret_err = r;
		return NULL;
	}
	t->max = max;
	t->n_buckets = BUCKETS_MIN;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		*ret_err = -ENOMEM;
		return NULL;
	}
	return t;
}

struct ipfix_deltas *ipfix_deltas_free(struct ipfix_deltas *t)
{
	if (!t)
		return NULL;
	for (struct entry *e = t->oldest, *next; e; e = next) {
		next = e->newer;
		free(e);
	}
	free(t->buckets);
	free(t);
	return NULL;
}

static size_t bucket_of(const struct ipfix_deltas *t, uint16_t sensor, uint64_t id)
{
	uint8_t k[10];

	memcpy(k, &id, 8);
	memcpy(k + 8, &sensor, 2);
	return (size_t)(wl_siphash24(&t->key, k, sizeof(k)) & (t->n_buckets - 1));
}

static struct entry **find(struct ipfix_deltas *t, uint16_t sensor, uint64_t id)
{
	struct entry **pe = &t->buckets[bucket_of(t, sensor, id)];

	while (*pe && ((*pe)->id != id || (*pe)->sensor != sensor))
		pe = &(*pe)->hnext;
	return pe;
}

static void lru_unlink(struct ipfix_deltas *t, struct entry *e)
{
	*(e->older ? &e->older->newer : &t->oldest) = e->newer;
	*(e->newer ? &e->newer->older : &t->newest) = e->older;
	e->older = e->newer = NULL;
}

static void lru_append(struct ipfix_deltas *t, struct entry *e)
{
	e->older = t->newest;
	e->newer = NULL;
	*(t->newest ? &t->newest->newer : &t->oldest) = e;
	t->newest = e;
}

static void remove_entry(struct ipfix_deltas *t, struct entry *e)
{
	struct entry **pe = find(t, e->sensor, e->id);

	*pe = e->hnext;
	lru_unlink(t, e);
	t->count--;
	free(e);
}

/* Doubles the buckets while the chains would grow past one entry on average; a failure keeps them. */
static void maybe_grow(struct ipfix_deltas *t)
{
	size_t n = t->n_buckets * 2;
	struct entry **fresh;

	if (t->count < t->n_buckets || t->n_buckets >= t->max)
		return;
	fresh = calloc(n, sizeof(*fresh));
	if (!fresh)
		return;
	free(t->buckets);
	t->buckets = fresh;
	t->n_buckets = n;
	for (struct entry *e = t->oldest; e; e = e->newer) {
		size_t b = bucket_of(t, e->sensor, e->id);

		e->hnext = t->buckets[b];
		t->buckets[b] = e;
	}
}

static struct entry *insert(struct ipfix_deltas *t, uint16_t sensor, uint64_t id)
{
	struct entry *e;
	struct entry **pe;

	if (t->count >= t->max) {
		remove_entry(t, t->oldest);
		t->evicted++;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->sensor = sensor;
	e->id = id;
	t->count++;
	maybe_grow(t);
	pe = &t->buckets[bucket_of(t, sensor, id)];
	e->hnext = *pe;
	*pe = e;
	lru_append(t, e);
	return e;
}

static bool counters_below(const struct entry *e, const struct wl_flow_record *rec)
{
	for (int s = 0; s < 2; s++)
		if (rec->packets[s] < e->packets[s] || rec->bytes[s] < e->bytes[s])
			return true;
	return false;
}

int ipfix_deltas_apply(struct ipfix_deltas *t, uint16_t sensor, const struct wl_flow_record *rec,
		       uint64_t ret_packets[2], uint64_t ret_bytes[2])
{
	struct entry **pe = find(t, sensor, rec->id), *e = *pe;
	bool whole = !e || counters_below(e, rec);

	if (e && whole)
		t->backwards++;
	for (int s = 0; s < 2; s++) {
		ret_packets[s] = rec->packets[s] - (whole ? 0 : e->packets[s]);
		ret_bytes[s] = rec->bytes[s] - (whole ? 0 : e->bytes[s]);
	}
	if (rec->end != WL_FLOW_ACTIVE) {
		if (e)
			remove_entry(t, e);
		return 0;
	}
	if (e) {
		lru_unlink(t, e);
		lru_append(t, e);
	} else if (!(e = insert(t, sensor, rec->id))) {
		return -ENOMEM;
	}
	memcpy(e->packets, rec->packets, sizeof(e->packets));
	memcpy(e->bytes, rec->bytes, sizeof(e->bytes));
	return 0;
}

void ipfix_deltas_forget_sensor(struct ipfix_deltas *t, uint16_t sensor)
{
	for (struct entry *e = t->oldest, *next; e; e = next) {
		next = e->newer;
		if (e->sensor == sensor)
			remove_entry(t, e);
	}
}

void ipfix_deltas_stats(const struct ipfix_deltas *t, struct ipfix_deltas_stats *ret)
{
	*ret = (struct ipfix_deltas_stats){ .entries = t->count, .evicted = t->evicted, .backwards = t->backwards };
}
