/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet rows as the API and the live feed show them: the v1 packet JSON
 * (common/packet-json.h) with "seq" being webd's own number, plus what webd
 * knows about the addresses. And the filters shared by /api/packets, the
 * exports and the dashboard: proto=, foreign=1, q=.
 */
#ifndef WEBD_ROWS_H
#define WEBD_ROWS_H

#include "live/state.h"
#include "packet-json.h"
#include "wlite-wire.h"

#include <stdbool.h>
#include <stddef.h>

#define ROW_JSON_MAX (WL_JSON_PACKET_MAX + 4096)
#define ROW_FILTER_Q_MAX 128
#define ROW_FILTER_PROTOS 16

struct row_filter {
	uint64_t after_id;
	bool foreign_only;
	size_t n_protos;
	uint8_t protos[ROW_FILTER_PROTOS]; /* enum wl_proto: only these */
	size_t n_not_protos;
	uint8_t not_protos[ROW_FILTER_PROTOS]; /* none of these */
	char q[ROW_FILTER_Q_MAX];          /* lowercase; "" matches all */
	uint64_t flow_id;                  /* only the packets of this flow (capd's id); 0: any */
	char sensor[SENSOR_NAME_MAX];      /* only this sensor's; "": any */
	bool has_host;
	struct wl_addr host;               /* only packets from or to it (outer or inner IP) */
};

/*
 * Parses the query string (proto=TCP,DNS&proto_not=ARP&foreign=1&q=text&after_seq=N
 * &flow=ID&sensor=NAME&host=ADDR).
 * Returns 0, or -EINVAL with a message for a malformed parameter.
 */
int row_filter_parse(struct row_filter *f, const char *query, char *err, size_t errlen);

/* Decodes the entry's record into rec. Returns 0 or -EBADMSG. */
int row_decode(const struct ring_entry *e, struct wl_wire_record *rec);

/*
 * Whether an entry can pass the filter, from the ring entry alone (state
 * lock held): a cheap test before decoding the record for row_matches.
 */
bool row_entry_matches(const struct state *s, const struct row_filter *f, const struct ring_entry *e);

/* Whether a decoded packet passes the filter (state lock held, for names). */
bool row_matches(struct state *s, const struct row_filter *f, const struct ring_entry *e,
		 const struct wl_packet *pkt);

/*
 * Writes the row for a decoded packet into buf as one JSON object (no
 * newline). Returns the length, or -ENOBUFS. State lock held.
 */
long row_json(struct state *s, const struct ring_entry *e, struct wl_packet *pkt, char *buf, size_t size);

/*
 * Appends what webd knows of address a to the JSON object in buf[0..used):
 * PREFIX_country, PREFIX_scope, PREFIX_name, PREFIX_asn. Sets *alerting
 * (when not NULL) if the host has an open alert. Returns the new length,
 * or size if it did not fit. State lock held.
 */
size_t row_put_host(struct state *s, const struct wl_addr *a, const char *prefix, char *buf, size_t size,
		     size_t used, bool *alerting);

#endif
