/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webd/http/promtext.c: Prometheus's text format 0.0.4, above all label
 * values, which come from the configuration (sensor names) and must leave
 * the exposition parseable whatever they hold.
 */
#include "http/promtext.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static char out[512];

static const char *label(const char *value)
{
	struct text t = { 0 };

	promtext_label_value(&t, value);
	assert_false(t.failed);
	snprintf(out, sizeof(out), "%s", t.buf ? t.buf : "");
	text_free(&t);
	return out;
}

static void test_label_escapes(void **state)
{
	(void)state;
	assert_string_equal(label("lab"), "lab");
	assert_string_equal(label(""), "");
	assert_string_equal(label("a\"b"), "a\\\"b");
	assert_string_equal(label("a\\b"), "a\\\\b");
	assert_string_equal(label("a\nb"), "a\\nb");
	assert_string_equal(label("\\\"\n"), "\\\\\\\"\\n");
	/* Other control characters are allowed as they are. */
	assert_string_equal(label("a\tb\rc"), "a\tb\rc");
}

static void test_label_utf8(void **state)
{
	(void)state;
	/* Well-formed UTF-8 stays: 2, 3 and 4 bytes. */
	assert_string_equal(label("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9f"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9f");
	assert_string_equal(label("\xef\xbf\xbf\xf4\x8f\xbf\xbf"), "\xef\xbf\xbf\xf4\x8f\xbf\xbf");
	/* A stray byte, a lone continuation byte. */
	assert_string_equal(label("a\xff" "b"), "a\xef\xbf\xbd" "b");
	assert_string_equal(label("\x80"), "\xef\xbf\xbd");
	/* Overlong forms, surrogates, past U+10FFFF. */
	assert_string_equal(label("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(label("\xe0\x80\xaf"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(label("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(label("\xf4\x90\x80\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Cut short by the end of the string: nothing past the NUL is read. */
	assert_string_equal(label("x\xe2\x82"), "x\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(label("\xf0\x9f"), "\xef\xbf\xbd\xef\xbf\xbd");
	/* An escape right after a bad byte. */
	assert_string_equal(label("\xc3\""), "\xef\xbf\xbd\\\"");
}

static void test_family_and_samples(void **state)
{
	struct text t = { 0 };

	(void)state;
	promtext_family(&t, "wlite_packets_total", "counter", "Packets, \\ and\nmore");
	promtext_u64(&t, "wlite_packets_total", "sensor", "a\"b", 18446744073709551615u);
	promtext_u64(&t, "wlite_packets_total", "sensor", "c", 0);
	promtext_family(&t, "wlite_feed_clients", "gauge", "Clients");
	promtext_u64(&t, "wlite_feed_clients", NULL, NULL, 3);
	promtext_family(&t, "process_cpu_seconds_total", "counter", "CPU");
	promtext_double(&t, "process_cpu_seconds_total", NULL, NULL, 0.12);
	promtext_double(&t, "process_cpu_seconds_total", NULL, NULL, 1796436343.92);
	promtext_double(&t, "process_cpu_seconds_total", NULL, NULL, 0.1 + 0.2);
	assert_false(t.failed);
	assert_string_equal(t.buf, "# HELP wlite_packets_total Packets, \\\\ and\\nmore\n"
				   "# TYPE wlite_packets_total counter\n"
				   "wlite_packets_total{sensor=\"a\\\"b\"} 18446744073709551615\n"
				   "wlite_packets_total{sensor=\"c\"} 0\n"
				   "# HELP wlite_feed_clients Clients\n"
				   "# TYPE wlite_feed_clients gauge\n"
				   "wlite_feed_clients 3\n"
				   "# HELP process_cpu_seconds_total CPU\n"
				   "# TYPE process_cpu_seconds_total counter\n"
				   "process_cpu_seconds_total 0.12\n"
				   "process_cpu_seconds_total 1796436343.92\n"
				   "process_cpu_seconds_total 0.30000000000000004\n");
	text_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escapes),
		cmocka_unit_test(test_label_utf8),
		cmocka_unit_test(test_family_and_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
