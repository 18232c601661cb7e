/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live feed behind /api/stream (SSE) and /ws (WebSocket). Ten times a
 * second the event loop builds one update (new rows, sampled down to
 * feed_rows when there are more, the count of rows skipped, rates, drops and
 * alerts) and queues the same message to every client. A client's queue is
 * bounded: one that cannot keep up is dropped, and never stalls the others
 * or the ingest.
 *
 * A client may also ask for flows: a flow query (the query string of
 * /api/flows: filters, sort, limit). On the same tick, when the flow table
 * has changed or the query is new, each distinct query is run once and its
 * page sent to the clients that asked for it, as a "flows" message: at
 * most ten a second per client, coalesced however many reports arrived.
 */
#ifndef WEBD_FEED_H
#define WEBD_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct webd;
struct feed;
struct feed_client;

enum feed_kind {
	FEED_UPDATE, /* {"type":"update",...}: SSE event "update" */
	FEED_FLOWS,  /* {"type":"flows",...}: SSE event "flows" */
};

#define FEED_FLOWS_QUERY_MAX 512 /* bytes of a client's flow query */
#define FEED_FLOWS_LIMIT_MAX 500 /* flows in one message */

struct feed_msg {
	int refs; /* guarded by the feed's lock */
	enum feed_kind kind;
	size_t len;
	char data[];
};

struct feed_stats {
	unsigned clients;
	uint64_t updates, rows_sent, rows_skipped, clients_dropped;
	uint64_t flow_messages; /* "flows" messages queued, all clients */
	unsigned flow_clients;  /* clients with a flow query */
};

struct feed *feed_new(unsigned max_clients);
void feed_free(struct feed *f);

/* Builds and queues one update; called on the event loop. */
void feed_tick_cb(int fd, short what, void *arg);

/* A new client, or NULL when max_clients are connected. */
struct feed_client *feed_attach(struct feed *f);
void feed_detach(struct feed *f, struct feed_client *c);

/*
 * Sets the client's flow query (NULL or "": no flows). The query is checked
 * as /api/flows would check it, and must be plain URL text (printable
 * ASCII, no '"' or '\\', as a browser encodes it) of at most
 * FEED_FLOWS_QUERY_MAX - 1 bytes, with limit= at most FEED_FLOWS_LIMIT_MAX.
 * Returns 0, or -EINVAL with a message in err. The client's next flows
 * message comes on the next tick.
 */
int feed_set_flows(struct webd *w, struct feed_client *c, const char *query, char *err, size_t errlen);

/* The check feed_set_flows() makes, before there is a client (query not NULL). */
int feed_check_flows(struct webd *w, const char *query, char *err, size_t errlen);

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
