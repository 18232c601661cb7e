/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The figures both /api/stats and every live feed update carry: totals,
 * rates, protocols, sensors, active alerts and the ring's fill; and the
 * alerts /api/alerts lists. Its own file so that the API and the feed both
 * use it without using each other.
 */
#ifndef WEBD_SUMMARY_H
#define WEBD_SUMMARY_H

#include <stdint.h>

struct cJSON;
struct state;

/*
 * Builds the summary (state lock held); feed_rows_skipped is the feed's
 * count. Its rates follow webd's clock (rates_clock "arrival": what
 * arrives now, replays included) and "now" the capture's; "rates" and
 * "capture_rates" give both, each with its clock named.
 */
struct cJSON *summary_json(const struct state *s, uint64_t feed_rows_skipped);

/* /api/alerts (state lock held): every alert, newest first, and what each kind alerts on. */
struct cJSON *summary_alerts_json(const struct state *s);

#endif
