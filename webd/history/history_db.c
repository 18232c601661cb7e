/* SPDX-License-Identifier: BSD-2-Clause */
#include "history/history_db.h"

#include "history/history_flows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Schema ------------------------------------------------------------------- */

/*
 * Migration 1. Times are µs since the epoch (capture time). Addresses are 4
 * or 16 raw bytes. Indexes serve the API: a time range alone (packets_ts),
 * or with an address (packets_src, packets_dst) or a protocol
 * (packets_proto); each ends in ts, and SQLite appends the rowid, so every
 * one of them yields rows already in (ts, id) order.
 */
static const char migration_1[] =
	"CREATE TABLE sensors(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE packets(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" sensor INTEGER NOT NULL, src BLOB, dst BLOB, proto INTEGER NOT NULL, sport INTEGER, dport INTEGER,"
	" len INTEGER NOT NULL, flags INTEGER NOT NULL, info TEXT, qname TEXT, name TEXT);"
	"CREATE INDEX packets_ts ON packets(ts);"
	"CREATE INDEX packets_src ON packets(src, ts);"
	"CREATE INDEX packets_dst ON packets(dst, ts);"
	"CREATE INDEX packets_proto ON packets(proto, ts);"
	/* Raw bytes apart: pruned on their own (shorter) window, and the summaries stay compact. */
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
	/* A packet's raw bytes and DNS row go with it, whichever retention removes it. */
	"CREATE TRIGGER packets_gone AFTER DELETE ON packets BEGIN"
	" DELETE FROM raw WHERE id = old.id; DELETE FROM dns WHERE id = old.id; END;";

/*
 * Migration 2: flows, and the flow of each packet.
 *
 * packets.flow_id is capd's id of the packet's flow (NULL: none), indexed
 * with the time so that a flow's packets (its PCAP) are one range.
 *
 * flows: one row per (sensor, flow_id, first), updated in place by a long
 * flow's active reports. Columns hold every field of a report (NULL where
 * the flow has none: ports, TCP, ICMP, VLAN, tunnel), their sums (packets,
 * bytes, retransmissions) for sorting, the countries of both ends for
 * country=, and hosts: the JSON of what webd knew of both ends.
 *
 * The indexes serve /api/history/flows (history_flowquery.c): one per sort
 * (time, bytes, packets, duration, rate, RTT, retransmissions), and one
 * per filter keyed by its value then bytes (those migration 4 replaces).
 * Every one holds (last, first): the time range is checked inside the
 * index, without reading the row.
 */
