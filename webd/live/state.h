/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webd's live state: what the dashboard and the API show. Every structure
 * is bounded by the configuration, and one mutex guards it all: the ingest
 * (libevent thread) writes a batch at a time, civetweb's threads read.
 *
 *   ring     the latest packets, as wire records (summary + raw bytes)
 *   rates    packets/s and bytes/s, one bucket a second, for an hour, twice:
 *            by the capture's clock (the packets' own times: history,
 *            rates.csv) and by webd's clock as they arrive (the live
 *            figures: a replay faster than real time shows what arrives)
 *   protos   packets per protocol
 *   hosts    one entry per IP address: traffic (top talkers), geolocation,
 *            the names seen for it (passive DNS, TLS SNI, HTTP Host), and
 *            its alert window; least recently seen evicted first
 *   dns      the latest DNS queries and answers
 *   alerts   episodes (live/alert.h): floods, found here from the hosts'
 *            windows, and scans, SYN floods and retransmissions, found by
 *            live/flow_alerts.h; raised once, cleared when they fall back
 *   flows    every sensor's flow reports (live/flows.h)
 */
#ifndef WEBD_STATE_H
#define WEBD_STATE_H

#include "geo/geo.h"
#include "live/alert.h"
#include "live/flow_alerts.h"
#include "live/counters.h"
#include "live/flows.h"
#include "live/health.h"
#include "sensors.h"
#include "seq.h"
#include "siphash.h"
#include "wlite-proto.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_RATE_SECONDS 3600
#define STATE_NAMES_PER_HOST 4
#define STATE_ALERT_BUCKETS 64 /* >= the longest alert window, in seconds */
#define SENSOR_NAME_MAX 32
/*
 * The longest host chain a look-up walks. The table has two buckets per
 * host and a keyed hash, so chains of more than a few are a matter of
 * chance too small to happen (Poisson(0.5) past 16: about 1e-18 a bucket);
 * the cap keeps the cost bounded even if the hash were beaten.
 */
#define STATE_HOST_CHAIN_MAX 16

/*
 * The capture times webd accepts, in seconds: from 1970 to a day past webd's
 * own clock. Others are impossible: a pcapng with if_tsresol=0 gives seconds
 * near INT64_MAX, and no sensor captures tomorrow's packets; the ingest
 * counts and drops them, so that every sum and loop over time here, in
 * history and in the exports stays far from overflow, and one absurd date
 * cannot make the history prune everything as "old" (it prunes by age from
 * the newest capture time). A day of slack allows for a sensor's clock.
 */
#define STATE_TS_MIN 0
#define STATE_TS_AHEAD_MAX 86400

static inline bool state_ts_possible(int64_t ts_sec, int64_t wall_now)
{
	return ts_sec >= STATE_TS_MIN && ts_sec <= wall_now + STATE_TS_AHEAD_MAX;
}

struct state_limits {
	size_t ring_packets;   /* default 100000 */
	size_t ring_bytes;     /* the records' arena, default 128 MiB */
	size_t hosts;          /* default 65536 */
	size_t dns_log;        /* default 1000 */
	size_t alerts;         /* kept in the alert list, default 1000 */
	size_t flows;          /* the flow table, default FLOWS_DEFAULT_MAX */
	unsigned alert_packets; /* more than this many from one IP ... (default 200) */
	unsigned alert_window_s; /* ... within this many seconds raises an alert (default 10) */
	unsigned alert_cooldown_s; /* quiet time before the same IP can alert again (default 60); every kind */
	struct flow_alert_limits flow_alerts; /* scans, SYN floods, retransmissions (its cooldown_s is alert_cooldown_s) */
	char home_country[3];  /* "foreign" = public and not from here; "" = any public address */
};

/* One packet in the ring: its wire record, copied, plus what filters need. */
struct ring_entry {
	uint64_t id;       /* webd's own number, across sensors: the API's "seq" */
	uint64_t capd_seq; /* capd's */
	uint64_t sent_us;  /* when capd sent its batch (wall clock, µs) */
	uint64_t flow_id;  /* capd's id of the packet's flow; 0: none */
	uint8_t sensor;
	uint8_t proto;
	bool foreign;
	size_t len;
	const uint8_t *record; /* in the arena: a wlite-wire.h record, from its length field */
};

