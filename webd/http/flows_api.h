/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_FLOWS_API_H
#define WEBD_FLOWS_API_H

struct webd;
struct mg_connection;

/*
 * /api/flows, /api/flows/export.csv, /api/endpoints, /api/flow/SENSOR/ID and
 * /api/flow/SENSOR/ID/export.pcap; 404 for anything else under them.
 * Returns the status sent.
 */
int flows_api_handle(struct webd *w, struct mg_connection *conn, const char *path);

#endif
