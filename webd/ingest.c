/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * From capd to the live state: one NN_SUB socket per sensor, driven by the
 * libevent loop. A batch is decoded and added under one lock; sequence
 * numbers are checked per sensor so that every lost packet is counted.
 * nanomsg reconnects by itself when capd restarts.
 */
#include "webd.h"

#include "history.h"
#include "log.h"
#include "seq.h"
#include "wlite-wire.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#define RCVBUF_BYTES (32 * 1024 * 1024)
#define MESSAGES_PER_WAKEUP 64 /* then let the loop serve the feed and timers */

struct sensor_cb {
	struct webd *w;
	uint8_t index;
};

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

/* Called with the state lock held. */
static void add_batch(struct webd *w, uint8_t sensor, const uint8_t *body, size_t len)
{
	struct sensor_stats *ss = &w->state.sensors[sensor];
	struct wl_wire_record *rec = w->scratch;
	struct wl_wire_reader r;
	struct packet_origin from = { .sensor = sensor };
	size_t rec_start;
	uint64_t id;
	int rc = wl_wire_reader_init(&r, body, len);
	int64_t now = wall_now();

	if (rc < 0) {
		ss->bad_batches++;
		return;
	}
	from.sent_us = r.sent_us;
	for (rec_start = r.off; (rc = wl_wire_next(&r, rec)) == 1; rec_start = r.off) {
		wl_seq_packet(&ss->seq, rec->pkt.seq);
		ss->packets++;
		ss->bytes += rec->pkt.len;
		if (!state_ts_possible(rec->pkt.ts_sec)) {
			/* Received, so no gap; but nothing time-based may see it (state.h). */
			ss->bad_timestamps++;
			continue;
		}
		id = state_add_packet(&w->state, &from, &rec->pkt, body + rec_start, r.off - rec_start, w->geo, now);
		if (!w->history)
			continue;
		/* A packet of a later second closes the seconds before it (captures arrive in order). */
		if (rec->pkt.ts_sec - 1 > w->rates_done || rec->pkt.ts_sec + 2 < w->rates_done)
			ingest_history_rates(w, rec->pkt.ts_sec - 1);
		history_add_packet(w->history, id, sensor, &rec->pkt, rec->raw, rec->raw_len, rec->linktype);
	}
	if (rc < 0)
		ss->bad_batches++;
	ss->last_heard = now;
}

/* A stats seq beyond the last packet: capd sent packets this sensor lost at the end. */
static void check_stats_seq(struct sensor_stats *ss, const char *json, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");

	if (cJSON_IsNumber(seq) && seq->valuedouble >= 0)
		wl_seq_sent(&ss->seq, (uint64_t)seq->valuedouble);
	cJSON_Delete(root);
}

static void keep_event(struct sensor_stats *ss, const char *topic, const char *json, size_t len)
{
	char *dst = strcmp(topic, WL_TOPIC_STATS) == 0 ? ss->last_stats : ss->last_status;
	size_t size = sizeof(ss->last_stats);

	if (dst == ss->last_stats)
		check_stats_seq(ss, json, len);
	if (len >= size)
		return; /* not ours to cut: keep the previous one */
	memcpy(dst, json, len);
	dst[len] = '\0';
	ss->last_heard = wall_now();
}

static void handle_message(struct webd *w, uint8_t sensor, const uint8_t *msg, size_t len)
{
	const uint8_t *nul = memchr(msg, '\0', len < 16 ? len : 16);
	size_t tlen;

	if (!nul)
		return;
	tlen = (size_t)(nul - msg) + 1;
	pthread_mutex_lock(&w->state.lock);
	if (strcmp((const char *)msg, WL_TOPIC_PKT) == 0)
		add_batch(w, sensor, msg + tlen, len - tlen);
	else if (strcmp((const char *)msg, WL_TOPIC_STATS) == 0 || strcmp((const char *)msg, WL_TOPIC_STATUS) == 0)
		keep_event(&w->state.sensors[sensor], (const char *)msg, (const char *)msg + tlen, len - tlen);
	pthread_mutex_unlock(&w->state.lock);
}

static void on_sensor_readable(evutil_socket_t fd, short what, void *arg)
{
	struct sensor_cb *cb = arg;
	struct webd *w = cb->w;
	int sock = w->conns[cb->index].sock;

	for (int i = 0; i < MESSAGES_PER_WAKEUP; i++) {
		void *msg;
		int n = nn_recv(sock, &msg, NN_MSG, NN_DONTWAIT);

		if (n < 0)
			return; /* drained: the fd will say when there is more */
		handle_message(w, cb->index, msg, (size_t)n);
		nn_freemsg(msg);
	}
	/*
	 * More may be waiting, and nanomsg's fd does not necessarily signal again
	 * for it: come back on the next loop iteration, after the timers had a turn.
	 */
	event_active(w->conns[cb->index].ev, EV_READ, 0);
}

