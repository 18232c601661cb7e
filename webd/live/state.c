/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/state.h"

#include "siphash.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NONE UINT32_MAX

void state_default_limits(struct state_limits *lim)
{
	*lim = (struct state_limits){
		.ring_packets = 100000,
		.ring_bytes = 128u * 1024 * 1024,
		.hosts = 65536,
		.dns_log = 1000,
		.alerts = 1000,
		.flows = FLOWS_DEFAULT_MAX,
		.alert_packets = 200,
		.alert_window_s = 10,
		.alert_cooldown_s = 60,
	};
	flow_alerts_default_limits(&lim->flow_alerts);
}

/*
 * The records' arena, written once through at start-up. Memory touched
 * for the first time is slow: a fault per page, and on the virtual
 * machines this project runs on the host backs guest memory lazily too
 * (measured: 2.3 to 4.5 ms per MiB the first time, 0.05 ms after). Met in
 * the middle of a burst, that made the ingest fall behind capd and lose
 * half of a 1,000,000-packet replay; met here, it costs a fraction of a
 * second before webd serves. Huge pages, where the kernel has them, make it
 * 64 faults instead of 32,768.
 */
static uint8_t *arena_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, size, MADV_HUGEPAGE); /* advice only: without THP, 4 KiB pages */
	memset(p, 0, size);
	return p;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static const struct alert_sink state_alert_sink;

/* The flow alerts share the flood alert's cooldown and the state's alert list. */
static int init_flow_alerts(struct state *s)
{
	struct flow_alert_limits fl = s->lim.flow_alerts;
	struct alert_sink sink = state_alert_sink;

	fl.cooldown_s = s->lim.alert_cooldown_s;
	sink.ctx = s;
	return flow_alerts_init(&s->flow_alerts, &fl, &sink);
}

int state_init(struct state *s, const struct state_limits *lim)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->lim = *lim;
	if (s->lim.alert_window_s == 0 || s->lim.alert_window_s > STATE_ALERT_BUCKETS)
		return -EINVAL;
	s->ring = calloc(lim->ring_packets, sizeof(*s->ring));
	s->arena = arena_alloc(lim->ring_bytes);
	s->hosts = calloc(lim->hosts, sizeof(*s->hosts));
	s->host_hash_size = pow2_at_least(lim->hosts * 2);
	s->host_hash = malloc(s->host_hash_size * sizeof(*s->host_hash));
	s->dns = calloc(lim->dns_log, sizeof(*s->dns));
	s->alerts = calloc(lim->alerts, sizeof(*s->alerts));
	if (!s->ring || !s->arena || !s->hosts || !s->host_hash || !s->dns || !s->alerts) {
		state_free(s);
		return -ENOMEM;
	}
	r = lim->flows > FLOWS_LIMIT_MAX ? -EINVAL : flows_init(&s->flows, (uint32_t)lim->flows);
	if (r == 0)
		r = init_flow_alerts(s);
	if (r < 0) {
		state_free(s);
		return r;
	}
	memset(s->host_hash, 0xff, s->host_hash_size * sizeof(*s->host_hash));
	r = wl_siphash_key_random(&s->host_key);
	if (r < 0) {
		state_free(s);
		return r;
	}
	s->lru_head = s->lru_tail = NONE;
	s->next_id = 1;
	s->next_alert_id = 1;
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

static void ring_drop_all(struct state *s)
{
	s->ring_head = s->ring_count = s->ring_bytes = 0;
	s->arena_head = 0;
}

void state_free(struct state *s)
{
	ring_drop_all(s);
	if (s->arena)
		munmap(s->arena, s->lim.ring_bytes);
	free(s->ring);
	free(s->hosts);
	free(s->host_hash);
	free(s->dns);
	free(s->alerts);
	flows_free(&s->flows);
	flow_alerts_free(&s->flow_alerts);
	memset(s, 0, sizeof(*s));
}

/* ---- The packet ring ----------------------------------------------------------- */

static size_t ring_slot(const struct state *s, size_t age)
{
	/* age 0 is the newest, just before head */
	return (s->ring_head + s->lim.ring_packets - 1 - age) % s->lim.ring_packets;
}

