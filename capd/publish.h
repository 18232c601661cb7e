/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NN_PUB side: packets are batched into "pkt" messages (wlite-wire.h),
 * events go out as JSON. Sending never blocks: a message the socket refuses
 * is counted, and subscribers see the gap in the sequence numbers.
 *
 * With --publish-flows a second NN_PUB socket carries the flow reports and
 * the events but never a packet: nanomsg filters topics in the subscriber,
 * so a remote subscriber to "flow" on the main socket would still be sent
 * every packet. Both sockets get the same flow batches, numbered once.
 */
#ifndef CAPD_PUBLISH_H
#define CAPD_PUBLISH_H

#include "wlite-proto.h"
#include "wlite-wire.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct publisher {
	int sock;
	uint8_t *buf; /* topic + batch header + records */
	size_t size;
	size_t used;
	uint16_t count;
	uint64_t msgs_sent, msgs_refused;
	uint64_t pkts_sent, pkts_refused;
	int sndbuf_asked;     /* NN_SNDBUF */
	int sndbuf_effective; /* what the kernel grants a socket of that kind, or -1 if unknown */
	/* Flow reports, in "flow" batches of their own, numbered like packets. */
	struct {
		uint8_t *buf;
		size_t used;
		uint16_t count;
		uint64_t seq;
		uint64_t sent, refused;
	} flows;
	/* --publish-flows: flow, stats and status only (sock -1 without it). */
	struct {
		int sock;
		uint64_t msgs_sent, msgs_refused;
		uint64_t reports_sent, reports_refused;
		int sndbuf_asked, sndbuf_effective;
	} flows_only;
};

/*
 * Binds an NN_PUB socket on addr (see capd_bind: for ipc:// the socket file
 * gets mode 0660 and group gid, so that members of the group can subscribe).
 * err gets one line on failure.
 */
int publisher_open(struct publisher *pub, const char *addr, gid_t gid, char *err, size_t errlen);

/*
 * After publisher_open: binds the flows-only NN_PUB socket on addr, with the
 * same care (capd_bind). Its send buffer is sized for subscribers across a
 * WAN (see publish.c). err gets one line on failure.
 */
int publisher_open_flows_only(struct publisher *pub, const char *addr, gid_t gid, char *err, size_t errlen);

/* Adds one packet; sends the batch first when it is full. */
void publisher_add(struct publisher *pub, const struct wl_packet *pkt, int linktype,
		   const uint8_t *raw, size_t raw_len);

/* Adds one flow report (numbered here); sends the flow batch first when it is full. */
void publisher_add_flow(struct publisher *pub, const struct wl_flow_record *rec);

/* Sends the batches in progress (packets, flows), if any. */
void publisher_flush(struct publisher *pub);

/* Sends "topic\0json". Returns 0, or -EAGAIN when the socket refused it. */
int publisher_event(struct publisher *pub, const char *topic, const char *json);

/* Flushes, then closes both sockets (flows_addr: the flows-only one's address, or NULL). */
void publisher_close(struct publisher *pub, const char *addr, const char *flows_addr);

#endif
