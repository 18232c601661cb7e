/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Link layers: Ethernet (with 802.2 LLC/SNAP), Linux cooked SLL and SLL2,
 * BSD loopback NULL/LOOP and raw IP.
 */
#include "dissect.h"

#define ETHERTYPE_MIN 0x0600 /* below this, an 802.3 length field */

/* An ethertype or SLL protocol field, named when we know it. */
static const char *ethertype_name(uint16_t type)
{
	switch (type) {
	case 0x0800: return "IPv4";
	case 0x86dd: return "IPv6";
	case 0x0806: return "ARP";
	case 0x8035: return "RARP";
	case 0x8100: return "802.1Q Virtual LAN";
	case 0x88a8: return "802.1ad";
	case 0x8864: return "PPPoE Session";
	case 0x8863: return "PPPoE Discovery";
	case 0x8847: return "MPLS";
	case 0x8848: return "MPLS multicast";
	case 0x6558: return "Transparent Ethernet bridging";
	case 0x88e5: return "802.1AE (MACsec)";
	case 0x88e7: return "802.1ah";
	case 0x88cc: return "LLDP";
	case 0x888e: return "802.1X Authentication";
	default: return NULL;
	}
}

void wl_tree_ethertype(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name,
		       uint16_t type)
{
	struct wl_sb sb;

	if (!wl_tree_field(d, c, at, 2, name, &sb))
		return;
	const char *known = ethertype_name(type);

	if (known) {
		wl_sb_str(&sb, known);
		wl_sb_str(&sb, " (");
	}
	wl_sb_str(&sb, "0x");
	wl_sb_hex(&sb, type, 4);
	if (known)
		wl_sb_char(&sb, ')');
}

static bool is_outermost(const struct wl_dctx *d)
{
	return d->n_ip == 0 && !(d->pkt->has & WL_PKT_ETH);
}

/* 802.2 LLC; only SNAP with an Ethernet-type protocol id is carried further. */
int wl_decode_llc(struct wl_dctx *d, struct cursor *c)
{
	uint8_t dsap, ssap, ctrl;
	const uint8_t *oui;
	uint16_t type;
	int r;

	wl_enter(d, WL_P_LLC, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_LLC, "Logical-Link Control", c);
	if ((r = cur_u8(c, &dsap)) < 0 || (r = cur_u8(c, &ssap)) < 0 || (r = cur_u8(c, &ctrl)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_hex(d, c, 0, 1, "DSAP", dsap);
		wl_tree_hex(d, c, 1, 1, "SSAP", ssap);
		wl_tree_hex(d, c, 2, 1, "Control field", ctrl);
	}
	if (dsap != 0xaa || ssap != 0xaa || ctrl != 0x03)
		return 0;
	if ((r = cur_bytes(c, 3, &oui)) < 0 || (r = cur_be16(c, &type)) < 0)
		return wl_fail(d, r);
	if (d->tree) {
		wl_tree_hex(d, c, 3, 3, "Organization code", (uint32_t)oui[0] << 16 | oui[1] << 8 | oui[2]);
		wl_tree_ethertype(d, c, 6, "Type", type);
	}
	if (oui[0] || oui[1] || oui[2])
		return 0; /* an organisation's own protocol ids, not ethertypes */
	struct cursor payload = cur_rest(c);

	return wl_dispatch_ethertype(d, type, &payload);
}

/* Whatever of the header was captured: a truncated frame still shows its MACs. */
static void tree_ethernet(struct wl_dctx *d, const struct cursor *c)
{
	uint16_t type;

	wl_tree_layer(d, WL_P_ETH, "Ethernet II", c);
	wl_tree_mac(d, c, c->off, "Destination");
	wl_tree_mac(d, c, c->off + 6, "Source");
	if (cur_peek_be16(c, c->off + 12, &type) < 0)
		return;
	if (type < ETHERTYPE_MIN)
		wl_tree_uint(d, c, c->off + 12, 2, "Length", type);
	else
		wl_tree_ethertype(d, c, c->off + 12, "Type", type);
}

int wl_decode_ethernet(struct wl_dctx *d, struct cursor *c)
{
	struct wl_packet *pkt = d->pkt;
	bool outermost = is_outermost(d);
	const uint8_t *dst, *src;
	uint16_t type;
	int r;

	/* Wireshark tries FabricPath before it takes a frame for Ethernet. */
	if (wl_looks_like_fabricpath(c))
		return wl_descend(d, wl_decode_fabricpath, c);
	wl_enter(d, WL_P_ETH, c);
	if (d->tree)
		tree_ethernet(d, c);
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
		return wl_decode_llc(d, &llc);
	}
	struct cursor payload = cur_rest(c);

	return wl_dispatch_ethertype(d, type, &payload);
}