static struct ring_entry *ring_oldest(struct state *s)
{
	return &s->ring[ring_slot(s, s->ring_count - 1)];
}

static void ring_evict_oldest(struct state *s)
{
	s->ring_bytes -= ring_oldest(s)->len;
	s->ring_count--;
	s->evicted++;
}

/*
 * Records live in one byte arena used as a ring: written in order, wrapping
 * at the end, the oldest records giving way to what does not fit. No
 * allocation per packet, and the memory bound is exact.
 */
static size_t arena_reserve(struct state *s, size_t len)
{
	size_t pos = s->arena_head;

	if (pos + len > s->lim.ring_bytes) {
		/* No room before the end: what is stored past here is the oldest. */
		while (s->ring_count && (size_t)(ring_oldest(s)->record - s->arena) >= pos)
			ring_evict_oldest(s);
		pos = 0;
	}
	while (s->ring_count) {
		size_t off = (size_t)(ring_oldest(s)->record - s->arena);

		if (off >= pos + len || off + ring_oldest(s)->len <= pos)
			break;
		ring_evict_oldest(s);
	}
	s->arena_head = pos + len;
	return pos;
}

static uint64_t ring_add(struct state *s, const struct packet_origin *from, const struct wl_packet *pkt,
			 bool foreign, const uint8_t *record, size_t len)
{
	struct ring_entry *e;
	size_t off;

	if (len > s->lim.ring_bytes)
		return 0;
	if (s->ring_count >= s->lim.ring_packets)
		ring_evict_oldest(s);
	off = arena_reserve(s, len);
	memcpy(s->arena + off, record, len);
	e = &s->ring[s->ring_head];
	*e = (struct ring_entry){ .id = s->next_id++, .capd_seq = pkt->seq, .sent_us = from->sent_us,
				  .flow_id = pkt->flow_id, .sensor = from->sensor, .proto = pkt->proto, .foreign = foreign,
				  .len = len, .record = s->arena + off };
	s->ring_head = (s->ring_head + 1) % s->lim.ring_packets;
	s->ring_count++;
	s->ring_bytes += len;
	return e->id;
}

const struct ring_entry *state_ring_at(const struct state *s, size_t i)
{
	return i < s->ring_count ? &s->ring[ring_slot(s, i)] : NULL;
}

const struct ring_entry *state_find_packet(const struct state *s, uint64_t id)
{
	const struct ring_entry *newest = state_ring_at(s, 0);

	/* Ids are consecutive in the ring, so the age is a subtraction. */
	if (!newest || id > newest->id || newest->id - id >= s->ring_count)
		return NULL;
	return state_ring_at(s, (size_t)(newest->id - id));
}

/* ---- Rates and counters -------------------------------------------------------- */

/* The bucket a second goes in: the rates are a ring of one bucket a second. */
static size_t rate_slot(int64_t second)
{
	return (size_t)((uint64_t)second % STATE_RATE_SECONDS);
}

static void count_rate(struct state *s, int64_t second, uint32_t len)
{
	struct rate_bucket *b = &s->rates[rate_slot(second)];

	if (b->second != second)
		*b = (struct rate_bucket){ .second = second };
	b->packets++;
	b->bytes += len;
}

const struct rate_bucket *state_rate_at(const struct state *s, int64_t second)
{
	const struct rate_bucket *b = &s->rates[rate_slot(second)];

	return b->second == second ? b : NULL;
}

/*
 * The same by webd's clock: what arrived in each second. A replay at
 * --speed 10 puts ten capture seconds into one of these, and one at max
 * speed hundreds, so that the live rates say what webd takes in now; the
 * capture seconds above stay what the packets say (history, rates.csv).
 */
static struct rate_bucket *arrival_bucket(struct state *s, int64_t wall_second)
{
	struct rate_bucket *b = &s->arrival[rate_slot(wall_second)];

	if (b->second != wall_second)
		*b = (struct rate_bucket){ .second = wall_second };
	return b;
}

const struct rate_bucket *state_arrival_at(const struct state *s, int64_t wall_second)
{
	const struct rate_bucket *b = &s->arrival[rate_slot(wall_second)];

	return b->second == wall_second ? b : NULL;
}

