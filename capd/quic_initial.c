/* SPDX-License-Identifier: BSD-2-Clause */
#include "quic_initial.h"

#include "quic.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 20
#define SAMPLE_LEN 16
#define PN_MAX_LEN 4
#define LABEL_MAX 32 /* "tls13 " and our longest label, "quicv2 key" */

struct quic_initial {
	EVP_KDF_CTX *hkdf;
	EVP_CIPHER *ecb, *gcm;
	EVP_CIPHER_CTX *hp_ctx, *aead_ctx;
};

/* The initial salts, public constants of each version's specification. */
static const uint8_t SALT_DRAFT21[SALT_LEN] = { 0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
						0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a };
static const uint8_t SALT_DRAFT23[SALT_LEN] = { 0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
						0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 };
static const uint8_t SALT_DRAFT29[SALT_LEN] = { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
						0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 };
/* RFC 9001 5.2 */
static const uint8_t SALT_V1[SALT_LEN] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
					   0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
/* RFC 9369 3.3.1 */
static const uint8_t SALT_V2[SALT_LEN] = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
					   0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };

static bool google_version(uint32_t version)
{
	return version == 0x51303530 || version == 0x54303530 || version == 0x54303531;
}

static const uint8_t *salt_of(uint32_t version)
{
	unsigned draft = wl_quic_draft(version);

	/* GREASE versions only ever ask for Version Negotiation. */
	if (google_version(version) || (version & 0x0f0f0f0f) == 0x0a0a0a0a || draft < 21)
		return NULL;
	if (draft <= 22)
		return SALT_DRAFT21;
	if (draft <= 28)
		return SALT_DRAFT23;
	if (draft <= 32)
		return SALT_DRAFT29;
	if (draft <= 34)
		return SALT_V1;
	return version == WL_QUIC_VERSION_2 ? SALT_V2 : NULL;
}

bool quic_initial_supported(uint32_t version)
{
	return salt_of(version) != NULL;
}

struct quic_initial *quic_initial_free(struct quic_initial *q)
{
	if (!q)
		return NULL;
	EVP_KDF_CTX_free(q->hkdf);
	EVP_CIPHER_free(q->ecb);
	EVP_CIPHER_free(q->gcm);
	EVP_CIPHER_CTX_free(q->hp_ctx);
	EVP_CIPHER_CTX_free(q->aead_ctx);
	free(q);
	return NULL;
}

struct quic_initial *quic_initial_new(int *err)
{
	struct quic_initial *q = calloc(1, sizeof(*q));
	EVP_KDF *kdf;

	*err = -ENOMEM;
	if (!q)
		return NULL;
	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	q->hkdf = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf); /* the context holds its own reference */
	q->ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	q->gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	q->hp_ctx = EVP_CIPHER_CTX_new();
	q->aead_ctx = EVP_CIPHER_CTX_new();
	if (!q->hkdf || !q->ecb || !q->gcm)
		*err = -EIO;
	if (!q->hkdf || !q->ecb || !q->gcm || !q->hp_ctx || !q->aead_ctx)
		return quic_initial_free(q);
	*err = 0;
	return q;
}

/* One HKDF step with EVP_KDF: extract (salt, ikm) or expand (prk, info). */
static int hkdf(struct quic_initial *q, int mode, const uint8_t *key, size_t key_len, const uint8_t *salt_or_info,
		size_t len, uint8_t *out, size_t out_len)
{
	/* libcrypto copies the key; an empty DCID still needs a valid pointer. */
	static const uint8_t empty[1];
	OSSL_PARAM params[5];
	size_t n = 0;

	params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(key_len ? key : empty),
							key_len);
	params[n++] = OSSL_PARAM_construct_octet_string(
		mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? OSSL_KDF_PARAM_SALT : OSSL_KDF_PARAM_INFO,
		(void *)salt_or_info, len);
	params[n] = OSSL_PARAM_construct_end();
	return EVP_KDF_derive(q->hkdf, out, out_len, params) == 1 ? 0 : -EIO;
}

/*
 * RFC 8446 7.1 HKDF-Expand-Label with an empty context: the HkdfLabel
 * structure (length, "tls13 " + label, context) is the info of HKDF-Expand.
 */
static int expand_label(struct quic_initial *q, const uint8_t *secret, const char *label, uint8_t *out,
			size_t out_len)
{
	static const char prefix[] = "tls13 ";
	uint8_t info[4 + LABEL_MAX];
	size_t label_len = strlen(label), n = 0;

	if (label_len + sizeof(prefix) - 1 > LABEL_MAX)
		return -EINVAL;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(sizeof(prefix) - 1 + label_len);
	memcpy(info + n, prefix, sizeof(prefix) - 1);
	n += sizeof(prefix) - 1;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = 0; /* context: empty */
	return hkdf(q, EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, QUIC_SECRET_LEN, info, n, out, out_len);
}

int quic_initial_secrets(struct quic_initial *q, uint32_t version, const uint8_t *odcid, size_t odcid_len,
			 uint8_t initial[QUIC_SECRET_LEN], uint8_t client[QUIC_SECRET_LEN],
			 uint8_t server[QUIC_SECRET_LEN])
{
	const uint8_t *salt = salt_of(version);
	int r;

	if (!salt)
		return -EPROTONOSUPPORT;
	if ((r = hkdf(q, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, odcid, odcid_len, salt, SALT_LEN, initial,
		      QUIC_SECRET_LEN)) < 0 ||
	    (r = expand_label(q, initial, "client in", client, QUIC_SECRET_LEN)) < 0)
		return r;
	return expand_label(q, initial, "server in", server, QUIC_SECRET_LEN);
}

