/* SPDX-License-Identifier: BSD-2-Clause */
/* webd/live/flows.c: webd's table of flow reports from its sensors. */
#include "live/flows.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static struct wl_flow_record report(uint64_t id, enum wl_flow_end end, uint64_t packets, int64_t last_s)
{
	struct wl_flow_record r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.end = end;
	r.l3 = WL_L3_IPV4;
	r.ipproto = 17;
	r.flags = WL_FLOW_PORTS;
	r.addr[0] = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, 1 } };
	r.addr[1] = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, 2 } };
	r.port[0] = 5000;
	r.port[1] = 53;
	r.first_us = 1000000;
	r.last_us = last_s * 1000000;
	r.packets[0] = packets;
	r.bytes[0] = packets * 100;
	return r;
}

static void test_active_then_ended_in_place(void **state)
{
	struct live_flows t;
	struct wl_flow_record r = report(7, WL_FLOW_ACTIVE, 10, 60);
	const struct live_flow *f;

	(void)state;
	assert_int_equal(flows_init(&t, 16), 0);
	strcpy(r.name, "example.org");
	strcpy(r.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	flows_report(&t, 0, &r, 1);
	r = report(7, WL_FLOW_ACTIVE, 25, 120);
	flows_report(&t, 0, &r, 2);
	r = report(7, WL_FLOW_IDLE, 30, 150);
	f = flows_report(&t, 0, &r, 3);
	assert_int_equal(t.stats.n, 1);
	assert_true(f->ended);
	assert_int_equal(f->packets[0], 30);
	assert_int_equal(f->n_points, 3);
	assert_int_equal(f->points[0].bytes, 1000);
	assert_int_equal(f->points[2].bytes, 3000);
	/* A late active report crossing the end on the wire changes nothing. */
	r = report(7, WL_FLOW_ACTIVE, 28, 140);
	f = flows_report(&t, 0, &r, 4);
	assert_int_equal(f->packets[0], 30);
	assert_true(f->ended);
	{
		size_t len;
		const char *name = flows_name(&t, f, &len);

		assert_int_equal(len, 11);
		assert_memory_equal(name, "example.org", 11);
		/* The client's fingerprint is kept from the first report that had it. */
		name = flows_text(&t, f->ja4, &len);
		assert_int_equal(len, 36);
		assert_memory_equal(name, "t13d1516h2_8daaf6152771_e5627efa2ab1", 36);
		assert_int_equal(f->ja3s, 0);
	}
	/* The same id from another sensor is another flow. */
	flows_report(&t, 1, &r, 5);
	assert_int_equal(t.stats.n, 2);
	assert_non_null(flows_find(&t, 1, 7));
	assert_null(flows_find(&t, 2, 7));
	flows_free(&t);
}

/* A restarted capd numbers its flows in a new run: the old run's active flows end, other sensors' stay. */
static void test_restart_ends_old_run(void **state)
{
	const uint64_t run1 = (uint64_t)5 << 39, run2 = (uint64_t)9 << 39;
	struct live_flows t;
	struct wl_flow_record r;
	const struct live_flow *f;

	(void)state;
	assert_int_equal(flows_init(&t, 16), 0);
	r = report(run1 | 1, WL_FLOW_ACTIVE, 10, 60);
	flows_report(&t, 0, &r, 1);
	r = report(run1 | 2, WL_FLOW_IDLE, 3, 30);
	flows_report(&t, 0, &r, 1);
	r = report(run1 | 1, WL_FLOW_ACTIVE, 10, 60);
	flows_report(&t, 1, &r, 1); /* another sensor, same run by chance */
	assert_int_equal(t.stats.active, 2);
	r = report(run2 | 1, WL_FLOW_ACTIVE, 4, 70);
	flows_report(&t, 0, &r, 2);
	f = flows_find(&t, 0, run1 | 1);
	assert_non_null(f);
	assert_true(f->ended);
	assert_int_equal(f->end, WL_FLOW_EOF);
	assert_int_equal(f->packets[0], 10);
	assert_false(flows_find(&t, 1, run1 | 1)->ended);
	assert_false(flows_find(&t, 0, run2 | 1)->ended);
	assert_int_equal(t.stats.ended_by_restart, 1);
	assert_int_equal(t.stats.active, 2);
	assert_int_equal(t.stats.n, 4);
	flows_free(&t);
}

static void test_eviction_ended_first(void **state)
{
	struct live_flows t;
	struct wl_flow_record r;

	(void)state;
	assert_int_equal(flows_init(&t, 3), 0);
	r = report(1, WL_FLOW_ACTIVE, 1, 10);
	flows_report(&t, 0, &r, 1);
	r = report(2, WL_FLOW_FIN, 1, 10);
	flows_report(&t, 0, &r, 2);
	r = report(3, WL_FLOW_ACTIVE, 1, 10);
	flows_report(&t, 0, &r, 3);
	r = report(4, WL_FLOW_ACTIVE, 1, 10);
	flows_report(&t, 0, &r, 4);
	/* Flow 2 had ended: it went, not flow 1, the oldest active one. */
	assert_null(flows_find(&t, 0, 2));
	assert_non_null(flows_find(&t, 0, 1));
	assert_int_equal(t.stats.evicted_ended, 1);
	r = report(5, WL_FLOW_ACTIVE, 1, 10);
	flows_report(&t, 0, &r, 5);
	/* None ended now: the one heard of longest ago, flow 1. */
	assert_null(flows_find(&t, 0, 1));
	assert_int_equal(t.stats.evicted_active, 1);
	assert_int_equal(t.stats.n, 3);
	flows_clear(&t);
	assert_int_equal(t.stats.n, 0);
	assert_null(flows_find(&t, 0, 5));
	flows_free(&t);
}

static bool count(const struct live_flow *f, void *ctx)
{
	(*(int *)ctx)++;
	return true;
}

static void test_many_and_each(void **state)
{
	struct live_flows t;
	int n = 0;

	(void)state;
	assert_int_equal(flows_init(&t, 1000), 0);
	for (uint64_t id = 1; id <= 5000; id++) {
		struct wl_flow_record r = report(id, id % 3 ? WL_FLOW_ACTIVE : WL_FLOW_EOF, id, 10);

		flows_report(&t, (uint8_t)(id % 4), &r, (int64_t)id);
	}
	flows_each(&t, count, &n);
	assert_int_equal(n, 1000);
	assert_int_equal(t.stats.n, 1000);
	assert_int_equal(t.stats.flows_seen, 5000);
	assert_non_null(flows_find(&t, 5000 % 4, 5000));
	flows_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_then_ended_in_place),
		cmocka_unit_test(test_restart_ends_old_run),
		cmocka_unit_test(test_eviction_ended_first),
		cmocka_unit_test(test_many_and_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