/* ---- Hosts: hash chains for look-up, an LRU list for eviction ---------------- */

/*
 * Addresses come from the traffic, so the bucket comes from a keyed hash
 * (SipHash, a random key per process): nobody can aim addresses at one
 * bucket. The chain cap in touch_host bounds the walk even so.
 */
static size_t addr_bucket(const struct state *s, const struct wl_addr *a)
{
	uint8_t bytes[17];
	size_t n = a->family == 6 ? 16 : 4;

	bytes[0] = a->family;
	memcpy(bytes + 1, a->b, n);
	return (size_t)wl_siphash24(&s->host_key, bytes, n + 1) & (s->host_hash_size - 1);
}

static bool addr_equal(const struct wl_addr *x, const struct wl_addr *y)
{
	return x->family == y->family && memcmp(x->b, y->b, x->family == 6 ? 16 : 4) == 0;
}

struct host *state_find_host(struct state *s, const struct wl_addr *a)
{
	uint32_t i = s->host_hash[addr_bucket(s, a)];

	for (; i != NONE; i = s->hosts[i].hash_next)
		if (addr_equal(&s->hosts[i].addr, a))
			return &s->hosts[i];
	return NULL;
}

static void lru_unlink(struct state *s, uint32_t i)
{
	struct host *h = &s->hosts[i];

	if (h->lru_prev != NONE)
		s->hosts[h->lru_prev].lru_next = h->lru_next;
	else
		s->lru_head = h->lru_next;
	if (h->lru_next != NONE)
		s->hosts[h->lru_next].lru_prev = h->lru_prev;
	else
		s->lru_tail = h->lru_prev;
}

static void lru_push_front(struct state *s, uint32_t i)
{
	struct host *h = &s->hosts[i];

	h->lru_prev = NONE;
	h->lru_next = s->lru_head;
	if (s->lru_head != NONE)
		s->hosts[s->lru_head].lru_prev = i;
	s->lru_head = i;
	if (s->lru_tail == NONE)
		s->lru_tail = i;
}

static void hash_unlink(struct state *s, uint32_t i)
{
	uint32_t *link = &s->host_hash[addr_bucket(s, &s->hosts[i].addr)];

	while (*link != NONE && *link != i)
		link = &s->hosts[*link].hash_next;
	if (*link == i)
		*link = s->hosts[i].hash_next;
}

/*
 * The slot for a new host in bucket: a free one, or the least recently seen
 * host's. A chain already at STATE_HOST_CHAIN_MAX gives up its own least
 * recently seen host instead, so that no walk is ever longer than that.
 */
static void end_flood(struct state *s, struct host *h, int64_t now);

static uint32_t host_slot(struct state *s, size_t bucket, int64_t now)
{
	uint32_t i, len = 0, oldest = NONE;

	for (i = s->host_hash[bucket]; i != NONE; i = s->hosts[i].hash_next, len++)
		if (oldest == NONE || s->hosts[i].last_seen < s->hosts[oldest].last_seen)
			oldest = i;
	if (len + 1 > s->hosts_chain_max)
		s->hosts_chain_max = len < STATE_HOST_CHAIN_MAX ? len + 1 : STATE_HOST_CHAIN_MAX;
	if (len >= STATE_HOST_CHAIN_MAX) {
		i = oldest;
		s->hosts_chain_evicted++;
	} else if (s->n_hosts < s->lim.hosts) {
		return (uint32_t)s->n_hosts++;
	} else {
		i = s->lru_tail;
		s->hosts_evicted++;
	}
	/* Its flood episode ends with it, rather than stay open in the list for ever. */
	if (s->hosts[i].alerting)
		end_flood(s, &s->hosts[i], now);
	lru_unlink(s, i);
	hash_unlink(s, i);
	return i;
}

