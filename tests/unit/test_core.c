/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for proto/core.c: the string builder, address formatting
 * (RFC 5952, checked against inet_ntop), error recording, protocol names and
 * the IP-layer bookkeeping the decoders share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "dissect.h"

/* ---- wl_sb ------------------------------------------------------------------ */

static void test_sb_appends(void **state)
{
	char buf[32];
	struct wl_sb sb = wl_sb_make(buf, sizeof(buf));

	(void)state;
	assert_string_equal(buf, "");
	wl_sb_str(&sb, "ab");
	wl_sb_char(&sb, 'c');
	wl_sb_mem(&sb, "defXYZ", 3);
	assert_string_equal(buf, "abcdef");
	assert_int_equal(sb.len, 6);
}

static void test_sb_truncates_at_end_with_nul(void **state)
{
	char buf[8];
	struct wl_sb sb = wl_sb_make(buf, sizeof(buf));

	(void)state;
	wl_sb_str(&sb, "hello world");
	assert_string_equal(buf, "hello w");
	assert_int_equal(sb.len, 7);
	wl_sb_char(&sb, '!');
	wl_sb_u64(&sb, 12345);
	wl_sb_hex(&sb, 0xabc, 8);
	assert_string_equal(buf, "hello w");
	assert_int_equal(sb.len, 7);
}

static void test_sb_truncates_number_in_the_middle(void **state)
{
	char buf[6];
	struct wl_sb sb = wl_sb_make(buf, sizeof(buf));

	(void)state;
	wl_sb_str(&sb, "ab");
	wl_sb_u64(&sb, 987654);
	assert_string_equal(buf, "ab987");
}

static void test_sb_size_one_holds_only_nul(void **state)
{
	char buf[4] = { 'X', 'X', 'X', 'X' };
	struct wl_sb sb = wl_sb_make(buf, 1);

	(void)state;
	wl_sb_str(&sb, "abc");
	wl_sb_char(&sb, 'd');
	wl_sb_u64(&sb, 42);
	wl_sb_hex(&sb, 0xff, 2);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(sb.len, 0);
	assert_int_equal(buf[1], 'X'); /* nothing written past size */
}

static void test_sb_u64_zero_and_max(void **state)
{
	char buf[32];
	struct wl_sb sb = wl_sb_make(buf, sizeof(buf));

	(void)state;
	wl_sb_u64(&sb, 0);
	assert_string_equal(buf, "0");
	sb = wl_sb_make(buf, sizeof(buf));
	wl_sb_u64(&sb, UINT64_MAX);
	assert_string_equal(buf, "18446744073709551615");
}

static void test_sb_hex_min_digits(void **state)
{
	char buf[32];
	struct wl_sb sb = wl_sb_make(buf, sizeof(buf));

	(void)state;
	wl_sb_hex(&sb, 0xab, 4);
	assert_string_equal(buf, "00ab");
	sb = wl_sb_make(buf, sizeof(buf));
	wl_sb_hex(&sb, 0x12345, 2);
	assert_string_equal(buf, "12345");
	sb = wl_sb_make(buf, sizeof(buf));
	wl_sb_hex(&sb, 0, 0);
	assert_string_equal(buf, "0");
	sb = wl_sb_make(buf, sizeof(buf));
	wl_sb_hex(&sb, 0, 1);
	assert_string_equal(buf, "0");
}

static void test_sb_hex_max_and_large_min(void **state)
{
	char buf[32];
	struct wl_sb sb = wl_sb_make(buf, sizeof(buf));

	(void)state;
	wl_sb_hex(&sb, UINT64_MAX, 1);
	assert_string_equal(buf, "ffffffffffffffff");
	sb = wl_sb_make(buf, sizeof(buf));
	wl_sb_hex(&sb, 1, 100); /* more digits than a u64 has: capped, no overflow */
	assert_string_equal(buf, "0000000000000001");
}

/* ---- wl_addr_str ------------------------------------------------------------ */

