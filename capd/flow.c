/* SPDX-License-Identifier: BSD-2-Clause */
#include "flow.h"

#include "flow-key.h"
#include "idx-list.h"
#include "intern.h"
#include "flow_tcp.h"
#include "siphash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define US_PER_S 1000000LL
#define EXTRAS_MAX 65536            /* distinct name and tunnel pairs kept at once */
#define EXTRAS_BYTES_MAX (8u << 20) /* and their bytes */

enum {
	TH_FIN = 0x01,
	TH_SYN = 0x02,
	TH_RST = 0x04,
};

/*
 * A million of these is the default table, so the layout counts: 232 bytes,
 * without a hole (the small fields sit together, the TCP state last).
 */
struct flow {
	struct wl_flow_key key;
	uint32_t hash_next;   /* chain in the bucket; the next free flow when free */
	struct wl_idx_link lru; /* in the list of its class, oldest activity first */
	uint64_t id;
	int64_t first_us, last_us;
	uint64_t packets[2], bytes[2];
	uint32_t extras;      /* intern reference of struct flow_extras, 0: none */
	uint8_t class;        /* enum flow_class; FLOW_CLASS__MAX when free */
	uint8_t app;          /* enum wl_proto */
	uint8_t flags;        /* WL_FLOW_* learnt from packets */
	bool a_is_lo;         /* side a is key endpoint 0 */
	uint8_t icmp_type, icmp_code;
	uint16_t reports;     /* active reports made (saturates) */
	struct flow_tcp tcp;
};

/*
 * What few flows have, kept once for all the flows that share it: the
 * tunnel's endpoints, a name and the TLS fingerprints. Interned, so that the
 * thousands of flows from one kind of client to one server share one copy,
 * outside the 232 bytes of every flow.
 */
struct flow_extras {
	struct wl_addr outer[2]; /* the tunnel's endpoints, side a first; family 0 if none */
	uint8_t ja4_len, ja3s_len;
	char text[];             /* the JA4, the JA3S, then the name to the end of the interned bytes */
};

/* The parts of an extras blob (or of what a packet adds to one). */
struct extras_view {
	struct wl_addr outer[2];
	const char *ja4, *ja3s, *name;
	size_t ja4_len, ja3s_len, name_len;
};

struct flow_table {
	struct flow_config cfg;
	flow_report_fn report;
	void *ctx;
	struct wl_siphash_key key;
	struct flow *flows;
	uint32_t hwm, free_head;
	uint32_t *buckets;
	uint32_t mask;
	struct wl_idx_list lists[FLOW_CLASS__MAX];
	struct wl_intern *extras;
	uint64_t next_id;
	int64_t clock_us;
	struct flow_stats stats;
	struct wl_flow_record rec; /* scratch for reports */
};

void flow_config_default(struct flow_config *cfg)
{
	static const uint32_t idle[FLOW_CLASS__MAX] = {
		[FLOW_CLASS_TCP] = 300,	 [FLOW_CLASS_TCP_SYN] = 30, [FLOW_CLASS_TCP_CLOSED] = 60,
		[FLOW_CLASS_UDP] = 60,	 [FLOW_CLASS_ICMP] = 30,    [FLOW_CLASS_OTHER] = 60,
	};

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_flows = 1000000;
	memcpy(cfg->idle_s, idle, sizeof(idle));
	cfg->active_s = 60;
}

/* ---- Lists and the hash table ------------------------------------------------------ */

static struct wl_idx_array flows_of(struct flow_table *t)
{
	return WL_IDX_ARRAY(t->flows, struct flow, lru);
}

static void list_unlink(struct flow_table *t, uint32_t i)
{
	wl_idx_list_unlink(&t->lists[t->flows[i].class], flows_of(t), i);
}

static void list_append(struct flow_table *t, uint32_t i, uint8_t class)
{
	t->flows[i].class = class;
	wl_idx_list_append(&t->lists[class], flows_of(t), i);
}

static uint32_t bucket_of(const struct flow_table *t, const struct wl_flow_key *k)
{
	return (uint32_t)(wl_siphash24(&t->key, k, sizeof(*k)) & t->mask);
}

