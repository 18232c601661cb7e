/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/flowquery.h"

#include "query.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFFSET_MAX 10000000

static const char *const sort_names[FLOW_SORT__MAX] = {
	"bytes", "packets", "duration", "rate", "retransmissions", "rtt", "last",
};

const char *flow_sort_name(enum flow_sort sort)
{
	return (unsigned)sort < FLOW_SORT__MAX ? sort_names[sort] : "bytes";
}

void flow_query_default(struct flow_query *q)
{
	memset(q, 0, sizeof(*q));
	q->port = q->ipproto = q->app = q->sensor = -1;
	q->sort = FLOW_SORT_BYTES;
	q->limit = 100;
}

/* ---- Parsing ------------------------------------------------------------------------ */

static int bad(char *err, size_t errlen, const char *key, const char *want)
{
	snprintf(err, errlen, "%s= must be %s", key, want);
	return -EINVAL;
}

static int parse_uint(const char *v, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*ret = n;
	return 0;
}

static int parse_time_us(const char *v, int64_t *ret)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(v, &end);
	if (errno || end == v || *end || !(s >= 0 && s < 1e12))
		return -EINVAL;
	*ret = (int64_t)(s * 1e6);
	return 0;
}

static int parse_proto(const char *v, int *ret)
{
	static const struct {
		const char *name;
		int number;
	} names[] = { { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 }, { "sctp", 132 } };
	uint64_t n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(v, names[i].name) == 0) {
			*ret = names[i].number;
			return 0;
		}
	if (parse_uint(v, 255, &n) < 0)
		return -EINVAL;
	*ret = (int)n;
	return 0;
}

static int parse_app(const char *v, int *ret)
{
	for (int p = 1; p < WL_P__MAX; p++)
		if (strcasecmp(v, wl_proto_name((enum wl_proto)p)) == 0) {
			*ret = p;
			return 0;
		}
	return -EINVAL;
}

static int parse_state(struct flow_query *q, const char *v)
{
	if (strcmp(v, "active") == 0) {
		q->state = FLOW_STATE_ACTIVE;
		return 0;
	}
	if (strcmp(v, "ended") == 0) {
		q->state = FLOW_STATE_ENDED;
		return 0;
	}
	for (int s = 0; s < WL_TCP_STATE__MAX; s++)
		if (strcmp(v, wl_tcp_state_name((enum wl_tcp_state)s)) == 0) {
			q->state = FLOW_STATE_TCP;
			q->tcp_state = (uint8_t)s;
			return 0;
		}
	return -EINVAL;
}

static int parse_sort(struct flow_query *q, const char *v)
{
	for (int s = 0; s < FLOW_SORT__MAX; s++)
		if (strcmp(v, sort_names[s]) == 0) {
			q->sort = (enum flow_sort)s;
			return 0;
		}
	return -EINVAL;
}

static int parse_text(const char *v, char *dst, size_t size, bool country)
{
	size_t n = strlen(v);

	if (n >= size || (country && (n != 2 || !isalpha((unsigned char)v[0]) || !isalpha((unsigned char)v[1]))))
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		dst[i] = (char)(country ? toupper((unsigned char)v[i]) : tolower((unsigned char)v[i]));
	return 0;
}

struct parse_ctx {
	struct flow_query *q;
	bool own_sort; /* sort= and order= are the caller's (endpoints): leave them */
	int (*sensor_index)(void *ctx, const char *name);
	void *ctx;
};

/* The numeric and enumerated parameters; 1 when key is none of them. */
static int parse_numbers(struct flow_query *q, const char *key, const char *v, char *err, size_t errlen)
{
	uint64_t n;

	if (strcmp(key, "port") == 0)
		return parse_uint(v, 65535, &n) < 0 ? bad(err, errlen, key, "a port, 0 to 65535") : (q->port = (int)n, 0);
	if (strcmp(key, "min_bytes") == 0)
		return parse_uint(v, UINT64_MAX, &q->min_bytes) < 0 ? bad(err, errlen, key, "a whole number") : 0;
	if (strcmp(key, "offset") == 0)
		return parse_uint(v, OFFSET_MAX, &n) < 0 ? bad(err, errlen, key, "a whole number up to 10000000")
							  : (q->offset = (size_t)n, 0);
	if (strcmp(key, "limit") == 0)
		return parse_uint(v, FLOW_QUERY_LIMIT_MAX, &n) < 0 || n == 0
			       ? bad(err, errlen, key, "a whole number from 1 to 10000")
			       : (q->limit = (size_t)n, 0);
	if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0)
		return parse_time_us(v, key[0] == 'f' ? &q->from_us : &q->to_us) < 0
			       ? bad(err, errlen, key, "epoch seconds")
			       : 0;
	return 1;
}

