/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/flow_alerts.h"

#include "flow-key.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define SKETCH_BITS (FLOW_ALERTS_SKETCH_WORDS * 64)
#define SATURATED 1000000u /* every bit set: more than the bitmap can count */
#define QUANTUM_EMPTY INT64_MIN
#define TCP_SYN 0x02
#define TCP_ACK 0x10

/* What an entry is about; 0 is an unused entry. */
enum fa_detector {
	FA_SCAN = 1, /* addr: who opens the flows */
	FA_SYN,      /* addr: the target of the half-open flows */
	FA_RETRANS,  /* addr, peer: the flows' sides a and b */
};

enum { EP_PORTS = 0, EP_HOSTS = 1 }; /* a scan entry's two episodes; the others use the first */

struct fa_episode {
	bool open;
	int64_t cleared_at; /* 0: never */
	size_t slot;        /* the alert's place in the sink, and its id */
	uint64_t alert_id;
	uint64_t last_flow; /* retransmissions: the flow counted last */
};

/* One part of the window: what happened within part_s seconds. */
struct fa_part {
	int64_t quantum; /* second / part_s; QUANTUM_EMPTY: nothing yet */
	uint32_t count;  /* flows counted */
	uint64_t ports[FLOW_ALERTS_SKETCH_WORDS], hosts[FLOW_ALERTS_SKETCH_WORDS];
};

struct fa_entry {
	uint8_t detector; /* enum fa_detector */
	uint8_t sensor;   /* of its latest event */
	bool in_open;     /* on the list of entries with an episode open */
	struct wl_addr addr, peer;
	uint32_t hash_next, lru_prev, lru_next, open_prev, open_next;
	uint64_t touched; /* when last used, in touches: the least recently used makes room */
	struct fa_part parts[FLOW_ALERTS_PARTS];
	struct fa_episode ep[2];
};

/* The hashed form of an entry's key: bytes only, no padding. */
struct fa_key {
	uint8_t detector, family_a, family_p;
	uint8_t a[16], p[16];
};

/* What happened to an episode's figure, and what an alert would say of it. */
struct fa_event {
	enum alert_kind kind;
	uint8_t sensor;
	int64_t now;
	uint64_t figure;    /* the figure in the window now */
	uint64_t over;      /* it alerts when above this */
	unsigned threshold; /* what the alert shows as its threshold */
	uint64_t peak;      /* what the alert's peak takes */
	uint64_t flow_id;
	bool new_flow;      /* one more flow for the episode's count */
};

void flow_alerts_default_limits(struct flow_alert_limits *lim)
{
	*lim = (struct flow_alert_limits){
		.scan_ports = 100,
		.scan_hosts = 100,
		.syn_flood_flows = 100,
		.retrans_percent = 10,
		.retrans_packets = 50,
		.window_s = 60,
		.cooldown_s = 60,
		.tracked = FLOW_ALERTS_TRACKED_DEFAULT,
	};
}

static bool limits_valid(const struct flow_alert_limits *lim)
{
	return lim->window_s >= 1 && lim->window_s <= FLOW_ALERTS_WINDOW_MAX && lim->scan_ports <= FLOW_ALERTS_SCAN_MAX &&
	       lim->scan_hosts <= FLOW_ALERTS_SCAN_MAX && lim->retrans_percent <= 100 && lim->tracked >= 1 &&
	       lim->tracked <= FLOW_ALERTS_TRACKED_MAX;
}

static void reset_heads(struct flow_alerts *fa)
{
	fa->lru_head = fa->lru_tail = fa->open_head = NONE;
	fa->n_used = 0;
	fa->stats.tracked = 0;
	memset(fa->buckets, 0xff, fa->n_buckets * sizeof(*fa->buckets));
}