static uint32_t find(const struct flow_table *t, const struct wl_flow_key *k, uint32_t bucket)
{
	for (uint32_t i = t->buckets[bucket]; i != NONE; i = t->flows[i].hash_next)
		if (memcmp(&t->flows[i].key, k, sizeof(*k)) == 0)
			return i;
	return NONE;
}

static void hash_unlink(struct flow_table *t, uint32_t i)
{
	uint32_t *link = &t->buckets[bucket_of(t, &t->flows[i].key)];

	while (*link != i)
		link = &t->flows[*link].hash_next;
	*link = t->flows[i].hash_next;
}

/* ---- Reports -------------------------------------------------------------------------- */

static void report_addresses(const struct flow *f, struct wl_flow_record *r)
{
	int a = f->a_is_lo ? 0 : 1;
	size_t n = f->key.family == 6 ? 16 : 4;

	for (int side = 0; side < 2; side++) {
		int k = side == 0 ? a : !a;

		if (f->key.family) {
			r->addr[side].family = f->key.family;
			memcpy(r->addr[side].b, f->key.addr[k], n);
		} else {
			memcpy(r->mac[side], f->key.addr[k], 6);
		}
		r->port[side] = f->key.port[k];
	}
}

/* Reads a flow's extras; false when it has none (or they do not read back). */
static bool extras_of(const struct flow_table *t, uint32_t ref, struct extras_view *v)
{
	size_t len;
	const struct flow_extras *x = wl_intern_data(t->extras, ref, &len);

	memset(v, 0, sizeof(*v));
	if (!x || len < sizeof(*x) || len - sizeof(*x) < (size_t)x->ja4_len + x->ja3s_len)
		return false;
	memcpy(v->outer, x->outer, sizeof(v->outer));
	v->ja4 = x->text;
	v->ja4_len = x->ja4_len;
	v->ja3s = x->text + x->ja4_len;
	v->ja3s_len = x->ja3s_len;
	v->name = v->ja3s + x->ja3s_len;
	v->name_len = len - sizeof(*x) - x->ja4_len - x->ja3s_len;
	return true;
}

static void copy_part(char *dst, size_t size, const char *src, size_t len)
{
	if (len < size) {
		memcpy(dst, src, len);
		dst[len] = '\0';
	}
}

static void report_extras(const struct flow_table *t, const struct flow *f, struct wl_flow_record *r)
{
	struct extras_view v;

	if (!extras_of(t, f->extras, &v))
		return;
	copy_part(r->name, sizeof(r->name), v.name, v.name_len);
	copy_part(r->ja4, sizeof(r->ja4), v.ja4, v.ja4_len);
	copy_part(r->ja3s, sizeof(r->ja3s), v.ja3s, v.ja3s_len);
	if (v.outer[0].family) {
		memcpy(r->outer, v.outer, sizeof(r->outer));
		r->flags |= WL_FLOW_OUTER;
	}
}

static void emit(struct flow_table *t, const struct flow *f, enum wl_flow_end why)
{
	struct wl_flow_record *r = &t->rec;

	memset(r, 0, offsetof(struct wl_flow_record, name));
	r->name[0] = '\0';
	r->id = f->id;
	r->first_us = f->first_us;
	r->last_us = f->last_us;
	memcpy(r->packets, f->packets, sizeof(r->packets));
	memcpy(r->bytes, f->bytes, sizeof(r->bytes));
	r->l3 = f->key.family == 4 ? WL_L3_IPV4 : f->key.family == 6 ? WL_L3_IPV6
				   : f->key.port[0] == 0x0806 ? WL_L3_ARP : WL_L3_OTHER;
	r->ipproto = f->key.ipproto;
	r->end = why;
	r->app = f->app;
	r->flags = f->flags;
	r->ethertype = f->key.family ? 0 : f->key.port[0];
	report_addresses(f, r);
	if (!f->key.family || !(f->flags & (WL_FLOW_PORTS | WL_FLOW_ECHO)))
		r->port[0] = r->port[1] = 0;
	if (f->flags & WL_FLOW_ECHO)
		r->icmp_id = r->port[0];
	r->n_vlan = f->key.n_vlan;
	memcpy(r->vlan, f->key.vlan, sizeof(r->vlan));
	r->icmp_type = f->icmp_type;
	r->icmp_code = f->icmp_code;
	if (f->flags & WL_FLOW_TCP)
		flow_tcp_report(&f->tcp, &r->tcp);
	report_extras(t, f, r);
	t->stats.by_end[why]++;
	t->report(t->ctx, r);
}

