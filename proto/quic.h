/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * QUIC as a capture shows it without keys (RFC 8999 invariants, RFC 9000
 * v1, RFC 9369 v2, and the IETF drafts tshark 4.0 knows): the packets of a
 * datagram, their headers, and the frames of an Initial payload once
 * someone has decrypted it. proto/quic.c decodes datagrams for
 * wl_dissect(); these functions are public for capd, which decrypts Initial
 * packets (capd/quic_initial.c) with the header walker below and hands the
 * plaintext to wl_quic_initial_frames(). Pure: no I/O, no allocation.
 */
#ifndef WL_QUIC_H
#define WL_QUIC_H

#include "wlite-proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WL_QUIC_VERSION_1 0x00000001u
#define WL_QUIC_VERSION_2 0x6b3343cfu /* RFC 9369 */

/*
 * The IETF draft a version follows, as tshark 4.0 maps it (0xff0000NN is
 * draft NN, v1 34, v2 100, Facebook's mvfst 22 or 27, Google's Q050, T050
 * and T051 27, GREASE 0x?a?a?a?a 29), or 0 for a version that is not QUIC.
 */
unsigned wl_quic_draft(uint32_t version);

/* tshark recognises a long header by its version: draft 11 or later. */
static inline bool wl_quic_version_known(uint32_t version)
{
	return wl_quic_draft(version) >= 11;
}

/* enum wl_quic_type by name: "Initial", "0-RTT", "Handshake", "Retry", "Version Negotiation", "1-RTT". */
const char *wl_quic_type_name(uint8_t type);

/*
 * One packet of a datagram as read without keys. CIDs point into the
 * datagram; a short header's DCID is known only when the packet follows a
 * long header in the same datagram (RFC 9000 12.2: one DCID per datagram).
 */
struct wl_quic_header {
	uint8_t type;  /* enum wl_quic_type */
	uint8_t first; /* the first byte as sent: its low bits are header-protected */
	bool has_dcid; /* false only for a short header on its own */
	uint32_t version; /* long headers */
	uint8_t dcid_len, scid_len;
	const uint8_t *dcid, *scid;
	size_t token_off, token_len; /* Initial: the token; Retry: the retry token */
	size_t pn_off; /* Initial, 0-RTT, Handshake: the protected packet number */
	size_t len;    /* the packet: through its Length (long), else to the datagram's end */
	size_t captured; /* of len, the bytes captured (less only when the capture cut it) */
};

/*
 * Walks the packets of one UDP payload p[0..len): coalesced long headers
 * end at their Length; a short header, a Retry and a Version Negotiation
 * take the rest. A later packet whose DCID differs from the first's is
 * padding, as tshark takes it, and ends the walk. cut: the payload went on
 * past the capture (snap length).
 */
struct wl_quic_walk {
	const uint8_t *p;
	size_t len, off;
	bool cut;
	unsigned n; /* packets read so far */
	int err;    /* a packet was reported, but what follows it is not */
	uint8_t dcid_len;
	const uint8_t *dcid;
};

void wl_quic_walk_init(struct wl_quic_walk *w, const uint8_t *p, size_t len, bool cut);

/*
 * The next packet, at w->p + *at: 1, or 0 at the end, or -EMSGSIZE (cut by
 * the capture) / -EBADMSG (a field contradicts the format). A packet whose
 * Length runs past the capture is still reported once (captured < len),
 * and the error comes on the next call.
 */
int wl_quic_next(struct wl_quic_walk *w, struct wl_quic_header *ret, size_t *at);

/* RFC 9000 16: a variable-length integer at p[*off], which it steps past. */
int wl_quic_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *ret);

/* Frame types a decrypted Initial may carry (RFC 9000 12.4). */
enum {
	WL_QUIC_FRAME_PADDING = 0x00,
	WL_QUIC_FRAME_PING = 0x01,
	WL_QUIC_FRAME_ACK = 0x02,
	WL_QUIC_FRAME_ACK_ECN = 0x03,
	WL_QUIC_FRAME_CRYPTO = 0x06,
	WL_QUIC_FRAME_CONNECTION_CLOSE = 0x1c,
};

struct wl_quic_frame {
	uint8_t type;
	uint64_t offset;     /* CRYPTO: where data sits in the handshake stream */
	const uint8_t *data; /* CRYPTO: the bytes */
	size_t len;          /* CRYPTO: data's length; PADDING: the run of zeros, one frame as tshark counts it */
};

typedef void (*wl_quic_frame_fn)(void *ctx, const struct wl_quic_frame *f);

/*
 * Calls fn for each frame of a decrypted Initial payload p[0..len), in
 * order. Returns 0, or -EBADMSG at the first frame that contradicts its
 * lengths or that an Initial may not carry (the frames before it were
 * handed over).
 */
int wl_quic_initial_frames(const uint8_t *p, size_t len, wl_quic_frame_fn fn, void *ctx);

/* tshark's Info column name of a frame type: "PADDING", "CRYPTO", "CC", ... */
const char *wl_quic_frame_name(uint8_t type);

#endif
