/* SPDX-License-Identifier: BSD-2-Clause */
/* webd/http/gate.c: which Host and Origin headers are answered, which files are served. */
#include "http/gate.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static struct gate loopback_gate(const char *hosts, const char *origins)
{
	struct gate g;
	char err[256];

	assert_int_equal(gate_init(&g, "127.0.0.1:8080", hosts, origins, err, sizeof(err)), 0);
	return g;
}

static void test_loopback_names(void **state)
{
	struct gate g = loopback_gate("", "");

	(void)state;
	assert_true(gate_host_ok(&g, "127.0.0.1:8080"));
	assert_true(gate_host_ok(&g, "localhost:8080"));
	assert_true(gate_host_ok(&g, "LocalHost:8080"));
	/* The port is part of the name a rebinding page cannot choose. */
	assert_false(gate_host_ok(&g, "localhost:8081"));
	assert_false(gate_host_ok(&g, "localhost"));
	assert_false(gate_host_ok(&g, NULL));
	assert_false(gate_host_ok(&g, ""));
	assert_false(gate_host_ok(&g, "evil.example:8080"));
	assert_false(gate_host_ok(&g, "127.0.0.1:8080.evil.example"));
	assert_false(gate_host_ok(&g, "127.0.0.1.evil.example:8080"));
	assert_false(gate_host_ok(&g, "127.0.0.2:8080"));
	assert_false(gate_host_ok(&g, "localhost.:8080"));
	assert_false(gate_host_ok(&g, "[::1]:8080"));
	assert_false(gate_host_ok(&g, "localhost:8080:8080"));
	assert_false(gate_host_ok(&g, "localhost:"));
	assert_false(gate_host_ok(&g, "localhost:08080x"));
	assert_false(gate_host_ok(&g, "user@localhost:8080"));
	assert_false(gate_host_ok(&g, "localhost :8080"));
}

static void test_other_loopback_address(void **state)
{
	struct gate g;
	char err[256];

	(void)state;
	assert_int_equal(gate_init(&g, "127.0.0.5:80", NULL, NULL, err, sizeof(err)), 0);
	assert_true(gate_host_ok(&g, "127.0.0.5"));   /* port 80 may be left out */
	assert_true(gate_host_ok(&g, "127.0.0.5:80"));
	assert_true(gate_host_ok(&g, "127.0.0.1"));
	assert_true(gate_host_ok(&g, "localhost"));
	assert_false(gate_host_ok(&g, "127.0.0.5:8080"));
}

static void test_any_address(void **state)
{
	struct gate g;
	char err[256];

	(void)state;
	assert_int_equal(gate_init(&g, "0.0.0.0:8080", "wlite.lan", NULL, err, sizeof(err)), 0);
	/* An IP literal cannot be rebound: the page's origin is that address. */
	assert_true(gate_host_ok(&g, "192.0.2.7:8080"));
	assert_true(gate_host_ok(&g, "localhost:8080"));
	assert_true(gate_host_ok(&g, "wlite.lan"));
	assert_false(gate_host_ok(&g, "192.0.2.7:9090"));
	assert_false(gate_host_ok(&g, "192.0.2.7.nip.io:8080"));
	assert_false(gate_host_ok(&g, "evil.example:8080"));
}

static void test_allowed_hosts(void **state)
{
	struct gate g = loopback_gate("wlite.example other.example:9443,third.example", "");

	(void)state;
	/* A name without a port: a proxy may forward it with any port, or none. */
	assert_true(gate_host_ok(&g, "wlite.example"));
	assert_true(gate_host_ok(&g, "WLITE.example:443"));
	assert_true(gate_host_ok(&g, "other.example:9443"));
	assert_false(gate_host_ok(&g, "other.example"));
	assert_false(gate_host_ok(&g, "other.example:9444"));
	assert_true(gate_host_ok(&g, "third.example"));
	assert_false(gate_host_ok(&g, "sub.wlite.example"));
	assert_false(gate_host_ok(&g, "wlite.example.evil"));
}

