/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for webd/geo/ipapi.c against a fake ip-api: an evhttp server on
 * 127.0.0.1 in this process, on the same event base as the client, so a
 * test is one thread driving one loop for a bounded time. The fake records
 * each request and can answer success or fail entries, send X-Rl/X-Ttl,
 * answer 429 or 500, hold its answer back, dribble it (one byte of body at a
 * time, for ever), answer with given fields for given addresses, not
 * answer at all (a socket that listens but never accepts) or be down (a
 * port nobody listens on).
 *
 * Timings come from the config (batch delay, back-off base, time-out) so
 * that each test takes well under 10 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "geo/ipapi.h"
#include "log.h"

enum { MAX_REQ = 64, MAX_RESULTS = 512 };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct wl_addr addr(const char *s)
{
	struct wl_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.b) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, s, a.b) == 1)
		a.family = 6;
	else
		fail_msg("bad address in test: %s", s);
	return a;
}

static struct wl_addr addr_n(unsigned n) /* 8.8.x.y, all public */
{
	struct wl_addr a = { .family = 4, .b = { 8, 8, (uint8_t)(n >> 8), (uint8_t)n } };
	return a;
}

/* ---- the fake ip-api ---------------------------------------------------------------- */

/* The fields to answer for one address; NULL leaves a field out. */
struct fake_custom {
	const char *query, *country_code, *city, *as, *asname;
};

struct fake {
	struct event_base *base;
	struct evhttp *http;
	int port;
	int listen_only_fd; /* "slow": listens, never accepts */

	/* behaviour */
	int n_429, n_500; /* answer this many requests so first */
	int rl, ttl;      /* X-Rl / X-Ttl on the next answer; -1: none */
	bool drop_query;  /* answers without "query" */
	int hold_ms;      /* answer this late */
	struct evhttp_request *held;
	struct event *hold_ev;
	const struct fake_custom *custom; /* answers for these addresses */
	size_t n_custom;
	int dribble_requests; /* dribble the answer to this many requests first */
	int dribble_ms;       /* one byte per this many ms */
	struct evhttp_request *dribbling;
	struct event *dribble_ev;
	int dribbled;     /* bytes sent so far */
	int dribble_gone; /* 1 once the client dropped the connection */

	/* what it saw */
	int requests;
	int batch[MAX_REQ];
	uint64_t at[MAX_REQ];
	char first_query[MAX_REQ][64];
	char path[256], ctype[64];
	int method;
};

static void add_string_if(cJSON *o, const char *name, const char *value)
{
	if (value)
		cJSON_AddStringToObject(o, name, value);
}

static const struct fake_custom *fake_custom_for(const struct fake *f, const char *q)
{
	for (size_t i = 0; i < f->n_custom; i++)
		if (strcmp(f->custom[i].query, q) == 0)
			return &f->custom[i];
	return NULL;
}

static cJSON *fake_entry(const struct fake *f, const char *q, bool with_query)
{
	const struct fake_custom *cu = fake_custom_for(f, q);
	cJSON *o = cJSON_CreateObject();

	if (cu) { /* given bytes, verbatim: cJSON prints bytes >= 0x80 as they are */
		cJSON_AddStringToObject(o, "status", "success");
		add_string_if(o, "countryCode", cu->country_code);
		add_string_if(o, "city", cu->city);
		add_string_if(o, "as", cu->as);
		add_string_if(o, "asname", cu->asname);
	} else if (strncmp(q, "5.", 2) == 0) { /* "could not place it" */
		cJSON_AddStringToObject(o, "status", "fail");
		cJSON_AddStringToObject(o, "message", "invalid query");
	} else if (strncmp(q, "6.", 2) == 0) { /* sparse answer: asname only */
		cJSON_AddStringToObject(o, "status", "success");
		cJSON_AddStringToObject(o, "countryCode", "");
		cJSON_AddStringToObject(o, "as", "");
		cJSON_AddStringToObject(o, "asname", "EXAMPLE-AS");
	} else {
		cJSON_AddStringToObject(o, "status", "success");
		cJSON_AddStringToObject(o, "countryCode", strchr(q, ':') ? "DE" : "US");
		cJSON_AddStringToObject(o, "as", "AS15169 Google LLC");
		cJSON_AddStringToObject(o, "asname", "GOOGLE");
		cJSON_AddStringToObject(o, "city", "Mountain View");
		cJSON_AddNumberToObject(o, "lat", 37.422);
		cJSON_AddNumberToObject(o, "lon", -122.084);
	}
	if (with_query)
		cJSON_AddStringToObject(o, "query", q);
	return o;
}

static void fake_add_rate_headers(struct fake *f, struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char v[16];

	if (f->rl >= 0) {
		snprintf(v, sizeof(v), "%d", f->rl);
		evhttp_add_header(h, "X-Rl", v);
	}
	if (f->ttl >= 0) {
		snprintf(v, sizeof(v), "%d", f->ttl);
		evhttp_add_header(h, "X-Ttl", v);
	}
	f->rl = f->ttl = -1; /* once */
}