static int parse_one(void *ctx, const char *key, const char *v, char *err, size_t errlen)
{
	struct parse_ctx *pc = ctx;
	struct flow_query *q = pc->q;
	int r = parse_numbers(q, key, v, err, errlen);

	if (r <= 0)
		return r;
	if (strcmp(key, "addr") == 0)
		return query_addr(v, &q->addr) < 0 ? bad(err, errlen, key, "an IPv4 or IPv6 address") : (q->has_addr = true, 0);
	if (strcmp(key, "proto") == 0)
		return parse_proto(v, &q->ipproto) < 0 ? bad(err, errlen, key, "tcp, udp, icmp, icmpv6, sctp or a number") : 0;
	if (strcmp(key, "app") == 0)
		return parse_app(v, &q->app) < 0 ? bad(err, errlen, key, "an application such as DNS, TLS or HTTP") : 0;
	if (strcmp(key, "name") == 0)
		return parse_text(v, q->name, sizeof(q->name), false) < 0 ? bad(err, errlen, key, "at most 127 bytes") : 0;
	if (strcmp(key, "country") == 0)
		return parse_text(v, q->country, sizeof(q->country), true) < 0 ? bad(err, errlen, key, "a two-letter code")
										: 0;
	if (strcmp(key, "state") == 0)
		return parse_state(q, v) < 0 ? bad(err, errlen, key, "active, ended or a TCP state such as established") : 0;
	if (pc->own_sort && (strcmp(key, "sort") == 0 || strcmp(key, "order") == 0))
		return 0;
	if (strcmp(key, "sort") == 0)
		return parse_sort(q, v) < 0 ? bad(err, errlen, key, "bytes, packets, duration, rate, retransmissions, rtt or last")
					    : 0;
	if (strcmp(key, "order") == 0)
		return strcmp(v, "asc") == 0 || strcmp(v, "desc") == 0 ? (q->ascending = v[0] == 'a', 0)
								       : bad(err, errlen, key, "asc or desc");
	if (strcmp(key, "sensor") == 0) {
		int i = pc->sensor_index ? pc->sensor_index(pc->ctx, v) : -1;

		return i < 0 ? bad(err, errlen, key, "the name of a sensor") : (q->sensor = i, 0);
	}
	return 0; /* others (token, ...) are not ours */
}

static int parse(struct flow_query *q, const char *query, bool own_sort,
		 int (*sensor_index)(void *ctx, const char *name), void *ctx, char *err, size_t errlen)
{
	struct parse_ctx pc = { .q = q, .own_sort = own_sort, .sensor_index = sensor_index, .ctx = ctx };

	flow_query_default(q);
	return query_each(query, parse_one, &pc, err, errlen);
}

int flow_query_parse(struct flow_query *q, const char *query, int (*sensor_index)(void *ctx, const char *name),
		     void *ctx, char *err, size_t errlen)
{
	return parse(q, query, false, sensor_index, ctx, err, errlen);
}

int flow_query_parse_filters(struct flow_query *q, const char *query,
			     int (*sensor_index)(void *ctx, const char *name), void *ctx, char *err, size_t errlen)
{
	return parse(q, query, true, sensor_index, ctx, err, errlen);
}

/* ---- Matching -------------------------------------------------------------------------- */

static bool same_addr(const struct wl_addr *a, const struct wl_addr *b)
{
	size_t n = a->family == 6 ? 16 : a->family == 4 ? 4 : 6;

	return a->family == b->family && memcmp(a->b, b->b, n) == 0;
}

static bool contains_nocase(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; m <= n && i + m <= n; i++) {
		size_t k = 0;

		while (k < m && tolower((unsigned char)hay[i + k]) == needle[k])
			k++;
		if (k == m)
			return true;
	}
	return false;
}

static bool state_matches(const struct flow_query *q, const struct live_flow *f)
{
	switch (q->state) {
	case FLOW_STATE_ACTIVE:
		return !f->ended;
	case FLOW_STATE_ENDED:
		return f->ended;
	case FLOW_STATE_TCP:
		return (f->flags & WL_FLOW_TCP) && f->tcp.state == q->tcp_state;
	default:
		return true;
	}
}

