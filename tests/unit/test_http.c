/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for proto/http.c, on hand-written messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dissect.h"

/* A packet whose members after info[] hold garbage, as wl_dissect leaves them. */
static void packet_init(struct wl_packet *pkt)
{
	memset(pkt, 0xa5, sizeof(*pkt));
	pkt->has = 0;
	pkt->malformed = WL_OK;
	pkt->proto = WL_P_TCP;
	pkt->n_layers = 0;
	pkt->info[0] = '\0';
}

static int decode_n(struct wl_packet *pkt, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	struct wl_dctx d = { .pkt = pkt, .frame = p };
	struct cursor c = cur_make(p, len);

	return wl_decode_http(&d, &c);
}

static int decode(struct wl_packet *pkt, const char *s)
{
	return decode_n(pkt, s, strlen(s));
}

static bool looks(const char *s)
{
	struct cursor c = cur_make((const uint8_t *)s, strlen(s));

	return wl_looks_like_http(&c);
}

static void test_looks_like_http(void **state)
{
	static const char *const yes[] = {
		"GET / HTTP/1.1", "POST /", "HEAD /", "PUT /", "DELETE /", "OPTIONS *",
		"CONNECT h:443", "TRACE /", "PATCH /", "HTTP/1.1 200 OK", "HTTP/1.0 404",
	};
	static const char *const no[] = {
		"", "GE", "GET", "GET/", "GETX /", "get / HTTP/1.1", "HTTP/2 200", "HTTP/1",
		"\x16\x03\x01", "PRI * HTTP/2.0",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(looks(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(looks(no[i]));
}

static void test_empty_is_not_http(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, ""), 0);
	assert_int_equal(pkt.proto, WL_P_TCP);
	assert_int_equal(pkt.has, 0);
	assert_int_equal(decode(&pkt, "SSH-2.0-OpenSSH_9.2\r\n"), 0);
	assert_int_equal(pkt.proto, WL_P_TCP);
	assert_int_equal(pkt.n_layers, 0);
}

static void test_request(void **state)
{
	struct wl_packet pkt;
	static const char msg[] = "GET /index.html HTTP/1.1\r\n"
				  "User-Agent: test\r\n"
				  "Host: www.example.com\r\n"
				  "Accept: */*\r\n"
				  "\r\n";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, msg), 0);
	assert_int_equal(pkt.proto, WL_P_HTTP);
	assert_int_equal(pkt.malformed, WL_OK);
	assert_true(pkt.has & WL_PKT_HTTP);
	assert_false(pkt.http.response);
	assert_int_equal(pkt.http.status, 0);
	assert_string_equal(pkt.http.method, "GET");
	assert_string_equal(pkt.http.path, "/index.html");
	assert_string_equal(pkt.http.host, "www.example.com");
	assert_string_equal(pkt.info, "GET /index.html HTTP/1.1");
	assert_int_equal(pkt.n_layers, 1);
	assert_int_equal(pkt.layers[0].proto, WL_P_HTTP);
}

/* The body after the header block is not looked at. */
static void test_request_with_body(void **state)
{
	struct wl_packet pkt;
	static const char msg[] = "POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n"
				  "Host: bad";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, msg), 0);
	assert_string_equal(pkt.http.method, "POST");
	assert_string_equal(pkt.http.host, "a");
}

static void test_host_mixed_case_and_trimmed(void **state)
{
	struct wl_packet pkt;
	static const char msg[] = "PUT /x HTTP/1.1\r\nhOsT: \t  example.org:8080 \t\r\n\r\n";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, msg), 0);
	assert_string_equal(pkt.http.host, "example.org:8080");
}

/* Headers that only start with "host" are other headers. */
static void test_host_prefix_is_not_host(void **state)
{
	struct wl_packet pkt;
	static const char msg[] = "GET / HTTP/1.1\r\nHostname: no\r\nX-Host: no\r\nHost : no\r\n"
				  "HOST: yes\r\nHost: second\r\n\r\n";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, msg), 0);
	assert_string_equal(pkt.http.host, "yes");
}

