/* SPDX-License-Identifier: BSD-2-Clause */
#include "siphash.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

static uint64_t read_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void wl_siphash_key_from_bytes(struct wl_siphash_key *ret, const uint8_t bytes[16])
{
	ret->k0 = read_le64(bytes);
	ret->k1 = read_le64(bytes + 8);
}

int wl_siphash_key_random(struct wl_siphash_key *ret)
{
	uint8_t bytes[16];
	size_t got = 0;

	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	wl_siphash_key_from_bytes(ret, bytes);
	return 0;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13) ^ s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17) ^ s->v2;
	s->v2 = ROTL(s->v2, 32);
}

/* Two rounds per 8-byte word ("2"), four at the end ("4"). */
static void sip_absorb(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t wl_siphash24(const struct wl_siphash_key *key, const void *data, size_t len)
{
	const uint8_t *p = data;
	struct sip_state s = {
		.v0 = key->k0 ^ 0x736f6d6570736575ULL, /* "somepseudorandomlygeneratedbytes" */
		.v1 = key->k1 ^ 0x646f72616e646f6dULL,
		.v2 = key->k0 ^ 0x6c7967656e657261ULL,
		.v3 = key->k1 ^ 0x7465646279746573ULL,
	};
	uint64_t last = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		sip_absorb(&s, read_le64(p + i));
	/* The last 0-7 bytes, little-endian, with the length in the top byte. */
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	sip_absorb(&s, last);
	s.v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
