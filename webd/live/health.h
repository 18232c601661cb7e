/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A sensor's health, for the fleet view (/api/stats, each sensor's "health"):
 * is it up, how fresh are its figures, what does capd say it lost, and how
 * far apart are its clock and webd's.
 *
 *   up           capd's "stats" arrived within HEALTH_UP_SECONDS: capd sends
 *                them once a second whatever the traffic, so three missed
 *                in a row is a capd (or a tunnel, or a host) that is gone;
 *   drops        capd's latest stats, as this run of capd counts them:
 *                the kernel's and the interface's drops, the flows its
 *                table evicted (a restarted capd counts from 0 again);
 *   clock skew   each batch carries capd's send time, each stats message its
 *                own time; webd notes when it takes them. sent - arrived is
 *                the sensor's clock minus webd's, less the time in transit
 *                (the network, a tunnel, buffers, the hand-off). Transit only
 *                lowers it, so the largest value of the last
 *                HEALTH_SKEW_SECONDS is the nearest to the true offset: that
 *                is clock_skew_ms; clock_skew_latest_ms is the last sample.
 *
 * No locking here: the ingest writes and the API reads under the state lock.
 */
#ifndef WEBD_HEALTH_H
#define WEBD_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEALTH_UP_SECONDS 3
#define HEALTH_SKEW_SECONDS 10
#define HEALTH_URL_MAX 256

struct cJSON;

struct sensor_health {
	char url[HEALTH_URL_MAX]; /* --sensor-url: the sensor's own dashboard, or "" */
	int64_t stats_us;         /* webd's clock when the last stats arrived; 0: never */
	uint64_t stats_received;
	uint64_t kernel_drops, interface_drops, flow_evictions; /* from the latest stats */
	bool have_pcap, have_flows;
	/* sent - arrived (µs): the largest of each second of webd's clock, by second. */
	int64_t skew_best[HEALTH_SKEW_SECONDS];
	int64_t skew_second[HEALTH_SKEW_SECONDS]; /* which second a slot holds; 0: none */
	int64_t skew_latest_us;
	bool have_skew;
};

/* A batch (or stats) sent at sent_us by capd's clock arrived at now_us, webd's. */
void health_clock_sample(struct sensor_health *h, int64_t sent_us, int64_t now_us);

/* capd's "stats" JSON (len bytes, not NUL-terminated), taken at now_us. */
void health_stats(struct sensor_health *h, const char *json, size_t len, int64_t now_us);

/* Whether capd's stats arrived within HEALTH_UP_SECONDS of now_us. */
bool health_up(const struct sensor_health *h, int64_t now_us);

/*
 * The largest sent - arrived of the last HEALTH_SKEW_SECONDS before now_us
 * (µs); false when there is no sample that recent.
 */
bool health_clock_skew(const struct sensor_health *h, int64_t now_us, int64_t *ret_us);

/* Adds up, stats_age, the drops, evictions and clock skew to o (the gaps are the caller's). */
void health_json(struct cJSON *o, const struct sensor_health *h, int64_t now_us);

#endif
