/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/summary.h"

#include "live/ingest.h"
#include "live/state.h"

#include <cjson/cJSON.h>
#include <stdio.h>
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

typedef const struct rate_bucket *(*rate_at_fn)(const struct state *s, int64_t second);

struct rates {
	uint64_t pps, bps;              /* the last complete second */
	double pps_5s, bps_5s, fps_5s; /* the last 5: a headline that does not flicker to 0 */
};

static void rates_of(const struct state *s, rate_at_fn at, int64_t now, struct rates *r)
{
	const struct rate_bucket *last = at(s, now - 1);
	uint64_t packets = 0, bytes = 0, reports = 0;

	for (int64_t t = now - 5; t < now; t++) {
		const struct rate_bucket *b = at(s, t);

		if (b) {
			packets += b->packets;
			bytes += b->bytes;
			reports += b->flow_reports;
		}
	}
	*r = (struct rates){ .pps = last ? last->packets : 0, .bps = last ? last->bytes * 8 : 0,
			     .pps_5s = (double)packets / 5, .bps_5s = (double)bytes * 8 / 5,
			     .fps_5s = (double)reports / 5 };
}

static void put_rates(cJSON *o, const struct rates *r)
{
	add_u64(o, "pps", r->pps);
	add_u64(o, "bps", r->bps);
	cJSON_AddNumberToObject(o, "pps_5s", r->pps_5s);
	cJSON_AddNumberToObject(o, "bps_5s", r->bps_5s);
}

/* One clock's rates, with the second they end at and the clock's name, so that a view can say which it shows. */
static cJSON *clock_rates_json(const struct rates *r, int64_t now, const char *clock)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "clock", clock);
	cJSON_AddNumberToObject(o, "now", (double)now);
	put_rates(o, r);
	return o;
}

/*
 * The live rates follow webd's clock, what arrives now: a capture replayed
 * ten times faster than it was made shows ten times its rate, not its own
 * seconds' (which, at full speed, go by faster than the headline looks).
 * The capture clock's rates are there too, for a view of the capture's
 * own time (as rates.csv and history are).
 */
