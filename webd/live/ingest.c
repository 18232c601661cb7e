/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * From capd to the live state, on a thread of its own: one NN_SUB socket
 * per sensor, drained at the ingest's pace whatever the event loop, an HTTP
 * client or an export is doing.
 *
 *   sockets --nn_recv--> hand-off (bounded) --state lock--> state, history
 *
 * The thread takes every message waiting in the sockets into the hand-off
 * (nanomsg gives its buffer away: nothing is copied), then applies the
 * oldest under the state lock if the lock is free, and goes round again. A
 * client or an export holding the lock makes messages wait in the hand-off
 * rather than in the socket. Once the hand-off is full (HANDOFF_BYTES or
 * HANDOFF_MESSAGES) the thread leaves the sockets alone and only tries the
 * lock: the kernel's socket buffers are the next buffer, and what capd
 * cannot send then is counted by the sequence numbers as gaps. Nothing is
 * dropped here; how often the hand-off filled, and how many messages found
 * the lock busy, is counted per sensor.
 *
 * A batch is decoded and added under one lock; sequence numbers are
 * checked per sensor so that every lost packet is counted. nanomsg
 * reconnects by itself when capd restarts.
 */
#include "live/ingest.h"

#include "history/history.h"
#include "webd.h"
#include "log.h"
#include "seq.h"
#include "wlite-wire.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <malloc.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Asked of the kernel for each subscription. It is capped at
 * net.core.rmem_max (4 MiB on a fresh Debian), which systemd/60-wlite.conf
 * raises; at --speed max capd outruns webd for a while, and a burst of
 * 50,000 packets lost a third at 4 MiB.
 */
#define RCVBUF_BYTES (32 * 1024 * 1024)
/* What may wait for the state lock: about 250 ms of capd at full speed. */
#define HANDOFF_BYTES (64u * 1024 * 1024)
#define HANDOFF_MESSAGES 16384
#define LOCK_RETRY_MS 1

struct handoff_msg {
	void *msg; /* nanomsg's buffer (NN_MSG): freed once applied */
	size_t len;
	uint8_t sensor;
	bool waited; /* found the lock busy (counted once) */
};

struct ingest {
	struct webd *w;
	pthread_t thread;
	bool started;
	int wake_fd; /* eventfd: written to stop the thread */
	atomic_bool stop;
	struct handoff_msg queue[HANDOFF_MESSAGES]; /* a ring */
	size_t head, count, bytes;
	atomic_size_t depth, depth_bytes; /* count and bytes, for other threads (/metrics) */
	size_t next_sensor; /* received from first next time */
	/* The thread's own counts, copied to the sensors' stats under the lock. */
	uint64_t waited[WL_SENSORS_MAX], filled[WL_SENSORS_MAX];
	struct wl_wire_record rec; /* the record being decoded */
	struct wl_flow_record flow;
};

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

