/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_EXPORT_H
#define WEBD_EXPORT_H

struct webd;
struct mg_connection;

/* /api/export.csv, /api/export.pcap, /api/rates.csv; 404 for anything else. Returns the status sent. */
int export_handle(struct webd *w, struct mg_connection *conn, const char *path);

#endif