static int subscribe(int sock, const char *topic)
{
	return nn_setsockopt(sock, NN_SUB, NN_SUB_SUBSCRIBE, topic, strlen(topic) + 1);
}


int ingest_connect(struct webd *w, char *err, size_t errlen)
{
	for (size_t i = 0; i < w->opt.n_sensors; i++) {
		struct sensor_conn *c = &w->conns[i];
		struct sensor_stats *ss = &w->state.sensors[i];
		/* Not -1: a peer announcing 4 TiB would make nanomsg abort webd (wlite-wire.h). */
		int rcvbuf = RCVBUF_BYTES, maxsize = WL_WIRE_MESSAGE_MAX, fd;
		size_t fdlen = sizeof(fd);
		struct sensor_cb *cb;

		snprintf(ss->name, sizeof(ss->name), "%s", w->opt.sensors[i].name);
		snprintf(ss->addr, sizeof(ss->addr), "%s", w->opt.sensors[i].addr);
		w->state.n_sensors = i + 1;
		c->sock = nn_socket(AF_SP, NN_SUB);
		if (c->sock < 0 || nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
		    nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize)) < 0 ||
		    subscribe(c->sock, WL_TOPIC_PKT) < 0 || subscribe(c->sock, WL_TOPIC_STATS) < 0 ||
		    subscribe(c->sock, WL_TOPIC_STATUS) < 0 || nn_connect(c->sock, ss->addr) < 0 ||
		    nn_getsockopt(c->sock, NN_SOL_SOCKET, NN_RCVFD, &fd, &fdlen) < 0) {
			snprintf(err, errlen, "cannot subscribe to %s: %s", ss->addr, nn_strerror(nn_errno()));
			return -EIO;
		}
		cb = malloc(sizeof(*cb));
		if (!cb) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		*cb = (struct sensor_cb){ .w = w, .index = (uint8_t)i };
		c->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_sensor_readable, cb);
		if (!c->ev || event_add(c->ev, NULL) < 0) {
			free(cb);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

void ingest_close(struct webd *w)
{
	for (size_t i = 0; i < w->opt.n_sensors; i++) {
		struct sensor_conn *c = &w->conns[i];

		if (c->ev) {
			free(event_get_callback_arg(c->ev));
			event_free(c->ev);
			c->ev = NULL;
		}
		if (c->sock >= 0)
			nn_close(c->sock);
		c->sock = -1;
	}
}

void ingest_sensor_json(cJSON *item, const struct sensor_stats *ss)
{
	cJSON_AddNumberToObject(item, "bad_timestamps", (double)ss->bad_timestamps);
}

/*
 * Hands history the per-second counters of the seconds after rates_done up
 * to upto, from the state's buckets (lock held): at most the hour they
 * hold, however far apart the two are. A clock that went back (a replay of
 * an older capture) starts over from there.
 */
void ingest_history_rates(struct webd *w, int64_t upto)
{
	int64_t first = w->rates_done + 1;

	if (!w->history)
		return;
	if (upto + 2 < w->rates_done) {
		w->rates_done = upto;
		return;
	}
	if (first < upto - STATE_RATE_SECONDS + 1)
		first = upto - STATE_RATE_SECONDS + 1;
	/* Counted, not compared with upto: the loop ends whatever upto is. */
	for (int64_t i = 0, n = upto - first + 1; i < n && i < STATE_RATE_SECONDS; i++) {
		int64_t t = first + i;
		const struct rate_bucket *b = &w->state.rates[(uint64_t)t % STATE_RATE_SECONDS];

		if (b->second == t && b->packets)
			history_add_rate(w->history, t, b->packets, b->bytes);
	}
	w->rates_done = upto;
}

/*
 * Once a second: alerts close; the last complete second goes to history,
 * with a second's grace for the batch still on its way.
 */
void webd_tick(evutil_socket_t fd, short what, void *arg)
{
	struct webd *w = arg;
	int64_t now = wall_now();

	pthread_mutex_lock(&w->state.lock);
	state_tick(&w->state, now);
	if (state_now(&w->state, now) - 2 > w->rates_done)
		ingest_history_rates(w, state_now(&w->state, now) - 2);
	pthread_mutex_unlock(&w->state.lock);
}
