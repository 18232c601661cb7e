/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JSON writer behind the packet and flow schemas: hand-rolled for the
 * per-packet hot path (cJSON would allocate a tree per packet, and this runs
 * a million times a second), into the caller's buffer. Internal to common/.
 */
#ifndef WL_JSON_WRITER_H
#define WL_JSON_WRITER_H

#include "dissect.h" /* wl_sb_addr */
#include "fmt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jw {
	char *p;
	char *end;
	bool overflow;
	bool need_comma;
};

static inline void put_mem(struct jw *w, const char *s, size_t n)
{
	if (n > (size_t)(w->end - w->p)) {
		w->overflow = true;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

static inline void put_char(struct jw *w, char ch)
{
	if (w->p >= w->end) {
		w->overflow = true;
		return;
	}
	*w->p++ = ch;
}

static inline void put_lit(struct jw *w, const char *s)
{
	put_mem(w, s, strlen(s));
}

static inline void put_u64(struct jw *w, uint64_t v)
{
	if (w->end - w->p < 20) {
		w->overflow = true;
		return;
	}
	w->p += wl_fmt_u64(w->p, v);
}

static inline void put_i64(struct jw *w, int64_t v)
{
	if (v < 0) {
		put_char(w, '-');
		put_u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(w, (uint64_t)v);
	}
}

/* True for a byte that JSON requires escaped: controls, '"' and '\\'. */
static inline bool needs_escape(unsigned char ch)
{
	return ch < 0x20 || ch == '"' || ch == '\\';
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Whether any of the 8 bytes in x is below 0x20 (NUL included), '"' or '\\'. */
static inline bool chunk_is_special(uint64_t x)
{
	uint64_t quote = x ^ (ONES * '"'), backslash = x ^ (ONES * '\\');

	return (((x - ONES * 0x20) & ~x) | ((quote - ONES) & ~quote) |
		((backslash - ONES) & ~backslash)) & HIGHS;
}

static inline void put_escaped(struct jw *w, unsigned char ch)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };

	if (ch == '"' || ch == '\\') {
		put_char(w, '\\');
		put_char(w, (char)ch);
	} else {
		put_mem(w, esc, sizeof(esc));
	}
}

/*
 * Strings from proto/ are printable ASCII plus the UTF-8 arrow in info[];
 * anything else is escaped, so hostile bytes cannot break the line.
 */
/*
 * Writes the NUL-terminated string in s[0..cap) as a JSON string. The scan
 * goes 8 bytes at a time while it stays inside the array, which is why the
 * caller passes its size: the hot strings (info, names) are long.
 */
static inline void put_string_in(struct jw *w, const char *s, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;

	put_char(w, '"');
	for (;;) {
		uint64_t x;
		size_t stop;

		while (i + 8 <= cap) {
			memcpy(&x, u + i, 8);
			if (chunk_is_special(x))
				break;
			i += 8;
		}
		/* Walk the chunk that held something special byte by byte. */
		for (stop = i + 8 < cap ? i + 8 : cap; i < stop && u[i]; i++) {
			if (needs_escape(u[i])) {
				put_mem(w, s + start, i - start);
				put_escaped(w, u[i]);
				start = i + 1;
			}
		}
		if (i >= cap || u[i] == '\0')
			break;
	}
	put_mem(w, s + start, i - start);
	put_char(w, '"');
}

static inline void put_string(struct jw *w, const char *s)
{
	put_string_in(w, s, strlen(s) + 1);
}

/* Keys are literals, so their length is known at compile time. */
#define key(w, k) key_n((w), "\"" k "\":", sizeof(k) + 2)

static inline void key_n(struct jw *w, const char *quoted, size_t n)
{
	if (w->need_comma)
		put_char(w, ',');
	put_mem(w, quoted, n);
	w->need_comma = true;
}

static inline void open_obj(struct jw *w)
{
	put_char(w, '{');
	w->need_comma = false;
}

static inline void close_obj(struct jw *w)
{
	put_char(w, '}');
	w->need_comma = true;
}

#define kv_u64(w, k, v) (key(w, k), put_u64((w), (v)))
#define kv_str(w, k, v) (key(w, k), put_string((w), (v)))
/* A value known to need no escaping (our own ASCII words): no scan for specials. */
#define kv_word(w, k, v) (key(w, k), put_char((w), '"'), put_lit((w), (v)), put_char((w), '"'))
#define kv_bool(w, k, v) (key(w, k), put_lit((w), (v) ? "true" : "false"))

/* Two lowercase hex digits for every byte value: MACs are in every line. */
static const char wl_json_hex_pairs[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
				 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
				 "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
				 "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
				 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
				 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
				 "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
				 "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static inline void put_mac(struct jw *w, const uint8_t *m)
{
	char *out = w->p;

	if (w->end - w->p < 19) {
		w->overflow = true;
		return;
	}
	out[0] = '"';
	for (int i = 0; i < 6; i++) {
		memcpy(out + 1 + i * 3, wl_json_hex_pairs + 2 * m[i], 2);
		out[3 + i * 3] = ':';
	}
	out[18] = '"';
	w->p += 19;
}

/* Address text is digits, dots, colons and hex letters: nothing to escape. */
static inline void put_addr(struct jw *w, const struct wl_addr *a)
{
	char text[64];
	struct wl_sb sb;

	if (a->family == 4 && w->end - w->p >= 20) {
		/* The common case, written in place. */
		*w->p++ = '"';
		w->p += wl_fmt_ipv4(w->p, a->b);
		*w->p++ = '"';
		return;
	}
	sb = wl_sb_make(text, sizeof(text));
	wl_sb_addr(&sb, a);
	put_char(w, '"');
	put_mem(w, text, sb.len);
	put_char(w, '"');
}

/* Timestamps are seconds with exactly six decimals. */
static inline void put_time(struct jw *w, int64_t sec, uint32_t usec)
{
	char frac[6];

	sec += usec / 1000000;
	usec %= 1000000;
	put_i64(w, sec);
	put_char(w, '.');
	/* Six digits, zeros kept: three pairs from the table. */
	memcpy(frac, wl_digit_pairs + usec / 10000 * 2, 2);
	memcpy(frac + 2, wl_digit_pairs + usec / 100 % 100 * 2, 2);
	memcpy(frac + 4, wl_digit_pairs + usec % 100 * 2, 2);
	put_mem(w, frac, sizeof(frac));
}

#define kv_ts(w, sec, usec) (key(w, "ts"), put_time((w), (sec), (usec)))

#endif
