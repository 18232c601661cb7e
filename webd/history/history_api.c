/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The history API, under /api/history/ (behind api_handle's token and
 * method checks):
 *
 *   packets?from=&to=&ip=&proto=&q=&limit=&cursor=   summaries, oldest first
 *   dns?from=&to=&q=&limit=&cursor=                  DNS queries and answers
 *   alerts?from=&to=&limit=&cursor=                  alerts raised and cleared
 *   rates?from=&to=&step=                            packets and bytes per step seconds
 *   export.pcap?from=&to=&ip=&proto=&q=&limit=       raw bytes within the raw window
 *   flows?from=&to=&addr=&port=&proto=&app=&name=&country=&state=&min_bytes=&sensor=
 *        &sort=&order=&offset=&limit=                 flows, as /api/flows asks (history_flowquery.c)
 *
 * from and to are Unix seconds (fractions allowed), capture time, to
 * exclusive. Lists page by keyset on (ts, id): a reply with more to come
 * carries next_cursor, which the next request passes as cursor=.
 *
 * Each request opens its own read-only connection: WAL readers never wait
 * for the writer, nor it for them. SQL text is built from fixed pieces
 * only; every value is a bound parameter.
 */
#include "history/history_api.h"

#include "history/history.h"
#include "history/history_flowquery.h"
#include "history/history_flows.h"
#include "http/http.h"
#include "http/pcap_out.h"
#include "live/rows.h"
#include "text.h"
#include "webd.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT_MAX 10000
#define LIST_LIMIT_DEFAULT 100
#define EXPORT_MAX 1000000
#define RATES_MAX 100000
#define SQL_MAX 8192

/* Parameter numbers shared by the statements below. */
enum { P_FROM = 1, P_TO, P_CUR_TS, P_CUR_ID, P_LIMIT, P_IP, P_LIKE, P_STEP, P_PROTO0 = 10 };

struct hquery {
	int64_t from_us, to_us;
	int64_t cur_ts, cur_id;
	long limit;
	uint8_t ip[16];
	int ip_len; /* 0: no ip= */
	struct row_filter f; /* proto= and q= */
	char like[2 * ROW_FILTER_Q_MAX + 3];
};

/* ---- Parameters ------------------------------------------------------------------ */

/*
 * Each parser returns 0, or the status it has sent (400: a value too long
 * or malformed), which the handler returns.
 */

/* Into buf, *present saying whether it was given. */
static int get_param(struct webd *w, struct mg_connection *conn, const char *name, char *buf, size_t size,
		     bool *present)
{
	const char *q = mg_get_request_info(conn)->query_string;
	int n = q ? mg_get_var(q, strlen(q), name, buf, size) : -1;

	*present = n >= 0;
	if (n == -2)
		return http_send_error(w, conn, 400, "%s= is too long", name);
	return 0;
}

/* Unix seconds, fractions allowed, into µs; def when absent. */
static int parse_time(struct webd *w, struct mg_connection *conn, const char *name, int64_t def, int64_t *ret)
{
	char buf[40], *end;
	double v;
	bool present;
	int status = get_param(w, conn, name, buf, sizeof(buf), &present);

	if (status || !present) {
		*ret = def;
		return status;
	}
	errno = 0;
	v = strtod(buf, &end);
	if (errno || end == buf || *end || !isfinite(v) || v < 0 || v > 1e11)
		return http_send_error(w, conn, 400, "%s= must be Unix seconds, such as 1700000000 or 1700000000.5", name);
	*ret = (int64_t)llround(v * 1e6);
	return 0;
}

static int parse_range(struct webd *w, struct mg_connection *conn, struct hquery *q)
{
	int status;

	if ((status = parse_time(w, conn, "from", 0, &q->from_us)) != 0 ||
	    (status = parse_time(w, conn, "to", INT64_MAX, &q->to_us)) != 0)
		return status;
	if (q->to_us <= q->from_us)
		return http_send_error(w, conn, 400, "to= must be after from=");
	return 0;
}

/* cursor=TS_ID as given in next_cursor. */
static int parse_cursor(struct webd *w, struct mg_connection *conn, struct hquery *q)
{
	char buf[48];
	long long ts, id;
	bool present;
	int used = 0, status = get_param(w, conn, "cursor", buf, sizeof(buf), &present);

	q->cur_ts = q->cur_id = INT64_MIN;
	if (status || !present)
		return status;
	if (sscanf(buf, "%lld_%lld%n", &ts, &id, &used) != 2 || buf[used] || ts < 0 || id < 0 || buf[0] == '-')
		return http_send_error(w, conn, 400, "cursor= must be a next_cursor value from an earlier reply");
	q->cur_ts = ts;
	q->cur_id = id;
	return 0;
}

