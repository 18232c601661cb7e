/* SPDX-License-Identifier: BSD-2-Clause */
/* Query strings: key=value pairs, values %-decoded, for every API filter. */
#ifndef WEBD_QUERY_H
#define WEBD_QUERY_H

#include <stddef.h>

#define QUERY_VALUE_MAX 256

typedef int (*query_fn)(void *ctx, const char *key, const char *value, char *err, size_t errlen);

/*
 * Calls fn for each key=value of query (NULL is empty), in order, with the
 * value %-decoded ('+' is a space). Returns 0, fn's first error, or -EINVAL
 * with a message for a value that is malformed, longer than
 * QUERY_VALUE_MAX - 1 bytes or holds a NUL once decoded.
 */
int query_each(const char *query, query_fn fn, void *ctx, char *err, size_t errlen);

struct wl_addr;

/* Reads an IPv4 or IPv6 address (a query value). Returns 0 or -EINVAL. */
int query_addr(const char *v, struct wl_addr *a);

#endif
