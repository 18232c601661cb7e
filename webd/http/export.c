/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Downloads: the packets as CSV or PCAP (with the filters of /api/packets)
 * and the per-second rates as CSV. The rows to send are fixed under the
 * lock first; then they are copied a chunk at a time under the lock and
 * written after it is released. A slow download never holds up the ingest,
 * and holds one chunk of memory, never a copy of the ring.
 */
#include "http/export.h"

#include "http/http.h"
#include "http/pcap_out.h"
#include "live/rows.h"
#include "webd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT_MAX 1000000
/*
 * What one export holds at a time: the records of one pass under the lock.
 * Eight stalled downloads hold eight of these, not eight copies of the ring.
 * A record is at most a snap length and some sections, so one always fits.
 */
#define EXPORT_CHUNK_BYTES (1024 * 1024)
#define EXPORT_CHUNK_ROWS 4096

/* Decided under the lock before the first byte goes out. */
struct export_plan {
	struct row_filter f;
	uint64_t first_id, last_id; /* the rows to send have ids in [first_id, last_id] */
	int linktype;               /* of the oldest row: a pcap file has one */
	size_t other_linktypes;     /* rows left out of a pcap for having another */
};

struct chunk_row {
	uint64_t id;
	size_t off, len;
	uint8_t sensor;
};

struct export_chunk {
	uint8_t *bytes;
	size_t used;
	struct chunk_row *rows;
	size_t n;
	uint64_t next_id; /* where the next pass starts */
};

/*
 * The newest `limit` matching rows of the ring, walked newest first (state
 * lock held): where they start, and their link types.
 */
static void plan_export(struct webd *w, struct export_plan *p, size_t limit, struct wl_wire_record *rec)
{
	struct state *s = &w->state;
	const struct ring_entry *newest = state_ring_at(s, 0);
	size_t matched = 0;

	p->last_id = newest ? newest->id : 0;
	p->first_id = p->last_id + 1; /* empty until something matches */
	p->linktype = -1;
	p->other_linktypes = 0;
	for (size_t age = 0; age < s->ring_count && matched < limit; age++) {
		const struct ring_entry *e = state_ring_at(s, age);

		if (e->id <= p->f.after_id)
			break;
		if (!row_entry_matches(s, &p->f, e) || row_decode(e, rec) < 0 || !row_matches(s, &p->f, e, &rec->pkt))
			continue;
		matched++;
		p->first_id = e->id;
		/* Going back in time: the last one seen is the oldest. */
		if (p->linktype >= 0 && rec->linktype != p->linktype)
			p->other_linktypes++;
		p->linktype = rec->linktype;
	}
}

/*
 * Parses the filters (unless the caller gave them) and plans; returns 0, or
 * the status it has sent.
 */
static int start_export(struct webd *w, struct mg_connection *conn, struct export_plan *p, const struct row_filter *given,
			struct wl_wire_record *rec)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char err[256];
	long limit;
	int status;

	if (given)
		p->f = *given;
	else if (row_filter_parse(&p->f, ri->query_string, err, sizeof(err)) < 0)
		return http_send_error(w, conn, 400, "%s", err);
	if ((status = http_query_long(w, conn, "limit", 1, EXPORT_MAX, EXPORT_MAX, &limit)) != 0)
		return status;
	pthread_mutex_lock(&w->state.lock);
	plan_export(w, p, (size_t)limit, rec);
	pthread_mutex_unlock(&w->state.lock);
	return 0;
}

static int chunk_init(struct export_chunk *c)
{
	memset(c, 0, sizeof(*c));
	c->bytes = malloc(EXPORT_CHUNK_BYTES);
	c->rows = calloc(EXPORT_CHUNK_ROWS, sizeof(*c->rows));
	return c->bytes && c->rows ? 0 : -ENOMEM;
}

static void chunk_free(struct export_chunk *c)
{
	free(c->bytes);
	free(c->rows);
}

/*
 * Copies the next matching rows of the plan's range into the chunk, under
 * the lock, for as long as they fit. Rows the ring dropped meanwhile are
 * gone (the ring is bounded); the export goes on from the oldest it has.
 * Returns false when the range is done.
 */
static bool chunk_fill(struct webd *w, const struct export_plan *p, struct export_chunk *c, struct wl_wire_record *rec)
{
	struct state *s = &w->state;

	c->used = c->n = 0;
	pthread_mutex_lock(&s->lock);
	if (s->ring_count && state_ring_at(s, s->ring_count - 1)->id > c->next_id)
		c->next_id = state_ring_at(s, s->ring_count - 1)->id;
	for (; c->next_id <= p->last_id && c->n < EXPORT_CHUNK_ROWS; c->next_id++) {
		const struct ring_entry *e = state_find_packet(s, c->next_id);

		if (!e || !row_entry_matches(s, &p->f, e) || row_decode(e, rec) < 0 ||
		    !row_matches(s, &p->f, e, &rec->pkt))
			continue;
		if (e->len > EXPORT_CHUNK_BYTES - c->used)
			break; /* next pass */
		memcpy(c->bytes + c->used, e->record, e->len);
		c->rows[c->n++] = (struct chunk_row){ .id = e->id, .off = c->used, .len = e->len, .sensor = e->sensor };
		c->used += e->len;
	}
	pthread_mutex_unlock(&s->lock);
	return c->n > 0;
}

