/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/counters.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

/* Where each counter is in capd's "stats" (README, "The wire format"). */
static const struct {
	const char *object; /* NULL: at the top */
	const char *key;
	bool wraps32;       /* libpcap's u_int: wraps around within a run */
} counter_paths[CAPD_COUNTER__MAX] = {
	[CAPD_KERNEL_RECEIVED] = { "pcap", "recv", true },
	[CAPD_KERNEL_DROPS] = { "pcap", "drop", true },
	[CAPD_INTERFACE_DROPS] = { "pcap", "ifdrop", true },
	[CAPD_REFUSED_PACKETS] = { "published", "refused_packets", false },
	[CAPD_REFUSED_MESSAGES] = { "published", "refused_messages", false },
	[CAPD_REFUSED_REPORTS] = { "flows", "refused_reports", false },
	[CAPD_FLOWS_CREATED] = { "flows", "created", false },
	[CAPD_FLOWS_ENDED] = { "flows", "ended", false },
	[CAPD_FLOWS_EVICTED] = { "flows", "evicted", false },
	[CAPD_SEQ] = { NULL, "seq", false },
	[CAPD_PACKETS] = { NULL, "packets", false },
	[CAPD_FLOW_SEQ] = { "flows", "seq", false },
};

#define WRAP32 ((uint64_t)1 << 32)
/* cJSON reads numbers as doubles: beyond 2^64 (or negative) is no count. */
#define COUNT_MAX 18446744073709549568.0

static bool read_count(const cJSON *root, const char *object, const char *key, uint64_t *ret)
{
	const cJSON *o = object ? cJSON_GetObjectItemCaseSensitive(root, object) : root;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= COUNT_MAX))
		return false;
	*ret = (uint64_t)v->valuedouble;
	return true;
}

int capd_sample_parse(const char *json, size_t len, struct capd_sample *ret)
{
	cJSON *root = cJSON_ParseWithLength(json, len);

	memset(ret, 0, sizeof(*ret));
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	for (int i = 0; i < CAPD_COUNTER__MAX; i++)
		ret->have[i] = read_count(root, counter_paths[i].object, counter_paths[i].key, &ret->value[i]);
	ret->have_flows_active = read_count(root, "flows", "active", &ret->flows_active);
	cJSON_Delete(root);
	return 0;
}

/*
 * Whether counter i went from last to v by wrapping around 2^32 (libpcap's
 * u_int, which capd adds to what closed captures counted): then it fell by
 * more than 2^31, as no capture counts 2^31 packets between two stats a
 * second apart. A smaller fall is a count that started over.
 */
static bool wrapped(int i, uint64_t last, uint64_t v)
{
	return counter_paths[i].wraps32 && v < last && last - v > WRAP32 / 2;
}

/* Whether s comes from another run of capd than the previous sample. */
static bool new_run(const struct capd_counters *c, const struct capd_sample *s, uint64_t seq_restarts)
{
	if (!c->heard)
		return false;
	if (seq_restarts != c->seq_restarts)
		return true;
	for (int i = 0; i < CAPD_COUNTER__MAX; i++)
		if (s->have[i] && c->seen[i] && s->value[i] < c->last[i] && !wrapped(i, c->last[i], s->value[i]))
			return true;
	return false;
}

void capd_counters_observe(struct capd_counters *c, const struct capd_sample *s, uint64_t seq_restarts)
{
	bool restarted = new_run(c, s, seq_restarts);

	for (int i = 0; i < CAPD_COUNTER__MAX; i++) {
		if (restarted) {
			/* The old run's last word is what it counted; the new one starts from 0. */
			c->offset[i] += c->last[i];
			c->last[i] = 0;
		}
		if (!s->have[i])
			continue;
		if (s->value[i] < c->last[i])
			c->offset[i] += wrapped(i, c->last[i], s->value[i]) ? WRAP32 : c->last[i];
		c->last[i] = s->value[i];
		c->seen[i] = true;
	}
	if (restarted || !c->heard)
		c->runs++;
	c->heard = true;
	c->seq_restarts = seq_restarts;
	c->have_flows_active = s->have_flows_active;
	c->flows_active = s->flows_active;
}

void capd_counters_observe_json(struct capd_counters *c, const char *json, size_t len, uint64_t seq_restarts)
{
	struct capd_sample s;

	if (capd_sample_parse(json, len, &s) == 0)
		capd_counters_observe(c, &s, seq_restarts);
}

bool capd_counters_total(const struct capd_counters *c, enum capd_counter which, uint64_t *ret)
{
	if ((unsigned)which >= CAPD_COUNTER__MAX || !c->seen[which])
		return false;
	*ret = c->offset[which] + c->last[which];
	return true;
}

uint64_t capd_counters_restarts(const struct capd_counters *c)
{
	return c->runs > 1 ? c->runs - 1 : 0;
}
