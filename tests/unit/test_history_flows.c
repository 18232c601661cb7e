/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webd/history: the flows table and /api/history/flows' SQL.
 *
 * history_db.c (schema, migrations, the upsert), history_flows.c (a row and
 * a report, the JSON) and history_flowquery.c (the filters, sorts, pages
 * and plans as SQL) on a real SQLite file, checked against webd's live
 * flow table and its matcher (live/flows.c, live/flowquery.c): the same
 * reports, the same questions, the same answers. Also: a database of
 * schema 1 (packets without flow ids) migrated in place, and walks that
 * read their index in order (no sorting step in their plan).
 */
#include "history/history_db.h"
#include "history/history_flowquery.h"
#include "history/history_flows.h"
#include "live/flowquery.h"
#include "live/flows.h"
#include "flow-json.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N_FLOWS 40000
/* Limits far below the defaults: 40,000 flows take every plan. */
static const struct hfq_limits limits = { .count_cap = 3000, .small = 500, .walk_budget = 2000 };
#define T0 1700000000000000LL

static char dir[] = "/tmp/wlite-test-history-XXXXXX";
static char path[256];

static void open_db(struct hdb *d, const char *file)
{
	static const char *const names[] = { "s1", "s2" };
	struct history_config cfg;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.n_sensors = 2;
	cfg.sensor_names[0] = names[0];
	cfg.sensor_names[1] = names[1];
	if (history_db_open(d, file, true, &cfg, err, sizeof(err)) != SQLITE_OK)
		fail_msg("history_db_open: %s", err);
}

