/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for common/log.c: every logged message is one safe line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void assert_escaped(const char *in, const char *want)
{
	char out[256];
	size_t n = wl_log_escape(out, sizeof(out), in);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_plain_text_unchanged(void **state)
{
	assert_escaped("capture filter is now 'tcp port 443'", "capture filter is now 'tcp port 443'");
	assert_escaped("", "");
}

static void test_controls_escaped(void **state)
{
	assert_escaped("x\n<0>forged", "x\\x0a<0>forged");
	assert_escaped("a\rb\tc\x1b[31m", "a\\x0db\\x09c\\x1b[31m");
	assert_escaped("del\x7f", "del\\x7f");
}

/* Without this, a literal "\x0a" in a filter would read like an escaped newline. */
static void test_backslash_doubled(void **state)
{
	assert_escaped("\\x0a", "\\\\x0a");
	assert_escaped("a\\", "a\\\\");
}

static void test_utf8(void **state)
{
	/* Well-formed printable UTF-8 stays: 2-, 3- and 4-byte sequences. */
	assert_escaped("Z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x98\x80", "Z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x98\x80");
	/* A lone continuation byte, a cut sequence, an overlong '/', a surrogate. */
	assert_escaped("a\x80z", "a\\x80z");
	assert_escaped("\xc3", "\\xc3");
	assert_escaped("\xc3(", "\\xc3(");
	assert_escaped("\xc0\xaf", "\\xc0\\xaf");
	assert_escaped("\xed\xa0\x80", "\\xed\\xa0\\x80");
	assert_escaped("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
	/* C1 NEL (U+0085) and LINE SEPARATOR (U+2028): line breaks to some viewers. */
	assert_escaped("a\xc2\x85" "b", "a\\xc2\\x85b");
	assert_escaped("a\xe2\x80\xa8" "b", "a\\xe2\\x80\\xa8b");
}

/* A small buffer cuts before an escape or a character that does not fit whole. */
static void test_cut_whole(void **state)
{
	char out[6];

	assert_int_equal(wl_log_escape(out, sizeof(out), "abcd\nef"), 4);
	assert_string_equal(out, "abcd");
	assert_int_equal(wl_log_escape(out, sizeof(out), "abc\xe2\x82\xac"), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(wl_log_escape(out, 1, "abc"), 0);
	assert_string_equal(out, "");
}

/* Every byte from 1 to 255 in order (no well-formed UTF-8 among them): all but 0x20..0x7e escaped. */
static void test_no_control_survives(void **state)
{
	char in[256], out[WL_LOG_LINE_MAX];

	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	wl_log_escape(out, sizeof(out), in);
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		assert_true(*p >= 0x20 && *p != 0x7f && *p < 0x80);
}

/* Reads what fn logged on stderr. */
static void capture_stderr(void (*fn)(void), char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

static void log_forged_filter(void)
{
	wl_info("control: set_filter refused: bad filter '%s'", "x\n<0>forged\r\n<3>again");
}

/* With journald's "<N>" prefixes on, the forged text stays inside one line. */
static void test_wl_log_one_line(void **state)
{
	char got[1024];

	setenv("JOURNAL_STREAM", "8:1234", 1);
	wl_log_setup("wlite-test", WL_LOG_INFO);
	capture_stderr(log_forged_filter, got, sizeof(got));
	assert_string_equal(got, "<6>wlite-test: control: set_filter refused: bad filter "
				 "'x\\x0a<0>forged\\x0d\\x0a<3>again'\n");
	unsetenv("JOURNAL_STREAM");
	wl_log_setup("wlite-test", WL_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_backslash_doubled),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_cut_whole),
		cmocka_unit_test(test_no_control_survives),
		cmocka_unit_test(test_wl_log_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
