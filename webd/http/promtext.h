/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus's text exposition format, version 0.0.4, written into a
 * growing text: a family is its "# HELP" and "# TYPE" lines followed by all
 * of its samples, one a line, "name{label="value"} number". Label values
 * may hold any UTF-8; a backslash, a double quote and a line feed are
 * escaped, and bytes that are not UTF-8 (a sensor name is whatever the
 * configuration said) become U+FFFD, so that the exposition always parses.
 * Pure functions on strings: unit-tested without a server.
 */
#ifndef WEBD_PROMTEXT_H
#define WEBD_PROMTEXT_H

#include "text.h"

#include <stdint.h>

#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The HELP and TYPE lines (type: "counter", "gauge", "untyped"). */
void promtext_family(struct text *t, const char *name, const char *type, const char *help);

/*
 * One sample: name, at most one label (label NULL: none), and its value.
 * Counters and most gauges are whole numbers; times and CPU are not.
 */
void promtext_u64(struct text *t, const char *name, const char *label, const char *value, uint64_t v);
void promtext_double(struct text *t, const char *name, const char *label, const char *value, double v);

/* A label value, escaped, without its quotes. */
void promtext_label_value(struct text *t, const char *value);

#endif
