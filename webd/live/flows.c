/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/flows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define NAMES_MAX 65536
#define NAME_BYTES_MAX (8u << 20)
/* capd's flow ids: a run prefix above a 39-bit counter (capd/flowtrack.c, README's flow id). */
#define FLOW_ID_RUN_SHIFT 39

struct flow_ref {
	uint64_t id;
	uint8_t sensor;
};

static uint32_t bucket_of(const struct live_flows *t, uint8_t sensor, uint64_t id)
{
	struct flow_ref k;

	memset(&k, 0, sizeof(k));
	k.id = id;
	k.sensor = sensor;
	return (uint32_t)(wl_siphash24(&t->key, &k, sizeof(k)) & t->mask);
}

int flows_init(struct live_flows *t, uint32_t max_flows)
{
	uint32_t n = 1;
	int r;

	memset(t, 0, sizeof(*t));
	if (max_flows == 0 || max_flows > FLOWS_LIMIT_MAX)
		return -EINVAL;
	while (n < max_flows)
		n <<= 1;
	t->mask = n - 1;
	t->max = max_flows;
	t->free_head = NONE;
	wl_idx_list_init(&t->active);
	wl_idx_list_init(&t->ended);
	if ((r = wl_siphash_key_random(&t->key)) < 0)
		return r;
	/* calloc: pages of flows not used yet are never touched. */
	t->flows = calloc(max_flows, sizeof(*t->flows));
	t->buckets = malloc((size_t)n * sizeof(*t->buckets));
	t->names = wl_intern_new(NAMES_MAX, NAME_BYTES_MAX, &t->key);
	if (!t->flows || !t->buckets || !t->names) {
		flows_free(t);
		return -ENOMEM;
	}
	memset(t->buckets, 0xff, (size_t)n * sizeof(*t->buckets));
	t->stats.max = max_flows;
	return 0;
}

void flows_free(struct live_flows *t)
{
	free(t->flows);
	free(t->buckets);
	wl_intern_free(t->names);
	t->flows = NULL;
	t->buckets = NULL;
	t->names = NULL;
}

/* ---- Lists: active flows by when they were last heard of, ended ones by when they ended ---- */

static struct wl_idx_array flows_of(struct live_flows *t)
{
	return WL_IDX_ARRAY(t->flows, struct live_flow, lru);
}

static void unlink_flow(struct live_flows *t, uint32_t i)
{
	struct live_flow *f = &t->flows[i];

	wl_idx_list_unlink(f->ended ? &t->ended : &t->active, flows_of(t), i);
	if (!f->ended)
		t->stats.active--;
}

static void append_flow(struct live_flows *t, uint32_t i)
{
	struct live_flow *f = &t->flows[i];

	wl_idx_list_append(f->ended ? &t->ended : &t->active, flows_of(t), i);
	if (!f->ended)
		t->stats.active++;
}

static void remove_flow(struct live_flows *t, uint32_t i)
{
	struct live_flow *f = &t->flows[i];
	uint32_t *link = &t->buckets[bucket_of(t, f->sensor, f->id)];

	while (*link != i)
		link = &t->flows[*link].hash_next;
	*link = f->hash_next;
	unlink_flow(t, i);
	wl_intern_put(t->names, f->name);
	wl_intern_put(t->names, f->ja4);
	wl_intern_put(t->names, f->ja3s);
	f->used = false;
	f->hash_next = t->free_head;
	t->free_head = i;
	t->stats.n--;
}

static uint32_t find(const struct live_flows *t, uint8_t sensor, uint64_t id, uint32_t bucket)
{
	for (uint32_t i = t->buckets[bucket]; i != NONE; i = t->flows[i].hash_next)
		if (t->flows[i].id == id && t->flows[i].sensor == sensor)
			return i;
	return NONE;
}

/* Room for one more: the flow that ended longest ago, else the one heard of longest ago. */
static void make_room(struct live_flows *t)
{
	if (t->ended.oldest != NONE) {
		remove_flow(t, t->ended.oldest);
		t->stats.evicted_ended++;
	} else if (t->active.oldest != NONE) {
		remove_flow(t, t->active.oldest);
		t->stats.evicted_active++;
	}
}

static uint32_t new_flow(struct live_flows *t, uint8_t sensor, uint64_t id)
{
	uint32_t bucket, i;

	if (t->stats.n >= t->max)
		make_room(t);
	if (t->free_head != NONE) {
		i = t->free_head;
		t->free_head = t->flows[i].hash_next;
	} else {
		i = t->hwm++;
	}
	bucket = bucket_of(t, sensor, id);
	memset(&t->flows[i], 0, sizeof(t->flows[i]));
	t->flows[i].id = id;
	t->flows[i].sensor = sensor;
	t->flows[i].used = true;
	t->flows[i].hash_next = t->buckets[bucket];
	t->buckets[bucket] = i;
	append_flow(t, i);
	t->stats.n++;
	t->stats.flows_seen++;
	return i;
}

/* ---- Reports -------------------------------------------------------------------------- */