static const char migration_2[] =
	"ALTER TABLE packets ADD COLUMN flow_id INTEGER;"
	"CREATE INDEX packets_flow ON packets(flow_id, ts) WHERE flow_id IS NOT NULL;"
	"CREATE TABLE flows(id INTEGER PRIMARY KEY, sensor INTEGER NOT NULL, flow_id INTEGER NOT NULL,"
	" first INTEGER NOT NULL, last INTEGER NOT NULL, heard INTEGER NOT NULL, ended INTEGER NOT NULL,"
	" end_reason INTEGER NOT NULL, l3 INTEGER NOT NULL, ipproto INTEGER NOT NULL, flags INTEGER NOT NULL,"
	" ethertype INTEGER NOT NULL, a BLOB, b BLOB, a_port INTEGER, b_port INTEGER, app INTEGER NOT NULL,"
	" name TEXT, a_packets INTEGER NOT NULL, a_bytes INTEGER NOT NULL, b_packets INTEGER NOT NULL,"
	" b_bytes INTEGER NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL, tcp_state INTEGER,"
	" rtt INTEGER, retransmissions INTEGER, a_tcp_flags INTEGER, b_tcp_flags INTEGER,"
	" a_retransmissions INTEGER, b_retransmissions INTEGER, a_out_of_order INTEGER, b_out_of_order INTEGER,"
	" a_dup_acks INTEGER, b_dup_acks INTEGER, a_zero_windows INTEGER, b_zero_windows INTEGER,"
	" resets INTEGER, vlan0 INTEGER, vlan1 INTEGER, outer_a BLOB, outer_b BLOB, icmp_type INTEGER,"
	" icmp_code INTEGER, icmp_id INTEGER, a_country TEXT, b_country TEXT, hosts TEXT);"
	"CREATE UNIQUE INDEX flows_key ON flows(sensor, flow_id, first);"
	"CREATE INDEX flows_last ON flows(last, first);"
	"CREATE INDEX flows_bytes ON flows(bytes, last, first);"
	"CREATE INDEX flows_packets ON flows(packets, last, first);"
	"CREATE INDEX flows_duration ON flows(last - first, last, first);"
	"CREATE INDEX flows_rate ON flows(bytes * 8.0 / max((last - first) / 1e6, 0.001), last, first);"
	"CREATE INDEX flows_rtt ON flows(rtt, last, first) WHERE rtt IS NOT NULL;"
	"CREATE INDEX flows_retransmissions ON flows(retransmissions, last, first) WHERE retransmissions IS NOT NULL;"
	"CREATE INDEX flows_a ON flows(a, bytes, last, first);"
	"CREATE INDEX flows_b ON flows(b, bytes, last, first);"
	"CREATE INDEX flows_a_port ON flows(a_port, bytes, last, first) WHERE a_port IS NOT NULL;"
	"CREATE INDEX flows_b_port ON flows(b_port, bytes, last, first) WHERE b_port IS NOT NULL;"
	"CREATE INDEX flows_ipproto ON flows(ipproto, bytes, last, first);"
	"CREATE INDEX flows_app ON flows(app, bytes, last, first);"
	"CREATE INDEX flows_a_country ON flows(a_country, bytes, last, first) WHERE a_country IS NOT NULL;"
	"CREATE INDEX flows_b_country ON flows(b_country, bytes, last, first) WHERE b_country IS NOT NULL;"
	"CREATE INDEX flows_name ON flows(name, last, first) WHERE name IS NOT NULL;"
	"CREATE INDEX flows_tcp_state ON flows(tcp_state, bytes, last, first) WHERE tcp_state IS NOT NULL;"
	"CREATE INDEX flows_active ON flows(bytes, last, first) WHERE ended = 0;"
	"CREATE INDEX flows_sensor ON flows(sensor, bytes, last, first);";

/*
 * Migration 3: each flow's latest report whole, as capd sent it (a wire
 * batch of one record, common/wlite-wire.h): what the columns do not hold
 * (a field added to the reports later) still reaches the API.
 */
static const char migration_3[] = "ALTER TABLE flows ADD COLUMN record BLOB;";

/*
 * Migration 4: the filters' indexes keyed by value then time, not bytes.
 * Keyed by bytes, each new flow landed at a random place in every one of
 * them: a batch of 5,000 flows dirtied about half of their pages, each
 * commit wrote them all to the WAL (gigabytes for a million flows), and
 * 300,000 flows went in at a third of the rate. By time, a new flow goes
 * at the end of its value's run. Each index also carries what the sorts
 * and the time range need (last, first, bytes, packets, rtt,
 * retransmissions) and the values of the "light" filters, one per flow
 * (protocol, application, TCP state, ended, sensor, name), so that a
 * question with one either-end filter (address, port, country) at most is
 * counted and sorted inside one index without reading a row; the indexes
 * of the either-end filters also hold the other end's value, so that a flow
 * matching at both ends is counted once.
 *
 * Names go to a table of their own (names: each distinct name once), and
 * flows refer to theirs (name_id): name= is a substring, which no index can
 * seek, so it is matched against the distinct names, and the flows of the
 * names that match are found through flows_name. Names no flow refers to
 * any more are removed by the retention steps.
 */