struct rate_bucket {
	int64_t second; /* epoch second this bucket holds, or 0 */
	uint64_t packets, bytes;
	uint64_t flow_reports; /* by arrival only: flow reports that came in that second */
};

struct host_name {
	char name[WL_NAME_MAX];
	uint8_t source; /* 'd' DNS answer, 's' TLS SNI, 'h' HTTP Host */
	int64_t last_seen;
	int64_t expires; /* DNS: last_seen + TTL; others: 0 */
};

struct host {
	struct wl_addr addr;
	uint32_t hash_next, lru_prev, lru_next; /* indices; UINT32_MAX = none */
	bool used;
	uint64_t pkts_sent, pkts_recv, bytes_sent, bytes_recv;
	int64_t first_seen, last_seen;
	struct geo_info geo;
	bool ipapi_asked;
	uint8_t n_names;
	struct host_name names[STATE_NAMES_PER_HOST];
	/* Packets sent per second, for the alert window. */
	uint32_t sent_per_s[STATE_ALERT_BUCKETS];
	int64_t sent_bucket_second;
	bool alerting;
	int64_t alert_cleared_at;
	size_t alert_index; /* of the open alert in the list */
};

struct dns_entry {
	uint64_t id; /* the packet's */
	int64_t ts_sec;
	uint32_t ts_usec;
	uint8_t sensor;
	struct wl_addr client, server;
	bool response;
	uint16_t qtype, rcode;
	char qname[WL_NAME_MAX];
	char answers[256]; /* "A 1.2.3.4, CNAME x" */
};

/* Told of every alert raised and cleared (lock held); set after state_init. */
typedef void (*state_alert_fn)(void *ctx, const struct alert *a);

struct sensor_stats {
	char name[SENSOR_NAME_MAX];
	char addr[256];
	uint64_t packets, bytes;
	struct wl_seq seq; /* capd's sequence: gaps and packets missed */
	struct wl_seq flow_seq; /* the flow reports' own sequence */
	uint64_t flow_reports;
	uint64_t bad_flow_batches;
	uint64_t bad_batches;
	uint64_t bad_timestamps; /* packets dropped for an impossible capture time */
	uint64_t bad_flow_timestamps; /* flow reports dropped for an impossible first or last time */
	int rcvbuf_asked, rcvbuf; /* the subscription's receive buffer: asked, given (-1: no socket) */
	uint64_t handoff_waited;  /* messages that found the state lock busy (ingest.c) */
	uint64_t handoff_filled;  /* times the ingest's hand-off filled up */
	char last_stats[2048];  /* capd's latest "stats" JSON, verbatim */
	char last_status[2048]; /* capd's latest "status" JSON */
	struct capd_counters capd; /* capd's counters, carried over its restarts (counters.h) */
	int64_t last_heard;
	struct sensor_health health; /* up, capd's drops, clock skew, its URL (health.h) */
};

struct state {
	pthread_mutex_t lock;
	struct state_limits lim;

	/* ring */
	struct ring_entry *ring;
	size_t ring_head, ring_count, ring_bytes; /* head: next slot to write */
	uint8_t *arena;
	size_t arena_head; /* where the next record goes */
	uint64_t next_id;
	uint64_t evicted;

	struct rate_bucket rates[STATE_RATE_SECONDS];   /* by capture second */
	struct rate_bucket arrival[STATE_RATE_SECONDS]; /* by webd's second of arrival */
	uint64_t by_proto[WL_P__MAX];
	uint64_t total_packets, total_bytes, malformed;

	struct host *hosts;
	uint32_t *host_hash; /* bucket heads */
	size_t host_hash_size;
	struct wl_siphash_key host_key; /* random, per process */
	uint32_t lru_head, lru_tail; /* most and least recently seen */
	size_t n_hosts;
	uint64_t hosts_evicted;
	uint32_t hosts_chain_max;     /* the longest chain a new host joined (<= STATE_HOST_CHAIN_MAX) */
	uint64_t hosts_chain_evicted; /* hosts given up because their chain was full */

