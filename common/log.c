/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Set once at start-up, like the loaded config; never changed afterwards. */
static struct {
	const char *prog;
	enum wl_log_level max_level;
	int prefix_levels; /* stderr is journald's: "<N>" prefixes set priorities */
} log_setup = { "wlite", WL_LOG_INFO, 0 };

void wl_log_setup(const char *prog, enum wl_log_level max_level)
{
	log_setup.prog = prog;
	log_setup.max_level = max_level;
	/* systemd sets JOURNAL_STREAM when stderr is the journal, which reads
	 * "<N>" as the priority; terminals and test pipes get plain lines. */
	log_setup.prefix_levels = getenv("JOURNAL_STREAM") != NULL;
}

/*
 * The length of the well-formed UTF-8 sequence at s (NUL-terminated) when it
 * encodes a character that is safe to show as it is, else 0. Refused: overlong
 * forms, surrogates, code points past U+10FFFF, the C1 controls U+0080-U+009F
 * and U+2028/U+2029, which some log viewers take for line breaks.
 */
static size_t utf8_printable(const unsigned char *s)
{
	uint32_t cp, min;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	/* A NUL is no continuation byte: the loop stops at the end of s. */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f ||
	    cp == 0x2028 || cp == 0x2029)
		return 0;
	return len;
}

size_t wl_log_escape(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, n = 0;

	if (size == 0)
		return 0;
	while (s[n]) {
		char esc[4];
		size_t len = 1, keep;
		const char *piece = esc;

		if (s[n] == '\\') {
			esc[0] = esc[1] = '\\';
			len = 2;
		} else if (s[n] >= 0x20 && s[n] < 0x7f) {
			piece = (const char *)s + n;
		} else if ((keep = utf8_printable(s + n)) > 0) {
			piece = (const char *)s + n;
			len = keep;
		} else {
			esc[0] = '\\', esc[1] = 'x', esc[2] = hex[s[n] >> 4], esc[3] = hex[s[n] & 15];
			len = 4;
		}
		if (out + len >= size)
			break; /* never half an escape or half a character */
		for (size_t i = 0; i < len; i++)
			dst[out++] = piece[i];
		n += piece == esc ? 1 : len;
	}
	dst[out] = '\0';
	return out;
}

void wl_log(enum wl_log_level level, const char *fmt, ...)
{
	char line[WL_LOG_TEXT_MAX], safe[WL_LOG_LINE_MAX];
	va_list ap;

	if (level > log_setup.max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Whatever went into the line (a client's filter text, a file name, a
	 * peer's error) cannot start a second line or forge a "<N>" priority. */
	wl_log_escape(safe, sizeof(safe), line);
	if (log_setup.prefix_levels)
		fprintf(stderr, "<%d>%s: %s\n", (int)level, log_setup.prog, safe);
	else
		fprintf(stderr, "%s: %s\n", log_setup.prog, safe);
}
