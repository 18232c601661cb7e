/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The queue between the ingest and the writer, and the writer thread.
 *
 * Queue: a ring of fixed-size records (struct hist_rec) plus a byte ring for
 * their variable parts (texts, then raw bytes while a raw window is set).
 * One producer at a time (the state lock), one consumer: head and tail are
 * atomics, nothing is allocated after history_open, and a full queue drops
 * the record (counted) instead of waiting.
 *
 * Writer: takes what is queued, up to BATCH_MAX records, in one transaction;
 * between batches, retention in small steps. Any SQLite error pauses
 * history: the batch is rolled back and counted as not stored, queued
 * records are discarded (counted) so the queue never backs up into the
 * ingest, and every RETRY_SECONDS the connection is reopened and a batch
 * tried again; the first commit that succeeds resumes.
 */
#include "history/history.h"
#include "history/history_db.h"
#include "history/history_flows.h"
#include "live/rows.h"
#include "live/state.h"

#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 50000
#define IDLE_MS 20
#define RETRY_SECONDS 3
#define PRUNE_BUDGET_MS 50 /* retention time between two batches, at most */
#define PRUNE_IDLE_CHECK_MS 1000
#define WRITER_NICE 10
#define CHECKPOINT_MS 500

enum hist_kind { HK_PACKET = 1, HK_ALERT, HK_RATE, HK_FLOW /* all in the byte ring: struct hist_flow */ };

struct hist_rec {
	uint8_t kind;
	uint32_t var_len;
	uint64_t var_pos; /* absolute position in the byte ring */
	union {
		struct hist_pkt pkt;
		struct alert alert;
		struct {
			int64_t second;
			uint64_t packets, bytes;
		} rate;
	} u;
};

struct history {
	struct history_config cfg;
	char path[4096];
	char *sensor_names[WL_SENSORS_MAX];

	/* The record ring: producer owns rec_head, the writer rec_tail. */
	struct hist_rec *recs;
	size_t n_recs; /* a power of two */
	atomic_uint_fast64_t rec_head, rec_tail;
	/* The byte ring, likewise. */
	uint8_t *bytes;
	size_t n_bytes;
	uint64_t byte_head;
	atomic_uint_fast64_t byte_tail;
	atomic_uint_fast64_t dropped, dropped_other, raw_dropped, dropped_flows; /* counted by either side */

	pthread_t thread, checkpointer;
	bool thread_started, checkpointer_started;
	atomic_bool stop;

	/* The writer's own. */
	struct hdb db;
	bool paused, trying; /* trying: reopened while paused, the next batch is the test */
	int64_t retry_at_ms, prune_at_ms;

	pthread_mutex_t stats_lock; /* guards stats, read by the API's threads */
	struct history_stats stats;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void history_default_config(struct history_config *cfg)
{
	*cfg = (struct history_config){
		.path = HISTORY_DEFAULT_PATH,
		.max_age_days = 30,
		.max_bytes = 2ull << 30,
		.raw_window_hours = 24,
		.queue_packets = 262144,
		.queue_bytes = 64u << 20,
	};
}

const char *history_path(const struct history *h)
{
	return h ? h->path : NULL;
}

/* ---- Producer side (state lock held) ------------------------------------------- */

/* The next free record, or NULL when the ring is full. */
static struct hist_rec *rec_claim(struct history *h)
{
	uint64_t head = atomic_load_explicit(&h->rec_head, memory_order_relaxed);

