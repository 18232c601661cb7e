/* SPDX-License-Identifier: BSD-2-Clause */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(struct text *t, size_t more)
{
	char *bigger;
	size_t cap = t->cap;

	if (t->failed || t->len + more <= t->cap)
		return;
	while (t->len + more > cap)
		cap = cap ? cap * 2 : 16384;
	bigger = realloc(t->buf, cap);
	if (!bigger) {
		t->failed = true;
		return;
	}
	t->buf = bigger;
	t->cap = cap;
}

void text_add(struct text *t, const char *s, size_t n)
{
	reserve(t, n + 1);
	if (t->failed)
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

void text_addf(struct text *t, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		text_add(t, small, (size_t)n);
		return;
	}
	reserve(t, (size_t)n + 1);
	if (t->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

void text_free(struct text *t)
{
	free(t->buf);
	*t = (struct text){ 0 };
}
