/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/cli.c: flags and file keys from one table. The case here is the
 * one that bit wlite-ipfix's review: a program's own short -c must reach its
 * option, not be taken for --config (which once had 'c' as getopt value).
 */
#include "cli.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct opts {
	char count[16];
	char name[16];
};

static int set_count(void *o, const char *v, char *err, size_t errlen)
{
	return wl_opt_string(((struct opts *)o)->count, sizeof(((struct opts *)o)->count), v, "count", err, errlen);
}

static int set_name(void *o, const char *v, char *err, size_t errlen)
{
	return wl_opt_string(((struct opts *)o)->name, sizeof(((struct opts *)o)->name), v, "name", err, errlen);
}

static const struct wl_option options[] = {
	{ "count", 'c', NULL, "N", true, set_count, "how many" },
	{ "name", 0, NULL, "NAME", true, set_name, "a name" },
};

static const struct wl_options_spec spec = {
	.prog = "test-cli", .version = "0", .summary = "a test", .section = "test",
	.default_config = "/nonexistent/wlite-test.conf", .options = options, .n_options = 2,
};

static enum wl_parse_result parse(struct opts *o, char **argv, int argc, char *config_path)
{
	char err[256];

	memset(o, 0, sizeof(*o));
	return wl_options_parse(&spec, o, argc, argv, config_path, 256, err, sizeof(err));
}

static void test_short_c_is_the_programs(void **state)
{
	char *argv[] = { "test-cli", "-c", "5", NULL };
	char config_path[256];
	struct opts o;

	(void)state;
	assert_int_equal(parse(&o, argv, 3, config_path), WL_PARSE_RUN);
	assert_string_equal(o.count, "5");
	assert_string_equal(config_path, "");
}

static void test_config_file_then_flags(void **state)
{
	char path[] = "/tmp/wlite-test-cli.XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = { "test-cli", "--config", path, "-c", "7", NULL };
	char config_path[256];
	struct opts o;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("[test]\ncount = 3   # three\nname = fi#le\t# a word may hold a '#'\n", f);
	fclose(f);
	assert_int_equal(parse(&o, argv, 5, config_path), WL_PARSE_RUN);
	assert_string_equal(o.count, "7"); /* the flag wins */
	assert_string_equal(o.name, "fi#le");
	assert_string_equal(config_path, path);
	/* Without the flag, the file's value, its comment cut off. */
	assert_int_equal(parse(&o, argv, 3, config_path), WL_PARSE_RUN);
	assert_string_equal(o.count, "3");
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_c_is_the_programs),
		cmocka_unit_test(test_config_file_then_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
