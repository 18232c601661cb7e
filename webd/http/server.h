/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_SERVER_H
#define WEBD_SERVER_H

#include <stddef.h>

struct webd;

/* Starts civetweb on --listen with the gate, the guard, the files, the API and the feed. */
int server_start(struct webd *w, char *err, size_t errlen);
void server_stop(struct webd *w);

#endif