int flow_alerts_init(struct flow_alerts *fa, const struct flow_alert_limits *lim, const struct alert_sink *sink)
{
	int r;

	memset(fa, 0, sizeof(*fa));
	if (!limits_valid(lim))
		return -EINVAL;
	fa->lim = *lim;
	fa->sink = *sink;
	/* Three whole parts make at least a window. */
	fa->part_s = (lim->window_s + 2) / 3;
	for (fa->n_buckets = 1; fa->n_buckets < lim->tracked * 2; fa->n_buckets <<= 1)
		;
	/* calloc: the pages of entries not used yet are never touched. */
	fa->entries = calloc(lim->tracked, sizeof(*fa->entries));
	fa->buckets = malloc(fa->n_buckets * sizeof(*fa->buckets));
	if (!fa->entries || !fa->buckets) {
		flow_alerts_free(fa);
		return -ENOMEM;
	}
	if ((r = wl_siphash_key_random(&fa->key)) < 0) {
		flow_alerts_free(fa);
		return r;
	}
	reset_heads(fa);
	fa->stats.max = lim->tracked;
	return 0;
}

void flow_alerts_free(struct flow_alerts *fa)
{
	free(fa->entries);
	free(fa->buckets);
	fa->entries = NULL;
	fa->buckets = NULL;
}

/* ---- The table: keyed hash chains for look-up, an LRU list to make room ---------- */

static size_t addr_len(const struct wl_addr *a)
{
	return a->family == 6 ? 16 : a->family == 4 ? 4 : 0;
}

static bool same_addr(const struct wl_addr *x, const struct wl_addr *y)
{
	return x->family == y->family && memcmp(x->b, y->b, addr_len(x)) == 0;
}

static size_t bucket_of(const struct flow_alerts *fa, uint8_t detector, const struct wl_addr *a,
			const struct wl_addr *p)
{
	struct fa_key k;

	memset(&k, 0, sizeof(k));
	k.detector = detector;
	k.family_a = a->family;
	k.family_p = p->family;
	memcpy(k.a, a->b, addr_len(a));
	memcpy(k.p, p->b, addr_len(p));
	return (size_t)wl_siphash24(&fa->key, &k, sizeof(k)) & (fa->n_buckets - 1);
}

static void lru_unlink(struct flow_alerts *fa, uint32_t i)
{
	struct fa_entry *e = &fa->entries[i];

	if (e->lru_prev != NONE)
		fa->entries[e->lru_prev].lru_next = e->lru_next;
	else
		fa->lru_head = e->lru_next;
	if (e->lru_next != NONE)
		fa->entries[e->lru_next].lru_prev = e->lru_prev;
	else
		fa->lru_tail = e->lru_prev;
}

static void lru_push_front(struct flow_alerts *fa, uint32_t i)
{
	struct fa_entry *e = &fa->entries[i];

	e->lru_prev = NONE;
	e->lru_next = fa->lru_head;
	if (fa->lru_head != NONE)
		fa->entries[fa->lru_head].lru_prev = i;
	fa->lru_head = i;
	if (fa->lru_tail == NONE)
		fa->lru_tail = i;
}

static void open_unlink(struct flow_alerts *fa, uint32_t i)
{
	struct fa_entry *e = &fa->entries[i];

	if (!e->in_open)
		return;
	if (e->open_prev != NONE)
		fa->entries[e->open_prev].open_next = e->open_next;
	else
		fa->open_head = e->open_next;
	if (e->open_next != NONE)
		fa->entries[e->open_next].open_prev = e->open_prev;
	e->in_open = false;
}

static void open_link(struct flow_alerts *fa, uint32_t i)
{
	struct fa_entry *e = &fa->entries[i];

	if (e->in_open)
		return;
	e->open_prev = NONE;
	e->open_next = fa->open_head;
	if (fa->open_head != NONE)
		fa->entries[fa->open_head].open_prev = i;
	fa->open_head = i;
	e->in_open = true;
}

static void hash_unlink(struct flow_alerts *fa, uint32_t i)
{
	struct fa_entry *e = &fa->entries[i];
	uint32_t *link = &fa->buckets[bucket_of(fa, e->detector, &e->addr, &e->peer)];

	while (*link != NONE && *link != i)
		link = &fa->entries[*link].hash_next;
	if (*link == i)
		*link = e->hash_next;
}

