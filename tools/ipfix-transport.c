/* SPDX-License-Identifier: BSD-2-Clause */
#include "ipfix-transport.h"

#include "ipfix-encode.h"
#include "log.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 2000
#define BACKOFF_MIN_S 1.0
#define BACKOFF_MAX_S 30.0
/*
 * How long a send may wait for room in the kernel's buffer: a UDP burst
 * waits for the interface queue, a TCP collector for its reader. Past that
 * a TCP collector is taken for stuck (the connection is closed and made
 * again), and a UDP message is counted as lost.
 */
#define UDP_WAIT_MS 100
#define UDP_WAIT_TRIES 10
#define TCP_STALL_MS 5000
#define IPV4_UDP_HEADERS (20 + 8)
#define IPV6_UDP_HEADERS (40 + 8)

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int ipfix_parse_hostport(const char *text, char *host, size_t hostlen, uint16_t *port, char *err,
			 size_t errlen)
{
	const char *colon, *host_start = text, *host_end;

	if (text[0] == '[') {
		host_start = text + 1;
		host_end = strchr(text, ']');
		colon = host_end && host_end[1] == ':' ? host_end + 1 : NULL;
	} else {
		colon = strrchr(text, ':');
		host_end = colon;
		if (colon && memchr(text, ':', (size_t)(colon - text))) {
			snprintf(err, errlen, "collector '%s': an IPv6 address goes in brackets, as [::1]:4739", text);
			return -EINVAL;
		}
	}
	if (!colon || host_end == host_start || (size_t)(host_end - host_start) >= hostlen ||
	    parse_port(colon + 1, port) < 0) {
		snprintf(err, errlen, "collector must be HOST:PORT (a port from 1 to 65535), not '%s'", text);
		return -EINVAL;
	}
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';
	return 0;
}

static int resolve(struct ipfix_transport *t, const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = t->proto == IPFIX_UDP ? SOCK_DGRAM : SOCK_STREAM }, *res;
	char host[256];
	uint16_t port;
	int r;

	if ((r = ipfix_parse_hostport(hostport, host, sizeof(host), &port, err, errlen)) < 0)
		return r;
	if ((r = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve the collector '%s': %s", host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	if (t->addr.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&t->addr)->sin_port = htons(port);
	return 0;
}

int ipfix_transport_open(struct ipfix_transport *t, enum ipfix_proto proto, const char *hostport,
			 char *err, size_t errlen)
{
	int r;

	*t = (struct ipfix_transport){ .proto = proto, .fd = -1, .backoff = BACKOFF_MIN_S };
	snprintf(t->name, sizeof(t->name), "%s", hostport);
	if ((r = resolve(t, hostport, err, errlen)) < 0)
		return r;
	if (proto == IPFIX_TCP)
		return 0; /* connected by the first tick */
	t->fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* connect(): the kernel then reports an unreachable collector to send(). */
	if (t->fd < 0 || connect(t->fd, (struct sockaddr *)&t->addr, t->addrlen) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot make a UDP socket for %s: %s", hostport, strerror(-r));
		ipfix_transport_close(t);
		return r;
	}
	return 0;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n == 0 ? -ETIMEDOUT : 0;
}

static int connect_tcp(struct ipfix_transport *t)
{
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), so_err = 0, r = 0;
	socklen_t len = sizeof(so_err);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&t->addr, t->addrlen) < 0) {
		r = errno == EINPROGRESS ? wait_fd(fd, POLLOUT, CONNECT_TIMEOUT_MS) : -errno;
		if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len) < 0)
			r = -errno;
		if (r == 0 && so_err)
			r = -so_err;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	t->fd = fd;
	return 0;
}

int ipfix_transport_tick(struct ipfix_transport *t, double now)
{
	int r;

	if (t->proto != IPFIX_TCP || t->fd >= 0 || now < t->retry_at)
		return 0;
	if ((r = connect_tcp(t)) < 0) {
		if (!t->down_said)
			wl_warn("cannot connect to the collector %s over TCP: %s; retrying (every %.0f s at most)",
				t->name, strerror(-r), BACKOFF_MAX_S);
		t->down_said = true;
		t->retry_at = now + t->backoff;
		t->backoff = t->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : t->backoff * 2;
		return 0;
	}
	t->sessions++;
	t->down_said = false;
	t->backoff = BACKOFF_MIN_S;
	wl_notice("connected to the collector %s over TCP", t->name);
	return 1;
}

