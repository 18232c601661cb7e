/* SPDX-License-Identifier: BSD-2-Clause */
/* webd/http/wsproto.c: the WebSocket handshake and frame checks, on hand-built bytes. */
#include "http/wsproto.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_handshake_rfc_example(void **state)
{
	char accept[WS_ACCEPT_LEN + 1];
	const char *why = NULL;

	(void)state;
	/* RFC 6455 section 1.3's own example. */
	assert_int_equal(wsproto_handshake_check("websocket", "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==", accept, &why), 0);
	assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* Header values are token lists, case-insensitive (Firefox sends "keep-alive, Upgrade"). */
	assert_int_equal(wsproto_handshake_check("WebSocket", "keep-alive, Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==",
						 accept, &why),
			 0);
}

static void test_handshake_refusals(void **state)
{
	char accept[WS_ACCEPT_LEN + 1];
	const char *why = NULL;
	char long_key[71];

	(void)state;
	memset(long_key, 'A', 70);
	long_key[70] = '\0';
	assert_int_equal(wsproto_handshake_check("websocket", "Upgrade", "13", long_key, accept, &why), -EINVAL);
	assert_non_null(strstr(why, "Sec-WebSocket-Key"));
	assert_int_equal(wsproto_handshake_check("websocket", "Upgrade", "13", NULL, accept, &why), -EINVAL);
	assert_int_equal(wsproto_handshake_check("websocket", "Upgrade", "13", "", accept, &why), -EINVAL);
	/* 24 characters but not base64 of 16 bytes. */
	assert_int_equal(wsproto_handshake_check("websocket", "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ=A", accept, &why),
			 -EINVAL);
	assert_int_equal(wsproto_handshake_check("websocket", "Upgrade", "13", "!!!!!!!!!!!!!!!!!!!!!!==", accept, &why),
			 -EINVAL);
	assert_int_equal(wsproto_handshake_check("websocket", "Upgrade", "8", "dGhlIHNhbXBsZSBub25jZQ==", accept, &why),
			 -EINVAL);
	assert_int_equal(wsproto_handshake_check(NULL, "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==", accept, &why), -EINVAL);
	assert_int_equal(wsproto_handshake_check("websocketx", "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==", accept, &why),
			 -EINVAL);
	assert_int_equal(wsproto_handshake_check("websocket", "close", "13", "dGhlIHNhbXBsZSBub25jZQ==", accept, &why),
			 -EINVAL);
}

static void test_header_lengths(void **state)
{
	static const uint8_t small[] = { 0x81, 0x85, 1, 2, 3, 4 };
	static const uint8_t mid[] = { 0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4 };
	static const uint8_t big[] = { 0x82, 0xff, 0, 0, 0, 0, 0x7f, 0xff, 0, 0, 9, 9, 9, 9 };
	struct ws_frame f;

	(void)state;
	assert_int_equal(wsproto_parse_header(small, sizeof(small), &f), 6);
	assert_int_equal(f.len, 5);
	assert_true(f.fin);
	assert_int_equal(f.opcode, WS_TEXT);
	assert_memory_equal(f.mask, small + 2, 4);
	assert_int_equal(wsproto_parse_header(mid, sizeof(mid), &f), 8);
	assert_int_equal(f.len, 256);
	/* A 2 GiB declaration parses: refusing it is the message check's job, before any payload. */
	assert_int_equal(wsproto_parse_header(big, sizeof(big), &f), 14);
	assert_int_equal(f.len, 0x7fff0000);
	/* Every prefix of a header asks for more. */
	for (size_t n = 0; n < sizeof(big); n++)
		assert_int_equal(wsproto_parse_header(big, n, &f), 0);
}

static void test_header_refusals(void **state)
{
	struct ws_frame f;
	static const uint8_t unmasked[] = { 0x81, 0x05, 'h', 'e', 'l', 'l', 'o' };
	static const uint8_t rsv[] = { 0xc1, 0x80, 1, 2, 3, 4 };
	static const uint8_t opcode3[] = { 0x83, 0x80, 1, 2, 3, 4 };
	static const uint8_t long_ping[] = { 0x89, 0xfe, 0, 200, 1, 2, 3, 4 };
	static const uint8_t fragmented_close[] = { 0x08, 0x80, 1, 2, 3, 4 };
	static const uint8_t non_minimal16[] = { 0x81, 0xfe, 0, 5, 1, 2, 3, 4 };
	static const uint8_t non_minimal64[] = { 0x81, 0xff, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 3, 4 };
	static const uint8_t top_bit[] = { 0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };

	(void)state;
	assert_int_equal(wsproto_parse_header(unmasked, sizeof(unmasked), &f), -EPROTO);
	assert_int_equal(wsproto_parse_header(rsv, sizeof(rsv), &f), -EPROTO);
	assert_int_equal(wsproto_parse_header(opcode3, sizeof(opcode3), &f), -EPROTO);
	assert_int_equal(wsproto_parse_header(long_ping, sizeof(long_ping), &f), -EPROTO);
	assert_int_equal(wsproto_parse_header(fragmented_close, sizeof(fragmented_close), &f), -EPROTO);
	assert_int_equal(wsproto_parse_header(non_minimal16, sizeof(non_minimal16), &f), -EPROTO);
	assert_int_equal(wsproto_parse_header(non_minimal64, sizeof(non_minimal64), &f), -EPROTO);
	assert_int_equal(wsproto_parse_header(top_bit, sizeof(top_bit), &f), -EPROTO);
}