/* Reports a flow's end and frees it. */
static void end_flow(struct flow_table *t, uint32_t i, enum wl_flow_end why)
{
	struct flow *f = &t->flows[i];

	emit(t, f, why);
	list_unlink(t, i);
	hash_unlink(t, i);
	wl_intern_put(t->extras, f->extras);
	f->class = FLOW_CLASS__MAX;
	f->hash_next = t->free_head;
	t->free_head = i;
	t->stats.active--;
	t->stats.ended++;
	if (why == WL_FLOW_EVICTED)
		t->stats.evicted++;
}

/* ---- Expiry and eviction --------------------------------------------------------------- */

static enum wl_flow_end idle_end(const struct flow *f)
{
	if (f->class != FLOW_CLASS_TCP_CLOSED)
		return WL_FLOW_IDLE;
	return f->tcp.state == WL_TCP_RESET ? WL_FLOW_RST : WL_FLOW_FIN;
}

static bool idle_at(const struct flow_table *t, const struct flow *f, int64_t now_us)
{
	return now_us - f->last_us > (int64_t)t->cfg.idle_s[f->class] * US_PER_S;
}

/*
 * Why a flow ends when something other than its own timeout ends it (the
 * table is full, the capture ended): if its timeout has passed by the
 * capture's clock, it ended by that; a closed connection ended by its FIN or RST.
 */
static enum wl_flow_end end_reason(const struct flow_table *t, const struct flow *f, enum wl_flow_end otherwise)
{
	return f->class == FLOW_CLASS_TCP_CLOSED || idle_at(t, f, t->clock_us) ? idle_end(f) : otherwise;
}

void flow_table_expire(struct flow_table *t, int64_t now_us)
{
	for (int c = 0; c < FLOW_CLASS__MAX; c++) {
		uint32_t i;

		while ((i = t->lists[c].oldest) != NONE && idle_at(t, &t->flows[i], now_us))
			end_flow(t, i, idle_end(&t->flows[i]));
	}
}

/* The table is full: the flow idle the longest makes room. */
static void evict_one(struct flow_table *t)
{
	uint32_t oldest = NONE;

	for (int c = 0; c < FLOW_CLASS__MAX; c++) {
		uint32_t i = t->lists[c].oldest;

		if (i != NONE && (oldest == NONE || t->flows[i].last_us < t->flows[oldest].last_us))
			oldest = i;
	}
	if (oldest != NONE)
		end_flow(t, oldest, end_reason(t, &t->flows[oldest], WL_FLOW_EVICTED));
}

static int by_id(const void *a, const void *b, void *ctx)
{
	const struct flow *flows = ctx;
	uint64_t x = flows[*(const uint32_t *)a].id, y = flows[*(const uint32_t *)b].id;

	return x < y ? -1 : x > y;
}

void flow_table_flush(struct flow_table *t, enum wl_flow_end why)
{
	uint32_t *order = malloc(((size_t)t->stats.active + 1) * sizeof(*order));
	size_t n = 0;

	/* In the order the flows began, so that a printer need not hold them back. */
	for (int c = 0; c < FLOW_CLASS__MAX && order; c++)
		for (uint32_t i = t->lists[c].oldest; i != NONE; i = wl_idx_list_next(flows_of(t), i))
			order[n++] = i;
	if (order)
		qsort_r(order, n, sizeof(*order), by_id, t->flows);
	for (size_t k = 0; k < n; k++)
		end_flow(t, order[k], end_reason(t, &t->flows[order[k]], why));
	free(order);
	/* Out of memory for the order: the same reports, by class. */
	for (int c = 0; c < FLOW_CLASS__MAX; c++) {
		uint32_t i;

		while ((i = t->lists[c].oldest) != NONE)
			end_flow(t, i, end_reason(t, &t->flows[i], why));
	}
}

