/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * civetweb: every request passes the gate first (Host, Origin: gate.c), then
 * goes to the dashboard's files (files.c), the API (api.c), or the live feed
 * as Server-Sent Events (/api/stream) and WebSocket (/ws, ws.c). A feed
 * client's writes happen on its own thread (the SSE request's worker, or a
 * writer thread per WebSocket), so a slow browser only ever waits on itself.
 * The guard (guard.c) keeps stalled connections from holding the workers.
 */
#include "http/server.h"

#include "http/api.h"
#include "http/files.h"
#include "http/gate.h"
#include "http/guard.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/ws.h"
#include "live/feed.h"
#include "webd.h"

#include "log.h"

#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEEPALIVE_MS 15000
/* A browser sends its request headers at once; a client that takes longer is cut. */
#define WEBD_HEADER_TIMEOUT_MS "5000"

/* ---- Server-Sent Events -------------------------------------------------------- */

static int sse_handle(struct mg_connection *conn, void *cbdata)
{
	struct webd *w = cbdata;
	struct feed_client *c;
	struct http_stream *out;
	bool gone = false;
	char flows[FEED_FLOWS_QUERY_MAX], err[256];
	int status = http_authorize(w, conn);

	if (status || (status = http_feed_flows_param(w, conn, flows, sizeof(flows))))
		return status;
	out = malloc(sizeof(*out));
	c = out ? feed_attach(w->feed) : NULL;
	if (!c) {
		free(out);
		http_send_error(w, conn, 503, "too many live feed clients (at most %d)", w->opt.max_clients);
		return 503;
	}
	feed_set_flows(w, c, flows, err, sizeof(err)); /* checked above */
	http_stream_start(out, conn, "text/event-stream", "X-Accel-Buffering: no\r\n");
	http_stream_printf(out, "retry: 2000\n\n");
	while (http_stream_flush(out) && !gone) {
		struct feed_msg *m = feed_next(w->feed, c, KEEPALIVE_MS, &gone);

		if (gone)
			break;
		/* A comment line now and then keeps proxies and the socket honest. */
		if (m) {
			if (m->kind == FEED_FLOWS)
				http_stream_write(out, "event: flows\ndata: ", 19);
			else
				http_stream_write(out, "event: update\ndata: ", 20);
			http_stream_write(out, m->data, m->len);
			http_stream_write(out, "\n\n", 2);
			feed_release(w->feed, m);
		} else {
			http_stream_printf(out, ": keepalive\n\n");
		}
	}
	http_stream_end(out);
	feed_detach(w->feed, c);
	free(out);
	return 200;
}

/* ---- The gate: every request passes here first --------------------------------- */

/* A connection reached a worker, before its request has been read (no address yet). */
static int on_init_connection(const struct mg_connection *conn, void **conn_data)
{
	struct webd *w = mg_get_user_data(mg_get_context(conn));

	*conn_data = guard_connection_open(&w->guard);
	return 0;
}

static void on_connection_close(const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct webd *w = mg_get_user_data(mg_get_context(conn));

	guard_connection_close(&w->guard, mg_get_user_connection_data(conn), ri ? ri->remote_addr : NULL,
			       ri ? (uint16_t)ri->remote_port : 0);
}

/*
 * With --verbose, a line per request: the status its handler returned,
 * which every handler makes the one it sent (civetweb keeps it for its
 * access log), the method and the path. Never the query: it can hold the
 * token.
 */
static void on_end_request(const struct mg_connection *conn, int status)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	wl_debug("http %d: %s %s", status, ri && ri->request_method ? ri->request_method : "-",
		 ri && ri->local_uri ? ri->local_uri : "-");
}

/*
 * civetweb's "handle everything" hook, run for every request once its
 * headers are in, before any handler and before any file: the Host and
 * Origin checks, the WebSocket, and the dashboard's files. Returns the
 * status sent, or 0 to let civetweb's handlers (the API) run.
 */
static int on_begin_request(struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct webd *w = ri->user_data;
	const char *path = ri->local_uri;
	int status;

	mg_set_user_connection_data(conn, guard_request(&w->guard, mg_get_user_connection_data(conn),
							ri->remote_addr, (uint16_t)ri->remote_port));
	if ((status = http_gate(w, conn)) != 0)
		return status;
	if (strcmp(path, "/ws") == 0)
		return ws_serve(w, conn);
	if (strncmp(path, "/api/", 5) == 0)
		return 0;
	if (strcmp(path, "/metrics") == 0)
		return metrics_serve(w, conn);
	return files_serve(w, conn);
}

/* ---- Starting ------------------------------------------------------------------- */

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	wl_warn("http: %s", message);
	return 1;
}

static int start_policy(struct webd *w, char *err, size_t errlen)
{
	struct guard_limits lim;
	int r = gate_init(&w->gate, w->opt.listen, w->opt.allow_hosts, w->opt.allowed_origins, err, errlen);

	if (r < 0)
		return r;
	guard_default_limits(&lim, (unsigned)w->opt.threads, (unsigned)w->opt.max_clients);
	if (guard_start(&w->guard, &lim, (size_t)w->opt.threads, w->gate.port) < 0) {
		snprintf(err, errlen, "cannot start the connection guard (out of memory?)");
		return -ENOMEM;
	}
	if (files_open_root(w->opt.web_root, &w->web_root_fd) < 0)
		wl_warn("the dashboard's files are not in '%s' (%s): / explains, the API works", w->opt.web_root,
			strerror(errno));
	return 0;
}

int server_start(struct webd *w, char *err, size_t errlen)
{
	struct mg_callbacks callbacks = {
		.log_message = log_civetweb,
		.init_connection = on_init_connection,
		.begin_request = on_begin_request,
		.end_request = on_end_request,
		.connection_close = on_connection_close,
	};
	char threads[16];
	const char *options[] = {
		"listening_ports", w->opt.listen,
		"num_threads", threads,
		/*
		 * The whole time a new connection may take to send its request
		 * headers (civetweb counts it from the first byte read, in all),
		 * and the longest a read or write of a request may stall.
		 * Later requests on a kept-alive connection get keep_alive_timeout_ms.
		 */
		"request_timeout_ms", WEBD_HEADER_TIMEOUT_MS,
		"keep_alive_timeout_ms", "2000",
		"max_request_size", "16384",
		/* No CORS: civetweb would otherwise allow any origin. */
		"access_control_allow_origin", "",
		"enable_keep_alive", "yes",
		NULL,
	};
	int r = start_policy(w, err, errlen);

	if (r < 0)
		return r;
	snprintf(threads, sizeof(threads), "%d", w->opt.threads);
	mg_init_library(0);
	w->http = mg_start(&callbacks, w, options);
	if (!w->http) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host?)", w->opt.listen);
		return -EADDRINUSE;
	}
	mg_set_request_handler(w->http, "/api/stream", sse_handle, w);
	mg_set_request_handler(w->http, "/api/", api_handle, w);
	return 0;
}

void server_stop(struct webd *w)
{
	if (!w->http)
		return;
	feed_shutdown(w->feed);
	mg_stop(w->http);
	w->http = NULL;
	mg_exit_library();
	guard_stop(&w->guard);
	if (w->web_root_fd >= 0)
		close(w->web_root_fd);
	w->web_root_fd = -1;
}
