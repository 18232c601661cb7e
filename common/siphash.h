/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed 64-bit hash for tables keyed by network data. With a
 * secret random key, whoever chooses the addresses cannot choose which
 * bucket they land in, so chains stay short whatever the traffic; an
 * unkeyed hash (FNV-1a, as webd's host table had) lets 30,000 chosen IPv6
 * addresses share one bucket.
 *
 * Why our own ~40 lines: OpenSSL has SipHash behind EVP_MAC, but each use
 * allocates and frees a context (EVP_MAC_CTX_new/_free), far too slow for a
 * hash taken several times a packet; glibc has none. This one hashes 17
 * bytes in about 20 ns without allocating. Checked against the reference
 * vectors of the paper in tests/unit/test_siphash.c.
 */
#ifndef WL_SIPHASH_H
#define WL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct wl_siphash_key {
	uint64_t k0, k1;
};

/* The key from 16 bytes, read as two little-endian words (the reference's convention). */
void wl_siphash_key_from_bytes(struct wl_siphash_key *ret, const uint8_t bytes[16]);

/*
 * A random key from getrandom(2) (blocking only until the kernel's pool is
 * first initialised, long before any daemon starts). Returns 0, or a
 * negative errno with *ret untouched.
 */
int wl_siphash_key_random(struct wl_siphash_key *ret);

/* SipHash-2-4 of data[0..len) under key. */
uint64_t wl_siphash24(const struct wl_siphash_key *key, const void *data, size_t len);

#endif