/* Records the request; returns the parsed array of addresses. */
static cJSON *fake_record(struct fake *f, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	cJSON *arr = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1), len);
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	int i = f->requests < MAX_REQ ? f->requests : MAX_REQ - 1;

	f->batch[i] = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
	f->at[i] = now_ms();
	snprintf(f->first_query[i], sizeof(f->first_query[i]), "%s",
		 cJSON_IsArray(arr) ? cJSON_GetStringValue(cJSON_GetArrayItem(arr, 0)) : "");
	snprintf(f->path, sizeof(f->path), "%s", evhttp_request_get_uri(req));
	snprintf(f->ctype, sizeof(f->ctype), "%s", ct ? ct : "");
	f->method = evhttp_request_get_command(req);
	f->requests++;
	return arr;
}

static void fake_answer(struct fake *f, struct evhttp_request *req, cJSON *arr)
{
	struct evbuffer *out = evbuffer_new();
	cJSON *ans = cJSON_CreateArray(), *item;
	char *body;

	cJSON_ArrayForEach(item, arr)
		if (cJSON_IsString(item))
			cJSON_AddItemToArray(ans, fake_entry(f, item->valuestring, !f->drop_query));
	body = cJSON_PrintUnformatted(ans);
	evbuffer_add(out, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json; charset=utf-8");
	fake_add_rate_headers(f, req);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
	cJSON_free(body);
	cJSON_Delete(ans);
}

static void fake_release(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	struct evhttp_request *req = f->held;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	cJSON *arr = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1),
					   evbuffer_get_length(in));

	f->held = NULL;
	fake_answer(f, req, arr);
	cJSON_Delete(arr);
}

/*
 * One more byte of a JSON answer that never ends, or, once the client has
 * dropped the connection (libevent then detaches the request from it),
 * the end: the request is freed and nothing more is sent.
 */
static void fake_dribble(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	struct timeval tv = { 0, f->dribble_ms * 1000 };
	struct evbuffer *b;

	if (!evhttp_request_get_connection(f->dribbling)) {
		evhttp_send_reply_end(f->dribbling); /* frees it */
		f->dribbling = NULL;
		f->dribble_gone = 1;
		return;
	}
	b = evbuffer_new();
	evbuffer_add(b, f->dribbled == 0 ? "[" : " ", 1);
	evhttp_send_reply_chunk(f->dribbling, b);
	evbuffer_free(b);
	f->dribbled++;
	evtimer_add(f->dribble_ev, &tv);
}

static void fake_start_dribble(struct fake *f, struct evhttp_request *req)
{
	f->dribble_requests--;
	f->dribbling = req;
	evhttp_send_reply_start(req, 200, "OK"); /* chunked: the body comes later */
	f->dribble_ev = evtimer_new(f->base, fake_dribble, f);
	fake_dribble(-1, 0, f);
}

static void fake_handle(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	cJSON *arr = fake_record(f, req);

	if (f->n_429 > 0 || f->n_500 > 0) {
		int code = f->n_429 > 0 ? 429 : 500;

		if (code == 429)
			f->n_429--;
		else
			f->n_500--;
		fake_add_rate_headers(f, req);
		evhttp_send_reply(req, code, code == 429 ? "Too Many Requests" : "Oops", NULL);
	} else if (f->dribble_requests > 0) {
		fake_start_dribble(f, req);
	} else if (f->hold_ms > 0) {
		struct timeval tv = { 0, f->hold_ms * 1000 };

		f->held = req;
		f->hold_ev = evtimer_new(f->base, fake_release, f);
		evtimer_add(f->hold_ev, &tv);
	} else {
		fake_answer(f, req, arr);
	}
	cJSON_Delete(arr);
}

/* Starts serving on port (0: any); returns the port. */
static int fake_listen(struct fake *f, int port)
{
	struct evhttp_bound_socket *s;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	f->http = evhttp_new(f->base);
	assert_non_null(f->http);
	evhttp_set_gencb(f->http, fake_handle, f);
	s = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", (uint16_t)port);
	assert_non_null(s);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
	return f->port;
}

static void fake_stop(struct fake *f)
{
	if (f->http)
		evhttp_free(f->http);
	f->http = NULL;
}

/* A port that refuses connections: bound once, then closed. */
static void fake_down(struct fake *f)
{
	fake_listen(f, 0);
	fake_stop(f);
}

/* A server that takes the connection (the kernel's backlog) and never answers. */
static void fake_listen_only(struct fake *f)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	f->listen_only_fd = fd;
	f->port = ntohs(sin.sin_port);
}

/* ---- the harness ----------------------------------------------------------------------- */

struct t {
	struct event_base *base;
	struct fake fake;
	struct ipapi *c;
	struct ipapi_config cfg;
	char url[64];
	int results, negatives;
	struct wl_addr seen[MAX_RESULTS];
	struct geo_info last;
	FILE *log;
	int saved_stderr;
};

static void on_result(const struct wl_addr *a, const struct geo_info *info, void *userdata)
{
	struct t *t = userdata;

	if (t->results < MAX_RESULTS)
		t->seen[t->results] = *a;
	t->results++;
	t->negatives += info->source == GEO_SRC_NONE;
	t->last = *info;
}