/* ---- Packets ----------------------------------------------------------------------------- */

static uint32_t new_flow(struct flow_table *t, const struct wl_flow_key *k, uint32_t bucket, int64_t now)
{
	struct flow *f;
	uint32_t i;

	if (t->stats.active >= t->cfg.max_flows) {
		evict_one(t);
		bucket = bucket_of(t, k); /* unchanged, but the chain may be */
	}
	if (t->free_head != NONE) {
		i = t->free_head;
		t->free_head = t->flows[i].hash_next;
	} else {
		i = t->hwm++;
	}
	f = &t->flows[i];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->id = t->cfg.id_base + ++t->next_id;
	f->first_us = f->last_us = now;
	f->hash_next = t->buckets[bucket];
	t->buckets[bucket] = i;
	list_append(t, i, FLOW_CLASS_OTHER);
	t->stats.active++;
	t->stats.created++;
	return i;
}

static uint8_t class_of(const struct flow *f)
{
	if (f->flags & WL_FLOW_TCP) {
		if (f->tcp.state == WL_TCP_CLOSED || f->tcp.state == WL_TCP_RESET)
			return FLOW_CLASS_TCP_CLOSED;
		if (f->tcp.state == WL_TCP_SYN_SENT || f->tcp.state == WL_TCP_SYN_RECEIVED)
			return FLOW_CLASS_TCP_SYN;
		return FLOW_CLASS_TCP;
	}
	if (f->key.ipproto == 17 && f->key.family)
		return FLOW_CLASS_UDP;
	if ((f->key.ipproto == 1 || f->key.ipproto == 58) && f->key.family)
		return FLOW_CLASS_ICMP;
	return f->key.family && f->key.ipproto == 6 ? FLOW_CLASS_TCP : FLOW_CLASS_OTHER;
}

/* Whether proto is an application (what "app" reports), not a link, network or tunnel layer. */
static bool is_application(uint8_t proto)
{
	return proto >= WL_P_DNS && proto < WL_P__MAX && proto != WL_P_TEREDO;
}

/* The name a packet gives its flow: TLS SNI, HTTP Host or the DNS question. */
static const char *name_of(const struct wl_packet *pkt)
{
	if (pkt->has & WL_PKT_SNI)
		return pkt->sni;
	if ((pkt->has & WL_PKT_HTTP) && pkt->http.host[0])
		return pkt->http.host;
	if ((pkt->has & WL_PKT_DNS) && pkt->dns.has_question && pkt->dns.qname[0])
		return pkt->dns.qname;
	return NULL;
}

/* Takes a part the flow lacks from what the packet offers; true if it did. */
static bool fill_part(const char **part, size_t *len, const char *offer, size_t max)
{
	if (*len || !offer)
		return false;
	*part = offer;
	*len = strnlen(offer, max);
	return *len > 0;
}

/*
 * Sets the flow's extras: its tunnel endpoints (from the first packet), its
 * name (the first one seen), the client's JA4 and the server's JA3S (the
 * first of each), all in one interned string.
 */
static void learn_extras(struct flow_table *t, struct flow *f, const struct wl_packet *pkt)
{
	const char *name = name_of(pkt);
	const char *ja4 = (pkt->has & WL_PKT_JA4) ? pkt->tls.ja4 : NULL;
	const char *ja3s = (pkt->has & WL_PKT_JA3S) ? pkt->tls.ja3s : NULL;
	uint8_t buf[sizeof(struct flow_extras) + WL_JA4_LEN + WL_JA3_LEN + WL_NAME_MAX];
	struct flow_extras *x = (struct flow_extras *)buf;
	struct extras_view v;
	bool changed;
	uint32_t ref;

	/* Nearly every packet: nothing to add. */
	if (!name && !ja4 && !ja3s && (f->extras || !f->key.tunnel))
		return;
	changed = !extras_of(t, f->extras, &v) && f->key.tunnel;
	if (changed) {
		v.outer[0] = pkt->outer.src;
		v.outer[1] = pkt->outer.dst;
	}
	changed |= fill_part(&v.name, &v.name_len, name, WL_NAME_MAX - 1);
	changed |= fill_part(&v.ja4, &v.ja4_len, ja4, WL_JA4_LEN);
	changed |= fill_part(&v.ja3s, &v.ja3s_len, ja3s, WL_JA3_LEN);
	if (!changed)
		return;
	memcpy(x->outer, v.outer, sizeof(x->outer));
	x->ja4_len = (uint8_t)v.ja4_len;
	x->ja3s_len = (uint8_t)v.ja3s_len;
	/* memcpy() wants a pointer even for nothing: absent parts have none. */
	if (v.ja4_len)
		memcpy(x->text, v.ja4, v.ja4_len);
	if (v.ja3s_len)
		memcpy(x->text + v.ja4_len, v.ja3s, v.ja3s_len);
	if (v.name_len)
		memcpy(x->text + v.ja4_len + v.ja3s_len, v.name, v.name_len);
	ref = wl_intern_get(t->extras, buf, sizeof(*x) + v.ja4_len + v.ja3s_len + v.name_len);
	if (!ref) {
		t->stats.names_dropped++;
		return;
	}
	wl_intern_put(t->extras, f->extras);
	f->extras = ref;
}

