/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_INGEST_H
#define WEBD_INGEST_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct ingest;
struct sensor_stats;
struct webd;

/* Subscribes to every sensor and starts the ingest thread. */
int ingest_connect(struct webd *w, char *err, size_t errlen);
void ingest_close(struct webd *w);

/* Once a second (event loop): alerts close, complete seconds go to history. */
void ingest_tick(evutil_socket_t fd, short what, void *arg);

/* Hands history the seconds after w->rates_done up to upto (state lock held). */
void ingest_history_rates(struct webd *w, int64_t upto);

/* Messages (and their bytes) waiting in the hand-off for the state lock; any thread. */
void ingest_queue_depth(struct ingest *in, size_t *messages, size_t *bytes);

/* Adds the ingest's counters for one sensor to its /api/stats object (state lock held). */
void ingest_sensor_json(struct cJSON *item, const struct sensor_stats *ss);

#endif