/* stderr goes to a file during each test, so that log lines can be counted. */
static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->base = event_base_new();
	t->fake.base = t->base;
	t->fake.rl = t->fake.ttl = -1;
	t->fake.listen_only_fd = -1;
	t->cfg = (struct ipapi_config){ .batch_delay_ms = 20, .backoff_base_ms = 100,
					.backoff_max_ms = 400, .timeout_ms = 2000 };
	fflush(stderr);
	t->saved_stderr = dup(2);
	t->log = tmpfile();
	dup2(fileno(t->log), 2);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	ipapi_free(t->c);
	if (t->fake.hold_ev)
		event_free(t->fake.hold_ev);
	if (t->fake.dribble_ev)
		event_free(t->fake.dribble_ev);
	fake_stop(&t->fake);
	if (t->fake.listen_only_fd >= 0)
		close(t->fake.listen_only_fd);
	event_base_free(t->base);
	fflush(stderr);
	dup2(t->saved_stderr, 2);
	close(t->saved_stderr);
	/* Show what was logged, for whoever reads the test log. */
	rewind(t->log);
	for (char line[512]; fgets(line, sizeof(line), t->log);)
		print_message("# log: %s", line);
	fclose(t->log);
	free(t);
	return 0;
}

static int log_count(struct t *t, const char *needle)
{
	char line[512];
	int n = 0;

	fflush(stderr);
	rewind(t->log);
	while (fgets(line, sizeof(line), t->log))
		n += strstr(line, needle) != NULL;
	fseek(t->log, 0, SEEK_END);
	return n;
}