#define FLOW_SORT_KEYS "last, first, bytes, packets, rtt, retransmissions, ipproto, app, tcp_state, ended, sensor, name_id"
static const char migration_4[] =
	"DROP INDEX flows_last; DROP INDEX flows_a; DROP INDEX flows_b; DROP INDEX flows_a_port;"
	"DROP INDEX flows_b_port; DROP INDEX flows_ipproto; DROP INDEX flows_app; DROP INDEX flows_a_country;"
	"DROP INDEX flows_b_country; DROP INDEX flows_name; DROP INDEX flows_tcp_state; DROP INDEX flows_active;"
	"DROP INDEX flows_sensor;"
	"CREATE TABLE names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"ALTER TABLE flows ADD COLUMN name_id INTEGER;"
	"INSERT OR IGNORE INTO names(name) SELECT name FROM flows WHERE name IS NOT NULL;"
	"UPDATE flows SET name_id = (SELECT id FROM names WHERE names.name = flows.name) WHERE name IS NOT NULL;"
	"CREATE INDEX flows_last ON flows(" FLOW_SORT_KEYS ");"
	"CREATE INDEX flows_a ON flows(a, " FLOW_SORT_KEYS ", b);"
	"CREATE INDEX flows_b ON flows(b, " FLOW_SORT_KEYS ", a);"
	"CREATE INDEX flows_a_port ON flows(a_port, " FLOW_SORT_KEYS ", b_port) WHERE a_port IS NOT NULL;"
	"CREATE INDEX flows_b_port ON flows(b_port, " FLOW_SORT_KEYS ", a_port) WHERE b_port IS NOT NULL;"
	"CREATE INDEX flows_ipproto ON flows(ipproto, " FLOW_SORT_KEYS ");"
	"CREATE INDEX flows_app ON flows(app, " FLOW_SORT_KEYS ");"
	"CREATE INDEX flows_a_country ON flows(a_country, " FLOW_SORT_KEYS ", b_country) WHERE a_country IS NOT NULL;"
	"CREATE INDEX flows_b_country ON flows(b_country, " FLOW_SORT_KEYS ", a_country) WHERE b_country IS NOT NULL;"
	"CREATE INDEX flows_name ON flows(name_id, " FLOW_SORT_KEYS ") WHERE name_id IS NOT NULL;"
	"CREATE INDEX flows_tcp_state ON flows(tcp_state, " FLOW_SORT_KEYS ") WHERE tcp_state IS NOT NULL;"
	"CREATE INDEX flows_active ON flows(" FLOW_SORT_KEYS ") WHERE ended = 0;"
	"CREATE INDEX flows_sensor ON flows(sensor, " FLOW_SORT_KEYS ");";

/*
 * Migration 5: alerts of every kind (live/alert.h), not floods only: the
 * kind (NULL in older rows, which were all floods), the peer of a
 * retransmissions alert and its worst flow's id.
 */
static const char migration_5[] = "ALTER TABLE alerts ADD COLUMN kind TEXT;"
				  "ALTER TABLE alerts ADD COLUMN peer BLOB;"
				  "ALTER TABLE alerts ADD COLUMN flow_id INTEGER;";

/* Migration N+1 is migrations[N]; append, never edit one that has shipped. */
static const char *const migrations[] = { migration_1, migration_2, migration_3, migration_4, migration_5 };
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int history_db_exec(struct hdb *d, const char *sql)
{
	return sqlite3_exec(d->db, sql, NULL, NULL, NULL);
}

