/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * QUIC connections on capd's packet path, after wl_dissect(): the Initial
 * packets of each connection are decrypted (quic_initial.h), the CRYPTO
 * frames of the client's reassembled in order into a bounded buffer, and
 * the TLS ClientHello in them decoded by proto/'s TLS parser: sni, alpn and
 * the fingerprint texts land on the frame that completes the hello (as
 * tshark reports them), with JA4's transport 'q'. The Info column gains
 * what decryption gives (", PKN: 1, CRYPTO, PADDING", as tshark's) and a
 * short header's DCID once the connection's CID lengths are known.
 *
 * A connection is the UDP flow of capd's flow table (its key,
 * common/flow-key.h) and lives in a table beside it, not in it: --json and
 * --no-flows have no flow table, and the decryption must give the same
 * there. An entry holds the client's original DCID (the Initial keys
 * derive from it; a Retry gives it a new one), the keys, each side's CID
 * length, and, until the ClientHello is whole, its reassembly buffer.
 *
 * Bounded: at most max_conns connections (keyed by SipHash under a random
 * key; when full, the one idle the longest makes room), hello_bytes of
 * CRYPTO data kept per connection (a longer hello is decoded from its first
 * bytes), max_bytes of buffers in all (the oldest buffers make room), and a
 * connection with no packet for timeout_s of capture time is forgotten.
 * Every bound hit is counted. Packets that do not decrypt are counted and
 * left as proto/ decoded them. No I/O, no logging.
 */
#ifndef CAPD_QUIC_TRACK_H
#define CAPD_QUIC_TRACK_H

#include "wlite-proto.h"

#include <stddef.h>
#include <stdint.h>

struct quic_track_config {
	uint32_t max_conns;   /* connections tracked at once */
	uint32_t hello_bytes; /* CRYPTO bytes kept per connection */
	uint64_t max_bytes;   /* reassembly buffers of all connections together */
	uint32_t timeout_s;   /* capture seconds without a packet before a connection is forgotten */
};

/* 4,096 connections, 8 KiB of hello each, 4 MiB in all, 60 s. */
void quic_track_config_default(struct quic_track_config *cfg);

struct quic_track_stats {
	uint64_t initials;     /* Initial packets seen, not cut by the capture (both directions) */
	uint64_t decrypted;    /* of them, opened */
	uint64_t failed;       /* of them, not opened: no connection's keys fit, or forged */
	uint64_t unsupported;  /* Initials of versions whose keys are unknown (Google's) */
	uint64_t bad_frames;   /* opened payloads with frames an Initial may not hold */
	uint64_t hellos;       /* ClientHellos reassembled and decoded */
	uint64_t hello_cut;    /* of them, longer than hello_bytes: decoded from their first bytes */
	uint64_t not_hello;    /* CRYPTO streams that began with another message */
	uint64_t retries;      /* Retry packets that gave a connection its new DCID */
	uint64_t connections;  /* entries made */
	uint64_t active;       /* entries now */
	uint64_t evicted;      /* entries dropped to make room (max_conns or max_bytes) */
	uint64_t expired;      /* entries dropped after timeout_s */
	uint64_t memory;       /* bytes allocated now: table, entries, buffers */
	uint64_t memory_peak;
};

struct quic_track;

/* NULL with *err set: -ENOMEM, -EINVAL (bad configuration), -EIO (libcrypto lacks a cipher). */
struct quic_track *quic_track_new(const struct quic_track_config *cfg, int *err);
struct quic_track *quic_track_free(struct quic_track *t);

/*
 * Folds in one decoded frame (frame[0..caplen), pkt from wl_dissect()).
 * Only QUIC datagrams cost anything. Returns 1 when the frame completed a
 * ClientHello and pkt's TLS fields come from it, else 0.
 */
int quic_track_packet(struct quic_track *t, struct wl_packet *pkt, const uint8_t *frame, size_t caplen);

/* Forgets every connection (the capture ended: a file replayed again starts afresh). */
void quic_track_flush(struct quic_track *t);

void quic_track_stats(const struct quic_track *t, struct quic_track_stats *ret);

#endif
