/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test-only: building protected QUIC Initial packets, the sender's side of
 * RFC 9001 5 that capd never needs, so that tests and the fuzzer can give
 * capd's decryption (capd/quic_track.c) packets whose plaintext they chose.
 * libcrypto's EVP does the cryptography; the keys come from
 * quic_initial_keys(), checked against the RFCs' vectors on their own in
 * test_quic_initial.c.
 */
#ifndef WL_TEST_QUIC_SEAL_H
#define WL_TEST_QUIC_SEAL_H

#include "quic.h"
#include "quic_initial.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct quic_seal_packet {
	uint32_t version;
	const uint8_t *dcid, *scid;
	size_t dcid_len, scid_len;
	uint64_t pn;
	size_t pn_len;          /* 1 to 4 */
	const uint8_t *payload; /* the frames */
	size_t payload_len;     /* at least 4 - pn_len, so that the sample fits */
};

/* AES-128-GCM of payload into out (+ the tag), with aad; EVP as capd uses it. */
static inline bool quic_seal_aead(const struct quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
				  const uint8_t *payload, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t nonce[QUIC_IV_LEN];
	int n = 0, ok;

	memcpy(nonce, k->iv, QUIC_IV_LEN);
	for (int i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k->key, nonce) == 1 &&
	     EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1 &&
	     (len == 0 || EVP_EncryptUpdate(ctx, out, &n, payload, (int)len) == 1) &&
	     EVP_EncryptFinal_ex(ctx, out + len, &n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, QUIC_TAG_LEN, out + len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* RFC 9001 5.4: the mask from the sample, applied to the first byte's low bits and the packet number. */
static inline bool quic_seal_header(const struct quic_keys *k, uint8_t *pkt, size_t pn_off, size_t pn_len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t mask[32];
	int n = 0, ok;

	ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k->hp, NULL) == 1 &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 && EVP_EncryptUpdate(ctx, mask, &n, pkt + pn_off + 4, 16) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return false;
	pkt[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < pn_len; i++)
		pkt[pn_off + i] ^= mask[1 + i];
	return true;
}

/*
 * Writes the protected Initial p into out[0..room); returns its length, or 0.
 * server: sealed with the server's keys (derived from odcid), else the client's.
 */
static inline size_t quic_seal_initial(struct quic_initial *q, const struct quic_seal_packet *p, const uint8_t *odcid,
				       size_t odcid_len, bool server, uint8_t *out, size_t room)
{
	struct quic_keys k;
	size_t n = 0, pn_off, body = p->pn_len + p->payload_len + QUIC_TAG_LEN;
	uint8_t type = p->version == WL_QUIC_VERSION_2 ? 1 : 0;

	if (quic_initial_keys(q, p->version, odcid, odcid_len, server, &k) < 0 || body > 0x3fff ||
	    7 + p->dcid_len + p->scid_len + 3 + body > room || p->pn_len + p->payload_len < 4)
		return 0;
	out[n++] = (uint8_t)(0xc0 | type << 4 | (p->pn_len - 1));
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(p->version >> (8 * i));
	out[n++] = (uint8_t)p->dcid_len;
	memcpy(out + n, p->dcid, p->dcid_len);
	n += p->dcid_len;
	out[n++] = (uint8_t)p->scid_len;
	memcpy(out + n, p->scid, p->scid_len);
	n += p->scid_len;
	out[n++] = 0; /* token length */
	out[n++] = (uint8_t)(0x40 | body >> 8);
	out[n++] = (uint8_t)body;
	pn_off = n;
	for (size_t i = p->pn_len; i-- > 0;)
		out[n++] = (uint8_t)(p->pn >> (8 * i));
	if (!quic_seal_aead(&k, p->pn, out, n, p->payload, p->payload_len, out + n) ||
	    !quic_seal_header(&k, out, pn_off, p->pn_len))
		return 0;
	return n + p->payload_len + QUIC_TAG_LEN;
}

#endif
