/* SPDX-License-Identifier: BSD-2-Clause */
#include "fingerprint.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define JA4_HASH_HEX 12
#define JA4_NONE "000000000000" /* FoxIO: an empty list is shown so, not hashed */

struct fingerprints {
	EVP_MD *md5, *sha256;
	/* A context per digest, reused: initialised again with the same digest, it allocates nothing. */
	EVP_MD_CTX *md5_ctx, *sha256_ctx;
	struct tls_reasm *reasm;
	struct fingerprint_stats stats;
};

struct fingerprints *fingerprints_new(int *err)
{
	struct tls_reasm_config cfg;
	struct fingerprints *f = calloc(1, sizeof(*f));

	*err = -ENOMEM;
	if (!f)
		return NULL;
	tls_reasm_config_default(&cfg);
	f->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	f->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	f->md5_ctx = EVP_MD_CTX_new();
	f->sha256_ctx = EVP_MD_CTX_new();
	if (!f->md5 || !f->sha256)
		*err = -EIO;
	if (!f->md5 || !f->sha256 || !f->md5_ctx || !f->sha256_ctx || !(f->reasm = tls_reasm_new(&cfg, err)))
		return fingerprints_free(f);
	*err = 0;
	return f;
}

struct fingerprints *fingerprints_free(struct fingerprints *f)
{
	if (!f)
		return NULL;
	EVP_MD_CTX_free(f->md5_ctx);
	EVP_MD_CTX_free(f->sha256_ctx);
	EVP_MD_free(f->md5);
	EVP_MD_free(f->sha256);
	tls_reasm_free(f->reasm);
	free(f);
	return NULL;
}

/* The first hex_len lowercase hex digits of md(text), NUL-terminated in ret. */
static bool hash_hex(struct fingerprints *f, EVP_MD_CTX *ctx, const EVP_MD *md, const char *text, char *ret,
		     size_t hex_len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, text, strlen(text)) != 1 ||
	    EVP_DigestFinal_ex(ctx, digest, &n) != 1 || (size_t)n * 2 < hex_len) {
		f->stats.failed++;
		return false;
	}
	for (size_t i = 0; i < hex_len; i++)
		ret[i] = hex[(digest[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	ret[hex_len] = '\0';
	return true;
}

/* JA4's b or c part: the truncated hash, or the zeros of an empty list. */
static bool ja4_part(struct fingerprints *f, const char *text, char *ret)
{
	if (!text[0]) {
		memcpy(ret, JA4_NONE, JA4_HASH_HEX);
		return true;
	}
	char tmp[JA4_HASH_HEX + 1];

	if (!hash_hex(f, f->sha256_ctx, f->sha256, text, tmp, JA4_HASH_HEX))
		return false;
	memcpy(ret, tmp, JA4_HASH_HEX);
	return true;
}

static void hash_ja4(struct fingerprints *f, struct wl_packet *pkt)
{
	struct wl_tls *tls = &pkt->tls;
	char *out = tls->ja4;

	/* a (10 characters) _ b (12) _ c (12) */
	memcpy(out, tls->ja4_a, 10);
	out[10] = '_';
	out[23] = '_';
	out[WL_JA4_LEN] = '\0';
	if (ja4_part(f, tls->ja4_b_text, out + 11) && ja4_part(f, tls->ja4_c_text, out + 24)) {
		pkt->has |= WL_PKT_JA4;
		f->stats.ja4++;
	}
}

void fingerprints_hash(struct fingerprints *f, struct wl_packet *pkt)
{
	struct wl_tls *tls = &pkt->tls;

	if (pkt->tls_cut & (WL_TLS_CUT_JA3 | WL_TLS_CUT_JA3S | WL_TLS_CUT_JA4))
		f->stats.too_long++;
	if (pkt->tls_cut & WL_TLS_CUT_ALPN)
		f->stats.alpn_cut++;
	if ((pkt->has & WL_PKT_JA3_TEXT) && hash_hex(f, f->md5_ctx, f->md5, tls->ja3_text, tls->ja3, WL_JA3_LEN)) {
		pkt->has |= WL_PKT_JA3;
		f->stats.ja3++;
	}
	if ((pkt->has & WL_PKT_JA3S_TEXT) && hash_hex(f, f->md5_ctx, f->md5, tls->ja3s_text, tls->ja3s, WL_JA3_LEN)) {
		pkt->has |= WL_PKT_JA3S;
		f->stats.ja3s++;
	}
	if (pkt->has & WL_PKT_JA4_TEXT)
		hash_ja4(f, pkt);
}

void fingerprints_packet(struct fingerprints *f, struct wl_packet *pkt, const uint8_t *frame, size_t caplen)
{
	tls_reasm_packet(f->reasm, pkt, frame, caplen);
	/* Most packets carry no TLS hello at all. */
	if (__builtin_expect(pkt->tls_cut || (pkt->has & (WL_PKT_JA3_TEXT | WL_PKT_JA3S_TEXT | WL_PKT_JA4_TEXT)), 0))
		fingerprints_hash(f, pkt);
}

void fingerprints_stats(const struct fingerprints *f, struct fingerprint_stats *ret)
{
	*ret = f->stats;
	tls_reasm_stats(f->reasm, &ret->reasm);
}
