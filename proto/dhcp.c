/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * BOOTP (RFC 951) and DHCP (RFC 2131, options in RFC 2132) over UDP 67/68.
 *
 * The fixed 236-byte BOOTP header, then, for DHCP, the magic cookie and a
 * list of options. A BOOTP packet without the cookie is still BOOTP; its
 * vendor area is not decoded. Options overloaded into sname/file (option 52)
 * are not looked at: the message type and host name are in the main area in
 * practice.
 */
#include "dissect.h"

enum {
	BOOTP_OP_REQUEST = 1,
	BOOTP_OP_REPLY = 2,
};

enum {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_END = 255,
};

/* ciaddr, yiaddr, siaddr, giaddr, chaddr[16], sname[64], file[128] */
#define BOOTP_ADDRS_AND_NAMES_LEN (4 * 4 + 16 + 64 + 128)
#define DHCP_MAGIC_COOKIE 0x63825363u /* 99.130.83.99 */

static const char *dhcp_msg_type_name(uint8_t type)
{
	static const char *const names[] = {
		[1] = "Discover", [2] = "Offer", [3] = "Request", [4] = "Decline",
		[5] = "ACK",      [6] = "NAK",   [7] = "Release", [8] = "Inform",
		/* RFC 3203, 4388, 6926, 7724: Wireshark's spellings */
		[9] = "Force Renew",         [10] = "Lease query",
		[11] = "Lease Unassigned",   [12] = "Lease Unknown",
		[13] = "Lease Active",       [14] = "Bulk Lease Query",
		[15] = "Lease Query Done",   [16] = "Active LeaseQuery",
		[17] = "Lease Query Status", [18] = "TLS",
	};

	if (type >= sizeof(names) / sizeof(names[0]) || !names[type])
		return NULL;
	return names[type];
}

/* op, htype, hlen, hops, xid, secs, flags: what identifies the exchange. */
static int bootp_header(struct cursor *c, struct wl_dhcp *h)
{
	uint8_t op = 0;
	uint32_t xid = 0;
	int r;

	r = cur_u8(c, &op);
	if (!r)
		r = cur_skip(c, 3); /* htype, hlen, hops */
	if (!r)
		r = cur_be32(c, &xid);
	if (r)
		return r;
	if (op != BOOTP_OP_REQUEST && op != BOOTP_OP_REPLY)
		return -EBADMSG;
	h->op = op;
	h->xid = xid;
	/* secs, flags, then the addresses and names, which we do not show. */
	return cur_skip(c, 2 + 2 + BOOTP_ADDRS_AND_NAMES_LEN);
}

/* The fixed header, as far as it was captured; msg starts at its first byte. */
static void tree_bootp(struct wl_dctx *d, const struct cursor *msg)
{
	static const char *const addrs[] = { "Client IP address", "Your (client) IP address",
					     "Next server IP address", "Relay agent IP address" };
	struct cursor c = *msg;
	uint8_t op = 0, htype = 0, hlen = 0, hops = 0;
	uint32_t xid = 0;
	uint16_t secs = 0, flags = 0;

	c.off = 0;
	if (cur_u8(&c, &op) < 0 || cur_u8(&c, &htype) < 0 || cur_u8(&c, &hlen) < 0 ||
	    cur_u8(&c, &hops) < 0 || cur_be32(&c, &xid) < 0)
		return;
	wl_tree_named(d, &c, 0, 1, "Message type", op,
		      op == BOOTP_OP_REQUEST ? "Boot Request" : op == BOOTP_OP_REPLY ? "Boot Reply" : NULL);
	wl_tree_uint(d, &c, 1, 1, "Hardware type", htype);
	wl_tree_uint(d, &c, 2, 1, "Hardware address length", hlen);
	wl_tree_uint(d, &c, 3, 1, "Hops", hops);
	wl_tree_hex(d, &c, 4, 4, "Transaction ID", xid);
	if (cur_be16(&c, &secs) < 0 || cur_be16(&c, &flags) < 0)
		return;
	wl_tree_uint(d, &c, 8, 2, "Seconds elapsed", secs);
	wl_tree_hex(d, &c, 10, 2, "Bootp flags", flags);
	for (int i = 0; i < 4; i++) {
		struct wl_addr a = { .family = 4 };
		const uint8_t *b;

		if (cur_bytes(&c, 4, &b) < 0)
			return;
		memcpy(a.b, b, 4);
		wl_tree_addr(d, &c, 12 + 4 * (size_t)i, addrs[i], &a);
	}
	if (hlen == 6 && htype == 1)
		wl_tree_mac(d, &c, 28, "Client MAC address");
	else
		wl_tree_bytes(d, &c, 28, hlen > 16 ? 16 : hlen, "Client hardware address");
}

