/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * civetweb: static files of the dashboard, the API (api.c), and the live
 * feed as Server-Sent Events (/api/stream) and WebSocket (/ws). A feed
 * client's writes happen on its own thread (the SSE request's worker, or a
 * writer thread per WebSocket), so a slow browser only ever waits on itself.
 */
#include "api.h"
#include "feed.h"
#include "http.h"
#include "webd.h"

#include "log.h"

#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KEEPALIVE_MS 15000

/* ---- Server-Sent Events -------------------------------------------------------- */

static int sse_handle(struct mg_connection *conn, void *cbdata)
{
	struct webd *w = cbdata;
	struct feed_client *c;
	struct http_stream *out;
	bool gone = false;

	if (!http_authorize(w, conn, false))
		return 401;
	out = malloc(sizeof(*out));
	c = out ? feed_attach(w->feed) : NULL;
	if (!c) {
		free(out);
		http_send_error(w, conn, 503, "too many live feed clients (at most %d)", w->opt.max_clients);
		return 503;
	}
	http_stream_start(out, conn, "text/event-stream", "X-Accel-Buffering: no\r\n");
	http_stream_printf(out, "retry: 2000\n\n");
	while (http_stream_flush(out) && !gone) {
		struct feed_msg *m = feed_next(w->feed, c, KEEPALIVE_MS, &gone);

		if (gone)
			break;
		/* A comment line now and then keeps proxies and the socket honest. */
		if (m) {
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

/* ---- WebSocket ------------------------------------------------------------------ */

struct ws_client {
	struct webd *w;
	struct mg_connection *conn;
	struct feed_client *feed;
	pthread_t writer;
	bool writer_started;
	volatile bool closing;
};

static void *ws_writer(void *arg)
{
	struct ws_client *ws = arg;
	bool gone = false;

	while (!gone && !ws->closing) {
		struct feed_msg *m = feed_next(ws->w->feed, ws->feed, 1000, &gone);
		int r = 1;

		if (m) {
			r = mg_websocket_write(ws->conn, MG_WEBSOCKET_OPCODE_TEXT, m->data, m->len);
			feed_release(ws->w->feed, m);
		}
		if (r <= 0)
			break;
	}
	if (gone && !ws->closing) {
		/* Dropped for being slow, or shutting down: say goodbye properly. */
		static const char reason[] = { 0x03, (char)0xe9 }; /* 1001 going away */

		mg_websocket_write(ws->conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, reason, sizeof(reason));
	}
	return NULL;
}

static int ws_connect(const struct mg_connection *conn, void *cbdata)
{
	struct webd *w = cbdata;
	struct ws_client *ws;

	/* Non-zero refuses the upgrade; http_authorize has sent the reason. */
	if (!http_authorize(w, (struct mg_connection *)conn, true))
		return 1;
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return 1;
	ws->feed = feed_attach(w->feed);
	if (!ws->feed) {
		free(ws);
		return 1;
	}
	ws->w = w;
	ws->conn = (struct mg_connection *)conn;
	mg_set_user_connection_data(conn, ws);
	return 0;
}

static void ws_ready(struct mg_connection *conn, void *cbdata)
{
	struct ws_client *ws = mg_get_user_connection_data(conn);

	(void)cbdata;
	if (ws && pthread_create(&ws->writer, NULL, ws_writer, ws) == 0)
		ws->writer_started = true;
}

static int ws_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
	(void)cbdata;
	/* The feed is one-way; answer the close handshake, ignore the rest. */
	if ((bits & 0x0f) == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
		mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, data, len);
		return 0;
	}
	return 1;
}

static void ws_close(const struct mg_connection *conn, void *cbdata)
{
	struct ws_client *ws = mg_get_user_connection_data(conn);

	(void)cbdata;
	if (!ws)
		return;
	ws->closing = true;
	/* The writer must be gone before civetweb frees the connection. */
	if (ws->writer_started)
		pthread_join(ws->writer, NULL);
	feed_detach(ws->w->feed, ws->feed);
	free(ws);
}

/* ---- Starting ------------------------------------------------------------------- */

static int log_civetweb(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	wl_warn("http: %s", message);
	return 1;
}

/* Without the dashboard's files, / says where they were looked for. */
static int missing_web_root(struct mg_connection *conn, void *cbdata)
{
	struct webd *w = cbdata;
	char body[768];

	snprintf(body, sizeof(body),
		 "wlite-webd is running, but the dashboard's files were not found in '%s'.\n"
		 "Start it with --web-root DIR. The API is under /api/.\n",
		 w->opt.web_root);
	http_send(conn, 200, "text/plain; charset=utf-8", body, strlen(body));
	return 200;
}

int server_start(struct webd *w, char *err, size_t errlen)
{
	struct mg_callbacks callbacks = { .log_message = log_civetweb };
	char threads[16], static_headers[sizeof(WEBD_SECURITY_HEADERS)];
	struct stat st;
	bool have_root = w->opt.web_root[0] && stat(w->opt.web_root, &st) == 0 && S_ISDIR(st.st_mode);
	const char *options[] = {
		"listening_ports", w->opt.listen,
		"num_threads", threads,
		"document_root", have_root ? w->opt.web_root : "/nonexistent",
		"enable_directory_listing", "no",
		"request_timeout_ms", "10000",
		"max_request_size", "16384",
		/* Static files get the same headers as the API. */
		"additional_header", static_headers,
		/* No CORS: civetweb would otherwise allow any origin. */
		"access_control_allow_origin", "",
		"enable_keep_alive", "yes",
		NULL,
	};

	snprintf(threads, sizeof(threads), "%d", w->opt.threads);
	/* civetweb ends the value with its own CRLF: drop ours from the last line. */
	snprintf(static_headers, sizeof(static_headers), "%s", WEBD_SECURITY_HEADERS);
	static_headers[strlen(static_headers) - 2] = '\0';
	mg_init_library(0);
	w->http = mg_start(&callbacks, w, options);
	if (!w->http) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host?)", w->opt.listen);
		return -EADDRINUSE;
	}
	mg_set_request_handler(w->http, "/api/stream", sse_handle, w);
	mg_set_request_handler(w->http, "/api/", api_handle, w);
	mg_set_websocket_handler(w->http, "/ws", ws_connect, ws_ready, ws_data, ws_close, w);
	if (!have_root)
		mg_set_request_handler(w->http, "/$", missing_web_root, w);
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
}
