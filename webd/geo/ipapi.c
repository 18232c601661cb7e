/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ip-api fallback (see ipapi.h).
 *
 * Every address the client knows of is one struct entry in a hash table,
 * in one of three states: queued (on the queue list), in flight (in the
 * current request) or cached (on the LRU list, with an expiry). So a
 * look-up of an address that is queued or in flight finds it and does not
 * queue it again, and each of the three populations has its own bound.
 *
 * One request at a time: the free endpoint allows 15 a minute, so there
 * is nothing to gain from more, and the back-off and rate-limit logic stays
 * a single "not before" time (paused_until) plus a ring of send times.
 * Requests are only ever sent from the timer (pump), never from a look-up
 * or from inside an evhttp callback.
 */
#include "geo/ipapi.h"

#include "log.h"
#include "siphash.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

enum {
	BATCH_MAX = 100,          /* ip-api's limit per batch request */
	RATE_WINDOW_MS = 60000,
	RPM_MAX = 600,
	BODY_MAX = 256 * 1024,    /* 100 answers are ~30 KB */
	HEADERS_MAX = 16 * 1024,
	RATE_PAUSE_DEFAULT_S = 60, /* 429 or X-Rl 0 without a usable X-Ttl */
	RATE_PAUSE_MAX_S = 3600,
	ENTRIES_MAX = 1 << 24, /* per bound; keeps the bucket count sane */
};

#define IPAPI_FIELDS "status,message,countryCode,as,asname,city,lat,lon,query"

enum entry_state { E_QUEUED, E_IN_FLIGHT, E_CACHED };

struct entry {
	struct wl_addr a; /* normalised: see normalize() */
	uint8_t state;    /* enum entry_state */
	bool negative;    /* cached "ip-api could not place it" */
	struct entry *hnext;
	struct entry *prev, *next; /* queue (queued) or LRU (cached) list */
	uint64_t t;                /* queued: when (ms); cached: expiry (ms) */
	struct geo_info info;      /* cached positive answers */
};

struct list {
	struct entry *head, *tail;
	size_t n;
};

struct ipapi {
	struct event_base *base;
	bool enabled, freeing;
	ipapi_result_fn on_result;
	void *userdata;

	size_t cache_max, queue_max;
	uint64_t pos_ttl_ms, neg_ttl_ms, batch_delay_ms, backoff_base_ms, backoff_max_ms;
	unsigned rpm, timeout_ms;

	struct evdns_base *dns;
	struct evhttp_connection *conn;
	char *host_header, *request_uri;

	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	uint64_t seed;
	struct list queue, lru;
	struct entry *inflight[BATCH_MAX];
	size_t n_inflight;
	bool busy; /* a request is outstanding */
	struct evhttp_request *req; /* that request, until its outcome */
	struct event *timer;
	struct event *deadline; /* ends the outstanding request at timeout_ms */

	uint64_t *sent_at; /* ring of the last rpm send times */
	size_t sent_n, sent_head;
	uint64_t paused_until;
	unsigned fail_streak;
	bool backing_off, rate_logged;
	int last_error; /* enum evhttp_request_error + 1, 0: none */

	struct ipapi_stats stats;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- addresses ------------------------------------------------------------------- */

/*
 * The cache key: IPv4 with its unused bytes zeroed, and IPv4-mapped or
 * NAT64 IPv6 addresses as the IPv4 address they carry (which is what ip-api
 * would be asked and would answer about). False for a family we cannot ask.
 */
static bool normalize(const struct wl_addr *in, struct wl_addr *out)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	memset(out, 0, sizeof(*out));
	if (in->family == 4 || (in->family == 6 && (memcmp(in->b, mapped, 12) == 0 ||
						     memcmp(in->b, nat64, 12) == 0))) {
		out->family = 4;
		memcpy(out->b, in->family == 4 ? in->b : in->b + 12, 4);
		return true;
	}
	if (in->family != 6)
		return false;
	*out = *in;
	return true;
}