static int parse_ip(struct webd *w, struct mg_connection *conn, struct hquery *q)
{
	char buf[64];
	bool present;
	int status = get_param(w, conn, "ip", buf, sizeof(buf), &present);

	if (status || !present)
		return status;
	if (inet_pton(AF_INET, buf, q->ip) == 1)
		q->ip_len = 4;
	else if (inet_pton(AF_INET6, buf, q->ip) == 1)
		q->ip_len = 16;
	else
		return http_send_error(w, conn, 400, "ip= must be an IPv4 or IPv6 address");
	return 0;
}

/* proto= and q= as /api/packets reads them; %, _ and \ in q match themselves. */
static int parse_filter(struct webd *w, struct mg_connection *conn, struct hquery *q)
{
	char err[256];
	size_t o = 0;

	if (row_filter_parse(&q->f, mg_get_request_info(conn)->query_string, err, sizeof(err)) < 0)
		return http_send_error(w, conn, 400, "%s", err);
	if (q->f.foreign_only || q->f.after_id || q->f.n_not_protos)
		return http_send_error(w, conn, 400,
				       "foreign=, proto_not= and after_seq= are live-only; history pages with cursor=");
	q->like[o++] = '%';
	for (const char *c = q->f.q; *c; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			q->like[o++] = '\\';
		q->like[o++] = *c;
	}
	q->like[o++] = '%';
	q->like[o] = '\0';
	return 0;
}

static int parse_list(struct webd *w, struct mg_connection *conn, struct hquery *q, long limit_max, long def)
{
	int status;

	memset(q, 0, sizeof(*q));
	if ((status = parse_range(w, conn, q)) != 0 || (status = parse_cursor(w, conn, q)) != 0 ||
	    (status = parse_ip(w, conn, q)) != 0 || (status = parse_filter(w, conn, q)) != 0)
		return status;
	return http_query_long(w, conn, "limit", 1, limit_max, def, &q->limit);
}

/* ---- The read connection ------------------------------------------------------------- */

static void addr_text(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	struct wl_addr a = { 0 };
	int n = sqlite3_column_bytes(st, col);

	buf[0] = '\0';
	if (sqlite3_column_type(st, col) != SQLITE_BLOB || (n != 4 && n != 16))
		return;
	a.family = n == 4 ? 4 : 6;
	memcpy(a.b, sqlite3_column_blob(st, col), (size_t)n);
	wl_addr_str(&a, buf, size);
}

/* wl_ip(blob): the address as text, for q= */
static void sql_wl_ip(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct wl_addr a = { 0 };
	int n = sqlite3_value_bytes(argv[0]);
	char buf[64];

	if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || (n != 4 && n != 16)) {
		sqlite3_result_null(ctx);
		return;
	}
	a.family = n == 4 ? 4 : 6;
	memcpy(a.b, sqlite3_value_blob(argv[0]), (size_t)n);
	sqlite3_result_text(ctx, wl_addr_str(&a, buf, sizeof(buf)), -1, SQLITE_TRANSIENT);
}

/* wl_proto(int): the protocol's name, for q= */
static void sql_wl_proto(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	int p = sqlite3_value_int(argv[0]);

	sqlite3_result_text(ctx, wl_proto_name((enum wl_proto)(p >= 0 && p < WL_P__MAX ? p : 0)), -1, SQLITE_STATIC);
}

/* A read-only connection into *ret; returns 0, or the status it has sent. */
static int open_reader(struct webd *w, struct mg_connection *conn, sqlite3 **ret)
{
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	sqlite3 *db = NULL;
	int status;

	*ret = NULL;
	if (!w->history)
		return http_send_error(w, conn, 503, "history is off (--history)");
	if (sqlite3_open_v2(history_path(w->history), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_create_function(db, "wl_ip", 1, flags, NULL, sql_wl_ip, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db, "wl_proto", 1, flags, NULL, sql_wl_proto, NULL, NULL) != SQLITE_OK) {
		status = http_send_error(w, conn, 503, "history database unavailable: %s",
					 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return status;
	}
	sqlite3_busy_timeout(db, 2000);
	*ret = db;
	return 0;
}

/* The statement into *ret; returns 0, or the status it has sent. */
static int prepare(struct webd *w, struct mg_connection *conn, sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	*ret = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, ret, NULL) != SQLITE_OK)
		return http_send_error(w, conn, 500, "history query failed: %s", sqlite3_errmsg(db));
	return 0;
}

