/* SPDX-License-Identifier: BSD-2-Clause */
#include "http.h"

#include "webd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_send(struct mg_connection *conn, int status, const char *type, const char *body, size_t len)
{
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\n"
		  "Content-Type: %s\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n" WEBD_SECURITY_HEADERS "\r\n",
		  status, mg_get_response_code_text(conn, status), type, len);
	mg_write(conn, body, len);
}

void http_send_json(struct mg_connection *conn, int status, const char *json)
{
	http_send(conn, status, "application/json", json, strlen(json));
}

void http_send_error(struct webd *w, struct mg_connection *conn, int status, const char *fmt, ...)
{
	char why[512], body[700];
	size_t o = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* The reason may quote the request: escape it as JSON. */
	o += (size_t)snprintf(body, sizeof(body), "{\"error\":\"");
	for (const char *p = why; *p && o + 8 < sizeof(body); p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(body + o, sizeof(body) - o, "\\%c", ch);
		else if (ch < 0x20)
			o += (size_t)snprintf(body + o, sizeof(body) - o, "\\u%04x", ch);
		else
			body[o++] = (char)ch;
	}
	snprintf(body + o, sizeof(body) - o, "\"}");
	if (status >= 400 && status < 500)
		atomic_fetch_add(&w->http_rejected, 1);
	http_send_json(conn, status, body);
}

void http_stream_start(struct http_stream *s, struct mg_connection *conn, const char *type,
		       const char *extra_headers)
{
	s->conn = conn;
	s->used = 0;
	s->failed = mg_printf(conn,
			      "HTTP/1.1 200 OK\r\n"
			      "Content-Type: %s\r\n"
			      "Cache-Control: no-store\r\n"
			      "Transfer-Encoding: chunked\r\n" WEBD_SECURITY_HEADERS "%s\r\n",
			      type, extra_headers ? extra_headers : "") <= 0;
}

bool http_stream_flush(struct http_stream *s)
{
	if (!s->failed && s->used && mg_send_chunk(s->conn, s->buf, (unsigned)s->used) <= 0)
		s->failed = true;
	s->used = 0;
	return !s->failed;
}

void http_stream_write(struct http_stream *s, const void *data, size_t len)
{
	const char *p = data;

	while (len && !s->failed) {
		size_t n = sizeof(s->buf) - s->used < len ? sizeof(s->buf) - s->used : len;

		memcpy(s->buf + s->used, p, n);
		s->used += n;
		p += n;
		len -= n;
		if (s->used == sizeof(s->buf))
			http_stream_flush(s);
	}
}

void http_stream_printf(struct http_stream *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		http_stream_write(s, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void http_stream_end(struct http_stream *s)
{
	http_stream_flush(s);
	/* The empty chunk: the end of the body. */
	if (!s->failed)
		mg_send_chunk(s->conn, "", 0);
}

bool http_query_param(const struct mg_connection *conn, const char *name, char *buf, size_t size)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *q = ri->query_string;

	return q && mg_get_var(q, strlen(q), name, buf, size) >= 0;
}

bool http_query_number(struct webd *w, struct mg_connection *conn, const char *name, long lo,
		       long hi, long def, long *ret)
{
	char buf[32], *end;
	long v;

	if (!http_query_param(conn, name, buf, sizeof(buf))) {
		*ret = def;
		return true;
	}
	v = strtol(buf, &end, 10);
	if (end == buf || *end || v < lo || v > hi) {
		http_send_error(w, conn, 400, "%s= must be a whole number from %ld to %ld", name, lo, hi);
		return false;
	}
	*ret = v;
	return true;
}

/* Compares in time independent of where the strings first differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned diff = (unsigned)(la ^ lb);

	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return diff == 0;
}

static bool token_ok(struct webd *w, const struct mg_connection *conn)
{
	const char *auth = mg_get_header(conn, "Authorization");
	const char *cookie = mg_get_header(conn, "Cookie");
	char given[256];

	if (!w->opt.token[0])
		return true;
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && same_secret(auth + 7, w->opt.token))
		return true;
	/* EventSource and WebSocket cannot set headers: a parameter or a cookie then. */
	if (http_query_param(conn, "token", given, sizeof(given)) && same_secret(given, w->opt.token))
		return true;
	return cookie && mg_get_cookie(cookie, "wlite_token", given, sizeof(given)) > 0 &&
	       same_secret(given, w->opt.token);
}

/*
 * A browser always names the page's origin on WebSocket and cross-site
 * POST: it must be this server (as the Host header says) or one listed.
 * Without an Origin the client is not a browser page (curl, scripts), and
 * the token, if any, is what protects the request.
 */
static bool origin_ok(struct webd *w, const struct mg_connection *conn)
{
	const char *origin = mg_get_header(conn, "Origin");
	const char *host = mg_get_header(conn, "Host");
	char own[300];
	const char *list = w->opt.allowed_origins;
	size_t n;

	if (!origin)
		return true;
	if (host && snprintf(own, sizeof(own), "http://%s", host) > 0 && strcmp(origin, own) == 0)
		return true;
	n = strlen(origin);
	for (const char *p = strstr(list, origin); p; p = strstr(p + 1, origin))
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

bool http_authorize(struct webd *w, struct mg_connection *conn, bool check_origin)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	if (ri->query_string && strlen(ri->query_string) > WEBD_QUERY_MAX) {
		http_send_error(w, conn, 414, "query string longer than %d bytes", WEBD_QUERY_MAX);
		return false;
	}
	if (!token_ok(w, conn)) {
		http_send_error(w, conn, 401, "a valid access token is required");
		return false;
	}
	if (check_origin && !origin_ok(w, conn)) {
		http_send_error(w, conn, 403, "origin not allowed");
		return false;
	}
	return true;
}