static int64_t wall_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Called with the state lock held. */
static void add_batch(struct webd *w, struct wl_wire_record *rec, uint8_t sensor, const uint8_t *body,
		      size_t len)
{
	struct sensor_stats *ss = &w->state.sensors[sensor];
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
	health_clock_sample(&ss->health, r.sent_us, wall_now_us());
	for (rec_start = r.off; (rc = wl_wire_next(&r, rec)) == 1; rec_start = r.off) {
		wl_seq_packet(&ss->seq, rec->pkt.seq);
		ss->packets++;
		ss->bytes += rec->pkt.len;
		if (!state_ts_possible(rec->pkt.ts_sec, now)) {
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

/*
 * A batch of flow reports (state lock held). Their sequence is their own:
 * a gap is reports lost, counted apart from packets.
 */
static void add_flow_batch(struct webd *w, struct wl_flow_record *rec, uint8_t sensor, const uint8_t *body,
			   size_t len)
{
	struct sensor_stats *ss = &w->state.sensors[sensor];
	struct wl_wire_reader r;
	int64_t now_us = wall_now_us();
	int rc = wl_wire_reader_init(&r, body, len);

	if (rc < 0) {
		ss->bad_flow_batches++;
		return;
	}
	health_clock_sample(&ss->health, r.sent_us, now_us);
	while ((rc = wl_wire_next_flow(&r, rec)) == 1) {
		wl_seq_packet(&ss->flow_seq, rec->seq);
		ss->flow_reports++;
		if (!state_ts_possible(rec->first_us / 1000000, now_us / 1000000) ||
		    !state_ts_possible(rec->last_us / 1000000, now_us / 1000000)) {
			/* As for packets: one year-3000 flow would move history's retention clock past everything. */
			ss->bad_flow_timestamps++;
			continue;
		}
		state_add_flow_report(&w->state, sensor, rec, now_us);
		history_add_flow(w->history, &w->state, sensor, rec, now_us);
	}
	if (rc < 0)
		ss->bad_flow_batches++;
	ss->last_heard = now_us / 1000000;
}

/*
 * A stats seq beyond the last packet: capd sent packets this sensor lost at
 * the end. Only once a packet has come: a capd's --publish-flows socket
 * sends the same stats and never a packet, and its packets are not lost.
 */
static void check_stats_seq(struct sensor_stats *ss, const char *json, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
	const cJSON *flows = cJSON_GetObjectItemCaseSensitive(root, "flows");
	const cJSON *flow_seq = cJSON_GetObjectItemCaseSensitive(flows, "seq");

	if (cJSON_IsNumber(seq) && seq->valuedouble >= 0 && ss->packets)
		wl_seq_sent(&ss->seq, (uint64_t)seq->valuedouble);
	if (cJSON_IsNumber(flow_seq) && flow_seq->valuedouble >= 0)
		wl_seq_sent(&ss->flow_seq, (uint64_t)flow_seq->valuedouble);
	cJSON_Delete(root);
}

static void keep_event(struct sensor_stats *ss, const char *topic, const char *json, size_t len)
{
	char *dst = strcmp(topic, WL_TOPIC_STATS) == 0 ? ss->last_stats : ss->last_status;
	size_t size = sizeof(ss->last_stats);

	if (dst == ss->last_stats) {
		check_stats_seq(ss, json, len);
		health_stats(&ss->health, json, len, wall_now_us());
		capd_counters_observe_json(&ss->capd, json, len, ss->seq.restarts + ss->flow_seq.restarts);
	}
	if (len >= size)
		return; /* not ours to cut: keep the previous one */
	memcpy(dst, json, len);
	dst[len] = '\0';
	ss->last_heard = wall_now();
}

/* One message from a sensor (state lock held). */
static void handle_message(struct ingest *in, uint8_t sensor, const uint8_t *msg, size_t len)
{
	struct webd *w = in->w;
	const uint8_t *nul = memchr(msg, '\0', len < 16 ? len : 16);
	size_t tlen;

	if (!nul)
		return;
	tlen = (size_t)(nul - msg) + 1;
	if (strcmp((const char *)msg, WL_TOPIC_PKT) == 0)
		add_batch(w, &in->rec, sensor, msg + tlen, len - tlen);
	else if (strcmp((const char *)msg, WL_TOPIC_FLOW) == 0)
		add_flow_batch(w, &in->flow, sensor, msg + tlen, len - tlen);
	else if (strcmp((const char *)msg, WL_TOPIC_STATS) == 0 || strcmp((const char *)msg, WL_TOPIC_STATUS) == 0)
		keep_event(&w->state.sensors[sensor], (const char *)msg, (const char *)msg + tlen, len - tlen);
}

/* ---- The ingest thread ----------------------------------------------------------- */

static void publish_depth(struct ingest *in)
{
	atomic_store_explicit(&in->depth, in->count, memory_order_relaxed);
	atomic_store_explicit(&in->depth_bytes, in->bytes, memory_order_relaxed);
}

static bool handoff_full(const struct ingest *in)
{
	return in->count == HANDOFF_MESSAGES || in->bytes >= HANDOFF_BYTES;
}

/* One message from the next sensor in turn that has one; false if none has. */
static bool receive_one(struct ingest *in)
{
	size_t n_sensors = in->w->opt.n_sensors;

	for (size_t k = 0; k < n_sensors && !handoff_full(in); k++) {
		size_t i = (in->next_sensor + k) % n_sensors;
		void *msg;
		int n = nn_recv(in->w->conns[i].sock, &msg, NN_MSG, NN_DONTWAIT);

		if (n < 0)
			continue; /* empty (EAGAIN) */
		in->queue[(in->head + in->count) % HANDOFF_MESSAGES] =
			(struct handoff_msg){ .msg = msg, .len = (size_t)n, .sensor = (uint8_t)i };
		in->count++;
		in->bytes += (size_t)n;
		publish_depth(in);
		if (handoff_full(in))
			in->filled[i]++;
		/* A busy sensor cannot crowd out a quiet one. */
		in->next_sensor = (i + 1) % n_sensors;
		return true;
	}
	return false;
}

/* Applies the oldest message if the state lock is free; false if it is not. */
static bool apply_oldest(struct ingest *in)
{
	struct webd *w = in->w;
	struct handoff_msg *m = &in->queue[in->head];
	struct sensor_stats *ss = &w->state.sensors[m->sensor];

	if (pthread_mutex_trylock(&w->state.lock) != 0) {
		if (!m->waited)
			in->waited[m->sensor]++;
		m->waited = true;
		return false;
	}
	handle_message(in, m->sensor, m->msg, m->len);
	ss->handoff_waited = in->waited[m->sensor];
	ss->handoff_filled = in->filled[m->sensor];
	pthread_mutex_unlock(&w->state.lock);
	nn_freemsg(m->msg);
	in->bytes -= m->len;
	in->head = (in->head + 1) % HANDOFF_MESSAGES;
	in->count--;
	publish_depth(in);
	return true;
}

/*
 * Sleeps until a socket has a message, or (with messages waiting for the
 * lock) for LOCK_RETRY_MS. A full hand-off does not watch the sockets: they
 * would wake it at once, and only the lock can make room.
 */
static void wait_for_work(struct ingest *in)
{
	struct pollfd pfd[WL_SENSORS_MAX + 1];
	nfds_t n = 0;

	pfd[n++] = (struct pollfd){ .fd = in->wake_fd, .events = POLLIN };
	if (!handoff_full(in))
		for (size_t i = 0; i < in->w->opt.n_sensors; i++)
			pfd[n++] = (struct pollfd){ .fd = in->w->conns[i].rcv_fd, .events = POLLIN };
	poll(pfd, n, in->count ? LOCK_RETRY_MS : -1);
}

/*
 * Receives ahead only while the lock is busy. When it is free, a message
 * is applied as soon as it is received, and a backlog (capd outrunning
 * webd) waits in the kernel's socket buffer, which capd filled anyway,
 * rather than in fresh memory here.
 */
static void *ingest_main(void *arg)
{
	struct ingest *in = arg;

	pthread_setname_np(pthread_self(), "webd-ingest");

	while (!atomic_load(&in->stop)) {
		if (in->count == 0 && !receive_one(in)) {
			wait_for_work(in);
			continue;
		}
		if (apply_oldest(in))
			continue;
		/* The lock is busy: take in one more message meanwhile (or wait a little), then try again. */
		if (!receive_one(in))
			wait_for_work(in);
	}
	return NULL;
}

/* ---- Subscriptions ----------------------------------------------------------------- */

static int subscribe(int sock, const char *topic)
{
	return nn_setsockopt(sock, NN_SUB, NN_SUB_SUBSCRIBE, topic, strlen(topic) + 1);
}


/*
 * What the kernel gives a socket that asks for `asked` bytes of receive
 * buffer. nanomsg asks it (SO_RCVBUF) for each connection it makes but
 * does not say what it got, so a socket of the same kind asks the same.
 * Linux caps the request at net.core.rmem_max and reports twice what it
 * allows (room for its own bookkeeping): half is what compares with the
 * request. -1 for a transport without a kernel socket (inproc://).
 */
static int effective_rcvbuf(const char *addr, int asked)
{
	int family = strncmp(addr, "ipc://", 6) == 0 ? AF_UNIX : strncmp(addr, "tcp://", 6) == 0 ? AF_INET : -1;
	int fd, got = -1;
	socklen_t len = sizeof(got);

	if (family < 0 || (fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &asked, sizeof(asked)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
		got = -2;
	close(fd);
	return got / 2;
}

/*
 * A tcp:// capd is mostly a remote sensor behind a TLS tunnel (README,
 * "Sensors on other hosts"), whose local end accepts at once and closes
 * while the sensor's capd is down. nanomsg's default of 100 ms then makes
 * ten TLS handshakes a second (3.4 KB each from the sensor) and ten log
 * lines on it; once a second is enough, and a restarted capd is heard
 * within a second.
 */
#define TCP_RECONNECT_MS 1000

static int set_reconnect_interval(int sock, const char *addr)
{
	int ms = TCP_RECONNECT_MS;

	if (strncmp(addr, "tcp://", 6) != 0)
		return 0;
	return nn_setsockopt(sock, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ms, sizeof(ms));
}

static int subscribe_sensor(struct webd *w, size_t i, char *err, size_t errlen)
{
	struct sensor_conn *c = &w->conns[i];
	struct sensor_stats *ss = &w->state.sensors[i];
	/* Not -1: a peer announcing 4 TiB would make nanomsg abort webd (wlite-wire.h). */
	int rcvbuf = RCVBUF_BYTES, maxsize = WL_WIRE_MESSAGE_MAX;
	size_t fdlen = sizeof(c->rcv_fd);

	snprintf(ss->name, sizeof(ss->name), "%s", w->opt.sensors[i].name);
	snprintf(ss->addr, sizeof(ss->addr), "%s", w->opt.sensors[i].addr);
	snprintf(ss->health.url, sizeof(ss->health.url), "%s", options_sensor_url(&w->opt, ss->name));
	ss->rcvbuf_asked = rcvbuf;
	ss->rcvbuf = effective_rcvbuf(ss->addr, rcvbuf);
	w->state.n_sensors = i + 1;
	c->sock = nn_socket(AF_SP, NN_SUB);
	if (c->sock < 0 || nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    nn_setsockopt(c->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize)) < 0 ||
	    subscribe(c->sock, WL_TOPIC_PKT) < 0 || subscribe(c->sock, WL_TOPIC_FLOW) < 0 ||
	    subscribe(c->sock, WL_TOPIC_STATS) < 0 ||
	    subscribe(c->sock, WL_TOPIC_STATUS) < 0 || set_reconnect_interval(c->sock, ss->addr) < 0 ||
	    nn_connect(c->sock, ss->addr) < 0 ||
	    nn_getsockopt(c->sock, NN_SOL_SOCKET, NN_RCVFD, &c->rcv_fd, &fdlen) < 0) {
		snprintf(err, errlen, "cannot subscribe to %s: %s", ss->addr, nn_strerror(nn_errno()));
		return -EIO;
	}
	return 0;
}

/* One warning for all sensors: they all ask the same, of the same kernel. */
static void warn_short_buffers(const struct state *s)
{
	for (size_t i = 0; i < s->n_sensors; i++) {
		const struct sensor_stats *ss = &s->sensors[i];

		if (ss->rcvbuf >= 0 && ss->rcvbuf < ss->rcvbuf_asked) {
			wl_warn("the kernel gave the subscription to %s a %d KiB receive buffer, not the %d KiB "
				"asked: net.core.rmem_max is too low, and a burst from capd can be lost. Install "
				"the sysctl.d drop-in 60-wlite.conf (sysctl -p FILE) or raise net.core.rmem_max "
				"to %d or more",
				ss->addr, ss->rcvbuf / 1024, ss->rcvbuf_asked / 1024, ss->rcvbuf_asked);
			return;
		}
	}
}

/* Signals are the event loop's (SIGTERM, SIGHUP): the thread never takes them. */
static int start_thread(struct ingest *in)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&in->thread, NULL, ingest_main, in);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

/*
 * nanomsg allocates a buffer for every message it receives (up to
 * WL_WIRE_MESSAGE_MAX), and the ingest frees it soon after. With glibc's
 * defaults such buffers come from fresh mmaps or from heap that is trimmed
 * back as soon as it is free, so every message lands in pages touched for
 * the first time; that was a fifth of the ingest's time in a replay at full
 * speed (see state.c's arena). Kept and reused instead, the ingest's CPU
 * time per packet fell by almost half. Process-wide, so said here, once.
 */
static void keep_message_memory(void)
{
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);   /* > WL_WIRE_MESSAGE_MAX: from the heap */
	mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024); /* >= the hand-off: freed heap is kept */
}

int ingest_connect(struct webd *w, char *err, size_t errlen)
{
	struct ingest *in = calloc(1, sizeof(*in));
	int r = 0;

	if (!in) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	in->w = w;
	in->wake_fd = -1;
	w->ingest = in;
	keep_message_memory();
	pthread_mutex_lock(&w->state.lock);
	for (size_t i = 0; i < w->opt.n_sensors; i++)
		if ((r = subscribe_sensor(w, i, err, errlen)) < 0)
			break;
	pthread_mutex_unlock(&w->state.lock);
	if (r < 0)
		return r;
	warn_short_buffers(&w->state);
	in->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (in->wake_fd < 0) {
		snprintf(err, errlen, "cannot start the ingest thread: %s", strerror(errno));
		return -errno;
	}
	if ((r = start_thread(in)) < 0) {
		snprintf(err, errlen, "cannot start the ingest thread: %s", strerror(-r));
		return r;
	}
	in->started = true;
	return 0;
}

void ingest_close(struct webd *w)
{
	struct ingest *in = w->ingest;

	if (in && in->started) {
		uint64_t one = 1;

		atomic_store(&in->stop, true);
		if (write(in->wake_fd, &one, sizeof(one)) < 0)
			wl_err("cannot wake the ingest thread: %s", strerror(errno));
		pthread_join(in->thread, NULL);
	}
	for (size_t i = 0; in && i < in->count; i++)
		nn_freemsg(in->queue[(in->head + i) % HANDOFF_MESSAGES].msg);
	for (size_t i = 0; i < w->opt.n_sensors; i++) {
		if (w->conns[i].sock >= 0)
			nn_close(w->conns[i].sock);
		w->conns[i].sock = -1;
	}
	if (in && in->wake_fd >= 0)
		close(in->wake_fd);
	free(in);
	w->ingest = NULL;
}

void ingest_queue_depth(struct ingest *in, size_t *messages, size_t *bytes)
{
	*messages = in ? atomic_load_explicit(&in->depth, memory_order_relaxed) : 0;
	*bytes = in ? atomic_load_explicit(&in->depth_bytes, memory_order_relaxed) : 0;
}

void ingest_sensor_json(cJSON *item, const struct sensor_stats *ss)
{
	cJSON_AddNumberToObject(item, "bad_timestamps", (double)ss->bad_timestamps);
	cJSON_AddNumberToObject(item, "rcvbuf_asked", ss->rcvbuf_asked);
	if (ss->rcvbuf >= 0)
		cJSON_AddNumberToObject(item, "rcvbuf", ss->rcvbuf);
	cJSON_AddNumberToObject(item, "handoff_waited", (double)ss->handoff_waited);
	cJSON_AddNumberToObject(item, "handoff_filled", (double)ss->handoff_filled);
	cJSON_AddNumberToObject(item, "flow_reports", (double)ss->flow_reports);
	cJSON_AddNumberToObject(item, "flow_gaps", (double)ss->flow_seq.gaps);
	cJSON_AddNumberToObject(item, "flow_reports_missed", (double)ss->flow_seq.missed);
	cJSON_AddNumberToObject(item, "bad_flow_batches", (double)ss->bad_flow_batches);
	cJSON_AddNumberToObject(item, "bad_flow_timestamps", (double)ss->bad_flow_timestamps);
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
		const struct rate_bucket *b = state_rate_at(&w->state, t);

		if (b && b->packets)
			history_add_rate(w->history, t, b->packets, b->bytes);
	}
	w->rates_done = upto;
}

/*
 * Once a second: alerts close; the last complete second goes to history,
 * with a second's grace for the batch still on its way.
 */
void ingest_tick(evutil_socket_t fd, short what, void *arg)
{
	struct webd *w = arg;
	int64_t now = wall_now();

	pthread_mutex_lock(&w->state.lock);
	state_tick(&w->state, now);
	if (state_now(&w->state, now) - 2 > w->rates_done)
		ingest_history_rates(w, state_now(&w->state, now) - 2);
	pthread_mutex_unlock(&w->state.lock);
}