/* What history_add_flow queues: the record up to its name, the name, the hosts' JSON. */
static int queue_flow(struct hdb *d, const struct wl_flow_record *r, uint8_t sensor, const char *cc_a,
		      const char *cc_b, const char *hosts)
{
	uint8_t var[HIST_FLOW_FIXED + 2 * WL_NAME_MAX + HIST_FLOW_HOSTS_MAX];
	struct hist_flow f;
	size_t name_len = strlen(r->name), hosts_len = strlen(hosts);

	memset(&f, 0, sizeof(f));
	memcpy(&f.rec, r, offsetof(struct wl_flow_record, name));
	f.sensor = sensor;
	f.heard_us = r->last_us + 5;
	snprintf(f.country[0], sizeof(f.country[0]), "%s", cc_a);
	snprintf(f.country[1], sizeof(f.country[1]), "%s", cc_b);
	f.name_len = (uint16_t)name_len;
	f.hosts_len = (uint16_t)hosts_len;
	memcpy(var, &f, HIST_FLOW_FIXED);
	memcpy(var + HIST_FLOW_FIXED, r->name, name_len);
	memcpy(var + HIST_FLOW_FIXED + name_len, hosts, hosts_len);
	return history_db_upsert_flow(d, var);
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* ---- A database as webd's schema 1 left it, migrated ----------------------------------------- */

static const char schema_1[] =
	"CREATE TABLE sensors(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE packets(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" sensor INTEGER NOT NULL, src BLOB, dst BLOB, proto INTEGER NOT NULL, sport INTEGER, dport INTEGER,"
	" len INTEGER NOT NULL, flags INTEGER NOT NULL, info TEXT, qname TEXT, name TEXT);"
	"CREATE INDEX packets_ts ON packets(ts);"
	"CREATE INDEX packets_src ON packets(src, ts);"
	"CREATE INDEX packets_dst ON packets(dst, ts);"
	"CREATE INDEX packets_proto ON packets(proto, ts);"
	"CREATE TABLE raw(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, linktype INTEGER NOT NULL,"
	" data BLOB NOT NULL);"
	"CREATE TABLE dns(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, sensor INTEGER NOT NULL,"
	" client BLOB, server BLOB, response INTEGER NOT NULL, qtype INTEGER, rcode INTEGER,"
	" qname TEXT, answers TEXT);"
	"CREATE INDEX dns_ts ON dns(ts);"
	"CREATE TABLE alerts(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, event TEXT NOT NULL,"
	" alert_id INTEGER NOT NULL, ip BLOB, sensor INTEGER, started INTEGER, last INTEGER,"
	" cleared INTEGER, peak INTEGER, packets INTEGER, threshold INTEGER, window INTEGER);"
	"CREATE INDEX alerts_ts ON alerts(ts);"
	"CREATE TABLE rates(second INTEGER PRIMARY KEY, packets INTEGER NOT NULL, bytes INTEGER NOT NULL);"
	"CREATE TRIGGER packets_gone AFTER DELETE ON packets BEGIN"
	" DELETE FROM raw WHERE id = old.id; DELETE FROM dns WHERE id = old.id; END;"
	"INSERT INTO sensors(name) VALUES('s1');"
	"INSERT INTO packets VALUES(1, 1700000000000000, 1, 1, x'0a000001', x'0a000002', 6, 1, 2, 60, 0,"
	" 'old', NULL, NULL);"
	"INSERT INTO raw VALUES(1, 1700000000000000, 1, x'00');"
	"INSERT INTO alerts VALUES(1, 1700000000000000, 'raised', 9, x'0a000001', 1, 1700000000, 1700000000,"
	" NULL, 500, 500, 200, 10);"
	"PRAGMA user_version = 1;";

static void test_migration_from_schema_1(void **state)
{
	char file[300], err[64] = "";
	struct hist_pkt p;
	struct hdb d;
	sqlite3 *db;

	(void)state;
	snprintf(file, sizeof(file), "%s/v1.db", dir);
	assert_int_equal(sqlite3_open(file, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema_1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	open_db(&d, file);
	assert_int_equal(query_int(d.db, "PRAGMA user_version"), 5);
	/* The old packet is kept, with no flow; the new column and its index are there. */
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM packets WHERE id = 1 AND info = 'old' AND flow_id IS NULL"), 1);
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM pragma_index_list('packets') WHERE name = 'packets_flow'"), 1);
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM flows"), 0);
	/* A new packet carries its flow id; ids go on after the old ones. */
	memset(&p, 0, sizeof(p));
	p.ts_us = T0 + 5;
	p.flow_id = 77;
	p.info_len = 0;
	assert_int_equal(history_db_insert_packet(&d, &p, (const uint8_t *)err), SQLITE_OK);
	assert_int_equal(query_int(d.db, "SELECT id FROM packets WHERE flow_id = 77"), 2);
	/* The old (flood) alert is kept without a kind; a new one stores its kind, peer and flow. */
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM alerts WHERE alert_id = 9 AND kind IS NULL"), 1);
	{
		struct alert a = { .id = 10, .kind = ALERT_RETRANSMISSIONS, .started = 1700000100, .last = 1700000100,
				   .addr = { .family = 4, .b = { 10, 0, 0, 1 } }, .peer = { .family = 4, .b = { 10, 0, 0, 2 } },
				   .flow_id = UINT64_MAX - 1, .threshold = 10, .window_s = 10 };

		assert_int_equal(history_db_insert_alert(&d, &a), SQLITE_OK);
	}
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM alerts WHERE alert_id = 10 AND kind = 'retransmissions'"
				       " AND peer = x'0a000002' AND flow_id = -2"), 1);
	history_db_close(&d);

	/* Opened again: nothing to migrate, nothing lost. */
	open_db(&d, file);
	assert_int_equal(query_int(d.db, "PRAGMA user_version"), 5);
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM packets"), 2);
	history_db_close(&d);
}

/* ---- Reports: one row per flow, updated in place ----------------------------------------------- */

static void tcp_record(struct wl_flow_record *r, uint64_t id, int64_t first, int64_t last, uint64_t bytes, uint8_t end)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->first_us = first;
	r->last_us = last;
	r->end = end;
	r->l3 = WL_L3_IPV4;
	r->ipproto = 6;
	r->flags = WL_FLOW_PORTS | WL_FLOW_TCP;
	r->addr[0] = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, 1 } };
	r->addr[1] = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, 2 } };
	r->port[0] = 40000;
	r->port[1] = 443;
	r->packets[0] = r->packets[1] = bytes / 100;
	r->bytes[0] = bytes / 2;
	r->bytes[1] = bytes - bytes / 2;
	r->tcp.rtt_us = UINT32_MAX;
}