static void check_ipv4(const char *text)
{
	struct wl_addr a = { .family = 4 };
	char buf[46];

	assert_int_equal(inet_pton(AF_INET, text, a.b), 1);
	assert_ptr_equal(wl_addr_str(&a, buf, sizeof(buf)), buf);
	assert_string_equal(buf, text);
}

static void test_addr_ipv4(void **state)
{
	(void)state;
	check_ipv4("0.0.0.0");
	check_ipv4("192.0.2.1");
	check_ipv4("10.20.30.40");
	check_ipv4("255.255.255.255");
}

/* Formats in (any valid text form) and expects want; inet_ntop must agree. */
static void check_ipv6(const char *in, const char *want)
{
	struct wl_addr a = { .family = 6 };
	char buf[46], ref[INET6_ADDRSTRLEN];

	assert_int_equal(inet_pton(AF_INET6, in, a.b), 1);
	assert_non_null(inet_ntop(AF_INET6, a.b, ref, sizeof(ref)));
	assert_string_equal(ref, want); /* the table itself is right */
	wl_addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_addr_ipv6_all_zero_and_loopback(void **state)
{
	(void)state;
	check_ipv6("::", "::");
	check_ipv6("::1", "::1");
	check_ipv6("1::", "1::");
}

static void test_addr_ipv6_documentation(void **state)
{
	(void)state;
	check_ipv6("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	check_ipv6("fe80:0:0:0:0:0:1:2", "fe80::1:2");
	check_ipv6("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
	check_ipv6("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789");
}

static void test_addr_ipv6_first_longest_run(void **state)
{
	(void)state;
	check_ipv6("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	check_ipv6("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");
	check_ipv6("1:0:0:2:0:0:0:0", "1:0:0:2::");
}

static void test_addr_ipv6_single_zero_not_compressed(void **state)
{
	(void)state;
	check_ipv6("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	check_ipv6("0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7");
	check_ipv6("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0");
}

static void test_addr_ipv6_v4_mapped(void **state)
{
	(void)state;
	check_ipv6("::ffff:192.0.2.1", "::ffff:192.0.2.1");
}

static void test_addr_absent_family_is_empty(void **state)
{
	struct wl_addr a = { .family = 0, .b = { 1, 2, 3, 4 } };
	char buf[46] = "stale";

	(void)state;
	assert_string_equal(wl_addr_str(&a, buf, sizeof(buf)), "");
}

static void test_addr_small_buffer_truncates(void **state)
{
	struct wl_addr a = { .family = 6 };
	char buf[8];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", a.b), 1);
	wl_addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db");
}

/* ---- wl_fail -------------------------------------------------------------- */

static void test_fail_truncated(void **state)
{
	struct wl_packet pkt = { 0 };
	struct wl_dctx d = { .pkt = &pkt };

	(void)state;
	assert_int_equal(wl_fail(&d, -EMSGSIZE), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
}

static void test_fail_invalid(void **state)
{
	struct wl_packet pkt = { 0 };
	struct wl_dctx d = { .pkt = &pkt };

	(void)state;
	assert_int_equal(wl_fail(&d, -EBADMSG), -EBADMSG);
	assert_int_equal(pkt.malformed, WL_INVALID);
}

static void test_fail_first_error_wins(void **state)
{
	struct wl_packet pkt = { 0 };
	struct wl_dctx d = { .pkt = &pkt };

	(void)state;
	assert_int_equal(wl_fail(&d, -EMSGSIZE), -EMSGSIZE);
	assert_int_equal(wl_fail(&d, -EBADMSG), -EBADMSG);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);

	assert_int_equal(d.first_err, -EMSGSIZE);

	struct wl_dctx fresh = { .pkt = &pkt };
	pkt.malformed = WL_OK;
	wl_fail(&fresh, -EBADMSG);
	wl_fail(&fresh, -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_INVALID);
	assert_int_equal(fresh.first_err, -EBADMSG);
}

static void test_fail_zero_is_not_an_error(void **state)
{
	struct wl_packet pkt = { 0 };
	struct wl_dctx d = { .pkt = &pkt };

	(void)state;
	assert_int_equal(wl_fail(&d, 0), 0);
	assert_int_equal(pkt.malformed, WL_OK);
	assert_int_equal(wl_fail(&d, -ELOOP), -ELOOP);
	assert_int_equal(pkt.malformed, WL_INVALID);
}

/* ---- wl_proto_name ------------------------------------------------------------ */

static void test_proto_name_every_value(void **state)
{
	(void)state;
	assert_string_equal(wl_proto_name(WL_P_UNKNOWN), "Unknown");
	for (int p = WL_P_UNKNOWN + 1; p < WL_P__MAX; p++) {
		const char *name = wl_proto_name((enum wl_proto)p);

		assert_non_null(name);
		assert_true(name[0] != '\0');
		/* "Unknown" here would mean a row is missing from the table. */
		assert_string_not_equal(name, "Unknown");
	}
}

static void test_proto_name_distinct(void **state)
{
	(void)state;
	for (int p = 0; p < WL_P__MAX; p++)
		for (int q = p + 1; q < WL_P__MAX; q++)
			assert_string_not_equal(wl_proto_name((enum wl_proto)p),
						wl_proto_name((enum wl_proto)q));
}

static void test_proto_name_known_values(void **state)
{
	(void)state;
	assert_string_equal(wl_proto_name(WL_P_TCP), "TCP");
	assert_string_equal(wl_proto_name(WL_P_IPV6), "IPv6");
	assert_string_equal(wl_proto_name(WL_P_SSH), "SSH");
}

static void test_proto_name_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(wl_proto_name(WL_P__MAX), "Unknown");
	assert_string_equal(wl_proto_name((enum wl_proto)255), "Unknown");
	assert_string_equal(wl_proto_name((enum wl_proto)-1), "Unknown");
}

/* ---- IP-layer bookkeeping ------------------------------------------------------ */

static void test_begin_ip_outer_inner_then_none(void **state)
{
	struct wl_packet pkt = { 0 };
	struct wl_dctx d = { .pkt = &pkt };

	(void)state;
	assert_ptr_equal(wl_begin_ip(&d), &pkt.outer);
	assert_ptr_equal(d.flow, &pkt.outer);
	assert_int_equal(pkt.has & WL_PKT_INNER, 0);
	assert_ptr_equal(wl_begin_ip(&d), &pkt.inner);
	assert_true(pkt.has & WL_PKT_INNER);
	assert_null(wl_begin_ip(&d));
	assert_null(d.flow);
	assert_int_equal(d.n_ip, 3);
}

static void test_read_addr_fills_flow(void **state)
{
	static const uint8_t b[4] = { 192, 0, 2, 7 };
	struct cursor c = cur_make(b, sizeof(b));
	struct wl_flow flow = { 0 };
	struct wl_addr a = { .family = 4 };

	(void)state;
	assert_int_equal(wl_read_addr(&flow, &c, WL_HAS_DST, &a), 0);
	assert_int_equal(flow.has, WL_HAS_DST);
	assert_int_equal(flow.dst.family, 4);
	assert_memory_equal(flow.dst.b, b, 4);
	assert_memory_equal(a.b, b, 4);
}

static void test_read_addr_short_leaves_flow(void **state)
{
	static const uint8_t b[15] = { 0 };
	struct cursor c = cur_make(b, sizeof(b));
	struct wl_flow flow = { 0 };
	struct wl_addr a = { .family = 6 };

	(void)state;
	assert_int_equal(wl_read_addr(&flow, &c, WL_HAS_SRC, &a), -EMSGSIZE);
	assert_int_equal(flow.has, 0);
	assert_int_equal(c.off, 0);
	assert_int_equal(wl_read_addr(NULL, &c, WL_HAS_SRC, &a), -EMSGSIZE);
}

static void test_enter_records_layer(void **state)
{
	static const uint8_t frame[10] = { 0 };
	struct wl_packet pkt = { 0 };
	struct wl_dctx d = { .pkt = &pkt, .frame = frame };
	struct cursor c = cur_make(frame, sizeof(frame));

	(void)state;
	c.off = 4;
	struct cursor inner = cur_rest(&c);
	inner.off = 2;
	wl_enter(&d, WL_P_UDP, &inner);
	assert_int_equal(pkt.proto, WL_P_UDP);
	assert_int_equal(pkt.n_layers, 1);
	assert_int_equal(pkt.layers[0].proto, WL_P_UDP);
	assert_int_equal(pkt.layers[0].off, 6);
	assert_int_equal(pkt.layers[0].len, 4);
}

static void test_enter_caps_layers(void **state)
{
	static const uint8_t frame[1] = { 0 };
	struct wl_packet pkt = { 0 };
	struct wl_dctx d = { .pkt = &pkt, .frame = frame };
	struct cursor c = cur_make(frame, sizeof(frame));

	(void)state;
	for (int i = 0; i < WL_LAYERS_MAX + 5; i++)
		wl_enter(&d, WL_P_VLAN, &c);
	assert_int_equal(pkt.n_layers, WL_LAYERS_MAX);
	wl_enter(&d, WL_P_TCP, &c);
	assert_int_equal(pkt.proto, WL_P_TCP);
}

/* Network text: printable bytes pass, the rest and the backslash are escaped. */
static void test_sb_printable_escapes_hostile_bytes(void **state)
{
	static const uint8_t raw[] = { '<', 'a', '>', 0x00, '\\', 0x7f, 0xe2, '"' };
	char buf[64];
	struct wl_sb sb = wl_sb_make(buf, sizeof(buf));

	(void)state;
	wl_sb_printable(&sb, cur_make(raw, sizeof(raw)));
	assert_string_equal(buf, "<a>\\x00\\x5c\\x7f\\xe2\"");
}

/* An escape never goes out half-written when the buffer fills. */
static void test_sb_printable_never_cuts_an_escape(void **state)
{
	static const uint8_t raw[] = { 'a', 'b', 0x01 };
	char buf[6];
	struct wl_sb sb = wl_sb_make(buf, sizeof(buf));

	(void)state;
	wl_sb_printable(&sb, cur_make(raw, sizeof(raw)));
	assert_string_equal(buf, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sb_printable_escapes_hostile_bytes),
		cmocka_unit_test(test_sb_printable_never_cuts_an_escape),
		cmocka_unit_test(test_sb_appends),
		cmocka_unit_test(test_sb_truncates_at_end_with_nul),
		cmocka_unit_test(test_sb_truncates_number_in_the_middle),
		cmocka_unit_test(test_sb_size_one_holds_only_nul),
		cmocka_unit_test(test_sb_u64_zero_and_max),
		cmocka_unit_test(test_sb_hex_min_digits),
		cmocka_unit_test(test_sb_hex_max_and_large_min),
		cmocka_unit_test(test_addr_ipv4),
		cmocka_unit_test(test_addr_ipv6_all_zero_and_loopback),
		cmocka_unit_test(test_addr_ipv6_documentation),
		cmocka_unit_test(test_addr_ipv6_first_longest_run),
		cmocka_unit_test(test_addr_ipv6_single_zero_not_compressed),
		cmocka_unit_test(test_addr_ipv6_v4_mapped),
		cmocka_unit_test(test_addr_absent_family_is_empty),
		cmocka_unit_test(test_addr_small_buffer_truncates),
		cmocka_unit_test(test_fail_truncated),
		cmocka_unit_test(test_fail_invalid),
		cmocka_unit_test(test_fail_first_error_wins),
		cmocka_unit_test(test_fail_zero_is_not_an_error),
		cmocka_unit_test(test_proto_name_every_value),
		cmocka_unit_test(test_proto_name_distinct),
		cmocka_unit_test(test_proto_name_known_values),
		cmocka_unit_test(test_proto_name_out_of_range),
		cmocka_unit_test(test_begin_ip_outer_inner_then_none),
		cmocka_unit_test(test_read_addr_fills_flow),
		cmocka_unit_test(test_read_addr_short_leaves_flow),
		cmocka_unit_test(test_enter_records_layer),
		cmocka_unit_test(test_enter_caps_layers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