static void addr_to_string(const struct wl_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, buf, (socklen_t)len))
		buf[0] = '\0';
}

static bool addr_from_string(const char *s, struct wl_addr *ret)
{
	struct wl_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.b) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, s, a.b) == 1)
		a.family = 6;
	else
		return false;
	return normalize(&a, ret);
}

/* ---- hash table and lists --------------------------------------------------------- */

/*
 * Keyed (SipHash under the client's random seed), because the addresses
 * come from the traffic: a seeded mix is no PRF, and chosen addresses could
 * still be aimed at one bucket.
 */
static size_t bucket_of(const struct ipapi *c, const struct wl_addr *a)
{
	const struct wl_siphash_key key = { c->seed, c->seed ^ 0x9e3779b97f4a7c15ULL };
	uint8_t bytes[17];

	bytes[0] = a->family;
	memcpy(bytes + 1, a->b, 16);
	return (size_t)(wl_siphash24(&key, bytes, sizeof(bytes)) & (c->nbuckets - 1));
}

static bool addr_equal(const struct wl_addr *x, const struct wl_addr *y)
{
	return x->family == y->family && memcmp(x->b, y->b, 16) == 0;
}

static struct entry *table_find(const struct ipapi *c, const struct wl_addr *a)
{
	for (struct entry *e = c->buckets[bucket_of(c, a)]; e; e = e->hnext)
		if (addr_equal(&e->a, a))
			return e;
	return NULL;
}

static void table_insert(struct ipapi *c, struct entry *e)
{
	size_t b = bucket_of(c, &e->a);

	e->hnext = c->buckets[b];
	c->buckets[b] = e;
}

static void table_remove(struct ipapi *c, struct entry *e)
{
	struct entry **p = &c->buckets[bucket_of(c, &e->a)];

	while (*p && *p != e)
		p = &(*p)->hnext;
	if (*p)
		*p = e->hnext;
}

static void list_push_head(struct list *l, struct entry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head)
		l->head->prev = e;
	else
		l->tail = e;
	l->head = e;
	l->n++;
}

static void list_push_tail(struct list *l, struct entry *e)
{
	e->next = NULL;
	e->prev = l->tail;
	if (l->tail)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
	l->n++;
}

static void list_unlink(struct list *l, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
	l->n--;
}

/* Forgets a cached entry (expired or evicted). */
static void drop_cached(struct ipapi *c, struct entry *e)
{
	list_unlink(&c->lru, e);
	table_remove(c, e);
	free(e);
}

/* ---- scheduling ------------------------------------------------------------------ */