static void bind_query(sqlite3_stmt *st, const struct hquery *q, long limit)
{
	/* Numbers a statement does not use are simply out of its range: ignored. */
	sqlite3_bind_int64(st, P_FROM, q->from_us);
	sqlite3_bind_int64(st, P_TO, q->to_us);
	sqlite3_bind_int64(st, P_CUR_TS, q->cur_ts);
	sqlite3_bind_int64(st, P_CUR_ID, q->cur_id);
	sqlite3_bind_int64(st, P_LIMIT, limit);
	if (q->ip_len)
		sqlite3_bind_blob(st, P_IP, q->ip, q->ip_len, SQLITE_STATIC);
	sqlite3_bind_text(st, P_LIKE, q->like, -1, SQLITE_STATIC);
	for (size_t i = 0; i < q->f.n_protos; i++)
		sqlite3_bind_int(st, P_PROTO0 + (int)i, q->f.protos[i]);
}

/* ---- Packets: one ordered index scan per branch, merged ------------------------------- */

static size_t put(char *sql, size_t size, size_t used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static size_t put(char *sql, size_t size, size_t used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (used >= size)
		return size;
	va_start(ap, fmt);
	n = vsnprintf(sql + used, size - used, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size - used ? size : used + (size_t)n;
}

#define Q_TEXT_MATCH                                                                                     \
	" AND (info LIKE ?7 ESCAPE '\\' OR qname LIKE ?7 ESCAPE '\\' OR name LIKE ?7 ESCAPE '\\'"            \
	" OR wl_ip(src) LIKE ?7 ESCAPE '\\' OR wl_ip(dst) LIKE ?7 ESCAPE '\\'"                                \
	" OR wl_proto(proto) LIKE ?7 ESCAPE '\\' OR (sport || ' ' || dport) LIKE ?7 ESCAPE '\\')"

/*
 * One branch: the first `limit` rows after the cursor from one index, in
 * (ts, id) order without sorting. key is "src = ?6 AND " and the like.
 */
static size_t put_branch(char *sql, size_t size, size_t used, const struct hquery *q, const char *index,
			 const char *key, bool protos_residual, bool raw_only)
{
	used = put(sql, size, used,
		   "SELECT * FROM (SELECT id, ts FROM packets INDEXED BY %s WHERE %s ts >= ?1 AND ts < ?2"
		   " AND (ts, id) > (?3, ?4)", index, key);
	if (protos_residual && q->f.n_protos) {
		used = put(sql, size, used, " AND proto IN (");
		for (size_t i = 0; i < q->f.n_protos; i++)
			used = put(sql, size, used, "%s?%zu", i ? ", " : "", P_PROTO0 + i);
		used = put(sql, size, used, ")");
	}
	if (q->f.q[0])
		used = put(sql, size, used, "%s", Q_TEXT_MATCH);
	if (raw_only)
		used = put(sql, size, used, " AND EXISTS (SELECT 1 FROM raw WHERE raw.id = packets.id)");
	return put(sql, size, used, " ORDER BY ts, id LIMIT ?5)");
}

/*
 * The matching ids as a UNION of ordered index scans: by address (source
 * and destination), else one per protocol, else by time alone. Each branch
 * stops after `limit` rows, so a page costs about limit x branches rows
 * however many match in the range.
 */
static size_t put_ids(char *sql, size_t size, const struct hquery *q, bool raw_only)
{
	size_t used = put(sql, size, 0, "(");

	if (q->ip_len) {
		used = put_branch(sql, size, used, q, "packets_src", "src = ?6 AND", true, raw_only);
		used = put(sql, size, used, " UNION ");
		used = put_branch(sql, size, used, q, "packets_dst", "dst = ?6 AND", true, raw_only);
	} else if (q->f.n_protos) {
		for (size_t i = 0; i < q->f.n_protos; i++) {
			char key[32];

			snprintf(key, sizeof(key), "proto = ?%zu AND", P_PROTO0 + i);
			used = put(sql, size, used, "%s", i ? " UNION " : "");
			used = put_branch(sql, size, used, q, "packets_proto", key, false, raw_only);
		}
	} else {
		used = put_branch(sql, size, used, q, "packets_ts", "", false, raw_only);
	}
	return put(sql, size, used, ") AS k");
}

/* A text column, "" for NULL. */
static const char *text_at(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static cJSON *packet_json(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	char buf[64];
	int flags = sqlite3_column_int(st, 10);

	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	cJSON_AddNumberToObject(o, "ts", (double)sqlite3_column_int64(st, 1) / 1e6);
	cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 2));
	cJSON_AddStringToObject(o, "sensor", text_at(st, 3));
	addr_text(st, 4, buf, sizeof(buf));
	if (buf[0])
		cJSON_AddStringToObject(o, "src", buf);
	addr_text(st, 5, buf, sizeof(buf));
	if (buf[0])
		cJSON_AddStringToObject(o, "dst", buf);
	cJSON_AddStringToObject(o, "proto", wl_proto_name((enum wl_proto)sqlite3_column_int(st, 6)));
	if (sqlite3_column_type(st, 7) != SQLITE_NULL)
		cJSON_AddNumberToObject(o, "sport", sqlite3_column_int(st, 7));
	if (sqlite3_column_type(st, 8) != SQLITE_NULL)
		cJSON_AddNumberToObject(o, "dport", sqlite3_column_int(st, 8));
	cJSON_AddNumberToObject(o, "len", sqlite3_column_int(st, 9));
	cJSON_AddNumberToObject(o, "malformed", flags & 3);
	cJSON_AddNumberToObject(o, "tcp_flags", flags >> 2);
	for (int col = 11; col <= 13; col++) {
		static const char *const keys[] = { "info", "qname", "name" };

		if (sqlite3_column_type(st, col) != SQLITE_NULL)
			cJSON_AddStringToObject(o, keys[col - 11], (const char *)sqlite3_column_text(st, col));
	}
	return o;
}

/*
 * Runs a list statement whose first two columns are id and ts, asking for
 * limit + 1 rows: the extra one only says that there is a next page.
 */
static int send_list(struct webd *w, struct mg_connection *conn, sqlite3 *db, sqlite3_stmt *st, const char *key,
		     long limit, cJSON *(*row)(sqlite3_stmt *))
{
	cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, key);
	int64_t last_ts = 0, last_id = 0;
	long n = 0;
	int rc;
	char *text;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit) {
		cJSON_AddItemToArray(list, row(st));
		last_id = sqlite3_column_int64(st, 0);
		last_ts = sqlite3_column_int64(st, 1);
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		cJSON_Delete(root);
		http_send_error(w, conn, 500, "history query failed: %s", sqlite3_errmsg(db));
		return 500;
	}
	if (rc == SQLITE_ROW) {
		char cursor[48];

		snprintf(cursor, sizeof(cursor), "%lld_%lld", (long long)last_ts, (long long)last_id);
		cJSON_AddStringToObject(root, "next_cursor", cursor);
	} else {
		cJSON_AddNullToObject(root, "next_cursor");
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text) {
		http_send_error(w, conn, 503, "out of memory");
		return 503;
	}
	http_send_json(conn, 200, text);
	free(text);
	return 200;
}