static void start_client(struct t *t)
{
	char err[256];

	snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%d", t->fake.port);
	t->cfg.base_url = t->url;
	assert_int_equal(ipapi_new(&t->c, t->base, &t->cfg, on_result, t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void run_for(struct t *t, unsigned ms)
{
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

	event_base_loopexit(t->base, &tv);
	event_base_dispatch(t->base);
}

/* Runs the loop until *counter reaches want, or max_ms passed. */
static void run_until(struct t *t, const int *counter, int want, unsigned max_ms)
{
	uint64_t end = now_ms() + max_ms;

	while (*counter < want && now_ms() < end)
		run_for(t, 5);
}

static int lookup(struct t *t, const char *s, struct geo_info *g)
{
	struct wl_addr a = addr(s);
	struct geo_info dummy;

	return ipapi_lookup(t->c, &a, g ? g : &dummy);
}

static struct ipapi_stats stats(struct t *t)
{
	struct ipapi_stats s;

	ipapi_get_stats(t->c, &s);
	return s;
}

/* ---- set-up and URLs ------------------------------------------------------------------- */

static void test_disabled(void **state)
{
	struct t *t = *state;
	const char *urls[] = { NULL, "", "off" };
	struct geo_info g;
	char err[64];

	assert_int_equal(ipapi_new(&t->c, t->base, NULL, on_result, t, err, sizeof(err)), 0);
	assert_int_equal(lookup(t, "8.8.8.8", &g), -ENOENT);
	t->c = ipapi_free(t->c);
	for (size_t i = 0; i < 3; i++) {
		struct ipapi_config cfg = { .base_url = urls[i] };

		assert_int_equal(ipapi_new(&t->c, t->base, &cfg, on_result, t, err, sizeof(err)), 0);
		assert_int_equal(lookup(t, "8.8.8.8", &g), -ENOENT);
		assert_int_equal(stats(t).queued, 0);
		t->c = ipapi_free(t->c);
	}
	assert_null(ipapi_free(NULL));
}

static void test_bad_urls(void **state)
{
	struct t *t = *state;
	struct {
		const char *url, *says;
	} cases[] = {
		{ "https://pro.ip-api.com", "https is not supported" },
		{ "ftp://ip-api.com", "must start with http://" },
		{ "ip-api.com", "cannot parse" },
		{ "http://", "no usable host" },
		{ "http://a b", "cannot parse" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipapi_config cfg = { .base_url = cases[i].url };
		struct ipapi *c = NULL;

		assert_int_equal(ipapi_new(&c, t->base, &cfg, on_result, t, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].says))
			fail_msg("%s: '%s' does not say '%s'", cases[i].url, err, cases[i].says);
		assert_null(c);
	}
}

/* A host name gets an evdns resolver; nothing is resolved until a request. */
static void test_host_name_url(void **state)
{
	struct t *t = *state;
	struct ipapi_config cfg = { .base_url = "http://ip-api.com/" };
	char err[256];

	assert_int_equal(ipapi_new(&t->c, t->base, &cfg, on_result, t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* ---- what is asked ---------------------------------------------------------------------- */

static void test_non_public_never_queued(void **state)
{
	static const char *const addrs[] = {
		"10.0.0.1",   "192.168.1.1", "172.16.0.1",  "100.64.0.1", "127.0.0.1",
		"169.254.1.1", "224.0.0.251", "255.255.255.255", "0.0.0.0", "240.0.0.1",
		"192.0.2.1",  "198.51.100.1", "203.0.113.1", "198.18.0.1", "::",
		"::1",        "fe80::1",     "fd00::1",     "ff02::1",    "2001:db8::1",
		"100::1",     "::ffff:192.168.0.1", "64:ff9b::10.1.1.1",
	};
	struct t *t = *state;

	fake_listen(&t->fake, 0);
	start_client(t);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		if (lookup(t, addrs[i], NULL) != -ENOENT)
			fail_msg("%s was not refused", addrs[i]);
	run_for(t, 100);
	assert_int_equal(stats(t).queued, 0);
	assert_int_equal(t->fake.requests, 0);
}

static void test_answer_then_cache_hit(void **state)
{
	struct t *t = *state;
	struct geo_info g;

	fake_listen(&t->fake, 0);
	start_client(t);
	assert_int_equal(lookup(t, "8.8.8.8", &g), -EAGAIN);
	assert_int_equal(lookup(t, "8.8.8.8", &g), -EAGAIN); /* queued once */
	run_until(t, &t->results, 1, 2000);
	assert_int_equal(t->results, 1);
	assert_int_equal(t->fake.requests, 1);
	assert_int_equal(t->fake.batch[0], 1);
	assert_int_equal(t->fake.method, EVHTTP_REQ_POST);
	assert_string_equal(t->fake.path,
			    "/batch?fields=status,message,countryCode,as,asname,city,lat,lon,query");
	assert_string_equal(t->fake.ctype, "application/json");

	/* The callback's view. */
	assert_int_equal(t->seen[0].family, 4);
	assert_memory_equal(t->seen[0].b, "\x08\x08\x08\x08", 4);
	assert_int_equal(t->last.scope, GEO_PUBLIC);
	assert_int_equal(t->last.source, GEO_SRC_IPAPI);
	assert_string_equal(t->last.country, "US");
	assert_int_equal(t->last.asn, 15169);
	assert_string_equal(t->last.as_org, "Google LLC");
	assert_string_equal(t->last.city, "Mountain View");
	assert_true(t->last.has_location);
	assert_true(t->last.latitude > 37.4 && t->last.longitude < -122.0);

	/* The cache's: no new request, also for the v4-mapped form. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(lookup(t, "8.8.8.8", &g), 0);
	assert_string_equal(g.country, "US");
	assert_int_equal(g.asn, 15169);
	assert_int_equal(lookup(t, "::ffff:8.8.8.8", &g), 0);
	run_for(t, 60);
	assert_int_equal(t->fake.requests, 1);
	assert_int_equal(stats(t).cache_hits, 2);
	assert_int_equal(stats(t).queued, 1);
	assert_int_equal(stats(t).answered, 1);
}

static void test_ipv6_and_sparse_answers(void **state)
{
	struct t *t = *state;
	struct geo_info g;

	fake_listen(&t->fake, 0);
	start_client(t);
	assert_int_equal(lookup(t, "2001:4860:4860::8888", &g), -EAGAIN);
	run_until(t, &t->results, 1, 2000);
	assert_int_equal(t->seen[0].family, 6);
	assert_string_equal(t->fake.first_query[0], "2001:4860:4860::8888");
	assert_string_equal(t->last.country, "DE");
	assert_int_equal(lookup(t, "2001:4860:4860::8888", &g), 0);

	assert_int_equal(lookup(t, "6.6.6.6", &g), -EAGAIN);
	run_until(t, &t->results, 2, 2000);
	assert_int_equal(lookup(t, "6.6.6.6", &g), 0);
	assert_string_equal(g.country, "");
	assert_int_equal(g.asn, 0);
	assert_string_equal(g.as_org, "EXAMPLE-AS");
	assert_false(g.has_location);
}

static void test_negative_cache(void **state)
{
	struct t *t = *state;
	struct geo_info g;

	fake_listen(&t->fake, 0);
	start_client(t);
	assert_int_equal(lookup(t, "5.5.5.5", &g), -EAGAIN);
	run_until(t, &t->results, 1, 2000);
	assert_int_equal(t->results, 1);
	assert_int_equal(t->negatives, 1);
	assert_int_equal(t->last.source, GEO_SRC_NONE);
	assert_string_equal(t->last.country, "");
	assert_int_equal(lookup(t, "5.5.5.5", &g), -ENOENT);
	run_for(t, 60);
	assert_int_equal(t->fake.requests, 1);
	assert_int_equal(stats(t).cache_hits, 1);
}

static void test_in_flight_not_queued_again(void **state)
{
	struct t *t = *state;

	fake_listen(&t->fake, 0);
	t->fake.hold_ms = 300;
	start_client(t);
	assert_int_equal(lookup(t, "8.8.4.4", NULL), -EAGAIN);
	run_until(t, &t->fake.requests, 1, 2000);
	assert_int_equal(t->results, 0);
	assert_int_equal(lookup(t, "8.8.4.4", NULL), -EAGAIN); /* in flight */
	run_until(t, &t->results, 1, 2000);
	run_for(t, 60);
	assert_int_equal(t->fake.requests, 1);
	assert_int_equal(stats(t).queued, 1);
}

/* Answers matched by position when the server leaves "query" out. */
static void test_answers_without_query(void **state)
{
	struct t *t = *state;
	struct geo_info g;

	fake_listen(&t->fake, 0);
	t->fake.drop_query = true;
	start_client(t);
	assert_int_equal(lookup(t, "8.8.8.8", NULL), -EAGAIN);
	assert_int_equal(lookup(t, "5.5.5.5", NULL), -EAGAIN);
	assert_int_equal(lookup(t, "1.1.1.1", NULL), -EAGAIN);
	run_until(t, &t->results, 3, 2000);
	assert_int_equal(t->fake.requests, 1);
	assert_int_equal(t->negatives, 1);
	assert_int_equal(lookup(t, "8.8.8.8", &g), 0);
	assert_int_equal(lookup(t, "1.1.1.1", &g), 0);
	assert_int_equal(lookup(t, "5.5.5.5", &g), -ENOENT);
}

/* ---- what the answer may say ------------------------------------------------------------- */

/* Strictly well-formed UTF-8, checked by decoding each code point. */
static bool valid_utf8(const char *s)
{
	static const uint32_t min_cp[4] = { 0, 0x80, 0x800, 0x10000 };
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned more = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
			      : (*p & 0xf8) == 0xf0 ? 3 : 4;
		uint32_t cp = more == 0 ? *p : *p & (0x3fu >> more);

		if (more == 4)
			return false;
		p++;
		for (unsigned i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3fu);
		}
		if (cp < min_cp[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/*
 * What webd makes of a geo_info (api.c puts these fields in /api/hosts
 * with cJSON): it must be valid UTF-8, parse again, and give back the same
 * strings.
 */
static void assert_json_round_trip(const struct geo_info *g)
{
	cJSON *o = cJSON_CreateObject(), *back;
	char *text;

	cJSON_AddStringToObject(o, "country", g->country);
	cJSON_AddStringToObject(o, "as_org", g->as_org);
	cJSON_AddStringToObject(o, "city", g->city);
	text = cJSON_PrintUnformatted(o);
	assert_non_null(text);
	if (!valid_utf8(text))
		fail_msg("not UTF-8: %s", text);
	back = cJSON_Parse(text);
	assert_non_null(back);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(back, "country")), g->country);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(back, "as_org")), g->as_org);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(back, "city")), g->city);
	cJSON_Delete(back);
	cJSON_free(text);
	cJSON_Delete(o);
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
	size_t ulen = strlen(unit), tlen = strlen(tail);
	char *s = malloc(ulen * times + tlen + 1);

	assert_non_null(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * ulen, unit, ulen);
	memcpy(s + ulen * times, tail, tlen + 1);
	return s;
}

/* Asks for every custom address at once; each must come back placed. */
static void ask_custom(struct t *t, const struct fake_custom *cases, size_t n)
{
	t->fake.custom = cases;
	t->fake.n_custom = n;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(lookup(t, cases[i].query, NULL), -EAGAIN);
	run_until(t, &t->results, (int)n, 3000);
	assert_int_equal(t->results, (int)n);
	assert_int_equal(t->negatives, 0);
}

/*
 * city holds 63 bytes and as_org 95: a name longer than that is cut, on a
 * character boundary (2-, 3- and 4-byte characters straddling the limit at
 * each offset), and ill-formed bytes become U+FFFD, one per maximal
 * ill-formed subpart.
 */
static void test_strings_cut_on_characters_and_valid(void **state)
{
	struct t *t = *state;
	char *a62 = repeat("a", 62, "\u00e9"), *a61 = repeat("a", 61, "\u20ac"),
	     *a60 = repeat("a", 60, "\u20ac"), *a60b = repeat("a", 60, "\xf0\x9d\x84\x9e"),
	     *a59 = repeat("a", 59, "\xf0\x9d\x84\x9e"), *a62s = repeat("a", 62, "\xe2\x82x"),
	     *u50 = repeat("\u00fc", 50, ""), *b94 = repeat("b", 94, "\u00e9");
	char *ex62 = repeat("a", 62, ""), *ex61 = repeat("a", 61, ""), *ex60 = repeat("a", 60, ""),
	     *ex_u47 = repeat("\u00fc", 47, ""), *ex_b94 = repeat("b", 94, ""),
	     *ex62s = repeat("a", 62, "");
	const struct {
		struct fake_custom in;
		const char *city, *as_org;
	} cases[] = {
		/* cut: 2-, 3-, 4-byte characters at the end, straddling or fitting */
		{ { "8.8.1.1", "US", a62, "AS1 \u00d6sterreich", NULL }, ex62, "\u00d6sterreich" },
		{ { "8.8.1.2", "US", a61, "AS1 X", NULL }, ex61, "X" },
		{ { "8.8.1.3", "US", a60, "AS1 X", NULL }, a60, "X" },
		{ { "8.8.1.4", "US", a60b, "AS1 X", NULL }, ex60, "X" },
		{ { "8.8.1.5", "US", a59, "AS1 X", NULL }, a59, "X" },
		{ { "8.8.1.6", "US", "S\u00e3o Paulo", "AS2 ", u50 }, "S\u00e3o Paulo", ex_u47 },
		{ { "8.8.1.7", "US", "x", "", b94 }, "x", ex_b94 },
		/* a sequence cut short where the name would fit anyway */
		{ { "8.8.1.8", "US", a62s, "AS1 X", NULL }, ex62s, "X" },
		/* ill-formed bytes */
		{ { "8.8.2.1", "US", "Z\xffrich", "AS1 \xfe\xfe", NULL }, "Z\uFFFDrich", "\uFFFD\uFFFD" },
		{ { "8.8.2.2", "US", "a\xc0\xaf" "b", "AS1 \x80", NULL }, "a\uFFFD\uFFFDb", "\uFFFD" },
		{ { "8.8.2.3", "US", "\xed\xa0\x80x", "AS1 \xe2\x82", NULL },
		  "\uFFFD\uFFFD\uFFFDx", "\uFFFD" },
		{ { "8.8.2.4", "US", "\xf4\x90\x80\x80!", "AS1 \xe0\x80\x80", NULL },
		  "\uFFFD\uFFFD\uFFFD\uFFFD!", "\uFFFD\uFFFD\uFFFD" },
		{ { "8.8.2.5", "US", "tab\there", "AS1 C1\xc2\x85", NULL }, "tab\uFFFDhere", "C1\uFFFD" },
		{ { "8.8.2.6", "US", "\xf5\x80\x80\x80", "AS1 ok\xf0\x9f\x98\x80", NULL },
		  "\uFFFD\uFFFD\uFFFD\uFFFD", "ok\xf0\x9f\x98\x80" },
	};
	struct fake_custom in[sizeof(cases) / sizeof(cases[0])];
	size_t n = sizeof(cases) / sizeof(cases[0]);
	struct geo_info g;

	/* The checker itself tells ill-formed from well-formed. */
	assert_false(valid_utf8("a\xc3"));
	assert_false(valid_utf8("\xc0\xaf"));
	assert_false(valid_utf8("\xed\xa0\x80"));
	assert_false(valid_utf8("\xf4\x90\x80\x80"));
	assert_false(valid_utf8("\x80"));
	assert_true(valid_utf8("\xf0\x9f\x98\x80\u00e9\u20ac"));
	for (size_t i = 0; i < n; i++)
		in[i] = cases[i].in;
	fake_listen(&t->fake, 0);
	start_client(t);
	ask_custom(t, in, n);
	for (size_t i = 0; i < n; i++) {
		memset(&g, 0, sizeof(g));
		assert_int_equal(lookup(t, in[i].query, &g), 0);
		if (strcmp(g.city, cases[i].city) != 0 || strcmp(g.as_org, cases[i].as_org) != 0)
			fail_msg("%s: city '%s' as_org '%s'", in[i].query, g.city, g.as_org);
		assert_json_round_trip(&g);
	}
	free(a62), free(a61), free(a60), free(a60b), free(a59), free(a62s), free(u50), free(b94);
	free(ex62), free(ex61), free(ex60), free(ex_u47), free(ex_b94), free(ex62s);
}

/* Only two ASCII letters are a country code; they are uppercased. */
static void test_country_code_two_ascii_letters(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "US", "US" }, { "us", "US" }, { "dE", "DE" }, { "", "" }, { "U", "" },
		{ "USA", "" },  { "U\u00e9", "" }, { "\u00e9", "" }, { "<s", "" }, { "1A", "" },
		{ "U ", "" },   { "@Z", "" },   { "[Z", "" },   { "`a", "" }, { "{a", "" },
		{ "\xff\xff", "" }, { "U\n", "" },
	};
	struct t *t = *state;
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct fake_custom in[N];
	char queries[N][16];
	struct geo_info g;

	for (size_t i = 0; i < N; i++) {
		snprintf(queries[i], sizeof(queries[i]), "8.8.3.%zu", i + 1);
		in[i] = (struct fake_custom){ queries[i], cases[i].in, "City", "AS3 Org", NULL };
	}
	fake_listen(&t->fake, 0);
	start_client(t);
	ask_custom(t, in, N);
	for (size_t i = 0; i < N; i++) {
		memset(&g, 0, sizeof(g));
		assert_int_equal(lookup(t, queries[i], &g), 0);
		if (strcmp(g.country, cases[i].want) != 0)
			fail_msg("countryCode '%s' gave '%s', want '%s'", cases[i].in, g.country,
				 cases[i].want);
		assert_string_equal(g.city, "City"); /* the rest of the answer is kept */
		assert_int_equal(g.asn, 3);
		assert_json_round_trip(&g);
	}
}

