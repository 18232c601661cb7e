/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Byte strings shared by many flows, kept once: server names (thousands of
 * flows to one SNI) and tunnel endpoint pairs. A bounded pool with reference
 * counts, looked up through a keyed hash; when it is full, new strings are
 * refused (the caller counts that) rather than memory growing.
 */
#ifndef CAPD_FLOW_INTERN_H
#define CAPD_FLOW_INTERN_H

#include "siphash.h"

#include <stddef.h>
#include <stdint.h>

struct flow_intern;

struct flow_intern *flow_intern_new(uint32_t max_items, size_t max_bytes, const struct wl_siphash_key *key);
struct flow_intern *flow_intern_free(struct flow_intern *p);

/* A reference (> 0) to a copy of data[0..len), or 0 when the pool is full. */
uint32_t flow_intern_get(struct flow_intern *p, const void *data, size_t len);
void flow_intern_put(struct flow_intern *p, uint32_t ref);
const void *flow_intern_data(const struct flow_intern *p, uint32_t ref, size_t *len);

/* Bytes allocated. */
size_t flow_intern_memory(const struct flow_intern *p);

#endif