static void add_rates(cJSON *root, const struct state *s, int64_t wall, int64_t now)
{
	struct rates arrival, capture;
	cJSON *o;

	rates_of(s, state_arrival_at, wall, &arrival);
	rates_of(s, state_rate_at, now, &capture);
	put_rates(root, &arrival);
	cJSON_AddStringToObject(root, "rates_clock", "arrival");
	o = clock_rates_json(&arrival, wall, "arrival");
	cJSON_AddNumberToObject(o, "flow_reports_5s", arrival.fps_5s);
	cJSON_AddItemToObject(root, "rates", o);
	cJSON_AddItemToObject(root, "capture_rates", clock_rates_json(&capture, now, "capture"));
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

/* Retransmissions are a ratio, kept in hundredths of a percent: shown in percent. */
static void add_peak(cJSON *o, const struct alert *a)
{
	if (a->kind == ALERT_RETRANSMISSIONS)
		cJSON_AddNumberToObject(o, "peak", (double)a->peak_window / 100);
	else
		add_u64(o, "peak", a->peak_window);
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
		cJSON_AddStringToObject(item, "kind", alert_kind_name(a->kind));
		add_addr(item, "ip", &a->addr);
		if (a->peer.family)
			add_addr(item, "peer", &a->peer);
		add_peak(item, a);
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
	add_u64(o, "ended_by_restart", st->ended_by_restart);
	add_u64(o, "names_dropped", st->names_dropped);
	return o;
}

static cJSON *flow_alerts_stats_json(const struct flow_alerts_stats *st)
{
	cJSON *o = cJSON_CreateObject();

	add_u64(o, "tracked", st->tracked);
	add_u64(o, "max", st->max);
	add_u64(o, "evicted", st->evicted);
	add_u64(o, "evicted_open", st->evicted_open);
	add_u64(o, "chain_evicted", st->chain_evicted);
	add_u64(o, "scan_flows", st->scan_flows);
	add_u64(o, "half_open", st->half_open);
	add_u64(o, "retrans_flows", st->retrans_flows);
	return o;
}

cJSON *summary_json(const struct state *s, uint64_t feed_rows_skipped)
{
	int64_t wall = (int64_t)time(NULL), now = state_now(s, wall);
	cJSON *root = cJSON_CreateObject(), *ring;

	/* The capture's clock: the packets' times, as the packet list and history show them. */
	cJSON_AddNumberToObject(root, "now", (double)now);
	add_u64(root, "packets", s->total_packets);
	add_u64(root, "bytes", s->total_bytes);
	add_u64(root, "malformed", s->malformed);
	add_rates(root, s, wall, now);
	cJSON_AddItemToObject(root, "protocols", protocols_json(s));
	cJSON_AddItemToObject(root, "sensors", sensors_json(s));
	cJSON_AddItemToObject(root, "alerts", active_alerts_json(s));
	ring = cJSON_AddObjectToObject(root, "ring");
	add_u64(ring, "packets", s->ring_count);
	add_u64(ring, "bytes", s->ring_bytes);
	add_u64(ring, "evicted", s->evicted);
	add_u64(root, "feed_rows_skipped", feed_rows_skipped);
	cJSON_AddItemToObject(root, "flows", flows_summary_json(&s->flows.stats));
	cJSON_AddItemToObject(root, "flow_alerts", flow_alerts_stats_json(&s->flow_alerts.stats));
	return root;
}

/* ---- /api/alerts ------------------------------------------------------------------- */

static const char *alert_unit(unsigned kind)
{
	static const char *const units[ALERT_KIND__MAX] = {
		[ALERT_FLOOD] = "packets",
		[ALERT_PORT_SCAN] = "ports",
		[ALERT_HOST_SCAN] = "hosts",
		[ALERT_SYN_FLOOD] = "half_open_flows",
		[ALERT_RETRANSMISSIONS] = "percent",
	};

	return kind < ALERT_KIND__MAX ? units[kind] : "";
}

static cJSON *alert_json(const struct state *s, const struct alert *a)
{
	cJSON *item = cJSON_CreateObject();

	add_u64(item, "id", a->id);
	cJSON_AddStringToObject(item, "kind", alert_kind_name(a->kind));
	add_addr(item, "ip", &a->addr);
	if (a->peer.family)
		add_addr(item, "peer", &a->peer);
	cJSON_AddStringToObject(item, "sensor", s->sensors[a->sensor].name);
	cJSON_AddNumberToObject(item, "started", (double)a->started);
	cJSON_AddNumberToObject(item, "last", (double)a->last);
	if (a->cleared)
		cJSON_AddNumberToObject(item, "cleared", (double)a->cleared);
	cJSON_AddBoolToObject(item, "active", a->cleared == 0);
	add_peak(item, a);
	cJSON_AddStringToObject(item, "unit", alert_unit(a->kind));
	/* A flood counts packets; the others, the flows that made the episode. */
	add_u64(item, a->kind == ALERT_FLOOD ? "packets" : "flows", a->packets);
	if (a->flow_id) {
		/* capd's ids use all 64 bits: as digits, not through a double. */
		char id[24];

		snprintf(id, sizeof(id), "%llu", (unsigned long long)a->flow_id);
		cJSON_AddRawToObject(item, "flow_id", id);
	}
	cJSON_AddNumberToObject(item, "threshold", a->threshold);
	cJSON_AddNumberToObject(item, "window", a->window_s);
	return item;
}

/* What each kind alerts on, as configured: 0 turns a flow alert off. */
static cJSON *alert_limits_json(const struct state *s)
{
	const struct flow_alert_limits *fl = &s->flow_alerts.lim;
	cJSON *o = cJSON_CreateObject(), *k;

	cJSON_AddNumberToObject(o, "cooldown", s->lim.alert_cooldown_s);
	k = cJSON_AddObjectToObject(o, "flood");
	cJSON_AddNumberToObject(k, "packets", s->lim.alert_packets);
	cJSON_AddNumberToObject(k, "window", s->lim.alert_window_s);
	k = cJSON_AddObjectToObject(o, "port_scan");
	cJSON_AddNumberToObject(k, "ports", fl->scan_ports);
	cJSON_AddNumberToObject(k, "window", fl->window_s);
	k = cJSON_AddObjectToObject(o, "host_scan");
	cJSON_AddNumberToObject(k, "hosts", fl->scan_hosts);
	cJSON_AddNumberToObject(k, "window", fl->window_s);
	k = cJSON_AddObjectToObject(o, "syn_flood");
	cJSON_AddNumberToObject(k, "half_open_flows", fl->syn_flood_flows);
	cJSON_AddNumberToObject(k, "window", fl->window_s);
	k = cJSON_AddObjectToObject(o, "retransmissions");
	cJSON_AddNumberToObject(k, "percent", fl->retrans_percent);
	cJSON_AddNumberToObject(k, "min_packets", fl->retrans_packets);
	cJSON_AddNumberToObject(k, "window", fl->window_s);
	cJSON_AddNumberToObject(o, "tracked", (double)fl->tracked);
	return o;
}

cJSON *summary_alerts_json(const struct state *s)
{
	cJSON *root = cJSON_CreateObject(), *list;

	/* The flood alert's, as before; every kind's in limits. */
	cJSON_AddNumberToObject(root, "threshold", s->lim.alert_packets);
	cJSON_AddNumberToObject(root, "window", s->lim.alert_window_s);
	cJSON_AddNumberToObject(root, "cooldown", s->lim.alert_cooldown_s);
	cJSON_AddItemToObject(root, "limits", alert_limits_json(s));
	cJSON_AddItemToObject(root, "tracked", flow_alerts_stats_json(&s->flow_alerts.stats));
	list = cJSON_AddArrayToObject(root, "alerts");
	for (size_t i = 0; i < s->alerts_count; i++)
		cJSON_AddItemToArray(list, alert_json(s, state_alert_at(s, i)));
	return root;
}
