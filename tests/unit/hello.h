/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hand-built TLS hellos for the fingerprint tests (test_tls_hello.c,
 * test_fingerprint.c): hello bodies, the record and handshake headers
 * around them, Ethernet/IPv4/TCP frames around those, and a pcap writer so
 * that the same bytes can be shown to tshark, the reference for JA3 and
 * JA3S. Include after <cmocka.h>.
 */
#ifndef WL_TEST_HELLO_H
#define WL_TEST_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct hb {
	uint8_t b[16384];
	size_t n;
};

static inline void hb8(struct hb *h, unsigned v)
{
	assert_true(h->n < sizeof(h->b));
	h->b[h->n++] = (uint8_t)v;
}

static inline void hb16(struct hb *h, unsigned v)
{
	hb8(h, v >> 8);
	hb8(h, v);
}

static inline void hbmem(struct hb *h, const void *p, size_t n)
{
	assert_true(n <= sizeof(h->b) - h->n);
	if (n)
		memcpy(h->b + h->n, p, n);
	h->n += n;
}

static inline void hb_patch16(struct hb *h, size_t at, size_t v)
{
	h->b[at] = (uint8_t)(v >> 8);
	h->b[at + 1] = (uint8_t)v;
}

/* An extension: type, length, data. */
static inline void hb_ext(struct hb *h, unsigned type, const void *data, size_t len)
{
	hb16(h, type);
	hb16(h, len);
	hbmem(h, data, len);
}

/* A list of 16-bit values behind a 2-byte length (cipher suites, groups, ...). */
static inline void hb_list16(struct hb *h, const uint16_t *v, size_t n)
{
	hb16(h, 2 * n);
	for (size_t i = 0; i < n; i++)
		hb16(h, v[i]);
}

/* The start of a ClientHello body: version, random, a 32-byte session id. */
static inline void hb_client_prefix(struct hb *h, unsigned version)
{
	hb16(h, version);
	for (int i = 0; i < 32; i++)
		hb8(h, i);
	hb8(h, 32);
	for (int i = 0; i < 32; i++)
		hb8(h, 0xa0 + i);
}

/*
 * The ClientHello of the worked example in FoxIO's JA4 specification: its
 * 15 cipher suites and 16 extensions in the order given there, its 8
 * signature algorithms (when sigalgs), SNI example.com, ALPN h2 and
 * http/1.1, TLS 1.3 in supported_versions; with GREASE values sprinkled in
 * where browsers put them when grease.
 */
