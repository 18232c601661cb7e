/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/siphash.c against the reference vectors of the SipHash paper
 * (SipHash-2-4, 64-bit output): key 00 01 .. 0f, message 00 01 .. n-1 for
 * n = 0..63. Every length exercises another split between whole words and
 * the last partial one. Also: the random key differs between calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "siphash.h"

static const uint64_t reference[64] = {
	0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
	0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
	0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
	0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
	0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
	0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
	0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
	0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
	0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
	0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
	0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
	0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
	0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
	0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
	0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
	0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

static void reference_vectors(void **state)
{
	uint8_t key_bytes[16], msg[64];
	struct wl_siphash_key key;

	(void)state;
	for (int i = 0; i < 16; i++)
		key_bytes[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	wl_siphash_key_from_bytes(&key, key_bytes);
	assert_int_equal(key.k0, 0x0706050403020100ULL);
	assert_int_equal(key.k1, 0x0f0e0d0c0b0a0908ULL);
	for (size_t n = 0; n < 64; n++) {
		uint64_t got = wl_siphash24(&key, msg, n);

		if (got != reference[n])
			fail_msg("length %zu: 0x%016llx, the reference says 0x%016llx", n, (unsigned long long)got,
				 (unsigned long long)reference[n]);
	}
}

/* Unaligned input gives the same answer (words are read byte by byte). */
static void unaligned_input(void **state)
{
	uint8_t key_bytes[16] = { 0 }, buf[80];
	struct wl_siphash_key key;

	(void)state;
	for (int i = 0; i < 16; i++)
		key_bytes[i] = (uint8_t)i;
	wl_siphash_key_from_bytes(&key, key_bytes);
	for (int i = 0; i < 63; i++)
		buf[1 + i] = (uint8_t)i;
	assert_int_equal(wl_siphash24(&key, buf + 1, 63), reference[63]);
}

static void random_keys_differ(void **state)
{
	struct wl_siphash_key a, b;
	const char msg[] = "2001:db8::1";

	(void)state;
	assert_int_equal(wl_siphash_key_random(&a), 0);
	assert_int_equal(wl_siphash_key_random(&b), 0);
	assert_false(a.k0 == b.k0 && a.k1 == b.k1);
	assert_int_not_equal(wl_siphash24(&a, msg, strlen(msg)), wl_siphash24(&b, msg, strlen(msg)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_vectors),
		cmocka_unit_test(unaligned_input),
		cmocka_unit_test(random_keys_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