/* What the first packets teach: the application, a name, the tunnel's endpoints, ICMP's type. */
static void learn(struct flow_table *t, struct flow *f, const struct wl_packet *pkt, const struct wl_flow *l)
{
	if (f->app == WL_P_UNKNOWN && is_application(pkt->proto))
		f->app = pkt->proto;
	learn_extras(t, f, pkt);
	if ((l->l4 & WL_L4_ICMP) && !(f->flags & WL_FLOW_ICMP)) {
		f->flags |= WL_FLOW_ICMP | ((l->l4 & WL_L4_ECHO) ? WL_FLOW_ECHO : 0);
		f->icmp_type = l->icmp_type;
		f->icmp_code = l->icmp_code;
	}
}

static int64_t capture_us(const struct wl_packet *pkt)
{
	/* A timestamp no clock can hold (pcapng's if_tsresol can make one) is pinned. */
	if (pkt->ts_sec > INT64_MAX / US_PER_S - 1)
		return INT64_MAX - US_PER_S;
	if (pkt->ts_sec < INT64_MIN / US_PER_S + 1)
		return INT64_MIN + US_PER_S;
	return pkt->ts_sec * US_PER_S + (int64_t)(pkt->ts_usec % 1000000);
}

/* The flow pkt belongs to, created if need be; a new connection on old ports ends the old one. */
static uint32_t lookup(struct flow_table *t, const struct wl_packet *pkt, const struct wl_flow_key *k, bool src_is_lo,
		       int64_t now)
{
	const struct wl_flow *l = wl_flow_key_layer(pkt);
	uint32_t bucket = bucket_of(t, k), i = find(t, k, bucket);

	/* Idle past its timeout, though no sweep has come by yet: that flow is over. */
	if (i != NONE && idle_at(t, &t->flows[i], now)) {
		end_flow(t, i, idle_end(&t->flows[i]));
		i = NONE;
	}
	if (i != NONE && (l->l4 & WL_L4_TCP)) {
		struct flow *f = &t->flows[i];
		int dir = src_is_lo == f->a_is_lo ? 0 : 1;

		if ((f->flags & WL_FLOW_TCP) && flow_tcp_new_connection(&f->tcp, dir, l)) {
			end_flow(t, i, f->tcp.state == WL_TCP_RESET ? WL_FLOW_RST
				       : f->tcp.state >= WL_TCP_CLOSING ? WL_FLOW_FIN : WL_FLOW_IDLE);
			i = NONE;
		}
	}
	if (i == NONE) {
		i = new_flow(t, k, bucket, now);
		t->flows[i].a_is_lo = src_is_lo;
	}
	return i;
}

static void account(struct flow_table *t, struct flow *f, const struct wl_packet *pkt, int dir, int64_t now)
{
	const struct wl_flow *l = wl_flow_key_layer(pkt);

	f->packets[dir]++;
	f->bytes[dir] += pkt->len;
	if (now > f->last_us)
		f->last_us = now;
	if (f->key.family && ((l->has & (WL_HAS_SPORT | WL_HAS_SCTP_PORTS)) && (l->has & WL_HAS_DPORT)))
		f->flags |= WL_FLOW_PORTS;
	if (l->l4 & WL_L4_TCP) {
		f->flags |= WL_FLOW_TCP;
		flow_tcp_segment(&f->tcp, dir, l, (uint32_t)now);
	}
	learn(t, f, pkt, l);
}

