/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for webd/geo/geo.c: address classification, both record layouts
 * (MaxMind's, from fixtures that tests/fixtures/mkmmdb.py writes, and the
 * flat one of the free ip-location-db files), IPv4 and IPv6, missing files,
 * and that non-public addresses never reach a database (the fixtures and the
 * real country file all have an answer for 192.168.0.0/16).
 *
 * The real country database is found through WLITE_GEO_COUNTRY (scripts/test
 * installs it and sets it), else at WL_GEO_DEFAULT_COUNTRY. Its tests run
 * as a separate meson test ("test-geo real"), which skips as a whole, with
 * the reason, only when the file is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "geo/geo.h"

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

static const char *fixture(const char *name)
{
	static char path[4][512];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", WL_GEO_FIXTURE_DIR, name);
	return p;
}

/* ---- classification ---------------------------------------------------------- */

struct scope_case {
	const char *addr;
	enum geo_scope scope;
};

static const struct scope_case scope_cases[] = {
	{ "8.8.8.8", GEO_PUBLIC },
	{ "1.1.1.1", GEO_PUBLIC },
	{ "100.63.255.255", GEO_PUBLIC },
	{ "100.128.0.0", GEO_PUBLIC },
	{ "172.32.0.1", GEO_PUBLIC },
	{ "198.20.0.1", GEO_PUBLIC },
	{ "223.255.255.255", GEO_PUBLIC },
	{ "10.1.2.3", GEO_PRIVATE },
	{ "172.16.0.1", GEO_PRIVATE },
	{ "172.31.255.255", GEO_PRIVATE },
	{ "192.168.1.1", GEO_PRIVATE },
	{ "100.64.0.1", GEO_PRIVATE },
	{ "100.127.255.255", GEO_PRIVATE },
	{ "127.0.0.1", GEO_LOOPBACK },
	{ "127.255.0.9", GEO_LOOPBACK },
	{ "169.254.1.1", GEO_LINK_LOCAL },
	{ "224.0.0.251", GEO_MULTICAST },
	{ "239.255.255.250", GEO_MULTICAST },
	{ "255.255.255.255", GEO_MULTICAST },
	{ "0.0.0.0", GEO_RESERVED },
	{ "0.1.2.3", GEO_RESERVED },
	{ "240.0.0.1", GEO_RESERVED },
	{ "255.255.255.254", GEO_RESERVED },
	{ "192.0.0.8", GEO_RESERVED },
	{ "192.0.2.1", GEO_RESERVED },
	{ "198.18.0.1", GEO_RESERVED },
	{ "198.19.255.255", GEO_RESERVED },
	{ "198.51.100.7", GEO_RESERVED },
	{ "203.0.113.9", GEO_RESERVED },
	{ "2001:4860:4860::8888", GEO_PUBLIC },
	{ "2a01:4f8::1", GEO_PUBLIC },
	{ "2001:db7:ffff::1", GEO_PUBLIC },
	{ "::", GEO_RESERVED },
	{ "::1", GEO_LOOPBACK },
	{ "fe80::1", GEO_LINK_LOCAL },
	{ "febf::1", GEO_LINK_LOCAL },
	{ "fc00::1", GEO_PRIVATE },
	{ "fd12:3456::1", GEO_PRIVATE },
	{ "ff02::1", GEO_MULTICAST },
	{ "2001:db8::1", GEO_RESERVED },
	{ "100::1", GEO_RESERVED },
	{ "100:0:0:1::1", GEO_RESERVED }, /* outside 100::/64 but not 2000::/3 */
	{ "::2", GEO_RESERVED },
	{ "::ffff:8.8.8.8", GEO_PUBLIC },
	{ "::ffff:192.168.1.1", GEO_PRIVATE },
	{ "::ffff:127.0.0.1", GEO_LOOPBACK },
	{ "64:ff9b::8.8.8.8", GEO_PUBLIC },
	{ "64:ff9b::10.0.0.1", GEO_PRIVATE },
	{ "64:ff9b::224.0.0.1", GEO_MULTICAST },
};

