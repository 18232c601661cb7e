/* SPDX-License-Identifier: BSD-2-Clause */
/* Response helpers shared by the handlers: every answer carries the security headers. */
#ifndef WEBD_HTTP_H
#define WEBD_HTTP_H

#include <civetweb.h>
#include <stdbool.h>
#include <stddef.h>

struct webd;

/*
 * Strict: only our own scripts, styles, images and connections; no inline
 * code, no framing, no plugins. The dashboard is built for it.
 */
#define WEBD_CSP                                                                            \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "   \
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "       \
	"form-action 'self'; frame-ancestors 'none'"

#define WEBD_SECURITY_HEADERS                                                                \
	"Content-Security-Policy: " WEBD_CSP "\r\n"                                          \
	"X-Content-Type-Options: nosniff\r\n"                                                \
	"X-Frame-Options: DENY\r\n"                                                          \
	"Referrer-Policy: no-referrer\r\n"                                                   \
	"Cross-Origin-Opener-Policy: same-origin\r\n"                                        \
	"Cross-Origin-Resource-Policy: same-origin\r\n"

#define WEBD_QUERY_MAX 2048
#define WEBD_BODY_MAX 4096
#define WEBD_TOKEN_MAX 127

/*
 * Sends a complete response with a body of the given type. These return
 * the status they sent, so that a handler returns what it sent:
 * return http_send_error(w, conn, 404, "...").
 */
int http_send(struct mg_connection *conn, int status, const char *type, const char *body, size_t len);
int http_send_json(struct mg_connection *conn, int status, const char *json);
/* {"error":"..."} with a 4xx or 5xx status, and counts it. */
int http_send_error(struct webd *w, struct mg_connection *conn, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * A response written in pieces as it is produced (exports, the SSE feed):
 * HTTP/1.1 chunked encoding, so the client knows where it ends and the
 * connection can be kept. Writes are buffered into chunks of up to 16 KiB.
 */
struct http_stream {
	struct mg_connection *conn;
	size_t used;
	bool failed; /* the client went away: later writes do nothing */
	char buf[16384];
};

void http_stream_start(struct http_stream *s, struct mg_connection *conn, const char *type,
		       const char *extra_headers);
void http_stream_write(struct http_stream *s, const void *data, size_t len);
void http_stream_printf(struct http_stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends what is buffered now; returns false once the client is gone. */
bool http_stream_flush(struct http_stream *s);
/* Flushes and sends the final empty chunk. */
void http_stream_end(struct http_stream *s);

/*
 * Checks the query length and the access token (when one is set). Returns
 * 0, or the 4xx status it has sent.
 */
int http_authorize(struct webd *w, struct mg_connection *conn);

/*
 * Before any handler, on every path: the Host must be one this server
 * answers to (421 otherwise), and an Origin, when there is one, an allowed
 * one (403). Returns 0, or the status it has sent.
 */
int http_gate(struct webd *w, struct mg_connection *conn);

/*
 * The live feed's flow query, ?flows=QUERY (URL-decoded: the query string
 * of /api/flows, itself encoded once more), into buf ("" when absent).
 * Returns 0, or the 400 it sent for one too long or that /api/flows would refuse.
 */
int http_feed_flows_param(struct webd *w, struct mg_connection *conn, char *buf, size_t size);

/* The value of a query parameter (URL-decoded) into buf, or false if absent. */
bool http_query_param(const struct mg_connection *conn, const char *name, char *buf, size_t size);

/* A whole-number parameter within [lo, hi], def when absent. Returns 0, or the status it has sent (400). */
int http_query_long(struct webd *w, struct mg_connection *conn, const char *name, long lo, long hi, long def,
		    long *ret);

#endif
