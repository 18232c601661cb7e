/* SPDX-License-Identifier: BSD-2-Clause */
#include "tls_reasm.h"

#include "flow-key.h"
#include "idx-list.h"
#include "siphash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define US_PER_S 1000000LL
#define TCP_SYN 0x02
/* The port filter: a count of streams per slot, so that most segments cost no hash. */
#define FILTER_SLOTS 65536

/* One direction whose hello record is being gathered. */
struct stream {
	struct wl_flow_key key;
	uint32_t hash_next;  /* the bucket's chain; the next free stream when free */
	struct wl_idx_link lru; /* oldest progress first */
	uint32_t next_seq;   /* the sequence number of the next byte wanted */
	uint32_t need;       /* the record's length, header included */
	uint32_t have;       /* bytes of it seen so far, in order */
	uint32_t size;       /* of buf: need, at most stream_bytes */
	int64_t last_us;
	uint8_t *buf;
	uint16_t filter_slot;
	bool from_lo;        /* the sender is the key's first endpoint */
};

struct tls_reasm {
	struct tls_reasm_config cfg;
	struct wl_siphash_key key;
	struct stream *streams;
	uint32_t *buckets;
	uint32_t mask;
	uint32_t hwm, free_head;
	struct wl_idx_list lru;
	uint64_t buffer_bytes;
	uint16_t *filter;
	uint32_t packets; /* seen while some direction was being gathered */
	struct tls_reasm_stats stats;
};

void tls_reasm_config_default(struct tls_reasm_config *cfg)
{
	cfg->max_streams = 4096;
	cfg->stream_bytes = 8192;
	cfg->max_bytes = 16u << 20;
	cfg->timeout_s = 10;
}

/* ---- The table -------------------------------------------------------------------- */

static uint32_t bucket_of(const struct tls_reasm *t, const struct wl_flow_key *k, bool from_lo)
{
	uint64_t h = wl_siphash24(&t->key, k, sizeof(*k));

	return (uint32_t)((from_lo ? h : h >> 17 ^ h << 13) & t->mask);
}

/* Cheap and unkeyed: a collision only costs the keyed look-up it was meant to save. */
static uint16_t filter_slot_of(uint16_t sport, uint16_t dport)
{
	return (uint16_t)(sport * 40503u ^ dport);
}

static uint32_t find(const struct tls_reasm *t, const struct wl_flow_key *k, bool from_lo)
{
	for (uint32_t i = t->buckets[bucket_of(t, k, from_lo)]; i != NONE; i = t->streams[i].hash_next) {
		const struct stream *s = &t->streams[i];

		if (s->from_lo == from_lo && wl_flow_key_equal(&s->key, k))
			return i;
	}
	return NONE;
}

static struct wl_idx_array streams_of(struct tls_reasm *t)
{
	return WL_IDX_ARRAY(t->streams, struct stream, lru);
}

static void update_memory(struct tls_reasm *t)
{
	t->stats.memory = sizeof(*t) + (uint64_t)t->hwm * sizeof(*t->streams) +
			  ((uint64_t)t->mask + 1) * sizeof(*t->buckets) + FILTER_SLOTS * sizeof(*t->filter) +
			  t->buffer_bytes;
	if (t->stats.memory > t->stats.memory_peak)
		t->stats.memory_peak = t->stats.memory;
}

static void drop(struct tls_reasm *t, uint32_t i)
{
	struct stream *s = &t->streams[i];
	uint32_t *link = &t->buckets[bucket_of(t, &s->key, s->from_lo)];

	while (*link != i)
		link = &t->streams[*link].hash_next;
	*link = s->hash_next;
	wl_idx_list_unlink(&t->lru, streams_of(t), i);
	t->filter[s->filter_slot]--;
	t->buffer_bytes -= s->size;
	free(s->buf);
	s->buf = NULL;
	s->hash_next = t->free_head;
	t->free_head = i;
	t->stats.active--;
	update_memory(t);
}

/* Directions with no progress for timeout_s are given up: the oldest come first. */
static void expire(struct tls_reasm *t, int64_t now_us)
{
	int64_t limit = (int64_t)t->cfg.timeout_s * US_PER_S;

	while (t->lru.oldest != NONE && now_us - t->streams[t->lru.oldest].last_us > limit) {
		drop(t, t->lru.oldest);
		t->stats.expired++;
	}
}