static struct host *touch_host(struct state *s, const struct wl_addr *a, int64_t now,
			       const struct geo_db *geo)
{
	struct host *h = state_find_host(s, a);
	size_t bucket;
	uint32_t i;

	if (h) {
		i = (uint32_t)(h - s->hosts);
		lru_unlink(s, i);
		lru_push_front(s, i);
		h->last_seen = now;
		return h;
	}
	bucket = addr_bucket(s, a);
	i = host_slot(s, bucket, now);
	h = &s->hosts[i];
	memset(h, 0, sizeof(*h));
	h->used = true;
	h->addr = *a;
	h->first_seen = h->last_seen = now;
	h->geo.scope = (uint8_t)geo_classify(a);
	if (geo && geo_lookup(geo, a, &h->geo) == 0)
		h->geo.source = GEO_SRC_LOCAL;
	h->hash_next = s->host_hash[bucket];
	s->host_hash[bucket] = i;
	lru_push_front(s, i);
	return h;
}

bool state_is_foreign(const struct state *s, const struct host *h)
{
	if (h->geo.scope != GEO_PUBLIC)
		return false;
	return !s->lim.home_country[0] || strcmp(h->geo.country, s->lim.home_country) != 0;
}

/* ---- Names seen for an address (passive DNS, SNI, Host) ----------------------- */

static void add_name(struct host *h, const char *name, uint8_t source, int64_t now, uint32_t ttl)
{
	struct host_name *slot = NULL;

	if (!name[0])
		return;
	for (unsigned i = 0; i < h->n_names; i++)
		if (strcmp(h->names[i].name, name) == 0)
			slot = &h->names[i];
	if (!slot && h->n_names < STATE_NAMES_PER_HOST)
		slot = &h->names[h->n_names++];
	if (!slot) {
		/* Full: the name seen longest ago makes room. */
		slot = &h->names[0];
		for (unsigned i = 1; i < h->n_names; i++)
			if (h->names[i].last_seen < slot->last_seen)
				slot = &h->names[i];
	}
	if (slot->name != name)
		snprintf(slot->name, sizeof(slot->name), "%s", name);
	slot->source = source;
	slot->last_seen = now;
	slot->expires = source == 'd' ? now + ttl : 0;
}

static bool parse_answer_addr(const struct wl_dns_rr *rr, struct wl_addr *ret);

static void learn_dns_names(struct state *s, const struct wl_dns *dns, int64_t now,
			    const struct geo_db *geo)
{
	for (unsigned i = 0; i < dns->n_answers && i < WL_DNS_MAX_ANSWERS; i++) {
		const struct wl_dns_rr *rr = &dns->answers[i];
		struct wl_addr a;

		if ((rr->type == 1 || rr->type == 28) && parse_answer_addr(rr, &a)) {
			struct host *h = touch_host(s, &a, now, geo);

			add_name(h, rr->name, 'd', now, rr->ttl);
			/* The question is what the user asked for: keep it too (CNAME chains). */
			if (dns->has_question && strcmp(dns->qname, rr->name) != 0)
				add_name(h, dns->qname, 'd', now, rr->ttl);
		}
	}
}