static const uint16_t SPEC_CIPHERS[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
					 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
static const uint16_t SPEC_SIGALGS[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601 };

static inline void hb_spec_client_hello(struct hb *h, bool grease, bool sigalgs)
{
	static const uint8_t compress[] = { 2, 0, 2 };
	static const uint8_t sni[] = { 0, 14, 0, 0, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm' };
	static const uint8_t alpn[] = { 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
	static const uint8_t alps[] = { 0, 3, 2, 'h', '2' };
	static const uint8_t psk_modes[] = { 1, 1 };
	static const uint8_t status[] = { 1, 0, 0, 0, 0 };
	static const uint8_t reneg[] = { 0 };
	static const uint8_t points[] = { 1, 0 };
	uint8_t key_share[2 + 4 + 32] = { 0, 36, 0, 0x1d, 0, 32 };
	uint16_t ciphers[16], groups[4], versions[3];
	size_t n = 0, exts_at;
	struct hb tmp = { .n = 0 };

	hb_client_prefix(h, 0x0303);
	if (grease)
		ciphers[n++] = 0x0a0a;
	memcpy(ciphers + n, SPEC_CIPHERS, sizeof(SPEC_CIPHERS));
	hb_list16(h, ciphers, n + 15);
	hb8(h, 1); /* compression: null */
	hb8(h, 0);
	exts_at = h->n;
	hb16(h, 0);
	if (grease)
		hb_ext(h, 0x1a1a, NULL, 0);
	hb_ext(h, 0x001b, compress, sizeof(compress));
	hb_ext(h, 0x0000, sni, sizeof(sni));
	hb_ext(h, 0x0033, key_share, sizeof(key_share));
	hb_ext(h, 0x0010, alpn, sizeof(alpn));
	hb_ext(h, 0x4469, alps, sizeof(alps));
	hb_ext(h, 0x0017, NULL, 0);
	hb_ext(h, 0x002d, psk_modes, sizeof(psk_modes));
	if (sigalgs) {
		hb_list16(&tmp, SPEC_SIGALGS, 8);
		hb_ext(h, 0x000d, tmp.b, tmp.n);
	}
	hb_ext(h, 0x0005, status, sizeof(status));
	hb_ext(h, 0x0023, NULL, 0);
	hb_ext(h, 0x0012, NULL, 0);
	n = 0;
	if (grease)
		versions[n++] = 0x3a3a;
	versions[n++] = 0x0304;
	versions[n++] = 0x0303;
	tmp.n = 0;
	hb8(&tmp, 2 * n);
	for (size_t i = 0; i < n; i++)
		hb16(&tmp, versions[i]);
	hb_ext(h, 0x002b, tmp.b, tmp.n);
	hb_ext(h, 0xff01, reneg, sizeof(reneg));
	hb_ext(h, 0x000b, points, sizeof(points));
	n = 0;
	if (grease)
		groups[n++] = 0x4a4a;
	groups[n++] = 0x001d;
	groups[n++] = 0x0017;
	groups[n++] = 0x0018;
	tmp.n = 0;
	hb_list16(&tmp, groups, n);
	hb_ext(h, 0x000a, tmp.b, tmp.n);
	hb_ext(h, 0x0015, NULL, 0); /* padding */
	if (grease)
		hb_ext(h, 0x2a2a, reneg, 1);
	hb_patch16(h, exts_at, h->n - exts_at - 2);
}

/* A handshake record (type 22) holding one message of type msg_type with body. */
static inline void hb_record(struct hb *h, unsigned msg_type, const uint8_t *body, size_t len)
{
	hb8(h, 22);
	hb16(h, 0x0301);
	hb16(h, len + 4);
	hb8(h, msg_type);
	hb8(h, (unsigned)(len >> 16));
	hb16(h, len & 0xffff);
	hbmem(h, body, len);
}

/* An Ethernet/IPv4/TCP frame from 10.0.0.1:40000 to 10.0.0.2:443 (or back, with reply). */
static inline size_t hb_frame(uint8_t *out, size_t size, bool reply, uint32_t seq, uint8_t flags,
			      const uint8_t *payload, size_t len)
{
	static const uint8_t client[4] = { 10, 0, 0, 1 }, server[4] = { 10, 0, 0, 2 };
	struct hb f = { .n = 0 };
	size_t ip_len = 20 + 20 + len;

	assert_true(14 + ip_len <= size);
	hbmem(&f, "\x02\x00\x00\x00\x00\x0b\x02\x00\x00\x00\x00\x0a\x08\x00", 14);
	hb8(&f, 0x45);
	hb8(&f, 0);
	hb16(&f, ip_len);
	hb16(&f, 0);
	hb16(&f, 0x4000);
	hb8(&f, 64);
	hb8(&f, 6);
	hb16(&f, 0);
	hbmem(&f, reply ? server : client, 4);
	hbmem(&f, reply ? client : server, 4);
	hb16(&f, reply ? 443 : 40000);
	hb16(&f, reply ? 40000 : 443);
	hb16(&f, seq >> 16);
	hb16(&f, seq & 0xffff);
	hb16(&f, 0);
	hb16(&f, 1);
	hb8(&f, 5 << 4);
	hb8(&f, flags);
	hb16(&f, 65535);
	hb16(&f, 0);
	hb16(&f, 0);
	hbmem(&f, payload, len);
	memcpy(out, f.b, f.n);
	return f.n;
}

/* A classic pcap file (Ethernet, microseconds) for tshark to read the same bytes. */
static inline FILE *hb_pcap_open(const char *path)
{
	static const uint8_t header[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff, 0, 0, 1, 0, 0, 0 };
	FILE *f = fopen(path, "wb");

	if (f)
		fwrite(header, 1, sizeof(header), f);
	return f;
}

static inline void hb_pcap_write(FILE *f, uint32_t sec, const uint8_t *frame, size_t len)
{
	uint32_t rec[4] = { sec, 0, (uint32_t)len, (uint32_t)len }; /* little-endian host assumed */

	fwrite(rec, sizeof(rec), 1, f);
	fwrite(frame, 1, len, f);
}

#endif
