/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GET /metrics: webd's figures for Prometheus, in the text exposition
 * format 0.0.4 (promtext.h), behind the same token as the API. Per sensor
 * (label "sensor"): what webd received and missed, capd's own counters
 * carried over its restarts (live/counters.h), flows and alerts; webd-wide:
 * the feed, the ingest's hand-off, history, geolocation, HTTP; and the
 * process's own figures under the standard process_* names.
 */
#ifndef WEBD_METRICS_H
#define WEBD_METRICS_H

#include <civetweb.h>

struct webd;

/* Answers /metrics (GET or HEAD). Returns the status sent. */
int metrics_serve(struct webd *w, struct mg_connection *conn);

#endif