/* A and AAAA data are in presentation form already: read them back. */
static bool parse_answer_addr(const struct wl_dns_rr *rr, struct wl_addr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (rr->type == 1) {
		unsigned v[4];
		char tail;

		if (sscanf(rr->data, "%u.%u.%u.%u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
			return false;
		for (int i = 0; i < 4; i++) {
			if (v[i] > 255)
				return false;
			ret->b[i] = (uint8_t)v[i];
		}
		ret->family = 4;
		return true;
	}
	ret->family = 6;
	return inet_pton(AF_INET6, rr->data, ret->b) == 1;
}

/* ---- DNS log ------------------------------------------------------------------- */

size_t state_dns_answers(const struct wl_dns *dns, char *out, size_t size)
{
	size_t used = 0;

	if (size)
		out[0] = '\0';
	for (unsigned i = 0; i < dns->n_answers && i < WL_DNS_MAX_ANSWERS && used + 2 < size; i++) {
		const struct wl_dns_rr *rr = &dns->answers[i];
		int n;

		if (rr->section != WL_DNS_AN || !rr->data[0])
			continue;
		n = snprintf(out + used, size - used, "%s%s", used ? ", " : "", rr->data);
		if (n < 0)
			break;
		used += (size_t)n < size - used ? (size_t)n : size - used - 1;
	}
	return used;
}

static void log_dns(struct state *s, uint64_t id, uint8_t sensor, const struct wl_packet *pkt)
{
	struct dns_entry *e = &s->dns[s->dns_head];
	const struct wl_dns *dns = &pkt->dns;

	memset(e, 0, sizeof(*e));
	e->id = id;
	e->ts_sec = pkt->ts_sec;
	e->ts_usec = pkt->ts_usec;
	e->sensor = sensor;
	e->response = dns->response;
	e->qtype = dns->qtype;
	e->rcode = dns->rcode;
	/* The client is whoever asked: the source of a query, the destination of an answer. */
	e->client = dns->response ? pkt->outer.dst : pkt->outer.src;
	e->server = dns->response ? pkt->outer.src : pkt->outer.dst;
	snprintf(e->qname, sizeof(e->qname), "%s", dns->has_question ? dns->qname : "");
	state_dns_answers(dns, e->answers, sizeof(e->answers));
	s->dns_head = (s->dns_head + 1) % s->lim.dns_log;
	if (s->dns_count < s->lim.dns_log)
		s->dns_count++;
}

const struct dns_entry *state_dns_at(const struct state *s, size_t i)
{
	return i < s->dns_count ? &s->dns[(s->dns_head + s->lim.dns_log - 1 - i) % s->lim.dns_log] : NULL;
}

/* ---- Alerts: one per episode, with a cooldown ------------------------------------ */

static uint64_t window_sum(const struct host *h, unsigned window)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < window; i++)
		sum += h->sent_per_s[(uint64_t)(h->sent_bucket_second - i) % STATE_ALERT_BUCKETS];
	return sum;
}

/* Moves the host's per-second buckets forward to now, zeroing the skipped ones. */
static void advance_buckets(struct host *h, int64_t now)
{
	if (h->sent_bucket_second == 0 || now - h->sent_bucket_second >= STATE_ALERT_BUCKETS) {
		memset(h->sent_per_s, 0, sizeof(h->sent_per_s));
	} else {
		for (int64_t t = h->sent_bucket_second + 1; t <= now; t++)
			h->sent_per_s[(uint64_t)t % STATE_ALERT_BUCKETS] = 0;
	}
	if (now > h->sent_bucket_second)
		h->sent_bucket_second = now;
}

/* Whether a slot of the alert ring holds one of the alerts_count in the list. */
static bool slot_in_list(const struct state *s, size_t slot)
{
	size_t age = (s->alerts_head + s->lim.alerts - 1 - slot) % s->lim.alerts;

	return age < s->alerts_count;
}

/* Puts an alert in the list (a ring: the oldest gives way) with the next id, and tells the listener. */
static struct alert *store_alert(struct state *s, const struct alert *proto, size_t *ret_slot)
{
	struct alert *a = &s->alerts[s->alerts_head];

	*a = *proto;
	a->id = s->next_alert_id++;
	*ret_slot = s->alerts_head;
	if (s->on_alert)
		s->on_alert(s->on_alert_ctx, a);
	s->alerts_head = (s->alerts_head + 1) % s->lim.alerts;
	if (s->alerts_count < s->lim.alerts)
		s->alerts_count++;
	return a;
}

static void raise_alert(struct state *s, struct host *h, uint8_t sensor, int64_t now, uint64_t sum)
{
	struct alert a = { .kind = ALERT_FLOOD, .addr = h->addr, .sensor = sensor, .started = now, .last = now,
			   .peak_window = sum, .packets = sum, .threshold = s->lim.alert_packets,
			   .window_s = s->lim.alert_window_s };

	store_alert(s, &a, &h->alert_index);
	h->alerting = true;
	s->hosts_alerting++;
}

/* ---- The flow alerts' way into the list (live/alert.h) ---------------------------- */

static struct alert *sink_raise(void *ctx, const struct alert *a, size_t *ret_slot)
{
	return store_alert(ctx, a, ret_slot);
}

static struct alert *sink_find(void *ctx, size_t slot, uint64_t id)
{
	struct state *s = ctx;
	struct alert *a = slot < s->lim.alerts ? &s->alerts[slot] : NULL;