/* ---- batching and limits ------------------------------------------------------------------- */

static void test_batching_100_then_50(void **state)
{
	struct t *t = *state;
	uint64_t t0;

	fake_listen(&t->fake, 0);
	t->cfg.batch_delay_ms = 500;
	start_client(t);
	t0 = now_ms();
	for (unsigned i = 1; i <= 150; i++) {
		struct wl_addr a = addr_n(i);
		struct geo_info g;

		assert_int_equal(ipapi_lookup(t->c, &a, &g), -EAGAIN);
	}
	run_until(t, &t->results, 150, 3000);
	assert_int_equal(t->results, 150);
	assert_int_equal(t->fake.requests, 2);
	assert_int_equal(t->fake.batch[0], 100);
	assert_int_equal(t->fake.batch[1], 50);
	/* A full batch goes at once; the rest waits for the batch delay. */
	assert_true(t->fake.at[0] - t0 < 400);
	assert_true(t->fake.at[1] - t0 >= 450);
	assert_int_equal(stats(t).queued, 150);
	assert_int_equal(stats(t).requests, 2);
}

static void test_batch_waits_for_delay(void **state)
{
	struct t *t = *state;
	uint64_t t0;

	fake_listen(&t->fake, 0);
	t->cfg.batch_delay_ms = 300;
	start_client(t);
	t0 = now_ms();
	assert_int_equal(lookup(t, "8.8.8.8", NULL), -EAGAIN);
	run_for(t, 150);
	assert_int_equal(t->fake.requests, 0);
	assert_int_equal(lookup(t, "9.9.9.9", NULL), -EAGAIN);
	run_until(t, &t->results, 2, 2000);
	assert_int_equal(t->fake.requests, 1);
	assert_int_equal(t->fake.batch[0], 2);
	assert_true(t->fake.at[0] - t0 >= 280);
}

