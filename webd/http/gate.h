/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The front gate: which Host and Origin headers webd answers, and which
 * paths are the dashboard's own files. Pure functions on strings, so that
 * they are unit-tested and fuzzed without a server.
 *
 * Why Host: a page on evil.example whose name is rebound to 127.0.0.1 talks
 * to webd with Host: evil.example and Origin: http://evil.example, and the
 * browser treats the answers as evil.example's own (DNS rebinding). Only
 * names this server is known by are answered.
 */
#ifndef WEBD_GATE_H
#define WEBD_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GATE_NAMES_MAX 32
#define GATE_NAME_MAX 256

struct gate_name {
	char name[GATE_NAME_MAX]; /* lowercase, no port */
	uint16_t port;            /* 0: any port, or none given */
};

struct gate {
	struct gate_name hosts[GATE_NAMES_MAX];
	size_t n_hosts;
	bool any_ipv4_literal; /* bound to 0.0.0.0: any IPv4 literal with our port */
	uint16_t port;         /* the listening port */
	char origins[GATE_NAMES_MAX][GATE_NAME_MAX]; /* --allow-origin, exact */
	size_t n_origins;
};

/*
 * Builds the policy from --listen (IPV4:PORT), --allow-host NAME[:PORT]
 * and --allow-origin ORIGIN lists (space-separated). Returns 0 or -EINVAL
 * with a message.
 */
int gate_init(struct gate *g, const char *listen, const char *allow_hosts, const char *allow_origins,
	      char *err, size_t errlen);

/* Whether a Host header names this server. NULL (no Host) is refused. */
bool gate_host_ok(const struct gate *g, const char *host);

/*
 * Whether an Origin header is allowed: http:// or https:// plus a host the
 * Host rules accept, or one of --allow-origin. "null" never is.
 */
bool gate_origin_ok(const struct gate *g, const char *origin);

/*
 * Maps a request path (already %-decoded and cleaned of dot segments by
 * civetweb) to a dashboard file relative to the web root, or returns false
 * when the path is not one of the dashboard's files. Only index.html,
 * favicon.svg, css/NAME.css, js/NAME.js and Chart.js's bundle are served:
 * never README.md, package.json, lock files, dotfiles or directories.
 */
bool gate_static_file(const char *path, char *rel, size_t relsize);

/* The Content-Type for a file gate_static_file() accepted. */
const char *gate_static_type(const char *rel);

#endif