static void test_classify(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scope_cases) / sizeof(scope_cases[0]); i++) {
		struct wl_addr a = addr(scope_cases[i].addr);
		enum geo_scope got = geo_classify(&a);

		if (got != scope_cases[i].scope)
			fail_msg("%s: got %s, want %s", scope_cases[i].addr, geo_scope_name(got),
				 geo_scope_name(scope_cases[i].scope));
	}
}

static void test_classify_no_family(void **state)
{
	struct wl_addr a = { 0 };

	(void)state;
	assert_int_equal(geo_classify(&a), GEO_RESERVED);
}

static void test_scope_names(void **state)
{
	(void)state;
	assert_string_equal(geo_scope_name(GEO_PUBLIC), "public");
	assert_string_equal(geo_scope_name(GEO_PRIVATE), "private");
	assert_string_equal(geo_scope_name(GEO_LOOPBACK), "loopback");
	assert_string_equal(geo_scope_name(GEO_LINK_LOCAL), "link-local");
	assert_string_equal(geo_scope_name(GEO_MULTICAST), "multicast");
	assert_string_equal(geo_scope_name(GEO_RESERVED), "reserved");
	assert_string_equal(geo_scope_name((enum geo_scope)99), "reserved");
}

/* ---- opening -------------------------------------------------------------------- */

static void test_open_missing_file(void **state)
{
	struct geo_paths paths = { .country = "/nonexistent/geo-country.mmdb",
				   .asn = "/nonexistent/asn.mmdb" };
	struct geo_db *db = NULL;
	struct geo_info g;
	struct wl_addr a = addr("8.8.8.8");
	char err[512];

	(void)state;
	assert_int_equal(geo_open(&db, &paths, err, sizeof(err)), 0);
	assert_non_null(db);
	assert_false(geo_has_databases(db));
	assert_non_null(strstr(err, "/nonexistent/geo-country.mmdb"));
	assert_non_null(strstr(err, "/nonexistent/asn.mmdb"));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_non_null(strstr(err, "; "));
	assert_int_equal(geo_lookup(db, &a, &g), -ENOENT);
	assert_int_equal(g.scope, GEO_PUBLIC);
	assert_int_equal(g.source, GEO_SRC_NONE);
	db = geo_close(db);
	assert_null(db);
}

