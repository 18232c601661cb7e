/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The figures both /api/stats and every live feed update carry: totals,
 * rates, protocols, sensors, active alerts and the ring's fill. Its own file
 * so that the API and the feed both use it without using each other.
 */
#ifndef WEBD_SUMMARY_H
#define WEBD_SUMMARY_H

#include <stdint.h>

struct cJSON;
struct state;

/* Builds the summary (state lock held); feed_rows_skipped is the feed's count. */
struct cJSON *summary_json(const struct state *s, uint64_t feed_rows_skipped);

#endif