static int api_packets(struct webd *w, struct mg_connection *conn, sqlite3 *db)
{
	struct hquery q;
	char sql[SQL_MAX];
	size_t used;
	sqlite3_stmt *st;
	int status;

	if ((status = parse_list(w, conn, &q, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT)) != 0)
		return status;
	used = put(sql, sizeof(sql), 0,
		   "SELECT p.id, p.ts, p.seq, s.name, p.src, p.dst, p.proto, p.sport, p.dport, p.len, p.flags,"
		   " p.info, p.qname, p.name FROM ");
	used += put_ids(sql + used, sizeof(sql) - used, &q, false);
	put(sql, sizeof(sql), used,
	    " CROSS JOIN packets AS p ON p.id = k.id LEFT JOIN sensors AS s ON s.id = p.sensor"
	    " ORDER BY k.ts, k.id LIMIT ?5");
	if ((status = prepare(w, conn, db, sql, &st)) != 0)
		return status;
	bind_query(st, &q, q.limit + 1);
	status = send_list(w, conn, db, st, "packets", q.limit, packet_json);
	sqlite3_finalize(st);
	return status;
}

/* ---- DNS and alerts ------------------------------------------------------------------- */


static cJSON *dns_json(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	char buf[64];

	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	cJSON_AddNumberToObject(o, "ts", (double)sqlite3_column_int64(st, 1) / 1e6);
	cJSON_AddStringToObject(o, "sensor", text_at(st, 2));
	addr_text(st, 3, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "client", buf);
	addr_text(st, 4, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "server", buf);
	cJSON_AddBoolToObject(o, "response", sqlite3_column_int(st, 5));
	cJSON_AddNumberToObject(o, "qtype", sqlite3_column_int(st, 6));
	cJSON_AddNumberToObject(o, "rcode", sqlite3_column_int(st, 7));
	cJSON_AddStringToObject(o, "qname", text_at(st, 8));
	cJSON_AddStringToObject(o, "answers", text_at(st, 9));
	return o;
}

