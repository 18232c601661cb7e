/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Keeps slow clients from holding every HTTP worker.
 *
 * civetweb gives each connection a worker thread, which then waits for the
 * request headers (for at most request_timeout_ms in all). Sixty connections
 * that never finish their headers used to stall every worker. civetweb
 * exposes neither a connection's descriptor nor, before its headers, its
 * address; so the guard learns which connections have sent a request from
 * civetweb's callbacks, and finds the rest by looking at this process's
 * sockets on the listening port. When connections are waiting for their
 * headers (and only then), a watchdog thread looks every GUARD_SCAN_MS and:
 *
 *   - cuts the newest connections of an address that holds more than
 *     per_addr, so that one client cannot take the workers kept for others;
 *   - cuts the OLDEST connections still sending headers when one address
 *     has more than per_addr_half_open of them, or all addresses together
 *     more than half_open: a real client sends its headers at once, so the
 *     cut ones are the stalled ones, and a new request always finds a worker.
 *
 * Cutting is shutdown(2) on a dup(2) of the socket, checked to be the same
 * socket first, so a descriptor reused meanwhile is never touched.
 */
#ifndef WEBD_GUARD_H
#define WEBD_GUARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUARD_SCAN_MS 100

struct guard_limits {
	unsigned per_addr;           /* connections one address may hold */
	unsigned per_addr_half_open; /* of them, still sending their first headers */
	unsigned half_open;          /* all addresses together, still sending headers */
};

struct guard_stats {
	uint64_t cut_half_open; /* stalled connections cut */
	uint64_t cut_per_addr;  /* connections cut: their address held too many */
	uint64_t scans;
	unsigned open, half_open;
};

/* A client that has sent at least one request on a connection still open. */
struct guard_peer {
	uint32_t addr; /* IPv4, network order */
	uint16_t port; /* host order */
	bool used;
};

/* A client socket on the listening port, as the last scan saw it. */
struct guard_sock {
	uint64_t inode;
	uint64_t first_seen; /* scan number: smaller is older */
	uint32_t addr;
	uint16_t port;
	int fd;
	bool requested;
};

struct guard {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool thread_started, stopping;
	struct guard_limits lim;
	uint16_t listen_port;
	atomic_uint open, half_open; /* from civetweb's callbacks */
	struct guard_peer *peers;
	size_t n_peers;
	struct guard_sock *socks, *prev;
	size_t n_socks, n_prev, max_socks;
	struct guard_stats stats;
};

/* Limits that fit `threads` workers of which `feed_clients` may hold live feeds. */
void guard_default_limits(struct guard_limits *lim, unsigned threads, unsigned feed_clients);

/* Starts the watchdog. max_connections: civetweb's worker threads. */
int guard_start(struct guard *g, const struct guard_limits *lim, size_t max_connections, uint16_t listen_port);
void guard_stop(struct guard *g);

/*
 * civetweb's callbacks report here. A connection is half open from
 * guard_connection_open() until its first request's headers are complete
 * (guard_request(), with the client's address), and counted until
 * guard_connection_close(). The ticket lives in civetweb's per-connection
 * data.
 */
#define GUARD_TICKET_HALF_OPEN ((void *)1)
#define GUARD_TICKET_REQUESTED ((void *)2)
void *guard_connection_open(struct guard *g);
void *guard_request(struct guard *g, void *ticket, const char *addr, uint16_t port);
void guard_connection_close(struct guard *g, void *ticket, const char *addr, uint16_t port);

void guard_get_stats(struct guard *g, struct guard_stats *ret);

/*
 * The descriptor of this process's TCP socket connected to addr:port
 * (text, IPv4) on local_port, or a negative errno. Scans /proc/self/fd.
 * Only for a connection the caller is serving, so that it cannot close.
 */
int guard_find_socket(const char *addr, uint16_t port, uint16_t local_port);

/*
 * The policy alone, for tests: given the sockets (sorted oldest first),
 * marks in cut[] the ones to cut and returns how many, counting each kind
 * into stats.
 */
size_t guard_choose(const struct guard_limits *lim, const struct guard_sock *socks, size_t n, bool *cut,
		    struct guard_stats *stats);

#endif
