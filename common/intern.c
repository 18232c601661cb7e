/* SPDX-License-Identifier: BSD-2-Clause */
#include "intern.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define CHAIN_MAX 32 /* keyed, chains stay short; a longer one means refuse, not walk */

struct item {
	uint32_t hash_next; /* or the next free item */
	uint32_t refs;      /* 0: free */
	uint32_t len;
	uint64_t hash;
	uint8_t *data;
};

struct wl_intern {
	struct wl_siphash_key key;
	struct item *items; /* items[0] unused: ref 0 means none */
	uint32_t max_items, used_hwm, free_head;
	uint32_t *buckets;
	uint32_t mask;
	size_t max_bytes, bytes;
};

struct wl_intern *wl_intern_new(uint32_t max_items, size_t max_bytes, const struct wl_siphash_key *key)
{
	struct wl_intern *p = calloc(1, sizeof(*p));
	uint32_t n = 1;

	if (!p || max_items == 0 || max_items > UINT32_MAX / 4)
		return wl_intern_free(p);
	while (n < max_items * 2)
		n <<= 1;
	p->key = *key;
	p->max_items = max_items;
	p->max_bytes = max_bytes;
	p->mask = n - 1;
	p->used_hwm = 1;
	p->free_head = NONE;
	p->items = calloc((size_t)max_items + 1, sizeof(*p->items));
	p->buckets = malloc((size_t)n * sizeof(*p->buckets));
	if (!p->items || !p->buckets)
		return wl_intern_free(p);
	memset(p->buckets, 0xff, (size_t)n * sizeof(*p->buckets));
	return p;
}

struct wl_intern *wl_intern_free(struct wl_intern *p)
{
	if (!p)
		return NULL;
	if (p->items)
		for (uint32_t i = 1; i < p->used_hwm; i++)
			free(p->items[i].data);
	free(p->items);
	free(p->buckets);
	free(p);
	return NULL;
}

static uint32_t take_item(struct wl_intern *p)
{
	uint32_t i = p->free_head;

	if (i != NONE) {
		p->free_head = p->items[i].hash_next;
		return i;
	}
	return p->used_hwm <= p->max_items ? p->used_hwm++ : NONE;
}

uint32_t wl_intern_get(struct wl_intern *p, const void *data, size_t len)
{
	uint64_t h = wl_siphash24(&p->key, data, len);
	uint32_t *bucket = &p->buckets[h & p->mask], i, depth = 0;
	struct item *it;

	for (i = *bucket; i != NONE; i = p->items[i].hash_next, depth++) {
		it = &p->items[i];
		if (it->hash == h && it->len == len && memcmp(it->data, data, len) == 0) {
			it->refs++;
			return i;
		}
	}
	if (depth >= CHAIN_MAX || len > p->max_bytes - p->bytes || (i = take_item(p)) == NONE)
		return 0;
	it = &p->items[i];
	it->data = malloc(len ? len : 1);
	if (!it->data) {
		it->hash_next = p->free_head;
		p->free_head = i;
		return 0;
	}
	memcpy(it->data, data, len);
	it->len = (uint32_t)len;
	it->hash = h;
	it->refs = 1;
	it->hash_next = *bucket;
	*bucket = i;
	p->bytes += len;
	return i;
}

void wl_intern_put(struct wl_intern *p, uint32_t ref)
{
	struct item *it;
	uint32_t *link;

	if (ref == 0 || ref >= p->used_hwm || p->items[ref].refs == 0)
		return;
	it = &p->items[ref];
	if (--it->refs)
		return;
	for (link = &p->buckets[it->hash & p->mask]; *link != ref; link = &p->items[*link].hash_next)
		;
	*link = it->hash_next;
	p->bytes -= it->len;
	free(it->data);
	it->data = NULL;
	it->hash_next = p->free_head;
	p->free_head = ref;
}

const void *wl_intern_data(const struct wl_intern *p, uint32_t ref, size_t *len)
{
	if (ref == 0 || ref >= p->used_hwm || p->items[ref].refs == 0) {
		*len = 0;
		return NULL;
	}
	*len = p->items[ref].len;
	return p->items[ref].data;
}

size_t wl_intern_memory(const struct wl_intern *p)
{
	return sizeof(*p) + ((size_t)p->max_items + 1) * sizeof(*p->items) + ((size_t)p->mask + 1) * sizeof(uint32_t) +
	       p->bytes;
}