static void clear_episode(struct flow_alerts *fa, struct fa_episode *ep, int64_t now)
{
	struct alert *a = fa->sink.find(fa->sink.ctx, ep->slot, ep->alert_id);

	if (a) {
		/* A clock that went back (a replay of an older capture) does not end it before it began. */
		a->cleared = now > a->last ? now : a->last;
		fa->sink.cleared(fa->sink.ctx, a);
	}
	ep->open = false;
	ep->cleared_at = now;
}

/* Gives entry i up (to make room): an open episode is cleared, not left open for ever. */
static void evict(struct flow_alerts *fa, uint32_t i, int64_t now)
{
	struct fa_entry *e = &fa->entries[i];
	bool was_open = false;

	for (int k = 0; k < 2; k++) {
		if (e->ep[k].open) {
			clear_episode(fa, &e->ep[k], now);
			was_open = true;
		}
	}
	fa->stats.evicted++;
	fa->stats.evicted_open += was_open;
	open_unlink(fa, i);
	lru_unlink(fa, i);
	hash_unlink(fa, i);
}

/*
 * The slot for a new entry in bucket: a free one, else the least recently
 * used entry's; a chain already at FLOW_ALERTS_CHAIN_MAX gives up its own
 * least recently used entry instead, so that no walk is ever longer.
 */
static uint32_t take_slot(struct flow_alerts *fa, size_t bucket, int64_t now)
{
	uint32_t i, len = 0, oldest = NONE;

	for (i = fa->buckets[bucket]; i != NONE; i = fa->entries[i].hash_next, len++)
		if (oldest == NONE || fa->entries[i].touched < fa->entries[oldest].touched)
			oldest = i;
	if (len >= FLOW_ALERTS_CHAIN_MAX) {
		fa->stats.chain_evicted++;
		i = oldest;
	} else if (fa->n_used < fa->lim.tracked) {
		fa->stats.tracked++;
		return fa->n_used++;
	} else {
		i = fa->lru_tail;
	}
	evict(fa, i, now);
	return i;
}

/* The entry for (detector, a, p), made if need be, and marked most recently used. */
static struct fa_entry *entry_for(struct flow_alerts *fa, uint8_t detector, const struct wl_addr *a,
				  const struct wl_addr *p, int64_t now)
{
	size_t bucket = bucket_of(fa, detector, a, p);
	struct fa_entry *e;
	uint32_t i;

	for (i = fa->buckets[bucket]; i != NONE; i = fa->entries[i].hash_next) {
		e = &fa->entries[i];
		if (e->detector == detector && same_addr(&e->addr, a) && same_addr(&e->peer, p))
			break;
	}
	if (i == NONE) {
		/* Evicting may relink this bucket: take the slot first, then the head. */
		i = take_slot(fa, bucket, now);
		e = &fa->entries[i];
		memset(e, 0, sizeof(*e));
		e->detector = detector;
		e->addr = *a;
		e->peer = *p;
		for (int k = 0; k < FLOW_ALERTS_PARTS; k++)
			e->parts[k].quantum = QUANTUM_EMPTY;
		e->hash_next = fa->buckets[bucket];
		fa->buckets[bucket] = i;
	} else {
		lru_unlink(fa, i);
	}
	lru_push_front(fa, i);
	e->touched = ++fa->touches;
	return e;
}

/* ---- The window: FLOW_ALERTS_PARTS parts of part_s seconds ---------------------------- */

static int64_t quantum_of(const struct flow_alerts *fa, int64_t t)
{
	int64_t q = t / (int64_t)fa->part_s;

	return t < 0 && q * (int64_t)fa->part_s != t ? q - 1 : q;
}

static int64_t newest_quantum(const struct fa_entry *e)
{
	int64_t q = QUANTUM_EMPTY;

	for (int k = 0; k < FLOW_ALERTS_PARTS; k++)
		if (e->parts[k].quantum > q)
			q = e->parts[k].quantum;
	return q;
}

/*
 * The part an event of quantum q goes in, started afresh if it held an
 * older one; NULL when q is older than every part kept. A clock that went
 * back further than two windows (a replay started over) starts every part
 * afresh.
 */
