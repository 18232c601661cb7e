/* SPDX-License-Identifier: BSD-2-Clause */
#include "http/guard.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void guard_default_limits(struct guard_limits *lim, unsigned threads, unsigned feed_clients)
{
	unsigned spare = threads > feed_clients + 4 ? threads - feed_clients - 4 : 2;

	/* Four workers stay out of any one address's reach. */
	lim->per_addr = threads > 8 ? threads - 4 : 4;
	lim->half_open = spare;
	lim->per_addr_half_open = spare < 8 ? spare : 8;
}

/* ---- Finding sockets -------------------------------------------------------------- */

/* Fills s from fd if it is a client socket on local_port. */
static bool client_socket(int fd, uint16_t local_port, struct guard_sock *s)
{
	struct sockaddr_in local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0 || local.sin_family != AF_INET ||
	    ntohs(local.sin_port) != local_port)
		return false;
	/* The listening socket has no peer. */
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 || peer.sin_family != AF_INET)
		return false;
	*s = (struct guard_sock){ .inode = st.st_ino, .addr = peer.sin_addr.s_addr, .port = ntohs(peer.sin_port), .fd = fd };
	return true;
}

/* Calls fn on every client socket on local_port until it returns true; returns that fd or -ENOENT. */
static int each_client_socket(uint16_t local_port, bool (*fn)(const struct guard_sock *, void *), void *ctx)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -ENOENT;

	if (!dir)
		return -errno;
	while (found < 0 && (de = readdir(dir))) {
		struct guard_sock s;
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (end == de->d_name || *end || fd < 0 || fd == dirfd(dir) || !client_socket((int)fd, local_port, &s))
			continue;
		if (fn(&s, ctx))
			found = (int)fd;
	}
	closedir(dir);
	return found;
}

struct wanted {
	uint32_t addr;
	uint16_t port;
};

static bool is_wanted(const struct guard_sock *s, void *ctx)
{
	const struct wanted *want = ctx;

	return s->addr == want->addr && s->port == want->port;
}

int guard_find_socket(const char *addr, uint16_t port, uint16_t local_port)
{
	struct in_addr a;
	struct wanted want = { .port = port };

	if (inet_pton(AF_INET, addr, &a) != 1)
		return -EAFNOSUPPORT;
	want.addr = a.s_addr;
	return each_client_socket(local_port, is_wanted, &want);
}

/* ---- The policy ------------------------------------------------------------------- */

/* Sockets of addr, not cut, that are half open (or any, when half_open_only is false). */
static unsigned count_addr(const struct guard_sock *socks, size_t n, const bool *cut, uint32_t addr,
			   bool half_open_only)
{
	unsigned c = 0;

	for (size_t i = 0; i < n; i++)
		c += !cut[i] && socks[i].addr == addr && (!half_open_only || !socks[i].requested);
	return c;
}

size_t guard_choose(const struct guard_limits *lim, const struct guard_sock *socks, size_t n, bool *cut,
		    struct guard_stats *stats)
{
	unsigned half_open = 0;
	size_t total = 0;

	memset(cut, 0, n * sizeof(*cut));
	/* Stalled connections first, oldest first: the ones a real client never has. */
	for (size_t i = 0; i < n; i++) {
		if (socks[i].requested || count_addr(socks, n, cut, socks[i].addr, true) <= lim->per_addr_half_open)
			continue;
		cut[i] = true;
		stats->cut_half_open++;
		total++;
	}
	for (size_t i = 0; i < n; i++)
		half_open += !cut[i] && !socks[i].requested;
	for (size_t i = 0; i < n && half_open > lim->half_open; i++) {
		if (cut[i] || socks[i].requested)
			continue;
		cut[i] = true;
		half_open--;
		stats->cut_half_open++;
		total++;
	}
	/* Then an address over its share: its newest connections go. */
	for (size_t i = n; i-- > 0;) {
		if (cut[i] || count_addr(socks, n, cut, socks[i].addr, false) <= lim->per_addr)
			continue;
		cut[i] = true;
		stats->cut_per_addr++;
		total++;
	}
	return total;
}

/* ---- The watchdog ----------------------------------------------------------------- */

struct scan {
	struct guard *g;
	uint64_t number;
	size_t n;
};

static bool collect(const struct guard_sock *s, void *ctx)
{
	struct scan *sc = ctx;
	struct guard *g = sc->g;
	struct guard_sock *out;

	if (sc->n >= g->max_socks)
		return true; /* more than we can hold: this scan stops here */
	out = &g->socks[sc->n++];
	*out = *s;
	out->first_seen = sc->number;
	for (size_t i = 0; i < g->n_prev; i++)
		if (g->prev[i].inode == s->inode)
			out->first_seen = g->prev[i].first_seen;
	return false;
}