static void test_bad_configuration(void **state)
{
	struct gate g;
	char err[256] = "";

	(void)state;
	assert_int_equal(gate_init(&g, "127.0.0.1:8080", "bad/name", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad/name"));
	assert_int_equal(gate_init(&g, "127.0.0.1:8080", "x:99999", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(gate_init(&g, "127.0.0.1:8080", NULL, "evil.example", err, sizeof(err)), -EINVAL);
	assert_int_equal(gate_init(&g, "127.0.0.1", NULL, NULL, err, sizeof(err)), -EINVAL);
}

static void test_origins(void **state)
{
	struct gate g = loopback_gate("wlite.example", "https://proxy.example:8443");

	(void)state;
	assert_true(gate_origin_ok(&g, "http://127.0.0.1:8080"));
	assert_true(gate_origin_ok(&g, "http://localhost:8080"));
	assert_true(gate_origin_ok(&g, "https://wlite.example"));
	assert_true(gate_origin_ok(&g, "http://wlite.example:8080"));
	assert_true(gate_origin_ok(&g, "https://proxy.example:8443"));
	assert_false(gate_origin_ok(&g, "https://proxy.example"));
	assert_false(gate_origin_ok(&g, NULL));
	assert_false(gate_origin_ok(&g, "null"));
	assert_false(gate_origin_ok(&g, "file://"));
	assert_false(gate_origin_ok(&g, "http://evil.example:8080"));
	assert_false(gate_origin_ok(&g, "http://127.0.0.1:8080/"));
	assert_false(gate_origin_ok(&g, "http://127.0.0.1:8081"));
	assert_false(gate_origin_ok(&g, "ftp://127.0.0.1:8080"));
	assert_false(gate_origin_ok(&g, "http://127.0.0.1:8080.evil.example"));
	assert_false(gate_origin_ok(&g, "http://"));
}

static void expect_file(const char *path, const char *want)
{
	char rel[128];
	bool ok = gate_static_file(path, rel, sizeof(rel));

	if (!want) {
		assert_false(ok);
		return;
	}
	assert_true(ok);
	assert_string_equal(rel, want);
}

static void test_static_files(void **state)
{
	(void)state;
	expect_file("/", "index.html");
	expect_file("/index.html", "index.html");
	expect_file("/favicon.svg", "favicon.svg");
	expect_file("/css/app.css", "css/app.css");
	expect_file("/js/main.js", "js/main.js");
	expect_file("/js/theme-init.js", "js/theme-init.js");
	expect_file("/node_modules/chart.js/dist/chart.umd.js", "node_modules/chart.js/dist/chart.umd.js");
	expect_file("/README.md", NULL);
	expect_file("/package.json", NULL);
	expect_file("/package-lock.json", NULL);
	expect_file("/.env", NULL);
	expect_file("/js/.hidden.js", NULL);
	expect_file("/js/sub/x.js", NULL);
	expect_file("/js/../README.md", NULL);
	expect_file("/js/", NULL);
	expect_file("/js", NULL);
	expect_file("/css", NULL);
	expect_file("//css", NULL);
	expect_file("//index.html", NULL);
	expect_file("/css/app.js", NULL);
	expect_file("/js/main.js.map", NULL);
	expect_file("/node_modules/chart.js/package.json", NULL);
	expect_file("/node_modules/chart.js/dist/chart.js", NULL);
	expect_file("", NULL);
	expect_file(NULL, NULL);
	assert_string_equal(gate_static_type("js/main.js"), "text/javascript; charset=utf-8");
	assert_string_equal(gate_static_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(gate_static_type("favicon.svg"), "image/svg+xml");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_names), cmocka_unit_test(test_other_loopback_address),
		cmocka_unit_test(test_any_address),    cmocka_unit_test(test_allowed_hosts),
		cmocka_unit_test(test_bad_configuration), cmocka_unit_test(test_origins),
		cmocka_unit_test(test_static_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
