/* SPDX-License-Identifier: BSD-2-Clause */
#include "http/gate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- Parsing NAME[:PORT] ------------------------------------------------------- */

static bool name_char_ok(char ch)
{
	return isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '_';
}

/*
 * Splits "name" or "name:port" (len bytes) into a lowercase name and a
 * port (0 when none is given). Anything else, an IPv6 literal included
 * (this civetweb serves IPv4 only), is refused.
 */
static bool split_host(const char *s, size_t len, char name[GATE_NAME_MAX], uint16_t *port)
{
	size_t n = 0;
	unsigned long p = 0;

	while (n < len && s[n] != ':') {
		if (n + 1 >= GATE_NAME_MAX || !name_char_ok(s[n]))
			return false;
		name[n] = (char)tolower((unsigned char)s[n]);
		n++;
	}
	if (n == 0)
		return false;
	name[n] = '\0';
	*port = 0;
	if (n == len)
		return true;
	if (n + 1 == len || len - n - 1 > 5)
		return false; /* "name:" or a port of more than five digits */
	for (size_t i = n + 1; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		p = p * 10 + (unsigned long)(s[i] - '0');
	}
	if (p == 0 || p > 65535)
		return false;
	*port = (uint16_t)p;
	return true;
}

static bool is_ipv4_literal(const char *name)
{
	struct in_addr a;

	return inet_pton(AF_INET, name, &a) == 1;
}

/* ---- Building the policy ------------------------------------------------------- */

static int add_name(struct gate *g, const char *name, uint16_t port, char *err, size_t errlen)
{
	struct gate_name *e;

	if (g->n_hosts >= GATE_NAMES_MAX) {
		snprintf(err, errlen, "at most %d allowed host names", GATE_NAMES_MAX);
		return -E2BIG;
	}
	e = &g->hosts[g->n_hosts++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->port = port;
	return 0;
}

/* The names the listening address itself is reached by. */
static int add_listen_names(struct gate *g, const char *listen, char *err, size_t errlen)
{
	char name[GATE_NAME_MAX];
	const char *colon = strrchr(listen, ':');
	uint16_t port;
	int r = 0;

	if (!colon || !split_host(listen, strlen(listen), name, &port) || port == 0) {
		snprintf(err, errlen, "listen must be IPV4:PORT, not '%s'", listen);
		return -EINVAL;
	}
	g->port = port;
	if (strcmp(name, "0.0.0.0") == 0) {
		/* Any address of this host: an IP literal cannot be rebound. */
		g->any_ipv4_literal = true;
		return add_name(g, "localhost", port, err, errlen);
	}
	r = add_name(g, name, port, err, errlen);
	if (r == 0 && strncmp(name, "127.", 4) == 0) {
		r = add_name(g, "localhost", port, err, errlen);
		if (r == 0 && strcmp(name, "127.0.0.1") != 0)
			r = add_name(g, "127.0.0.1", port, err, errlen);
	}
	return r;
}

/* Calls fn for each space-separated word of list. */
static int each_word(const char *list, int (*fn)(struct gate *, const char *, size_t, char *, size_t),
		     struct gate *g, char *err, size_t errlen)
{
	const char *p = list ? list : "";

	while (*p) {
		size_t n;
		int r;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, " ,");
		if (n && (r = fn(g, p, n, err, errlen)) < 0)
			return r;
		p += n;
	}
	return 0;
}

static int add_allowed_host(struct gate *g, const char *word, size_t len, char *err, size_t errlen)
{
	char name[GATE_NAME_MAX];
	uint16_t port;

	if (!split_host(word, len, name, &port)) {
		snprintf(err, errlen, "allow-host: '%.*s' is not a host name or IPv4 address, with an optional :PORT",
			 (int)(len > 100 ? 100 : len), word);
		return -EINVAL;
	}
	return add_name(g, name, port, err, errlen);
}

