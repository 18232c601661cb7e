/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reassembly of the start of a TLS handshake, per TCP direction: when a
 * frame's ClientHello or ServerHello record goes on in later segments
 * (proto/ marks it WL_PKT_TLS_SEGMENT: post-quantum key shares make
 * Chrome's ClientHello about 1.8 KB), the record's bytes are gathered from
 * the segments that follow, in sequence order, and decoded whole on the
 * frame that completes the record (wl_dissect_tls_stream()), as tshark does
 * with TCP reassembly on.
 *
 * Bounded: at most stream_bytes kept per direction (a longer record is
 * decoded from its first bytes once it completes: the hello comes first),
 * at most max_streams directions and max_bytes of buffers at once (the one
 * idle the longest makes room), and a direction that makes no progress for
 * timeout_s of capture time is dropped. Only in-order bytes are taken: a
 * segment past a hole waits for the hole to be filled by a retransmission.
 * The table is keyed by the flow key (common/flow-key.h) under a random
 * SipHash key. It sits beside capd's flow table, not in it: it works with
 * --no-flows and --json, and its memory is its own.
 *
 * A pure library: no I/O, no logging.
 */
#ifndef CAPD_TLS_REASM_H
#define CAPD_TLS_REASM_H

#include "wlite-proto.h"

#include <stddef.h>
#include <stdint.h>

struct tls_reasm_config {
	uint32_t max_streams;  /* directions reassembled at once */
	uint32_t stream_bytes; /* bytes kept per direction */
	uint64_t max_bytes;    /* buffers of all directions together */
	uint32_t timeout_s;    /* capture seconds without progress before a direction is dropped */
};

/* 4,096 directions, 8 KiB each, 16 MiB in all, 10 s. */
void tls_reasm_config_default(struct tls_reasm_config *cfg);

struct tls_reasm_stats {
	uint64_t started;      /* hello records that went on past their first segment */
	uint64_t completed;    /* of them, decoded whole on the frame that completed them */
	uint64_t cut;          /* of those, longer than stream_bytes: decoded from their first bytes */
	uint64_t out_of_order; /* segments past a hole, not taken */
	uint64_t expired;      /* directions dropped after timeout_s without progress */
	uint64_t evicted;      /* dropped to make room for a new one */
	uint64_t abandoned;    /* dropped for a segment the capture cut short (snap length) */
	uint64_t active;       /* directions being reassembled now */
	uint64_t memory;       /* bytes allocated now: the table and the buffers */
	uint64_t memory_peak;  /* the most it has held */
};

struct tls_reasm;

/* NULL with *err set: -ENOMEM, or -EINVAL for a bad configuration. */
struct tls_reasm *tls_reasm_new(const struct tls_reasm_config *cfg, int *err);
struct tls_reasm *tls_reasm_free(struct tls_reasm *t);

/*
 * Folds one decoded frame (its bytes: frame[0..caplen)) in. Returns 1 when
 * it completed a hello record and pkt's TLS fields now come from it, else 0.
 */
int tls_reasm_packet(struct tls_reasm *t, struct wl_packet *pkt, const uint8_t *frame, size_t caplen);

void tls_reasm_stats(const struct tls_reasm *t, struct tls_reasm_stats *ret);

#endif
