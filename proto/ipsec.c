/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPsec (RFC 4303, RFC 4302) and its UDP encapsulation for NAT traversal
 * (RFC 3948, UDP 4500). ESP's payload is encrypted: only the SPI and the
 * sequence number are read. AH authenticates in the clear, so the header
 * after it is decoded; being behind AH, its ports are not "the transport
 * header right after the IP header" of the schema, as tshark's fields say.
 */
#include "dissect.h"

#define ESP_HEADER 8

static void summarise(struct wl_dctx *d, const char *name, uint32_t spi, uint32_t seq)
{
	struct wl_sb info = wl_info(d);

	wl_sb_str(&info, name);
	wl_sb_str(&info, " (SPI=0x");
	wl_sb_hex(&info, spi, 8);
	wl_sb_str(&info, ") Seq=");
	wl_sb_u64(&info, seq);
}

int wl_decode_esp(struct wl_dctx *d, struct cursor *c)
{
	uint32_t spi, seq;

	d->flow = NULL;
	wl_enter(d, WL_P_ESP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ESP, "Encapsulating Security Payload", c);
	if (cur_be32(c, &spi) < 0 || cur_be32(c, &seq) < 0)
		return wl_fail_short(d, c);
	if (d->tree) {
		wl_tree_hex(d, c, 0, 4, "SPI", spi);
		wl_tree_uint(d, c, 4, 4, "Sequence number", seq);
		wl_tree_uint(d, c, ESP_HEADER, cur_left(c), "Encrypted data length", cur_left(c));
	}
	summarise(d, "ESP", spi, seq);
	return 0;
}

/*
 * Next header, payload length in 4-byte words minus 2, reserved, SPI,
 * sequence number, then the integrity check value.
 */
int wl_decode_ah(struct wl_dctx *d, struct cursor *c)
{
	uint8_t next, words;
	uint32_t spi, seq;

	d->flow = NULL; /* see above: whatever follows has no place in the summary */
	wl_enter(d, WL_P_AH, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_AH, "Authentication Header", c);
	if (cur_u8(c, &next) < 0 || cur_u8(c, &words) < 0 || cur_skip(c, 2) < 0 ||
	    cur_be32(c, &spi) < 0 || cur_be32(c, &seq) < 0)
		return wl_fail_short(d, c);
	size_t hlen = ((size_t)words + 2) * 4;

	if (d->tree) {
		wl_tree_ipproto(d, c, 0, "Next header", next);
		wl_tree_uint(d, c, 1, 1, "Length (bytes)", hlen);
		wl_tree_hex(d, c, 4, 4, "SPI", spi);
		wl_tree_uint(d, c, 8, 4, "Sequence number", seq);
		if (hlen > 12)
			wl_tree_bytes(d, c, 12, hlen - 12, "ICV");
	}
	summarise(d, "AH", spi, seq);
	/* A length of 0 says 8 bytes, less than SPI and sequence take: as in
	 * Wireshark, the next header starts where the length says. */
	if (hlen < 12)
		c->off = hlen;
	else if (cur_skip(c, hlen - 12) < 0)
		return wl_fail_short(d, c);
	d->l4_declared = d->l4_declared > c->off ? d->l4_declared - c->off : 0;
	struct cursor payload = cur_rest(c);
	return wl_dispatch_ipproto(d, next, &payload);
}

/*
 * UDP 4500 (RFC 3948): a single 0xff byte is a NAT keep-alive, four zero
 * bytes (a non-ESP marker) precede IKE, and anything else is ESP.
 */
int wl_decode_udpencap(struct wl_dctx *d, struct cursor *c)
{
	uint32_t marker;
	uint8_t first;

	if (cur_left(c) == 1 && cur_peek_u8(c, c->off, &first) == 0 && first == 0xff) {
		wl_enter(d, WL_P_UDPENCAP, c);
		if (d->tree)
			wl_tree_layer(d, WL_P_UDPENCAP, "UDP Encapsulation of IPsec Packets", c);
		struct wl_sb info = wl_info(d);
		wl_sb_str(&info, "NAT-keepalive");
		return 0;
	}
	struct cursor peek = *c;

	if (cur_be32(&peek, &marker) < 0) {
		wl_enter(d, WL_P_UDPENCAP, c);
		return wl_fail_short(d, c);
	}
	if (marker != 0)
		return wl_decode_esp(d, c);
	wl_enter(d, WL_P_ISAKMP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ISAKMP, "Internet Security Association and Key Management Protocol", c);
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "ISAKMP");
	return 0;
}