static struct fa_part *part_for(struct fa_entry *e, int64_t q)
{
	int64_t newest = newest_quantum(e);
	struct fa_part *p = &e->parts[(uint64_t)q % FLOW_ALERTS_PARTS];

	if (newest != QUANTUM_EMPTY && q <= newest - FLOW_ALERTS_PARTS) {
		if (newest - q <= 2 * FLOW_ALERTS_PARTS)
			return NULL;
		for (int k = 0; k < FLOW_ALERTS_PARTS; k++)
			e->parts[k].quantum = QUANTUM_EMPTY;
	}
	if (p->quantum != q) {
		memset(p, 0, sizeof(*p));
		p->quantum = q;
	}
	return p;
}

/* Whether a part counts at quantum now: the last FLOW_ALERTS_PARTS (and none far ahead of it). */
static bool in_window(const struct fa_part *p, int64_t now_q)
{
	return p->quantum != QUANTUM_EMPTY && p->quantum > now_q - FLOW_ALERTS_PARTS &&
	       p->quantum < now_q + FLOW_ALERTS_PARTS;
}

static uint64_t count_in_window(const struct fa_entry *e, int64_t now_q)
{
	uint64_t n = 0;

	for (int k = 0; k < FLOW_ALERTS_PARTS; k++)
		if (in_window(&e->parts[k], now_q))
			n += e->parts[k].count;
	return n;
}

/*
 * Distinct elements in the window's bitmaps, by linear counting (Whang et
 * al., 1990): with z of the m bits still zero, about -m ln(z/m) elements
 * were added. Exact for a handful, within a few percent up to
 * FLOW_ALERTS_SCAN_MAX; SATURATED when no bit is left.
 */
static uint64_t distinct_in_window(const struct fa_entry *e, int64_t now_q, bool hosts)
{
	uint64_t all[FLOW_ALERTS_SKETCH_WORDS] = { 0 };
	unsigned set = 0;

	for (int k = 0; k < FLOW_ALERTS_PARTS; k++) {
		const struct fa_part *p = &e->parts[k];

		if (!in_window(p, now_q))
			continue;
		for (int w = 0; w < FLOW_ALERTS_SKETCH_WORDS; w++)
			all[w] |= hosts ? p->hosts[w] : p->ports[w];
	}
	for (int w = 0; w < FLOW_ALERTS_SKETCH_WORDS; w++)
		set += (unsigned)__builtin_popcountll(all[w]);
	if (set >= SKETCH_BITS)
		return SATURATED;
	return (uint64_t)lround(-(double)SKETCH_BITS * log(1.0 - (double)set / SKETCH_BITS));
}

static void sketch_add(const struct flow_alerts *fa, uint64_t bits[FLOW_ALERTS_SKETCH_WORDS], const void *element,
		       size_t len)
{
	unsigned bit = (unsigned)(wl_siphash24(&fa->key, element, len) % SKETCH_BITS);

	bits[bit / 64] |= 1ull << (bit % 64);
}

/* ---- Episodes ------------------------------------------------------------------------- */

static void raise_episode(struct flow_alerts *fa, uint32_t i, struct fa_episode *ep, const struct fa_event *ev,
			  uint64_t flows)
{
	struct fa_entry *e = &fa->entries[i];
	struct alert a = { .kind = (uint8_t)ev->kind, .addr = e->addr, .peer = e->peer, .sensor = ev->sensor,
			   .started = ev->now, .last = ev->now, .peak_window = ev->peak, .packets = flows,
			   .flow_id = ev->flow_id, .threshold = ev->threshold, .window_s = fa->lim.window_s };
	const struct alert *stored = fa->sink.raise(fa->sink.ctx, &a, &ep->slot);

	ep->open = true;
	ep->alert_id = stored ? stored->id : 0;
	open_link(fa, i);
}