static struct timeval ms_to_timeval(uint64_t ms)
{
	return (struct timeval){ .tv_sec = (time_t)(ms / 1000),
				 .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
}

static void arm_timer(struct ipapi *c, uint64_t delay_ms)
{
	struct timeval tv = ms_to_timeval(delay_ms);

	evtimer_add(c->timer, &tv);
}

/* From the moment the request is handed to libevent: connect to last byte. */
static void arm_deadline(struct ipapi *c)
{
	struct timeval tv = ms_to_timeval(c->timeout_ms);

	evtimer_add(c->deadline, &tv);
}

/* How long the local limit (rpm requests in any 60 s) still makes us wait. */
static uint64_t rate_wait(const struct ipapi *c, uint64_t now)
{
	uint64_t free_at;

	if (c->sent_n < c->rpm)
		return 0;
	free_at = c->sent_at[c->sent_head] + RATE_WINDOW_MS;
	return free_at > now ? free_at - now : 0;
}

static void rate_record(struct ipapi *c, uint64_t now)
{
	if (c->sent_n < c->rpm) {
		c->sent_at[(c->sent_head + c->sent_n) % c->rpm] = now;
		c->sent_n++;
		return;
	}
	c->sent_at[c->sent_head] = now;
	c->sent_head = (c->sent_head + 1) % c->rpm;
}

static uint64_t max_u64(uint64_t x, uint64_t y)
{
	return x > y ? x : y;
}

static void send_batch(struct ipapi *c, uint64_t now);

/*
 * Sends the next batch if nothing forbids it, else sets the timer for when
 * the first thing that forbids it ends: a request outstanding (its answer
 * pumps again), a pause (back-off, 429, X-Rl 0), the local rate limit, or a
 * short batch still waiting for company.
 */
static void pump(struct ipapi *c)
{
	uint64_t now = now_ms(), wait = 0;

	if (c->busy || c->queue.n == 0)
		return;
	if (c->paused_until > now)
		wait = c->paused_until - now;
	wait = max_u64(wait, rate_wait(c, now));
	if (c->queue.n < BATCH_MAX && c->queue.head->t + c->batch_delay_ms > now)
		wait = max_u64(wait, c->queue.head->t + c->batch_delay_ms - now);
	if (wait > 0) {
		arm_timer(c, wait);
		return;
	}
	send_batch(c, now);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	pump(arg);
}

/* ---- outcomes --------------------------------------------------------------------- */

/* Puts the batch back at the front of the queue, in its order. */
static void requeue_inflight(struct ipapi *c)
{
	while (c->n_inflight > 0) {
		struct entry *e = c->inflight[--c->n_inflight];

		e->state = E_QUEUED;
		list_push_head(&c->queue, e);
	}
}

static void request_failed(struct ipapi *c, const char *why)
{
	uint64_t delay;
	unsigned shift;

	c->stats.failed++;
	c->fail_streak++;
	shift = c->fail_streak - 1 < 20 ? c->fail_streak - 1 : 20;
	delay = c->backoff_base_ms << shift;
	if (delay > c->backoff_max_ms)
		delay = c->backoff_max_ms;
	c->paused_until = max_u64(c->paused_until, now_ms() + delay);
	/* One line per outage: an unplugged uplink must not flood the log. */
	if (!c->backing_off) {
		c->backing_off = true;
		wl_warn("ip-api unreachable (%s), backing off; will retry quietly", why);
	}
	requeue_inflight(c);
}

static void request_succeeded(struct ipapi *c)
{
	if (c->backing_off)
		wl_notice("ip-api reachable again after %u failed attempt%s", c->fail_streak,
			  c->fail_streak == 1 ? "" : "s");
	c->backing_off = false;
	c->fail_streak = 0;
	c->rate_logged = false;
}

/* Parses a header as a number of 0..max; -1 when absent or not a number. */
static long header_number(struct evhttp_request *req, const char *name, long max)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
	char *end;
	long n;

	if (!v)
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || n < 0)
		return -1;
	return n > max ? max : n;
}

/*
 * X-Rl is the number of requests left in ip-api's window and X-Ttl the
 * seconds until it resets. At 0 left, or on a 429, nothing is sent until
 * then. Returns true when ip-api asked us to wait.
 */
static bool honour_rate_headers(struct ipapi *c, struct evhttp_request *req, int code)
{
	long left = header_number(req, "X-Rl", LONG_MAX);
	long ttl = header_number(req, "X-Ttl", RATE_PAUSE_MAX_S);

	if (code != 429 && left != 0)
		return false;
	if (ttl < 0)
		ttl = RATE_PAUSE_DEFAULT_S;
	c->paused_until = max_u64(c->paused_until, now_ms() + (uint64_t)ttl * 1000u);
	c->stats.rate_limited++;
	if (code == 429 && !c->rate_logged) {
		c->rate_logged = true;
		wl_notice("ip-api rate limit reached (HTTP 429); pausing %ld s", ttl);
	}
	return true;
}

/* ---- answers ---------------------------------------------------------------------- */

/*
 * The length of the well-formed, printable UTF-8 character at s, or 0 with
 * *bad set to the bytes to skip: the maximal ill-formed subpart, as Unicode
 * recommends (a stray continuation byte, an overlong form, a surrogate,
 * above U+10FFFF, a sequence cut short), or a whole control character
 * (C0, DEL, C1). s is NUL-terminated, and NUL is never a continuation byte.
 */
