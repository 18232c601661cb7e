/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow API: /api/flows (filters, one sort, pages), /api/flows/export.csv,
 * /api/flow/SENSOR/ID (the flow, its rate points and its packets still in
 * the ring), /api/flow/SENSOR/ID/export.pcap, and /api/endpoints. Answers
 * are built under the state lock and sent after it.
 *
 * A flow here is the flow schema v1 object (common/flow-json.c) with the
 * sensor's name first and webd's additions after: whether it is still
 * active, its duration and rate, when webd last heard of it, and what webd
 * knows of both ends (country, scope, AS, the best name seen).
 */
#include "http/flows_api.h"

#include "history/history_api.h"
#include "http/export.h"
#include "http/http.h"
#include "live/endpoints.h"
#include "live/flowquery.h"
#include "live/flows_json.h"
#include "live/rows.h"
#include "text.h"
#include "webd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOW_PACKETS_MAX 1000 /* rows of a flow's packets in its detail, the oldest */

/* ---- /api/flows ----------------------------------------------------------------------------- */

static bool parse_query(struct webd *w, struct mg_connection *conn, struct flow_query *q)
{
	char err[256];

	if (flows_json_parse(&w->state, q, mg_get_request_info(conn)->query_string, err, sizeof(err)) < 0) {
		http_send_error(w, conn, 400, "%s", err);
		return false;
	}
	return true;
}

static int send_text(struct webd *w, struct mg_connection *conn, struct text *t, const char *type)
{
	int status = 200;

	if (t->failed) {
		http_send_error(w, conn, 503, "out of memory");
		status = 503;
	} else {
		http_send(conn, 200, type, t->buf, t->len);
	}
	text_free(t);
	return status;
}

static int api_flows(struct webd *w, struct mg_connection *conn)
{
	struct flow_query q;
	struct text out = { 0 };

	if (!parse_query(w, conn, &q))
		return 400;
	pthread_mutex_lock(&w->state.lock);
	flows_json_page(&w->state, &q, &out);
	pthread_mutex_unlock(&w->state.lock);
	text_add(&out, "}", 1);
	return send_text(w, conn, &out, "application/json");
}

/* ---- /api/endpoints --------------------------------------------------------------------------- */

