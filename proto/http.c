/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.x (RFC 9112): the request line or status line, and the Host header.
 *
 * TCP reassembly is off, so only the bytes of this segment are looked at. A
 * line ends at LF, with an optional CR before it (some clients send bare LF).
 * A header block that does not reach its empty line within the segment is
 * reported as truncated; what was captured is still decoded.
 */
#include "dissect.h"

static const char *const http_methods[] = {
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
};

#define HTTP_RESPONSE_PREFIX "HTTP/1."
#define HTTP_VERSION_PREFIX "HTTP/"

/* Matches s at the cursor's position without moving it; case-sensitive. */
static bool http_starts_with(const struct cursor *c, const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++) {
		uint8_t b;

		if (cur_peek_u8(c, c->off + i, &b) || b != (uint8_t)s[i])
			return false;
	}
	return true;
}

static uint8_t ascii_lower(uint8_t b)
{
	return b >= 'A' && b <= 'Z' ? (uint8_t)(b - 'A' + 'a') : b;
}

/* Whether the whole of c equals s, ignoring ASCII case (header names). */
static bool http_equals_nocase(struct cursor c, const char *s)
{
	uint8_t b;

	for (size_t i = 0; s[i] != '\0'; i++)
		if (cur_u8(&c, &b) || ascii_lower(b) != (uint8_t)s[i])
			return false;
	return cur_left(&c) == 0;
}

static const char *http_request_method(const struct cursor *c)
{
	for (size_t i = 0; i < sizeof(http_methods) / sizeof(http_methods[0]); i++) {
		struct cursor m = *c;

		if (http_starts_with(&m, http_methods[i]) &&
		    cur_skip(&m, strlen(http_methods[i])) == 0 && http_starts_with(&m, " "))
			return http_methods[i];
	}
	return NULL;
}

bool wl_looks_like_http(const struct cursor *c)
{
	return http_request_method(c) || http_starts_with(c, HTTP_RESPONSE_PREFIX);
}

/*
 * Cuts the next line off c into *ret, without its CR LF. Returns false when
 * the capture ends before the LF; *ret then holds the partial line.
 */
static bool http_next_line(struct cursor *c, struct cursor *ret)
{
	struct cursor line = cur_rest(c);
	size_t n = 0;
	uint8_t b;

	while (cur_peek_u8(&line, n, &b) == 0 && b != '\n')
		n++;
	bool complete = cur_need(&line, n + 1) == 0;

	cur_narrow(&line, n);
	cur_skip(c, complete ? n + 1 : n);
	if (n > 0 && cur_peek_u8(&line, n - 1, &b) == 0 && b == '\r')
		cur_narrow(&line, n - 1);
	*ret = line;
	return complete;
}

/* Cuts c at the first byte equal to sep: *ret gets the part before it. */
static bool http_split(struct cursor *c, uint8_t sep, struct cursor *ret)
{
	struct cursor head = cur_rest(c);
	size_t n = 0;
	uint8_t b;

	while (cur_peek_u8(&head, n, &b) == 0 && b != sep)
		n++;
	if (cur_need(c, n + 1))
		return false; /* no separator: c is left as it was */
	cur_skip(c, n + 1);
	cur_narrow(&head, n);
	*ret = head;
	return true;
}

static bool http_is_space(uint8_t b)
{
	return b == ' ' || b == '\t';
}

/* Strips spaces and tabs from both ends, as for a header field value. */
static struct cursor http_trim(const struct cursor *c)
{
	struct cursor v = cur_rest(c);
	size_t start = 0, end = cur_left(&v);
	uint8_t b;

	while (cur_peek_u8(&v, start, &b) == 0 && http_is_space(b))
		start++;
	while (end > start && cur_peek_u8(&v, end - 1, &b) == 0 && http_is_space(b))
		end--;
	cur_narrow(&v, end);
	cur_skip(&v, start);
	return cur_rest(&v);
}

static void http_copy(char *buf, size_t size, struct cursor text)
{
	struct wl_sb sb = wl_sb_make(buf, size);

	wl_sb_printable(&sb, text);
}

/*
 * "METHOD SP request-target SP HTTP-version", or HTTP/0.9's "GET SP target",
 * which has no version and no headers after it (*ret_simple).
 */
static int http_request_line(struct cursor line, bool complete, struct wl_http *h,
			     bool *ret_simple)
{
	struct cursor method, target;

	if (!http_split(&line, ' ', &method))
		return -EBADMSG; /* cannot happen: wl_looks_like_http saw the space */
	http_copy(h->method, sizeof(h->method), method);
	if (!http_split(&line, ' ', &target)) {
		/* The target runs to the end of the line, or of what we have. */
		http_copy(h->path, sizeof(h->path), line);
		if (!complete)
			return -EMSGSIZE;
		*ret_simple = true;
		return cur_left(&line) > 0 ? 0 : -EBADMSG;
	}
	http_copy(h->path, sizeof(h->path), target);
	if (cur_left(&target) == 0)
		return -EBADMSG;
	if (!http_starts_with(&line, HTTP_VERSION_PREFIX))
		return complete || cur_left(&line) >= strlen(HTTP_VERSION_PREFIX) ? -EBADMSG
										 : -EMSGSIZE;
	return complete ? 0 : -EMSGSIZE;
}

