/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_API_H
#define WEBD_API_H

#include <civetweb.h>
#include <stddef.h>
#include <stdint.h>

struct webd;
struct cJSON;
struct wl_packet;

/* civetweb handler for /api/ (cbdata: struct webd). */
int api_handle(struct mg_connection *conn, void *cbdata);

/* export.c: /api/export.csv, /api/export.pcap, /api/rates.csv; 404 for anything else. */
int export_handle(struct webd *w, struct mg_connection *conn, const char *path);

/* detail.c: the dissection tree of one packet, as {"layers":[...]}. */
struct cJSON *webd_packet_detail(struct wl_packet *pkt, int linktype, const uint8_t *raw, size_t len);

#endif