static struct ws_frame frame(bool fin, uint8_t opcode, uint64_t len)
{
	return (struct ws_frame){ .fin = fin, .opcode = opcode, .len = len };
}

static void test_message_limit(void **state)
{
	struct ws_message m = { 0 };
	struct ws_frame f;

	(void)state;
	f = frame(true, WS_TEXT, WS_MESSAGE_MAX);
	assert_int_equal(wsproto_message_check(&m, &f), 0);
	f = frame(true, WS_TEXT, WS_MESSAGE_MAX + 1);
	assert_int_equal(wsproto_message_check(&m, &f), -EMSGSIZE);
	f = frame(true, WS_BINARY, 0x7fff0000);
	assert_int_equal(wsproto_message_check(&m, &f), -EMSGSIZE);
	/* Fragments add up, checked before their payload is read; control frames may come between. */
	f = frame(false, WS_TEXT, 600);
	assert_int_equal(wsproto_message_check(&m, &f), 0);
	wsproto_message_commit(&m, &f);
	f = frame(true, WS_PING, 10);
	assert_int_equal(wsproto_message_check(&m, &f), 0);
	wsproto_message_commit(&m, &f);
	f = frame(false, WS_CONTINUATION, 424);
	assert_int_equal(wsproto_message_check(&m, &f), 0);
	/* Checking twice (the payload not there yet) counts nothing. */
	assert_int_equal(wsproto_message_check(&m, &f), 0);
	wsproto_message_commit(&m, &f);
	f = frame(true, WS_CONTINUATION, 1);
	assert_int_equal(wsproto_message_check(&m, &f), -EMSGSIZE);
	f = frame(true, WS_CONTINUATION, 0);
	assert_int_equal(wsproto_message_check(&m, &f), 0);
	wsproto_message_commit(&m, &f);
	assert_false(m.open);
}

static void test_message_order(void **state)
{
	struct ws_message m = { 0 };
	struct ws_frame f = frame(true, WS_CONTINUATION, 1);

	(void)state;
	assert_int_equal(wsproto_message_check(&m, &f), -EPROTO);
	f = frame(false, WS_TEXT, 1);
	wsproto_message_commit(&m, &f);
	f = frame(true, WS_TEXT, 1);
	assert_int_equal(wsproto_message_check(&m, &f), -EPROTO);
}

static void test_unmask_and_server_header(void **state)
{
	const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t data[] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 }; /* RFC 6455 5.7: "Hello" masked */
	uint8_t tail[] = { 0x4d ^ 'l', 0x51 ^ 'l', 0x58 ^ 'o' };
	uint8_t head[10];

	(void)state;
	wsproto_unmask(data, sizeof(data), mask, 0);
	assert_memory_equal(data, "Hello", 5);
	/* From an offset, as when a payload arrives in pieces. */
	for (size_t i = 0; i < 3; i++)
		tail[i] = (uint8_t)("llo"[i] ^ mask[(2 + i) & 3]);
	wsproto_unmask(tail, sizeof(tail), mask, 2);
	assert_memory_equal(tail, "llo", 3);
	assert_int_equal(wsproto_server_header(WS_TEXT, 5, head), 2);
	assert_int_equal(head[0], 0x81);
	assert_int_equal(head[1], 5);
	assert_int_equal(wsproto_server_header(WS_TEXT, 256, head), 4);
	assert_int_equal(head[1], 126);
	assert_int_equal(head[2] << 8 | head[3], 256);
	assert_int_equal(wsproto_server_header(WS_BINARY, 65536, head), 10);
	assert_int_equal(head[1], 127);
	assert_int_equal(head[7], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_rfc_example), cmocka_unit_test(test_handshake_refusals),
		cmocka_unit_test(test_header_lengths),        cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_message_limit),         cmocka_unit_test(test_message_order),
		cmocka_unit_test(test_unmask_and_server_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