static size_t utf8_char(const unsigned char *s, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] < 0x20 || s[0] == 0x7f) {
		*bad = 1;
		return 0;
	}
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80; /* overlong */
		hi = s[0] == 0xed ? 0x9f : 0xbf; /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80; /* overlong */
		hi = s[0] == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
	} else {
		*bad = 1; /* a continuation byte, 0xc0, 0xc1 (overlong), 0xf5..0xff */
		return 0;
	}
	for (i = 1; i < need; i++, lo = 0x80, hi = 0xbf) {
		if (s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
	}
	if (s[0] == 0xc2 && s[1] < 0xa0) { /* U+0080..U+009F: C1 controls */
		*bad = 2;
		return 0;
	}
	return need;
}

/*
 * Copies text from ip-api into dst as valid UTF-8 (see ipapi.h): each
 * ill-formed sequence or control character becomes U+FFFD, and the copy
 * ends on a character boundary, so that no name cut to fit turns webd's
 * JSON invalid.
 */
static void copy_string(char *dst, size_t len, const char *src)
{
	static const unsigned char replacement[] = { 0xef, 0xbf, 0xbd };
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t out = 0, n, bad, take;

	while (*s) {
		n = utf8_char(s, &bad);
		take = n ? n : sizeof(replacement);
		if (out + take >= len) /* keep room for the NUL */
			break;
		memcpy(dst + out, n ? s : replacement, take);
		out += take;
		s += n ? n : bad;
	}
	dst[out] = '\0';
}

static char ascii_upper(char ch)
{
	return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

/* ISO 3166 alpha-2: two ASCII letters, uppercased. Anything else is no country. */
static void copy_country(char dst[3], const char *cc)
{
	dst[0] = '\0';
	if (!cc || strlen(cc) != 2)
		return;
	for (int i = 0; i < 2; i++) {
		char up = ascii_upper(cc[i]);

		if (up < 'A' || up > 'Z') {
			dst[0] = '\0';
			return;
		}
		dst[i] = up;
	}
	dst[2] = '\0';
}

/* ip-api's "as" is "AS15169 Google LLC": the number, then the organisation. */
static void parse_as(const char *as, struct geo_info *g)
{
	char *end;
	unsigned long n;

	if (!as || (as[0] != 'A' && as[0] != 'a') || (as[1] != 'S' && as[1] != 's'))
		return;
	errno = 0;
	n = strtoul(as + 2, &end, 10);
	if (errno || end == as + 2 || n > UINT32_MAX || (*end && *end != ' '))
		return;
	g->asn = (uint32_t)n;
	while (*end == ' ')
		end++;
	copy_string(g->as_org, sizeof(g->as_org), end);
}

static bool answer_to_info(const cJSON *item, struct geo_info *g)
{
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(item, "countryCode");
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(item, "lat");
	const cJSON *lon = cJSON_GetObjectItemCaseSensitive(item, "lon");
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "status"));

	if (!status || strcmp(status, "success") != 0)
		return false;
	memset(g, 0, sizeof(*g));
	g->scope = GEO_PUBLIC;
	g->source = GEO_SRC_IPAPI;
	copy_country(g->country, cJSON_GetStringValue(cc));
	parse_as(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "as")), g);
	if (!g->as_org[0])
		copy_string(g->as_org, sizeof(g->as_org),
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "asname")));
	copy_string(g->city, sizeof(g->city),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "city")));
	if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon)) {
		g->has_location = true;
		g->latitude = lat->valuedouble;
		g->longitude = lon->valuedouble;
	}
	return true;
}