static void test_lf_only_lines(void **state)
{
	struct wl_packet pkt;
	static const char msg[] = "DELETE /item/7 HTTP/1.0\nHost: lf.example\n\n";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, msg), 0);
	assert_string_equal(pkt.http.method, "DELETE");
	assert_string_equal(pkt.http.path, "/item/7");
	assert_string_equal(pkt.http.host, "lf.example");
	assert_string_equal(pkt.info, "DELETE /item/7 HTTP/1.0");
}

static void test_response(void **state)
{
	struct wl_packet pkt;
	static const char msg[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, msg), 0);
	assert_int_equal(pkt.proto, WL_P_HTTP);
	assert_true(pkt.has & WL_PKT_HTTP);
	assert_true(pkt.http.response);
	assert_int_equal(pkt.http.status, 200);
	assert_string_equal(pkt.http.method, "");
	assert_string_equal(pkt.http.path, "");
	assert_string_equal(pkt.http.host, "");
	assert_string_equal(pkt.info, "HTTP/1.1 200 OK");
}

static void test_response_without_reason(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "HTTP/1.0 404\r\n\r\n"), 0);
	assert_int_equal(pkt.http.status, 404);
}

static void test_response_bad_status(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wl_packet pkt;

		packet_init(&pkt);
		assert_int_equal(decode(&pkt, bad[i]), -EBADMSG);
		assert_int_equal(pkt.malformed, WL_INVALID);
		assert_int_equal(pkt.proto, WL_P_HTTP);
		assert_false(pkt.has & WL_PKT_HTTP);
	}
}

static void test_response_status_cut(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "HTTP/1.1 20"), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_false(pkt.has & WL_PKT_HTTP);
}

/* A request line cut by the segment: keep what is there, report truncation. */
static void test_request_line_cut(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "GET /very/long/pa"), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_true(pkt.has & WL_PKT_HTTP);
	assert_string_equal(pkt.http.path, "/very/long/pa");
	assert_string_equal(pkt.info, "GET /very/long/pa");

	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "GET /a HTT"), -EMSGSIZE);
	assert_string_equal(pkt.http.path, "/a");
}

/* Headers that continue in the next segment: truncated, Host still kept. */
static void test_headers_cut(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "GET / HTTP/1.1\r\nHost: h.example\r\nAccept: te"), -EMSGSIZE);
	assert_string_equal(pkt.http.host, "h.example");

	/* A Host line without its end might be cut short: not taken. */
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "GET / HTTP/1.1\r\nHost: h.exa"), -EMSGSIZE);
	assert_true(pkt.has & WL_PKT_HTTP);
	assert_string_equal(pkt.http.host, "");
}

static void test_hostile_host_and_path(void **state)
{
	struct wl_packet pkt;
	static const char msg[] = "GET /<script>\x01 HTTP/1.1\r\nHost: <script>alert(1)</script>\x7f\xff"
				  "\r\n\r\n";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, msg), 0);
	assert_string_equal(pkt.http.host, "<script>alert(1)</script>\\x7f\\xff");
	assert_string_equal(pkt.http.path, "/<script>\\x01");
	assert_string_equal(pkt.info, "GET /<script>\\x01 HTTP/1.1");
}

static void test_nul_bytes_escaped(void **state)
{
	struct wl_packet pkt;
	static const char msg[] = "GET /a\0b HTTP/1.1\r\nHost: x\0y\r\n\r\n";

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode_n(&pkt, msg, sizeof(msg) - 1), 0);
	assert_string_equal(pkt.http.path, "/a\\x00b");
	assert_string_equal(pkt.http.host, "x\\x00y");
}