#define ARPHRD_IPGRE 778
#define ARPHRD_IEEE80211_RADIOTAP 803
#define ARPHRD_NETLINK 824

/*
 * The SLL/SLL2 protocol field holds an ethertype, or for Linux's
 * pseudo-protocols up to 1536 a tag: 802.2 frames (4) start with LLC,
 * 3 is a whole Ethernet frame, 7 PPP. Some ARPHRD types say more than the
 * protocol, as in Wireshark: radiotap headers, GRE devices (whose protocol
 * is GRE's) and netlink, whose whole frame is one netlink message.
 */
static int dispatch_cooked(struct wl_dctx *d, uint16_t hatype, uint16_t protocol, struct cursor *c)
{
	struct cursor payload = cur_rest(c);

	if (protocol <= 1536) {
		if (hatype == ARPHRD_IEEE80211_RADIOTAP)
			return wl_decode_radiotap(d, &payload);
		switch (protocol) {
		case 0x0003: return wl_dispatch_ethertype(d, 0x6558, &payload);
		case 0x0004: return wl_decode_llc(d, &payload);
		case 0x0007: return wl_decode_ppp_hdlc(d, &payload);
		default: return 0;
		}
	}
	if (hatype == ARPHRD_IPGRE && protocol == 0x880b)
		return wl_decode_ppp(d, &payload);
	return wl_dispatch_ethertype(d, protocol, &payload);
}

/* Netlink on a cooked capture: the SLL header is the netlink header's stand-in. */
static int name_netlink(struct wl_dctx *d, const struct cursor *c)
{
	struct wl_sb info = wl_info(d);

	wl_enter(d, WL_P_NETLINK, c);
	wl_sb_str(&info, "Netlink message");
	return 0;
}

/*
 * The fields SLL and SLL2 share, at the offsets each puts them: packet type
 * and ARPHRD type (2 bytes in v1, the ARPHRD 2 and packet type 1 in v2), the
 * address length and the link-layer address, then the protocol.
 */
static void tree_sll(struct wl_dctx *d, const struct cursor *c, size_t at_type, size_t at_hatype,
		     size_t at_alen, size_t at_addr, uint16_t protocol, size_t at_protocol)
{
	static const char *const types[] = { "Unicast to us", "Broadcast", "Multicast",
					     "Unicast to another host", "Sent by us" };
	bool v1 = at_protocol != 0;
	uint16_t hatype = 0, ptype = 0;
	uint8_t alen = 0, ptype8 = 0;

	/* The decoder has read past all of these already. */
	cur_peek_be16(c, at_hatype, &hatype);
	cur_peek_u8(c, at_alen + v1, &alen); /* v1's length is 2 bytes, big-endian */
	if (v1)
		cur_peek_be16(c, at_type, &ptype);
	else if (cur_peek_u8(c, at_type, &ptype8) == 0)
		ptype = ptype8;

	if (v1)
		wl_tree_named(d, c, at_type, 2, "Packet type", ptype, ptype < 5 ? types[ptype] : NULL);
	wl_tree_uint(d, c, at_hatype, 2, "Link-layer address type", hatype);
	if (!v1)
		wl_tree_named(d, c, at_type, 1, "Packet type", ptype, ptype < 5 ? types[ptype] : NULL);
	wl_tree_uint(d, c, at_alen, v1 ? 2 : 1, "Link-layer address length", alen);
	if (alen == 6)
		wl_tree_mac(d, c, at_addr, "Source");
	else
		wl_tree_bytes(d, c, at_addr, alen > 8 ? 8 : alen, "Source");
	if (protocol < ETHERTYPE_MIN)
		wl_tree_hex(d, c, at_protocol, 2, "Protocol", protocol);
	else
		wl_tree_ethertype(d, c, at_protocol, "Protocol", protocol);
}