/* One more event for an episode of entry i: raises it, or updates the open alert. */
static void episode_event(struct flow_alerts *fa, uint32_t i, struct fa_episode *ep, const struct fa_event *ev,
			  uint64_t flows)
{
	struct alert *a;

	if (ep->open) {
		a = fa->sink.find(fa->sink.ctx, ep->slot, ep->alert_id);
		if (!a)
			return; /* a newer alert took its place in the list; the episode goes on */
		if (ev->now > a->last)
			a->last = ev->now;
		a->packets += ev->new_flow;
		if (ev->peak > a->peak_window) {
			a->peak_window = ev->peak;
			if (ev->flow_id)
				a->flow_id = ev->flow_id;
		}
		return;
	}
	if (ev->figure <= ev->over)
		return;
	if (ep->cleared_at && ev->now - ep->cleared_at < (int64_t)fa->lim.cooldown_s)
		return;
	raise_episode(fa, i, ep, ev, flows);
}

/* ---- Scans ------------------------------------------------------------------------------ */

struct scan_probe {
	struct wl_addr src, dst;
	bool has_port;
	uint8_t ipproto;
	uint16_t port;
};

/* Multicast and broadcast destinations are not hosts a scanner looks for. */
static bool unicast(const struct wl_addr *a)
{
	static const uint8_t zero[16];

	if (a->family == 4)
		return (a->b[0] < 224 || a->b[0] > 239) && memcmp(a->b, "\xff\xff\xff\xff", 4) != 0 &&
		       memcmp(a->b, zero, 4) != 0;
	return a->family == 6 && a->b[0] != 0xff && memcmp(a->b, zero, 16) != 0;
}

static void scan_sketch(const struct flow_alerts *fa, struct fa_part *p, const struct scan_probe *probe)
{
	uint8_t host[18] = { 'h', probe->dst.family };

	memcpy(host + 2, probe->dst.b, addr_len(&probe->dst));
	sketch_add(fa, p->hosts, host, sizeof(host));
	if (probe->has_port) {
		uint8_t port[4] = { 'p', probe->ipproto, (uint8_t)(probe->port >> 8), (uint8_t)probe->port };

		sketch_add(fa, p->ports, port, sizeof(port));
	}
}

static void count_scan(struct flow_alerts *fa, uint8_t sensor, const struct scan_probe *probe, int64_t now)
{
	static const struct wl_addr none;
	int64_t q = quantum_of(fa, now);
	struct fa_entry *e;
	struct fa_part *p;
	uint32_t i;
	uint64_t flows;

	if ((!fa->lim.scan_ports && !fa->lim.scan_hosts) || !unicast(&probe->dst))
		return;
	e = entry_for(fa, FA_SCAN, &probe->src, &none, now);
	i = (uint32_t)(e - fa->entries);
	if (!(p = part_for(e, q)))
		return;
	e->sensor = sensor;
	p->count++;
	fa->stats.scan_flows++;
	scan_sketch(fa, p, probe);
	flows = count_in_window(e, q);
	if (fa->lim.scan_ports && probe->has_port) {
		uint64_t n = distinct_in_window(e, q, false);
		struct fa_event ev = { .kind = ALERT_PORT_SCAN, .sensor = sensor, .now = now, .figure = n,
				       .over = fa->lim.scan_ports, .threshold = fa->lim.scan_ports, .peak = n,
				       .new_flow = true };

		episode_event(fa, i, &e->ep[EP_PORTS], &ev, flows);
	}
	if (fa->lim.scan_hosts) {
		uint64_t n = distinct_in_window(e, q, true);
		struct fa_event ev = { .kind = ALERT_HOST_SCAN, .sensor = sensor, .now = now, .figure = n,
				       .over = fa->lim.scan_hosts, .threshold = fa->lim.scan_hosts, .peak = n,
				       .new_flow = true };

		episode_event(fa, i, &e->ep[EP_HOSTS], &ev, flows);
	}
}

