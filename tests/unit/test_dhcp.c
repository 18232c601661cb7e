/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for proto/dhcp.c, on hand-built BOOTP/DHCP messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dissect.h"

#define BOOTP_FIXED_LEN 236

struct buf {
	uint8_t b[1024];
	size_t n;
};

static void putmem(struct buf *b, const void *p, size_t n)
{
	assert_true(n <= sizeof(b->b) - b->n);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* The fixed header: op, htype 1, hlen 6, hops 0, xid, then zeros. */
static void bootp(struct buf *b, uint8_t op, uint32_t xid)
{
	uint8_t h[BOOTP_FIXED_LEN] = { op, 1, 6, 0,
				       (uint8_t)(xid >> 24), (uint8_t)(xid >> 16),
				       (uint8_t)(xid >> 8), (uint8_t)xid };

	h[28] = 0x00; /* chaddr */
	h[29] = 0x11;
	memcpy(h + 44, "server", 6); /* sname: not options, not decoded */
	b->n = 0;
	putmem(b, h, sizeof(h));
}

static void cookie(struct buf *b)
{
	static const uint8_t c[] = { 99, 130, 83, 99 };

	putmem(b, c, sizeof(c));
}

static void option(struct buf *b, uint8_t code, const void *val, uint8_t len)
{
	putmem(b, &code, 1);
	putmem(b, &len, 1);
	putmem(b, val, len);
}

static void end(struct buf *b)
{
	static const uint8_t e[] = { 255, 0, 0, 0 }; /* end, then padding */

	putmem(b, e, sizeof(e));
}

/* A packet whose members after info[] hold garbage, as wl_dissect leaves them. */
static void packet_init(struct wl_packet *pkt)
{
	memset(pkt, 0xa5, sizeof(*pkt));
	pkt->has = 0;
	pkt->malformed = WL_OK;
	pkt->proto = WL_P_UDP;
	pkt->n_layers = 0;
	pkt->info[0] = '\0';
}

static int decode(struct wl_packet *pkt, const uint8_t *p, size_t len)
{
	struct wl_dctx d = { .pkt = pkt, .frame = p };
	struct cursor c = cur_make(p, len);

	return wl_decode_dhcp(&d, &c);
}

static void test_empty(void **state)
{
	struct wl_packet pkt;
	static const uint8_t none[1] = { 0 };

	(void)state;
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, none, 0), 0);
	assert_int_equal(pkt.proto, WL_P_UDP);
	assert_int_equal(pkt.n_layers, 0);
	assert_int_equal(pkt.has, 0);
}

static void test_discover(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	static const uint8_t discover = 1;
	static const uint8_t params[] = { 1, 3, 6, 15 };

	(void)state;
	bootp(&b, 1, 0x3d1d);
	cookie(&b);
	option(&b, 53, &discover, 1);
	option(&b, 55, params, sizeof(params));
	option(&b, 12, "myhost", 6);
	end(&b);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.proto, WL_P_DHCP);
	assert_int_equal(pkt.malformed, WL_OK);
	assert_true(pkt.has & WL_PKT_DHCP);
	assert_int_equal(pkt.dhcp.op, 1);
	assert_int_equal(pkt.dhcp.msg_type, 1);
	assert_int_equal(pkt.dhcp.xid, 0x3d1d);
	assert_string_equal(pkt.dhcp.hostname, "myhost");
	assert_string_equal(pkt.info, "DHCP Discover - Transaction ID 0x3d1d");
	assert_int_equal(pkt.n_layers, 1);
	assert_int_equal(pkt.layers[0].proto, WL_P_DHCP);
	assert_int_equal(pkt.layers[0].len, b.n);
}

static void test_message_type_names(void **state)
{
	static const char *const names[] = {
		NULL, "Discover", "Offer", "Request", "Decline", "ACK", "NAK", "Release", "Inform",
	};

	(void)state;
	for (uint8_t t = 1; t <= 8; t++) {
		struct wl_packet pkt;
		struct buf b;
		char want[64] = "DHCP ";

		bootp(&b, t == 2 || t == 5 || t == 6 ? 2 : 1, 0xdeadbeef);
		cookie(&b);
		option(&b, 53, &t, 1);
		end(&b);
		packet_init(&pkt);
		assert_int_equal(decode(&pkt, b.b, b.n), 0);
		strcat(want, names[t]);
		strcat(want, " - Transaction ID 0xdeadbeef");
		assert_string_equal(pkt.info, want);
	}
}

static void test_unknown_message_type(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	static const uint8_t type = 0x63;

	(void)state;
	bootp(&b, 1, 7);
	cookie(&b);
	option(&b, 53, &type, 1);
	end(&b);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.dhcp.msg_type, 0x63);
	assert_string_equal(pkt.info, "DHCP Unknown Message Type (0x63) - Transaction ID 0x7");
}

/* Without the magic cookie it is plain BOOTP; the vendor area is not options. */
static void test_bootp_without_cookie(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	static const uint8_t vendor[64] = { 53, 1, 5 };

	(void)state;
	bootp(&b, 1, 0x1234);
	putmem(&b, vendor, sizeof(vendor));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.proto, WL_P_DHCP);
	assert_true(pkt.has & WL_PKT_DHCP);
	assert_int_equal(pkt.dhcp.msg_type, 0);
	assert_string_equal(pkt.dhcp.hostname, "");
	assert_string_equal(pkt.info, "Boot Request");

	bootp(&b, 2, 0x1234);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info, "Boot Reply");
}