/* Caches the answer for an in-flight entry (info NULL: "no") and reports it. */
static void finish_entry(struct ipapi *c, struct entry *e, const struct geo_info *info)
{
	static const struct geo_info none = { .scope = GEO_PUBLIC };
	struct wl_addr a = e->a;
	struct geo_info copy = info ? *info : none;

	e->state = E_CACHED;
	e->negative = !info;
	e->info = copy;
	e->t = now_ms() + (info ? c->pos_ttl_ms : c->neg_ttl_ms);
	list_push_head(&c->lru, e); /* evict_excess() trims after the batch */
	c->stats.answered++;
	if (c->on_result)
		c->on_result(&a, &copy, c->userdata);
}

/*
 * Trims the LRU to its bound. Only once a whole batch is cached, because
 * the batch's own entries (still listed in c->inflight) may be the ones to
 * go when the cache is smaller than a batch.
 */
static void evict_excess(struct ipapi *c)
{
	while (c->lru.n > c->cache_max)
		drop_cached(c, c->lru.tail);
}

/* The in-flight entry an answer is for: by its "query", else by position. */
static struct entry *answer_entry(struct ipapi *c, const cJSON *item, size_t i)
{
	const char *q = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "query"));
	struct wl_addr a;
	struct entry *e = NULL;

	if (q && addr_from_string(q, &a))
		e = table_find(c, &a);
	else if (i < c->n_inflight)
		e = c->inflight[i];
	return e && e->state == E_IN_FLIGHT ? e : NULL;
}

static int handle_answers(struct ipapi *c, struct evhttp_request *req)
{
	struct evbuffer *buf = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(buf);
	const char *body = len ? (const char *)evbuffer_pullup(buf, -1) : "";
	cJSON *root = cJSON_ParseWithLength(body, len), *item;
	struct geo_info g;
	size_t i = 0;

	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	request_succeeded(c);
	cJSON_ArrayForEach(item, root) {
		struct entry *e = answer_entry(c, item, i++);

		if (e)
			finish_entry(c, e, answer_to_info(item, &g) ? &g : NULL);
	}
	cJSON_Delete(root);
	/* An address the answer left out counts as a "no", so that a broken
	 * server cannot make us ask about it again and again. */
	for (i = 0; i < c->n_inflight; i++)
		if (c->inflight[i]->state == E_IN_FLIGHT)
			finish_entry(c, c->inflight[i], NULL);
	c->n_inflight = 0;
	evict_excess(c);
	return 0;
}

static const char *request_error_name(int err)
{
	switch (err - 1) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "connection closed";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid header";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "read or write error";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "answer too long";
	default:
		/* libevent reports a failed connect (refused, no route, DNS)
		 * without a reason. */
		return "cannot connect";
	}
}

static void on_request_error(enum evhttp_request_error err, void *arg)
{
	struct ipapi *c = arg;

	c->last_error = (int)err + 1;
}

static void on_response(struct evhttp_request *req, void *arg)
{
	struct ipapi *c = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	char why[48];

	if (c->freeing)
		return;
	c->busy = false;
	c->req = NULL; /* libevent frees it when we return */
	evtimer_del(c->deadline);
	if (code == 0) {
		request_failed(c, request_error_name(c->last_error));
	} else if (honour_rate_headers(c, req, code) && code == 429) {
		requeue_inflight(c);
	} else if (code != 200) {
		snprintf(why, sizeof(why), "HTTP %d", code);
		request_failed(c, why);
	} else if (handle_answers(c, req) != 0) {
		request_failed(c, "unreadable answer");
	}
	c->last_error = 0;
	/* Not from inside evhttp's callback: from the loop, right away. */
	arm_timer(c, 0);
}

/*
 * The request's total deadline passed. evhttp's own time-out is per read
 * or write and restarts with every byte, so a server that dribbles its
 * answer would otherwise hold the only request, and geolocation, for ever.
 * A failure like any other: counted, backed off from, and the batch is
 * queued again.
 */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct ipapi *c = arg;
	struct evhttp_request *req = c->req;

	if (!req)
		return;
	c->req = NULL;
	c->busy = false;
	/* Resets the connection and frees req; on_response is not called. */
	evhttp_cancel_request(req);
	c->last_error = 0;
	request_failed(c, "timed out");
	arm_timer(c, 0);
}

