/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow table on capd's publish path: every packet that is published is
 * folded in once (after the privilege drop, like everything that reads
 * packet bytes), reports go out as "flow" batches on the same socket, a
 * sweep once a second ends idle flows, and the end of a file or of capd
 * reports what is still open.
 */
#include "capd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/*
 * Ids are a random 14-bit run prefix above a 39-bit counter: below 2^53, so
 * that JSON readers that hold numbers as doubles (JavaScript) read them
 * exactly, with room for 5e11 flows a run.
 */
#define ID_RUN_BITS 39
#define ID_PREFIX_MASK 0x3fff

static void publish_report(void *ctx, const struct wl_flow_record *rec)
{
	struct capd *d = ctx;

	publisher_add_flow(&d->pub, rec);
}

/*
 * A random prefix per run: a subscriber that outlives capd (webd, a
 * collector) never takes a flow of the new run for one of the old.
 */
static uint64_t run_prefix(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)time(NULL);
	return (uint64_t)(r & ID_PREFIX_MASK) << ID_RUN_BITS;
}

int capd_flows_start(struct capd *d, char *err, size_t errlen)
{
	struct flow_config cfg = d->opt.flow;
	int r;

	if (!d->opt.track_flows)
		return 0;
	cfg.id_base = run_prefix();
	d->flows = flow_table_new(&cfg, publish_report, d, &r);
	if (!d->flows) {
		snprintf(err, errlen, "cannot make a table of %u flows: %s (lower --max-flows)", cfg.max_flows,
			 strerror(-r));
		return r;
	}
	return 0;
}

void capd_flows_packet(struct capd *d)
{
	d->pkt->flow_id = d->flows ? flow_table_packet(d->flows, d->pkt) : 0;
}

static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Once a second: live, the capture's clock is the wall clock; a file's is its newest packet. */
void capd_flows_tick(struct capd *d)
{
	int64_t now;

	if (!d->flows)
		return;
	now = flow_table_clock(d->flows);
	if (d->cap.live && wall_us() > now)
		now = wall_us();
	flow_table_expire(d->flows, now);
}

void capd_flows_end_of_file(struct capd *d)
{
	if (d->flows)
		flow_table_flush(d->flows, WL_FLOW_EOF);
}

void capd_flows_stop(struct capd *d)
{
	if (!d->flows)
		return;
	/* Stopping ends the capture: what is open is reported as of now. */
	flow_table_flush(d->flows, WL_FLOW_EOF);
	publisher_flush(&d->pub);
	d->flows = flow_table_free(d->flows);
}

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

void capd_flows_stats_json(const struct capd *d, cJSON *root)
{
	struct flow_stats st;
	cJSON *o;

	if (!d->flows)
		return;
	flow_table_stats(d->flows, &st);
	o = cJSON_AddObjectToObject(root, "flows");
	add_u64(o, "active", st.active);
	add_u64(o, "created", st.created);
	add_u64(o, "ended", st.ended);
	add_u64(o, "evicted", st.evicted);
	add_u64(o, "max", d->opt.flow.max_flows);
	add_u64(o, "reports", d->pub.flows.sent);
	add_u64(o, "refused_reports", d->pub.flows.refused);
	add_u64(o, "seq", d->pub.flows.seq);
	add_u64(o, "names_dropped", st.names_dropped);
	add_u64(o, "memory", st.memory);
}
