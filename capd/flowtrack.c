/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow table on capd's publish path: every packet that is published is
 * folded in once (after the privilege drop, like everything that reads
 * packet bytes), reports go out as "flow" batches on the same socket, a
 * sweep once a second ends idle flows, and the end of a file or of capd
 * reports what is still open. The TLS handshake reassembly and fingerprints
 * (fingerprint.h) run here too, before the flow table learns from a packet.
 */
#include "capd.h"

#include "fingerprint.h"
#include "log.h"

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

	/* With or without flows: the fingerprints belong to the packets. */
	if (!(d->tls = fingerprints_new(&r))) {
		snprintf(err, errlen, "cannot start the TLS fingerprints: %s",
			 r == -EIO ? "libcrypto has no MD5 or SHA-256" : strerror(-r));
		return r;
	}
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

void capd_tls_packet(struct capd *d, const uint8_t *frame, size_t caplen)
{
	if (d->tls)
		fingerprints_packet(d->tls, d->pkt, frame, caplen);
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

static void log_tls_counts(const struct capd *d)
{
	struct fingerprint_stats st;

	fingerprints_stats(d->tls, &st);
	wl_notice("TLS: %llu JA3, %llu JA3S, %llu JA4; %llu hello records reassembled of %llu begun "
		  "(%llu longer than their buffer, %llu segments out of order); reassembly memory %llu bytes at most",
		  (unsigned long long)st.ja3, (unsigned long long)st.ja3s, (unsigned long long)st.ja4,
		  (unsigned long long)st.reasm.completed, (unsigned long long)st.reasm.started,
		  (unsigned long long)st.reasm.cut, (unsigned long long)st.reasm.out_of_order,
		  (unsigned long long)st.reasm.memory_peak);
}

void capd_flows_stop(struct capd *d)
{
	if (d->tls) {
		log_tls_counts(d);
		d->tls = fingerprints_free(d->tls);
	}
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

/* "tls" in stats: fingerprints made, texts too long, and the reassembly. */
static void tls_stats_json(const struct capd *d, cJSON *root)
{
	struct fingerprint_stats st;
	cJSON *o, *r;

	fingerprints_stats(d->tls, &st);
	o = cJSON_AddObjectToObject(root, "tls");
	add_u64(o, "ja3", st.ja3);
	add_u64(o, "ja3s", st.ja3s);
	add_u64(o, "ja4", st.ja4);
	add_u64(o, "too_long", st.too_long);
	add_u64(o, "alpn_cut", st.alpn_cut);
	add_u64(o, "hash_failed", st.failed);
	r = cJSON_AddObjectToObject(o, "reassembly");
	add_u64(r, "active", st.reasm.active);
	add_u64(r, "started", st.reasm.started);
	add_u64(r, "completed", st.reasm.completed);
	add_u64(r, "cut", st.reasm.cut);
	add_u64(r, "out_of_order", st.reasm.out_of_order);
	add_u64(r, "expired", st.reasm.expired);
	add_u64(r, "evicted", st.reasm.evicted);
	add_u64(r, "abandoned", st.reasm.abandoned);
	add_u64(r, "memory", st.reasm.memory);
	add_u64(r, "memory_peak", st.reasm.memory_peak);
}

void capd_flows_stats_json(const struct capd *d, cJSON *root)
{
	struct flow_stats st;
	cJSON *o;

	if (d->tls)
		tls_stats_json(d, root);
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