/* A stream with a buffer of size bytes, making room if need be; NONE if there is none. */
static uint32_t add(struct tls_reasm *t, const struct wl_flow_key *k, bool from_lo, uint32_t size)
{
	uint8_t *buf;
	uint32_t i, b;

	while (t->lru.oldest != NONE &&
	       (t->stats.active >= t->cfg.max_streams || t->buffer_bytes + size > t->cfg.max_bytes)) {
		drop(t, t->lru.oldest);
		t->stats.evicted++;
	}
	if (!(buf = malloc(size)))
		return NONE;
	if (t->free_head != NONE) {
		i = t->free_head;
		t->free_head = t->streams[i].hash_next;
	} else {
		i = t->hwm++;
	}
	struct stream *s = &t->streams[i];

	*s = (struct stream){ .key = *k, .from_lo = from_lo, .buf = buf, .size = size };
	b = bucket_of(t, k, from_lo);
	s->hash_next = t->buckets[b];
	t->buckets[b] = i;
	wl_idx_list_append(&t->lru, streams_of(t), i);
	t->buffer_bytes += size;
	t->stats.active++;
	return i;
}

/* ---- Segments ---------------------------------------------------------------------- */

static int64_t capture_us(const struct wl_packet *pkt)
{
	if (pkt->ts_sec > INT64_MAX / US_PER_S - 1)
		return INT64_MAX - US_PER_S;
	if (pkt->ts_sec < INT64_MIN / US_PER_S + 1)
		return INT64_MIN + US_PER_S;
	return pkt->ts_sec * US_PER_S + (int64_t)(pkt->ts_usec % 1000000);
}

/* A segment's payload as captured; false when the snap length cut it. */
struct payload {
	const uint8_t *p;
	uint32_t len;
	uint32_t seq; /* of p[0] */
};

static bool payload_of(const struct wl_flow *l, const uint8_t *frame, size_t caplen, struct payload *ret)
{
	size_t off = l->tcp_payload_off;

	if (!(l->l4 & WL_L4_TCP) || off > caplen || caplen - off < l->l4_payload)
		return false;
	ret->p = frame + off;
	ret->len = l->l4_payload;
	/* A SYN's own sequence number is not a byte of data (TCP Fast Open). */
	ret->seq = l->tcp_seq + ((l->tcp_flags & TCP_SYN) ? 1 : 0);
	return true;
}

/* Copies what is new in p[skip..len) into s; true once the record is whole. */
static bool take(struct stream *s, const struct payload *p, uint32_t skip)
{
	uint32_t n = p->len - skip;

	if (n > s->need - s->have)
		n = s->need - s->have;
	if (s->have < s->size) {
		uint32_t keep = s->size - s->have < n ? s->size - s->have : n;

		memcpy(s->buf + s->have, p->p + skip, keep);
	}
	s->have += n;
	s->next_seq += n;
	return s->have == s->need;
}

/* The frame completed the record: decode it into pkt, and forget the stream. */
static int complete(struct tls_reasm *t, uint32_t i, struct wl_packet *pkt)
{
	struct stream *s = &t->streams[i];

	wl_dissect_tls_stream(pkt, s->buf, s->have < s->size ? s->have : s->size);
	t->stats.completed++;
	if (s->need > s->size)
		t->stats.cut++;
	drop(t, i);
	return 1;
}

/* The frame's hello record goes on in later segments: start gathering it. */
static int start(struct tls_reasm *t, struct wl_packet *pkt, const uint8_t *frame, size_t caplen, int64_t now)
{
	const struct wl_flow *l = wl_flow_key_layer(pkt);
	struct wl_flow_key k;
	struct payload p;
	bool from_lo;
	uint32_t i;

	if (!payload_of(l, frame, caplen, &p) || pkt->tls.rec_off >= p.len ||
	    !wl_flow_key_of_packet(pkt, &k, &from_lo))
		return 0;
	if ((i = find(t, &k, from_lo)) != NONE) {
		/* The same first segment again (a retransmission) changes nothing. */
		if (t->streams[i].next_seq - t->streams[i].have == p.seq + pkt->tls.rec_off)
			return 0;
		drop(t, i);
	}
	t->stats.started++;
	uint32_t size = pkt->tls.rec_len < t->cfg.stream_bytes ? pkt->tls.rec_len : t->cfg.stream_bytes;

	if ((i = add(t, &k, from_lo, size)) == NONE)
		return 0;
	struct stream *s = &t->streams[i];

	s->need = pkt->tls.rec_len;
	s->next_seq = p.seq + pkt->tls.rec_off;
	s->last_us = now;
	s->filter_slot = filter_slot_of(l->sport, l->dport);
	t->filter[s->filter_slot]++;
	update_memory(t);
	return take(s, &p, pkt->tls.rec_off) ? complete(t, i, pkt) : 0;
}