static void test_long_fields_capped(void **state)
{
	struct wl_packet pkt;
	char msg[2048];
	size_t n = 0;

	(void)state;
	memcpy(msg, "GET /", 5);
	n = 5;
	memset(msg + n, 'p', 600);
	n += 600;
	memcpy(msg + n, " HTTP/1.1\r\nHost: ", 17);
	n += 17;
	memset(msg + n, 'h', 600);
	n += 600;
	memcpy(msg + n, "\r\n\r\n", 4);
	n += 4;
	packet_init(&pkt);
	assert_int_equal(decode_n(&pkt, msg, n), 0);
	assert_int_equal(strlen(pkt.http.path), WL_NAME_MAX - 1);
	assert_int_equal(strlen(pkt.http.host), WL_NAME_MAX - 1);
	assert_int_equal(strlen(pkt.info), WL_INFO_MAX - 1);
}

/* HTTP/0.9: "GET /path" alone, no version and no headers. */
static void test_http09_request(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "GET /old.html\r\n"), 0);
	assert_string_equal(pkt.http.path, "/old.html");
	assert_string_equal(pkt.info, "GET /old.html");
}

static void test_bad_request_lines(void **state)
{
	static const char *const bad[] = {
		"GET \r\n\r\n",		       /* no target */
		"GET  HTTP/1.1\r\n\r\n",       /* empty target */
		"GET / FTP/1.0\r\n\r\n",       /* not an HTTP version */
		"GET / HTTP/1.1\r\nNoColon\r\n\r\n", /* header without a colon */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wl_packet pkt;

		packet_init(&pkt);
		assert_int_equal(decode(&pkt, bad[i]), -EBADMSG);
		assert_int_equal(pkt.malformed, WL_INVALID);
		assert_true(pkt.has & WL_PKT_HTTP);
		assert_string_equal(pkt.http.method, "GET");
	}
}

/* A bad header line is reported, and the walk still finds Host after it. */
static void test_host_after_bad_header(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "GET / HTTP/1.1\r\nbroken\r\nHost: after\r\n\r\n"), -EBADMSG);
	assert_string_equal(pkt.http.host, "after");
}

/* A folded continuation line is not a header of its own. */
static void test_folded_header(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, "GET / HTTP/1.1\r\nX-A: 1\r\n Host: fake\r\nHost: real\r\n\r\n"),
			 0);
	assert_string_equal(pkt.http.host, "real");
}

/* The first HTTP message of a frame is kept. */
static void test_not_overwritten(void **state)
{
	struct wl_packet pkt;

	(void)state;
	packet_init(&pkt);
	pkt.has = WL_PKT_HTTP;
	memset(&pkt.http, 0, sizeof(pkt.http));
	strcpy(pkt.http.method, "HEAD");
	assert_int_equal(decode(&pkt, "GET /b HTTP/1.1\r\n\r\n"), 0);
	assert_string_equal(pkt.http.method, "HEAD");
	assert_string_equal(pkt.info, "GET /b HTTP/1.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_looks_like_http),
		cmocka_unit_test(test_empty_is_not_http),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_with_body),
		cmocka_unit_test(test_host_mixed_case_and_trimmed),
		cmocka_unit_test(test_host_prefix_is_not_host),
		cmocka_unit_test(test_lf_only_lines),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_response_without_reason),
		cmocka_unit_test(test_response_bad_status),
		cmocka_unit_test(test_response_status_cut),
		cmocka_unit_test(test_request_line_cut),
		cmocka_unit_test(test_headers_cut),
		cmocka_unit_test(test_hostile_host_and_path),
		cmocka_unit_test(test_nul_bytes_escaped),
		cmocka_unit_test(test_long_fields_capped),
		cmocka_unit_test(test_http09_request),
		cmocka_unit_test(test_bad_request_lines),
		cmocka_unit_test(test_host_after_bad_header),
		cmocka_unit_test(test_folded_header),
		cmocka_unit_test(test_not_overwritten),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