static int add_allowed_origin(struct gate *g, const char *word, size_t len, char *err, size_t errlen)
{
	if (g->n_origins >= GATE_NAMES_MAX || len >= GATE_NAME_MAX ||
	    !(strncasecmp(word, "http://", 7) == 0 || strncasecmp(word, "https://", 8) == 0)) {
		snprintf(err, errlen, "allow-origin: '%.*s' must be http://HOST[:PORT] or https://HOST[:PORT] (at most %d)",
			 (int)(len > 100 ? 100 : len), word, GATE_NAMES_MAX);
		return -EINVAL;
	}
	snprintf(g->origins[g->n_origins++], GATE_NAME_MAX, "%.*s", (int)len, word);
	return 0;
}

int gate_init(struct gate *g, const char *listen, const char *allow_hosts, const char *allow_origins,
	      char *err, size_t errlen)
{
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = add_listen_names(g, listen, err, errlen)) < 0 ||
	    (r = each_word(allow_hosts, add_allowed_host, g, err, errlen)) < 0)
		return r;
	return each_word(allow_origins, add_allowed_origin, g, err, errlen);
}

/* ---- Checking requests --------------------------------------------------------- */

static bool port_matches(uint16_t want, uint16_t given)
{
	if (want == 0)
		return true; /* --allow-host NAME: a proxy may forward it with any port */
	return given == want || (given == 0 && want == 80);
}

static bool host_span_ok(const struct gate *g, const char *s, size_t len)
{
	char name[GATE_NAME_MAX];
	uint16_t port;

	if (!split_host(s, len, name, &port))
		return false;
	for (size_t i = 0; i < g->n_hosts; i++)
		if (strcmp(g->hosts[i].name, name) == 0 && port_matches(g->hosts[i].port, port))
			return true;
	return g->any_ipv4_literal && port_matches(g->port, port) && is_ipv4_literal(name);
}

bool gate_host_ok(const struct gate *g, const char *host)
{
	return host && host_span_ok(g, host, strlen(host));
}

bool gate_origin_ok(const struct gate *g, const char *origin)
{
	size_t skip;

	if (!origin)
		return false;
	for (size_t i = 0; i < g->n_origins; i++)
		if (strcasecmp(g->origins[i], origin) == 0)
			return true;
	if (strncasecmp(origin, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		skip = 8;
	else
		return false; /* "null", file://, chrome-extension://... */
	return host_span_ok(g, origin + skip, strlen(origin + skip));
}

/* ---- The dashboard's own files ------------------------------------------------- */

/* NAME of css/NAME.css and js/NAME.js: one path component, no dot at its start. */
static bool plain_name(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static bool in_dir(const char *path, const char *dir, const char *ext, char *rel, size_t relsize)
{
	size_t dlen = strlen(dir), elen = strlen(ext), len = strlen(path);

	if (len <= dlen + elen || strncmp(path, dir, dlen) != 0 || strcmp(path + len - elen, ext) != 0 ||
	    !plain_name(path + dlen, len - dlen - elen))
		return false;
	return (size_t)snprintf(rel, relsize, "%s", path + 1) < relsize;
}

bool gate_static_file(const char *path, char *rel, size_t relsize)
{
	static const char *const exact[] = { "/index.html", "/favicon.svg", "/node_modules/chart.js/dist/chart.umd.js" };

	if (!path || relsize == 0)
		return false;
	if (strcmp(path, "/") == 0)
		return (size_t)snprintf(rel, relsize, "index.html") < relsize;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(path, exact[i]) == 0)
			return (size_t)snprintf(rel, relsize, "%s", exact[i] + 1) < relsize;
	return in_dir(path, "/css/", ".css", rel, relsize) || in_dir(path, "/js/", ".js", rel, relsize);
}

const char *gate_static_type(const char *rel)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
	};
	size_t len = strlen(rel);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t elen = strlen(types[i].ext);

		if (len > elen && strcmp(rel + len - elen, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}
