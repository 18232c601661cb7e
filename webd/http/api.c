/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JSON API. Every handler reads the state under its lock, builds its
 * answer with cJSON (or rows.c for packets) and sends it with the headers of
 * http.c. Exports (CSV, PCAP) copy what they need under the lock and write
 * after releasing it, so a slow download never holds up the ingest.
 */
#include "http/api.h"

#include "geo/geo.h"
#include "geo/ipapi.h"
#include "history/history_api.h"
#include "http/control.h"
#include "http/detail.h"
#include "http/export.h"
#include "http/flows_api.h"
#include "http/http.h"
#include "live/feed.h"
#include "live/rows.h"
#include "live/summary.h"
#include "text.h"
#include "version.h"
#include "webd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PACKETS_LIMIT_MAX 10000
#define PACKETS_LIMIT_DEFAULT 100

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_addr(cJSON *o, const char *k, const struct wl_addr *a)
{
	char buf[64];

	cJSON_AddStringToObject(o, k, wl_addr_str(a, buf, sizeof(buf)));
}

/* Sends root (and frees it); returns the status sent. */
static int send_cjson(struct mg_connection *conn, cJSON *root)
{
	char *text = cJSON_PrintUnformatted(root);
	int status;

	cJSON_Delete(root);
	if (!text)
		return http_send_json(conn, 500, "{\"error\":\"out of memory\"}");
	status = http_send_json(conn, 200, text);
	free(text);
	return status;
}

/* ---- /api/stats ------------------------------------------------------------------ */

/* The connection guard's figures: what slow or greedy clients were refused. */
static void add_http_json(cJSON *root, struct guard *g)
{
	struct guard_stats gs;
	cJSON *o = cJSON_AddObjectToObject(root, "http");

	guard_get_stats(g, &gs);
	add_u64(o, "connections", gs.open);
	add_u64(o, "half_open", gs.half_open);
	add_u64(o, "cut_half_open", gs.cut_half_open);
	add_u64(o, "cut_per_addr", gs.cut_per_addr);
}

static int api_stats(struct webd *w, struct mg_connection *conn)
{
	struct feed_stats fs;
	struct ipapi_stats is;
	cJSON *root, *feed, *geo, *lim;

	pthread_mutex_lock(&w->state.lock);
	feed_get_stats(w->feed, &fs);
	root = summary_json(&w->state, fs.rows_skipped);
	add_u64(root, "hosts", w->state.n_hosts);
	add_u64(root, "hosts_evicted", w->state.hosts_evicted);
	pthread_mutex_unlock(&w->state.lock);

	cJSON_AddStringToObject(root, "version", WLITE_VERSION);
	cJSON_AddNumberToObject(root, "uptime", (double)(time(NULL) - w->started));
	feed_get_stats(w->feed, &fs);
	feed = cJSON_AddObjectToObject(root, "feed");
	add_u64(feed, "clients", fs.clients);
	add_u64(feed, "updates", fs.updates);
	add_u64(feed, "rows_sent", fs.rows_sent);
	add_u64(feed, "rows_skipped", fs.rows_skipped);
	add_u64(feed, "clients_dropped", fs.clients_dropped);
	add_u64(feed, "flow_clients", fs.flow_clients);
	add_u64(feed, "flow_messages", fs.flow_messages);
	geo = cJSON_AddObjectToObject(root, "geo");
	cJSON_AddBoolToObject(geo, "local_database", geo_has_databases(w->geo));
	ipapi_get_stats(w->ipapi, &is);
	add_u64(geo, "ipapi_requests", is.requests);
	add_u64(geo, "ipapi_failed", is.failed);
	cJSON_AddBoolToObject(geo, "ipapi_backing_off", is.backing_off);
	lim = cJSON_AddObjectToObject(root, "limits");
	add_u64(lim, "ring_packets", w->opt.limits.ring_packets);
	add_u64(lim, "alert_packets", w->opt.limits.alert_packets);
	add_u64(lim, "alert_window", w->opt.limits.alert_window_s);
	add_u64(root, "http_rejected", atomic_load(&w->http_rejected));
	add_http_json(root, &w->guard);
	cJSON_AddItemToObject(root, "history", history_api_stats_json(w->history));
	return send_cjson(conn, root);
}

/* ---- Packets ------------------------------------------------------------------- */

