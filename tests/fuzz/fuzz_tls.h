/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capd's TLS handshake reassembly (capd/tls_reasm.c) fed with whatever
 * wl_dissect() makes of fuzz inputs, as capd feeds it: one small table for
 * the whole run, so that a replayed capture's segments complete real
 * hellos. The texts then get stand-in fingerprints (no libcrypto here: the
 * hashes are not what is fuzzed), so that the flow table, the wire and the
 * JSON see packets that carry them.
 */
#ifndef WL_FUZZ_TLS_H
#define WL_FUZZ_TLS_H

#include "wlite-proto.h"

#include <stddef.h>
#include <stdint.h>

/* Reassembles; returns 1 when pkt now holds a hello completed by this frame. */
int wl_fuzz_tls(struct wl_packet *pkt, const uint8_t *frame, size_t caplen);

#endif
