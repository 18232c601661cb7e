/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/feed.h"

#include "live/rows.h"
#include "live/summary.h"
#include "text.h"
#include "webd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLIENT_QUEUE 16 /* updates: 1.6 s of backlog before a client is dropped */

struct feed_client {
	struct feed_client *next;
	struct feed_msg *queue[CLIENT_QUEUE];
	unsigned head, count;
	bool dropped;
};

struct feed {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* broadcast on every update and on drop/shutdown */
	struct feed_client *clients;
	unsigned n_clients, max_clients;
	bool shutting_down;
	uint64_t last_id; /* newest packet id already offered */
	struct feed_stats stats;
};

struct feed *feed_new(unsigned max_clients)
{
	struct feed *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->max_clients = max_clients;
	return f;
}

static void release_locked(struct feed_msg *m)
{
	if (m && --m->refs == 0)
		free(m);
}

void feed_release(struct feed *f, struct feed_msg *m)
{
	pthread_mutex_lock(&f->lock);
	release_locked(m);
	pthread_mutex_unlock(&f->lock);
}

static void drain(struct feed_client *c)
{
	while (c->count) {
		release_locked(c->queue[c->head]);
		c->head = (c->head + 1) % CLIENT_QUEUE;
		c->count--;
	}
}

struct feed_client *feed_attach(struct feed *f)
{
	struct feed_client *c = NULL;

	pthread_mutex_lock(&f->lock);
	if (!f->shutting_down && f->n_clients < f->max_clients && (c = calloc(1, sizeof(*c)))) {
		c->next = f->clients;
		f->clients = c;
		f->n_clients++;
	}
	pthread_mutex_unlock(&f->lock);
	return c;
}

void feed_detach(struct feed *f, struct feed_client *c)
{
	struct feed_client **link;

	pthread_mutex_lock(&f->lock);
	for (link = &f->clients; *link && *link != c; link = &(*link)->next)
		;
	if (*link) {
		*link = c->next;
		f->n_clients--;
	}
	drain(c);
	free(c);
	pthread_mutex_unlock(&f->lock);
}

struct feed_msg *feed_next(struct feed *f, struct feed_client *c, int timeout_ms, bool *gone)
{
	struct feed_msg *m = NULL;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->lock);
	while (!c->count && !c->dropped && !f->shutting_down)
		if (pthread_cond_timedwait(&f->cond, &f->lock, &until) == ETIMEDOUT)
			break;
	*gone = c->dropped || f->shutting_down;
	if (!*gone && c->count) {
		m = c->queue[c->head];
		c->head = (c->head + 1) % CLIENT_QUEUE;
		c->count--;
	}
	pthread_mutex_unlock(&f->lock);
	return m;
}

/* Queues m to every client; a full queue means a client too slow to keep. */
static void broadcast(struct feed *f, struct feed_msg *m)
{
	pthread_mutex_lock(&f->lock);
	for (struct feed_client *c = f->clients; c; c = c->next) {
		if (c->dropped)
			continue;
		if (c->count == CLIENT_QUEUE) {
			c->dropped = true;
			drain(c);
			f->stats.clients_dropped++;
			continue;
		}
		m->refs++;
		c->queue[(c->head + c->count) % CLIENT_QUEUE] = m;
		c->count++;
	}
	release_locked(m); /* the builder's reference */
	f->stats.updates++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

void feed_shutdown(struct feed *f)
{
	pthread_mutex_lock(&f->lock);
	f->shutting_down = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

void feed_get_stats(struct feed *f, struct feed_stats *ret)
{
	pthread_mutex_lock(&f->lock);
	*ret = f->stats;
	ret->clients = f->n_clients;
	pthread_mutex_unlock(&f->lock);
}

void feed_free(struct feed *f)
{
	if (!f)
		return;
	while (f->clients)
		feed_detach(f, f->clients);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
}

/* ---- Building an update ------------------------------------------------------- */

/*
 * The rows since the last update, at most feed_rows of them, spread evenly
 * over what arrived when there are more: a sample, never just the oldest.
 */
static void add_rows(struct webd *w, struct text *t, uint64_t *last_id, uint64_t *skipped,
		     uint64_t *sent)
{
	struct state *s = &w->state;
	const struct ring_entry *newest = state_ring_at(s, 0);
	size_t fresh, want = (size_t)w->opt.feed_rows;
	char *row = malloc(ROW_JSON_MAX);
	bool first = true;

	if (!newest || !row) {
		free(row);
		return;
	}
	fresh = newest->id > *last_id ? (size_t)(newest->id - *last_id) : 0;
	if (fresh > s->ring_count)
		fresh = s->ring_count; /* older ones already left the ring */
	if (fresh < want)
		want = fresh;
	for (size_t k = 0; k < want; k++) {
		/* oldest first: age runs from fresh-1 down to 0 */
		size_t age = fresh - 1 - (fresh * k) / want;
		const struct ring_entry *e = state_ring_at(s, age);
		long n;

		if (!e || row_decode(e, w->scratch) < 0)
			continue;
		n = row_json(s, e, &w->scratch->pkt, row, ROW_JSON_MAX);
		if (n < 0)
			continue;
		if (!first)
			text_add(t, ",", 1);
		text_add(t, row, (size_t)n);
		first = false;
	}
	*skipped = (uint64_t)(fresh - want);
	*sent = want;
	*last_id = newest->id;
	free(row);
}

static struct feed_msg *finish_message(struct text *t)
{
	struct feed_msg *m;

	if (t->failed || !(m = malloc(sizeof(*m) + t->len + 1))) {
		text_free(t);
		return NULL;
	}
	m->refs = 1;
	m->len = t->len;
	memcpy(m->data, t->buf, t->len + 1);
	text_free(t);
	return m;
}

void feed_tick_cb(int fd, short what, void *arg)
{
	struct webd *w = arg;
	struct feed *f = w->feed;
	struct text t = { 0 };
	uint64_t skipped = 0, sent = 0;
	struct feed_stats fs;
	char head[96];
	cJSON *summary;
	char *summary_text;
	struct feed_msg *m;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&f->lock);
	bool anyone = f->n_clients > 0;
	pthread_mutex_unlock(&f->lock);

	pthread_mutex_lock(&w->state.lock);
	if (!anyone) {
		/* Nobody to tell: only remember where we are. */
		const struct ring_entry *newest = state_ring_at(&w->state, 0);

		f->last_id = newest ? newest->id : f->last_id;
		pthread_mutex_unlock(&w->state.lock);
		return;
	}
	snprintf(head, sizeof(head), "{\"type\":\"update\",\"rows\":[");
	text_add(&t, head, strlen(head));
	add_rows(w, &t, &f->last_id, &skipped, &sent);
	feed_get_stats(f, &fs);
	summary = summary_json(&w->state, fs.rows_skipped);
	pthread_mutex_unlock(&w->state.lock);

	summary_text = summary ? cJSON_PrintUnformatted(summary) : NULL;
	cJSON_Delete(summary);
	snprintf(head, sizeof(head), "],\"skipped\":%llu,\"summary\":", (unsigned long long)skipped);
	text_add(&t, head, strlen(head));
	text_add(&t, summary_text ? summary_text : "null", summary_text ? strlen(summary_text) : 4);
	text_add(&t, "}", 1);
	free(summary_text);

	pthread_mutex_lock(&f->lock);
	f->stats.rows_sent += sent;
	f->stats.rows_skipped += skipped;
	pthread_mutex_unlock(&f->lock);
	if ((m = finish_message(&t)))
		broadcast(f, m);
}
