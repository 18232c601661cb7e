/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A bounds-checked read cursor over hostile packet bytes.
 *
 * Every read of packet memory in proto/ goes through these helpers. Each one
 * checks "n > len - off", which cannot overflow because off <= len always
 * holds. A read past the end returns -EMSGSIZE (the capture was cut short);
 * decoders return -EBADMSG themselves when a field contradicts the format.
 * Outputs are left untouched on failure.
 */
#ifndef WL_CURSOR_H
#define WL_CURSOR_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t off;
	/*
	 * The bytes go on past len on the wire, but were not captured (snaplen),
	 * or sit in another IP fragment. Reading past len is then truncation;
	 * without it, a layer that runs past len contradicts its own lengths.
	 */
	bool cut;
};

static inline struct cursor cur_make(const uint8_t *p, size_t len)
{
	return (struct cursor){ .p = p, .len = len, .off = 0, .cut = false };
}

/* The error for a read that ran off the end: see cut. */
static inline int cur_end_error(const struct cursor *c)
{
	return c->cut ? -EMSGSIZE : -EBADMSG;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->len - c->off;
}

static inline int cur_need(const struct cursor *c, size_t n)
{
	return n > c->len - c->off ? -EMSGSIZE : 0;
}

static inline int cur_skip(struct cursor *c, size_t n)
{
	if (n > c->len - c->off)
		return -EMSGSIZE;
	c->off += n;
	return 0;
}

static inline int cur_u8(struct cursor *c, uint8_t *ret)
{
	if (1 > c->len - c->off)
		return -EMSGSIZE;
	*ret = c->p[c->off++];
	return 0;
}

static inline int cur_be16(struct cursor *c, uint16_t *ret)
{
	if (2 > c->len - c->off)
		return -EMSGSIZE;
	*ret = (uint16_t)((unsigned)c->p[c->off] << 8 | c->p[c->off + 1]);
	c->off += 2;
	return 0;
}

static inline int cur_le16(struct cursor *c, uint16_t *ret)
{
	if (2 > c->len - c->off)
		return -EMSGSIZE;
	*ret = (uint16_t)((unsigned)c->p[c->off + 1] << 8 | c->p[c->off]);
	c->off += 2;
	return 0;
}

static inline int cur_be24(struct cursor *c, uint32_t *ret)
{
	if (3 > c->len - c->off)
		return -EMSGSIZE;
	*ret = (uint32_t)c->p[c->off] << 16 | (uint32_t)c->p[c->off + 1] << 8 |
	       c->p[c->off + 2];
	c->off += 3;
	return 0;
}

static inline int cur_be32(struct cursor *c, uint32_t *ret)
{
	if (4 > c->len - c->off)
		return -EMSGSIZE;
	*ret = (uint32_t)c->p[c->off] << 24 | (uint32_t)c->p[c->off + 1] << 16 |
	       (uint32_t)c->p[c->off + 2] << 8 | c->p[c->off + 3];
	c->off += 4;
	return 0;
}

static inline int cur_be64(struct cursor *c, uint64_t *ret)
{
	uint64_t v = 0;

	if (8 > c->len - c->off)
		return -EMSGSIZE;
	for (int i = 0; i < 8; i++)
		v = v << 8 | c->p[c->off + i];
	c->off += 8;
	*ret = v;
	return 0;
}

static inline int cur_le32(struct cursor *c, uint32_t *ret)
{
	if (4 > c->len - c->off)
		return -EMSGSIZE;
	*ret = (uint32_t)c->p[c->off + 3] << 24 | (uint32_t)c->p[c->off + 2] << 16 |
	       (uint32_t)c->p[c->off + 1] << 8 | c->p[c->off];
	c->off += 4;
	return 0;
}

/* Points *ret at the next n bytes and steps over them. */
static inline int cur_bytes(struct cursor *c, size_t n, const uint8_t **ret)
{
	if (n > c->len - c->off)
		return -EMSGSIZE;
	*ret = c->p + c->off;
	c->off += n;
	return 0;
}

/* Reads a byte at an absolute offset without moving the cursor. */
static inline int cur_peek_u8(const struct cursor *c, size_t at, uint8_t *ret)
{
	if (at >= c->len)
		return -EMSGSIZE;
	*ret = c->p[at];
	return 0;
}

static inline int cur_peek_be16(const struct cursor *c, size_t at, uint16_t *ret)
{
	if (at > c->len || 2 > c->len - at)
		return -EMSGSIZE;
	*ret = (uint16_t)((unsigned)c->p[at] << 8 | c->p[at + 1]);
	return 0;
}

/*
 * The rest of the buffer as a new cursor that starts at offset 0, so that an
 * inner layer sees only its own bytes.
 */
static inline struct cursor cur_rest(const struct cursor *c)
{
	struct cursor rest = cur_make(c->p + c->off, c->len - c->off);

	rest.cut = c->cut;
	return rest;
}

/*
 * Narrows the cursor to the next n bytes, a header's declared length; the
 * layer then ends there, so it is no longer cut. When fewer than n bytes are
 * left, the cursor keeps what there is and returns -EMSGSIZE if the bytes
 * were cut, -EBADMSG if the declared length runs past a whole frame; the
 * caller decides whether to go on.
 */
static inline int cur_narrow(struct cursor *c, size_t n)
{
	if (n > c->len - c->off)
		return cur_end_error(c);
	c->len = c->off + n;
	c->cut = false;
	return 0;
}

#endif