bool ipfix_transport_up(const struct ipfix_transport *t)
{
	return t->fd >= 0;
}

double ipfix_transport_next(const struct ipfix_transport *t, double now)
{
	if (t->proto != IPFIX_TCP || t->fd >= 0)
		return -1;
	return t->retry_at > now ? t->retry_at - now : 0;
}

int ipfix_transport_watch_fd(const struct ipfix_transport *t)
{
	return t->proto == IPFIX_TCP ? t->fd : -1;
}

/* TCP: the session is over; the next tick (after a short wait) makes another. */
static void drop_session(struct ipfix_transport *t, double now, const char *why)
{
	wl_warn("lost the connection to the collector %s: %s; reconnecting", t->name, why);
	close(t->fd);
	t->fd = -1;
	t->retry_at = now + t->backoff;
}

void ipfix_transport_readable(struct ipfix_transport *t, double now)
{
	uint8_t junk[512];
	ssize_t n;

	if (t->fd < 0)
		return;
	/* A collector sends nothing over IPFIX's TCP; what comes is read and dropped. */
	while ((n = recv(t->fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		;
	if (n == 0)
		drop_session(t, now, "it closed the connection");
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		drop_session(t, now, strerror(errno));
}

/*
 * ECONNREFUSED on a connected UDP socket is the ICMP "port unreachable" an
 * earlier datagram drew, reported by this send, which it did not make: the
 * datagram is sent again at once (a collector that started after us, or
 * restarted, gets it). What the collector refused is lost; the count of
 * refusals says how often.
 */
static int send_udp(struct ipfix_transport *t, const uint8_t *msg, size_t len)
{
	bool refused = false;

	for (int tries = 0;; tries++) {
		ssize_t n = send(t->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EMSGSIZE; /* cannot happen for a datagram */
		if (errno == ECONNREFUSED && !refused) {
			refused = true;
			t->refusals++;
			continue;
		}
		if ((errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) || tries >= UDP_WAIT_TRIES)
			return -errno;
		/* The queue is full (a burst): give it a moment rather than drop at once. */
		wait_fd(t->fd, POLLOUT, UDP_WAIT_MS);
	}
}

static int send_tcp(struct ipfix_transport *t, const uint8_t *msg, size_t len, double now)
{
	size_t off = 0;

	if (t->fd < 0)
		return -ENOTCONN;
	while (off < len) {
		ssize_t n = send(t->fd, msg + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		int r = 0;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == 0)
			r = -EPIPE;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			r = wait_fd(t->fd, POLLOUT, TCP_STALL_MS); /* the collector reads slowly */
		else if (errno != EINTR)
			r = -errno;
		if (r < 0) {
			/* Half a message would corrupt the stream: the session ends here. */
			drop_session(t, now, r == -ETIMEDOUT ? "it stopped reading" : strerror(-r));
			return r;
		}
	}
	return 0;
}

bool ipfix_transport_refused(struct ipfix_transport *t)
{
	int so_err = 0;
	socklen_t len = sizeof(so_err);

	if (t->proto != IPFIX_UDP || t->fd < 0 || getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &so_err, &len) < 0 ||
	    so_err != ECONNREFUSED)
		return false;
	t->refusals++;
	return true;
}

int ipfix_transport_send(struct ipfix_transport *t, const uint8_t *msg, size_t len, double now)
{
	return t->proto == IPFIX_UDP ? send_udp(t, msg, len) : send_tcp(t, msg, len, now);
}

size_t ipfix_transport_message_max(const struct ipfix_transport *t, int mtu)
{
	int headers = t->addr.ss_family == AF_INET6 ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS;

	if (t->proto == IPFIX_TCP)
		return IPFIX_MESSAGE_MAX;
	return mtu - headers > IPFIX_MESSAGE_MAX ? IPFIX_MESSAGE_MAX : (size_t)(mtu - headers);
}

void ipfix_transport_close(struct ipfix_transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