static bool country_matches(const struct flow_query *q, const struct flow_join *join, const struct live_flow *f)
{
	char cc[2][3] = { "", "" };

	if (!q->country[0])
		return true;
	if (!join || !join->country || !(f->l3 == WL_L3_IPV4 || f->l3 == WL_L3_IPV6))
		return false;
	join->country(join->ctx, &f->addr[0], cc[0]);
	join->country(join->ctx, &f->addr[1], cc[1]);
	return strcmp(cc[0], q->country) == 0 || strcmp(cc[1], q->country) == 0;
}

bool flow_query_matches(const struct live_flows *t, const struct flow_query *q, const struct flow_join *join,
			const struct live_flow *f)
{
	bool ports = f->flags & WL_FLOW_PORTS;

	if ((q->sensor >= 0 && f->sensor != q->sensor) || (q->ipproto >= 0 && f->ipproto != q->ipproto) ||
	    (q->app >= 0 && f->app != q->app) || !state_matches(q, f))
		return false;
	if (q->has_addr && !same_addr(&q->addr, &f->addr[0]) && !same_addr(&q->addr, &f->addr[1]))
		return false;
	if (q->port >= 0 && (!ports || (f->port[0] != q->port && f->port[1] != q->port)))
		return false;
	if (f->bytes[0] + f->bytes[1] < q->min_bytes || (q->from_us && f->last_us < q->from_us) ||
	    (q->to_us && f->first_us > q->to_us))
		return false;
	if (q->name[0]) {
		size_t len;
		const char *name = flows_name(t, f, &len);

		if (!contains_nocase(name, len, q->name))
			return false;
	}
	return country_matches(q, join, f);
}

/* ---- Sorting ------------------------------------------------------------------------------ */

double flow_sort_value(const struct live_flow *f, enum flow_sort sort)
{
	double bytes = (double)(f->bytes[0] + f->bytes[1]), secs = (double)(f->last_us - f->first_us) / 1e6;

	switch (sort) {
	case FLOW_SORT_PACKETS:
		return (double)(f->packets[0] + f->packets[1]);
	case FLOW_SORT_DURATION:
		return secs;
	case FLOW_SORT_RATE:
		/* bits a second over the flow's life; a single packet counts as a millisecond's worth */
		return bytes * 8 / (secs > 0.001 ? secs : 0.001);
	case FLOW_SORT_RETRANSMISSIONS:
		return (f->flags & WL_FLOW_TCP) ? (double)(f->tcp.retransmissions[0] + f->tcp.retransmissions[1]) : NAN;
	case FLOW_SORT_RTT:
		return (f->flags & WL_FLOW_TCP) && f->tcp.rtt_us != UINT32_MAX ? f->tcp.rtt_us / 1000.0 : NAN;
	case FLOW_SORT_LAST:
		return (double)f->last_us;
	default:
		return bytes;
	}
}

struct keyed {
	double key;
	const struct live_flow *f;
};

static int compare_desc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	/* Flows without the value (no RTT: not TCP, or no handshake) go last either way. */
	if (isnan(x->key) != isnan(y->key))
		return isnan(x->key) ? 1 : -1;
	if (!isnan(x->key) && x->key != y->key)
		return x->key > y->key ? -1 : 1;
	if (x->f->sensor != y->f->sensor)
		return x->f->sensor < y->f->sensor ? -1 : 1;
	return x->f->id < y->f->id ? -1 : x->f->id > y->f->id;
}

static int compare_asc(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (!isnan(x->key) && !isnan(y->key) && x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return compare_desc(a, b);
}

struct collect {
	const struct live_flows *t;
	const struct flow_query *q;
	const struct flow_join *join;
	struct keyed *keyed;
	size_t n;
};

static bool collect_one(const struct live_flow *f, void *ctx)
{
	struct collect *c = ctx;

	if (flow_query_matches(c->t, c->q, c->join, f))
		c->keyed[c->n++] = (struct keyed){ flow_sort_value(f, c->q->sort), f };
	return true;
}

long flow_query_run(const struct live_flows *t, const struct flow_query *q, const struct flow_join *join,
		    const struct live_flow **out, size_t *total)
{
	struct collect c = { .t = t, .q = q, .join = join };
	size_t n = 0;

	c.keyed = malloc((t->stats.n ? t->stats.n : 1) * sizeof(*c.keyed));
	if (!c.keyed)
		return -ENOMEM;
	flows_each(t, collect_one, &c);
	qsort(c.keyed, c.n, sizeof(*c.keyed), q->ascending ? compare_asc : compare_desc);
	for (size_t i = q->offset; i < c.n && n < q->limit; i++)
		out[n++] = c.keyed[i].f;
	*total = c.n;
	free(c.keyed);
	return (long)n;
}
