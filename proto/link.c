/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Link layers: Ethernet (with 802.2 LLC/SNAP), Linux cooked SLL and SLL2,
 * BSD loopback NULL/LOOP and raw IP.
 */
#include "dissect.h"

#define ETHERTYPE_MIN 0x0600 /* below this, an 802.3 length field */

static bool is_outermost(const struct wl_dctx *d)
{
	return d->n_ip == 0 && !(d->pkt->has & WL_PKT_ETH);
}

/* 802.2 LLC; only SNAP with an Ethernet-type protocol id is carried further. */
static int decode_llc(struct wl_dctx *d, struct cursor *c)
{
	uint8_t dsap, ssap, ctrl;
	const uint8_t *oui;
	uint16_t type;
	int r;

	wl_enter(d, WL_P_LLC, c);
	if ((r = cur_u8(c, &dsap)) < 0 || (r = cur_u8(c, &ssap)) < 0 || (r = cur_u8(c, &ctrl)) < 0)
		return wl_fail(d, r);
	if (dsap != 0xaa || ssap != 0xaa || ctrl != 0x03)
		return 0;
	if ((r = cur_bytes(c, 3, &oui)) < 0 || (r = cur_be16(c, &type)) < 0)
		return wl_fail(d, r);
	if (oui[0] || oui[1] || oui[2])
		return 0; /* an organisation's own protocol ids, not ethertypes */
	struct cursor payload = cur_rest(c);

	return wl_dispatch_ethertype(d, type, &payload);
}

int wl_decode_ethernet(struct wl_dctx *d, struct cursor *c)
{
	struct wl_packet *pkt = d->pkt;
	bool outermost = is_outermost(d);
	const uint8_t *dst, *src;
	uint16_t type;
	int r;

	wl_enter(d, WL_P_ETH, c);
	if ((r = cur_bytes(c, 6, &dst)) < 0)
		return wl_fail(d, r);
	if (outermost)
		memcpy(pkt->eth_dst, dst, 6);
	if ((r = cur_bytes(c, 6, &src)) < 0)
		return wl_fail(d, r);
	if (outermost) {
		memcpy(pkt->eth_src, src, 6);
		pkt->has |= WL_PKT_ETH;
	}
	if ((r = cur_be16(c, &type)) < 0)
		return wl_fail(d, r);

	if (type < ETHERTYPE_MIN) {
		/* 802.3: a length; the frame may carry padding beyond it. */
		struct cursor llc = cur_rest(c);

		if (type > cur_left(&llc) && type <= 1500)
			cur_narrow(&llc, cur_left(&llc));
		else if (type <= 1500)
			cur_narrow(&llc, type);
		return decode_llc(d, &llc);
	}
	struct cursor payload = cur_rest(c);

	return wl_dispatch_ethertype(d, type, &payload);
}

/*
 * The SLL/SLL2 protocol field holds an ethertype, or for Linux's
 * pseudo-protocols below 0x0600 a tag; 802.2 frames (4) start with LLC.
 */
static int dispatch_cooked(struct wl_dctx *d, uint16_t protocol, struct cursor *c)
{
	struct cursor payload = cur_rest(c);

	if (protocol == 0x0004)
		return decode_llc(d, &payload);
	if (protocol < ETHERTYPE_MIN)
		return 0;
	return wl_dispatch_ethertype(d, protocol, &payload);
}

/* Linux cooked capture v1: type, ARPHRD, address length, 8 address bytes, protocol. */
int wl_decode_sll(struct wl_dctx *d, struct cursor *c)
{
	uint16_t protocol;
	int r;

	wl_enter(d, WL_P_SLL, c);
	if ((r = cur_skip(c, 14)) < 0 || (r = cur_be16(c, &protocol)) < 0)
		return wl_fail(d, r);
	return dispatch_cooked(d, protocol, c);
}

/* Linux cooked capture v2: protocol, reserved, ifindex, ARPHRD, type, address. */
int wl_decode_sll2(struct wl_dctx *d, struct cursor *c)
{
	uint16_t protocol;
	int r;

	wl_enter(d, WL_P_SLL, c);
	if ((r = cur_be16(c, &protocol)) < 0 || (r = cur_skip(c, 18)) < 0)
		return wl_fail(d, r);
	return dispatch_cooked(d, protocol, c);
}

/* BSD address families for IPv4 and the several numbers BSDs use for IPv6. */
static int dispatch_family(struct wl_dctx *d, uint32_t family, struct cursor *c)
{
	struct cursor payload = cur_rest(c);

	switch (family) {
	case 2:
		return wl_dispatch_ethertype(d, 0x0800, &payload);
	case 10: /* Linux */
	case 24: /* NetBSD, OpenBSD */
	case 28: /* FreeBSD */
	case 30: /* macOS */
		return wl_dispatch_ethertype(d, 0x86dd, &payload);
	default:
		return 0;
	}
}

/* NULL: the family is in the capturing host's byte order, so take the one that fits. */
int wl_decode_null(struct wl_dctx *d, struct cursor *c)
{
	uint32_t family;
	int r;

	wl_enter(d, WL_P_NULL, c);
	if ((r = cur_le32(c, &family)) < 0)
		return wl_fail(d, r);
	if (family > 0xffff)
		family = (family >> 24) | ((family >> 8) & 0xff00) | ((family << 8) & 0xff0000) | (family << 24);
	return dispatch_family(d, family, c);
}

/* LOOP: like NULL, but the family is always big-endian. */
int wl_decode_loop(struct wl_dctx *d, struct cursor *c)
{
	uint32_t family;
	int r;

	wl_enter(d, WL_P_NULL, c);
	if ((r = cur_be32(c, &family)) < 0)
		return wl_fail(d, r);
	return dispatch_family(d, family, c);
}

/* Raw IP: the version nibble tells IPv4 from IPv6. */
int wl_decode_raw(struct wl_dctx *d, struct cursor *c)
{
	uint8_t first;
	int r;

	if ((r = cur_peek_u8(c, c->off, &first)) < 0)
		return wl_fail(d, r);
	switch (first >> 4) {
	case 4:
		return wl_decode_ipv4(d, c);
	case 6:
		return wl_decode_ipv6(d, c);
	default:
		return wl_fail(d, -EBADMSG);
	}
}
