/* SPDX-License-Identifier: BSD-2-Clause */
#include "query.h"

#include "wlite-proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* %-decodes in[0..n) into out; -EINVAL if malformed, too long or holding a NUL. */
static int url_decode(const char *in, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)in[i];

		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%') {
			if (i + 2 >= n || hex_value(in[i + 1]) < 0 || hex_value(in[i + 2]) < 0)
				return -EINVAL;
			ch = hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]);
			i += 2;
		}
		if (ch == 0 || o + 1 >= size)
			return -EINVAL;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return 0;
}

int query_each(const char *query, query_fn fn, void *ctx, char *err, size_t errlen)
{
	while (query && *query) {
		const char *amp = strchr(query, '&'), *eq;
		size_t n = amp ? (size_t)(amp - query) : strlen(query);
		char key[32], value[QUERY_VALUE_MAX];

		eq = memchr(query, '=', n);
		if (eq && (size_t)(eq - query) < sizeof(key)) {
			int r;

			memcpy(key, query, (size_t)(eq - query));
			key[eq - query] = '\0';
			if (url_decode(eq + 1, n - (size_t)(eq - query) - 1, value, sizeof(value)) < 0) {
				snprintf(err, errlen, "parameter '%s' is malformed, holds a NUL or is longer than %d bytes",
					 key, QUERY_VALUE_MAX - 1);
				return -EINVAL;
			}
			if ((r = fn(ctx, key, value, err, errlen)) < 0)
				return r;
		}
		query = amp ? amp + 1 : NULL;
	}
	return 0;
}

int query_addr(const char *v, struct wl_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, v, a->b) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, v, a->b) == 1)
		a->family = 6;
	else
		return -EINVAL;
	return 0;
}