struct packet_query {
	struct row_filter filter;
	long limit;
};

/* Returns 0, or the status it has sent. */
static int parse_packet_query(struct webd *w, struct mg_connection *conn, struct packet_query *q, long limit_max)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char err[256];

	if (row_filter_parse(&q->filter, ri->query_string, err, sizeof(err)) < 0)
		return http_send_error(w, conn, 400, "%s", err);
	return http_query_long(w, conn, "limit", 1, limit_max, PACKETS_LIMIT_DEFAULT, &q->limit);
}

/*
 * Calls emit for the matching packets, oldest first: the newest `limit`
 * of those after after_seq. State lock held.
 */
typedef void (*emit_fn)(struct webd *w, const struct ring_entry *e, struct wl_wire_record *rec, void *ctx);

static size_t select_packets(struct webd *w, const struct packet_query *q, struct wl_wire_record *rec,
			     emit_fn emit, void *ctx)
{
	struct state *s = &w->state;
	size_t *picked = malloc((size_t)q->limit * sizeof(*picked)), n = 0;

	if (!picked)
		return 0;
	/* Newest first, so the limit keeps the latest; then emit in time order. */
	for (size_t age = 0; age < s->ring_count && n < (size_t)q->limit; age++) {
		const struct ring_entry *e = state_ring_at(s, age);

		if (e->id <= q->filter.after_id)
			break;
		if (row_entry_matches(s, &q->filter, e) && row_decode(e, rec) == 0 &&
		    row_matches(s, &q->filter, e, &rec->pkt))
			picked[n++] = age;
	}
	for (size_t i = n; i-- > 0;) {
		const struct ring_entry *e = state_ring_at(s, picked[i]);

		if (row_decode(e, rec) == 0)
			emit(w, e, rec, ctx);
	}
	free(picked);
	return n;
}

struct json_rows {
	struct text out; /* built under the lock, sent after it */
	char *buf;
	bool first;
};

static void emit_json_row(struct webd *w, const struct ring_entry *e, struct wl_wire_record *rec, void *ctx)
{
	struct json_rows *jr = ctx;
	long n = row_json(&w->state, e, &rec->pkt, jr->buf, ROW_JSON_MAX);

	if (n < 0)
		return;
	if (!jr->first)
		text_add(&jr->out, ",", 1);
	text_add(&jr->out, jr->buf, (size_t)n);
	jr->first = false;
}

static int api_packets(struct webd *w, struct mg_connection *conn)
{
	struct packet_query q;
	struct wl_wire_record *rec = malloc(sizeof(*rec));
	struct json_rows jr = { .buf = malloc(ROW_JSON_MAX), .first = true };
	uint64_t newest;
	int status;

	if (!rec || !jr.buf) {
		free(rec);
		free(jr.buf);
		return http_send_error(w, conn, 503, "out of memory");
	}
	status = parse_packet_query(w, conn, &q, PACKETS_LIMIT_MAX);
	if (status == 0) {
		text_add(&jr.out, "{\"packets\":[", 12);
		/* Built under the lock, written after it: a client that does not read
		 * must never hold up the ingest. */
		pthread_mutex_lock(&w->state.lock);
		select_packets(w, &q, rec, emit_json_row, &jr);
		newest = state_ring_at(&w->state, 0) ? state_ring_at(&w->state, 0)->id : 0;
		pthread_mutex_unlock(&w->state.lock);
		text_addf(&jr.out, "],\"newest_seq\":%llu}", (unsigned long long)newest);
		if (jr.out.failed)
			status = http_send_error(w, conn, 503, "out of memory");
		else
			status = http_send(conn, 200, "application/json", jr.out.buf, jr.out.len);
	}
	text_free(&jr.out);
	free(rec);
	free(jr.buf);
	return status;
}

static cJSON *layers_json(const struct wl_packet *pkt)
{
	cJSON *list = cJSON_CreateArray();

	for (unsigned i = 0; i < pkt->n_layers && i < WL_LAYERS_MAX; i++) {
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "name", wl_proto_name((enum wl_proto)pkt->layers[i].proto));
		cJSON_AddNumberToObject(item, "offset", pkt->layers[i].off);
		cJSON_AddNumberToObject(item, "length", pkt->layers[i].len);
		cJSON_AddItemToArray(list, item);
	}
	return list;
}

