/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The v1 flow JSON schema: one object per flow report, one line each, shared
 * by `wlite-capd --read FILE --flows` and `wlite-tap --topic flow`. The keys
 * are a public interface: see README.md, "Flow JSON (schema v1)".
 */
#ifndef WL_FLOW_JSON_H
#define WL_FLOW_JSON_H

#include "wlite-wire.h"

#include <stddef.h>

/* Enough for any record: the name escapes to at most 6 bytes a byte. */
#define WL_JSON_FLOW_MAX 4096

/*
 * Writes f as one JSON object and '\n' into buf; sensor, when not NULL, goes
 * first as "sensor". Returns the bytes written, or -ENOBUFS.
 */
long wl_json_flow(const struct wl_flow_record *f, const char *sensor, char *buf, size_t size);

#endif
