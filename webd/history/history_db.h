/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * history's SQLite side, used by the writer thread only: the connection,
 * the versioned schema, the prepared inserts and the retention steps.
 * Functions return an SQLite result code (SQLITE_OK, or the error the
 * writer classifies to pause), with a message in err where it helps.
 */
#ifndef WEBD_HISTORY_DB_H
#define WEBD_HISTORY_DB_H

#include "history/history.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#define HDB_PRUNE_STEP 5000 /* rows per retention transaction: short locks */

/* One packet as queued: fixed size; its texts and raw bytes are in the byte ring. */
struct hist_pkt {
	uint64_t seq; /* webd's live id */
	int64_t ts_us;
	uint32_t len;
	uint16_t sport, dport, tcp_flags, linktype;
	uint8_t sensor, proto, malformed, has; /* has: HP_* */
	uint8_t src_fam, dst_fam;
	uint8_t src[16], dst[16];
	uint16_t qtype;
	uint8_t rcode;
	uint8_t info_len;
	uint16_t qname_len, name_len, ans_len;
	uint32_t raw_len;
	uint64_t flow_id; /* capd's id of its flow; 0: none */
};

enum {
	HP_SPORT = 1 << 0,
	HP_DPORT = 1 << 1,
	HP_DNS = 1 << 2,
	HP_DNS_RESPONSE = 1 << 3,
};

struct hdb {
	sqlite3 *db;
	sqlite3_stmt *ins_pkt, *ins_raw, *ins_dns, *ins_alert, *ins_rate, *ins_flow, *sel_name, *ins_name;
	int64_t next_id;       /* packets.id: history's own, increasing across restarts */
	int64_t newest_ts;     /* µs: the retention clock (the capture's, as for the state) */
	int64_t raw_cursor_ts, raw_cursor_id; /* raw pruned up to here, (ts, id) */
	int64_t names_cursor; /* names checked for a flow up to this id (retention) */
	int64_t sensor_ids[WL_SENSORS_MAX];
};

/*
 * Opens path, checks it (quick_check when check is set), migrates the
 * schema and prepares the statements. SQLITE_NOTADB or SQLITE_CORRUPT mean
 * the file must be moved aside (history_db_move_aside).
 */
int history_db_open(struct hdb *d, const char *path, bool check, const struct history_config *cfg, char *err,
		    size_t errlen);
void history_db_close(struct hdb *d);

/* Renames path (and its -wal, -shm) to path.corrupt-TIME; the new name in moved_to. */
int history_db_move_aside(const char *path, char *moved_to, size_t size);

int history_db_exec(struct hdb *d, const char *sql);

/* Inserts; var holds the record's texts then its raw bytes. */
int history_db_insert_packet(struct hdb *d, const struct hist_pkt *p, const uint8_t *var);
int history_db_insert_alert(struct hdb *d, const struct alert *a);
int history_db_insert_rate(struct hdb *d, int64_t second, uint64_t packets, uint64_t bytes);
/* A flow report as queued (struct hist_flow, history_flows.h): inserted, or its row updated. */
int history_db_upsert_flow(struct hdb *d, const uint8_t *var);

/*
 * One retention step, in its own transaction: at most HDB_PRUNE_STEP rows
 * of one kind (flows: by when they were last seen, on the packets' clock).
 * *ret_rows gets the rows deleted (0: nothing to do).
 */
int history_db_prune_age(struct hdb *d, int64_t max_age_us, uint64_t *ret_rows);
int history_db_prune_size(struct hdb *d, uint64_t max_bytes, uint64_t *ret_rows);
int history_db_prune_raw(struct hdb *d, int64_t window_us, uint64_t *ret_rows);

int history_db_prune_names(struct hdb *d, uint64_t *ret_rows);

/* Bytes the pages in use take (the file can be larger: freed pages are reused). */
uint64_t history_db_used_bytes(struct hdb *d);

/* Whether an SQLite error means "the file is not a sound database". */
bool history_db_is_corrupt(int rc);

#endif
