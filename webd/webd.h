/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wlite-webd: one struct webd, owned by main(). Threads:
 *   - the ingest thread receives from capd and feeds the state (ingest.c);
 *   - the main thread runs the libevent loop: the ip-api client, the feed
 *     tick (10 a second) and the once-a-second tick;
 *   - civetweb's workers serve HTTP, each SSE client holds one;
 *   - each WebSocket client has a writer thread.
 * state.lock guards the live state; feed.lock the feed's clients; ctl_lock
 * the control socket to capd.
 */
#ifndef WEBD_WEBD_H
#define WEBD_WEBD_H

#include "geo/geo.h"
#include "geo/ipapi.h"
#include "http/gate.h"
#include "http/guard.h"
#include "live/state.h"
#include "options.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct mg_context;
struct feed;
struct history;

struct sensor_conn {
	int sock;
	int rcv_fd; /* nanomsg's NN_RCVFD, polled by the ingest thread */
};

struct webd {
	struct webd_options opt;
	int argc;
	char **argv; /* kept for SIGHUP: flags still override the reloaded file */
	struct state state;
	struct geo_db *geo;
	struct ipapi *ipapi;
	struct event_base *base;
	struct sensor_conn conns[WEBD_MAX_SENSORS];
	struct event *ev_tick, *ev_feed, *ev_signals[3];
	struct mg_context *http;
	struct gate gate;   /* which Host and Origin headers are answered */
	struct guard guard; /* connections per client, stalled ones cut */
	int web_root_fd;    /* the dashboard's files; -1: none */
	struct feed *feed;
	pthread_mutex_t ctl_lock;
	int ctl_sock;
	int64_t started;
	struct wl_wire_record *scratch; /* the feed's decoded record */
	struct ingest *ingest;          /* the ingest thread (ingest.c) */
	struct history *history;        /* NULL: --history off, or it could not open */
	int64_t rates_done;             /* history has every second up to this one */
	atomic_uint_fast64_t http_rejected; /* 4xx for bad requests, tokens, origins */
};

/* ingest.c */
int ingest_connect(struct webd *w, char *err, size_t errlen);
void ingest_close(struct webd *w);
void webd_tick(evutil_socket_t fd, short what, void *arg);
void ingest_history_rates(struct webd *w, int64_t upto);
/* Adds the ingest's counters for one sensor to its /api/stats object (state lock held). */
struct cJSON;
void ingest_sensor_json(struct cJSON *item, const struct sensor_stats *ss);

/* api.c: the figures both /api/stats and the live feed carry (state lock held). */
struct cJSON;
struct cJSON *webd_summary_json(struct webd *w);

/* server.c */
int server_start(struct webd *w, char *err, size_t errlen);
void server_stop(struct webd *w);

/* control.c: asks capd; returns capd's reply as malloc'ed JSON text, or NULL with err. */
char *control_request(struct webd *w, const char *json, char *err, size_t errlen);

#endif
