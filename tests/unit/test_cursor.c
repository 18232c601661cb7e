/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for proto/cursor.h: every reader at the exact end and one byte
 * short, zero-length buffers, narrowing, and lengths that could overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cursor.h"

static const uint8_t bytes[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

/* A cursor over bytes[] with exactly left bytes remaining at offset off. */
static struct cursor at(size_t off, size_t left)
{
	struct cursor c = cur_make(bytes, off + left);

	c.off = off;
	return c;
}

/* ---- Values and byte order ------------------------------------------------ */

static void test_u8_reads_and_advances(void **state)
{
	struct cursor c = cur_make(bytes, sizeof(bytes));
	uint8_t v = 0;

	(void)state;
	assert_int_equal(cur_u8(&c, &v), 0);
	assert_int_equal(v, 0x01);
	assert_int_equal(cur_u8(&c, &v), 0);
	assert_int_equal(v, 0x02);
	assert_int_equal(c.off, 2);
	assert_int_equal(cur_left(&c), 6);
}

static void test_be_and_le_values(void **state)
{
	struct cursor c = cur_make(bytes, sizeof(bytes));
	uint16_t v16 = 0;
	uint32_t v32 = 0;

	(void)state;
	assert_int_equal(cur_be16(&c, &v16), 0);
	assert_int_equal(v16, 0x0102);
	c.off = 0;
	assert_int_equal(cur_le16(&c, &v16), 0);
	assert_int_equal(v16, 0x0201);
	c.off = 0;
	assert_int_equal(cur_be24(&c, &v32), 0);
	assert_int_equal(v32, 0x010203);
	assert_int_equal(c.off, 3);
	c.off = 0;
	assert_int_equal(cur_be32(&c, &v32), 0);
	assert_int_equal(v32, 0x01020304);
	assert_int_equal(c.off, 4);
	assert_int_equal(cur_le32(&c, &v32), 0);
	assert_int_equal(v32, 0x08070605);
	assert_int_equal(c.off, 8);
}

static void test_high_bit_values_do_not_sign_extend(void **state)
{
	static const uint8_t ff[4] = { 0xff, 0xfe, 0x80, 0x81 };
	struct cursor c = cur_make(ff, sizeof(ff));
	uint16_t v16 = 0;
	uint32_t v32 = 0;

	(void)state;
	assert_int_equal(cur_be32(&c, &v32), 0);
	assert_true(v32 == 0xfffe8081u);
	c.off = 0;
	assert_int_equal(cur_le32(&c, &v32), 0);
	assert_true(v32 == 0x8180feffu);
	c.off = 2;
	assert_int_equal(cur_le16(&c, &v16), 0);
	assert_int_equal(v16, 0x8180);
}

/* ---- Every reader at the exact end ---------------------------------------- */

static void test_readers_succeed_at_exact_end(void **state)
{
	struct cursor c;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	const uint8_t *p;

	(void)state;
	c = at(7, 1);
	assert_int_equal(cur_u8(&c, &v8), 0);
	assert_int_equal(v8, 0x08);
	assert_int_equal(cur_left(&c), 0);

	c = at(6, 2);
	assert_int_equal(cur_be16(&c, &v16), 0);
	assert_int_equal(v16, 0x0708);
	assert_int_equal(cur_left(&c), 0);

	c = at(6, 2);
	assert_int_equal(cur_le16(&c, &v16), 0);
	assert_int_equal(v16, 0x0807);

	c = at(5, 3);
	assert_int_equal(cur_be24(&c, &v32), 0);
	assert_int_equal(v32, 0x060708);
	assert_int_equal(cur_left(&c), 0);

	c = at(4, 4);
	assert_int_equal(cur_be32(&c, &v32), 0);
	assert_int_equal(v32, 0x05060708);

	c = at(4, 4);
	assert_int_equal(cur_le32(&c, &v32), 0);
	assert_int_equal(v32, 0x08070605);

	c = at(3, 5);
	assert_int_equal(cur_bytes(&c, 5, &p), 0);
	assert_ptr_equal(p, bytes + 3);
	assert_int_equal(cur_left(&c), 0);

	c = at(3, 5);
	assert_int_equal(cur_skip(&c, 5), 0);
	assert_int_equal(c.off, 8);
	assert_int_equal(cur_need(&c, 0), 0);
}

/* ---- One byte short: -EMSGSIZE, output and cursor untouched --------------- */

static void test_u8_one_short(void **state)
{
	struct cursor c = at(8, 0);
	uint8_t v = 0xaa;

	(void)state;
	assert_int_equal(cur_u8(&c, &v), -EMSGSIZE);
	assert_int_equal(v, 0xaa);
	assert_int_equal(c.off, 8);
}

static void test_16bit_one_short(void **state)
{
	struct cursor c = at(7, 1);
	uint16_t v = 0xaaaa;

	(void)state;
	assert_int_equal(cur_be16(&c, &v), -EMSGSIZE);
	assert_int_equal(v, 0xaaaa);
	assert_int_equal(cur_le16(&c, &v), -EMSGSIZE);
	assert_int_equal(v, 0xaaaa);
	assert_int_equal(c.off, 7);
}

static void test_24bit_one_short(void **state)
{
	struct cursor c = at(6, 2);
	uint32_t v = 0xaaaaaaaa;

	(void)state;
	assert_int_equal(cur_be24(&c, &v), -EMSGSIZE);
	assert_true(v == 0xaaaaaaaau);
	assert_int_equal(c.off, 6);
}

static void test_32bit_one_short(void **state)
{
	struct cursor c = at(5, 3);
	uint32_t v = 0xaaaaaaaa;

	(void)state;
	assert_int_equal(cur_be32(&c, &v), -EMSGSIZE);
	assert_true(v == 0xaaaaaaaau);
	assert_int_equal(cur_le32(&c, &v), -EMSGSIZE);
	assert_true(v == 0xaaaaaaaau);
	assert_int_equal(c.off, 5);
}

static void test_bytes_skip_need_one_short(void **state)
{
	struct cursor c = at(3, 4);
	const uint8_t *p = bytes;

	(void)state;
	assert_int_equal(cur_bytes(&c, 5, &p), -EMSGSIZE);
	assert_ptr_equal(p, bytes);
	assert_int_equal(cur_skip(&c, 5), -EMSGSIZE);
	assert_int_equal(cur_need(&c, 5), -EMSGSIZE);
	assert_int_equal(cur_need(&c, 4), 0);
	assert_int_equal(c.off, 3);
}

/* ---- Zero-length buffers ---------------------------------------------------- */

static void test_zero_length_buffer(void **state)
{
	struct cursor c = cur_make(bytes, 0);
	uint8_t v8 = 0xaa;
	uint16_t v16 = 0xaaaa;
	uint32_t v32 = 0xaaaaaaaa;
	const uint8_t *p = NULL;

	(void)state;
	assert_int_equal(cur_left(&c), 0);
	assert_int_equal(cur_u8(&c, &v8), -EMSGSIZE);
	assert_int_equal(cur_be16(&c, &v16), -EMSGSIZE);
	assert_int_equal(cur_le16(&c, &v16), -EMSGSIZE);
	assert_int_equal(cur_be24(&c, &v32), -EMSGSIZE);
	assert_int_equal(cur_be32(&c, &v32), -EMSGSIZE);
	assert_int_equal(cur_le32(&c, &v32), -EMSGSIZE);
	assert_int_equal(cur_peek_u8(&c, 0, &v8), -EMSGSIZE);
	assert_int_equal(cur_peek_be16(&c, 0, &v16), -EMSGSIZE);
	assert_int_equal(cur_bytes(&c, 1, &p), -EMSGSIZE);
	assert_null(p);
	assert_int_equal(v8, 0xaa);
	assert_int_equal(v16, 0xaaaa);
	assert_true(v32 == 0xaaaaaaaau);
	assert_int_equal(c.off, 0);
}

static void test_zero_length_reads_succeed(void **state)
{
	struct cursor c = cur_make(bytes, 0);
	const uint8_t *p = NULL;

	(void)state;
	assert_int_equal(cur_skip(&c, 0), 0);
	assert_int_equal(cur_need(&c, 0), 0);
	assert_int_equal(cur_bytes(&c, 0, &p), 0);
	assert_ptr_equal(p, bytes);
	assert_int_equal(cur_narrow(&c, 0), 0);
	assert_int_equal(c.len, 0);
	assert_int_equal(cur_narrow(&c, 1), -EBADMSG);
}

/* ---- Huge lengths must not overflow ------------------------------------- */

static void test_skip_size_max_fails(void **state)
{
	struct cursor c = at(3, 5);

	(void)state;
	assert_int_equal(cur_skip(&c, SIZE_MAX), -EMSGSIZE);
	assert_int_equal(cur_skip(&c, SIZE_MAX - 2), -EMSGSIZE);
	assert_int_equal(cur_need(&c, SIZE_MAX), -EMSGSIZE);
	assert_int_equal(c.off, 3);
	assert_int_equal(c.len, 8);
}

static void test_bytes_size_max_fails(void **state)
{
	struct cursor c = at(1, 7);
	const uint8_t *p = NULL;

	(void)state;
	assert_int_equal(cur_bytes(&c, SIZE_MAX, &p), -EMSGSIZE);
	assert_null(p);
	assert_int_equal(c.off, 1);
}

/* ---- Peeking at absolute offsets ------------------------------------------ */

static void test_peek_is_absolute_and_does_not_move(void **state)
{
	struct cursor c = at(6, 2);
	uint8_t v8 = 0;
	uint16_t v16 = 0;

	(void)state;
	assert_int_equal(cur_peek_u8(&c, 0, &v8), 0);
	assert_int_equal(v8, 0x01);
	assert_int_equal(cur_peek_u8(&c, 7, &v8), 0);
	assert_int_equal(v8, 0x08);
	assert_int_equal(cur_peek_be16(&c, 6, &v16), 0);
	assert_int_equal(v16, 0x0708);
	assert_int_equal(c.off, 6);
}

static void test_peek_past_end_fails(void **state)
{
	struct cursor c = cur_make(bytes, sizeof(bytes));
	uint8_t v8 = 0xaa;
	uint16_t v16 = 0xaaaa;

	(void)state;
	assert_int_equal(cur_peek_u8(&c, 8, &v8), -EMSGSIZE);
	assert_int_equal(cur_peek_u8(&c, SIZE_MAX, &v8), -EMSGSIZE);
	assert_int_equal(cur_peek_be16(&c, 7, &v16), -EMSGSIZE);
	assert_int_equal(cur_peek_be16(&c, 8, &v16), -EMSGSIZE);
	assert_int_equal(cur_peek_be16(&c, 9, &v16), -EMSGSIZE);
	assert_int_equal(cur_peek_be16(&c, SIZE_MAX, &v16), -EMSGSIZE);
	assert_int_equal(cur_peek_be16(&c, SIZE_MAX - 1, &v16), -EMSGSIZE);
	assert_int_equal(v8, 0xaa);
	assert_int_equal(v16, 0xaaaa);
}

/* ---- cur_rest and cur_narrow ---------------------------------------------- */

static void test_rest_starts_at_zero(void **state)
{
	struct cursor c = at(3, 5);
	struct cursor r = cur_rest(&c);
	uint8_t v = 0;

	(void)state;
	assert_ptr_equal(r.p, bytes + 3);
	assert_int_equal(r.off, 0);
	assert_int_equal(r.len, 5);
	assert_int_equal(cur_u8(&r, &v), 0);
	assert_int_equal(v, 0x04);
	assert_int_equal(c.off, 3); /* the parent does not move */
}

static void test_rest_at_end_is_empty(void **state)
{
	struct cursor c = at(8, 0);
	struct cursor r = cur_rest(&c);
	uint8_t v = 0xaa;

	(void)state;
	assert_int_equal(r.len, 0);
	assert_int_equal(cur_u8(&r, &v), -EMSGSIZE);
	assert_int_equal(v, 0xaa);
}

static void test_narrow_within(void **state)
{
	struct cursor c = at(2, 6);
	uint32_t v = 0;
	uint8_t b = 0xaa;

	(void)state;
	assert_int_equal(cur_narrow(&c, 3), 0);
	assert_int_equal(c.off, 2);
	assert_int_equal(c.len, 5);
	assert_int_equal(cur_left(&c), 3);
	assert_int_equal(cur_be24(&c, &v), 0);
	assert_int_equal(v, 0x030405);
	assert_int_equal(cur_u8(&c, &b), -EMSGSIZE);
	assert_int_equal(b, 0xaa);
}

static void test_narrow_to_exact_rest(void **state)
{
	struct cursor c = at(2, 6);

	(void)state;
	assert_int_equal(cur_narrow(&c, 6), 0);
	assert_int_equal(c.len, 8);
	assert_int_equal(c.off, 2);
}

/* A whole frame cannot hold a longer layer: the declared length is wrong. */
static void test_narrow_beyond_end_leaves_cursor(void **state)
{
	struct cursor c = at(2, 6);

	(void)state;
	assert_int_equal(cur_narrow(&c, 7), -EBADMSG);
	assert_int_equal(c.len, 8);
	assert_int_equal(c.off, 2);
	assert_int_equal(cur_narrow(&c, SIZE_MAX), -EBADMSG);
	assert_int_equal(cur_narrow(&c, SIZE_MAX - 1), -EBADMSG);
	assert_int_equal(c.len, 8);
	assert_int_equal(c.off, 2);
	assert_false(c.cut);
}

/* In a cut capture the same length is only truncation, and stays cut. */
static void test_narrow_beyond_end_of_cut_capture_is_truncation(void **state)
{
	struct cursor c = at(2, 6);

	(void)state;
	c.cut = true;
	assert_int_equal(cur_narrow(&c, 7), -EMSGSIZE);
	assert_int_equal(c.len, 8);
	assert_true(c.cut);
	assert_int_equal(cur_end_error(&c), -EMSGSIZE);
}

/* A layer that fits what was captured is whole, wherever the capture ended. */
static void test_narrow_within_clears_cut_and_rest_keeps_it(void **state)
{
	struct cursor c = at(0, 8), rest;

	(void)state;
	c.cut = true;
	rest = cur_rest(&c);
	assert_true(rest.cut);
	assert_int_equal(cur_narrow(&c, 4), 0);
	assert_false(c.cut);
	assert_int_equal(cur_end_error(&c), -EBADMSG);
}

static void test_narrow_never_widens(void **state)
{
	struct cursor c = at(0, 8);

	(void)state;
	assert_int_equal(cur_narrow(&c, 4), 0);
	assert_int_equal(cur_narrow(&c, 5), -EBADMSG);
	assert_int_equal(c.len, 4);
	assert_int_equal(cur_skip(&c, 5), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u8_reads_and_advances),
		cmocka_unit_test(test_be_and_le_values),
		cmocka_unit_test(test_high_bit_values_do_not_sign_extend),
		cmocka_unit_test(test_readers_succeed_at_exact_end),
		cmocka_unit_test(test_u8_one_short),
		cmocka_unit_test(test_16bit_one_short),
		cmocka_unit_test(test_24bit_one_short),
		cmocka_unit_test(test_32bit_one_short),
		cmocka_unit_test(test_bytes_skip_need_one_short),
		cmocka_unit_test(test_zero_length_buffer),
		cmocka_unit_test(test_zero_length_reads_succeed),
		cmocka_unit_test(test_skip_size_max_fails),
		cmocka_unit_test(test_bytes_size_max_fails),
		cmocka_unit_test(test_peek_is_absolute_and_does_not_move),
		cmocka_unit_test(test_peek_past_end_fails),
		cmocka_unit_test(test_rest_starts_at_zero),
		cmocka_unit_test(test_rest_at_end_is_empty),
		cmocka_unit_test(test_narrow_within),
		cmocka_unit_test(test_narrow_to_exact_rest),
		cmocka_unit_test(test_narrow_beyond_end_leaves_cursor),
		cmocka_unit_test(test_narrow_never_widens),
		cmocka_unit_test(test_narrow_beyond_end_of_cut_capture_is_truncation),
		cmocka_unit_test(test_narrow_within_clears_cut_and_rest_keeps_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