static char *hex_of(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *hex = malloc(n * 2 + 1);

	if (!hex)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[p[i] >> 4];
		hex[2 * i + 1] = digits[p[i] & 15];
	}
	hex[n * 2] = '\0';
	return hex;
}

static int api_packet(struct webd *w, struct mg_connection *conn, const char *id_text)
{
	struct wl_wire_record *rec = malloc(sizeof(*rec));
	char *row = malloc(ROW_JSON_MAX), *end, *hex = NULL;
	const struct ring_entry *e;
	cJSON *root = NULL;
	uint64_t id;
	long n = -1;
	int status;

	errno = 0;
	id = strtoull(id_text, &end, 10);
	if (!rec || !row || errno || end == id_text || *end || id_text[0] == '-') {
		if (rec && row)
			status = http_send_error(w, conn, 400, "packet number must be a whole number");
		else
			status = http_send_error(w, conn, 503, "out of memory");
		free(rec);
		free(row);
		return status;
	}
	pthread_mutex_lock(&w->state.lock);
	e = state_find_packet(&w->state, id);
	if (e && row_decode(e, rec) == 0) {
		n = row_json(&w->state, e, &rec->pkt, row, ROW_JSON_MAX);
		hex = hex_of(rec->raw, rec->raw_len);
		root = detail_json(&rec->pkt, rec->linktype, rec->raw, rec->raw_len);
	}
	pthread_mutex_unlock(&w->state.lock);
	if (!e || n < 0 || !root || !hex) {
		status = http_send_error(w, conn, 404, "packet %llu is not (or no longer) in the ring",
					 (unsigned long long)id);
	} else {
		cJSON_AddItemToObject(root, "summary", cJSON_ParseWithLength(row, (size_t)n));
		cJSON_AddItemToObject(root, "layer_spans", layers_json(&rec->pkt));
		cJSON_AddStringToObject(root, "hex", hex);
		cJSON_AddNumberToObject(root, "linktype", rec->linktype);
		status = send_cjson(conn, root);
		root = NULL;
	}
	cJSON_Delete(root);
	free(hex);
	free(rec);
	free(row);
	return status;
}

/* ---- DNS, hosts, names, alerts --------------------------------------------------- */

static int api_dns(struct webd *w, struct mg_connection *conn)
{
	const struct state *s = &w->state;
	cJSON *root, *list;
	long limit;
	int status;

	if ((status = http_query_long(w, conn, "limit", 1, 100000, 1000, &limit)) != 0)
		return status;
	root = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(root, "queries");
	pthread_mutex_lock(&w->state.lock);
	for (size_t i = 0; i < s->dns_count && i < (size_t)limit; i++) {
		const struct dns_entry *d = state_dns_at(s, i);
		cJSON *item = cJSON_CreateObject();

		add_u64(item, "seq", d->id);
		cJSON_AddNumberToObject(item, "ts", (double)d->ts_sec + d->ts_usec / 1e6);
		cJSON_AddStringToObject(item, "sensor", s->sensors[d->sensor].name);
		add_addr(item, "client", &d->client);
		add_addr(item, "server", &d->server);
		cJSON_AddBoolToObject(item, "response", d->response);
		cJSON_AddStringToObject(item, "qname", d->qname);
		cJSON_AddNumberToObject(item, "qtype", d->qtype);
		cJSON_AddNumberToObject(item, "rcode", d->rcode);
		cJSON_AddStringToObject(item, "answers", d->answers);
		cJSON_AddItemToArray(list, item);
	}
	pthread_mutex_unlock(&w->state.lock);
	return send_cjson(conn, root);
}

static cJSON *names_json(const struct host *h, int64_t now)
{
	cJSON *list = cJSON_CreateArray();

	for (unsigned i = 0; i < h->n_names; i++) {
		const struct host_name *n = &h->names[i];
		cJSON *item = cJSON_CreateObject();
		const char *source = n->source == 'd' ? "dns" : n->source == 's' ? "sni" : "http";

		cJSON_AddStringToObject(item, "name", n->name);
		cJSON_AddStringToObject(item, "source", source);
		cJSON_AddNumberToObject(item, "last_seen", (double)n->last_seen);
		if (n->source == 'd')
			cJSON_AddNumberToObject(item, "ttl_left", n->expires > now ? (double)(n->expires - now) : 0);
		cJSON_AddItemToArray(list, item);
	}
	return list;
}