static void endpoint_json(struct state *s, const struct endpoint *e, struct text *out)
{
	char buf[1024], addr[64];
	size_t used;
	bool ip = e->addr.family == 4 || e->addr.family == 6;

	if (ip)
		wl_addr_str(&e->addr, addr, sizeof(addr));
	else
		snprintf(addr, sizeof(addr), "%02x:%02x:%02x:%02x:%02x:%02x", e->addr.b[0], e->addr.b[1], e->addr.b[2],
			 e->addr.b[3], e->addr.b[4], e->addr.b[5]);
	used = (size_t)snprintf(buf, sizeof(buf),
				"{\"addr\":\"%s\",\"bytes_in\":%llu,\"bytes_out\":%llu,\"packets_in\":%llu,"
				"\"packets_out\":%llu,\"flows\":%u,\"peers\":%u,\"first\":%.6f,\"last\":%.6f",
				addr, (unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out,
				(unsigned long long)e->packets_in, (unsigned long long)e->packets_out, e->flows, e->peers,
				(double)e->first_us / 1e6, (double)e->last_us / 1e6);
	if (ip)
		used = row_put_host(s, &e->addr, "", buf, sizeof(buf), used, NULL);
	if (used + 2 >= sizeof(buf)) {
		out->failed = true;
		return;
	}
	buf[used++] = '}';
	text_add(out, buf, used);
}

static int api_endpoints(struct webd *w, struct mg_connection *conn)
{
	struct flow_query q;
	struct flow_join join = flows_json_join(&w->state);
	struct endpoint *eps = NULL;
	enum endpoint_sort by = ENDPOINT_SORT_BYTES;
	struct text out = { 0 };
	char sort[32], err[256];
	size_t total = 0;
	long n;

	if (flows_json_parse_filters(&w->state, &q, mg_get_request_info(conn)->query_string, err, sizeof(err)) < 0)
		return http_send_error(w, conn, 400, "%s", err);
	/* sort= names an endpoint figure here, not a flow's. */
	if (http_query_param(conn, "sort", sort, sizeof(sort)) && endpoint_sort_parse(sort, &by) < 0) {
		http_send_error(w, conn, 400, "sort= must be bytes, packets, flows, peers or last");
		return 400;
	}
	text_add(&out, "{\"endpoints\":[", 14);
	pthread_mutex_lock(&w->state.lock);
	n = endpoints_collect(&w->state.flows, &q, &join, by, q.offset + q.limit, &eps, &total);
	for (long i = (long)q.offset; i < n; i++) {
		if (i > (long)q.offset)
			text_add(&out, ",", 1);
		endpoint_json(&w->state, &eps[i], &out);
	}
	pthread_mutex_unlock(&w->state.lock);
	free(eps);
	if (n < 0)
		out.failed = true;
	text_addf(&out, "],\"total\":%zu,\"sort\":\"%s\"}", total, endpoint_sort_name(by));
	return send_text(w, conn, &out, "application/json");
}

/* ---- One flow --------------------------------------------------------------------------------- */

static void points_json(const struct live_flow *f, struct text *out)
{
	text_add(out, ",\"points\":[", 11);
	for (unsigned i = 0; i < f->n_points; i++)
		text_addf(out, "%s[%.6f,%llu]", i ? "," : "", (double)f->points[i].at_us / 1e6,
			  (unsigned long long)f->points[i].bytes);
	text_add(out, "]", 1);
}

/*
 * The flow's packets still in the ring, oldest first, at most
 * FLOW_PACKETS_MAX (lock held). A packet's record names its flow, so this
 * is a walk over the ring entries; only the flow's own are decoded. Also
 * says whether the ring still holds the flow's first packet.
 */
static void packets_json(struct state *s, const struct live_flow *f, struct text *out)
{
	struct wl_wire_record *rec = malloc(sizeof(*rec));
	char *buf = malloc(ROW_JSON_MAX);
	size_t n = 0, more = 0;
	bool complete = false;

	text_add(out, ",\"packets\":[", 12);
	for (size_t age = s->ring_count; rec && buf && age-- > 0;) {
		const struct ring_entry *e = state_ring_at(s, age);
		long len;

		if (e->flow_id != f->id || e->sensor != f->sensor || row_decode(e, rec) < 0)
			continue;
		if (n == 0) /* the oldest the ring has: is it the flow's first? */
			complete = (int64_t)rec->pkt.ts_sec * 1000000 + rec->pkt.ts_usec <= f->first_us;
		if (n == FLOW_PACKETS_MAX) {
			more++;
			continue;
		}
		if ((len = row_json(s, e, &rec->pkt, buf, ROW_JSON_MAX)) < 0)
			continue;
		text_addf(out, "%s%.*s", n ? "," : "", (int)len, buf);
		n++;
	}
	if (!rec || !buf)
		out->failed = true;
	text_addf(out, "],\"packets_more\":%zu,\"packets_complete\":%s", more, complete ? "true" : "false");
	free(rec);
	free(buf);
}

/*
 * Finds /api/flow/SENSOR/ID[/TAIL] (lock held): the flow, or NULL. *tail
 * points past the id, at "" or "/...".
 */
static const struct live_flow *find_flow(struct webd *w, const char *rest, const char **tail)
{
	char sensor[SENSOR_NAME_MAX];
	const char *slash = strchr(rest, '/');
	char *end;
	unsigned long long id;
	int i;

	if (!slash || (size_t)(slash - rest) >= sizeof(sensor) || slash[1] < '0' || slash[1] > '9')
		return NULL;
	snprintf(sensor, sizeof(sensor), "%.*s", (int)(slash - rest), rest);
	errno = 0;
	id = strtoull(slash + 1, &end, 10);
	if (errno || (*end && *end != '/') || (i = flows_json_sensor_index(&w->state, sensor)) < 0)
		return NULL;
	*tail = end;
	return flows_find(&w->state.flows, (uint8_t)i, id);
}

/*
 * Whether the ring still holds all of f's packets (lock held): its oldest
 * packet of the flow is the flow's first, and the ring drops the oldest
 * first. Otherwise the flow's PCAP comes from history, when it can.
 */
static bool ring_has_flow(struct state *s, const struct live_flow *f)
{
	struct wl_wire_record *rec = malloc(sizeof(*rec));
	bool complete = false;

	for (size_t age = s->ring_count; rec && age-- > 0;) {
		const struct ring_entry *e = state_ring_at(s, age);

		if (e->flow_id != f->id || e->sensor != f->sensor || row_decode(e, rec) < 0)
			continue;
		complete = (int64_t)rec->pkt.ts_sec * 1000000 + rec->pkt.ts_usec <= f->first_us;
		break;
	}
	free(rec);
	return complete;
}

/* SENSOR/ID/export.pcap (find_flow has read it) from history's raw bytes; < 0: history has none. */
static int pcap_from_history(struct webd *w, struct mg_connection *conn, const char *rest, int64_t first_us,
			     int64_t last_us)
{
	const char *slash = strchr(rest, '/');
	char sensor[SENSOR_NAME_MAX];

	snprintf(sensor, sizeof(sensor), "%.*s", (int)(slash - rest), rest);
	return history_api_flow_pcap(w, conn, sensor, strtoull(slash + 1, NULL, 10), first_us, last_us);
}

static int api_flow(struct webd *w, struct mg_connection *conn, const char *rest)
{
	const struct live_flow *f;
	const char *tail = "";
	struct text out = { 0 };
	char sensor[SENSOR_NAME_MAX];
	int64_t first_us, last_us;
	uint64_t id;
	bool ring;
	int status;

	pthread_mutex_lock(&w->state.lock);
	f = find_flow(w, rest, &tail);
	if (!f) {
		pthread_mutex_unlock(&w->state.lock);
		/* Gone from the flow table (evicted, cleared): history may still have its packets. */
		if (strcmp(tail, "/export.pcap") == 0 && (status = pcap_from_history(w, conn, rest, -1, -1)) >= 0)
			return status;
		return http_send_error(w, conn, 404, "no such flow (/api/flow/SENSOR/ID; it may have been evicted)");
	}
	if (strcmp(tail, "/export.pcap") == 0) {
		id = f->id;
		snprintf(sensor, sizeof(sensor), "%s", w->state.sensors[f->sensor].name);
		ring = !w->history || ring_has_flow(&w->state, f);
		first_us = f->first_us;
		last_us = f->ended ? f->last_us : INT64_MAX; /* still going: packets after its last report too */
		pthread_mutex_unlock(&w->state.lock);
		/* History says so in X-Wlite-Source; the ring's PCAP is the one without it. */
		if (!ring && (status = pcap_from_history(w, conn, rest, first_us, last_us)) >= 0)
			return status;
		return export_flow_pcap(w, conn, sensor, id);
	}
	if (*tail) {
		pthread_mutex_unlock(&w->state.lock);
		return http_send_error(w, conn, 404, "no such endpoint");
	}
	text_add(&out, "{\"flow\":", 8);
	flows_json_one(&w->state, f, &out);
	points_json(f, &out);
	packets_json(&w->state, f, &out);
	text_add(&out, "}", 1);
	pthread_mutex_unlock(&w->state.lock);
	return send_text(w, conn, &out, "application/json");
}

/* ---- /api/flows/export.csv ---------------------------------------------------------------------- */

/* A spreadsheet runs cells that start with = + - @: names from the wire are quoted and defused. */
static void csv_text(struct text *out, const char *v, size_t n)
{
	text_add(out, "\"", 1);
	if (n && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@'))
		text_add(out, "'", 1);
	for (size_t i = 0; i < n; i++)
		text_add(out, v[i] == '"' ? "\"\"" : &v[i], v[i] == '"' ? 2 : 1);
	text_add(out, "\"", 1);
}

static void endpoint_str(const struct live_flow *f, int side, char *buf, size_t size)
{
	const uint8_t *m = f->addr[side].b;

	if (f->l3 == WL_L3_IPV4 || f->l3 == WL_L3_IPV6)
		wl_addr_str(&f->addr[side], buf, size);
	else
		snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void csv_flow(struct state *s, const struct live_flow *f, struct text *out)
{
	char a[64], b[64], cc[2][3];
	size_t name_len;
	const char *name = flows_name(&s->flows, f, &name_len);

	endpoint_str(f, 0, a, sizeof(a));
	endpoint_str(f, 1, b, sizeof(b));
	for (int side = 0; side < 2; side++)
		flows_json_country(s, &f->addr[side], cc[side]);
	text_addf(out, "%s,%llu,%.6f,%.6f,%u,%s,%u,%s,%u,%s,%s,%llu,%llu,%llu,%llu,%s,%s,", s->sensors[f->sensor].name,
		  (unsigned long long)f->id, (double)f->first_us / 1e6, (double)f->last_us / 1e6, f->ipproto, a,
		  f->port[0], b, f->port[1], cc[0], cc[1], (unsigned long long)f->packets[0],
		  (unsigned long long)f->bytes[0], (unsigned long long)f->packets[1], (unsigned long long)f->bytes[1],
		  wl_proto_name((enum wl_proto)f->app), f->ended ? wl_flow_end_name((enum wl_flow_end)f->end) : "active");
	if (f->flags & WL_FLOW_TCP)
		text_addf(out, "%s,%u,%u,", wl_tcp_state_name((enum wl_tcp_state)f->tcp.state),
			  f->tcp.retransmissions[0] + f->tcp.retransmissions[1],
			  f->tcp.rtt_us == UINT32_MAX ? 0 : f->tcp.rtt_us);
	else
		text_add(out, ",,,", 3);
	csv_text(out, name, name_len);
	text_add(out, "\r\n", 2);
}

/*
 * Every flow the filters pass, in the sort asked for (limit= up to the
 * table's size). Built under the lock, a page of 10,000 flows at a time,
 * and sent after it: a client that reads slowly holds no lock.
 */
static int api_flows_csv(struct webd *w, struct mg_connection *conn)
{
	struct flow_query q;
	struct flow_join join = flows_json_join(&w->state);
	const struct live_flow **page = NULL;
	struct http_stream *hs = malloc(sizeof(*hs));
	struct text out = { 0 };
	size_t total = 0, sent = 0, want;
	char limit[32];
	long n;

	if (!hs || !parse_query(w, conn, &q)) {
		free(hs);
		return hs ? 400 : http_send_error(w, conn, 503, "out of memory");
	}
	want = http_query_param(conn, "limit", limit, sizeof(limit)) ? q.limit : w->state.flows.stats.max;
	q.limit = FLOW_QUERY_LIMIT_MAX;
	if (!(page = malloc(q.limit * sizeof(*page)))) {
		free(hs);
		return http_send_error(w, conn, 503, "out of memory");
	}
	http_stream_start(hs, conn, "text/csv; charset=utf-8",
			  "Content-Disposition: attachment; filename=\"wlite-flows.csv\"\r\n");
	http_stream_printf(hs, "sensor,id,first,last,ipproto,a,a_port,b,b_port,a_country,b_country,a_packets,"
			       "a_bytes,b_packets,b_bytes,app,end,tcp_state,retransmissions,rtt_us,name\r\n");
	/* Pages by offset: a flow that moves in the order meanwhile may show twice or not at all. */
	for (; sent < want && !hs->failed; q.offset += q.limit) {
		pthread_mutex_lock(&w->state.lock);
		n = flow_query_run(&w->state.flows, &q, &join, page, &total);
		for (long i = 0; i < n && sent + (size_t)i < want; i++)
			csv_flow(&w->state, page[i], &out);
		pthread_mutex_unlock(&w->state.lock);
		if (n <= 0 || out.failed)
			break;
		http_stream_write(hs, out.buf, out.len);
		out.len = 0;
		sent += (size_t)n;
		if ((size_t)n < q.limit)
			break;
	}
	http_stream_end(hs);
	text_free(&out);
	free(page);
	free(hs);
	return 200;
}

/* ---- Routing ------------------------------------------------------------------------------------ */

int flows_api_handle(struct webd *w, struct mg_connection *conn, const char *path)
{
	if (strcmp(path, "/api/flows") == 0)
		return api_flows(w, conn);
	if (strcmp(path, "/api/flows/export.csv") == 0)
		return api_flows_csv(w, conn);
	if (strcmp(path, "/api/endpoints") == 0)
		return api_endpoints(w, conn);
	if (strncmp(path, "/api/flow/", 10) == 0)
		return api_flow(w, conn, path + 10);
	return http_send_error(w, conn, 404, "no such endpoint");
}