static void test_local_rate_limit(void **state)
{
	struct t *t = *state;

	fake_listen(&t->fake, 0);
	t->cfg.requests_per_min = 2;
	t->cfg.batch_delay_ms = 10;
	start_client(t);
	for (unsigned i = 1; i <= 350; i++) {
		struct wl_addr a = addr_n(i);
		struct geo_info g;

		assert_int_equal(ipapi_lookup(t->c, &a, &g), -EAGAIN);
	}
	run_for(t, 1500);
	assert_int_equal(t->fake.requests, 2);
	assert_int_equal(t->results, 200);
	assert_int_equal(stats(t).requests, 2);
	assert_false(stats(t).backing_off);
}

static void test_x_rl_zero_pauses(void **state)
{
	struct t *t = *state;

	fake_listen(&t->fake, 0);
	t->fake.rl = 0;
	t->fake.ttl = 1;
	t->cfg.batch_delay_ms = 10;
	start_client(t);
	for (unsigned i = 1; i <= 150; i++) {
		struct wl_addr a = addr_n(i);
		struct geo_info g;

		ipapi_lookup(t->c, &a, &g);
	}
	run_until(t, &t->results, 150, 4000);
	assert_int_equal(t->results, 150);
	assert_int_equal(t->fake.requests, 2);
	assert_true(t->fake.at[1] - t->fake.at[0] >= 950);
	assert_int_equal(stats(t).rate_limited, 1);
	assert_int_equal(stats(t).failed, 0);
}