/* ---- sending ----------------------------------------------------------------------- */

/* Moves up to BATCH_MAX queued entries in flight and writes their JSON array. */
static void fill_batch(struct ipapi *c, struct evbuffer *body)
{
	char s[INET6_ADDRSTRLEN];

	evbuffer_add(body, "[", 1);
	while (c->n_inflight < BATCH_MAX && c->queue.head) {
		struct entry *e = c->queue.head;

		list_unlink(&c->queue, e);
		e->state = E_IN_FLIGHT;
		c->inflight[c->n_inflight++] = e;
		addr_to_string(&e->a, s, sizeof(s));
		evbuffer_add_printf(body, "%s\"%s\"", c->n_inflight > 1 ? "," : "", s);
	}
	evbuffer_add(body, "]", 1);
}

static void send_batch(struct ipapi *c, uint64_t now)
{
	struct evhttp_request *req = evhttp_request_new(on_response, c);
	struct evkeyvalq *h;

	if (!req) {
		request_failed(c, "out of memory");
		arm_timer(c, 0);
		return;
	}
	evhttp_request_set_error_cb(req, on_request_error);
	fill_batch(c, evhttp_request_get_output_buffer(req));
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", c->host_header);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "User-Agent", "wlite-webd");
	c->stats.requests++;
	rate_record(c, now);
	c->last_error = 0;
	/* Before the request goes: should libevent report its outcome at
	 * once, on_response finds the request recorded and clears it. */
	c->busy = true;
	c->req = req;
	arm_deadline(c);
	/* On failure libevent has already freed req. */
	if (evhttp_make_request(c->conn, req, EVHTTP_REQ_POST, c->request_uri) != 0) {
		c->busy = false;
		c->req = NULL;
		evtimer_del(c->deadline);
		request_failed(c, "cannot send the request");
		arm_timer(c, 0);
	}
}

/* ---- look-up ------------------------------------------------------------------------ */