static void test_upsert(void **state)
{
	struct wl_flow_record r;
	char file[300];
	struct hdb d;

	(void)state;
	snprintf(file, sizeof(file), "%s/upsert.db", dir);
	open_db(&d, file);
	tcp_record(&r, 9, T0, T0 + 60000000, 1000, WL_FLOW_ACTIVE);
	assert_int_equal(queue_flow(&d, &r, 0, "", "", ""), SQLITE_OK);
	tcp_record(&r, 9, T0, T0 + 120000000, 5000, WL_FLOW_ACTIVE);
	assert_int_equal(queue_flow(&d, &r, 0, "", "", ""), SQLITE_OK);
	tcp_record(&r, 9, T0, T0 + 130000000, 6000, WL_FLOW_FIN);
	assert_int_equal(queue_flow(&d, &r, 0, "", "", ""), SQLITE_OK);
	/* One row, the final counters. */
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM flows"), 1);
	assert_int_equal(query_int(d.db, "SELECT bytes FROM flows"), 6000);
	assert_int_equal(query_int(d.db, "SELECT ended FROM flows"), 1);
	/* A late active report, crossing the end on the wire, changes nothing. */
	tcp_record(&r, 9, T0, T0 + 130000000, 5900, WL_FLOW_ACTIVE);
	assert_int_equal(queue_flow(&d, &r, 0, "", "", ""), SQLITE_OK);
	assert_int_equal(query_int(d.db, "SELECT bytes FROM flows"), 6000);
	assert_int_equal(query_int(d.db, "SELECT ended FROM flows"), 1);
	/* The same id with another start (capd restarted) and the other sensor: rows of their own. */
	tcp_record(&r, 9, T0 + 500000000, T0 + 500000000, 100, WL_FLOW_IDLE);
	assert_int_equal(queue_flow(&d, &r, 0, "", "", ""), SQLITE_OK);
	tcp_record(&r, 9, T0, T0 + 10, 100, WL_FLOW_IDLE);
	assert_int_equal(queue_flow(&d, &r, 1, "", "", ""), SQLITE_OK);
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM flows"), 3);
	assert_int_equal(query_int(d.db, "SELECT count(DISTINCT sensor) FROM flows"), 2);
	history_db_close(&d);
}

/* Names are stored once, and go when no flow refers to them any more. */
static void test_names(void **state)
{
	struct wl_flow_record r;
	char file[300];
	uint64_t n;
	struct hdb d;

	(void)state;
	snprintf(file, sizeof(file), "%s/names.db", dir);
	open_db(&d, file);
	for (unsigned i = 1; i <= 12000; i++) {
		tcp_record(&r, i, T0 + i, T0 + i, 100, WL_FLOW_IDLE);
		snprintf(r.name, sizeof(r.name), "host%u.example", i % 7000);
		assert_int_equal(queue_flow(&d, &r, 0, "", "", ""), SQLITE_OK);
	}
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM names"), 7000);
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM flows JOIN names ON names.id = flows.name_id"
				       " WHERE names.name = flows.name"), 12000);
	/* The first 9000 flows go: only the names of flows 9001 to 12000 (2001 to 5000) stay. */
	assert_int_equal(history_db_exec(&d, "DELETE FROM flows WHERE flow_id <= 9000"), SQLITE_OK);
	for (int step = 0; step < 3; step++)
		assert_int_equal(history_db_prune_names(&d, &n), SQLITE_OK);
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM names"), 3000);
	assert_int_equal(query_int(d.db, "SELECT count(*) FROM names WHERE NOT EXISTS (SELECT 1 FROM flows"
				       " WHERE name_id = names.id)"), 0);
	history_db_close(&d);
}

/* ---- A row back as JSON: every field of the report ------------------------------------------- */