static void take_fields(struct live_flow *f, const struct wl_flow_record *rec)
{
	bool ip = rec->l3 == WL_L3_IPV4 || rec->l3 == WL_L3_IPV6;

	f->first_us = rec->first_us;
	f->last_us = rec->last_us;
	memcpy(f->packets, rec->packets, sizeof(f->packets));
	memcpy(f->bytes, rec->bytes, sizeof(f->bytes));
	for (int side = 0; side < 2; side++) {
		if (ip) {
			f->addr[side] = rec->addr[side];
		} else {
			memset(&f->addr[side], 0, sizeof(f->addr[side]));
			memcpy(f->addr[side].b, rec->mac[side], 6);
		}
		f->port[side] = rec->port[side];
		f->outer[side] = rec->outer[side];
	}
	memcpy(f->vlan, rec->vlan, sizeof(f->vlan));
	f->tcp = rec->tcp;
	f->ethertype = rec->ethertype;
	f->icmp_id = rec->icmp_id;
	f->l3 = rec->l3;
	f->ipproto = rec->ipproto;
	f->app = rec->app;
	f->end = rec->end;
	f->flags = rec->flags;
	f->n_vlan = rec->n_vlan < WL_FLOW_VLAN_MAX ? rec->n_vlan : WL_FLOW_VLAN_MAX;
	f->icmp_type = rec->icmp_type;
	f->icmp_code = rec->icmp_code;
}

static void add_point(struct live_flow *f)
{
	struct live_flow_point p = { .at_us = f->last_us, .bytes = f->bytes[0] + f->bytes[1] };

	if (f->n_points && f->points[f->n_points - 1].at_us == p.at_us) {
		f->points[f->n_points - 1] = p;
		return;
	}
	if (f->n_points == FLOWS_SPARK_POINTS) {
		memmove(f->points, f->points + 1, sizeof(f->points) - sizeof(f->points[0]));
		f->n_points--;
	}
	f->points[f->n_points++] = p;
}

/* A text a flow keeps once it has it (its name, fingerprints), interned: many flows share one. */
static void take_text(struct live_flows *t, uint32_t *ref, const char *text, size_t max)
{
	size_t len = strnlen(text, max);

	if (*ref || len == 0)
		return;
	if (!(*ref = wl_intern_get(t->names, text, len)))
		t->stats.names_dropped++;
}

static uint32_t run_of(uint64_t id)
{
	return (uint32_t)(id >> FLOW_ID_RUN_SHIFT) + 1;
}

/* The sensor's capd restarted: its flows of other runs still active will not be reported again. */
static void end_old_runs(struct live_flows *t, uint8_t sensor, uint32_t run)
{
	uint32_t i = t->active.oldest;

	while (i != NONE) {
		struct live_flow *f = &t->flows[i];
		uint32_t next = f->lru.next;

		if (f->sensor == sensor && run_of(f->id) != run) {
			unlink_flow(t, i);
			f->ended = true;
			f->end = WL_FLOW_EOF;
			append_flow(t, i);
			t->stats.ended_by_restart++;
		}
		i = next;
	}
}

const struct live_flow *flows_report(struct live_flows *t, uint8_t sensor, const struct wl_flow_record *rec,
				     int64_t now_us)
{
	uint32_t i = find(t, sensor, rec->id, bucket_of(t, sensor, rec->id));
	struct live_flow *f;

	if (t->run[sensor] != run_of(rec->id)) {
		if (t->run[sensor])
			end_old_runs(t, sensor, run_of(rec->id));
		t->run[sensor] = run_of(rec->id);
	}

	/* The same id with another start: capd restarted and numbers from 1 again. */
	if (i != NONE && t->flows[i].first_us != rec->first_us) {
		remove_flow(t, i);
		t->stats.ids_reused++;
		i = NONE;
	}
	if (i == NONE)
		i = new_flow(t, sensor, rec->id);
	f = &t->flows[i];
	t->stats.reports++;
	/* A late active report (they can cross an end on the wire) changes nothing. */
	if (f->ended && rec->end == WL_FLOW_ACTIVE)
		return f;
	unlink_flow(t, i);
	take_fields(f, rec);
	take_text(t, &f->name, rec->name, WL_NAME_MAX - 1);
	take_text(t, &f->ja4, rec->ja4, sizeof(rec->ja4) - 1);
	take_text(t, &f->ja3s, rec->ja3s, sizeof(rec->ja3s) - 1);
	add_point(f);
	f->heard_us = now_us;
	f->ended = rec->end != WL_FLOW_ACTIVE;
	append_flow(t, i);
	return f;
}

const struct live_flow *flows_find(const struct live_flows *t, uint8_t sensor, uint64_t id)
{
	uint32_t i = find(t, sensor, id, bucket_of(t, sensor, id));

	return i == NONE ? NULL : &t->flows[i];
}

const char *flows_text(const struct live_flows *t, uint32_t ref, size_t *len)
{
	const char *text = wl_intern_data(t->names, ref, len);

	if (!text)
		*len = 0;
	return text ? text : "";
}

const char *flows_name(const struct live_flows *t, const struct live_flow *f, size_t *len)
{
	return flows_text(t, f->name, len);
}

void flows_each(const struct live_flows *t, bool (*fn)(const struct live_flow *f, void *ctx), void *ctx)
{
	for (uint32_t i = 0; i < t->hwm; i++)
		if (t->flows[i].used && !fn(&t->flows[i], ctx))
			return;
}

void flows_clear(struct live_flows *t)
{
	while (t->ended.oldest != NONE)
		remove_flow(t, t->ended.oldest);
	while (t->active.oldest != NONE)
		remove_flow(t, t->active.oldest);
}