static int http_digit(struct cursor *c, unsigned *acc)
{
	uint8_t b;

	if (cur_u8(c, &b))
		return -EMSGSIZE;
	if (b < '0' || b > '9')
		return -EBADMSG;
	*acc = *acc * 10 + (unsigned)(b - '0');
	return 0;
}

/* "HTTP-version SP 3DIGIT SP [reason-phrase]" */
static int http_status_line(struct cursor line, bool complete, struct wl_http *h)
{
	struct cursor version;
	unsigned status = 0;
	uint8_t sp;
	int r = 0;

	if (!http_split(&line, ' ', &version))
		return complete ? -EBADMSG : -EMSGSIZE;
	for (int i = 0; i < 3 && r == 0; i++)
		r = http_digit(&line, &status);
	/* The SP after the code is required, but many servers omit it with the phrase. */
	if (r == 0 && cur_u8(&line, &sp) == 0 && sp != ' ')
		r = -EBADMSG;
	if (r == 0 && (status < 100 || status > 599))
		r = -EBADMSG;
	if (r == -EMSGSIZE && complete)
		r = -EBADMSG; /* the line ended, not the capture */
	if (r)
		return r;
	h->response = true;
	h->status = (uint16_t)status;
	return complete ? 0 : -EMSGSIZE;
}

/* "field-name ':' OWS field-value OWS"; only Host matters here. */
static int http_header_line(struct cursor line, bool complete, struct wl_http *h,
			    bool *has_host)
{
	struct cursor name;
	uint8_t b;

	/* Obsolete line folding continues the previous header's value. */
	if (cur_peek_u8(&line, 0, &b) == 0 && http_is_space(b))
		return 0;
	if (!http_split(&line, ':', &name))
		return complete ? -EBADMSG : -EMSGSIZE;
	if (*has_host || !complete || !http_equals_nocase(name, "host"))
		return complete ? 0 : -EMSGSIZE;
	http_copy(h->host, sizeof(h->host), http_trim(&line));
	*has_host = true;
	return 0;
}

/* Header lines up to the empty line; the first error is kept but the walk goes on. */
static int http_headers(struct cursor *c, struct wl_http *h)
{
	bool has_host = false;
	int err = 0;

	while (cur_left(c) > 0) {
		struct cursor line;
		bool complete = http_next_line(c, &line);

		if (complete && cur_left(&line) == 0)
			return err; /* end of the header block */
		int r = http_header_line(line, complete, h, &has_host);

		if (err == 0)
			err = r;
	}
	return err ? err : -EMSGSIZE;
}

static void http_keep(struct wl_dctx *d, const struct wl_http *h)
{
	struct wl_packet *pkt = d->pkt;

	if (pkt->has & WL_PKT_HTTP)
		return;
	pkt->http = *h;
	pkt->has |= WL_PKT_HTTP;
}

#define HTTP_TREE_LINES_MAX 32

/* The first line and the header lines, each as it stands, up to the empty line. */
static void tree_http(struct wl_dctx *d, const struct cursor *c, bool request)
{
	struct cursor msg = cur_rest(c), line;

	for (unsigned i = 0; i < HTTP_TREE_LINES_MAX && cur_left(&msg) > 0; i++) {
		bool complete = http_next_line(&msg, &line);

		if (complete && cur_left(&line) == 0)
			return;
		wl_tree_printable(d, &line, 0, cur_left(&line),
				  i > 0 ? "Header" : request ? "Request line" : "Status line");
	}
}

int wl_decode_http(struct wl_dctx *d, struct cursor *c)
{
	struct cursor msg = cur_rest(c), line;
	struct wl_http h = { .response = false };
	bool request = http_request_method(c) != NULL;
	bool simple = false;
	int r, r2;

	if (!request && !http_starts_with(c, HTTP_RESPONSE_PREFIX))
		return 0;
	wl_enter(d, WL_P_HTTP, c);
	if (d->tree) {
		wl_tree_layer(d, WL_P_HTTP, "Hypertext Transfer Protocol", c);
		tree_http(d, c, request);
	}
	bool complete = http_next_line(&msg, &line);

	/* Wireshark's Info column is the first line itself. */
	struct wl_sb info = wl_info(d);

	wl_sb_printable(&info, line);

	if (request)
		r = http_request_line(line, complete, &h, &simple);
	else
		r = http_status_line(line, complete, &h);
	/* A request's method is worth keeping even if the rest is bad. */
	if (request || h.response) {
		r2 = complete && !simple ? http_headers(&msg, &h) : 0;
		http_keep(d, &h);
		if (r == 0)
			r = r2;
	}
	return r ? wl_fail(d, r) : 0;
}