/* The row of flow id as JSON, from its record column or (rows of schema 2) its other columns. */
static long row_json(struct hdb *d, uint64_t id, char *got, size_t size)
{
	char cols[2048], sql[2300];
	sqlite3_stmt *st;
	long m;

	history_flows_columns(cols, sizeof(cols), "");
	snprintf(sql, sizeof(sql), "SELECT %s FROM flows WHERE flow_id = %llu", cols, (unsigned long long)id);
	assert_int_equal(sqlite3_prepare_v2(d->db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	m = history_flows_json(st, 0, "s1", got, size);
	sqlite3_finalize(st);
	return m;
}

static void json_round_trip(struct hdb *d, const struct wl_flow_record *r, const char *hosts)
{
	char want[WL_JSON_FLOW_MAX], got[HIST_FLOW_JSON_MAX], again[HIST_FLOW_JSON_MAX], sql[100];
	long n = wl_json_flow(r, "s1", want, sizeof(want)), m;

	assert_true(n > 2);
	assert_int_equal(queue_flow(d, r, 0, "", "", hosts), SQLITE_OK);
	m = row_json(d, r->id, got, sizeof(got));
	assert_true(m > n);
	/* The v1 object, key for key as capd wrote it, then webd's additions and the hosts. */
	assert_memory_equal(got, want, (size_t)n - 2);
	assert_non_null(strstr(got + n - 2, ",\"active\":"));
	assert_non_null(strstr(got + n - 2, ",\"duration\":"));
	assert_non_null(strstr(got + n - 2, ",\"rate_bps\":"));
	assert_non_null(strstr(got + n - 2, ",\"heard\":"));
	if (hosts[0])
		assert_non_null(strstr(got, hosts));
	assert_int_equal(got[m - 1], '}');
	/* A row written before the record column: the same object from the other columns. */
	snprintf(sql, sizeof(sql), "UPDATE flows SET record = NULL WHERE flow_id = %llu", (unsigned long long)r->id);
	assert_int_equal(history_db_exec(d, sql), SQLITE_OK);
	assert_int_equal(row_json(d, r->id, again, sizeof(again)), m);
	assert_string_equal(again, got);
}

static void test_json(void **state)
{
	struct wl_flow_record r;
	char file[300];
	struct hdb d;

	(void)state;
	snprintf(file, sizeof(file), "%s/json.db", dir);
	open_db(&d, file);
	/* TCP with every counter, VLANs, a tunnel, an IPv6 pair. */
	tcp_record(&r, 1, T0, T0 + 2500123, 777777, WL_FLOW_RST);
	r.l3 = WL_L3_IPV6;
	r.addr[0] = (struct wl_addr){ .family = 6, .b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	r.addr[1] = (struct wl_addr){ .family = 6, .b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };
	r.flags |= WL_FLOW_OUTER;
	r.outer[0] = (struct wl_addr){ .family = 4, .b = { 192, 0, 2, 1 } };
	r.outer[1] = (struct wl_addr){ .family = 4, .b = { 192, 0, 2, 2 } };
	r.n_vlan = 2;
	r.vlan[0] = 100;
	r.vlan[1] = 4000;
	r.app = WL_P_TLS;
	snprintf(r.name, sizeof(r.name), "a \"quoted\" \\ name\x01");
	r.tcp = (struct wl_flow_tcp){ .state = WL_TCP_RESET, .flags = { 0x12, 0x1f }, .rtt_us = 12345,
		.retransmissions = { 1, 2 }, .out_of_order = { 3, 4 }, .dup_acks = { 5, 6 },
		.zero_windows = { 7, 8 }, .resets = 9 };
	json_round_trip(&d, &r, ",\"a_country\":\"DE\",\"a_scope\":\"public\"");
	/* ICMP echo, active. */
	memset(&r, 0, sizeof(r));
	r.id = 2;
	r.first_us = r.last_us = T0;
	r.l3 = WL_L3_IPV4;
	r.ipproto = 1;
	r.flags = WL_FLOW_ICMP | WL_FLOW_ECHO;
	r.addr[0] = (struct wl_addr){ .family = 4, .b = { 10, 1, 1, 1 } };
	r.addr[1] = (struct wl_addr){ .family = 4, .b = { 10, 1, 1, 2 } };
	r.icmp_type = 8;
	r.icmp_id = 4242;
	r.packets[0] = 1;
	r.bytes[0] = 98;
	json_round_trip(&d, &r, "");
	/* A non-IP flow: a MAC pair and an ethertype. */
	memset(&r, 0, sizeof(r));
	r.id = 3;
	r.first_us = T0;
	r.last_us = T0 + 1;
	r.l3 = 4;
	r.ethertype = 0x88cc;
	memcpy(r.mac[0], "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(r.mac[1], "\x01\x80\xc2\x00\x00\x0e", 6);
	r.packets[0] = 2;
	r.bytes[0] = 120;
	r.end = WL_FLOW_IDLE;
	json_round_trip(&d, &r, "");
	history_db_close(&d);
}

/* ---- The same questions of the live table and of the history ------------------------------------ */

static struct live_flows live;
static struct hdb hist;

static const char *const names[] = {
	"www.example.org", "Mail.Example.COM", "api.example.net", "100%_sure.test", "cdn_1.example.org",
	"back\\slash.test", "update.vendor.io",
};

/* Countries by address, for both sides: what a geolocation database would say. */
static void country_of(const struct wl_addr *a, char cc[3])
{
	static const char *const ccs[] = { "", "US", "DE", "FR", "JP", "US", "NL" };

	snprintf(cc, 3, "%s", a->family == 4 && a->b[0] == 10 ? "" : ccs[a->b[3] % 7]);
}

static void join_country(void *ctx, const struct wl_addr *a, char cc[3])
{
	(void)ctx;
	country_of(a, cc);
}

/*
 * Flow i: sort values that are all distinct (so that both orders must
 * agree exactly), UDP flows all at the small end of packets and bytes
 * (a walk by packets for UDP runs out of budget), some flows active.
 */
static void make_flow(struct wl_flow_record *r, unsigned i, unsigned rnd)
{
	unsigned kind = rnd % 100;
	uint64_t scale;

	memset(r, 0, sizeof(*r));
	r->id = i + 1;
	r->first_us = T0 + (int64_t)i * 1000;
	r->last_us = r->first_us + (int64_t)i * 13 + rnd % 13;
	r->end = rnd % 20 == 7 ? WL_FLOW_ACTIVE : (enum wl_flow_end)(1 + rnd % 5);
	r->l3 = kind < 10 ? WL_L3_IPV6 : WL_L3_IPV4;
	r->addr[0] = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, (uint8_t)(rnd % 50) } };
	r->addr[1] = (struct wl_addr){ .family = 4, .b = { 198, 51, (uint8_t)(rnd >> 8), (uint8_t)(rnd >> 16) } };
	if (r->l3 == WL_L3_IPV6) {
		r->addr[0] = (struct wl_addr){ .family = 6, .b = { 0xfd, [14] = (uint8_t)(rnd % 7), [15] = 1 } };
		r->addr[1] = (struct wl_addr){ .family = 6, .b = { 0x20, 0x01, [14] = (uint8_t)(rnd >> 9), [15] = 2 } };
	}
	if (kind < 2) { /* non-IP */
		r->l3 = 4;
		r->ethertype = 0x88cc;
		memset(r->addr, 0, sizeof(r->addr));
		memcpy(r->mac[0], "\x02\x00\x00\x00\x00\x01", 6);
		memcpy(r->mac[1], "\x01\x80\xc2\x00\x00\x0e", 6);
	} else if (kind < 62) {
		r->ipproto = 6;
		r->flags = WL_FLOW_PORTS | WL_FLOW_TCP;
		r->port[0] = (uint16_t)(1024 + rnd % 60000);
		r->port[1] = (uint16_t[]){ 443, 443, 80, 22 }[rnd % 4];
		r->tcp.state = (uint8_t)(rnd % WL_TCP_STATE__MAX);
		r->tcp.rtt_us = rnd % 5 ? 1000 + i : UINT32_MAX;
		r->tcp.retransmissions[0] = i / 2;
		r->tcp.retransmissions[1] = i - i / 2;
		r->app = r->port[1] == 443 ? WL_P_TLS : r->port[1] == 80 ? WL_P_HTTP : WL_P_SSH;
	} else if (kind < 82) {
		r->ipproto = 17;
		r->flags = WL_FLOW_PORTS;
		/* Both ends on 53 sometimes: a flow that matches port=53 at both ends. */
		r->port[0] = rnd % 3 ? (uint16_t)(1024 + rnd % 60000) : 53;
		r->port[1] = (uint16_t[]){ 53, 53, 123, 5353 }[rnd % 4];
		r->app = r->port[1] == 53 ? WL_P_DNS : 0;
	} else {
		r->ipproto = r->l3 == WL_L3_IPV6 ? 58 : 1;
		r->flags = WL_FLOW_ICMP | WL_FLOW_ECHO;
		r->icmp_type = 8;
		r->icmp_id = (uint16_t)rnd;
	}
	scale = r->ipproto == 17 ? rnd % 10 : 10 + rnd % 1000;
	r->packets[0] = scale * 100000 + i;
	r->packets[1] = scale;
	r->bytes[0] = scale * 10000000 + i;
	r->bytes[1] = scale * 100;
	if (rnd % 10 < 6 && r->l3 != 4)
		snprintf(r->name, sizeof(r->name), "%s", names[rnd % 7]);
}

static int setup_tables(void)
{
	unsigned seed = 12345;
	char file[300];

	assert_int_equal(flows_init(&live, N_FLOWS + 16), 0);
	snprintf(file, sizeof(file), "%s/query.db", dir);
	open_db(&hist, file);
	assert_int_equal(history_db_exec(&hist, "BEGIN"), SQLITE_OK);
	for (unsigned i = 0; i < N_FLOWS; i++) {
		struct wl_flow_record r;
		char cc[2][3];
		uint8_t sensor;

		seed = seed * 1103515245u + 12345u;
		make_flow(&r, i, seed >> 4);
		sensor = i % 9 == 0;
		country_of(&r.addr[0], cc[0]);
		country_of(&r.addr[1], cc[1]);
		if (r.l3 == 4)
			cc[0][0] = cc[1][0] = '\0';
		flows_report(&live, sensor, &r, 0);
		assert_int_equal(queue_flow(&hist, &r, sensor, cc[0], cc[1], ""), SQLITE_OK);
	}
	assert_int_equal(history_db_exec(&hist, "COMMIT"), SQLITE_OK);
	return 0;
}

static void teardown_tables(void)
{
	flows_free(&live);
	history_db_close(&hist);
}

static int live_sensor(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "s1") == 0 ? 0 : strcmp(name, "s2") == 0 ? 1 : -1;
}

struct page {
	uint64_t key[1000]; /* (sensor << 40) | flow id */
	size_t n;
};

static void hist_row(sqlite3_stmt *st, void *ctx)
{
	struct page *p = ctx;
	const char *sensor = (const char *)sqlite3_column_text(st, HF__N);

	assert_true(p->n < 1000);
	p->key[p->n++] = (uint64_t)(strcmp(sensor, "s2") == 0) << 40 | (uint64_t)sqlite3_column_int64(st, HF_FLOW_ID);
}

struct plans_seen {
	unsigned index, sort, walk_filter, walk_sort, walk_nulls, index_after_walk, sort_after_walk, intersect;
};

static struct plans_seen seen;

static const struct live_flow *live_flow_of(uint64_t key)
{
	const struct live_flow *f = flows_find(&live, (uint8_t)(key >> 40), key & ((1ull << 40) - 1));

	assert_non_null(f);
	return f;
}

/*
 * One question asked of both. The pages must hold the same flows in the
 * same order; where flows tie (those without an RTT or retransmissions:
 * each side breaks the tie its own way), the same values position by
 * position, and flows that do pass the filters.
 */
static void compare(const char *qs, const struct flow_query *q, const struct page *lp, const struct page *hp,
		    const char *plan)
{
	const struct flow_join join = { join_country, NULL };

	if (lp->n != hp->n)
		fail_msg("%s: live %zu flows, history %zu (plan %s)", qs, lp->n, hp->n, plan);
	for (size_t i = 0; i < lp->n; i++) {
		const struct live_flow *lf = live_flow_of(lp->key[i]), *hf = live_flow_of(hp->key[i]);
		double lv = flow_sort_value(lf, q->sort), hv = flow_sort_value(hf, q->sort);

		if (isnan(lv) && isnan(hv) && flow_query_matches(&live, q, &join, hf))
			continue;
		if (lp->key[i] != hp->key[i])
			fail_msg("%s: row %zu: live %llx (%g), history %llx (%g) (plan %s)", qs, i,
				 (unsigned long long)lp->key[i], lv, (unsigned long long)hp->key[i], hv, plan);
	}
	for (size_t i = 0; i < hp->n; i++)
		for (size_t j = i + 1; j < hp->n; j++)
			if (hp->key[i] == hp->key[j])
				fail_msg("%s: history gives flow %llx twice", qs, (unsigned long long)hp->key[i]);
}

static void ask(const char *qs)
{
	struct flow_query lq, hq;
	const struct live_flow *out[1000];
	struct flow_join join = { join_country, NULL };
	struct page lp = { .n = 0 }, hp = { .n = 0 };
	struct hfq_result r;
	char err[200];
	size_t total;
	long n;

	assert_int_equal(flow_query_parse(&lq, qs, live_sensor, NULL, err, sizeof(err)), 0);
	assert_int_equal(flow_query_parse(&hq, qs, history_flowquery_sensor, hist.db, err, sizeof(err)), 0);
	assert_true(lq.limit <= 1000);
	n = flow_query_run(&live, &lq, &join, out, &total);
	for (long i = 0; i < n; i++)
		lp.key[lp.n++] = (uint64_t)out[i]->sensor << 40 | out[i]->id;
	if (history_flowquery_run(hist.db, &hq, &limits, hist_row, &hp, &r) != SQLITE_OK)
		fail_msg("%s: %s", qs, sqlite3_errmsg(hist.db));
	compare(qs, &lq, &lp, &hp, r.plan);
	assert_int_equal(r.rows, hp.n);
	if (r.total_exact ? r.total != total : r.total > total)
		fail_msg("%s: total %zu (%s), live %zu (plan %s)", qs, r.total, r.total_exact ? "exact" : "at least",
			 total, r.plan);
	seen.index += strncmp(r.plan, "index", 5) == 0;
	seen.sort += strncmp(r.plan, "sort", 4) == 0;
	seen.index_after_walk += strncmp(r.plan, "index", 5) == 0 && strstr(r.plan, "after a walk") != NULL;
	seen.sort_after_walk += strncmp(r.plan, "sort", 4) == 0 && strstr(r.plan, "after a walk") != NULL;
	seen.intersect += strstr(r.plan, "and another") != NULL;
	seen.walk_filter += strcmp(r.plan, "walk flows_ipproto") == 0;
	seen.walk_sort += strcmp(r.plan, "walk flows_packets") == 0;
	/* A walk by RTT that went on past the flows with one. */
	seen.walk_nulls += strcmp(r.plan, "walk flows_rtt") == 0 && hp.n && isnan(flow_sort_value(live_flow_of(hp.key[hp.n - 1]), hq.sort));
}

static void test_filters_agree(void **state)
{
	static const char *const filters[] = {
		"", "addr=10.0.0.7", "addr=fd00::601", "addr=198.51.3.4", "port=53", "port=443", "proto=tcp",
		"proto=17", "proto=icmp", "app=DNS", "app=TLS", "name=example", "name=EXAMPLE.org", "name=%25_",
		"name=\\", "name=cdn_", "country=US", "country=jp", "state=active", "state=ended",
		"state=established", "state=reset", "min_bytes=5000000000", "min_bytes=1", "sensor=s2",
		"from=1700000010&to=1700000020", "from=1700000039", "to=1700000000.5",
		"proto=udp&port=53", "proto=tcp&country=DE&state=closed", "addr=10.0.0.3&app=TLS",
		"name=example&min_bytes=2000000000&sensor=s1", "country=FR&state=active&from=1700000005",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		char qs[300];

		snprintf(qs, sizeof(qs), "%s&limit=1000", filters[i]);
		ask(qs);
		snprintf(qs, sizeof(qs), "%s&limit=50&offset=120&order=asc", filters[i]);
		ask(qs);
	}
}

static void test_sorts_agree(void **state)
{
	static const char *const sorts_[] = { "bytes", "packets", "duration", "rate", "retransmissions", "rtt", "last" };
	static const char *const filters[] = { "", "proto=6", "proto=udp", "port=443", "name=example", "addr=10.0.0.9" };

	(void)state;
	for (size_t s = 0; s < 7; s++)
		for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
			char qs[200];

			snprintf(qs, sizeof(qs), "sort=%s&%s&limit=100", sorts_[s], filters[f]);
			ask(qs);
			snprintf(qs, sizeof(qs), "sort=%s&order=asc&%s&limit=40&offset=333", sorts_[s], filters[f]);
			ask(qs);
		}
	/* Past the flows that have an RTT (about 19,000 here), into those without, along the walk. */
	ask("sort=rtt&offset=19500&limit=1000");
	ask("sort=rtt&order=asc&offset=19500&limit=1000");
	/* Light filters besides one index's own: answered inside that index. */
	ask("sort=packets&proto=udp&state=ended");
	ask("sort=last&proto=6&name=example");
	ask("sort=packets&proto=udp&port=53");
	ask("sort=packets&order=desc&proto=udp&app=DNS&offset=10&limit=30");
	/* Two either-end filters, one of them small: its rows read and sorted. */
	ask("addr=198.51.3.4&port=443&sort=rtt");
	ask("addr=10.0.0.3&country=US&order=asc");
	/*
	 * Two either-end filters, DNS at the far end of packets: the walk gives
	 * up, and the flows both filters have, found inside their indexes, are
	 * read and sorted.
	 */
	ask("sort=packets&port=53&country=US");
	ask("sort=packets&port=53&country=FR&proto=udp&offset=10&limit=30");
	/* Every plan was taken at least once. */
	assert_true(seen.index > 0);
	assert_true(seen.sort > 0);
	assert_true(seen.walk_filter > 0);
	assert_true(seen.walk_sort > 0);
	assert_true(seen.walk_nulls > 0);
	assert_true(seen.index_after_walk > 0);
	assert_true(seen.sort_after_walk > 0);
	assert_true(seen.intersect > 0);
}