	/* Cleared by the "Clear" button, or its place taken by a newer alert. */
	return a && id && a->id == id && slot_in_list(s, slot) && a->cleared == 0 ? a : NULL;
}

static void sink_cleared(void *ctx, const struct alert *a)
{
	struct state *s = ctx;

	if (s->on_alert)
		s->on_alert(s->on_alert_ctx, a);
}

static const struct alert_sink state_alert_sink = { .raise = sink_raise, .find = sink_find,
						    .cleared = sink_cleared };

const struct alert *state_alert_at(const struct state *s, size_t i)
{
	return i < s->alerts_count ? &s->alerts[(s->alerts_head + s->lim.alerts - 1 - i) % s->lim.alerts] : NULL;
}

static struct alert *open_alert(struct state *s, struct host *h)
{
	struct alert *a = &s->alerts[h->alert_index];

	/* The list is a ring: the entry may have been reused by a newer alert, of any kind. */
	return h->alerting && a->kind == ALERT_FLOOD && addr_equal(&a->addr, &h->addr) && a->cleared == 0 ? a : NULL;
}

static void count_for_alert(struct state *s, struct host *h, uint8_t sensor, int64_t now)
{
	uint64_t sum;
	struct alert *a;

	advance_buckets(h, now);
	h->sent_per_s[(uint64_t)now % STATE_ALERT_BUCKETS]++;
	sum = window_sum(h, s->lim.alert_window_s);
	if (h->alerting) {
		/* The episode goes on, even if newer alerts have pushed its record out of the list. */
		if ((a = open_alert(s, h))) {
			a->last = now;
			a->packets++;
			if (sum > a->peak_window)
				a->peak_window = sum;
		}
		return;
	}
	if (sum > s->lim.alert_packets &&
	    (h->alert_cleared_at == 0 || now - h->alert_cleared_at >= s->lim.alert_cooldown_s))
		raise_alert(s, h, sensor, now, sum);
}

int64_t state_now(const struct state *s, int64_t wall_now)
{
	/* Replays run on the capture's clock; so does everything time-based here. */
	return s->last_pkt_ts ? s->last_pkt_ts + (wall_now - s->last_pkt_wall) : wall_now;
}

/* Clears a host's flood episode (its record too, if newer alerts have not pushed it out of the list). */
static void end_flood(struct state *s, struct host *h, int64_t now)
{
	struct alert *a = open_alert(s, h);

	if (a) {
		a->cleared = now;
		if (s->on_alert)
			s->on_alert(s->on_alert_ctx, a);
	}
	h->alerting = false;
	h->alert_cleared_at = now;
	s->hosts_alerting--;
}

/*
 * The flow alerts' clock: the capture's, as for the flood alert. Without
 * packets (sensors that send flow reports only) it comes from the reports:
 * the last packet of the newest flow reported, moved on by the wall time
 * since. It lags the capture by what a report waits for (an idle timeout
 * at most), which the windows and cooldowns of every address share alike.
 */
static int64_t alert_clock(const struct state *s, int64_t wall_now)
{
	if (s->last_pkt_ts || !s->last_report_ts)
		return state_now(s, wall_now);
	return s->last_report_ts + (wall_now - s->last_report_wall);
}

/* Reports come in no order of their last packets: the newest is kept, unless the clock went back an hour (a replay started over). */
static void note_report_time(struct state *s, const struct wl_flow_record *rec, int64_t wall_now)
{
	int64_t t = rec->last_us / 1000000;

	if (!state_ts_possible(t, wall_now))
		return;
	if (t > s->last_report_ts || t < s->last_report_ts - 3600) {
		s->last_report_ts = t;
		s->last_report_wall = wall_now;
	}
}

void state_tick(struct state *s, int64_t wall_now)
{
	int64_t now = state_now(s, wall_now);
	size_t left = s->hosts_alerting;
	uint32_t next;

	flow_alerts_tick(&s->flow_alerts, alert_clock(s, wall_now));
	/*
	 * Alerting hosts are mostly the most recently seen, but not always: a
	 * replay's clock can jump past a whole window between two ticks. The
	 * walk ends once it has met every one.
	 */
	for (uint32_t i = s->lru_head; i != NONE && left; i = next) {
		struct host *h = &s->hosts[i];

		next = h->lru_next;
		if (!h->alerting)
			continue;
		left--;
		advance_buckets(h, now);
		if (window_sum(h, s->lim.alert_window_s) <= s->lim.alert_packets)
			end_flood(s, h, now);
	}
}

