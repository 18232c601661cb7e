/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_EXPORT_H
#define WEBD_EXPORT_H

#include <stdint.h>

struct webd;
struct mg_connection;

/* /api/export.csv, /api/export.pcap, /api/rates.csv; 404 for anything else. Returns the status sent. */
int export_handle(struct webd *w, struct mg_connection *conn, const char *path);

/*
 * The packets of one flow still in the ring, as PCAP (a flow's packets carry
 * its id: wlite-wire.h). Returns the status sent.
 */
int export_flow_pcap(struct webd *w, struct mg_connection *conn, const char *sensor, uint64_t flow_id);

#endif