static int query_int(sqlite3 *db, const char *sql, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*ret = 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int set_error(sqlite3 *db, int rc, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return rc;
}

static int migrate(struct hdb *d, char *err, size_t errlen)
{
	int64_t version = 0;
	int rc = query_int(d->db, "PRAGMA user_version", &version);

	if (rc != SQLITE_OK)
		return set_error(d->db, rc, "reading the schema version", err, errlen);
	if (version > SCHEMA_VERSION) {
		snprintf(err, errlen, "the database has schema %lld, newer than this webd's %d: left alone",
			 (long long)version, SCHEMA_VERSION);
		return SQLITE_MISMATCH;
	}
	for (int v = (int)version; v < SCHEMA_VERSION; v++) {
		char bump[64];

		/* Each migration and its version number commit together, or not at all. */
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
		if ((rc = history_db_exec(d, "BEGIN IMMEDIATE")) != SQLITE_OK ||
		    (rc = history_db_exec(d, migrations[v])) != SQLITE_OK ||
		    (rc = history_db_exec(d, bump)) != SQLITE_OK || (rc = history_db_exec(d, "COMMIT")) != SQLITE_OK) {
			set_error(d->db, rc, "migrating the schema", err, errlen);
			history_db_exec(d, "ROLLBACK");
			return rc;
		}
	}
	return SQLITE_OK;
}

/* ---- Opening -------------------------------------------------------------------- */

bool history_db_is_corrupt(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT;
}

static int quick_check(struct hdb *d, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(d->db, "PRAGMA quick_check(1)", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return set_error(d->db, rc, "checking the database", err, errlen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		snprintf(err, errlen, "quick_check: %s", (const char *)sqlite3_column_text(st, 0));
		rc = SQLITE_CORRUPT;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	} else {
		set_error(d->db, rc, "checking the database", err, errlen);
	}
	sqlite3_finalize(st);
	return rc;
}

static int set_pragmas(struct hdb *d, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	sqlite3_busy_timeout(d->db, 2000);
	rc = sqlite3_prepare_v2(d->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		rc = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0 ? SQLITE_OK : SQLITE_CANTOPEN;
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return set_error(d->db, rc, "switching to WAL mode", err, errlen);
	/*
	 * NORMAL in WAL mode: a commit survives a crash of webd, only a power
	 * loss can take the last ones. Checkpoints (and their fsyncs) run on
	 * history's checkpoint thread, never inside the writer's commits.
	 */
	rc = history_db_exec(d, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
			 " PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;");
	return rc == SQLITE_OK ? rc : set_error(d->db, rc, "setting up the connection", err, errlen);
}

static int map_sensors(struct hdb *d, const struct history_config *cfg, char *err, size_t errlen)
{
	sqlite3_stmt *ins = NULL, *sel = NULL;
	int rc = sqlite3_prepare_v2(d->db, "INSERT OR IGNORE INTO sensors(name) VALUES(?1)", -1, &ins, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(d->db, "SELECT id FROM sensors WHERE name = ?1", -1, &sel, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < cfg->n_sensors; i++) {
		const char *name = cfg->sensor_names[i] ? cfg->sensor_names[i] : "capd";

		sqlite3_bind_text(ins, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(sel, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(ins);
		if (rc == SQLITE_DONE && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
			d->sensor_ids[i] = sqlite3_column_int64(sel, 0);
			rc = SQLITE_OK;
		}
		sqlite3_reset(ins);
		sqlite3_reset(sel);
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(sel);
	return rc == SQLITE_OK ? rc : set_error(d->db, rc, "recording the sensors", err, errlen);
}

static int prepare_all(struct hdb *d, char *err, size_t errlen)
{
	static const struct {
		size_t off;
		const char *sql;
	} stmts[] = {
		{ offsetof(struct hdb, ins_pkt),
		  "INSERT INTO packets(id, ts, seq, sensor, src, dst, proto, sport, dport, len, flags, info, qname, name,"
		  " flow_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)" },
		{ offsetof(struct hdb, ins_raw), "INSERT INTO raw(id, ts, linktype, data) VALUES(?1, ?2, ?3, ?4)" },
		{ offsetof(struct hdb, ins_dns),
		  "INSERT INTO dns(id, ts, sensor, client, server, response, qtype, rcode, qname, answers)"
		  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" },
		{ offsetof(struct hdb, ins_alert),
		  "INSERT INTO alerts(ts, event, alert_id, ip, sensor, started, last, cleared, peak, packets,"
		  " threshold, window, kind, peer, flow_id)"
		  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)" },
		/* Seconds seen again (a second replay, a second sensor) add up, as the packets do. */
		{ offsetof(struct hdb, ins_rate),
		  "INSERT INTO rates(second, packets, bytes) VALUES(?1, ?2, ?3) ON CONFLICT(second) DO UPDATE"
		  " SET packets = packets + excluded.packets, bytes = bytes + excluded.bytes" },
		{ offsetof(struct hdb, sel_name), "SELECT id FROM names WHERE name = ?1" },
		{ offsetof(struct hdb, ins_name), "INSERT INTO names(name) VALUES(?1)" },
	};

	char upsert[4096];
	int rc;

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		sqlite3_stmt **slot = (sqlite3_stmt **)((char *)d + stmts[i].off);

		rc = sqlite3_prepare_v3(d->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
		if (rc != SQLITE_OK)
			return set_error(d->db, rc, "preparing the inserts", err, errlen);
	}
	if (history_flows_upsert_sql(upsert, sizeof(upsert)) >= sizeof(upsert))
		return set_error(d->db, SQLITE_TOOBIG, "building the flow upsert", err, errlen);
	rc = sqlite3_prepare_v3(d->db, upsert, -1, SQLITE_PREPARE_PERSISTENT, &d->ins_flow, NULL);
	return rc == SQLITE_OK ? rc : set_error(d->db, rc, "preparing the flow upsert", err, errlen);
}

/* Where the ids, the retention clock and the raw pruning cursor stand. */
static int load_positions(struct hdb *d, char *err, size_t errlen)
{
	int64_t max_id = 0, min_raw = 0, newest_flow = 0;
	int rc;

	if ((rc = query_int(d->db, "SELECT coalesce(max(id), 0) FROM packets", &max_id)) != SQLITE_OK ||
	    (rc = query_int(d->db, "SELECT coalesce(max(ts), 0) FROM packets", &d->newest_ts)) != SQLITE_OK ||
	    (rc = query_int(d->db, "SELECT coalesce(max(last), 0) FROM flows", &newest_flow)) != SQLITE_OK ||
	    (rc = query_int(d->db, "SELECT coalesce((SELECT ts FROM raw ORDER BY id LIMIT 1), 0)", &min_raw)) !=
		    SQLITE_OK)
		return set_error(d->db, rc, "reading the database", err, errlen);
	d->next_id = max_id + 1;
	if (newest_flow > d->newest_ts)
		d->newest_ts = newest_flow;
	/* The oldest raw row left: no need to walk the packets before it again. */
	d->raw_cursor_ts = min_raw > 0 ? min_raw - 1 : 0;
	d->raw_cursor_id = 0;
	return SQLITE_OK;
}

int history_db_open(struct hdb *d, const char *path, bool check, const struct history_config *cfg, char *err,
		    size_t errlen)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		set_error(d->db, rc, "opening", err, errlen);
		history_db_close(d);
		return rc;
	}
	sqlite3_extended_result_codes(d->db, 1);
	if ((check && (rc = quick_check(d, err, errlen)) != SQLITE_OK) || (rc = set_pragmas(d, err, errlen)) != SQLITE_OK ||
	    (rc = migrate(d, err, errlen)) != SQLITE_OK || (rc = map_sensors(d, cfg, err, errlen)) != SQLITE_OK ||
	    (rc = prepare_all(d, err, errlen)) != SQLITE_OK || (rc = load_positions(d, err, errlen)) != SQLITE_OK) {
		history_db_close(d);
		return rc;
	}
	return SQLITE_OK;
}

void history_db_close(struct hdb *d)
{
	sqlite3_finalize(d->ins_pkt);
	sqlite3_finalize(d->ins_raw);
	sqlite3_finalize(d->ins_dns);
	sqlite3_finalize(d->ins_alert);
	sqlite3_finalize(d->ins_rate);
	sqlite3_finalize(d->ins_flow);
	sqlite3_finalize(d->sel_name);
	sqlite3_finalize(d->ins_name);
	/* The last connection to close checkpoints and removes the WAL. */
	sqlite3_close_v2(d->db);
	memset(d, 0, sizeof(*d));
}

int history_db_move_aside(const char *path, char *moved_to, size_t size)
{
	static const char *const suffixes[] = { "-wal", "-shm" };
	char stamp[32], from[4200], to[4200];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if ((size_t)snprintf(moved_to, size, "%s.corrupt-%s", path, stamp) >= size)
		return -ENAMETOOLONG;
	if (rename(path, moved_to) < 0)
		return -errno;
	/* Its WAL goes with it, under the name SQLite would look for. */
	for (size_t i = 0; i < 2; i++) {
		snprintf(from, sizeof(from), "%s%s", path, suffixes[i]);
		snprintf(to, sizeof(to), "%s%s", moved_to, suffixes[i]);
		(void)rename(from, to);
	}
	return 0;
}

/* ---- Inserts ------------------------------------------------------------------- */

static void bind_addr(sqlite3_stmt *st, int i, uint8_t fam, const uint8_t *b)
{
	if (fam == 4 || fam == 6)
		sqlite3_bind_blob(st, i, b, fam == 4 ? 4 : 16, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Empty text is stored as NULL: smaller, and "absent" in the API. */
static void bind_text(sqlite3_stmt *st, int i, const uint8_t *p, size_t n)
{
	if (n)
		sqlite3_bind_text(st, i, (const char *)p, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int64_t sensor_id(const struct hdb *d, uint8_t sensor)
{
	return d->sensor_ids[sensor] ? d->sensor_ids[sensor] : 1;
}

static int insert_dns(struct hdb *d, int64_t id, const struct hist_pkt *p, const uint8_t *qname,
		      const uint8_t *answers)
{
	sqlite3_stmt *st = d->ins_dns;
	bool response = p->has & HP_DNS_RESPONSE;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, p->ts_us);
	sqlite3_bind_int64(st, 3, sensor_id(d, p->sensor));
	/* The client is whoever asked: the source of a query, the destination of an answer. */
	bind_addr(st, 4, response ? p->dst_fam : p->src_fam, response ? p->dst : p->src);
	bind_addr(st, 5, response ? p->src_fam : p->dst_fam, response ? p->src : p->dst);
	sqlite3_bind_int(st, 6, response);
	sqlite3_bind_int(st, 7, p->qtype);
	sqlite3_bind_int(st, 8, p->rcode);
	bind_text(st, 9, qname, p->qname_len);
	bind_text(st, 10, answers, p->ans_len);
	return step_reset(st);
}

int history_db_insert_packet(struct hdb *d, const struct hist_pkt *p, const uint8_t *var)
{
	const uint8_t *info = var, *qname = info + p->info_len, *name = qname + p->qname_len;
	const uint8_t *answers = name + p->name_len, *raw = answers + p->ans_len;
	sqlite3_stmt *st = d->ins_pkt;
	int64_t id = d->next_id;
	int rc;

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, p->ts_us);
	sqlite3_bind_int64(st, 3, (int64_t)p->seq);
	sqlite3_bind_int64(st, 4, sensor_id(d, p->sensor));
	bind_addr(st, 5, p->src_fam, p->src);
	bind_addr(st, 6, p->dst_fam, p->dst);
	sqlite3_bind_int(st, 7, p->proto);
	if (p->has & HP_SPORT)
		sqlite3_bind_int(st, 8, p->sport);
	else
		sqlite3_bind_null(st, 8);
	if (p->has & HP_DPORT)
		sqlite3_bind_int(st, 9, p->dport);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, p->len);
	sqlite3_bind_int(st, 11, p->malformed | p->tcp_flags << 2);
	bind_text(st, 12, info, p->info_len);
	bind_text(st, 13, qname, p->qname_len);
	bind_text(st, 14, name, p->name_len);
	if (p->flow_id)
		sqlite3_bind_int64(st, 15, (int64_t)p->flow_id);
	else
		sqlite3_bind_null(st, 15);
	if ((rc = step_reset(st)) != SQLITE_OK)
		return rc;
	d->next_id++;
	if (p->ts_us > d->newest_ts)
		d->newest_ts = p->ts_us;
	if (p->raw_len) {
		sqlite3_bind_int64(d->ins_raw, 1, id);
		sqlite3_bind_int64(d->ins_raw, 2, p->ts_us);
		sqlite3_bind_int(d->ins_raw, 3, p->linktype);
		sqlite3_bind_blob(d->ins_raw, 4, raw, (int)p->raw_len, SQLITE_STATIC);
		if ((rc = step_reset(d->ins_raw)) != SQLITE_OK)
			return rc;
	}
	return (p->has & HP_DNS) ? insert_dns(d, id, p, qname, answers) : SQLITE_OK;
}

int history_db_insert_alert(struct hdb *d, const struct alert *a)
{
	sqlite3_stmt *st = d->ins_alert;
	int64_t when = a->cleared ? a->cleared : a->started;

	sqlite3_bind_int64(st, 1, when * 1000000);
	sqlite3_bind_text(st, 2, a->cleared ? "cleared" : "raised", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)a->id);
	bind_addr(st, 4, a->addr.family, a->addr.b);
	sqlite3_bind_int64(st, 5, sensor_id(d, a->sensor));
	sqlite3_bind_int64(st, 6, a->started);
	sqlite3_bind_int64(st, 7, a->last);
	if (a->cleared)
		sqlite3_bind_int64(st, 8, a->cleared);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_int64(st, 9, (int64_t)a->peak_window);
	sqlite3_bind_int64(st, 10, (int64_t)a->packets);
	sqlite3_bind_int(st, 11, (int)a->threshold);
	sqlite3_bind_int(st, 12, (int)a->window_s);
	sqlite3_bind_text(st, 13, alert_kind_name(a->kind), -1, SQLITE_STATIC);
	bind_addr(st, 14, a->peer.family, a->peer.b);
	if (a->flow_id)
		sqlite3_bind_int64(st, 15, (int64_t)a->flow_id);
	else
		sqlite3_bind_null(st, 15);
	return step_reset(st);
}

/* The id of a flow's name in the names table, added if new (0: the flow has none). */
static int name_id(struct hdb *d, const char *name, size_t len, int64_t *ret)
{
	int rc;

	*ret = 0;
	if (!len)
		return SQLITE_OK;
	sqlite3_bind_text(d->sel_name, 1, name, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(d->sel_name);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(d->sel_name, 0);
	sqlite3_reset(d->sel_name);
	if (rc == SQLITE_ROW)
		return SQLITE_OK;
	if (rc != SQLITE_DONE)
		return rc;
	sqlite3_bind_text(d->ins_name, 1, name, (int)len, SQLITE_STATIC);
	if ((rc = step_reset(d->ins_name)) == SQLITE_OK)
		*ret = sqlite3_last_insert_rowid(d->db);
	return rc;
}

int history_db_upsert_flow(struct hdb *d, const uint8_t *var)
{
	uint8_t record[HIST_FLOW_RECORD_MAX];
	struct hist_flow f;
	int64_t name;
	int rc;

	/* Queued unaligned in the byte ring, the record's name after it: copied out whole. */
	memset(&f, 0, sizeof(f));
	memcpy(&f, var, HIST_FLOW_FIXED);
	memcpy(f.rec.name, var + HIST_FLOW_FIXED, f.name_len < sizeof(f.rec.name) ? f.name_len : sizeof(f.rec.name) - 1);
	if ((rc = name_id(d, f.rec.name, strlen(f.rec.name), &name)) != SQLITE_OK)
		return rc;
	history_flows_bind(d->ins_flow, &f, var + HIST_FLOW_FIXED + f.name_len, sensor_id(d, f.sensor), name, record,
			   sizeof(record));
	if ((rc = step_reset(d->ins_flow)) != SQLITE_OK)
		return rc;
	if (f.rec.last_us > d->newest_ts)
		d->newest_ts = f.rec.last_us;
	return SQLITE_OK;
}

int history_db_insert_rate(struct hdb *d, int64_t second, uint64_t packets, uint64_t bytes)
{
	sqlite3_bind_int64(d->ins_rate, 1, second);
	sqlite3_bind_int64(d->ins_rate, 2, (int64_t)packets);
	sqlite3_bind_int64(d->ins_rate, 3, (int64_t)bytes);
	return step_reset(d->ins_rate);
}

/* ---- Retention ------------------------------------------------------------------- */

/* Runs one bound DELETE in its own transaction; the rows it removed in *ret_rows. */
static int delete_step(struct hdb *d, const char *sql, const int64_t *args, int n_args, uint64_t *ret_rows)
{
	sqlite3_stmt *st;
	int rc = history_db_exec(d, "BEGIN IMMEDIATE");

	*ret_rows = 0;
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		for (int i = 0; i < n_args; i++)
			sqlite3_bind_int64(st, i + 1, args[i]);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		*ret_rows = (uint64_t)sqlite3_changes(d->db);
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_OK)
		rc = history_db_exec(d, "COMMIT");
	if (rc != SQLITE_OK)
		*ret_rows = 0; /* the caller rolls back, after reading the error message */
	return rc;
}

/* Packets (with their raw bytes and DNS rows), alerts and rates older than the age limit. */
int history_db_prune_age(struct hdb *d, int64_t max_age_us, uint64_t *ret_rows)
{
	static const char *const sql[] = {
		"DELETE FROM packets WHERE id IN (SELECT id FROM packets WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
		"DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
		"DELETE FROM rates WHERE second IN (SELECT second FROM rates WHERE second < ?1 / 1000000 LIMIT ?2)",
		"DELETE FROM flows WHERE id IN (SELECT id FROM flows INDEXED BY flows_last WHERE last < ?1"
		" ORDER BY last LIMIT ?2)",
	};
	int64_t args[2] = { d->newest_ts - max_age_us, HDB_PRUNE_STEP };
	int rc = SQLITE_OK;

	*ret_rows = 0;
	if (d->newest_ts == 0 || args[0] <= 0)
		return SQLITE_OK;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && rc == SQLITE_OK; i++) {
		uint64_t n;

		rc = delete_step(d, sql[i], args, 2, &n);
		*ret_rows += n;
	}
	return rc;
}

/*
 * Names no flow refers to any more (their flows were removed): a step
 * checks the next HDB_PRUNE_STEP names after the cursor, one index seek
 * each, and the cursor goes round.
 */
int history_db_prune_names(struct hdb *d, uint64_t *ret_rows)
{
	int64_t args[2] = { d->names_cursor, 0 };
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(d->db, "SELECT coalesce((SELECT id FROM names WHERE id > ?1 ORDER BY id LIMIT 1"
				    " OFFSET ?2), (SELECT max(id) FROM names), 0)", -1, &st, NULL);

	*ret_rows = 0;
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, d->names_cursor);
	sqlite3_bind_int(st, 2, HDB_PRUNE_STEP - 1);
	rc = sqlite3_step(st);
	args[1] = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	sqlite3_finalize(st);
	if (rc != SQLITE_OK || args[1] <= args[0]) {
		d->names_cursor = 0; /* at the end: round again */
		return rc;
	}
	rc = delete_step(d,
			 "DELETE FROM names WHERE id > ?1 AND id <= ?2 AND NOT EXISTS (SELECT 1 FROM flows INDEXED BY"
			 " flows_name WHERE name_id = names.id)",
			 args, 2, ret_rows);
	if (rc == SQLITE_OK)
		d->names_cursor = args[1];
	return rc;
}

uint64_t history_db_used_bytes(struct hdb *d)
{
	int64_t pages = 0, free_pages = 0, page_size = 0;

	query_int(d->db, "PRAGMA page_count", &pages);
	query_int(d->db, "PRAGMA freelist_count", &free_pages);
	query_int(d->db, "PRAGMA page_size", &page_size);
	return pages > free_pages ? (uint64_t)((pages - free_pages) * page_size) : 0;
}

/*
 * Over the size limit: the oldest packets go, a step at a time, and the
 * flows last seen before the oldest packet left (all of them, oldest
 * first, once no packet is left): both tables end at about the same time.
 */
int history_db_prune_size(struct hdb *d, uint64_t max_bytes, uint64_t *ret_rows)
{
	int64_t step = HDB_PRUNE_STEP;
	uint64_t flows = 0;
	int rc;

	*ret_rows = 0;
	if (history_db_used_bytes(d) <= max_bytes)
		return SQLITE_OK;
	rc = delete_step(d, "DELETE FROM packets WHERE id IN (SELECT id FROM packets ORDER BY id LIMIT ?1)", &step, 1,
			 ret_rows);
	if (rc == SQLITE_OK)
		rc = delete_step(d,
				 "DELETE FROM flows WHERE id IN (SELECT id FROM flows INDEXED BY flows_last WHERE last <"
				 " coalesce((SELECT min(ts) FROM packets), 9223372036854775807) ORDER BY last LIMIT ?1)",
				 &step, 1, &flows);
	*ret_rows += flows;
	return rc;
}

/* The (ts, id) where this raw step ends: the STEP-th old packet after the cursor, or the cut. */
static int raw_step_end(struct hdb *d, int64_t cut, int64_t *ret_ts, int64_t *ret_id)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(d->db,
				    "SELECT ts, id FROM packets WHERE ts < ?1 AND (ts, id) > (?2, ?3) ORDER BY ts, id"
				    " LIMIT 1 OFFSET ?4", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, cut);
	sqlite3_bind_int64(st, 2, d->raw_cursor_ts);
	sqlite3_bind_int64(st, 3, d->raw_cursor_id);
	sqlite3_bind_int(st, 4, HDB_PRUNE_STEP - 1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_ts = sqlite3_column_int64(st, 0);
		*ret_id = sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*ret_ts = cut - 1;
		*ret_id = INT64_MAX;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Raw bytes older than the window. raw has no time index (it would slow
 * every insert): walk the packets by (ts, id) from where the last step
 * stopped, deleting their raw rows.
 */
int history_db_prune_raw(struct hdb *d, int64_t window_us, uint64_t *ret_rows)
{
	int64_t cut = d->newest_ts - window_us, args[4] = { d->raw_cursor_ts, d->raw_cursor_id };
	int rc;

	*ret_rows = 0;
	if (d->newest_ts == 0 || cut <= d->raw_cursor_ts + 1)
		return SQLITE_OK;
	if ((rc = raw_step_end(d, cut, &args[2], &args[3])) != SQLITE_OK)
		return rc;
	rc = delete_step(d,
			 "DELETE FROM raw WHERE id IN (SELECT id FROM packets INDEXED BY packets_ts"
			 " WHERE (ts, id) > (?1, ?2) AND (ts, id) <= (?3, ?4))",
			 args, 4, ret_rows);
	if (rc == SQLITE_OK) {
		d->raw_cursor_ts = args[2];
		d->raw_cursor_id = args[3];
	}
	return rc;
}