static void test_open_not_a_database(void **state)
{
	char path[] = "/tmp/wlite-geo-test-XXXXXX";
	struct geo_paths paths = { .city = path };
	struct geo_db *db = NULL;
	char err[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not an mmdb\n", 12), 12);
	close(fd);
	assert_int_equal(geo_open(&db, &paths, err, sizeof(err)), 0);
	unlink(path);
	assert_false(geo_has_databases(db));
	assert_non_null(strstr(err, "city database"));
	assert_non_null(strstr(err, path));
	geo_close(db);
}

static void test_open_nothing_configured(void **state)
{
	struct geo_paths paths = { .country = "" };
	struct geo_db *db = NULL;
	char err[64] = "stale";

	(void)state;
	assert_int_equal(geo_open(&db, &paths, err, sizeof(err)), 0);
	assert_false(geo_has_databases(db));
	assert_string_equal(err, "");
	assert_false(geo_has_databases(NULL));
	geo_close(db);
	assert_null(geo_close(NULL));
}

static void test_lookup_without_db(void **state)
{
	struct wl_addr a = addr("10.0.0.1");
	struct geo_info g;

	(void)state;
	assert_int_equal(geo_lookup(NULL, &a, &g), -ENOENT);
	assert_int_equal(g.scope, GEO_PRIVATE);
}

/* ---- MaxMind layout (fixtures) -------------------------------------------------- */

static struct geo_db *open_fixtures(void)
{
	struct geo_paths paths = {
		.city = fixture("maxmind-city.mmdb"),
		.asn = fixture("maxmind-asn.mmdb"),
	};
	struct geo_db *db = NULL;
	char err[512];

	assert_int_equal(geo_open(&db, &paths, err, sizeof(err)), 0);
	if (err[0])
		fail_msg("fixtures: %s (run tests/fixtures/mkmmdb.py)", err);
	assert_true(geo_has_databases(db));
	return db;
}

static void test_maxmind_ipv4(void **state)
{
	struct geo_db *db = open_fixtures();
	struct wl_addr a = addr("81.2.69.160");
	struct geo_info g;

	(void)state;
	assert_int_equal(geo_lookup(db, &a, &g), 0);
	assert_int_equal(g.scope, GEO_PUBLIC);
	assert_int_equal(g.source, GEO_SRC_LOCAL);
	assert_string_equal(g.country, "GB");
	assert_string_equal(g.city, "London");
	assert_true(g.has_location);
	assert_true(g.latitude > 51.51 && g.latitude < 51.52);
	assert_true(g.longitude > -0.1 && g.longitude < -0.09);
	assert_int_equal(g.asn, 20712);
	assert_string_equal(g.as_org, "Andrews & Arnold Ltd");
	geo_close(db);
}

static void test_maxmind_ipv6(void **state)
{
	struct geo_db *db = open_fixtures();
	struct wl_addr a = addr("2001:218:1::5");
	struct geo_info g;

	(void)state;
	assert_int_equal(geo_lookup(db, &a, &g), 0);
	assert_string_equal(g.country, "JP");
	assert_string_equal(g.city, "Tokyo");
	assert_true(g.has_location && g.longitude > 139.0);
	assert_int_equal(g.asn, 2914);
	assert_string_equal(g.as_org, "NTT America, Inc.");
	geo_close(db);
}

static void test_maxmind_registered_country_fallback(void **state)
{
	struct geo_db *db = open_fixtures();
	struct wl_addr a = addr("81.2.70.1");
	struct geo_info g;

	(void)state;
	assert_int_equal(geo_lookup(db, &a, &g), 0);
	assert_string_equal(g.country, "SE");
	assert_string_equal(g.city, "");
	assert_false(g.has_location);
	assert_int_equal(g.asn, 0);
	geo_close(db);
}

/* Only the ASN file knows 8.8.8.0/24: a partial answer is still an answer. */
static void test_maxmind_asn_only(void **state)
{
	struct geo_db *db = open_fixtures();
	struct wl_addr a = addr("8.8.8.8");
	struct geo_info g;

	(void)state;
	assert_int_equal(geo_lookup(db, &a, &g), 0);
	assert_string_equal(g.country, "");
	assert_int_equal(g.asn, 15169);
	assert_string_equal(g.as_org, "GOOGLE");
	geo_close(db);
}

static void test_unknown_public_address(void **state)
{
	struct geo_db *db = open_fixtures();
	struct wl_addr a = addr("9.9.9.9");
	struct geo_info g;

	(void)state;
	assert_int_equal(geo_lookup(db, &a, &g), -ENOENT);
	assert_int_equal(g.scope, GEO_PUBLIC);
	assert_int_equal(g.source, GEO_SRC_NONE);
	assert_string_equal(g.country, "");
	geo_close(db);
}

static void test_mapped_v4_looked_up_as_v4(void **state)
{
	struct geo_db *db = open_fixtures();
	struct wl_addr mapped = addr("::ffff:81.2.69.160"), nat64 = addr("64:ff9b::81.2.69.160");
	struct geo_info g;

	(void)state;
	assert_int_equal(geo_lookup(db, &mapped, &g), 0);
	assert_string_equal(g.country, "GB");
	assert_int_equal(geo_lookup(db, &nat64, &g), 0);
	assert_string_equal(g.country, "GB");
	geo_close(db);
}

/*
 * Every fixture has an answer ("ZZ") for 192.168.0.0/16, 10.0.0.0/8 and
 * fd00::/8: an answer here would mean a database was asked.
 */
static void test_non_public_never_looked_up(void **state)
{
	static const char *const addrs[] = {
		"192.168.1.1", "10.1.1.1", "fd00::1", "::ffff:192.168.1.1", "127.0.0.1",
		"169.254.0.1", "224.0.0.1", "0.0.0.0", "::1", "fe80::1", "ff02::1",
	};
	struct geo_paths paths = {
		.city = fixture("flat-city-ipv4.mmdb"),
		.asn = fixture("maxmind-city.mmdb"),
	};
	struct geo_db *db = NULL;
	struct geo_info g;
	char err[256];

	(void)state;
	assert_int_equal(geo_open(&db, &paths, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct wl_addr a = addr(addrs[i]);

		assert_int_equal(geo_lookup(db, &a, &g), -ENOENT);
		assert_int_not_equal(g.scope, GEO_PUBLIC);
		assert_int_equal(g.source, GEO_SRC_NONE);
		if (g.country[0])
			fail_msg("%s was looked up: %s", addrs[i], g.country);
	}
	geo_close(db);
}

/* ---- flat layout (dbip-city style fixtures) -------------------------------------- */

static void test_flat_city_split_by_family(void **state)
{
	struct geo_paths paths = {
		.city = fixture("flat-city-ipv4.mmdb"),
		.city6 = fixture("flat-city-ipv6.mmdb"),
	};
	struct geo_db *db = NULL;
	struct wl_addr a4 = addr("5.9.10.11"), a6 = addr("2a01:4f8:1::2");
	struct geo_info g;
	char err[256];

	(void)state;
	assert_int_equal(geo_open(&db, &paths, err, sizeof(err)), 0);
	assert_string_equal(err, "");

	assert_int_equal(geo_lookup(db, &a4, &g), 0);
	assert_string_equal(g.country, "DE");
	assert_string_equal(g.city, "Berlin");
	assert_true(g.has_location);
	assert_true(g.latitude > 52.51 && g.latitude < 52.53); /* stored as float */
	assert_true(g.longitude > 13.40 && g.longitude < 13.41);
	assert_int_equal(g.asn, 0);

	/* The IPv4-only file is skipped without error for IPv6. */
	assert_int_equal(geo_lookup(db, &a6, &g), 0);
	assert_string_equal(g.country, "DE");
	assert_string_equal(g.city, "Frankfurt am Main");
	assert_true(g.latitude > 50.11 && g.latitude < 50.12); /* stored as double */
	geo_close(db);
}

/* The country file's answer wins over the city file's. */
static void test_country_file_has_priority(void **state)
{
	struct geo_paths paths = {
		.country = fixture("maxmind-city.mmdb"),
		.city = fixture("flat-city-ipv4.mmdb"),
	};
	struct geo_db *db = NULL;
	struct wl_addr a = addr("81.2.69.1"), b = addr("5.9.0.1");
	struct geo_info g;
	char err[256];

	(void)state;
	assert_int_equal(geo_open(&db, &paths, err, sizeof(err)), 0);
	assert_int_equal(geo_lookup(db, &a, &g), 0);
	assert_string_equal(g.country, "GB");
	assert_string_equal(g.city, "London");
	assert_int_equal(geo_lookup(db, &b, &g), 0);
	assert_string_equal(g.country, "DE");
	geo_close(db);
}

/* ---- the real country file (@ip-location-db/geo-whois-asn-country-mmdb) --------- */

static const char *real_country_path(void)
{
	const char *p = getenv("WLITE_GEO_COUNTRY");

	if (p && *p)
		return p;
	return WL_GEO_DEFAULT_COUNTRY;
}

static struct geo_db *open_real(void)
{
	struct geo_paths paths = { .country = real_country_path() };
	struct geo_db *db = NULL;
	char err[512];

	assert_int_equal(geo_open(&db, &paths, err, sizeof(err)), 0);
	if (err[0])
		fail_msg("%s", err);
	return db;
}

static void test_real_country(void **state)
{
	struct geo_db *db = open_real();
	struct geo_info g;

	(void)state;
	struct {
		const char *addr, *cc;
	} cases[] = {
		{ "8.8.8.8", "US" },
		{ "1.1.1.1", "AU" },
		{ "81.2.69.160", "GB" },
		{ "2001:4860:4860::8888", "US" },
		{ "::ffff:8.8.8.8", "US" },   /* not in the file as such: asked as IPv4 */
		{ "64:ff9b::1.1.1.1", "AU" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wl_addr a = addr(cases[i].addr);

		assert_int_equal(geo_lookup(db, &a, &g), 0);
		assert_int_equal(g.source, GEO_SRC_LOCAL);
		if (strcmp(g.country, cases[i].cc) != 0)
			fail_msg("%s: got '%s', want %s", cases[i].addr, g.country, cases[i].cc);
		assert_int_equal(g.asn, 0);
		assert_false(g.has_location);
	}
	geo_close(db);
}

/* The file itself says "AU" for 192.168.1.1 (mmdblookup shows it). */
static void test_real_private_not_looked_up(void **state)
{
	struct geo_db *db = open_real();
	struct wl_addr a = addr("192.168.1.1"), b = addr("172.16.5.4");
	struct geo_info g;

	(void)state;
	assert_int_equal(geo_lookup(db, &a, &g), -ENOENT);
	assert_int_equal(g.scope, GEO_PRIVATE);
	assert_string_equal(g.country, "");
	assert_int_equal(geo_lookup(db, &b, &g), -ENOENT);
	assert_string_equal(g.country, "");
	geo_close(db);
}

/* Look-ups are meant to run per flow; a loose bound catches a slow path. */
static void test_real_lookup_speed(void **state)
{
	struct geo_db *db = open_real();
	struct timespec t0, t1;
	struct geo_info g;
	unsigned found = 0;
	enum { N = 200000 };

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t v = 0x01000000u + i * 20011u; /* spread over 1.0.0.0 up */
		struct wl_addr a = { .family = 4,
				     .b = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
					    (uint8_t)(v >> 8), (uint8_t)v } };

		found += geo_lookup(db, &a, &g) == 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("# %d look-ups in %.3f s (%u found)\n", N, s, found);
	assert_true(found > N / 2);
	assert_true(s < 5.0); /* ~0.1 s expected; generous for sanitizers */
	geo_close(db);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_classify_no_family),
		cmocka_unit_test(test_scope_names),
		cmocka_unit_test(test_open_missing_file),
		cmocka_unit_test(test_open_not_a_database),
		cmocka_unit_test(test_open_nothing_configured),
		cmocka_unit_test(test_lookup_without_db),
		cmocka_unit_test(test_maxmind_ipv4),
		cmocka_unit_test(test_maxmind_ipv6),
		cmocka_unit_test(test_maxmind_registered_country_fallback),
		cmocka_unit_test(test_maxmind_asn_only),
		cmocka_unit_test(test_unknown_public_address),
		cmocka_unit_test(test_mapped_v4_looked_up_as_v4),
		cmocka_unit_test(test_non_public_never_looked_up),
		cmocka_unit_test(test_flat_city_split_by_family),
		cmocka_unit_test(test_country_file_has_priority),
	};
	const struct CMUnitTest real_tests[] = {
		cmocka_unit_test(test_real_country),
		cmocka_unit_test(test_real_private_not_looked_up),
		cmocka_unit_test(test_real_lookup_speed),
	};

	if (argc > 1 && strcmp(argv[1], "real") == 0) {
		/* cmocka 1.1 reports skip() as "not ok", which meson counts as a
		 * failure: an empty TAP plan is how the whole test skips. */
		if (access(real_country_path(), R_OK) != 0) {
			printf("1..0 # SKIP no country database at %s (scripts/test installs it; "
			       "or set WLITE_GEO_COUNTRY)\n",
			       real_country_path());
			return 0;
		}
		return cmocka_run_group_tests_name("real country database", real_tests, NULL, NULL);
	}
	return cmocka_run_group_tests_name("fixtures", tests, NULL, NULL);
}
