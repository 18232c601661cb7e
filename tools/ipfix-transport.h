/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wlite-ipfix's side of the wire to the collector: UDP (one datagram a
 * message, connected, so that the kernel reports an unreachable collector)
 * or TCP (a stream of messages; reconnected with a back-off, and each
 * connection is a new transport session: sequence numbers start over and
 * templates are sent again). A message either goes out whole or is counted
 * as lost by the caller; nothing is queued beyond the kernel's buffer.
 */
#ifndef WL_IPFIX_TRANSPORT_H
#define WL_IPFIX_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum ipfix_proto {
	IPFIX_UDP,
	IPFIX_TCP,
};

struct ipfix_transport {
	enum ipfix_proto proto;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[320]; /* HOST:PORT as given, for messages */
	int fd;         /* -1: not connected (TCP between attempts) */
	double retry_at; /* TCP: monotonic time of the next attempt */
	double backoff;  /* s, doubled per failure up to a limit */
	bool down_said;  /* the outage was logged */
	uint64_t sessions;
	uint64_t refusals; /* UDP: ICMP port unreachable reported (some earlier datagram was lost) */
};

/*
 * Parses HOST:PORT ([V6ADDR]:PORT for IPv6 literals) into host and port.
 * Returns 0 or -EINVAL with a reason in err.
 */
int ipfix_parse_hostport(const char *text, char *host, size_t hostlen, uint16_t *port, char *err,
			 size_t errlen);

/*
 * Resolves the collector and, for UDP, makes the socket. For TCP the first
 * connection is tried by ipfix_transport_tick. Returns 0, or a negative
 * errno with one line in err (a name that does not resolve, no socket).
 */
int ipfix_transport_open(struct ipfix_transport *t, enum ipfix_proto proto, const char *hostport,
			 char *err, size_t errlen);

/*
 * TCP: connects when it is time to try again. Returns 1 when a new session
 * began (restart the sequence numbers, send the templates), else 0.
 */
int ipfix_transport_tick(struct ipfix_transport *t, double now);

/* Whether a message can be sent now (TCP: connected). */
bool ipfix_transport_up(const struct ipfix_transport *t);

/* Seconds until ipfix_transport_tick has something to do, or -1. */
double ipfix_transport_next(const struct ipfix_transport *t, double now);

/* TCP: the fd to watch for POLLIN (the collector closing), or -1. */
int ipfix_transport_watch_fd(const struct ipfix_transport *t);

/* TCP: the watched fd was readable: reads and drops what came; on EOF or an error, closes. */
void ipfix_transport_readable(struct ipfix_transport *t, double now);

/*
 * Sends one message whole. Returns 0, or a negative errno: the message is
 * lost (for TCP the connection is then closed, and retried later).
 */
int ipfix_transport_send(struct ipfix_transport *t, const uint8_t *msg, size_t len, double now);

/*
 * UDP: whether the kernel holds an ICMP port unreachable for an earlier
 * datagram (taken, and counted in refusals). Always false for TCP.
 */
bool ipfix_transport_refused(struct ipfix_transport *t);

/* The largest message for an MTU: UDP subtracts the IP and UDP headers; TCP takes IPFIX's limit. */
size_t ipfix_transport_message_max(const struct ipfix_transport *t, int mtu);

void ipfix_transport_close(struct ipfix_transport *t);

#endif
