/* SPDX-License-Identifier: BSD-2-Clause */
#include "http/http.h"

#include "live/feed.h"

#include "webd.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* HEAD gets the headers GET would get, and no body (RFC 9110 9.3.2). */
static bool is_head(const struct mg_connection *conn)
{
	return strcmp(mg_get_request_info(conn)->request_method, "HEAD") == 0;
}

int http_send(struct mg_connection *conn, int status, const char *type, const char *body, size_t len)
{
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\n"
		  "Content-Type: %s\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n" WEBD_SECURITY_HEADERS "\r\n",
		  status, mg_get_response_code_text(conn, status), type, len);
	if (!is_head(conn))
		mg_write(conn, body, len);
	return status;
}

int http_send_json(struct mg_connection *conn, int status, const char *json)
{
	return http_send(conn, status, "application/json", json, strlen(json));
}

int http_send_error(struct webd *w, struct mg_connection *conn, int status, const char *fmt, ...)
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
	return http_send_json(conn, status, body);
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
			      type, extra_headers ? extra_headers : "") <= 0 ||
		    is_head(conn); /* the headers only: later writes do nothing */
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

int http_feed_flows_param(struct webd *w, struct mg_connection *conn, char *buf, size_t size)
{
	const char *q = mg_get_request_info(conn)->query_string;
	char err[256];
	int n = q ? mg_get_var(q, strlen(q), "flows", buf, size) : -1;

	if (n == -2)
		return http_send_error(w, conn, 400, "flows= is longer than %zu bytes", size - 1);
	if (n < 0)
		buf[0] = '\0';
	if (feed_check_flows(w, buf, err, sizeof(err)) < 0)
		return http_send_error(w, conn, 400, "flows=: %s", err);
	return 0;
}

int http_query_long(struct webd *w, struct mg_connection *conn, const char *name, long lo, long hi, long def,
		    long *ret)
{
	char buf[32], *end;
	long v;

	if (!http_query_param(conn, name, buf, sizeof(buf))) {
		*ret = def;
		return 0;
	}
	v = strtol(buf, &end, 10);
	if (end == buf || *end || v < lo || v > hi)
		return http_send_error(w, conn, 400, "%s= must be a whole number from %ld to %ld", name, lo, hi);
	*ret = v;
	return 0;
}

/*
 * Compares two secrets in a time that depends on neither their contents nor
 * their lengths: both are hashed to a fixed size first.
 */
static bool same_secret(const char *given, size_t given_len, const char *want)
{
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)given, given_len, a);
	SHA256((const unsigned char *)want, strlen(want), b);
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

/*
 * ?token=: URL-decoded, so it could hold a NUL that would cut the C
 * string short. Such a value is refused rather than compared.
 */
static bool query_token_ok(const struct mg_connection *conn, const char *want, bool *has_nul)
{
	const char *q = mg_get_request_info(conn)->query_string;
	char given[WEBD_TOKEN_MAX + 2];
	int n = q ? mg_get_var(q, strlen(q), "token", given, sizeof(given)) : -1;

	if (n < 0)
		return false;
	if (strlen(given) != (size_t)n) {
		*has_nul = true;
		return false;
	}
	return same_secret(given, (size_t)n, want);
}

static bool token_ok(struct webd *w, const struct mg_connection *conn, bool *has_nul)
{
	const char *auth = mg_get_header(conn, "Authorization");
	const char *cookie = mg_get_header(conn, "Cookie");
	char given[WEBD_TOKEN_MAX + 2];
	int n;

	if (!w->opt.token[0])
		return true;
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && same_secret(auth + 7, strlen(auth + 7), w->opt.token))
		return true;
	/* EventSource and WebSocket cannot set headers: a parameter or a cookie then. */
	if (query_token_ok(conn, w->opt.token, has_nul))
		return true;
	n = cookie ? mg_get_cookie(cookie, "wlite_token", given, sizeof(given)) : -1;
	return n > 0 && same_secret(given, (size_t)n, w->opt.token);
}

int http_authorize(struct webd *w, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	bool has_nul = false;

	if (ri->query_string && strlen(ri->query_string) > WEBD_QUERY_MAX) {
		http_send_error(w, conn, 414, "query string longer than %d bytes", WEBD_QUERY_MAX);
		return 414;
	}
	if (!token_ok(w, conn, &has_nul)) {
		if (has_nul)
			http_send_error(w, conn, 400, "the token must not contain NUL");
		else
			http_send_error(w, conn, 401, "a valid access token is required");
		return has_nul ? 400 : 401;
	}
	return 0;
}

/* ---- The front gate ------------------------------------------------------------ */

int http_gate(struct webd *w, struct mg_connection *conn)
{
	const char *host = mg_get_header(conn, "Host");
	const char *origin = mg_get_header(conn, "Origin");

	if (!gate_host_ok(&w->gate, host)) {
		http_send_error(w, conn, 421, "this server does not answer to that Host (see --allow-host)");
		return 421;
	}
	/* A browser names the page's origin on anything but a plain navigation. */
	if (origin && !gate_origin_ok(&w->gate, origin)) {
		http_send_error(w, conn, 403, "origin not allowed (see --allow-host and --allow-origin)");
		return 403;
	}
	return 0;
}