static int decode_row(const struct export_chunk *c, size_t i, struct wl_wire_record *rec)
{
	struct ring_entry e = { .record = c->bytes + c->rows[i].off, .len = c->rows[i].len };

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

static void csv_begin(struct http_stream *out, const struct export_plan *p)
{
	http_stream_printf(out, "seq,ts,sensor,src,dst,proto,sport,dport,len,info,dns_qname\r\n");
}

static void csv_emit(struct webd *w, struct http_stream *out, const struct export_plan *p, const struct chunk_row *r,
		     const struct wl_wire_record *rec)
{
	char sensor[SENSOR_NAME_MAX];

	/* Sensor names are set at start-up and never change. */
	snprintf(sensor, sizeof(sensor), "%s", w->state.sensors[r->sensor].name);
	csv_row(out, r->id, &rec->pkt, sensor);
}

/* ---- PCAP -------------------------------------------------------------------- */

/*
 * Classic pcap, microseconds, little-endian. A file has one link type:
 * packets of another one (after a set_interface) are left out, and the
 * X-Wlite-Skipped header says how many.
 */
static void pcap_begin(struct http_stream *out, const struct export_plan *p)
{
	pcap_out_header(out, p->linktype < 0 ? 1 : p->linktype);
}

static void pcap_emit(struct webd *w, struct http_stream *out, const struct export_plan *p, const struct chunk_row *r,
		      const struct wl_wire_record *rec)
{
	if (rec->linktype == p->linktype)
		pcap_out_record(out, rec->pkt.ts_sec, rec->pkt.ts_usec, rec->pkt.len, rec->raw, rec->raw_len);
}

/* ---- Either, streamed ---------------------------------------------------------- */

struct export_kind {
	const char *type;
	char file[64];
	bool one_linktype; /* PCAP: the others are left out, and counted in X-Wlite-Skipped */
	void (*begin)(struct http_stream *out, const struct export_plan *p);
	void (*emit)(struct webd *w, struct http_stream *out, const struct export_plan *p, const struct chunk_row *r,
		     const struct wl_wire_record *rec);
};

static const struct export_kind export_csv = { "text/csv; charset=utf-8", "wlite-packets.csv", false, csv_begin, csv_emit };
static const struct export_kind export_pcap = { "application/vnd.tcpdump.pcap", "wlite-packets.pcap", true, pcap_begin,
						pcap_emit };

static void stream_rows(struct webd *w, struct mg_connection *conn, struct http_stream *out,
			const struct export_kind *k, const struct export_plan *plan, struct export_chunk *c,
			struct wl_wire_record *rec)
{
	char extra[200];
	int n = snprintf(extra, sizeof(extra), "Content-Disposition: attachment; filename=\"%s\"\r\n", k->file);

	if (k->one_linktype)
		snprintf(extra + n, sizeof(extra) - (size_t)n, "X-Wlite-Skipped: %zu\r\n", plan->other_linktypes);
	http_stream_start(out, conn, k->type, extra);
	k->begin(out, plan);
	c->next_id = plan->first_id;
	while (!out->failed && chunk_fill(w, plan, c, rec))
		for (size_t i = 0; i < c->n; i++)
			if (decode_row(c, i, rec) == 0)
				k->emit(w, out, plan, &c->rows[i], rec);
	http_stream_end(out);
}

static int export_rows(struct webd *w, struct mg_connection *conn, const struct export_kind *k,
		       const struct row_filter *given, struct wl_wire_record *rec)
{
	struct export_plan plan;
	struct export_chunk c;
	struct http_stream *out = malloc(sizeof(*out));
	int status;

	if (chunk_init(&c) < 0 || !out) {
		status = http_send_error(w, conn, 503, "out of memory");
	} else if ((status = start_export(w, conn, &plan, given, rec)) == 0) {
		stream_rows(w, conn, out, k, &plan, &c, rec);
		status = 200; /* the stream's headers */
	}
	free(out);
	chunk_free(&c);
	return status;
}

/* ---- Rates ------------------------------------------------------------------- */

static int export_rates(struct webd *w, struct mg_connection *conn)
{
	struct rate_bucket *hour = malloc(STATE_RATE_SECONDS * sizeof(*hour)); /* oldest first */
	struct http_stream *out = malloc(sizeof(*out));
	int64_t now;

	if (!hour || !out) {
		free(hour);
		free(out);
		http_send_error(w, conn, 503, "out of memory");
		return 503;
	}
	pthread_mutex_lock(&w->state.lock);
	now = state_now(&w->state, (int64_t)time(NULL));
	for (int64_t i = 0; i < STATE_RATE_SECONDS; i++) {
		const struct rate_bucket *b = state_rate_at(&w->state, now - STATE_RATE_SECONDS + 1 + i);

		hour[i] = b ? *b : (struct rate_bucket){ 0 };
	}
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

		http_stream_printf(out, "%lld,%llu,%llu\r\n", (long long)t, (unsigned long long)hour[i].packets,
				   (unsigned long long)hour[i].bytes);
	}
	http_stream_end(out);
	free(out);
	free(hour);
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
		status = export_rows(w, conn, &export_csv, NULL, rec);
	else if (strcmp(path, "/api/export.pcap") == 0)
		status = export_rows(w, conn, &export_pcap, NULL, rec);
	else if (strcmp(path, "/api/rates.csv") == 0)
		status = export_rates(w, conn);
	else {
		http_send_error(w, conn, 404, "no such endpoint");
		status = 404;
	}
	free(rec);
	return status;
}

int export_flow_pcap(struct webd *w, struct mg_connection *conn, const char *sensor, uint64_t flow_id)
{
	struct wl_wire_record *rec = malloc(sizeof(*rec));
	struct row_filter f = { .flow_id = flow_id };
	struct export_kind k = export_pcap;
	int status;

	if (!rec)
		return http_send_error(w, conn, 503, "out of memory");
	snprintf(f.sensor, sizeof(f.sensor), "%s", sensor);
	snprintf(k.file, sizeof(k.file), "wlite-flow-%llu.pcap", (unsigned long long)flow_id);
	status = export_rows(w, conn, &k, &f, rec);
	free(rec);
	return status;
}
