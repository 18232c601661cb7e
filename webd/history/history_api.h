/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_HISTORY_API_H
#define WEBD_HISTORY_API_H

struct cJSON;
struct history;
struct mg_connection;
struct webd;

/* /api/history/... (behind api_handle's token and method checks). Returns the status sent. */
int history_api_handle(struct webd *w, struct mg_connection *conn, const char *path);

/* The "history" object of /api/stats ({"enabled":false} when h is NULL). */
struct cJSON *history_api_stats_json(struct history *h);

#endif
