/* SPDX-License-Identifier: BSD-2-Clause */
/* webd's per-sensor health (webd/live/health.c): up and down, capd's drops, clock skew. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "live/health.h"

#define S 1000000LL
#define T0 (1764900000LL * S) /* an arbitrary "now" of webd's */

static void take_stats(struct sensor_health *h, const char *json, int64_t now_us)
{
	health_stats(h, json, strlen(json), now_us);
}

static void test_never_heard_is_down(void **state)
{
	struct sensor_health h = { 0 };
	cJSON *o = cJSON_CreateObject();
	int64_t skew;

	(void)state;
	assert_false(health_up(&h, T0));
	assert_false(health_clock_skew(&h, T0, &skew));
	health_json(o, &h, T0);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "up")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "stats_age")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "clock_skew_ms")));
	assert_null(cJSON_GetObjectItem(o, "kernel_drops"));
	cJSON_Delete(o);
}

/* Up while stats come once a second; down past HEALTH_UP_SECONDS without; up again at the next. */
static void test_up_down_up(void **state)
{
	struct sensor_health h = { 0 };

	(void)state;
	take_stats(&h, "{\"ts\":1764900000.0,\"pcap\":{\"recv\":5,\"drop\":0,\"ifdrop\":0}}", T0);
	assert_true(health_up(&h, T0));
	assert_true(health_up(&h, T0 + HEALTH_UP_SECONDS * S));
	assert_false(health_up(&h, T0 + HEALTH_UP_SECONDS * S + 1));
	assert_false(health_up(&h, T0 + 60 * S));
	take_stats(&h, "{\"ts\":1764900060.0}", T0 + 60 * S);
	assert_true(health_up(&h, T0 + 60 * S));
	assert_int_equal(h.stats_received, 2);
}

/* Something that is not a JSON object is not a sign of life. */
static void test_garbage_is_not_stats(void **state)
{
	struct sensor_health h = { 0 };

	(void)state;
	take_stats(&h, "not json", T0);
	take_stats(&h, "[1,2]", T0);
	assert_false(health_up(&h, T0));
	assert_int_equal(h.stats_received, 0);
}

static void test_drops_and_evictions(void **state)
{
	struct sensor_health h = { 0 };
	cJSON *o = cJSON_CreateObject();

	(void)state;
	take_stats(&h, "{\"pcap\":{\"recv\":100,\"drop\":7,\"ifdrop\":3},\"flows\":{\"evicted\":42}}", T0);
	health_json(o, &h, T0 + 1500000);
	assert_int_equal(cJSON_GetObjectItem(o, "kernel_drops")->valuedouble, 7);
	assert_int_equal(cJSON_GetObjectItem(o, "interface_drops")->valuedouble, 3);
	assert_int_equal(cJSON_GetObjectItem(o, "flow_evictions")->valuedouble, 42);
	assert_true(cJSON_GetObjectItem(o, "stats_age")->valuedouble == 1.5);
	cJSON_Delete(o);

	/* The latest stats say; a capd that restarted counts from 0 (and keeps no flows: no key). */
	o = cJSON_CreateObject();
	take_stats(&h, "{\"pcap\":{\"recv\":1,\"drop\":0,\"ifdrop\":0}}", T0 + 2 * S);
	health_json(o, &h, T0 + 2 * S);
	assert_int_equal(cJSON_GetObjectItem(o, "kernel_drops")->valuedouble, 0);
	assert_null(cJSON_GetObjectItem(o, "flow_evictions"));
	cJSON_Delete(o);

	/* Negative or absurd values are not counts. */
	take_stats(&h, "{\"pcap\":{\"drop\":-1,\"ifdrop\":0},\"flows\":{\"evicted\":1e300}}", T0 + 3 * S);
	assert_false(h.have_pcap);
	assert_false(h.have_flows);
}

/*
 * The sensor's clock 250 ms ahead of webd's, messages 1 to 900 ms in
 * transit: the estimate is the least delayed (250 - 1 = 249 ms), the latest
 * sample is what it is, and samples older than the window no longer count.
 */
static void test_clock_skew(void **state)
{
	struct sensor_health h = { 0 };
	const int64_t offset = 250000, delays[] = { 900000, 1000, 300000, 45000 };
	int64_t skew, now = T0;
	cJSON *o;

	(void)state;
	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		now = T0 + (int64_t)i * 400000;
		/* sent at capd's now - delay, capd's clock being webd's + offset */
		health_clock_sample(&h, now - delays[i] + offset, now);
	}
	assert_true(health_clock_skew(&h, now, &skew));
	assert_int_equal(skew, 249000);
	assert_int_equal(h.skew_latest_us, offset - delays[3]);
	o = cJSON_CreateObject();
	health_json(o, &h, now);
	assert_true(cJSON_GetObjectItem(o, "clock_skew_ms")->valuedouble == 249.0);
	assert_true(cJSON_GetObjectItem(o, "clock_skew_latest_ms")->valuedouble == 205.0);
	cJSON_Delete(o);

	/* Ten seconds on, the window holds none of them. */
	assert_false(health_clock_skew(&h, now + HEALTH_SKEW_SECONDS * S, &skew));
	/* A clock behind webd's: negative. */
	health_clock_sample(&h, now + 20 * S - 3 * S, now + 20 * S);
	assert_true(health_clock_skew(&h, now + 20 * S, &skew));
	assert_int_equal(skew, -3 * S);
	/* No send time: no sample. */
	health_clock_sample(&h, 0, now + 21 * S);
	assert_int_equal(h.skew_latest_us, -3 * S);
}

/* capd's stats carry its own time ("ts", seconds): a sample each second, even with no traffic. */
static void test_stats_time_is_a_sample(void **state)
{
	struct sensor_health h = { 0 };
	int64_t skew;

	(void)state;
	take_stats(&h, "{\"ts\":1764899999.5}", T0);
	assert_true(health_clock_skew(&h, T0, &skew));
	assert_int_equal(skew, -500000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_heard_is_down),
		cmocka_unit_test(test_up_down_up),
		cmocka_unit_test(test_garbage_is_not_stats),
		cmocka_unit_test(test_drops_and_evictions),
		cmocka_unit_test(test_clock_skew),
		cmocka_unit_test(test_stats_time_is_a_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
