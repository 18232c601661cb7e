/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow records in the history: what the ingest queues for one report, the
 * flows table's columns (in one order for the upsert and for every SELECT),
 * a stored row back as a flow record, and a row as the API's JSON: the
 * flow schema v1 object of common/flow-json.c with the sensor's name and
 * webd's additions, the shape /api/flows gives a live flow.
 *
 * A long flow is one row: reports are keyed by (sensor, flow id, first) and
 * each active report updates the row in place with its counters so far.
 */
#ifndef WEBD_HISTORY_FLOWS_H
#define WEBD_HISTORY_FLOWS_H

#include "wlite-wire.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_FLOW_HOSTS_MAX 1024 /* the JSON of what webd knew of both ends */

/*
 * One report as queued: fixed size up to rec.name; the flow's name and the
 * hosts' JSON follow it in the byte ring (HIST_FLOW_FIXED bytes, then
 * name_len, then hosts_len).
 */
struct hist_flow {
	int64_t heard_us;    /* webd's wall clock when the report arrived */
	uint8_t sensor;      /* the ingest's sensor index */
	char country[2][3];  /* of ends a and b, "" when unknown: for country= */
	uint16_t name_len, hosts_len;
	struct wl_flow_record rec; /* its name is not copied: it follows as text */
};

#define HIST_FLOW_FIXED (offsetof(struct hist_flow, rec) + offsetof(struct wl_flow_record, name))

/* Every field of a report but its name is queued as it is: a field after the name would be lost. */
_Static_assert(offsetof(struct wl_flow_record, name) + WL_NAME_MAX + 8 > sizeof(struct wl_flow_record),
	       "struct wl_flow_record: the name must stay its last member (history_flows.h)");

/* A report as stored in the record column: a wire batch header and the one record. */
#define HIST_FLOW_RECORD_MAX (WL_WIRE_BATCH_HEADER + WL_FLOW_RECORD_MAX)

/* The flows table's columns, in the order of history_flows_columns. */
enum hf_col {
	HF_ID, /* history's own row id; not written by the upsert */
	HF_SENSOR,
	HF_FLOW_ID,
	HF_FIRST,
	HF_LAST,
	HF_HEARD,
	HF_ENDED,
	HF_END,
	HF_L3,
	HF_IPPROTO,
	HF_FLAGS,
	HF_ETHERTYPE,
	HF_A,
	HF_B,
	HF_A_PORT,
	HF_B_PORT,
	HF_APP,
	HF_NAME,
	HF_A_PACKETS,
	HF_A_BYTES,
	HF_B_PACKETS,
	HF_B_BYTES,
	HF_PACKETS,
	HF_BYTES,
	HF_TCP_STATE,
	HF_RTT,
	HF_RETRANS,
	HF_A_TCP_FLAGS,
	HF_B_TCP_FLAGS,
	HF_A_RETRANS,
	HF_B_RETRANS,
	HF_A_OUT_OF_ORDER,
	HF_B_OUT_OF_ORDER,
	HF_A_DUP_ACKS,
	HF_B_DUP_ACKS,
	HF_A_ZERO_WINDOWS,
	HF_B_ZERO_WINDOWS,
	HF_RESETS,
	HF_VLAN0,
	HF_VLAN1,
	HF_OUTER_A,
	HF_OUTER_B,
	HF_ICMP_TYPE,
	HF_ICMP_CODE,
	HF_ICMP_ID,
	HF_A_COUNTRY,
	HF_B_COUNTRY,
	HF_HOSTS,
	HF_RECORD, /* the report whole (schema 3; NULL in rows written before) */
	HF_NAME_ID, /* names.id of its name (schema 4), NULL: none */
	HF__N
};

/* "id, sensor, flow_id, ...": every column, for SELECT lists ("f." before each with prefix "f."). */
size_t history_flows_columns(char *buf, size_t size, const char *prefix);

/*
 * The upsert (writer): one row per (sensor, flow_id, first); a later report
 * of the same flow replaces its counters, an older one (out of order), or
 * an active report after the flow's end, is ignored. Parameters ?N are the columns HF_SENSOR.. in order, N = column.
 */
size_t history_flows_upsert_sql(char *buf, size_t size);

/*
 * Binds a queued report: f (its name included) and hosts (f->hosts_len
 * bytes), with the sensor's row id in the sensors table and its name's in
 * the names table (0: none); the record column is encoded into
 * record[0..size). Blobs and texts are bound SQLITE_STATIC:
 * f, hosts and record must outlive the step.
 */
void history_flows_bind(sqlite3_stmt *st, const struct hist_flow *f, const uint8_t *hosts, int64_t sensor_id,
			int64_t name_id, uint8_t *record, size_t size);

/* A stored row (columns at col0 + HF_*) back as a report: its record, else its columns. */
void history_flows_record(sqlite3_stmt *st, int col0, struct wl_flow_record *ret);

/*
 * A stored row as the API shows a flow (columns at col0 + HF_*, and the
 * sensor's name): {"sensor":..., the v1 keys, "active", "duration",
 * "rate_bps", "heard", then what webd knew of both ends when the report
 * arrived}. Returns the length written into buf (no newline), or -ENOBUFS.
 */
long history_flows_json(sqlite3_stmt *st, int col0, const char *sensor, char *buf, size_t size);

#define HIST_FLOW_JSON_MAX (4096 + HIST_FLOW_HOSTS_MAX + 256)

#endif