	if (head - atomic_load_explicit(&h->rec_tail, memory_order_acquire) >= h->n_recs)
		return NULL;
	return &h->recs[head & (h->n_recs - 1)];
}

static void rec_publish(struct history *h)
{
	atomic_fetch_add_explicit(&h->rec_head, 1, memory_order_release);
}

/* Reserves need contiguous bytes (a reservation never wraps); false if full. */
static bool bytes_reserve(struct history *h, size_t need, uint64_t *ret_pos)
{
	uint64_t head = h->byte_head, tail = atomic_load_explicit(&h->byte_tail, memory_order_acquire);
	size_t off = (size_t)(head % h->n_bytes);

	if (need > h->n_bytes)
		return false;
	if (off + need > h->n_bytes)
		head += h->n_bytes - off; /* skip the end: the writer frees past it */
	if (head + need - tail > h->n_bytes)
		return false;
	*ret_pos = head;
	h->byte_head = head + need;
	return true;
}

static size_t copy_text(uint8_t *dst, const char *src, size_t max)
{
	size_t n = strnlen(src, max);

	memcpy(dst, src, n);
	return n;
}

static const char *packet_name(const struct wl_packet *pkt)
{
	if (pkt->has & WL_PKT_SNI)
		return pkt->sni;
	if ((pkt->has & WL_PKT_HTTP) && pkt->http.host[0])
		return pkt->http.host;
	return "";
}

static void fill_flow(struct hist_pkt *p, const struct wl_flow *f)
{
	if (f->has & WL_HAS_SRC) {
		p->src_fam = f->src.family;
		memcpy(p->src, f->src.b, sizeof(p->src));
	}
	if (f->has & WL_HAS_DST) {
		p->dst_fam = f->dst.family;
		memcpy(p->dst, f->dst.b, sizeof(p->dst));
	}
	p->has |= (f->has & WL_HAS_SPORT ? HP_SPORT : 0) | (f->has & WL_HAS_DPORT ? HP_DPORT : 0);
	p->sport = f->sport;
	p->dport = f->dport;
	p->tcp_flags = f->has & WL_HAS_TCP_FLAGS ? f->tcp_flags : 0;
}

void history_add_packet(struct history *h, uint64_t id, uint8_t sensor, const struct wl_packet *pkt,
			const uint8_t *raw, size_t raw_len, int linktype)
{
	bool dns = pkt->has & WL_PKT_DNS, keep_raw = h && h->cfg.raw_window_hours > 0 && raw_len <= UINT32_MAX;
	const char *name = packet_name(pkt), *qname = dns && pkt->dns.has_question ? pkt->dns.qname : "";
	struct hist_rec *r;
	struct hist_pkt *p;
	char answers[256];
	size_t info_len, qname_len, name_len, ans_len, texts;
	uint8_t *dst;

	if (!h)
		return;
	if (!(r = rec_claim(h))) {
		atomic_fetch_add_explicit(&h->dropped, 1, memory_order_relaxed);
		return;
	}
	info_len = strnlen(pkt->info, 255);
	qname_len = strnlen(qname, WL_NAME_MAX);
	name_len = strnlen(name, WL_NAME_MAX);
	/* The answers as the live DNS log shows them: "1.2.3.4, CNAME x", cut at 255 bytes. */
	ans_len = dns ? state_dns_answers(&pkt->dns, answers, sizeof(answers)) : 0;
	texts = info_len + qname_len + name_len + ans_len;
	if (!bytes_reserve(h, texts + (keep_raw ? raw_len : 0), &r->var_pos)) {
		/* No room for the raw bytes: the summary is worth keeping alone. */
		if (!keep_raw || !bytes_reserve(h, texts, &r->var_pos)) {
			atomic_fetch_add_explicit(&h->dropped, 1, memory_order_relaxed);
			return;
		}
		atomic_fetch_add_explicit(&h->raw_dropped, 1, memory_order_relaxed);
		keep_raw = false;
	}
	r->kind = HK_PACKET;
	r->var_len = (uint32_t)(texts + (keep_raw ? raw_len : 0));
	p = &r->u.pkt;
	memset(p, 0, sizeof(*p));
	p->seq = id;
	p->ts_us = pkt->ts_sec * 1000000 + pkt->ts_usec;
	p->len = pkt->len;
	p->linktype = (uint16_t)linktype;
	p->sensor = sensor;
	p->proto = pkt->proto;
	p->malformed = pkt->malformed;
	p->flow_id = pkt->flow_id;
	fill_flow(p, &pkt->outer);
	if (dns) {
		p->has |= HP_DNS | (pkt->dns.response ? HP_DNS_RESPONSE : 0);
		p->qtype = pkt->dns.qtype;
		p->rcode = (uint8_t)pkt->dns.rcode;
	}
	dst = h->bytes + r->var_pos % h->n_bytes;
	p->info_len = (uint8_t)copy_text(dst, pkt->info, info_len);
	p->qname_len = (uint16_t)copy_text(dst + info_len, qname, qname_len);
	p->name_len = (uint16_t)copy_text(dst + info_len + qname_len, name, name_len);
	memcpy(dst + info_len + qname_len + name_len, answers, ans_len);
	p->ans_len = (uint16_t)ans_len;
	if (keep_raw) {
		memcpy(dst + texts, raw, raw_len);
		p->raw_len = (uint32_t)raw_len;
	}
	rec_publish(h);
}

/* What webd knows of an IP flow's ends now, as /api/flows shows it: ",\"a_country\":...". */
static size_t hosts_json(struct state *s, struct hist_flow *f, char *buf, size_t size)
{
	const struct wl_flow_record *r = &f->rec;
	size_t used = 0;

	if (r->l3 != WL_L3_IPV4 && r->l3 != WL_L3_IPV6)
		return 0;
	for (int side = 0; side < 2; side++) {
		const struct host *host = state_find_host(s, &r->addr[side]);

		if (host)
			snprintf(f->country[side], sizeof(f->country[side]), "%s", host->geo.country);
		used = row_put_host(s, &r->addr[side], side ? "b" : "a", buf, size, used, NULL);
	}
	return used < size ? used : 0; /* cut: better none than half */
}

void history_add_flow(struct history *h, struct state *s, uint8_t sensor, const struct wl_flow_record *rec,
		      int64_t heard_us)
{
	struct hist_flow f;
	char hosts[HIST_FLOW_HOSTS_MAX];
	struct hist_rec *r;
	size_t name_len, hosts_len;
	uint8_t *dst;

	if (!h)
		return;
	if (!(r = rec_claim(h))) {
		atomic_fetch_add_explicit(&h->dropped_flows, 1, memory_order_relaxed);
		return;
	}
	memset(&f, 0, HIST_FLOW_FIXED);
	memcpy(&f.rec, rec, offsetof(struct wl_flow_record, name));
	f.heard_us = heard_us;
	f.sensor = sensor;
	hosts_len = hosts_json(s, &f, hosts, sizeof(hosts));
	name_len = strnlen(rec->name, sizeof(rec->name) - 1);
	f.name_len = (uint16_t)name_len;
	f.hosts_len = (uint16_t)hosts_len;
	if (!bytes_reserve(h, HIST_FLOW_FIXED + name_len + hosts_len, &r->var_pos)) {
		atomic_fetch_add_explicit(&h->dropped_flows, 1, memory_order_relaxed);
		return;
	}
	r->kind = HK_FLOW;
	r->var_len = (uint32_t)(HIST_FLOW_FIXED + name_len + hosts_len);
	dst = h->bytes + r->var_pos % h->n_bytes;
	memcpy(dst, &f, HIST_FLOW_FIXED);
	memcpy(dst + HIST_FLOW_FIXED, rec->name, name_len);
	memcpy(dst + HIST_FLOW_FIXED + name_len, hosts, hosts_len);
	rec_publish(h);
}

/* Alerts and rates carry no variable part. */
static struct hist_rec *claim_fixed(struct history *h, enum hist_kind kind)
{
	struct hist_rec *r = rec_claim(h);

