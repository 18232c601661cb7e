/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Downloads: the packets as CSV or PCAP (with the filters of /api/packets)
 * and the per-second rates as CSV. The matching records are copied under
 * the lock and written after it is released: a slow download never holds
 * up the ingest.
 */
#include "api.h"

#include "http.h"
#include "pcap_out.h"
#include "rows.h"
#include "webd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT_MAX 1000000

struct copied {
	uint8_t **records;
	size_t *lens;
	uint64_t *ids;
	uint8_t *sensors;
	size_t n;
};

static void free_copied(struct copied *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->records[i]);
	free(c->records);
	free(c->lens);
	free(c->ids);
	free(c->sensors);
}

/* The newest `limit` matching records, oldest first (state lock held). */
static int copy_matching(struct webd *w, const struct row_filter *f, size_t limit, struct copied *out,
			 struct wl_wire_record *rec)
{
	struct state *s = &w->state;
	size_t cap = limit < s->ring_count ? limit : s->ring_count;

	memset(out, 0, sizeof(*out));
	out->records = calloc(cap + 1, sizeof(*out->records));
	out->lens = calloc(cap + 1, sizeof(*out->lens));
	out->ids = calloc(cap + 1, sizeof(*out->ids));
	out->sensors = calloc(cap + 1, sizeof(*out->sensors));
	if (!out->records || !out->lens || !out->ids || !out->sensors)
		return -1;
	for (size_t age = 0; age < s->ring_count && out->n < cap; age++) {
		const struct ring_entry *e = state_ring_at(s, age);

		if (e->id <= f->after_id)
			break;
		if (row_decode(e, rec) < 0 || !row_matches(s, f, e, &rec->pkt))
			continue;
		out->records[out->n] = malloc(e->len);
		if (!out->records[out->n])
			return -1;
		memcpy(out->records[out->n], e->record, e->len);
		out->lens[out->n] = e->len;
		out->ids[out->n] = e->id;
		out->sensors[out->n] = e->sensor;
		out->n++;
	}
	/* newest first so far: turn it around */
	for (size_t i = 0; i < out->n / 2; i++) {
		size_t j = out->n - 1 - i;
		uint8_t *r = out->records[i];
		size_t l = out->lens[i];
		uint64_t id = out->ids[i];
		uint8_t sensor = out->sensors[i];

		out->records[i] = out->records[j];
		out->records[j] = r;
		out->lens[i] = out->lens[j];
		out->lens[j] = l;
		out->ids[i] = out->ids[j];
		out->ids[j] = id;
		out->sensors[i] = out->sensors[j];
		out->sensors[j] = sensor;
	}
	return 0;
}

static bool gather(struct webd *w, struct mg_connection *conn, struct copied *out, struct wl_wire_record *rec)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct row_filter f;
	char err[256];
	long limit;
	int r;

	if (row_filter_parse(&f, ri->query_string, err, sizeof(err)) < 0) {
		http_send_error(w, conn, 400, "%s", err);
		return false;
	}
	if (!http_query_number(w, conn, "limit", 1, EXPORT_MAX, EXPORT_MAX, &limit))
		return false;
	pthread_mutex_lock(&w->state.lock);
	r = copy_matching(w, &f, (size_t)limit, out, rec);
	pthread_mutex_unlock(&w->state.lock);
	if (r < 0) {
		free_copied(out);
		http_send_error(w, conn, 503, "out of memory");
		return false;
	}
	return true;
}

static int decode_copy(const struct copied *c, size_t i, struct wl_wire_record *rec)
{
	struct ring_entry e = { .record = c->records[i], .len = c->lens[i] };

	return row_decode(&e, rec);
}

/* ---- CSV --------------------------------------------------------------------- */

/*
 * RFC 4180 quoting, and a leading apostrophe for cells a spreadsheet would
 * run as a formula: names on the wire can start with '=' too.
 */
