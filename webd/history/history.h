/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * History that survives restarts: packet summaries, DNS queries and answers,
 * alerts, per-second rates and flow reports in SQLite (WAL mode), written in batched
 * transactions on a thread of its own so that the live feed never waits on
 * the disk. The ingest hands over compact copies through a bounded queue;
 * when the queue is full, or the disk is full or unwritable, history pauses
 * (counted and shown) while live capture and the dashboard go on, and
 * writing resumes by itself when it can.
 *
 * Producers (history_add_*) are all called with the state lock held, so
 * there is one producer at a time and one consumer (the writer thread): the
 * queue is a single-producer single-consumer ring without locks.
 */
#ifndef WEBD_HISTORY_H
#define WEBD_HISTORY_H

#include "live/state.h"
#include "sensors.h"
#include "wlite-proto.h"
#include "wlite-wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_DEFAULT_PATH "/var/lib/wlite/history.db"

struct history;

struct history_config {
	const char *path;          /* NULL or "off": disabled */
	unsigned max_age_days;     /* retention by age (default 30) */
	uint64_t max_bytes;        /* retention by size (default 2 GiB) */
	unsigned raw_window_hours; /* raw bytes kept this long, for PCAP export (default 24; 0: none) */
	size_t queue_packets;      /* ingest -> writer queue, records (default 262144) */
	size_t queue_bytes;        /* texts and raw bytes of the queued records (default 64 MiB) */
	const char *sensor_names[WL_SENSORS_MAX]; /* by the ingest's sensor index */
	size_t n_sensors;
};

struct history_stats {
	bool enabled;
	bool paused;          /* disk full / unwritable: not storing */
	char pause_reason[160];
	uint64_t stored;      /* packets committed: survive a crash of webd */
	uint64_t stored_dns, stored_alerts, stored_rates;
	uint64_t stored_flows; /* flow reports committed (a long flow's reports update one row) */
	uint64_t dropped;     /* packets not stored (queue full, paused, a failed batch) */
	uint64_t dropped_other; /* alerts and rates not stored */
	uint64_t raw_dropped; /* packets stored without their raw bytes (byte queue full) */
	uint64_t dropped_flows; /* flow reports not stored (queue full, paused, a failed batch) */
	uint64_t queued;      /* waiting for the writer */
	uint64_t pruned, pruned_raw; /* rows removed by retention */
	uint64_t db_bytes;    /* the database file and its WAL */
	double last_commit_ms;
	double write_seconds; /* the writer's time in batches: stored / this = its insert rate */
	double cpu_seconds;   /* the writer thread's CPU time in batches */
};

/* The defaults named in history_config (path: HISTORY_DEFAULT_PATH). */
void history_default_config(struct history_config *cfg);

/*
 * Opens (or creates) the database, migrating its schema; a file that is not
 * a database or fails the integrity check is moved aside to PATH.corrupt-TIME
 * with a message in err (logged by the caller), never silently overwritten,
 * and a new one started. A full or read-only disk starts history paused.
 * Returns 0 (err may still hold a warning), or a negative errno with err set
 * (webd then runs without history).
 */
int history_open(struct history **ret, const struct history_config *cfg, char *err, size_t errlen);

/* Called by the ingest for every packet (with the state lock held): never blocks. */
void history_add_packet(struct history *h, uint64_t id, uint8_t sensor, const struct wl_packet *pkt,
			const uint8_t *raw, size_t raw_len, int linktype);

/*
 * Called for each flow report (state lock held), with webd's wall clock at
 * its arrival: never blocks. What webd knows of the flow's ends now
 * (country, scope, AS, name) is stored with it, as /api/flows shows it.
 */
void history_add_flow(struct history *h, struct state *s, uint8_t sensor, const struct wl_flow_record *rec,
		      int64_t heard_us);

/* Called when an alert is raised or cleared (a->cleared != 0; state lock held): never blocks. */
void history_add_alert(struct history *h, const struct alert *a);

/* Called for each completed second's counters (state lock held): never blocks. */
void history_add_rate(struct history *h, int64_t second, uint64_t packets, uint64_t bytes);

void history_get_stats(struct history *h, struct history_stats *ret);

/* The database path (for the API's read-only connections), or NULL when h is NULL. */
const char *history_path(const struct history *h);

/* Flushes what is queued and closes. Returns NULL. */
struct history *history_close(struct history *h);

#endif