static cJSON *host_json(const struct state *s, const struct host *h, int64_t now)
{
	cJSON *item = cJSON_CreateObject();

	add_addr(item, "ip", &h->addr);
	cJSON_AddStringToObject(item, "scope", geo_scope_name((enum geo_scope)h->geo.scope));
	if (h->geo.country[0])
		cJSON_AddStringToObject(item, "country", h->geo.country);
	if (h->geo.asn)
		cJSON_AddNumberToObject(item, "asn", h->geo.asn);
	if (h->geo.as_org[0])
		cJSON_AddStringToObject(item, "as_org", h->geo.as_org);
	if (h->geo.city[0])
		cJSON_AddStringToObject(item, "city", h->geo.city);
	if (h->geo.source)
		cJSON_AddStringToObject(item, "geo_source", h->geo.source == GEO_SRC_LOCAL ? "local" : "ip-api");
	add_u64(item, "packets_sent", h->pkts_sent);
	add_u64(item, "packets_received", h->pkts_recv);
	add_u64(item, "bytes_sent", h->bytes_sent);
	add_u64(item, "bytes_received", h->bytes_recv);
	cJSON_AddNumberToObject(item, "first_seen", (double)h->first_seen);
	cJSON_AddNumberToObject(item, "last_seen", (double)h->last_seen);
	cJSON_AddBoolToObject(item, "foreign", state_is_foreign(s, h));
	cJSON_AddBoolToObject(item, "alerting", h->alerting);
	cJSON_AddItemToObject(item, "names", names_json(h, now));
	return item;
}

static uint64_t host_bytes(const struct host *h)
{
	return h->bytes_sent + h->bytes_recv;
}