uint64_t flow_table_packet(struct flow_table *t, const struct wl_packet *pkt)
{
	struct wl_flow_key k;
	bool src_is_lo;
	int64_t now = capture_us(pkt);
	uint32_t i;
	uint8_t class;
	struct flow *f;

	if (now > t->clock_us)
		t->clock_us = now;
	t->stats.packets++;
	if (!wl_flow_key_of_packet(pkt, &k, &src_is_lo))
		return 0;
	i = lookup(t, pkt, &k, src_is_lo, now);
	f = &t->flows[i];
	account(t, f, pkt, src_is_lo == f->a_is_lo ? 0 : 1, now);
	/* Most packets follow one of the same flow: it is last in its list already. */
	class = class_of(f);
	if (class != f->class || t->lists[class].newest != i) {
		list_unlink(t, i);
		list_append(t, i, class);
	}
	/* A long flow says where it is every active_s, and goes on. */
	if (t->cfg.active_s && now - f->first_us >= (int64_t)(f->reports + 1) * t->cfg.active_s * US_PER_S) {
		int64_t due = (now - f->first_us) / ((int64_t)t->cfg.active_s * US_PER_S);

		f->reports = (uint16_t)(due < UINT16_MAX ? due : UINT16_MAX);
		emit(t, f, WL_FLOW_ACTIVE);
	}
	return f->id;
}

/* ---- Life cycle ------------------------------------------------------------------------------ */

static bool config_ok(const struct flow_config *cfg)
{
	if (cfg->max_flows == 0 || cfg->max_flows > (1u << 28))
		return false;
	for (int c = 0; c < FLOW_CLASS__MAX; c++)
		if (cfg->idle_s[c] == 0 || cfg->idle_s[c] > 86400 * 7)
			return false;
	return cfg->active_s <= 86400 * 7;
}

struct flow_table *flow_table_new(const struct flow_config *cfg, flow_report_fn report, void *ctx, int *err)
{
	struct flow_table *t;
	uint32_t n = 1;
	int r;

	if (!config_ok(cfg) || !report) {
		*err = -EINVAL;
		return NULL;
	}
	*err = -ENOMEM;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfg = *cfg;
	t->report = report;
	t->ctx = ctx;
	if ((r = wl_siphash_key_random(&t->key)) < 0) {
		*err = r;
		return flow_table_free(t);
	}
	while (n < cfg->max_flows)
		n <<= 1;
	t->mask = n - 1;
	t->free_head = NONE;
	for (int c = 0; c < FLOW_CLASS__MAX; c++)
		wl_idx_list_init(&t->lists[c]);
	/* calloc: the pages of flows not used yet are never touched. */
	t->flows = calloc(cfg->max_flows, sizeof(*t->flows));
	t->buckets = malloc((size_t)n * sizeof(*t->buckets));
	t->extras = wl_intern_new(EXTRAS_MAX, EXTRAS_BYTES_MAX, &t->key);
	if (!t->flows || !t->buckets || !t->extras)
		return flow_table_free(t);
	memset(t->buckets, 0xff, (size_t)n * sizeof(*t->buckets));
	*err = 0;
	return t;
}

struct flow_table *flow_table_free(struct flow_table *t)
{
	if (!t)
		return NULL;
	free(t->flows);
	free(t->buckets);
	wl_intern_free(t->extras);
	free(t);
	return NULL;
}

void flow_table_stats(const struct flow_table *t, struct flow_stats *ret)
{
	*ret = t->stats;
	ret->memory = sizeof(*t) + (uint64_t)t->hwm * sizeof(*t->flows) + ((uint64_t)t->mask + 1) * sizeof(uint32_t) +
		      wl_intern_memory(t->extras);
}

int64_t flow_table_clock(const struct flow_table *t)
{
	return t->clock_us;
}
