/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Building test frames byte by byte, big-endian, for the whole-frame tests.
 * Include after <cmocka.h>: a frame that outgrows its buffer fails the test.
 */
#ifndef WL_TEST_FRAME_H
#define WL_TEST_FRAME_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct frame {
	uint8_t b[4096];
	size_t n;
};

static const uint8_t MAC_DST[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t MAC_SRC[6] = { 0x02, 0, 0, 0, 0, 0x0a };

static inline void put_u8(struct frame *f, uint8_t v)
{
	assert_true(f->n < sizeof(f->b));
	f->b[f->n++] = v;
}

static inline void put_u16(struct frame *f, uint16_t v)
{
	put_u8(f, (uint8_t)(v >> 8));
	put_u8(f, (uint8_t)v);
}

static inline void put_u32(struct frame *f, uint32_t v)
{
	put_u16(f, (uint16_t)(v >> 16));
	put_u16(f, (uint16_t)v);
}

static inline void put_mem(struct frame *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_u8(f, ((const uint8_t *)p)[i]);
}

static inline void put_fill(struct frame *f, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_u8(f, v);
}

/* Patches a length once what it covers is written. */
static inline void set_u16(struct frame *f, size_t at, uint16_t v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static inline void put_addr(struct frame *f, int family, const char *text)
{
	uint8_t b[16];

	assert_int_equal(inet_pton(family, text, b), 1);
	put_mem(f, b, family == AF_INET ? 4 : 16);
}

#endif
