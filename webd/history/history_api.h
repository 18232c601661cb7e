/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_HISTORY_API_H
#define WEBD_HISTORY_API_H

#include <stdint.h>

struct cJSON;
struct history;
struct mg_connection;
struct webd;

/* /api/history/... (behind api_handle's token and method checks). Returns the status sent. */
int history_api_handle(struct webd *w, struct mg_connection *conn, const char *path);

/*
 * GET /api/flow/SENSOR/ID/export.pcap from the history's raw bytes: the
 * flow's packets within [first_us, last_us] (first_us < 0: the span of its
 * latest row in the flows table), with X-Wlite-Source: history, and
 * X-Wlite-Packets and X-Wlite-Missing: the packets written, and those
 * stored without their raw bytes (past the raw window). Returns the
 * status sent, or -ENOENT having sent nothing when history holds none of
 * the flow's raw bytes (or is off), so that the caller can use the ring.
 */
int history_api_flow_pcap(struct webd *w, struct mg_connection *conn, const char *sensor, uint64_t flow_id,
			  int64_t first_us, int64_t last_us);

/* The "history" object of /api/stats ({"enabled":false} when h is NULL). */
struct cJSON *history_api_stats_json(struct history *h);

#endif