/* DHCP options without message type: still BOOTP for the summary. */
static void test_cookie_without_type(void **state)
{
	struct wl_packet pkt;
	struct buf b;

	(void)state;
	bootp(&b, 2, 1);
	cookie(&b);
	option(&b, 12, "h", 1);
	end(&b);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info, "Boot Reply");
	assert_string_equal(pkt.dhcp.hostname, "h");
}

static void test_option_past_end(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	static const uint8_t request = 3;

	(void)state;
	bootp(&b, 1, 0xabc);
	cookie(&b);
	option(&b, 53, &request, 1);
	option(&b, 12, "longname", 8);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n - 3), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_true(pkt.has & WL_PKT_DHCP);
	assert_int_equal(pkt.dhcp.msg_type, 3);
	assert_string_equal(pkt.dhcp.hostname, "");
	assert_string_equal(pkt.info, "DHCP Request - Transaction ID 0xabc");

	/* The length byte itself missing. */
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n - 9), -EMSGSIZE);
}

/* An option can never reach into the next one: 53's length is checked. */
static void test_message_type_wrong_length(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	static const uint8_t two[] = { 1, 2 };

	(void)state;
	bootp(&b, 1, 5);
	cookie(&b);
	option(&b, 53, two, sizeof(two));
	end(&b);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), -EBADMSG);
	assert_int_equal(pkt.malformed, WL_INVALID);
	assert_int_equal(pkt.dhcp.msg_type, 0);
}

static void test_pads_and_no_end(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	static const uint8_t pads[] = { 0, 0, 0 };
	static const uint8_t ack = 5;

	(void)state;
	bootp(&b, 2, 9);
	cookie(&b);
	putmem(&b, pads, sizeof(pads));
	option(&b, 53, &ack, 1);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.info, "DHCP ACK - Transaction ID 0x9");
}

/* Whatever follows the end option is padding, even if it looks like options. */
static void test_after_end_ignored(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	static const uint8_t junk[] = { 255, 53, 9, 1 };

	(void)state;
	bootp(&b, 1, 2);
	cookie(&b);
	putmem(&b, junk, sizeof(junk));
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.dhcp.msg_type, 0);
}

static void test_header_cut(void **state)
{
	struct wl_packet pkt;
	struct buf b;

	(void)state;
	bootp(&b, 1, 0x55);
	/* After xid: op and xid are still worth showing. */
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, 100), -EMSGSIZE);
	assert_int_equal(pkt.malformed, WL_TRUNCATED);
	assert_int_equal(pkt.proto, WL_P_DHCP);
	assert_true(pkt.has & WL_PKT_DHCP);
	assert_int_equal(pkt.dhcp.xid, 0x55);
	assert_string_equal(pkt.info, "Boot Request");
	/* Inside xid: nothing to show. */
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, 6), -EMSGSIZE);
	assert_int_equal(pkt.proto, WL_P_DHCP);
	assert_false(pkt.has & WL_PKT_DHCP);
	/* Every other prefix is truncation too. */
	for (size_t n = 1; n < BOOTP_FIXED_LEN; n++) {
		packet_init(&pkt);
		assert_int_equal(decode(&pkt, b.b, n), -EMSGSIZE);
	}
}

static void test_bad_op(void **state)
{
	struct wl_packet pkt;
	struct buf b;

	(void)state;
	bootp(&b, 3, 1);
	cookie(&b);
	end(&b);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), -EBADMSG);
	assert_int_equal(pkt.malformed, WL_INVALID);
	assert_false(pkt.has & WL_PKT_DHCP);
}

static void test_hostile_hostname(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	static const char name[] = "<script>\x00\x1f\x80";

	(void)state;
	bootp(&b, 1, 1);
	cookie(&b);
	option(&b, 12, name, sizeof(name) - 1);
	option(&b, 12, "second", 6);
	end(&b);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_string_equal(pkt.dhcp.hostname, "<script>\\x00\\x1f\\x80");
}

/* 255 bytes of escapes do not fit; the name is cut between escapes. */
static void test_long_hostname_capped(void **state)
{
	struct wl_packet pkt;
	struct buf b;
	uint8_t name[255];

	(void)state;
	memset(name, 0x01, sizeof(name));
	bootp(&b, 1, 1);
	cookie(&b);
	option(&b, 12, name, sizeof(name));
	end(&b);
	packet_init(&pkt);
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(strlen(pkt.dhcp.hostname), (WL_NAME_MAX - 1) / 4 * 4);
}

static void test_not_overwritten(void **state)
{
	struct wl_packet pkt;
	struct buf b;

	(void)state;
	bootp(&b, 2, 77);
	packet_init(&pkt);
	pkt.has = WL_PKT_DHCP;
	memset(&pkt.dhcp, 0, sizeof(pkt.dhcp));
	pkt.dhcp.xid = 1;
	assert_int_equal(decode(&pkt, b.b, b.n), 0);
	assert_int_equal(pkt.dhcp.xid, 1);
	assert_string_equal(pkt.info, "Boot Reply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_discover),
		cmocka_unit_test(test_message_type_names),
		cmocka_unit_test(test_unknown_message_type),
		cmocka_unit_test(test_bootp_without_cookie),
		cmocka_unit_test(test_cookie_without_type),
		cmocka_unit_test(test_option_past_end),
		cmocka_unit_test(test_message_type_wrong_length),
		cmocka_unit_test(test_pads_and_no_end),
		cmocka_unit_test(test_after_end_ignored),
		cmocka_unit_test(test_header_cut),
		cmocka_unit_test(test_bad_op),
		cmocka_unit_test(test_hostile_hostname),
		cmocka_unit_test(test_long_hostname_capped),
		cmocka_unit_test(test_not_overwritten),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