/* ---- Adding a packet ------------------------------------------------------------- */

uint64_t state_add_packet(struct state *s, const struct packet_origin *from, const struct wl_packet *pkt,
			  const uint8_t *record, size_t record_len, const struct geo_db *geo,
			  int64_t wall_now)
{
	uint8_t sensor = from->sensor;
	const struct wl_flow *f = &pkt->outer;
	struct host *src = NULL, *dst = NULL;
	int64_t now = pkt->ts_sec;
	struct rate_bucket *arrived = arrival_bucket(s, wall_now);
	bool foreign = false;
	uint64_t id;

	s->last_pkt_ts = now;
	s->last_pkt_wall = wall_now;
	arrived->packets++;
	arrived->bytes += pkt->len;
	flow_alerts_packet(&s->flow_alerts, sensor, pkt, now, wall_now);

	if (f->has & WL_HAS_SRC) {
		src = touch_host(s, &f->src, now, geo);
		src->pkts_sent++;
		src->bytes_sent += pkt->len;
		count_for_alert(s, src, sensor, now);
		foreign |= state_is_foreign(s, src);
	}
	if (f->has & WL_HAS_DST) {
		dst = touch_host(s, &f->dst, now, geo);
		dst->pkts_recv++;
		dst->bytes_recv += pkt->len;
		foreign |= state_is_foreign(s, dst);
	}
	id = ring_add(s, from, pkt, foreign, record, record_len);
	count_rate(s, now, pkt->len);
	s->by_proto[pkt->proto < WL_P__MAX ? pkt->proto : 0]++;
	s->total_packets++;
	s->total_bytes += pkt->len;
	if (pkt->malformed)
		s->malformed++;
	if (pkt->has & WL_PKT_DNS) {
		log_dns(s, id, sensor, pkt);
		/*
		 * Only a response says what a name resolves to. A query can carry
		 * answer records too (anyone can send one), and must not teach
		 * the dashboard that bank.example is the sender's address.
		 */
		if (pkt->dns.response)
			learn_dns_names(s, &pkt->dns, now, geo);
	}
	if (dst && (pkt->has & WL_PKT_SNI))
		add_name(dst, pkt->sni, 's', now, 0);
	if (dst && (pkt->has & WL_PKT_HTTP) && !pkt->http.response && pkt->http.host[0])
		add_name(dst, pkt->http.host, 'h', now, 0);
	return id;
}

void state_add_flow_report(struct state *s, uint8_t sensor, const struct wl_flow_record *rec, int64_t now_us)
{
	int64_t wall_now = now_us / 1000000;
	uint64_t seen = s->flows.stats.flows_seen;

	flows_report(&s->flows, sensor, rec, now_us);
	arrival_bucket(s, wall_now)->flow_reports++;
	note_report_time(s, rec, wall_now);
	/* A flow the table had not seen: its first report (scans count flows once). */
	flow_alerts_report(&s->flow_alerts, sensor, rec, s->flows.stats.flows_seen != seen, alert_clock(s, wall_now),
			   wall_now);
}

void state_clear(struct state *s)
{
	ring_drop_all(s);
	memset(s->rates, 0, sizeof(s->rates));
	memset(s->arrival, 0, sizeof(s->arrival));
	flow_alerts_clear(&s->flow_alerts);
	memset(s->by_proto, 0, sizeof(s->by_proto));
	s->total_packets = s->total_bytes = s->malformed = 0;
	s->dns_head = s->dns_count = 0;
	s->alerts_head = s->alerts_count = 0;
	s->hosts_alerting = 0;
	flows_clear(&s->flows);
	for (size_t i = 0; i < s->n_hosts; i++) {
		struct host *h = &s->hosts[i];

		h->alerting = false;
		h->pkts_sent = h->pkts_recv = h->bytes_sent = h->bytes_recv = 0;
	}
}
