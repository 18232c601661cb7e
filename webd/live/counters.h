/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capd's own counters (kernel drops, publish refusals, flows), carried
 * over capd's restarts. capd counts from 0 every time it starts, so the
 * figures in its "stats" messages go down when it restarts; a Prometheus
 * counter must never go down. Per sensor, webd keeps what each earlier run
 * of capd had counted when it was last heard of (the offset) and exports
 * offset + what the current run says.
 *
 * A new run is recognised, from each "stats" message (once a second):
 *   - when capd's packet or flow report numbers started over in between
 *     (webd's wl_seq saw a number not above the last: seq.h), which catches
 *     a restart however fast the new run counts, as long as it published
 *     anything before its first stats;
 *   - or when any of capd's counters is lower than in the previous message
 *     (they never go down within a run), which catches a quiet one.
 * libpcap's counters (pcap.*) are 32-bit and wrap around within a run: one
 * that falls by more than 2^31 wrapped (2^32 is added), a smaller fall is a
 * new run. Counters are doubles in JSON: exact to 2^53.
 */
#ifndef WEBD_COUNTERS_H
#define WEBD_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum capd_counter {
	/* Exported. */
	CAPD_KERNEL_RECEIVED,    /* pcap.recv (32 bits per capture handle in libpcap) */
	CAPD_KERNEL_DROPS,       /* pcap.drop (32 bits) */
	CAPD_INTERFACE_DROPS,    /* pcap.ifdrop (32 bits) */
	CAPD_REFUSED_PACKETS,    /* published.refused_packets */
	CAPD_REFUSED_MESSAGES,   /* published.refused_messages */
	CAPD_REFUSED_REPORTS,    /* flows.refused_reports */
	CAPD_FLOWS_CREATED,      /* flows.created */
	CAPD_FLOWS_ENDED,        /* flows.ended */
	CAPD_FLOWS_EVICTED,      /* flows.evicted */
	/* Only to recognise a new run. */
	CAPD_SEQ,                /* seq: the last packet number */
	CAPD_PACKETS,            /* packets */
	CAPD_FLOW_SEQ,           /* flows.seq: the last report number */
	CAPD_COUNTER__MAX
};

/* One "stats" message, read. */
struct capd_sample {
	uint64_t value[CAPD_COUNTER__MAX];
	bool have[CAPD_COUNTER__MAX]; /* absent (flows off, an older capd): left as it was */
	uint64_t flows_active;        /* a gauge: flows.active */
	bool have_flows_active;
};

struct capd_counters {
	uint64_t last[CAPD_COUNTER__MAX];   /* the current run's latest */
	uint64_t offset[CAPD_COUNTER__MAX]; /* what earlier runs counted */
	bool seen[CAPD_COUNTER__MAX];
	bool heard;                 /* a stats message has been taken */
	uint64_t seq_restarts;      /* webd's count of sequences that started over, last time */
	uint64_t runs;              /* runs of capd seen: 1 after the first message */
	uint64_t flows_active;
	bool have_flows_active;
};

/*
 * Reads capd's "stats" JSON (len bytes, not NUL-terminated). Returns 0, or
 * -EINVAL when it is not a JSON object (ret is then all absent).
 */
int capd_sample_parse(const char *json, size_t len, struct capd_sample *ret);

/*
 * Takes one sample. seq_restarts: how many times webd has seen this
 * sensor's packet or report numbers start over, so far (monotonic).
 */
void capd_counters_observe(struct capd_counters *c, const struct capd_sample *s, uint64_t seq_restarts);

/* Both at once, for the ingest: a message that is not JSON changes nothing. */
void capd_counters_observe_json(struct capd_counters *c, const char *json, size_t len, uint64_t seq_restarts);

/* The value to export (never lower than before), or false when capd never sent it. */
bool capd_counters_total(const struct capd_counters *c, enum capd_counter which, uint64_t *ret);

/* Restarts of capd seen (runs after the first). */
uint64_t capd_counters_restarts(const struct capd_counters *c);

#endif
