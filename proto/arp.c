/* SPDX-License-Identifier: BSD-2-Clause */
/* ARP and RARP (RFC 826), with Wireshark-style summaries for IPv4 over Ethernet. */
#include "dissect.h"

static void sb_mac(struct wl_sb *sb, const uint8_t *m)
{
	for (int i = 0; i < 6; i++) {
		if (i)
			wl_sb_char(sb, ':');
		wl_sb_hex(sb, m[i], 2);
	}
}

static void sb_ipv4(struct wl_sb *sb, const uint8_t *b)
{
	struct wl_addr a = { .family = 4 };

	memcpy(a.b, b, 4);
	wl_sb_addr(sb, &a);
}

static void summarise(struct wl_dctx *d, uint16_t op, const uint8_t *sha, const uint8_t *spa,
		      const uint8_t *tpa)
{
	struct wl_sb info = wl_info(d);

	switch (op) {
	case 1:
		if (memcmp(spa, tpa, 4) == 0) {
			wl_sb_str(&info, "ARP Announcement for ");
			sb_ipv4(&info, spa);
			return;
		}
		wl_sb_str(&info, "Who has ");
		sb_ipv4(&info, tpa);
		wl_sb_str(&info, "? Tell ");
		sb_ipv4(&info, spa);
		return;
	case 2:
		sb_ipv4(&info, spa);
		wl_sb_str(&info, " is at ");
		sb_mac(&info, sha);
		return;
	case 3:
		wl_sb_str(&info, "Who is ");
		sb_mac(&info, sha);
		wl_sb_str(&info, "? Tell ");
		sb_mac(&info, sha);
		return;
	case 4:
		sb_mac(&info, sha);
		wl_sb_str(&info, " is at ");
		sb_ipv4(&info, tpa);
		return;
	default:
		wl_sb_str(&info, "Unknown ARP opcode 0x");
		wl_sb_hex(&info, op, 4);
	}
}

static void tree_arp(struct wl_dctx *d, const struct cursor *c, uint16_t htype, uint16_t ptype,
		     uint8_t hlen, uint8_t plen, uint16_t op)
{
	static const char *const ops[] = { NULL, "request", "reply", "reverse request", "reverse reply" };
	size_t at = 8;

	wl_tree_named(d, c, 0, 2, "Hardware type", htype, htype == 1 ? "Ethernet" : NULL);
	wl_tree_ethertype(d, c, 2, "Protocol type", ptype);
	wl_tree_uint(d, c, 4, 1, "Hardware size", hlen);
	wl_tree_uint(d, c, 5, 1, "Protocol size", plen);
	wl_tree_named(d, c, 6, 2, "Opcode", op, op < 5 ? ops[op] : NULL);
	for (int i = 0; i < 4; i++) {
		static const char *const names[] = { "Sender MAC address", "Sender IP address",
						     "Target MAC address", "Target IP address" };
		size_t len = i % 2 ? plen : hlen;

		struct cursor addr = *c;
		const uint8_t *b;

		addr.off = at;
		if (i % 2 && plen == 4 && ptype == 0x0800 && cur_bytes(&addr, 4, &b) == 0) {
			struct wl_addr a = { .family = 4 };

			memcpy(a.b, b, 4);
			wl_tree_addr(d, c, at, names[i], &a);
		} else if (!(i % 2) && hlen == 6) {
			wl_tree_mac(d, c, at, names[i]);
		} else {
			wl_tree_bytes(d, c, at, len, names[i]);
		}
		at += len;
	}
}

int wl_decode_arp(struct wl_dctx *d, struct cursor *c)
{
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;
	const uint8_t *sha, *spa, *tha, *tpa;
	int r;

	wl_enter(d, WL_P_ARP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_ARP, "Address Resolution Protocol", c);
	if (d->n_ip == 0)
		d->pkt->outer.l3 = WL_L3_ARP;
	if ((r = cur_be16(c, &htype)) < 0 || (r = cur_be16(c, &ptype)) < 0 ||
	    (r = cur_u8(c, &hlen)) < 0 || (r = cur_u8(c, &plen)) < 0 ||
	    (r = cur_be16(c, &op)) < 0)
		return wl_fail(d, r);
	if ((r = cur_bytes(c, hlen, &sha)) < 0 || (r = cur_bytes(c, plen, &spa)) < 0 ||
	    (r = cur_bytes(c, hlen, &tha)) < 0 || (r = cur_bytes(c, plen, &tpa)) < 0)
		return wl_fail(d, r);
	if (d->tree)
		tree_arp(d, c, htype, ptype, hlen, plen, op);
	if (hlen == 6 && plen == 4 && ptype == 0x0800)
		summarise(d, op, sha, spa, tpa);
	(void)tha;
	return 0;
}