/* Linux cooked capture v1: type, ARPHRD, address length, 8 address bytes, protocol. */
int wl_decode_sll(struct wl_dctx *d, struct cursor *c)
{
	uint16_t protocol, hatype = 0;
	int r;

	wl_enter(d, WL_P_SLL, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_SLL, "Linux cooked capture v1", c);
	if ((r = cur_skip(c, 14)) < 0 || (r = cur_be16(c, &protocol)) < 0)
		return wl_fail(d, r);
	if (d->tree)
		tree_sll(d, c, 0, 2, 4, 6, protocol, 14);
	cur_peek_be16(c, 2, &hatype);
	if (hatype == ARPHRD_NETLINK)
		return name_netlink(d, c);
	return dispatch_cooked(d, hatype, protocol, c);
}

/* Linux cooked capture v2: protocol, reserved, ifindex, ARPHRD, type, address. */
int wl_decode_sll2(struct wl_dctx *d, struct cursor *c)
{
	uint16_t protocol, hatype = 0;
	int r;

	wl_enter(d, WL_P_SLL, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_SLL, "Linux cooked capture v2", c);
	if ((r = cur_be16(c, &protocol)) < 0 || (r = cur_skip(c, 18)) < 0)
		return wl_fail(d, r);
	cur_peek_be16(c, 8, &hatype);
	if (d->tree) {
		struct cursor idx = *c;
		uint32_t ifindex = 0;

		idx.off = 4;
		cur_be32(&idx, &ifindex);
		wl_tree_uint(d, c, 4, 4, "Interface index", ifindex);
		tree_sll(d, c, 10, 8, 11, 12, protocol, 0);
	}
	/* Wireshark's netlink decoder reads SLL v1 headers only. */
	return dispatch_cooked(d, hatype, protocol, c);
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

static void tree_family(struct wl_dctx *d, const struct cursor *c, uint32_t family)
{
	const char *name = family == 2 ? "IP" : family == 10 || family == 24 || family == 28 || family == 30 ? "IPv6" : NULL;

	wl_tree_named(d, c, 0, 4, "Family", family, name);
}

/* NULL: the family is in the capturing host's byte order, so take the one that fits. */
int wl_decode_null(struct wl_dctx *d, struct cursor *c)
{
	uint32_t family;
	int r;

	wl_enter(d, WL_P_NULL, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_NULL, "Null/Loopback", c);
	if ((r = cur_le32(c, &family)) < 0)
		return wl_fail(d, r);
	if (family > 0xffff)
		family = (family >> 24) | ((family >> 8) & 0xff00) | ((family << 8) & 0xff0000) | (family << 24);
	if (d->tree)
		tree_family(d, c, family);
	return dispatch_family(d, family, c);
}

/* LOOP: like NULL, but the family is always big-endian. */
int wl_decode_loop(struct wl_dctx *d, struct cursor *c)
{
	uint32_t family;
	int r;

	wl_enter(d, WL_P_NULL, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_NULL, "Null/Loopback", c);
	if ((r = cur_be32(c, &family)) < 0)
		return wl_fail(d, r);
	if (d->tree)
		tree_family(d, c, family);
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