/* The flow a first packet opens; false when it says nothing of who opened what. */
static bool probe_of_packet(const struct wl_packet *pkt, struct scan_probe *ret)
{
	const struct wl_flow *l = wl_flow_key_layer(pkt);

	if ((l->l3 != WL_L3_IPV4 && l->l3 != WL_L3_IPV6) || !(l->has & WL_HAS_SRC) || !(l->has & WL_HAS_DST))
		return false;
	/* With an ACK, capd joined mid-stream: the sender may be the server. */
	if ((l->has & WL_HAS_TCP_FLAGS) && (l->tcp_flags & TCP_ACK))
		return false;
	*ret = (struct scan_probe){ .src = l->src, .dst = l->dst, .ipproto = l->ipproto,
				    .has_port = (l->has & WL_HAS_DPORT) != 0, .port = l->dport };
	return true;
}

void flow_alerts_packet(struct flow_alerts *fa, uint8_t sensor, const struct wl_packet *pkt, int64_t now,
			int64_t wall_now)
{
	struct flow_alerts_sensor *ss;
	struct scan_probe probe;

	if (!pkt->flow_id)
		return;
	ss = &fa->sensors[sensor];
	if (pkt->seq < ss->last_seq)
		ss->max_flow_id = 0; /* capd started over, and its flow ids with it */
	ss->last_seq = pkt->seq;
	ss->packets_wall = wall_now;
	/* capd numbers flows as their first packets come: a higher id is a new flow. */
	if (pkt->flow_id <= ss->max_flow_id)
		return;
	ss->max_flow_id = pkt->flow_id;
	if (probe_of_packet(pkt, &probe))
		count_scan(fa, sensor, &probe, now);
}

/* ---- From flow reports ------------------------------------------------------------------ */

static bool reports_count_scans(const struct flow_alerts *fa, uint8_t sensor, int64_t wall_now)
{
	int64_t t = fa->sensors[sensor].packets_wall;

	return t == 0 || wall_now - t > FLOW_ALERTS_PACKETS_QUIET_S;
}

static bool probe_of_report(const struct wl_flow_record *rec, struct scan_probe *ret)
{
	uint16_t a_flags = rec->tcp.flags[0];

	/* Side a sent the first packet; for TCP, it opened the flow if it sent a SYN, or never an ACK. */
	if ((rec->flags & WL_FLOW_TCP) && !(a_flags & TCP_SYN) && (a_flags & TCP_ACK))
		return false;
	*ret = (struct scan_probe){ .src = rec->addr[0], .dst = rec->addr[1], .ipproto = rec->ipproto,
				    .has_port = (rec->flags & WL_FLOW_PORTS) != 0, .port = rec->port[1] };
	return true;
}

/* Ended with a SYN from side a and nothing else from it: no ACK ever completed the handshake. */
static bool half_open(const struct wl_flow_record *rec)
{
	return rec->end != WL_FLOW_ACTIVE && (rec->flags & WL_FLOW_TCP) &&
	       (rec->tcp.state == WL_TCP_SYN_SENT || rec->tcp.state == WL_TCP_SYN_RECEIVED) &&
	       (rec->tcp.flags[0] & (TCP_SYN | TCP_ACK)) == TCP_SYN;
}

static void count_syn(struct flow_alerts *fa, uint8_t sensor, const struct wl_flow_record *rec, int64_t now)
{
	static const struct wl_addr none;
	int64_t q = quantum_of(fa, now);
	struct fa_entry *e = entry_for(fa, FA_SYN, &rec->addr[1], &none, now);
	struct fa_part *p = part_for(e, q);
	struct fa_event ev = { .kind = ALERT_SYN_FLOOD, .sensor = sensor, .now = now,
			       .over = fa->lim.syn_flood_flows, .threshold = fa->lim.syn_flood_flows,
			       .new_flow = true };

	if (!p)
		return;
	e->sensor = sensor;
	p->count++;
	fa->stats.half_open++;
	ev.figure = ev.peak = count_in_window(e, q);
	episode_event(fa, (uint32_t)(e - fa->entries), &e->ep[0], &ev, ev.figure);
}