static int api_dns(struct webd *w, struct mg_connection *conn, sqlite3 *db)
{
	struct hquery q;
	char sql[SQL_MAX];
	sqlite3_stmt *st;
	int status;

	if ((status = parse_list(w, conn, &q, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT)) != 0)
		return status;
	snprintf(sql, sizeof(sql),
		 "SELECT d.id, d.ts, s.name, d.client, d.server, d.response, d.qtype, d.rcode, d.qname, d.answers"
		 " FROM dns AS d INDEXED BY dns_ts LEFT JOIN sensors AS s ON s.id = d.sensor"
		 " WHERE d.ts >= ?1 AND d.ts < ?2 AND (d.ts, d.id) > (?3, ?4)%s%s ORDER BY d.ts, d.id LIMIT ?5",
		 q.ip_len ? " AND (d.client = ?6 OR d.server = ?6)" : "",
		 q.f.q[0] ? " AND (d.qname LIKE ?7 ESCAPE '\\' OR d.answers LIKE ?7 ESCAPE '\\')" : "");
	if ((status = prepare(w, conn, db, sql, &st)) != 0)
		return status;
	bind_query(st, &q, q.limit + 1);
	status = send_list(w, conn, db, st, "queries", q.limit, dns_json);
	sqlite3_finalize(st);
	return status;
}

static cJSON *alert_json(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	char buf[64];

	cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
	cJSON_AddNumberToObject(o, "ts", (double)sqlite3_column_int64(st, 1) / 1e6);
	cJSON_AddStringToObject(o, "event", (const char *)sqlite3_column_text(st, 2));
	cJSON_AddNumberToObject(o, "alert_id", (double)sqlite3_column_int64(st, 3));
	addr_text(st, 4, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "ip", buf);
	cJSON_AddStringToObject(o, "sensor", text_at(st, 5));
	cJSON_AddNumberToObject(o, "started", (double)sqlite3_column_int64(st, 6));
	cJSON_AddNumberToObject(o, "last", (double)sqlite3_column_int64(st, 7));
	if (sqlite3_column_type(st, 8) != SQLITE_NULL)
		cJSON_AddNumberToObject(o, "cleared", (double)sqlite3_column_int64(st, 8));
	cJSON_AddNumberToObject(o, "peak", (double)sqlite3_column_int64(st, 9));
	cJSON_AddNumberToObject(o, "packets", (double)sqlite3_column_int64(st, 10));
	cJSON_AddNumberToObject(o, "threshold", sqlite3_column_int(st, 11));
	cJSON_AddNumberToObject(o, "window", sqlite3_column_int(st, 12));
	/* Rows from before migration 5 have no kind: they were all floods. */
	cJSON_AddStringToObject(o, "kind", sqlite3_column_type(st, 13) == SQLITE_NULL ? "flood" : text_at(st, 13));
	addr_text(st, 14, buf, sizeof(buf));
	if (buf[0])
		cJSON_AddStringToObject(o, "peer", buf);
	if (sqlite3_column_type(st, 15) != SQLITE_NULL) {
		/* capd's ids use all 64 bits (stored as their int64 bits): digits, as /api/alerts gives them. */
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)sqlite3_column_int64(st, 15));
		cJSON_AddRawToObject(o, "flow_id", buf);
	}
	return o;
}

static int api_alerts(struct webd *w, struct mg_connection *conn, sqlite3 *db)
{
	struct hquery q;
	char sql[SQL_MAX];
	sqlite3_stmt *st;
	int status;

	if ((status = parse_list(w, conn, &q, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT)) != 0)
		return status;
	snprintf(sql, sizeof(sql),
		 "SELECT a.id, a.ts, a.event, a.alert_id, a.ip, s.name, a.started, a.last, a.cleared, a.peak,"
		 " a.packets, a.threshold, a.window, a.kind, a.peer, a.flow_id FROM alerts AS a INDEXED BY alerts_ts"
		 " LEFT JOIN sensors AS s ON s.id = a.sensor"
		 " WHERE a.ts >= ?1 AND a.ts < ?2 AND (a.ts, a.id) > (?3, ?4)%s ORDER BY a.ts, a.id LIMIT ?5",
		 q.ip_len ? " AND (a.ip = ?6 OR a.peer = ?6)" : "");
	if ((status = prepare(w, conn, db, sql, &st)) != 0)
		return status;
	bind_query(st, &q, q.limit + 1);
	status = send_list(w, conn, db, st, "alerts", q.limit, alert_json);
	sqlite3_finalize(st);
	return status;
}

/* ---- Rates ------------------------------------------------------------------------------ */

