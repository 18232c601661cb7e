/* SPDX-License-Identifier: BSD-2-Clause */
/* webd/live/flowquery.c and endpoints.c: filters, sorts, pages and endpoints over the flow table. */
#include "live/endpoints.h"
#include "live/flowquery.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void add(struct live_flows *t, uint64_t id, uint8_t a, uint8_t b, uint16_t bport, uint8_t proto, uint64_t bytes,
		int64_t first_s, int64_t last_s, const char *name, uint32_t rtt_us)
{
	struct wl_flow_record r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.end = WL_FLOW_ACTIVE;
	r.l3 = WL_L3_IPV4;
	r.ipproto = proto;
	r.flags = WL_FLOW_PORTS | (proto == 6 ? WL_FLOW_TCP : 0);
	r.addr[0] = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, a } };
	r.addr[1] = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, b } };
	r.port[0] = 40000;
	r.port[1] = bport;
	r.first_us = first_s * 1000000;
	r.last_us = last_s * 1000000;
	r.packets[0] = r.packets[1] = bytes / 100;
	r.bytes[0] = bytes / 2;
	r.bytes[1] = bytes - bytes / 2;
	r.tcp.rtt_us = rtt_us;
	r.app = bport == 53 ? WL_P_DNS : bport == 443 ? WL_P_TLS : 0;
	snprintf(r.name, sizeof(r.name), "%s", name);
	flows_report(t, 0, &r, 0);
}

static void country(void *ctx, const struct wl_addr *a, char cc[3])
{
	strcpy(cc, a->b[3] == 9 ? "NZ" : "--");
}

static struct live_flows table;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(flows_init(&table, 64), 0);
	add(&table, 1, 1, 2, 443, 6, 5000, 10, 20, "www.example.org", 12000);
	add(&table, 2, 1, 3, 53, 17, 300, 11, 11, "Example.ORG", UINT32_MAX);
	add(&table, 3, 2, 9, 443, 6, 90000, 5, 100, "other.net", 3000);
	add(&table, 4, 3, 1, 22, 6, 800, 50, 60, "", UINT32_MAX);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	flows_free(&table);
	return 0;
}

static long run(const char *qs, uint64_t ids[8], size_t *total)
{
	struct flow_query q;
	const struct live_flow *out[8];
	struct flow_join join = { country, NULL };
	char err[200];
	long n;

	assert_int_equal(flow_query_parse(&q, qs, NULL, NULL, err, sizeof(err)), 0);
	if (q.limit > 8)
		q.limit = 8;
	n = flow_query_run(&table, &q, &join, out, total);
	for (long i = 0; i < n; i++)
		ids[i] = out[i]->id;
	return n;
}

static void test_sorts(void **state)
{
	uint64_t ids[8];
	size_t total;

	(void)state;
	assert_int_equal(run("", ids, &total), 4);
	assert_int_equal(total, 4);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[3], 2);
	assert_int_equal(run("sort=last&order=asc", ids, &total), 4);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[3], 3);
	/* RTT: the flows without one go last, whichever the order. */
	assert_int_equal(run("sort=rtt", ids, &total), 4);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 3);
	assert_int_equal(run("sort=rtt&order=asc", ids, &total), 4);
	assert_int_equal(ids[0], 3);
	assert_int_equal(ids[1], 1);
	assert_int_equal(run("sort=duration&limit=1&offset=1", ids, &total), 1);
	assert_int_equal(ids[0], 1); /* 95 s, then 10 s */
	assert_int_equal(total, 4);
}

static void test_filters(void **state)
{
	uint64_t ids[8];
	size_t total;

	(void)state;
	assert_int_equal(run("addr=10.0.0.3", ids, &total), 2);
	assert_int_equal(run("port=443&proto=tcp", ids, &total), 2);
	assert_int_equal(run("proto=udp", ids, &total), 1);
	assert_int_equal(ids[0], 2);
	assert_int_equal(run("app=dns", ids, &total), 1);
	assert_int_equal(run("name=example.org", ids, &total), 2); /* case-insensitive substring */
	assert_int_equal(run("name=EXAMPLE", ids, &total), 2);
	assert_int_equal(run("country=nz", ids, &total), 1);
	assert_int_equal(ids[0], 3);
	assert_int_equal(run("min_bytes=1000", ids, &total), 2);
	assert_int_equal(run("from=30&to=55", ids, &total), 2); /* 3 (5-100) and 4 (50-60) */
	assert_int_equal(run("state=ended", ids, &total), 0);
	assert_int_equal(run("state=active", ids, &total), 4);
	assert_int_equal(run("addr=10.0.0.1&port=22", ids, &total), 1);
	assert_int_equal(ids[0], 4);
}

static void test_bad_parameters(void **state)
{
	static const char *const bad[] = {
		"addr=10.0.0", "port=70000", "port=-1", "proto=tcpx", "app=nosuch", "country=NZL", "country=1a",
		"state=open", "sort=size", "order=up", "limit=0", "limit=10001", "offset=x", "from=yesterday",
		"name=%00", "name=%zz", "min_bytes=-5",
	};
	struct flow_query q;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(flow_query_parse(&q, bad[i], NULL, NULL, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
	/* Unknown keys (the token) are not the query's. */
	/* /api/endpoints sorts by its own figures: sort=peers is its, not a bad flow sort. */
	assert_int_equal(flow_query_parse(&q, "sort=peers", NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(flow_query_parse_filters(&q, "sort=peers&order=asc&port=53", NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(q.port, 53);
	assert_int_equal(q.sort, FLOW_SORT_BYTES);
	assert_false(q.ascending);
	assert_int_equal(flow_query_parse_filters(&q, "port=x", NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(flow_query_parse(&q, "token=abc&sort=rtt", NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(q.sort, FLOW_SORT_RTT);
}

static void test_endpoints(void **state)
{
	struct flow_query q;
	struct endpoint *eps = NULL;
	size_t total;
	long n;
	char err[100];

	(void)state;
	assert_int_equal(flow_query_parse(&q, "", NULL, NULL, err, sizeof(err)), 0);
	n = endpoints_collect(&table, &q, NULL, ENDPOINT_SORT_FLOWS, 10, &eps, &total);
	assert_int_equal(n, 4);
	assert_int_equal(total, 4);
	/* 10.0.0.1 is in flows 1, 2 and 4, with peers .2 and .3. */
	assert_int_equal(eps[0].addr.b[3], 1);
	assert_int_equal(eps[0].flows, 3);
	assert_int_equal(eps[0].peers, 2);
	assert_int_equal(eps[0].bytes_out, 2500 + 150 + 400);
	assert_int_equal(eps[0].bytes_in, 2500 + 150 + 400);
	assert_int_equal(eps[0].first_us, 10000000);
	assert_int_equal(eps[0].last_us, 60000000);
	free(eps);
	n = endpoints_collect(&table, &q, NULL, ENDPOINT_SORT_BYTES, 1, &eps, &total);
	assert_int_equal(n, 1);
	assert_int_equal(eps[0].addr.b[3], 2); /* in flows 1 and 3: 95,000 bytes */
	free(eps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorts),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_bad_parameters),
		cmocka_unit_test(test_endpoints),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