/* ---- Walks read their index in order; counts and index plans read no row ---------------------------- */

static char plan_text[8192];

static void explain_one(const char *sql, void *ctx)
{
	bool walk = strncmp(sql, "/* walk */", 10) == 0;
	bool inside = strncmp(sql, "/* index */", 11) == 0 || strncmp(sql, "/* count */", 11) == 0;
	sqlite3_stmt *st;
	char eqp[4400];

	(void)ctx;
	snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(hist.db, eqp, -1, &st, NULL), SQLITE_OK);
	/* Bound values do not change a plan's shape; unbound ones are NULL. */
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(st, 3);

		/* Ties of (last, first) may be put in order as they come ("RIGHT PART"): never the whole. */
		if (walk && strstr(detail, "USE TEMP B-TREE FOR ORDER BY"))
			fail_msg("a walk sorts: %s\n  in %s", detail, sql);
		/* The flows table itself (names= reads the distinct names: that is its point). */
		if (inside && (strncmp(detail, "SEARCH flows", 12) == 0 || strncmp(detail, "SCAN flows", 10) == 0) &&
		    !strstr(detail, "COVERING INDEX"))
			fail_msg("reads rows: %s\n  in %s", detail, sql);
		strncat(plan_text, detail, sizeof(plan_text) - strlen(plan_text) - 2);
		strcat(plan_text, "\n");
	}
	sqlite3_finalize(st);
}