static int api_rates(struct webd *w, struct mg_connection *conn, sqlite3 *db)
{
	struct hquery q = { 0 };
	sqlite3_stmt *st;
	cJSON *root, *list;
	long step;
	int rc, status;
	char *text;

	if ((status = parse_range(w, conn, &q)) != 0 ||
	    (status = http_query_long(w, conn, "step", 1, 86400, 60, &step)) != 0 ||
	    (status = prepare(w, conn, db,
			      "SELECT ?1 + ((second - ?1) / ?8) * ?8 AS t, sum(packets), sum(bytes) FROM rates"
			      " WHERE second >= ?1 AND second < ?2 GROUP BY t ORDER BY t LIMIT ?5",
			      &st)) != 0)
		return status;
	q.from_us /= 1000000; /* rates are per second */
	q.to_us = q.to_us == INT64_MAX ? INT64_MAX : (q.to_us + 999999) / 1000000;
	bind_query(st, &q, RATES_MAX);
	sqlite3_bind_int64(st, P_STEP, step);
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "step", (double)step);
	list = cJSON_AddArrayToObject(root, "rates");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		double packets = (double)sqlite3_column_int64(st, 1), bytes = (double)sqlite3_column_int64(st, 2);

		cJSON_AddNumberToObject(o, "t", (double)sqlite3_column_int64(st, 0));
		cJSON_AddNumberToObject(o, "packets", packets);
		cJSON_AddNumberToObject(o, "bytes", bytes);
		cJSON_AddNumberToObject(o, "pps", packets / (double)step);
		cJSON_AddNumberToObject(o, "bps", bytes * 8 / (double)step);
		cJSON_AddItemToArray(list, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(root);
		return http_send_error(w, conn, 500, "history query failed: %s", sqlite3_errmsg(db));
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	status = http_send_json(conn, text ? 200 : 503, text ? text : "{\"error\":\"out of memory\"}");
	free(text);
	return status;
}

/* ---- PCAP export ------------------------------------------------------------------------ */

static void write_pcap_record(struct http_stream *out, sqlite3_stmt *st)
{
	int64_t ts = sqlite3_column_int64(st, 0);

	pcap_out_record(out, ts / 1000000, (uint32_t)(ts % 1000000), (uint32_t)sqlite3_column_int64(st, 1),
			sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3));
}

/*
 * Classic pcap, microseconds, little-endian, streamed as the rows come. A
 * file has one link type: the first packet's; others are left out.
 */
static int api_export_pcap(struct webd *w, struct mg_connection *conn, sqlite3 *db)
{
	struct http_stream *out;
	struct hquery q;
	char sql[SQL_MAX];
	size_t used;
	sqlite3_stmt *st;
	int rc, linktype, status;

	if ((status = parse_list(w, conn, &q, EXPORT_MAX, EXPORT_MAX)) != 0)
		return status;
	used = put(sql, sizeof(sql), 0, "SELECT p.ts, p.len, r.linktype, r.data FROM ");
	used += put_ids(sql + used, sizeof(sql) - used, &q, true);
	put(sql, sizeof(sql), used,
	    " CROSS JOIN packets AS p ON p.id = k.id CROSS JOIN raw AS r ON r.id = k.id ORDER BY k.ts, k.id LIMIT ?5");
	if ((status = prepare(w, conn, db, sql, &st)) != 0)
		return status;
	bind_query(st, &q, q.limit);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		http_send_error(w, conn, 500, "history query failed: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return 500;
	}
	linktype = rc == SQLITE_ROW ? sqlite3_column_int(st, 2) : 1;
	out = malloc(sizeof(*out));
	if (!out) {
		sqlite3_finalize(st);
		http_send_error(w, conn, 503, "out of memory");
		return 503;
	}
	http_stream_start(out, conn, "application/vnd.tcpdump.pcap",
			  "Content-Disposition: attachment; filename=\"wlite-history.pcap\"\r\n");
	pcap_out_header(out, linktype);
	for (; rc == SQLITE_ROW; rc = sqlite3_step(st))
		if (sqlite3_column_int(st, 2) == linktype)
			write_pcap_record(out, st);
	http_stream_end(out);
	free(out);
	sqlite3_finalize(st);
	return 200;
}

/* ---- Flows ----------------------------------------------------------------------------------- */

struct flows_out {
	struct text text;
	char *buf;
	size_t n;
};

static void flow_row(sqlite3_stmt *st, void *ctx)
{
	struct flows_out *o = ctx;
	long len = history_flows_json(st, 0, text_at(st, HF__N), o->buf, HIST_FLOW_JSON_MAX);

	if (len < 0) {
		o->text.failed = true;
		return;
	}
	text_addf(&o->text, "%s%.*s", o->n++ ? "," : "", (int)len, o->buf);
}