static void test_http_429(void **state)
{
	struct t *t = *state;
	struct geo_info g;

	fake_listen(&t->fake, 0);
	t->fake.n_429 = 1;
	t->fake.rl = 0;
	t->fake.ttl = 1;
	start_client(t);
	assert_int_equal(lookup(t, "8.8.8.8", &g), -EAGAIN);
	run_until(t, &t->fake.requests, 1, 2000);
	run_for(t, 50);
	assert_int_equal(t->results, 0);
	assert_int_equal(lookup(t, "8.8.8.8", &g), -EAGAIN); /* still queued */
	assert_int_equal(stats(t).queued, 1);
	run_until(t, &t->results, 1, 3000);
	assert_int_equal(t->results, 1);
	assert_int_equal(t->fake.requests, 2);
	assert_string_equal(t->fake.first_query[1], "8.8.8.8");
	assert_true(t->fake.at[1] - t->fake.at[0] >= 950);
	assert_int_equal(stats(t).rate_limited, 1);
	assert_int_equal(stats(t).failed, 0);
	assert_false(stats(t).backing_off);
	assert_int_equal(log_count(t, "HTTP 429"), 1);
	assert_int_equal(log_count(t, "unreachable"), 0);
}

/* ---- failures ---------------------------------------------------------------------------- */

static void test_http_500_backs_off_and_recovers(void **state)
{
	struct t *t = *state;

	fake_listen(&t->fake, 0);
	t->fake.n_500 = 1;
	t->cfg.backoff_base_ms = 300;
	start_client(t);
	assert_int_equal(lookup(t, "8.8.8.8", NULL), -EAGAIN);
	run_until(t, &t->fake.requests, 1, 2000);
	run_for(t, 50);
	assert_true(stats(t).backing_off);
	assert_int_equal(stats(t).failed, 1);
	assert_int_equal(log_count(t, "ip-api unreachable (HTTP 500), backing off; will retry quietly"), 1);
	run_until(t, &t->results, 1, 2000);
	assert_int_equal(t->results, 1);
	assert_true(t->fake.at[1] - t->fake.at[0] >= 280);
	assert_false(stats(t).backing_off);
	assert_int_equal(log_count(t, "reachable again"), 1);
}

static void test_outage_backoff_then_recovery(void **state)
{
	struct t *t = *state;
	struct ipapi_stats s;

	fake_down(&t->fake);
	t->cfg.batch_delay_ms = 10;
	start_client(t);
	assert_int_equal(lookup(t, "8.8.8.8", NULL), -EAGAIN);
	/* Attempts at ~10, 110, 310, 710, 1110, 1510 ms: 100 doubling, capped at 400. */
	for (int i = 0; i < 16; i++) {
		run_for(t, 100);
		lookup(t, "1.1.1.1", NULL); /* more traffic must not add warnings */
	}
	s = stats(t);
	assert_true(s.backing_off);
	if (s.failed < 3 || s.failed > 7)
		fail_msg("%llu failed requests in 1.6 s, expected 3..7", (unsigned long long)s.failed);
	assert_int_equal(s.requests, s.failed);
	assert_int_equal(t->results, 0);
	assert_int_equal(log_count(t, "backing off"), 1);
	assert_int_equal(log_count(t, "ip-api unreachable ("), 1);

	fake_listen(&t->fake, t->fake.port); /* back up, same port */
	run_until(t, &t->results, 2, 2000);
	assert_int_equal(t->results, 2);
	assert_false(stats(t).backing_off);
	assert_int_equal(log_count(t, "reachable again"), 1);
	assert_int_equal(log_count(t, "backing off"), 1);
}

