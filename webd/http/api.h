/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_API_H
#define WEBD_API_H

#include <civetweb.h>

/* civetweb handler for /api/ (cbdata: struct webd). Returns the status sent. */
int api_handle(struct mg_connection *conn, void *cbdata);

#endif
