/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Byte strings shared by many records, kept once: server names (thousands
 * of flows to one SNI) and tunnel endpoint pairs, in the flow tables of capd
 * and webd. A bounded pool with reference counts, looked up through a keyed
 * hash; when it is full, new strings are refused (the caller counts that)
 * rather than memory growing.
 */
#ifndef WL_INTERN_H
#define WL_INTERN_H

#include "siphash.h"

#include <stddef.h>
#include <stdint.h>

struct wl_intern;

struct wl_intern *wl_intern_new(uint32_t max_items, size_t max_bytes, const struct wl_siphash_key *key);
struct wl_intern *wl_intern_free(struct wl_intern *p);

/* A reference (> 0) to a copy of data[0..len), or 0 when the pool is full. */
uint32_t wl_intern_get(struct wl_intern *p, const void *data, size_t len);
void wl_intern_put(struct wl_intern *p, uint32_t ref);
const void *wl_intern_data(const struct wl_intern *p, uint32_t ref, size_t *len);

/* Bytes allocated. */
size_t wl_intern_memory(const struct wl_intern *p);

#endif
