/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fingerprint texts of whole TLS hellos (tls_hello.c): JA3 and JA3S as
 * tshark 4.0 builds tls.handshake.ja3_full and ja3s_full, and JA4 as
 * FoxIO's specification defines it. They take one handshake message body
 * (after its 4-byte type and length), so that TLS over TCP (tls.c) and the
 * CRYPTO frames of QUIC Initials can share them.
 */
#ifndef WL_TLS_HELLO_H
#define WL_TLS_HELLO_H

#include "dissect.h"

/* JA4's first character: the transport the hello came over. */
enum {
	WL_JA4_TCP = 't',
	WL_JA4_QUIC = 'q',
};

/* RFC 8701 GREASE values: 0x0a0a, 0x1a1a, ... 0xfafa. */
static inline bool wl_tls_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/*
 * A whole ClientHello body: fills pkt->tls.ja3_text and the JA4 texts and
 * sets WL_PKT_JA3_TEXT and WL_PKT_JA4_TEXT, or WL_TLS_CUT_* when a text
 * outgrew its buffer. Bodies tshark could not read to the end of their
 * cipher suites and compression methods get no texts, as in tshark.
 */
void wl_tls_client_hello_texts(struct wl_packet *pkt, struct cursor body, char transport);

/* A whole ServerHello body: pkt->tls.ja3s_text and WL_PKT_JA3S_TEXT. */
void wl_tls_server_hello_texts(struct wl_packet *pkt, struct cursor body);

/*
 * JA4's ALPN characters for the first protocol name p[0..len) (FoxIO: the
 * first and last characters when both are alphanumeric, else the first and
 * last hex digits of the name's bytes; "00" for none). ret gets 2 chars.
 */
void wl_ja4_alpn_chars(const uint8_t *p, size_t len, char ret[2]);

/* JA4's two characters for a TLS version ("13", "s3", "d2"; "00" unknown). */
const char *wl_ja4_version(uint16_t version);

/* Sorts n values in place, ascending (JA4's lists: a few dozen values). */
void wl_ja4_sort(uint16_t *v, size_t n);

#endif
