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
};

/*
 * Parses the query string (proto=TCP,DNS&proto_not=ARP&foreign=1&q=text&after_seq=N).
 * Returns 0, or -EINVAL with a message for a malformed parameter.
 */
int row_filter_parse(struct row_filter *f, const char *query, char *err, size_t errlen);

/* Decodes the entry's record into rec. Returns 0 or -EBADMSG. */
int row_decode(const struct ring_entry *e, struct wl_wire_record *rec);

/* Whether a decoded packet passes the filter (state lock held, for names). */
bool row_matches(struct state *s, const struct row_filter *f, const struct ring_entry *e,
		 const struct wl_packet *pkt);

/*
 * Writes the row for a decoded packet into buf as one JSON object (no
 * newline). Returns the length, or -ENOBUFS. State lock held.
 */
long row_json(struct state *s, const struct ring_entry *e, struct wl_packet *pkt, char *buf, size_t size);

#endif
