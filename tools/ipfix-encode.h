/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPFIX messages (RFC 7011) from capd's flow reports: templates and data
 * records, one message at a time, in a buffer the caller owns. No I/O, no
 * allocation, no logging; wlite-ipfix sends what this builds.
 *
 * Information elements come from the IANA "IPFIX Information Elements"
 * registry; the b side's counters and TCP flags are RFC 5103 reverse
 * elements (enterprise number 29305, the forward element's id). Every flow
 * uses one of the templates below, picked by its kind.
 */
#ifndef WL_IPFIX_ENCODE_H
#define WL_IPFIX_ENCODE_H

#include "wlite-wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPFIX_VERSION 10
#define IPFIX_HEADER_LEN 16
#define IPFIX_SET_HEADER_LEN 4
#define IPFIX_MESSAGE_MAX 65535 /* the header's length field */
#define IPFIX_SET_TEMPLATE 2
#define IPFIX_PEN_REVERSE 29305 /* RFC 5103: reverse information elements */

/* Room the largest template or data record needs, with a set header. */
#define IPFIX_RECORD_MAX 192

/* Template ids (256 and up are data sets). */
enum ipfix_template {
	IPFIX_T_V4_PORTS = 256, /* IPv4 TCP, UDP, SCTP */
	IPFIX_T_V6_PORTS,
	IPFIX_T_V4_ICMP,        /* ICMP: icmpTypeCodeIPv4 instead of ports */
	IPFIX_T_V6_ICMP,
	IPFIX_T_V4_OTHER,       /* any other IP protocol: addresses only */
	IPFIX_T_V6_OTHER,
	IPFIX_T_MAC,            /* non-IP flows (ARP, LLDP, ...): MACs and ethertype */
	IPFIX_T__END
};
#define IPFIX_N_TEMPLATES (IPFIX_T__END - IPFIX_T_V4_PORTS)

/* What one data record says: a report and the counters to export for it. */
struct ipfix_flow {
	const struct wl_flow_record *rec;
	uint64_t packets[2], bytes[2]; /* deltas since the last export: [0] side a, [1] side b */
};

/* A message being built in buf[0..max). */
struct ipfix_msg {
	uint8_t *buf;
	size_t max;
	size_t len;
	size_t set_off;   /* where the open set's header is, or 0: none open */
	uint16_t set_id;
	uint32_t records; /* data records in the message */
	uint32_t templates;
};

/* Starts an empty message; max is at most IPFIX_MESSAGE_MAX. */
void ipfix_msg_start(struct ipfix_msg *m, uint8_t *buf, size_t max);

/* Whether anything was added since ipfix_msg_start. */
bool ipfix_msg_empty(const struct ipfix_msg *m);

/* Appends template t's record. Returns 0, or -ENOBUFS: the message is full (nothing added). */
int ipfix_msg_add_template(struct ipfix_msg *m, enum ipfix_template t);

/* Appends one data record for f. Returns 0, or -ENOBUFS: the message is full (nothing added). */
int ipfix_msg_add_flow(struct ipfix_msg *m, const struct ipfix_flow *f);

/*
 * Closes the open set and writes the message header: export_time in seconds
 * since the epoch, seq the count of data records sent before this message in
 * the stream (mod 2^32), domain the observation domain. Returns the length.
 */
size_t ipfix_msg_finish(struct ipfix_msg *m, uint32_t export_time, uint32_t seq, uint32_t domain);

/* The template a flow report is exported with. */
enum ipfix_template ipfix_template_for(const struct wl_flow_record *rec);

/* flowEndReason (RFC 5102): idle 1, active 2, end of flow 3 (fin, rst), forced end 4 (eof), lack of resources 5 (evicted). */
uint8_t ipfix_end_reason(uint8_t end);

/* A timestamp in microseconds as dateTimeMilliseconds: before 1970 is 0. */
uint64_t ipfix_ms(int64_t us);

#endif