static int enqueue(struct ipapi *c, const struct wl_addr *a, uint64_t now)
{
	struct entry *e;

	if (c->queue.n >= c->queue_max) {
		c->stats.dropped++;
		return -EAGAIN;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->a = *a;
	e->state = E_QUEUED;
	e->t = now;
	table_insert(c, e);
	list_push_tail(&c->queue, e);
	c->stats.queued++;
	if (c->queue.n == BATCH_MAX)
		arm_timer(c, 0); /* a full batch need not wait */
	else if (!evtimer_pending(c->timer, NULL))
		arm_timer(c, c->batch_delay_ms);
	return -EAGAIN;
}

int ipapi_lookup(struct ipapi *c, const struct wl_addr *addr, struct geo_info *ret)
{
	struct wl_addr a;
	struct entry *e;
	uint64_t now;

	if (!c || !c->enabled || !normalize(addr, &a) || geo_classify(&a) != GEO_PUBLIC)
		return -ENOENT;
	now = now_ms();
	e = table_find(c, &a);
	if (e && e->state == E_CACHED && e->t <= now) {
		drop_cached(c, e);
		e = NULL;
	}
	if (!e)
		return enqueue(c, &a, now);
	if (e->state != E_CACHED)
		return -EAGAIN;
	c->stats.cache_hits++;
	list_unlink(&c->lru, e);
	list_push_head(&c->lru, e);
	if (e->negative)
		return -ENOENT;
	*ret = e->info;
	return 0;
}

void ipapi_get_stats(const struct ipapi *c, struct ipapi_stats *ret)
{
	if (!c) {
		*ret = (struct ipapi_stats){ 0 };
		return;
	}
	*ret = c->stats;
	ret->backing_off = c->backing_off;
}

/* ---- set-up ------------------------------------------------------------------------- */

static void seterr(char *err, size_t errlen, const char *msg, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s", msg, arg ? arg : "");
}

static bool is_disabled_url(const char *url)
{
	return !url || !*url || strcmp(url, "off") == 0;
}

static void apply_config(struct ipapi *c, const struct ipapi_config *cfg)
{
	c->cache_max = cfg->cache_entries ? cfg->cache_entries : 65536;
	c->queue_max = cfg->queue_max ? cfg->queue_max : 10000;
	if (c->cache_max > ENTRIES_MAX)
		c->cache_max = ENTRIES_MAX;
	if (c->queue_max > ENTRIES_MAX)
		c->queue_max = ENTRIES_MAX;
	c->pos_ttl_ms = (uint64_t)(cfg->positive_ttl_s ? cfg->positive_ttl_s : 86400) * 1000u;
	c->neg_ttl_ms = (uint64_t)(cfg->negative_ttl_s ? cfg->negative_ttl_s : 3600) * 1000u;
	c->rpm = cfg->requests_per_min ? cfg->requests_per_min : 15;
	if (c->rpm > RPM_MAX)
		c->rpm = RPM_MAX;
	c->batch_delay_ms = cfg->batch_delay_ms ? cfg->batch_delay_ms : 1000;
	c->backoff_base_ms = cfg->backoff_base_ms ? cfg->backoff_base_ms : 5000;
	c->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 600000;
	if (c->backoff_max_ms < c->backoff_base_ms)
		c->backoff_max_ms = c->backoff_base_ms;
	c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
}

/* The request target: the base URL's path, "/batch", the fields, its query. */
static char *make_request_uri(const struct evhttp_uri *uri)
{
	const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
	size_t plen = path ? strlen(path) : 0, len;
	char *s;

	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	len = plen + sizeof("/batch?fields=" IPAPI_FIELDS) + (query ? strlen(query) + 1 : 0);
	s = malloc(len);
	if (s)
		snprintf(s, len, "%.*s/batch?fields=%s%s%s", (int)plen, plen ? path : "",
			 IPAPI_FIELDS, query ? "&" : "", query ? query : "");
	return s;
}

/* A numeric host needs no resolver; a name gets an asynchronous one. */
static bool host_is_numeric(const char *host)
{
	uint8_t buf[16];

	return evutil_inet_pton(AF_INET, host, buf) == 1 || evutil_inet_pton(AF_INET6, host, buf) == 1;
}

static int connect_setup(struct ipapi *c, const struct evhttp_uri *uri, char *err, size_t errlen)
{
	const char *host = evhttp_uri_get_host(uri);
	int port = evhttp_uri_get_port(uri);
	char bare[256];
	struct timeval tv = { .tv_sec = c->timeout_ms / 1000,
			      .tv_usec = (suseconds_t)(c->timeout_ms % 1000) * 1000 };
	size_t hlen = strlen(host) + 8;

	/* evhttp_uri keeps an IPv6 literal's brackets; the socket wants none. */
	snprintf(bare, sizeof(bare), "%s", host);
	if (bare[0] == '[' && bare[strlen(bare) - 1] == ']') {
		memmove(bare, bare + 1, strlen(bare));
		bare[strlen(bare) - 1] = '\0';
	}
	if (port < 0)
		port = 80;
	c->host_header = malloc(hlen);
	if (!c->host_header)
		return -ENOMEM;
	if (port == 80)
		snprintf(c->host_header, hlen, "%s", host);
	else
		snprintf(c->host_header, hlen, "%s:%d", host, port);
	if (!host_is_numeric(bare)) {
		c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
						 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!c->dns) {
			seterr(err, errlen, "ip-api: cannot set up DNS resolution for ", bare);
			return -ENOMEM;
		}
	}
	c->conn = evhttp_connection_base_new(c->base, c->dns, bare, (uint16_t)port);
	if (!c->conn)
		return -ENOMEM;
	/* Per read or write, as libevent applies it; the request as a whole
	 * has the same time in all, from on_deadline. */
	evhttp_connection_set_timeout_tv(c->conn, &tv);
	evhttp_connection_set_retries(c->conn, 0); /* our back-off decides */
	evhttp_connection_set_max_body_size(c->conn, BODY_MAX);
	evhttp_connection_set_max_headers_size(c->conn, HEADERS_MAX);
	return 0;
}