	struct dns_entry *dns;
	size_t dns_head, dns_count;

	struct alert *alerts;
	size_t alerts_head, alerts_count;
	uint64_t next_alert_id;
	size_t hosts_alerting; /* hosts with a flood episode open */
	struct flow_alerts flow_alerts;

	int64_t last_pkt_ts, last_pkt_wall;
	int64_t last_report_ts, last_report_wall; /* the flow alerts' clock without packets (state.c) */

	struct live_flows flows;

	struct sensor_stats sensors[WL_SENSORS_MAX];
	size_t n_sensors;

	state_alert_fn on_alert; /* NULL: nobody listens */
	void *on_alert_ctx;
};

int state_init(struct state *s, const struct state_limits *lim);
void state_free(struct state *s);

/* The defaults named in state_limits. */
void state_default_limits(struct state_limits *lim);

/*
 * Adds one packet (called with the lock held): copies the record, updates
 * rates, protocol counts, hosts, names, DNS log and alerts. geo fills new
 * hosts' geolocation (may be NULL). Returns the packet's id.
 */
struct geo_db;
struct packet_origin {
	uint8_t sensor;
	uint64_t sent_us; /* the batch's send time */
};

uint64_t state_add_packet(struct state *s, const struct packet_origin *from, const struct wl_packet *pkt,
			  const uint8_t *record, size_t record_len, const struct geo_db *geo,
			  int64_t wall_now);

/* Finds a host (lock held); NULL if not known. */
struct host *state_find_host(struct state *s, const struct wl_addr *a);

/* The ring entry with this id (lock held), or NULL if it has been evicted. */
const struct ring_entry *state_find_packet(const struct state *s, uint64_t id);

/* i-th newest ring entry, 0 = newest (lock held). */
const struct ring_entry *state_ring_at(const struct state *s, size_t i);

/*
 * The counts of one capture second (lock held), or NULL when the rates hold
 * none for it: a quiet second, or one more than STATE_RATE_SECONDS ago.
 */
const struct rate_bucket *state_rate_at(const struct state *s, int64_t second);

/*
 * The counts of one second of webd's clock (lock held): what arrived in it,
 * whatever the packets' capture times; NULL when nothing did, or more than
 * STATE_RATE_SECONDS ago. The live rates read these.
 */
const struct rate_bucket *state_arrival_at(const struct state *s, int64_t wall_second);

/*
 * Takes one flow report from a sensor (lock held): the flow table, the
 * arrival counts, and the flow alerts. now_us is webd's wall clock.
 */
void state_add_flow_report(struct state *s, uint8_t sensor, const struct wl_flow_record *rec, int64_t now_us);

/* i-th newest entry of the DNS log, 0 = newest (lock held), or NULL past its end. */
const struct dns_entry *state_dns_at(const struct state *s, size_t i);

/* i-th newest alert of the list, 0 = newest (lock held), or NULL past its end. */
const struct alert *state_alert_at(const struct state *s, size_t i);

/*
 * A DNS message's answers as the live DNS log shows them ("1.2.3.4, CNAME
 * x"), cut to fit size bytes; history stores the same text. Returns the
 * length written (out is NUL-terminated when size > 0).
 */
size_t state_dns_answers(const struct wl_dns *dns, char *out, size_t size);

/*
 * The state's clock: the newest packet's capture time, moved on by the wall
 * time since it arrived, so that a replayed capture keeps its own time.
 */
int64_t state_now(const struct state *s, int64_t wall_now);

/* Closes alerts whose window has gone quiet; call once a second (lock held). */
void state_tick(struct state *s, int64_t wall_now);

/* Whether an address counts as "foreign" for the filter. */
bool state_is_foreign(const struct state *s, const struct host *h);

/* Clears the packet ring, counters, DNS log and alerts (the "Clear" button). */
void state_clear(struct state *s);

#endif