	if (!r) {
		atomic_fetch_add_explicit(&h->dropped_other, 1, memory_order_relaxed);
		return NULL;
	}
	r->kind = (uint8_t)kind;
	r->var_pos = h->byte_head;
	r->var_len = 0;
	return r;
}

void history_add_alert(struct history *h, const struct alert *a)
{
	struct hist_rec *r = h ? claim_fixed(h, HK_ALERT) : NULL;

	if (!r)
		return;
	r->u.alert = *a;
	rec_publish(h);
}

void history_add_rate(struct history *h, int64_t second, uint64_t packets, uint64_t bytes)
{
	struct hist_rec *r = h ? claim_fixed(h, HK_RATE) : NULL;

	if (!r)
		return;
	r->u.rate.second = second;
	r->u.rate.packets = packets;
	r->u.rate.bytes = bytes;
	rec_publish(h);
}

/* ---- Writer side ------------------------------------------------------------------ */

static uint64_t queued(struct history *h)
{
	return atomic_load_explicit(&h->rec_head, memory_order_acquire) -
	       atomic_load_explicit(&h->rec_tail, memory_order_relaxed);
}

/* Gives a record's slot and bytes back to the producer. */
static void rec_release(struct history *h, const struct hist_rec *r)
{
	atomic_store_explicit(&h->byte_tail, r->var_pos + r->var_len, memory_order_release);
	atomic_fetch_add_explicit(&h->rec_tail, 1, memory_order_release);
}

static const struct hist_rec *rec_at(struct history *h, uint64_t i)
{
	return &h->recs[(atomic_load_explicit(&h->rec_tail, memory_order_relaxed) + i) & (h->n_recs - 1)];
}

static int write_record(struct history *h, const struct hist_rec *r)
{
	switch (r->kind) {
	case HK_PACKET:
		return history_db_insert_packet(&h->db, &r->u.pkt, h->bytes + r->var_pos % h->n_bytes);
	case HK_ALERT:
		return history_db_insert_alert(&h->db, &r->u.alert);
	case HK_RATE:
		return history_db_insert_rate(&h->db, r->u.rate.second, r->u.rate.packets, r->u.rate.bytes);
	case HK_FLOW:
		return history_db_upsert_flow(&h->db, h->bytes + r->var_pos % h->n_bytes);
	}
	return SQLITE_OK;
}

struct batch_counts {
	uint64_t packets, dns, alerts, rates, flows;
};

static void count_record(struct batch_counts *c, const struct hist_rec *r)
{
	if (r->kind == HK_PACKET) {
		c->packets++;
		c->dns += (r->u.pkt.has & HP_DNS) != 0;
	} else if (r->kind == HK_ALERT) {
		c->alerts++;
	} else if (r->kind == HK_FLOW) {
		c->flows++;
	} else {
		c->rates++;
	}
}

/* Records of a batch that did not commit, or that arrived while paused. */
static void count_lost(struct history *h, const struct batch_counts *c)
{
	atomic_fetch_add_explicit(&h->dropped, c->packets, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->dropped_other, c->alerts + c->rates, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->dropped_flows, c->flows, memory_order_relaxed);
}

static uint64_t file_size(const char *path, const char *suffix)
{
	char name[4200];
	struct stat st;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	return stat(name, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void set_paused(struct history *h, bool paused, const char *reason)
{
	pthread_mutex_lock(&h->stats_lock);
	h->stats.paused = paused;
	/* Cut to fit: SQLite's messages can be long. */
	snprintf(h->stats.pause_reason, sizeof(h->stats.pause_reason), "%.*s",
		 (int)sizeof(h->stats.pause_reason) - 1, paused ? reason : "");
	pthread_mutex_unlock(&h->stats_lock);
}

/* Call before anything else runs on the connection: the message is the failed statement's. */
static void pause_writing(struct history *h, int rc)
{
	char reason[160];

	snprintf(reason, sizeof(reason), "%s (%s)", sqlite3_errstr(rc),
		 h->db.db ? sqlite3_errmsg(h->db.db) : "no connection");
	if (h->db.db)
		history_db_exec(&h->db, "ROLLBACK"); /* an open transaction, if any: its changes go */
	if (!h->paused)
		wl_err("history paused, not storing: %s; retrying every %d s", reason, RETRY_SECONDS);
	h->paused = true;
	h->trying = false;
	h->retry_at_ms = mono_ms() + RETRY_SECONDS * 1000;
	set_paused(h, true, reason);
}

static void note_commit(struct history *h, const struct batch_counts *c, double ms, double cpu_ms)
{
	pthread_mutex_lock(&h->stats_lock);
	h->stats.stored += c->packets;
	h->stats.stored_dns += c->dns;
	h->stats.stored_alerts += c->alerts;
	h->stats.stored_rates += c->rates;
	h->stats.stored_flows += c->flows;
	h->stats.last_commit_ms = ms;
	h->stats.write_seconds += ms / 1000.0;
	h->stats.cpu_seconds += cpu_ms / 1000.0;
	pthread_mutex_unlock(&h->stats_lock);
	if (h->paused) {
		wl_notice("history resumed: writing to %s again", h->path);
		h->paused = h->trying = false;
		set_paused(h, false, NULL);
	}
}

static double elapsed_ms(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Writes n queued records in one transaction; they leave the queue either way. */
static void write_batch(struct history *h, uint64_t n)
{
	struct batch_counts c = { 0 };
	struct timespec t0, cpu0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	for (uint64_t i = 0; i < n; i++)
		count_record(&c, rec_at(h, i));
	rc = history_db_exec(&h->db, "BEGIN");
	for (uint64_t i = 0; i < n && rc == SQLITE_OK; i++)
		rc = write_record(h, rec_at(h, i));
	if (rc == SQLITE_OK)
		rc = history_db_exec(&h->db, "COMMIT");
	/* Their bytes were bound SQLITE_STATIC: the slots are freed only now. */
	for (uint64_t i = 0; i < n; i++)
		rec_release(h, rec_at(h, 0));
	if (rc == SQLITE_OK) {
		note_commit(h, &c, elapsed_ms(CLOCK_MONOTONIC, &t0), elapsed_ms(CLOCK_THREAD_CPUTIME_ID, &cpu0));
		return;
	}
	count_lost(h, &c);
	pause_writing(h, rc);
}

/* While paused: what arrives is counted and let go, so the queue stays free. */
static void discard_queued(struct history *h)
{
	struct batch_counts c = { 0 };

	for (uint64_t n = queued(h); n > 0; n--) {
		count_record(&c, rec_at(h, 0));
		rec_release(h, rec_at(h, 0));
	}
	count_lost(h, &c);
}

/* Paused and due: reopen (the file may be back, or writable again) and let the next batch try. */
static bool retry_due(struct history *h)
{
	char err[256];
	int rc;

	if (mono_ms() < h->retry_at_ms)
		return false;
	history_db_close(&h->db);
	rc = history_db_open(&h->db, h->path, false, &h->cfg, err, sizeof(err));
	h->retry_at_ms = mono_ms() + RETRY_SECONDS * 1000;
	if (rc != SQLITE_OK) {
		set_paused(h, true, err);
		return false;
	}
	h->trying = true; /* the next batch decides */
	return true;
}

/* One step of each kind of retention; the rows removed. */
static uint64_t prune_once(struct history *h)
{
	uint64_t age = 0, size = 0, raw = 0, names = 0;
	int rc = history_db_prune_age(&h->db, (int64_t)h->cfg.max_age_days * 86400 * 1000000, &age);

	if (rc == SQLITE_OK)
		rc = history_db_prune_size(&h->db, h->cfg.max_bytes, &size);
	/* Only when flows went: else a step would check names that are all in use, every time. */
	if (rc == SQLITE_OK && age + size > 0)
		rc = history_db_prune_names(&h->db, &names);
	if (rc == SQLITE_OK && h->cfg.raw_window_hours)
		rc = history_db_prune_raw(&h->db, (int64_t)h->cfg.raw_window_hours * 3600 * 1000000, &raw);
	pthread_mutex_lock(&h->stats_lock);
	h->stats.pruned += age + size + names;
	h->stats.pruned_raw += raw;
	pthread_mutex_unlock(&h->stats_lock);
	if (rc != SQLITE_OK)
		pause_writing(h, rc);
	return age + size + raw + names;
}

/*
 * Retention between batches: steps of HDB_PRUNE_STEP rows, each its own
 * short transaction, for at most PRUNE_BUDGET_MS so the queue keeps moving.
 * With nothing to remove, it looks again a second later.
 */
static void maybe_prune(struct history *h)
{
	int64_t start = mono_ms();
	uint64_t n = 0;

	if (start < h->prune_at_ms)
		return;
	while (!h->paused && (n = prune_once(h)) > 0 && mono_ms() - start < PRUNE_BUDGET_MS)
		;
	h->prune_at_ms = n > 0 ? 0 : mono_ms() + PRUNE_IDLE_CHECK_MS;
	pthread_mutex_lock(&h->stats_lock);
	h->stats.db_bytes = file_size(h->path, "") + file_size(h->path, "-wal");
	pthread_mutex_unlock(&h->stats_lock);
}

static void *writer_main(void *arg)
{
	struct history *h = arg;

	/*
	 * Below the ingest and the HTTP threads: on a busy machine history
	 * falls behind (and counts what it drops), the live view does not.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), WRITER_NICE);

	for (;;) {
		bool stopping = atomic_load(&h->stop);
		uint64_t n = queued(h);

		if (h->paused && !h->trying && !retry_due(h)) {
			discard_queued(h);
			if (stopping)
				break;
			sleep_ms(100);
			continue;
		}
		if (n) {
			write_batch(h, n < BATCH_MAX ? n : BATCH_MAX);
			if (!h->paused)
				maybe_prune(h);
		} else if (stopping) {
			break;
		} else {
			/* A retry with nothing queued proves nothing: wait for a batch. */
			if (!h->paused)
				maybe_prune(h);
			sleep_ms(IDLE_MS);
		}
	}
	return NULL;
}

/*
 * Copies the WAL into the database twice a second, PASSIVE: it never
 * blocks the writer nor waits for readers, and the WAL starts over once a
 * checkpoint has caught up. Its errors are the writer's to meet.
 */
static void *checkpointer_main(void *arg)
{
	struct history *h = arg;
	sqlite3 *db = NULL;

	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), WRITER_NICE);
	while (!atomic_load(&h->stop)) {
		sleep_ms(CHECKPOINT_MS);
		/* A connection learns that the file is in WAL mode by reading it: hence the query. */
		if (!db && (sqlite3_open_v2(h->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
			    sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK)) {
			sqlite3_close(db);
			db = NULL;
			continue;
		}
		(void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
	sqlite3_close(db);
	return NULL;
}

/* ---- Opening and closing ------------------------------------------------------------ */

static bool is_disk_trouble(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_FULL || rc == SQLITE_IOERR || rc == SQLITE_READONLY || rc == SQLITE_BUSY ||
	       rc == SQLITE_LOCKED || rc == SQLITE_PERM;
}

static int alloc_queue(struct history *h)
{
	size_t n = 1;

	while (n < h->cfg.queue_packets)
		n <<= 1;
	h->n_recs = n;
	h->recs = calloc(n, sizeof(*h->recs));
	h->n_bytes = h->cfg.queue_bytes;
	h->bytes = malloc(h->n_bytes);
	return h->recs && h->bytes ? 0 : -ENOMEM;
}

/* A corrupt file is moved aside and a new database started; anything else stays as it is. */
static int first_open(struct history *h, char *err, size_t errlen)
{
	char why[512], moved[4200];
	int rc = history_db_open(&h->db, h->path, true, &h->cfg, why, sizeof(why)), r;

	if (rc != SQLITE_OK && history_db_is_corrupt(rc)) {
		if ((r = history_db_move_aside(h->path, moved, sizeof(moved))) < 0) {
			snprintf(err, errlen, "%s is corrupt (%s) and cannot be moved aside: %s", h->path, why, strerror(-r));
			return -EIO;
		}
		wl_err("history: %s is corrupt (%s): moved aside to %s; starting a new database", h->path, why, moved);
		rc = history_db_open(&h->db, h->path, false, &h->cfg, why, sizeof(why));
	}
	if (rc == SQLITE_OK)
		return 0;
	if (is_disk_trouble(rc)) {
		/* The file is sound but cannot be written now: start paused, retry later. */
		snprintf(err, errlen, "%s: %s", h->path, why);
		h->paused = true;
		h->retry_at_ms = mono_ms() + RETRY_SECONDS * 1000;
		set_paused(h, true, why);
		return 0;
	}
	snprintf(err, errlen, "%s: %s", h->path, why);
	return -EIO;
}

static void make_parent_dir(const char *path)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	/* One level, like StateDirectory=: systemd normally made it already. */
	(void)mkdir(dir, 0750);
}

int history_open(struct history **ret, const struct history_config *cfg, char *err, size_t errlen)
{
	struct history *h;
	int r;

	err[0] = '\0';
	if (!cfg->path || !cfg->path[0] || strcmp(cfg->path, "off") == 0) {
		*ret = NULL;
		return 0;
	}
	/* Before any other SQLite call: no global mutex around every allocation. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (!(h = calloc(1, sizeof(*h))))
		return -ENOMEM;
	h->cfg = *cfg;
	snprintf(h->path, sizeof(h->path), "%s", cfg->path);
	h->cfg.path = h->path;
	for (size_t i = 0; i < cfg->n_sensors && i < WL_SENSORS_MAX; i++)
		h->cfg.sensor_names[i] = h->sensor_names[i] = strdup(cfg->sensor_names[i] ? cfg->sensor_names[i] : "");
	pthread_mutex_init(&h->stats_lock, NULL);
	h->stats.enabled = true;
	if ((r = alloc_queue(h)) < 0) {
		snprintf(err, errlen, "out of memory for the history queue");
		history_close(h);
		return r;
	}
	make_parent_dir(h->path);
	if ((r = first_open(h, err, errlen)) < 0 || (r = -pthread_create(&h->thread, NULL, writer_main, h)) < 0) {
		if (r != -EIO)
			snprintf(err, errlen, "cannot start the history writer: %s", strerror(-r));
		history_close(h);
		return r;
	}
	h->thread_started = true;
	h->checkpointer_started = pthread_create(&h->checkpointer, NULL, checkpointer_main, h) == 0;
	*ret = h;
	return 0;
}

void history_get_stats(struct history *h, struct history_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!h)
		return;
	pthread_mutex_lock(&h->stats_lock);
	*ret = h->stats;
	pthread_mutex_unlock(&h->stats_lock);
	ret->dropped = atomic_load(&h->dropped);
	ret->dropped_other = atomic_load(&h->dropped_other);
	ret->raw_dropped = atomic_load(&h->raw_dropped);
	ret->dropped_flows = atomic_load(&h->dropped_flows);
	ret->queued = queued(h);
}

struct history *history_close(struct history *h)
{
	if (!h)
		return NULL;
	if (h->thread_started) {
		/* The writer drains the queue before it leaves: nothing acknowledged is lost. */
		atomic_store(&h->stop, true);
		pthread_join(h->thread, NULL);
	}
	if (h->checkpointer_started)
		pthread_join(h->checkpointer, NULL);
	history_db_close(&h->db);
	pthread_mutex_destroy(&h->stats_lock);
	for (size_t i = 0; i < WL_SENSORS_MAX; i++)
		free(h->sensor_names[i]);
	free(h->recs);
	free(h->bytes);
	free(h);
	return NULL;
}
