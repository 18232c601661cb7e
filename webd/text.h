/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A growing text buffer, for answers whose size depends on the data (feed
 * updates, packet lists): built under the state lock, sent after it.
 */
#ifndef WEBD_TEXT_H
#define WEBD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct text {
	char *buf;
	size_t len, cap;
	bool failed; /* out of memory: the text is incomplete */
};

void text_add(struct text *t, const char *s, size_t n);
void text_addf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void text_free(struct text *t);

#endif
