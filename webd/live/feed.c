/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/feed.h"

#include "live/flows_json.h"
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

#define CLIENT_QUEUE 32 /* messages: 1.6 s of updates and flows before a client is dropped */

struct feed_client {
	struct feed_client *next;
	struct feed_msg *queue[CLIENT_QUEUE];
	unsigned head, count;
	bool dropped;
	bool flows_fresh; /* a new query: answer it on the next tick */
	char flows_query[FEED_FLOWS_QUERY_MAX]; /* "": no flows */
};

/* A client's flow query, copied out of the feed's lock for one tick. */
struct flows_sub {
	struct feed_client *client;
	bool fresh;
	struct feed_msg *msg; /* the answer, shared by the subs with the same query */
	char query[FEED_FLOWS_QUERY_MAX];
};

struct feed {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* broadcast on every update and on drop/shutdown */
	struct feed_client *clients;
	unsigned n_clients, max_clients;
	bool shutting_down;
	uint64_t last_id; /* newest packet id already offered */
	uint64_t flows_reports; /* the flow table as of the last flows messages: */
	size_t flows_held;      /* reports taken and flows held */
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

/* Queues m to c (feed lock held); a full queue means a client too slow to keep. */
static void enqueue_locked(struct feed *f, struct feed_client *c, struct feed_msg *m)
{
	if (c->dropped)
		return;
	if (c->count == CLIENT_QUEUE) {
		c->dropped = true;
		drain(c);
		f->stats.clients_dropped++;
		return;
	}
	m->refs++;
	c->queue[(c->head + c->count) % CLIENT_QUEUE] = m;
	c->count++;
}

static void broadcast(struct feed *f, struct feed_msg *m)
{
	pthread_mutex_lock(&f->lock);
	for (struct feed_client *c = f->clients; c; c = c->next)
		enqueue_locked(f, c, m);
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
	ret->flow_clients = 0;
	for (const struct feed_client *c = f->clients; c; c = c->next)
		ret->flow_clients += c->flows_query[0] != '\0';
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

static struct feed_msg *finish_message(struct text *t, enum feed_kind kind)
{
	struct feed_msg *m;

	if (t->failed || !(m = malloc(sizeof(*m) + t->len + 1))) {
		text_free(t);
		return NULL;
	}
	m->refs = 1;
	m->kind = kind;
	m->len = t->len;
	memcpy(m->data, t->buf, t->len + 1);
	text_free(t);
	return m;
}

/* ---- Flow queries ---------------------------------------------------------------- */

/* Plain URL text: nothing that would need escaping when echoed in JSON. */
static bool plain_query(const char *q)
{
	for (; *q; q++)
		if (*q < 0x21 || *q > 0x7e || *q == '"' || *q == '\\')
			return false;
	return true;
}

int feed_check_flows(struct webd *w, const char *query, char *err, size_t errlen)
{
	struct flow_query q;

	if (strlen(query) >= FEED_FLOWS_QUERY_MAX || !plain_query(query)) {
		snprintf(err, errlen, "a flow query is URL text of at most %d bytes", FEED_FLOWS_QUERY_MAX - 1);
		return -EINVAL;
	}
	if (flows_json_parse(&w->state, &q, query, err, errlen) < 0)
		return -EINVAL;
	if (q.limit > FEED_FLOWS_LIMIT_MAX) {
		snprintf(err, errlen, "limit= must be at most %d in the live feed", FEED_FLOWS_LIMIT_MAX);
		return -EINVAL;
	}
	return 0;
}

int feed_set_flows(struct webd *w, struct feed_client *c, const char *query, char *err, size_t errlen)
{
	struct feed *f = w->feed;

	if (!query)
		query = "";
	if (feed_check_flows(w, query, err, errlen) < 0)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	snprintf(c->flows_query, sizeof(c->flows_query), "%s", query);
	c->flows_fresh = query[0] != '\0';
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* The clients with a flow query, into subs (at most max); returns how many. */
static size_t take_subs(struct feed *f, struct flows_sub *subs, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&f->lock);
	for (struct feed_client *c = f->clients; c && n < max; c = c->next) {
		if (!c->flows_query[0] || c->dropped)
			continue;
		subs[n].client = c;
		subs[n].fresh = c->flows_fresh;
		subs[n].msg = NULL;
		memcpy(subs[n].query, c->flows_query, sizeof(subs[n].query));
		c->flows_fresh = false;
		n++;
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The "flows" message answering one query (state lock held), or NULL. */
static struct feed_msg *flows_message(struct webd *w, const char *query)
{
	struct flow_query q;
	struct text t = { 0 };
	char err[256];

	if (flows_json_parse(&w->state, &q, query, err, sizeof(err)) < 0)
		return NULL; /* checked when it was set: cannot happen */
	flows_json_page(&w->state, &q, &t);
	text_addf(&t, ",\"type\":\"flows\",\"query\":\"%s\"}", query);
	return finish_message(&t, FEED_FLOWS);
}

/*
 * Answers each distinct query once (state lock held): all of them when the
 * table changed since the last answers, else only the new ones.
 */
static void answer_subs(struct webd *w, struct flows_sub *subs, size_t n)
{
	struct feed *f = w->feed;
	const struct flows_stats *st = &w->state.flows.stats;
	bool changed = st->reports != f->flows_reports || st->n != f->flows_held;

	f->flows_reports = st->reports;
	f->flows_held = st->n;
	for (size_t i = 0; i < n; i++) {
		if (!changed && !subs[i].fresh)
			continue;
		for (size_t j = 0; j < i && !subs[i].msg; j++)
			if (subs[j].msg && strcmp(subs[j].query, subs[i].query) == 0)
				subs[i].msg = subs[j].msg;
		if (!subs[i].msg)
			subs[i].msg = flows_message(w, subs[i].query);
	}
}

/* Queues the answers to their clients, if still connected, and drops the builder's references. */
static void deliver_subs(struct feed *f, struct flows_sub *subs, size_t n)
{
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < n; i++) {
		if (!subs[i].msg)
			continue;
		for (struct feed_client *c = f->clients; c; c = c->next)
			if (c == subs[i].client) {
				enqueue_locked(f, c, subs[i].msg);
				f->stats.flow_messages++;
			}
	}
	/* Each distinct message once: the first sub holding it owns the builder's reference. */
	for (size_t i = 0; i < n; i++) {
		bool first = subs[i].msg != NULL;

		for (size_t j = 0; j < i && first; j++)
			first = subs[j].msg != subs[i].msg;
		if (first)
			release_locked(subs[i].msg);
	}
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void flows_tick(struct webd *w)
{
	struct feed *f = w->feed;
	size_t max = f->max_clients, n;
	struct flows_sub *subs = malloc(max * sizeof(*subs));

	if (!subs)
		return;
	n = take_subs(f, subs, max);
	if (n) {
		pthread_mutex_lock(&w->state.lock);
		answer_subs(w, subs, n);
		pthread_mutex_unlock(&w->state.lock);
		deliver_subs(f, subs, n);
	}
	free(subs);
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
	if ((m = finish_message(&t, FEED_UPDATE)))
		broadcast(f, m);
	flows_tick(w);
}
