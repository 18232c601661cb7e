/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS fingerprints on capd's packet path: the handshake reassembly
 * (tls_reasm.h) first, then the hashes of the texts proto/ built (JA3 and
 * JA3S: MD5; JA4: SHA-256 cut to 12 hex digits), with OpenSSL's libcrypto.
 * Kept out of proto/: EVP allocates. Every path that decodes raw bytes into
 * packets (capture, --read --json, --read --flows) goes through here.
 */
#ifndef CAPD_FINGERPRINT_H
#define CAPD_FINGERPRINT_H

#include "tls_reasm.h"
#include "wlite-proto.h"

#include <stddef.h>
#include <stdint.h>

struct fingerprint_stats {
	uint64_t ja3, ja3s, ja4; /* fingerprints made */
	uint64_t too_long;       /* hellos whose texts outgrew their bounds (WL_TLS_CUT_JA*) */
	uint64_t alpn_cut;       /* ClientHellos whose ALPN list was not kept whole */
	uint64_t failed;         /* hashes libcrypto refused */
	struct tls_reasm_stats reasm;
};

struct fingerprints;

/* NULL with *err set (-ENOMEM, or -EIO when libcrypto has no MD5 or SHA-256). */
struct fingerprints *fingerprints_new(int *err);
struct fingerprints *fingerprints_free(struct fingerprints *f);

/* After wl_dissect() of frame[0..caplen): reassembles, then hashes what pkt has. */
void fingerprints_packet(struct fingerprints *f, struct wl_packet *pkt, const uint8_t *frame, size_t caplen);

/* Hashes the texts pkt carries into tls.ja3, ja3s, ja4 (no reassembly). */
void fingerprints_hash(struct fingerprints *f, struct wl_packet *pkt);

void fingerprints_stats(const struct fingerprints *f, struct fingerprint_stats *ret);

#endif
