/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/summary.h"

#include "live/ingest.h"
#include "live/state.h"

#include <cjson/cJSON.h>
#include <time.h>

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_addr(cJSON *o, const char *k, const struct wl_addr *a)
{
	char buf[64];

	cJSON_AddStringToObject(o, k, wl_addr_str(a, buf, sizeof(buf)));
}

/* Over the last 5 complete seconds: a headline that does not flicker to 0. */
static void add_smoothed_rates(cJSON *root, const struct state *s, int64_t now)
{
	uint64_t packets = 0, bytes = 0;

	for (int64_t t = now - 5; t < now; t++) {
		const struct rate_bucket *b = state_rate_at(s, t);

		if (b) {
			packets += b->packets;
			bytes += b->bytes;
		}
	}
	cJSON_AddNumberToObject(root, "pps_5s", (double)packets / 5);
	cJSON_AddNumberToObject(root, "bps_5s", (double)bytes * 8 / 5);
}

static cJSON *protocols_json(const struct state *s)
{
	cJSON *list = cJSON_CreateArray();

	for (int p = 0; p < WL_P__MAX; p++) {
		cJSON *item;

		if (!s->by_proto[p])
			continue;
		item = cJSON_CreateObject();
		cJSON_AddStringToObject(item, "name", wl_proto_name((enum wl_proto)p));
		add_u64(item, "packets", s->by_proto[p]);
		cJSON_AddNumberToObject(item, "percent",
					s->total_packets ? 100.0 * (double)s->by_proto[p] / (double)s->total_packets : 0);
		cJSON_AddItemToArray(list, item);
	}
	return list;
}

/* capd's own stats and status, as it sent them. */
static void add_capd_json(cJSON *o, const char *key, const char *text)
{
	cJSON *parsed = text[0] ? cJSON_Parse(text) : NULL;

	if (parsed)
		cJSON_AddItemToObject(o, key, parsed);
}

/* The fleet view's figures for one sensor: health.h's, and the IPC gaps. */
static void add_health_json(cJSON *item, const struct sensor_stats *ss, int64_t now_us)
{
	cJSON *h = cJSON_AddObjectToObject(item, "health");

	health_json(h, &ss->health, now_us);
	add_u64(h, "gaps", ss->seq.gaps);
	add_u64(h, "packets_missed", ss->seq.missed);
	add_u64(h, "flow_gaps", ss->flow_seq.gaps);
	add_u64(h, "flow_reports_missed", ss->flow_seq.missed);
}

static int64_t wall_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static cJSON *sensors_json(const struct state *s)
{
	cJSON *list = cJSON_CreateArray();
	int64_t now_us = wall_now_us();

	for (size_t i = 0; i < s->n_sensors; i++) {
		const struct sensor_stats *ss = &s->sensors[i];
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "name", ss->name);
		cJSON_AddStringToObject(item, "address", ss->addr);
		if (ss->health.url[0])
			cJSON_AddStringToObject(item, "url", ss->health.url);
		add_health_json(item, ss, now_us);
		add_u64(item, "packets", ss->packets);
		add_u64(item, "gaps", ss->seq.gaps);
		add_u64(item, "missed", ss->seq.missed);
		add_u64(item, "bad_batches", ss->bad_batches);
		ingest_sensor_json(item, ss); /* the ingest's own counters (ingest.c) */
		cJSON_AddNumberToObject(item, "last_heard", (double)ss->last_heard);
		add_capd_json(item, "capd_stats", ss->last_stats);
		/* The feed carries it too: a pause made elsewhere shows at once. */
		add_capd_json(item, "capd_status", ss->last_status);
		cJSON_AddItemToArray(list, item);
	}
	return list;
}

static cJSON *active_alerts_json(const struct state *s)
{
	cJSON *list = cJSON_CreateArray();

	for (size_t i = 0; i < s->alerts_count; i++) {
		const struct alert *a = state_alert_at(s, i);
		cJSON *item;

		if (a->cleared)
			continue;
		item = cJSON_CreateObject();
		add_u64(item, "id", a->id);
		add_addr(item, "ip", &a->addr);
		add_u64(item, "peak", a->peak_window);
		cJSON_AddItemToArray(list, item);
	}
	return list;
}

static cJSON *flows_summary_json(const struct flows_stats *st)
{
	cJSON *o = cJSON_CreateObject();

	add_u64(o, "held", st->n);
	add_u64(o, "max", st->max);
	add_u64(o, "active", st->active);
	add_u64(o, "reports", st->reports);
	add_u64(o, "seen", st->flows_seen);
	add_u64(o, "evicted_ended", st->evicted_ended);
	add_u64(o, "evicted_active", st->evicted_active);
	add_u64(o, "ids_reused", st->ids_reused);
	add_u64(o, "names_dropped", st->names_dropped);
	return o;
}

cJSON *summary_json(const struct state *s, uint64_t feed_rows_skipped)
{
	int64_t now = state_now(s, (int64_t)time(NULL));
	const struct rate_bucket *last = state_rate_at(s, now - 1);
	cJSON *root = cJSON_CreateObject(), *ring;

	cJSON_AddNumberToObject(root, "now", (double)now);
	add_u64(root, "packets", s->total_packets);
	add_u64(root, "bytes", s->total_bytes);
	add_u64(root, "malformed", s->malformed);
	add_u64(root, "pps", last ? last->packets : 0);
	add_u64(root, "bps", last ? last->bytes * 8 : 0);
	add_smoothed_rates(root, s, now);
	cJSON_AddItemToObject(root, "protocols", protocols_json(s));
	cJSON_AddItemToObject(root, "sensors", sensors_json(s));
	cJSON_AddItemToObject(root, "alerts", active_alerts_json(s));
	ring = cJSON_AddObjectToObject(root, "ring");
	add_u64(ring, "packets", s->ring_count);
	add_u64(ring, "bytes", s->ring_bytes);
	add_u64(ring, "evicted", s->evicted);
	add_u64(root, "feed_rows_skipped", feed_rows_skipped);
	cJSON_AddItemToObject(root, "flows", flows_summary_json(&s->flows.stats));
	return root;
}
	add_u64(o, "ended_by_restart", st->ended_by_restart);