static int by_bytes_desc(const void *a, const void *b)
{
	uint64_t x = host_bytes(*(const struct host *const *)a), y = host_bytes(*(const struct host *const *)b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* /api/hosts: top talkers, by bytes, with geolocation and names. */
static int api_hosts(struct webd *w, struct mg_connection *conn, bool names_only)
{
	struct state *s = &w->state;
	const struct host **all;
	cJSON *root, *list;
	size_t n = 0;
	long limit;
	int64_t now;
	int status;

	if ((status = http_query_long(w, conn, "limit", 1, 100000, 100, &limit)) != 0)
		return status;
	root = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(root, names_only ? "names" : "hosts");
	pthread_mutex_lock(&s->lock);
	now = state_now(s, (int64_t)time(NULL));
	all = malloc(s->n_hosts * sizeof(*all) + 1);
	for (size_t i = 0; all && i < s->n_hosts; i++)
		if (s->hosts[i].used && (!names_only || s->hosts[i].n_names) &&
		    (names_only || s->hosts[i].pkts_sent + s->hosts[i].pkts_recv))
			all[n++] = &s->hosts[i];
	if (all)
		qsort(all, n, sizeof(*all), by_bytes_desc);
	for (size_t i = 0; all && i < n && i < (size_t)limit; i++)
		cJSON_AddItemToArray(list, host_json(s, all[i], now));
	pthread_mutex_unlock(&s->lock);
	free(all);
	return send_cjson(conn, root);
}

static int api_alerts(struct webd *w, struct mg_connection *conn)
{
	cJSON *root;

	pthread_mutex_lock(&w->state.lock);
	root = summary_alerts_json(&w->state); /* every kind, and their limits (live/summary.c) */
	pthread_mutex_unlock(&w->state.lock);
	return send_cjson(conn, root);
}

/* ---- Talking to capd -------------------------------------------------------------- */

static int relay_to_capd(struct webd *w, struct mg_connection *conn, const char *request)
{
	char err[512];
	char *reply = control_request(w, request, err, sizeof(err));
	cJSON *parsed;
	bool ok;
	int status;

	if (!reply) {
		http_send_error(w, conn, 502, "%s", err);
		return 502;
	}
	parsed = cJSON_Parse(reply);
	ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(parsed, "ok"));
	cJSON_Delete(parsed);
	/* capd's refusal (a bad filter, say) is the user's 400, with capd's words. */
	if (!ok)
		atomic_fetch_add(&w->http_rejected, 1);
	status = http_send_json(conn, ok ? 200 : 400, reply);
	free(reply);
	return status;
}

static int api_interfaces(struct webd *w, struct mg_connection *conn)
{
	return relay_to_capd(w, conn, "{\"cmd\":\"list_interfaces\"}");
}

/* POST /api/capture {"action":"pause"|"resume"|"filter"|"interface", "filter"|"interface": "..."} */
static int api_capture(struct webd *w, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char body[WEBD_BODY_MAX + 1];
	cJSON *req, *out;
	const cJSON *action, *arg = NULL;
	char *text;
	int n, status;

	if (ri->content_length < 0 || ri->content_length > WEBD_BODY_MAX) {
		http_send_error(w, conn, 413, "the body must be JSON of at most %d bytes", WEBD_BODY_MAX);
		return 413;
	}
	n = mg_read(conn, body, (size_t)ri->content_length);
	if (n != ri->content_length) {
		http_send_error(w, conn, 400, "incomplete body");
		return 400;
	}
	body[n] = '\0';
	req = cJSON_ParseWithLength(body, (size_t)n);
	action = cJSON_GetObjectItemCaseSensitive(req, "action");
	if (!cJSON_IsString(action)) {
		cJSON_Delete(req);
		http_send_error(w, conn, 400, "expected {\"action\": \"pause\"|\"resume\"|\"filter\"|\"interface\"}");
		return 400;
	}
	out = cJSON_CreateObject();
	if (strcmp(action->valuestring, "pause") == 0 || strcmp(action->valuestring, "resume") == 0) {
		cJSON_AddStringToObject(out, "cmd", action->valuestring);
	} else if (strcmp(action->valuestring, "filter") == 0 || strcmp(action->valuestring, "interface") == 0) {
		bool filter = action->valuestring[0] == 'f';

		arg = cJSON_GetObjectItemCaseSensitive(req, filter ? "filter" : "interface");
		if (!cJSON_IsString(arg)) {
			cJSON_Delete(req);
			cJSON_Delete(out);
			http_send_error(w, conn, 400, "'%s' must be a string", filter ? "filter" : "interface");
			return 400;
		}
		cJSON_AddStringToObject(out, "cmd", filter ? "set_filter" : "set_interface");
		cJSON_AddStringToObject(out, filter ? "filter" : "interface", arg->valuestring);
	} else {
		cJSON_Delete(req);
		cJSON_Delete(out);
		http_send_error(w, conn, 400, "unknown action (pause, resume, filter, interface)");
		return 400;
	}
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	cJSON_Delete(req);
	status = text ? relay_to_capd(w, conn, text) : http_send_error(w, conn, 503, "out of memory");
	free(text);
	return status;
}

/* ---- Routing ---------------------------------------------------------------------- */

int api_handle(struct mg_connection *conn, void *cbdata)
{
	struct webd *w = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *path = ri->local_uri;
	bool post = strcmp(ri->request_method, "POST") == 0;

	if (!post && strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
		http_send_error(w, conn, 405, "method not allowed");
		return 405;
	}
	int status = http_authorize(w, conn);

	if (status)
		return status;
	if (post && strcmp(path, "/api/capture") == 0)
		return api_capture(w, conn);
	if (post) {
		http_send_error(w, conn, 404, "no such endpoint");
		return 404;
	}
	if (strcmp(path, "/api/stats") == 0)
		return api_stats(w, conn);
	if (strncmp(path, "/api/history/", 13) == 0)
		return history_api_handle(w, conn, path);
	if (strcmp(path, "/api/packets") == 0)
		return api_packets(w, conn);
	if (strncmp(path, "/api/packet/", 12) == 0)
		return api_packet(w, conn, path + 12);
	if (strcmp(path, "/api/dns") == 0)
		return api_dns(w, conn);
	if (strcmp(path, "/api/hosts") == 0)
		return api_hosts(w, conn, false);
	if (strcmp(path, "/api/names") == 0)
		return api_hosts(w, conn, true);
	if (strcmp(path, "/api/alerts") == 0)
		return api_alerts(w, conn);
	if (strcmp(path, "/api/interfaces") == 0)
		return api_interfaces(w, conn);
	if (strncmp(path, "/api/flow", 9) == 0 || strcmp(path, "/api/endpoints") == 0)
		return flows_api_handle(w, conn, path);
	if (strcmp(path, "/api/capture") == 0) {
		http_send_error(w, conn, 405, "use POST");
		return 405;
	}
	return export_handle(w, conn, path);
}