/* As /api/flows answers, with total_exact (history_flowquery.h) and the plan used. */
static int api_flows(struct webd *w, struct mg_connection *conn, sqlite3 *db)
{
	struct flows_out o = { .buf = malloc(HIST_FLOW_JSON_MAX) };
	struct hfq_result r;
	struct flow_query q;
	char err[256];
	int rc, status = 200;

	if (flow_query_parse(&q, mg_get_request_info(conn)->query_string, history_flowquery_sensor, db, err,
			     sizeof(err)) < 0) {
		free(o.buf);
		return http_send_error(w, conn, 400, "%s", err);
	}
	text_add(&o.text, "{\"flows\":[", 10);
	rc = o.buf ? history_flowquery_run(db, &q, NULL, flow_row, &o, &r) : SQLITE_NOMEM;
	text_addf(&o.text, "],\"total\":%zu,\"total_exact\":%s,\"offset\":%zu,\"limit\":%zu,\"sort\":\"%s\","
			   "\"order\":\"%s\",\"plan\":\"%s\"}",
		  r.total, r.total_exact ? "true" : "false", q.offset, q.limit, flow_sort_name(q.sort),
		  q.ascending ? "asc" : "desc", r.plan);
	if (rc != SQLITE_OK)
		status = http_send_error(w, conn, 500, "history query failed: %s", sqlite3_errmsg(db));
	else if (o.text.failed)
		status = http_send_error(w, conn, 503, "out of memory");
	else
		http_send(conn, 200, "application/json", o.text.buf, o.text.len);
	text_free(&o.text);
	free(o.buf);
	return status;
}

/* ---- One flow's packets ------------------------------------------------------------------------ */

#define FLOW_PACKETS_WHERE                                                                          \
	" FROM packets AS p INDEXED BY packets_flow %s JOIN raw AS r ON r.id = p.id WHERE p.flow_id = ?1" \
	" AND p.ts >= ?2 AND p.ts <= ?3 AND p.sensor = (SELECT id FROM sensors WHERE name = ?4)"

static void bind_flow(sqlite3_stmt *st, const char *sensor, uint64_t flow_id, int64_t first_us, int64_t last_us)
{
	sqlite3_bind_int64(st, 1, (int64_t)flow_id);
	sqlite3_bind_int64(st, 2, first_us);
	sqlite3_bind_int64(st, 3, last_us);
	sqlite3_bind_text(st, 4, sensor, -1, SQLITE_STATIC);
}

/*
 * The flow's time span from the flows table: its latest row (ids start over
 * when capd restarts); one still going has packets after its last report.
 */
static int find_span(sqlite3 *db, const char *sensor, uint64_t flow_id, int64_t *first_us, int64_t *last_us)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT first, last, ended FROM flows INDEXED BY flows_key WHERE sensor = (SELECT id FROM"
				    " sensors WHERE name = ?1) AND flow_id = ?2 ORDER BY first DESC LIMIT 1",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, sensor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)flow_id);
	rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -ENOENT;
	if (rc == 0) {
		*first_us = sqlite3_column_int64(st, 0);
		*last_us = sqlite3_column_int(st, 2) ? sqlite3_column_int64(st, 1) : INT64_MAX;
	}
	sqlite3_finalize(st);
	return rc;
}

/* How many of the flow's stored packets there are, and how many still have their raw bytes. */
static int count_flow_packets(sqlite3 *db, const char *sensor, uint64_t flow_id, int64_t first_us, int64_t last_us,
			      int64_t *stored, int64_t *raw)
{
	char sql[512];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT count(*), count(r.id)" FLOW_PACKETS_WHERE, "LEFT");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_flow(st, sensor, flow_id, first_us, last_us);
	rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -EIO;
	*stored = sqlite3_column_int64(st, 0);
	*raw = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return rc;
}

static void stream_flow_pcap(struct mg_connection *conn, sqlite3_stmt *st, uint64_t flow_id, int64_t stored,
			     int64_t raw)
{
	struct http_stream *out = malloc(sizeof(*out));
	char extra[256];
	int rc = sqlite3_step(st), linktype = rc == SQLITE_ROW ? sqlite3_column_int(st, 2) : 1;

	if (!out)
		return;
	snprintf(extra, sizeof(extra),
		 "Content-Disposition: attachment; filename=\"wlite-flow-%llu.pcap\"\r\n"
		 "X-Wlite-Source: history\r\nX-Wlite-Packets: %lld\r\nX-Wlite-Missing: %lld\r\n",
		 (unsigned long long)flow_id, (long long)raw, (long long)(stored - raw));
	http_stream_start(out, conn, "application/vnd.tcpdump.pcap", extra);
	pcap_out_header(out, linktype);
	for (; rc == SQLITE_ROW && !out->failed; rc = sqlite3_step(st))
		if (sqlite3_column_int(st, 2) == linktype)
			write_pcap_record(out, st);
	http_stream_end(out);
	free(out);
}