static int check_url(const struct evhttp_uri *uri, const char *url, char *err, size_t errlen)
{
	const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
	const char *host = uri ? evhttp_uri_get_host(uri) : NULL;

	if (!uri || !scheme) {
		seterr(err, errlen, "ip-api: cannot parse the base URL ", url);
		return -EINVAL;
	}
	if (evutil_ascii_strcasecmp(scheme, "https") == 0) {
		seterr(err, errlen,
		       "ip-api: https is not supported (this build has no TLS); use http:// or \"off\": ",
		       url);
		return -EINVAL;
	}
	if (evutil_ascii_strcasecmp(scheme, "http") != 0) {
		seterr(err, errlen, "ip-api: the base URL must start with http://: ", url);
		return -EINVAL;
	}
	if (!host || !*host || strlen(host) > 253) {
		seterr(err, errlen, "ip-api: no usable host in the base URL ", url);
		return -EINVAL;
	}
	return 0;
}

static int setup_enabled(struct ipapi *c, const char *url, char *err, size_t errlen)
{
	struct evhttp_uri *uri = evhttp_uri_parse(url);
	int r = check_url(uri, url, err, errlen);
	uint64_t seed;

	if (r == 0)
		r = connect_setup(c, uri, err, errlen);
	if (r == 0) {
		c->request_uri = make_request_uri(uri);
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
			seed = now_ms() ^ (uint64_t)(uintptr_t)c;
		c->seed = seed;
		/* Room for every entry at once: ~1 per bucket on average. */
		c->nbuckets = 64;
		while (c->nbuckets < c->cache_max + c->queue_max + BATCH_MAX)
			c->nbuckets *= 2;
		c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
		c->sent_at = calloc(c->rpm, sizeof(*c->sent_at));
		c->timer = evtimer_new(c->base, on_timer, c);
		c->deadline = evtimer_new(c->base, on_deadline, c);
		if (!c->request_uri || !c->buckets || !c->sent_at || !c->timer || !c->deadline)
			r = -ENOMEM;
	}
	if (uri)
		evhttp_uri_free(uri);
	return r;
}

int ipapi_new(struct ipapi **ret, struct event_base *base, const struct ipapi_config *cfg,
	      ipapi_result_fn on_result, void *userdata, char *err, size_t errlen)
{
	struct ipapi *c = calloc(1, sizeof(*c));
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!c)
		return -ENOMEM;
	c->base = base;
	c->on_result = on_result;
	c->userdata = userdata;
	if (!cfg || is_disabled_url(cfg->base_url)) {
		*ret = c;
		return 0;
	}
	apply_config(c, cfg);
	r = setup_enabled(c, cfg->base_url, err, errlen);
	if (r < 0) {
		if (r == -ENOMEM && err && errlen && !err[0])
			seterr(err, errlen, "ip-api: out of memory", NULL);
		ipapi_free(c);
		return r;
	}
	c->enabled = true;
	*ret = c;
	return 0;
}

struct ipapi *ipapi_free(struct ipapi *c)
{
	if (!c)
		return NULL;
	c->freeing = true;
	if (c->conn)
		evhttp_connection_free(c->conn);
	if (c->dns)
		evdns_base_free(c->dns, 0);
	if (c->timer)
		event_free(c->timer);
	if (c->deadline)
		event_free(c->deadline);
	for (size_t b = 0; c->buckets && b < c->nbuckets; b++) {
		struct entry *e = c->buckets[b], *next;

		for (; e; e = next) {
			next = e->hnext;
			free(e);
		}
	}
	free(c->buckets);
	free(c->sent_at);
	free(c->host_header);
	free(c->request_uri);
	free(c);
	return NULL;
}