static int oldest_first(const void *a, const void *b)
{
	const struct guard_sock *x = a, *y = b;

	if (x->first_seen != y->first_seen)
		return x->first_seen < y->first_seen ? -1 : 1;
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* Lock held. */
static void mark_requested(struct guard *g)
{
	for (size_t i = 0; i < g->n_socks; i++)
		for (size_t j = 0; j < g->n_peers && !g->socks[i].requested; j++)
			g->socks[i].requested = g->peers[j].used && g->peers[j].addr == g->socks[i].addr &&
						g->peers[j].port == g->socks[i].port;
}

/* Shuts the socket down only if fd still is that socket: a dup keeps it from closing meanwhile. */
static void cut_socket(const struct guard_sock *s)
{
	int d = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	struct stat st;

	if (d < 0)
		return;
	if (fstat(d, &st) == 0 && st.st_ino == s->inode)
		shutdown(d, SHUT_RDWR);
	close(d);
}

static void scan_and_cut(struct guard *g, bool *cut)
{
	struct scan sc = { .g = g };
	struct guard_sock *t;

	pthread_mutex_lock(&g->lock);
	sc.number = ++g->stats.scans;
	pthread_mutex_unlock(&g->lock);
	each_client_socket(g->listen_port, collect, &sc);
	g->n_socks = sc.n;
	qsort(g->socks, g->n_socks, sizeof(*g->socks), oldest_first);
	pthread_mutex_lock(&g->lock);
	mark_requested(g);
	guard_choose(&g->lim, g->socks, g->n_socks, cut, &g->stats);
	pthread_mutex_unlock(&g->lock);
	for (size_t i = 0; i < g->n_socks; i++)
		if (cut[i])
			cut_socket(&g->socks[i]);
	/* This scan's sockets carry their first sighting into the next one. */
	t = g->prev;
	g->prev = g->socks;
	g->socks = t;
	g->n_prev = g->n_socks;
}

static bool under_pressure(struct guard *g)
{
	unsigned half_open = atomic_load(&g->half_open);

	return half_open > g->lim.per_addr_half_open || half_open > g->lim.half_open ||
	       atomic_load(&g->open) > g->lim.per_addr;
}

static void *guard_thread(void *arg)
{
	struct guard *g = arg;
	bool *cut = calloc(g->max_socks, sizeof(*cut));

	pthread_mutex_lock(&g->lock);
	while (cut && !g->stopping) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += GUARD_SCAN_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&g->wake, &g->lock, &until);
		if (g->stopping || !under_pressure(g))
			continue;
		pthread_mutex_unlock(&g->lock);
		scan_and_cut(g, cut);
		pthread_mutex_lock(&g->lock);
	}
	pthread_mutex_unlock(&g->lock);
	free(cut);
	return NULL;
}

int guard_start(struct guard *g, const struct guard_limits *lim, size_t max_connections, uint16_t listen_port)
{
	pthread_condattr_t ca;

	memset(g, 0, sizeof(*g));
	g->lim = *lim;
	g->listen_port = listen_port;
	g->n_peers = max_connections;
	/* Connections queued for a worker are sockets too. */
	g->max_socks = 4 * max_connections + 256;
	g->peers = calloc(g->n_peers, sizeof(*g->peers));
	g->socks = calloc(g->max_socks, sizeof(*g->socks));
	g->prev = calloc(g->max_socks, sizeof(*g->prev));
	if (!g->peers || !g->socks || !g->prev) {
		guard_stop(g);
		return -ENOMEM;
	}
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->thread, NULL, guard_thread, g) != 0) {
		guard_stop(g);
		return -EAGAIN;
	}
	g->thread_started = true;
	return 0;
}

void guard_stop(struct guard *g)
{
	if (g->thread_started) {
		pthread_mutex_lock(&g->lock);
		g->stopping = true;
		pthread_cond_signal(&g->wake);
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->thread, NULL);
		g->thread_started = false;
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
	}
	free(g->peers);
	free(g->socks);
	free(g->prev);
	g->peers = NULL;
	g->socks = g->prev = NULL;
}

/* ---- civetweb's callbacks ---------------------------------------------------------- */

void *guard_connection_open(struct guard *g)
{
	atomic_fetch_add(&g->open, 1);
	atomic_fetch_add(&g->half_open, 1);
	return GUARD_TICKET_HALF_OPEN;
}

static struct guard_peer *find_peer(struct guard *g, uint32_t addr, uint16_t port)
{
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i].used && g->peers[i].addr == addr && g->peers[i].port == port)
			return &g->peers[i];
	return NULL;
}

void *guard_request(struct guard *g, void *ticket, const char *addr, uint16_t port)
{
	struct in_addr a;

	if (ticket != GUARD_TICKET_HALF_OPEN)
		return ticket;
	atomic_fetch_sub(&g->half_open, 1);
	if (inet_pton(AF_INET, addr, &a) != 1)
		return GUARD_TICKET_REQUESTED;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n_peers; i++) {
		if (!g->peers[i].used) {
			g->peers[i] = (struct guard_peer){ .addr = a.s_addr, .port = port, .used = true };
			break;
		}
	}
	pthread_mutex_unlock(&g->lock);
	return GUARD_TICKET_REQUESTED;
}

void guard_connection_close(struct guard *g, void *ticket, const char *addr, uint16_t port)
{
	struct in_addr a;
	struct guard_peer *p;

	if (ticket != GUARD_TICKET_HALF_OPEN && ticket != GUARD_TICKET_REQUESTED)
		return;
	atomic_fetch_sub(&g->open, 1);
	if (ticket == GUARD_TICKET_HALF_OPEN) {
		atomic_fetch_sub(&g->half_open, 1);
		return;
	}
	if (!addr || inet_pton(AF_INET, addr, &a) != 1)
		return;
	pthread_mutex_lock(&g->lock);
	if ((p = find_peer(g, a.s_addr, port)))
		p->used = false;
	pthread_mutex_unlock(&g->lock);
}

void guard_get_stats(struct guard *g, struct guard_stats *ret)
{
	pthread_mutex_lock(&g->lock);
	*ret = g->stats;
	pthread_mutex_unlock(&g->lock);
	ret->open = atomic_load(&g->open);
	ret->half_open = atomic_load(&g->half_open);
}