int quic_initial_keys(struct quic_initial *q, uint32_t version, const uint8_t *odcid, size_t odcid_len,
		      bool server, struct quic_keys *ret)
{
	uint8_t initial[QUIC_SECRET_LEN], secrets[2][QUIC_SECRET_LEN];
	/* RFC 9369 3.3.2: v2 renames the labels of the keys, not of the secrets. */
	bool v2 = version == WL_QUIC_VERSION_2;
	const uint8_t *secret = secrets[server];
	int r;

	if ((r = quic_initial_secrets(q, version, odcid, odcid_len, initial, secrets[0], secrets[1])) < 0 ||
	    (r = expand_label(q, secret, v2 ? "quicv2 key" : "quic key", ret->key, QUIC_KEY_LEN)) < 0 ||
	    (r = expand_label(q, secret, v2 ? "quicv2 iv" : "quic iv", ret->iv, QUIC_IV_LEN)) < 0)
		return r;
	return expand_label(q, secret, v2 ? "quicv2 hp" : "quic hp", ret->hp, QUIC_HP_LEN);
}

uint64_t quic_decode_pn(int64_t largest, uint64_t truncated, size_t pn_len)
{
	uint64_t expected = (uint64_t)(largest + 1);
	uint64_t win = UINT64_C(1) << (pn_len * 8);
	uint64_t hwin = win / 2, mask = win - 1;
	uint64_t candidate = (expected & ~mask) | truncated;

	if (candidate + hwin <= expected && candidate < (UINT64_C(1) << 62) - win)
		return candidate + win;
	if (candidate > expected + hwin && candidate >= win)
		return candidate - win;
	return candidate;
}

/* RFC 9001 5.4.1: AES-128-ECB of the 16-byte sample gives the mask. */
static int hp_mask(struct quic_initial *q, const uint8_t hp[QUIC_HP_LEN], const uint8_t *sample,
		   uint8_t mask[SAMPLE_LEN])
{
	int n = 0;

	if (EVP_EncryptInit_ex(q->hp_ctx, q->ecb, NULL, hp, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(q->hp_ctx, 0) != 1 ||
	    EVP_EncryptUpdate(q->hp_ctx, mask, &n, sample, SAMPLE_LEN) != 1 || n != SAMPLE_LEN)
		return -EIO;
	return 0;
}

/* RFC 9001 5.3: AEAD_AES_128_GCM with the IV xor the packet number; the header is the AAD. */
static int aead_open(struct quic_initial *q, const struct quic_keys *k, uint64_t pn, const uint8_t *aad,
		     size_t aad_len, const uint8_t *ct, size_t ct_len, uint8_t *out)
{
	uint8_t nonce[QUIC_IV_LEN], tag[QUIC_TAG_LEN];
	int n = 0, fin = 0;

	memcpy(nonce, k->iv, QUIC_IV_LEN);
	for (int i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	memcpy(tag, ct + ct_len, QUIC_TAG_LEN);
	if (aad_len > INT32_MAX || ct_len > INT32_MAX ||
	    EVP_DecryptInit_ex(q->aead_ctx, q->gcm, NULL, k->key, nonce) != 1 ||
	    EVP_DecryptUpdate(q->aead_ctx, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(q->aead_ctx, out, &n, ct, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(q->aead_ctx, EVP_CTRL_AEAD_SET_TAG, QUIC_TAG_LEN, tag) != 1)
		return -EIO;
	/* Only the tag's verdict: a forged or foreign packet is not libcrypto failing. */
	if (EVP_DecryptFinal_ex(q->aead_ctx, out + n, &fin) != 1)
		return -EBADMSG;
	return 0;
}

int quic_initial_open(struct quic_initial *q, const struct quic_keys *k, uint8_t *pkt, size_t len,
		      size_t pn_off, int64_t largest_pn, uint8_t *out, struct quic_opened *ret)
{
	uint8_t mask[SAMPLE_LEN];
	uint64_t truncated = 0;
	size_t pn_len, hdr_len;
	int r;

	ret->pn_len = 0;
	/* The sample starts 4 bytes past the packet number's start, whatever its length. */
	if (pn_off > len || len - pn_off < PN_MAX_LEN + SAMPLE_LEN)
		return -EBADMSG;
	if ((r = hp_mask(q, k->hp, pkt + pn_off + PN_MAX_LEN, mask)) < 0)
		return r;
	pkt[0] ^= mask[0] & 0x0f; /* long header: the low 4 bits are protected */
	pn_len = (size_t)(pkt[0] & 0x03) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		pkt[pn_off + i] ^= mask[1 + i];
		truncated = truncated << 8 | pkt[pn_off + i];
	}
	hdr_len = pn_off + pn_len;
	if (len - hdr_len < QUIC_TAG_LEN)
		return -EBADMSG;
	ret->pn = quic_decode_pn(largest_pn, truncated, pn_len);
	ret->pn_len = pn_len;
	ret->first = pkt[0];
	ret->payload_len = len - hdr_len - QUIC_TAG_LEN;
	return aead_open(q, k, ret->pn, pkt, hdr_len, pkt + hdr_len, ret->payload_len, out);
}
