/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Endpoints: what the flows in webd's table add up to, per address (bytes
 * and packets in and out, flows, distinct peers, first and last seen), for
 * the flows a query lets through. Computed per question in one pass, so the
 * figures are exact for the flows held, and nothing is kept between.
 */
#ifndef WEBD_LIVE_ENDPOINTS_H
#define WEBD_LIVE_ENDPOINTS_H

#include "live/flowquery.h"

enum endpoint_sort {
	ENDPOINT_SORT_BYTES,
	ENDPOINT_SORT_PACKETS,
	ENDPOINT_SORT_FLOWS,
	ENDPOINT_SORT_PEERS,
	ENDPOINT_SORT_LAST,
	ENDPOINT_SORT__MAX
};

struct endpoint {
	struct wl_addr addr;
	uint64_t bytes_in, bytes_out, packets_in, packets_out;
	uint32_t flows, peers;
	int64_t first_us, last_us;
};

/*
 * The endpoints of the flows that pass q's filters (its sort, offset and
 * limit are ignored), sorted by by, at most limit of them into a malloc'ed
 * array (*ret, free() it). Returns how many, or -ENOMEM. *total: all of them.
 */
long endpoints_collect(const struct live_flows *t, const struct flow_query *q, const struct flow_join *join,
		       enum endpoint_sort by, size_t limit, struct endpoint **ret, size_t *total);

const char *endpoint_sort_name(enum endpoint_sort sort);
int endpoint_sort_parse(const char *name, enum endpoint_sort *ret);

#endif