/* A segment of a direction being gathered (l: its TCP layer), if it is one. */
static int more(struct tls_reasm *t, struct wl_packet *pkt, const struct wl_flow *l, const uint8_t *frame,
		size_t caplen, int64_t now)
{
	struct wl_flow_key k;
	struct payload p;
	bool from_lo;
	uint32_t i;

	if (!wl_flow_key_of_packet(pkt, &k, &from_lo) || (i = find(t, &k, from_lo)) == NONE)
		return 0;
	struct stream *s = &t->streams[i];

	if (!payload_of(l, frame, caplen, &p)) {
		/* A hole the capture made: nothing will fill it. */
		drop(t, i);
		t->stats.abandoned++;
		return 0;
	}
	uint32_t behind = s->next_seq - p.seq; /* modulo 2^32: a wrapped sequence space is fine */

	if (behind > INT32_MAX) {
		t->stats.out_of_order++; /* past a hole: in-order bytes only */
		return 0;
	}
	if (behind >= p.len)
		return 0; /* nothing new: a retransmission */
	s->last_us = now;
	wl_idx_list_unlink(&t->lru, streams_of(t), i);
	wl_idx_list_append(&t->lru, streams_of(t), i);
	return take(s, &p, behind) ? complete(t, i, pkt) : 0;
}

/* Out of line: the frame and the saved registers it needs cost every packet that does not get here. */
__attribute__((noinline)) static int packet_slow(struct tls_reasm *t, struct wl_packet *pkt, const uint8_t *frame,
						 size_t caplen)
{
	const struct wl_flow *l;
	int64_t now;

	if (pkt->has & WL_PKT_TLS_SEGMENT) {
		now = capture_us(pkt);
		expire(t, now);
		return start(t, pkt, frame, caplen, now);
	}
	/*
	 * Directions that stopped short are found out by the packets that come
	 * past now and then, not only by those of their own ports: then the
	 * table empties, and tls_reasm_packet()'s first check is all a packet costs.
	 */
	if ((++t->packets & 1023) == 0)
		expire(t, capture_us(pkt));
	l = wl_flow_key_layer(pkt);
	if (!(l->l4 & WL_L4_TCP) || l->l4_payload == 0 || !t->filter[filter_slot_of(l->sport, l->dport)])
		return 0;
	now = capture_us(pkt);
	expire(t, now);
	return t->stats.active ? more(t, pkt, l, frame, caplen, now) : 0;
}

int tls_reasm_packet(struct tls_reasm *t, struct wl_packet *pkt, const uint8_t *frame, size_t caplen)
{
	/* Nearly every packet ends here: it starts nothing, and nothing is being gathered. */
	if (!(pkt->has & WL_PKT_TLS_SEGMENT) && t->stats.active == 0)
		return 0;
	return packet_slow(t, pkt, frame, caplen);
}

/* ---- Life cycle --------------------------------------------------------------------- */

struct tls_reasm *tls_reasm_new(const struct tls_reasm_config *cfg, int *err)
{
	struct tls_reasm *t;
	uint32_t n = 1;
	int r;

	if (cfg->max_streams == 0 || cfg->max_streams > UINT16_MAX || cfg->stream_bytes < 64 ||
	    cfg->max_bytes < cfg->stream_bytes || cfg->timeout_s == 0) {
		*err = -EINVAL;
		return NULL;
	}
	*err = -ENOMEM;
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	t->cfg = *cfg;
	if ((r = wl_siphash_key_random(&t->key)) < 0) {
		*err = r;
		return tls_reasm_free(t);
	}
	while (n < cfg->max_streams)
		n <<= 1;
	t->mask = n - 1;
	t->free_head = NONE;
	wl_idx_list_init(&t->lru);
	t->streams = calloc(cfg->max_streams, sizeof(*t->streams));
	t->buckets = malloc((size_t)n * sizeof(*t->buckets));
	t->filter = calloc(FILTER_SLOTS, sizeof(*t->filter));
	if (!t->streams || !t->buckets || !t->filter)
		return tls_reasm_free(t);
	memset(t->buckets, 0xff, (size_t)n * sizeof(*t->buckets));
	update_memory(t);
	*err = 0;
	return t;
}

struct tls_reasm *tls_reasm_free(struct tls_reasm *t)
{
	if (!t)
		return NULL;
	for (uint32_t i = 0; t->streams && i < t->hwm; i++)
		free(t->streams[i].buf);
	free(t->streams);
	free(t->buckets);
	free(t->filter);
	free(t);
	return NULL;
}

void tls_reasm_stats(const struct tls_reasm *t, struct tls_reasm_stats *ret)
{
	*ret = t->stats;
}
