/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live feed behind /api/stream (SSE) and /ws (WebSocket). Ten times a
 * second the event loop builds one update (new rows, sampled down to
 * feed_rows when there are more, the count of rows skipped, rates, drops and
 * alerts) and queues the same message to every client. A client's queue is
 * bounded: one that cannot keep up is dropped, and never stalls the others
 * or the ingest.
 */
#ifndef WEBD_FEED_H
#define WEBD_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct webd;
struct feed;
struct feed_client;

struct feed_msg {
	int refs; /* guarded by the feed's lock */
	size_t len;
	char data[];
};

struct feed_stats {
	unsigned clients;
	uint64_t updates, rows_sent, rows_skipped, clients_dropped;
};

struct feed *feed_new(unsigned max_clients);
void feed_free(struct feed *f);

/* Builds and queues one update; called on the event loop. */
void feed_tick_cb(int fd, short what, void *arg);

/* A new client, or NULL when max_clients are connected. */
struct feed_client *feed_attach(struct feed *f);
void feed_detach(struct feed *f, struct feed_client *c);

/*
 * Waits up to timeout_ms for the client's next message. Returns it (release
 * with feed_release), or NULL on time-out; *gone is set when the client was
 * dropped for being slow or the feed is shutting down.
 */
struct feed_msg *feed_next(struct feed *f, struct feed_client *c, int timeout_ms, bool *gone);
void feed_release(struct feed *f, struct feed_msg *m);

/* Wakes every waiting client so that their threads can end (shutdown). */
void feed_shutdown(struct feed *f);

void feed_get_stats(struct feed *f, struct feed_stats *ret);

#endif