/* The flow's retransmission ratio in hundredths of a percent, when it is over the threshold; else 0. */
static uint64_t retransmitting(const struct flow_alerts *fa, const struct wl_flow_record *rec)
{
	uint64_t packets = rec->packets[0] + rec->packets[1];
	uint64_t re = (uint64_t)rec->tcp.retransmissions[0] + rec->tcp.retransmissions[1];

	if (!fa->lim.retrans_percent || !(rec->flags & WL_FLOW_TCP) || packets == 0 ||
	    packets < fa->lim.retrans_packets)
		return 0;
	/* re < 2^33: re * 10000 cannot overflow; a flow of 2^56 packets or more is not over any percent. */
	if (packets >= 1ull << 56 || re * 100 <= packets * fa->lim.retrans_percent)
		return 0;
	return re >= packets ? 10000 : re * 10000 / packets;
}

static void count_retrans(struct flow_alerts *fa, uint8_t sensor, const struct wl_flow_record *rec,
			  uint64_t ratio, int64_t now)
{
	int64_t q = quantum_of(fa, now);
	struct fa_entry *e = entry_for(fa, FA_RETRANS, &rec->addr[0], &rec->addr[1], now);
	struct fa_part *p = part_for(e, q);
	struct fa_episode *ep = &e->ep[0];
	struct fa_event ev = { .kind = ALERT_RETRANSMISSIONS, .sensor = sensor, .now = now, .over = 0,
			       .threshold = fa->lim.retrans_percent, .peak = ratio, .flow_id = rec->id,
			       .new_flow = rec->id != ep->last_flow };

	if (!p)
		return;
	e->sensor = sensor;
	p->count++;
	fa->stats.retrans_flows++;
	ev.figure = count_in_window(e, q);
	/* A long flow is judged at each report, but is one flow of the episode. */
	episode_event(fa, (uint32_t)(e - fa->entries), ep, &ev, 1);
	ep->last_flow = rec->id;
}

void flow_alerts_report(struct flow_alerts *fa, uint8_t sensor, const struct wl_flow_record *rec, bool first,
			int64_t now, int64_t wall_now)
{
	struct scan_probe probe;
	uint64_t ratio;

	if (rec->l3 != WL_L3_IPV4 && rec->l3 != WL_L3_IPV6)
		return;
	/* When the sensor sends packets, its scans were counted at their first packets. */
	if (first && reports_count_scans(fa, sensor, wall_now) && probe_of_report(rec, &probe))
		count_scan(fa, sensor, &probe, now);
	if (fa->lim.syn_flood_flows && half_open(rec) && unicast(&rec->addr[1]))
		count_syn(fa, sensor, rec, now);
	if ((ratio = retransmitting(fa, rec)) != 0)
		count_retrans(fa, sensor, rec, ratio, now);
}

/* ---- Once a second ---------------------------------------------------------------------- */

/* An open episode's figure now, and whether it has fallen back to its threshold. */
static bool fallen_back(const struct flow_alerts *fa, const struct fa_entry *e, int k, int64_t now_q)
{
	switch (e->detector) {
	case FA_SCAN:
		return k == EP_PORTS ? distinct_in_window(e, now_q, false) <= fa->lim.scan_ports
				     : distinct_in_window(e, now_q, true) <= fa->lim.scan_hosts;
	case FA_SYN:
		return count_in_window(e, now_q) <= fa->lim.syn_flood_flows;
	default:
		return count_in_window(e, now_q) == 0;
	}
}

void flow_alerts_tick(struct flow_alerts *fa, int64_t now)
{
	int64_t q = quantum_of(fa, now);
	uint32_t next;

	for (uint32_t i = fa->open_head; i != NONE; i = next) {
		struct fa_entry *e = &fa->entries[i];
		bool still_open = false;

		next = e->open_next;
		for (int k = 0; k < 2; k++) {
			if (e->ep[k].open && fallen_back(fa, e, k, q))
				clear_episode(fa, &e->ep[k], now);
			still_open |= e->ep[k].open;
		}
		if (!still_open)
			open_unlink(fa, i);
	}
}

void flow_alerts_clear(struct flow_alerts *fa)
{
	memset(fa->entries, 0, fa->n_used * sizeof(*fa->entries));
	reset_heads(fa);
}