static void csv_cell(struct http_stream *out, const char *v)
{
	char buf[600];
	size_t o = 0;

	buf[o++] = '"';
	if (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')
		buf[o++] = '\'';
	for (; *v && o + 3 < sizeof(buf); v++) {
		if (*v == '"')
			buf[o++] = '"';
		buf[o++] = *v;
	}
	buf[o++] = '"';
	http_stream_write(out, buf, o);
}

static void csv_row(struct http_stream *out, uint64_t id, const struct wl_packet *pkt, const char *sensor)
{
	const struct wl_flow *f = &pkt->outer;
	char src[64] = "", dst[64] = "";

	if (f->has & WL_HAS_SRC)
		wl_addr_str(&f->src, src, sizeof(src));
	if (f->has & WL_HAS_DST)
		wl_addr_str(&f->dst, dst, sizeof(dst));
	http_stream_printf(out, "%llu,%lld.%06u,", (unsigned long long)id, (long long)pkt->ts_sec, pkt->ts_usec);
	csv_cell(out, sensor);
	http_stream_printf(out, ",%s,%s,%s,", src, dst, wl_proto_name(pkt->proto));
	if (f->has & WL_HAS_SPORT)
		http_stream_printf(out, "%u", f->sport);
	http_stream_write(out, ",", 1);
	if (f->has & WL_HAS_DPORT)
		http_stream_printf(out, "%u", f->dport);
	http_stream_printf(out, ",%u,", pkt->len);
	csv_cell(out, pkt->info);
	http_stream_write(out, ",", 1);
	csv_cell(out, (pkt->has & WL_PKT_DNS) && pkt->dns.has_question ? pkt->dns.qname : "");
	http_stream_write(out, "\r\n", 2);
}

static int export_csv(struct webd *w, struct mg_connection *conn, struct wl_wire_record *rec)
{
	struct copied c;
	char sensor[SENSOR_NAME_MAX];
	struct http_stream *out = malloc(sizeof(*out));

	if (!out) {
		http_send_error(w, conn, 503, "out of memory");
		return 503;
	}
	if (!gather(w, conn, &c, rec)) {
		free(out);
		return 400;
	}
	http_stream_start(out, conn, "text/csv; charset=utf-8",
			  "Content-Disposition: attachment; filename=\"wlite-packets.csv\"\r\n");
	http_stream_printf(out, "seq,ts,sensor,src,dst,proto,sport,dport,len,info,dns_qname\r\n");
	for (size_t i = 0; i < c.n; i++) {
		if (decode_copy(&c, i, rec) < 0)
			continue;
		/* Sensor names are set at start-up and never change. */
		snprintf(sensor, sizeof(sensor), "%s", w->state.sensors[c.sensors[i]].name);
		csv_row(out, c.ids[i], &rec->pkt, sensor);
	}
	http_stream_end(out);
	free(out);
	free_copied(&c);
	return 200;
}

/* ---- PCAP -------------------------------------------------------------------- */

/*
 * Classic pcap, microseconds, little-endian. A file has one link type:
 * packets of another one (after a set_interface) are left out, and the
 * X-Wlite-Skipped header says how many.
 */
static int export_pcap(struct webd *w, struct mg_connection *conn, struct wl_wire_record *rec)
{
	struct copied c;
	int linktype = -1;
	size_t skipped = 0;
	char extra[160];
	struct http_stream *out = malloc(sizeof(*out));

	if (!out) {
		http_send_error(w, conn, 503, "out of memory");
		return 503;
	}
	if (!gather(w, conn, &c, rec)) {
		free(out);
		return 400;
	}
	for (size_t i = 0; i < c.n && linktype < 0; i++)
		if (decode_copy(&c, i, rec) == 0)
			linktype = rec->linktype;
	for (size_t i = 0; i < c.n; i++)
		if (decode_copy(&c, i, rec) == 0 && rec->linktype != linktype)
			skipped++;
	snprintf(extra, sizeof(extra),
		 "Content-Disposition: attachment; filename=\"wlite-packets.pcap\"\r\nX-Wlite-Skipped: %zu\r\n", skipped);
	http_stream_start(out, conn, "application/vnd.tcpdump.pcap", extra);
	pcap_out_header(out, linktype < 0 ? 1 : linktype);
	for (size_t i = 0; i < c.n; i++) {
		if (decode_copy(&c, i, rec) < 0 || rec->linktype != linktype)
			continue;
		pcap_out_record(out, rec->pkt.ts_sec, rec->pkt.ts_usec, rec->pkt.len, rec->raw, rec->raw_len);
	}
	http_stream_end(out);
	free(out);
	free_copied(&c);
	return 200;
}

/* ---- Rates ------------------------------------------------------------------- */

static int export_rates(struct webd *w, struct mg_connection *conn)
{
	struct rate_bucket *copy = malloc(sizeof(w->state.rates));
	struct http_stream *out = malloc(sizeof(*out));
	int64_t now;

	if (!copy || !out) {
		free(copy);
		free(out);
		http_send_error(w, conn, 503, "out of memory");
		return 503;
	}
	pthread_mutex_lock(&w->state.lock);
	memcpy(copy, w->state.rates, sizeof(w->state.rates));
	now = state_now(&w->state, (int64_t)time(NULL));
	pthread_mutex_unlock(&w->state.lock);
	http_stream_start(out, conn, "text/csv; charset=utf-8",
			  "Content-Disposition: attachment; filename=\"wlite-rates.csv\"\r\n");
	http_stream_printf(out, "second,packets,bytes\r\n");
	/*
	 * The last hour, a line per second, quiet seconds included as zeros:
	 * counted, so that it ends whatever the clock says, and over as soon
	 * as the client has gone.
	 */
	for (int64_t i = 0; i < STATE_RATE_SECONDS && !out->failed; i++) {
		int64_t t = now - STATE_RATE_SECONDS + 1 + i;
		const struct rate_bucket *b = &copy[(uint64_t)t % STATE_RATE_SECONDS];
		bool here = b->second == t;

		http_stream_printf(out, "%lld,%llu,%llu\r\n", (long long)t,
				   here ? (unsigned long long)b->packets : 0ULL, here ? (unsigned long long)b->bytes : 0ULL);
	}
	http_stream_end(out);
	free(out);
	free(copy);
	return 200;
}

int export_handle(struct webd *w, struct mg_connection *conn, const char *path)
{
	struct wl_wire_record *rec = malloc(sizeof(*rec));
	int status;

	if (!rec) {
		http_send_error(w, conn, 503, "out of memory");
		return 503;
	}
	if (strcmp(path, "/api/export.csv") == 0)
		status = export_csv(w, conn, rec);
	else if (strcmp(path, "/api/export.pcap") == 0)
		status = export_pcap(w, conn, rec);
	else if (strcmp(path, "/api/rates.csv") == 0)
		status = export_rates(w, conn);
	else {
		http_send_error(w, conn, 404, "no such endpoint");
		status = 404;
	}
	free(rec);
	return status;
}