int history_api_flow_pcap(struct webd *w, struct mg_connection *conn, const char *sensor, uint64_t flow_id,
			  int64_t first_us, int64_t last_us)
{
	char sql[512];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t stored = 0, raw = 0;
	int r = -ENOENT;

	if (!w->history ||
	    sqlite3_open_v2(history_path(w->history), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 2000);
	if (first_us < 0 && (r = find_span(db, sensor, flow_id, &first_us, &last_us)) < 0)
		goto out;
	if ((r = count_flow_packets(db, sensor, flow_id, first_us, last_us, &stored, &raw)) < 0 || raw == 0) {
		r = r < 0 ? r : -ENOENT;
		goto out;
	}
	snprintf(sql, sizeof(sql), "SELECT p.ts, p.len, r.linktype, r.data" FLOW_PACKETS_WHERE " ORDER BY p.ts, p.id",
		 "CROSS");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		r = -EIO;
		goto out;
	}
	bind_flow(st, sensor, flow_id, first_us, last_us);
	stream_flow_pcap(conn, st, flow_id, stored, raw);
	r = 200;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

/* ---- Routing and stats --------------------------------------------------------------------- */

int history_api_handle(struct webd *w, struct mg_connection *conn, const char *path)
{
	static const struct {
		const char *name;
		int (*fn)(struct webd *, struct mg_connection *, sqlite3 *);
	} routes[] = {
		{ "packets", api_packets }, { "dns", api_dns },	    { "alerts", api_alerts },
		{ "rates", api_rates },	    { "export.pcap", api_export_pcap }, { "flows", api_flows },
	};
	const char *name = path + strlen("/api/history/");

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		sqlite3 *db;
		int status;

		if (strcmp(name, routes[i].name) != 0)
			continue;
		if ((status = open_reader(w, conn, &db)) != 0)
			return status;
		status = routes[i].fn(w, conn, db);
		sqlite3_close(db);
		return status;
	}
	http_send_error(w, conn, 404, "no such endpoint");
	return 404;
}

cJSON *history_api_stats_json(struct history *h)
{
	struct history_stats s;
	cJSON *o = cJSON_CreateObject();

	history_get_stats(h, &s);
	cJSON_AddBoolToObject(o, "enabled", s.enabled);
	if (!s.enabled)
		return o;
	cJSON_AddStringToObject(o, "path", history_path(h));
	cJSON_AddBoolToObject(o, "paused", s.paused);
	if (s.paused)
		cJSON_AddStringToObject(o, "reason", s.pause_reason);
	cJSON_AddNumberToObject(o, "stored", (double)s.stored);
	cJSON_AddNumberToObject(o, "stored_dns", (double)s.stored_dns);
	cJSON_AddNumberToObject(o, "stored_alerts", (double)s.stored_alerts);
	cJSON_AddNumberToObject(o, "stored_rates", (double)s.stored_rates);
	cJSON_AddNumberToObject(o, "stored_flows", (double)s.stored_flows);
	cJSON_AddNumberToObject(o, "not_stored", (double)s.dropped);
	cJSON_AddNumberToObject(o, "not_stored_other", (double)s.dropped_other);
	cJSON_AddNumberToObject(o, "raw_not_stored", (double)s.raw_dropped);
	cJSON_AddNumberToObject(o, "flows_not_stored", (double)s.dropped_flows);
	cJSON_AddNumberToObject(o, "queued", (double)s.queued);
	cJSON_AddNumberToObject(o, "pruned", (double)s.pruned);
	cJSON_AddNumberToObject(o, "pruned_raw", (double)s.pruned_raw);
	cJSON_AddNumberToObject(o, "db_bytes", (double)s.db_bytes);
	cJSON_AddNumberToObject(o, "last_commit_ms", s.last_commit_ms);
	cJSON_AddNumberToObject(o, "write_seconds", s.write_seconds);
	cJSON_AddNumberToObject(o, "cpu_seconds", s.cpu_seconds);
	cJSON_AddNumberToObject(o, "insert_rate", s.write_seconds > 0 ? (double)s.stored / s.write_seconds : 0);
	return o;
}