/* Whether the vendor area starts with the DHCP magic cookie; steps over it if so. */
static bool dhcp_cookie(struct cursor *c)
{
	struct cursor peek = *c;
	uint32_t cookie;

	if (cur_be32(&peek, &cookie) || cookie != DHCP_MAGIC_COOKIE)
		return false;
	*c = peek;
	return true;
}

static int dhcp_option(struct wl_dctx *d, uint8_t code, struct cursor val, struct wl_dhcp *h,
		       bool *has_hostname)
{
	uint8_t type;

	switch (code) {
	case DHCP_OPT_MSG_TYPE:
		if (cur_left(&val) != 1)
			return -EBADMSG;
		if (d->tree && cur_peek_u8(&val, 0, &type) == 0)
			wl_tree_named(d, &val, 0, 1, "DHCP message type", type, dhcp_msg_type_name(type));
		if (h->msg_type == 0)
			cur_u8(&val, &h->msg_type);
		return 0;
	case DHCP_OPT_HOSTNAME:
		if (d->tree)
			wl_tree_printable(d, &val, 0, cur_left(&val), "Host name");
		if (!*has_hostname) {
			struct wl_sb sb = wl_sb_make(h->hostname, sizeof(h->hostname));

			wl_sb_printable(&sb, val);
			*has_hostname = true;
		}
		return 0;
	default:
		return 0;
	}
}

/* code, len, value... up to the end option; each value is narrowed to its length. */
static int dhcp_options(struct wl_dctx *d, struct cursor *c, struct wl_dhcp *h)
{
	bool has_hostname = false;
	uint8_t code, len;
	int r;

	while (cur_u8(c, &code) == 0) {
		if (code == DHCP_OPT_END)
			return 0; /* what follows is padding */
		if (code == DHCP_OPT_PAD)
			continue;
		if (cur_u8(c, &len))
			return -EMSGSIZE;
		struct cursor val = cur_rest(c);

		if (cur_narrow(&val, len) || cur_skip(c, len))
			return -EMSGSIZE;
		r = dhcp_option(d, code, val, h, &has_hostname);
		if (r)
			return r;
	}
	/* No end option: tolerated, as many stacks do. */
	return 0;
}

static void dhcp_info(struct wl_dctx *d, const struct wl_dhcp *h)
{
	struct wl_sb info = wl_info(d);
	const char *name = dhcp_msg_type_name(h->msg_type);

	if (h->msg_type == 0) {
		wl_sb_str(&info, h->op == BOOTP_OP_REQUEST ? "Boot Request" : "Boot Reply");
		return;
	}
	wl_sb_str(&info, "DHCP ");
	if (name) {
		wl_sb_str(&info, name);
	} else {
		wl_sb_str(&info, "Unknown Message Type (0x");
		wl_sb_hex(&info, h->msg_type, 2);
		wl_sb_char(&info, ')');
	}
	wl_sb_str(&info, " - Transaction ID 0x");
	wl_sb_hex(&info, h->xid, 1);
}

static void dhcp_keep(struct wl_dctx *d, const struct wl_dhcp *h)
{
	struct wl_packet *pkt = d->pkt;

	if (pkt->has & WL_PKT_DHCP)
		return;
	pkt->dhcp = *h;
	pkt->has |= WL_PKT_DHCP;
}

int wl_decode_dhcp(struct wl_dctx *d, struct cursor *c)
{
	struct cursor msg = cur_rest(c);
	struct wl_dhcp h = { .op = 0 };
	int r;

	if (cur_left(c) == 0)
		return 0; /* nothing to recognise */
	wl_enter(d, WL_P_DHCP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_DHCP, "Dynamic Host Configuration", c);
	r = bootp_header(&msg, &h);
	if (d->tree)
		tree_bootp(d, &msg);
	/* op and xid are worth showing even if the header is cut after them. */
	if (h.op == 0) {
		struct wl_sb info = wl_info(d);

		wl_sb_str(&info, "Malformed BOOTP Header");
		return wl_fail(d, r);
	}
	if (r == 0 && dhcp_cookie(&msg))
		r = dhcp_options(d, &msg, &h);
	dhcp_info(d, &h);
	dhcp_keep(d, &h);
	return r ? wl_fail(d, r) : 0;
}