static void test_timeout(void **state)
{
	struct t *t = *state;

	fake_listen_only(&t->fake);
	t->cfg.timeout_ms = 200;
	t->cfg.backoff_base_ms = 5000;
	start_client(t);
	assert_int_equal(lookup(t, "8.8.8.8", NULL), -EAGAIN);
	run_for(t, 600);
	assert_int_equal(stats(t).requests, 1);
	assert_int_equal(stats(t).failed, 1);
	assert_true(stats(t).backing_off);
	assert_int_equal(log_count(t, "ip-api unreachable (timed out)"), 1);
	assert_int_equal(lookup(t, "8.8.8.8", NULL), -EAGAIN); /* queued again, not lost */
	assert_int_equal(stats(t).queued, 1);
}

/*
 * A server that sends a byte every 150 ms never trips the per-read
 * time-out of 600 ms; the total deadline of 600 ms must end the request,
 * count it as a failure, back off, and let the next request through.
 */
static void test_total_deadline_dribbling_server(void **state)
{
	struct t *t = *state;
	uint64_t sent, took;

	fake_listen(&t->fake, 0);
	t->fake.dribble_requests = 1;
	t->fake.dribble_ms = 150;
	t->cfg.timeout_ms = 600;
	t->cfg.backoff_base_ms = 100;
	start_client(t);
	assert_int_equal(lookup(t, "8.8.8.8", NULL), -EAGAIN);
	run_until(t, &t->fake.requests, 1, 2000);
	assert_int_equal(t->fake.requests, 1);
	sent = t->fake.at[0];
	while (stats(t).failed == 0 && now_ms() < sent + 3000)
		run_for(t, 5);
	took = now_ms() - sent;
	if (stats(t).failed != 1)
		fail_msg("no failure %llu ms after the request (%d bytes dribbled)",
			 (unsigned long long)took, t->fake.dribbled);
	if (took < 500 || took > 1000)
		fail_msg("request abandoned after %llu ms, deadline 600", (unsigned long long)took);
	assert_true(t->fake.dribbled >= 3); /* the server was sending all along */
	assert_true(stats(t).backing_off);
	assert_int_equal(log_count(t, "ip-api unreachable (timed out)"), 1);

	/* After the back-off the next request goes, and this one is answered. */
	run_until(t, &t->results, 1, 2000);
	assert_int_equal(t->results, 1);
	assert_int_equal(t->fake.requests, 2);
	assert_string_equal(t->fake.first_query[1], "8.8.8.8");
	assert_string_equal(t->last.country, "US");
	assert_false(stats(t).backing_off);
	assert_int_equal(stats(t).failed, 1);
	/* The dribbling connection was closed, not left to linger. */
	run_until(t, &t->fake.dribble_gone, 1, 2000);
	assert_int_equal(t->fake.dribble_gone, 1);
}

/* ---- bounds and expiry ----------------------------------------------------------------- */

static void test_queue_bound(void **state)
{
	struct t *t = *state;

	fake_down(&t->fake);
	t->cfg.queue_max = 10;
	start_client(t);
	for (unsigned i = 1; i <= 20; i++) {
		struct wl_addr a = addr_n(i);
		struct geo_info g;

		assert_int_equal(ipapi_lookup(t->c, &a, &g), -EAGAIN);
	}
	assert_int_equal(stats(t).queued, 10);
	assert_int_equal(stats(t).dropped, 10);
}

static void test_lru_eviction_and_ttl(void **state)
{
	struct t *t = *state;
	struct geo_info g;

	fake_listen(&t->fake, 0);
	t->cfg.cache_entries = 2;
	t->cfg.positive_ttl_s = 1;
	start_client(t);
	assert_int_equal(lookup(t, "8.8.8.8", &g), -EAGAIN);
	assert_int_equal(lookup(t, "8.8.4.4", &g), -EAGAIN);
	assert_int_equal(lookup(t, "9.9.9.9", &g), -EAGAIN);
	run_until(t, &t->results, 3, 2000);
	assert_int_equal(t->results, 3);
	/* Answered in order: the first was evicted. */
	assert_int_equal(lookup(t, "8.8.4.4", &g), 0);
	assert_int_equal(lookup(t, "9.9.9.9", &g), 0);
	assert_int_equal(lookup(t, "8.8.8.8", &g), -EAGAIN);
	run_until(t, &t->results, 4, 2000);
	/* Now 8.8.8.8 pushed out 8.8.4.4, the least recently used. */
	assert_int_equal(lookup(t, "8.8.8.8", &g), 0);
	assert_int_equal(lookup(t, "9.9.9.9", &g), 0);
	assert_int_equal(lookup(t, "8.8.4.4", &g), -EAGAIN);
	run_until(t, &t->results, 5, 2000);
	/* And after the TTL, nothing is fresh. */
	run_for(t, 1100);
	assert_int_equal(lookup(t, "8.8.4.4", &g), -EAGAIN);
	assert_int_equal(t->fake.requests, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_name_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_public_never_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_then_cache_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_and_sparse_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_flight_not_queued_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers_without_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings_cut_on_characters_and_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_country_code_two_ascii_letters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batching_100_then_50, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_waits_for_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_x_rl_zero_pauses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_429, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_500_backs_off_and_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_backoff_then_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_total_deadline_dribbling_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_eviction_and_ttl, setup, teardown),
	};

	/* The fake writes to connections the client may have dropped. */
	signal(SIGPIPE, SIG_IGN);
	wl_log_setup("test-ipapi", WL_LOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
