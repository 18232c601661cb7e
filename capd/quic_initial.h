/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * QUIC Initial packet protection (RFC 9001 section 5, RFC 9369 section 3):
 * the keys every observer can derive from the client's first Destination
 * Connection ID, header protection removed, the AEAD opened. Everything
 * cryptographic is OpenSSL's libcrypto through its EVP interfaces (HKDF
 * with EVP_KDF, AES-128-ECB and AES-128-GCM with EVP_CIPHER); this file
 * only lays out their inputs. Outside proto/ because EVP allocates.
 *
 * Versions: v1, v2 (its salt and "quicv2" labels), the IETF drafts 21 to
 * 34 (their salts) and Facebook's mvfst versions built on drafts 22 and 27,
 * as tshark 4.0 maps them. Google's Q050, T050 and T051 have salts of their
 * own and are not opened.
 */
#ifndef CAPD_QUIC_INITIAL_H
#define CAPD_QUIC_INITIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_KEY_LEN 16
#define QUIC_IV_LEN 12
#define QUIC_HP_LEN 16
#define QUIC_TAG_LEN 16
#define QUIC_SECRET_LEN 32 /* SHA-256 */

/* One direction's Initial keys. */
struct quic_keys {
	uint8_t key[QUIC_KEY_LEN];
	uint8_t iv[QUIC_IV_LEN];
	uint8_t hp[QUIC_HP_LEN];
};

/* A packet opened by quic_initial_open(). */
struct quic_opened {
	uint64_t pn;          /* the full packet number */
	size_t pn_len;        /* 1 to 4 */
	size_t payload_len;   /* plaintext bytes written to out */
	uint8_t first;        /* the first byte, header protection removed */
};

struct quic_initial; /* libcrypto's objects, fetched once and reused for every packet */

/* NULL with *err set: -ENOMEM, or -EIO when libcrypto lacks HKDF, AES-128-ECB or AES-128-GCM. */
struct quic_initial *quic_initial_new(int *err);
struct quic_initial *quic_initial_free(struct quic_initial *q);

/* Whether the Initial keys of version are known here. */
bool quic_initial_supported(uint32_t version);

/*
 * RFC 9001 5.2: initial_secret = HKDF-Extract(salt, odcid), then the
 * client's ("client in") or the server's ("server in") secret, and from it
 * the key, IV and header-protection key. Returns 0, -EPROTONOSUPPORT for
 * a version without known keys, -EIO when libcrypto fails.
 */
int quic_initial_keys(struct quic_initial *q, uint32_t version, const uint8_t *odcid, size_t odcid_len,
		      bool server, struct quic_keys *ret);

/* The intermediate secrets too, for tests against RFC 9001 and RFC 9369's appendices. */
int quic_initial_secrets(struct quic_initial *q, uint32_t version, const uint8_t *odcid, size_t odcid_len,
			 uint8_t initial[QUIC_SECRET_LEN], uint8_t client[QUIC_SECRET_LEN],
			 uint8_t server[QUIC_SECRET_LEN]);

/*
 * Opens one Initial packet pkt[0..len) whose protected packet number starts
 * at pn_off (RFC 9001 5.4 and 5.3). pkt is changed: header protection is
 * removed in place, so give a copy. largest_pn is the largest packet number
 * opened so far in that direction, or -1 (RFC 9000 A.3 recovers the full
 * number from it). The plaintext goes to out (room for len bytes).
 * Returns 0, -EBADMSG when the packet is too short or fails authentication,
 * -EIO when libcrypto fails. When only the AEAD failed, ret still holds the
 * packet number that header protection hid (pn_len is 0 when it does not).
 */
int quic_initial_open(struct quic_initial *q, const struct quic_keys *k, uint8_t *pkt, size_t len,
		      size_t pn_off, int64_t largest_pn, uint8_t *out, struct quic_opened *ret);

/* RFC 9000 A.3: the full packet number from its truncated pn_len bytes. */
uint64_t quic_decode_pn(int64_t largest, uint64_t truncated, size_t pn_len);

#endif
