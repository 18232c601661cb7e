/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wlite-webd: one struct webd, owned by main() (main.c). This header holds
 * that struct only; every .c file declares what it defines in its own header.
 * Threads:
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

#include "daemon.h"
#include "http/gate.h"
#include "http/guard.h"
#include "live/state.h"
#include "options.h"
#include "sensors.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct event;
struct event_base;
struct feed;
struct geo_db;
struct history;
struct ingest;
struct ipapi;
struct mg_context;
struct wl_wire_record;

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
	struct sensor_conn conns[WL_SENSORS_MAX];
	struct event *ev_tick, *ev_feed;
	struct wl_daemon_signals signals; /* stop and reload (common/daemon.h) */
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

#endif
