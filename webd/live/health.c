/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/health.h"

#include <cjson/cJSON.h>
#include <math.h>

#define US 1000000

static int64_t floor_second(int64_t us)
{
	return us >= 0 ? us / US : -((-us + US - 1) / US);
}

void health_clock_sample(struct sensor_health *h, int64_t sent_us, int64_t now_us)
{
	int64_t skew, second = floor_second(now_us);
	size_t slot;

	if (sent_us <= 0 || second <= 0)
		return; /* no send time (or no clock): nothing to compare */
	skew = sent_us - now_us;
	slot = (size_t)(second % HEALTH_SKEW_SECONDS);
	if (h->skew_second[slot] != second) {
		h->skew_second[slot] = second;
		h->skew_best[slot] = skew;
	} else if (skew > h->skew_best[slot]) {
		h->skew_best[slot] = skew;
	}
	h->skew_latest_us = skew;
	h->have_skew = true;
}

bool health_clock_skew(const struct sensor_health *h, int64_t now_us, int64_t *ret_us)
{
	int64_t now_s = floor_second(now_us), best = 0;
	bool found = false;

	for (size_t i = 0; i < HEALTH_SKEW_SECONDS; i++) {
		int64_t s = h->skew_second[i];

		if (s == 0 || s > now_s || s <= now_s - HEALTH_SKEW_SECONDS)
			continue;
		if (!found || h->skew_best[i] > best)
			best = h->skew_best[i];
		found = true;
	}
	if (found)
		*ret_us = best;
	return found;
}

/* A counter of capd's JSON: a non-negative number, else false. */
static bool read_count(const cJSON *parent, const char *key, uint64_t *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0)
		return false;
	*ret = (uint64_t)v->valuedouble;
	return true;
}

void health_stats(struct sensor_health *h, const char *json, size_t len, int64_t now_us)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *pcap = cJSON_GetObjectItemCaseSensitive(root, "pcap");
	const cJSON *flows = cJSON_GetObjectItemCaseSensitive(root, "flows");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "ts");

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return; /* not stats: it says nothing of capd's health */
	}
	h->stats_us = now_us;
	h->stats_received++;
	h->have_pcap = read_count(pcap, "drop", &h->kernel_drops) && read_count(pcap, "ifdrop", &h->interface_drops);
	h->have_flows = read_count(flows, "evicted", &h->flow_evictions);
	/* capd's time as it wrote the stats: seconds, with microseconds. */
	if (cJSON_IsNumber(ts) && ts->valuedouble > 0 && ts->valuedouble < 253402300800.0)
		health_clock_sample(h, (int64_t)llround(ts->valuedouble * US), now_us);
	cJSON_Delete(root);
}

bool health_up(const struct sensor_health *h, int64_t now_us)
{
	/* A clock stepped back since: up, rather than a negative age. */
	return h->stats_us > 0 && now_us - h->stats_us <= (int64_t)HEALTH_UP_SECONDS * US;
}

static double to_ms(int64_t us)
{
	return (double)llround((double)us / 10.0) / 100.0; /* two decimals */
}

void health_json(cJSON *o, const struct sensor_health *h, int64_t now_us)
{
	int64_t skew;

	cJSON_AddBoolToObject(o, "up", health_up(h, now_us));
	if (h->stats_us > 0)
		cJSON_AddNumberToObject(o, "stats_age", (double)llround((double)(now_us - h->stats_us) / 1e5) / 10.0);
	else
		cJSON_AddNullToObject(o, "stats_age");
	cJSON_AddNumberToObject(o, "stats_received", (double)h->stats_received);
	if (h->have_pcap) {
		cJSON_AddNumberToObject(o, "kernel_drops", (double)h->kernel_drops);
		cJSON_AddNumberToObject(o, "interface_drops", (double)h->interface_drops);
	}
	if (h->have_flows)
		cJSON_AddNumberToObject(o, "flow_evictions", (double)h->flow_evictions);
	if (health_clock_skew(h, now_us, &skew))
		cJSON_AddNumberToObject(o, "clock_skew_ms", to_ms(skew));
	else
		cJSON_AddNullToObject(o, "clock_skew_ms");
	if (h->have_skew)
		cJSON_AddNumberToObject(o, "clock_skew_latest_ms", to_ms(h->skew_latest_us));
}