static void test_walks_use_index_order(void **state)
{
	static const char *const qs[] = {
		"sort=bytes", "sort=bytes&order=asc", "sort=packets", "sort=duration", "sort=rate", "sort=rtt&order=asc",
		"sort=retransmissions", "sort=last", "proto=tcp", "port=53", "country=US&order=asc", "sort=last&proto=6",
		"addr=10.0.0.3", "port=53&sort=rtt", "name=example&sort=rate", "from=1700000010&to=1700000011",
		"sort=last&port=443&proto=6", "min_bytes=5000000000&order=asc",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		struct flow_query q;
		char err[200];

		plan_text[0] = '\0';
		assert_int_equal(flow_query_parse(&q, qs[i], history_flowquery_sensor, hist.db, err, sizeof(err)), 0);
		assert_int_equal(history_flowquery_explain(hist.db, &q, &limits, explain_one, NULL), SQLITE_OK);
		if (!strstr(plan_text, "INDEX"))
			fail_msg("%s: no index used:\n%s", qs[i], plan_text);
	}
}

/* A directory of their own for the databases, and the two tables of the query tests. */
static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s", dir);
	return setup_tables();
}

static int group_teardown(void **state)
{
	char cmd[400];

	(void)state;
	teardown_tables();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migration_from_schema_1),
		cmocka_unit_test(test_upsert),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_filters_agree),
		cmocka_unit_test(test_sorts_agree),
		cmocka_unit_test(test_walks_use_index_order),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
