/* SPDX-License-Identifier: BSD-2-Clause */
#include "http/promtext.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

static bool continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/*
 * The length of the well-formed UTF-8 character at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t utf8_length(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	/* A NUL ends the string: it is no continuation byte, so no read goes past it. */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (!continuation(s[i]))
			return 0;
	return n;
}

void promtext_label_value(struct text *t, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;

	while (*s) {
		size_t n = utf8_length(s);

		if (n == 0) {
			text_add(t, REPLACEMENT, 3);
			s++;
		} else if (*s == '\\' || *s == '"') {
			text_add(t, "\\", 1);
			text_add(t, (const char *)s, 1);
			s++;
		} else if (*s == '\n') {
			text_add(t, "\\n", 2);
			s++;
		} else {
			text_add(t, (const char *)s, n);
			s += n;
		}
	}
}

/* HELP text escapes a backslash and a line feed (not the quote). */
static void help_text(struct text *t, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			text_add(t, "\\\\", 2);
		else if (*p == '\n')
			text_add(t, "\\n", 2);
		else
			text_add(t, p, 1);
	}
}

void promtext_family(struct text *t, const char *name, const char *type, const char *help)
{
	text_addf(t, "# HELP %s ", name);
	help_text(t, help);
	text_addf(t, "\n# TYPE %s %s\n", name, type);
}

static void sample_start(struct text *t, const char *name, const char *label, const char *value)
{
	text_add(t, name, strlen(name));
	if (!label)
		return;
	text_addf(t, "{%s=\"", label);
	promtext_label_value(t, value ? value : "");
	text_add(t, "\"}", 2);
}

void promtext_u64(struct text *t, const char *name, const char *label, const char *value, uint64_t v)
{
	sample_start(t, name, label, value);
	text_addf(t, " %llu\n", (unsigned long long)v);
}

/* 15 significant digits when they read back as v (0.12, not 0.11999999999999999), else 17. */
static const char *shortest(double v, char *buf, size_t size)
{
	snprintf(buf, size, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, size, "%.17g", v);
	return buf;
}

void promtext_double(struct text *t, const char *name, const char *label, const char *value, double v)
{
	char buf[40];

	sample_start(t, name, label, value);
	if (isnan(v))
		text_add(t, " NaN\n", 5);
	else if (isinf(v))
		text_add(t, v > 0 ? " +Inf\n" : " -Inf\n", 6);
	else
		text_addf(t, " %s\n", shortest(v, buf, sizeof(buf)));
}
