/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * L2TP: version 2 (RFC 2661) on UDP 1701, carrying PPP, and version 3
 * (RFC 3931) on UDP 1701 or directly over IP (protocol 115).
 *
 * L2TPv3 sessions carry whatever pseudowire their control connection
 * negotiated, with a cookie and sublayer of negotiated sizes; a decoder
 * that sees one packet cannot know them. As Wireshark's defaults do, the
 * cookie and sublayer are taken as absent; the payload is decoded as an
 * Ethernet frame only when it looks like one carrying IP, ARP or a VLAN
 * tag (Ethernet pseudowires are what data centres use L2TPv3 for).
 */
#include "dissect.h"

#define L2TP_TYPE 0x8000     /* control message */
#define L2TP_LENGTH 0x4000
#define L2TP_SEQUENCE 0x0800
#define L2TP_OFFSET 0x0200
#define L2TP_VERSION 0x000f
#define L2TP_AVP_LENGTH 0x03ff

static const char *const message_types[] = {
	NULL, "SCCRQ", "SCCRP", "SCCCN", "StopCCN", "Reserved", "Hello", "OCRQ", "OCRP",
	"OCCN", "ICRQ", "ICRP", "ICCN", "Reserved", "CDN", "WEN", "SLI", "MDMST", "SRRQ",
	"SRRP", "ACK", "FSQ", "FSR", "MSRQ", "MSRP", "MSE", "MSI", "MSEN", "CSUN", "CSURQ",
};

/* Wireshark prints these ids in upper case. */
static void sb_hex_upper(struct wl_sb *sb, uint32_t v)
{
	static const char digits[] = "0123456789ABCDEF";

	wl_sb_str(sb, "0x");
	for (int shift = 28; shift >= 0; shift -= 4)
		wl_sb_char(sb, digits[v >> shift & 0xf]);
}

/*
 * The first AVP of a control message is its Message Type (attribute 0):
 * flags and length, vendor, attribute, then the type's value. Appends
 * " - NAME" when it is one; false when the AVP is not there.
 */
static bool append_message_type(struct wl_sb *info, const struct cursor *c)
{
	struct cursor avp = *c;
	uint16_t flags_len, vendor, attr, type;

	if (cur_be16(&avp, &flags_len) < 0 || cur_be16(&avp, &vendor) < 0 || cur_be16(&avp, &attr) < 0 ||
	    cur_be16(&avp, &type) < 0 || attr != 0)
		return false;
	wl_sb_str(info, " - ");
	if (type < sizeof(message_types) / sizeof(message_types[0]) && message_types[type]) {
		wl_sb_str(info, message_types[type]);
	} else {
		wl_sb_str(info, "Unknown (");
		wl_sb_u64(info, type);
		wl_sb_char(info, ')');
	}
	return true;
}

static void summarise_v2(struct wl_dctx *d, const struct cursor *c, uint16_t flags, uint16_t length,
			 uint16_t tunnel, uint16_t session)
{
	struct wl_sb info = wl_info(d);

	if (!(flags & L2TP_TYPE)) {
		wl_sb_str(&info, "Data    Message           ");
	} else if ((flags & L2TP_LENGTH) && length == 12) {
		wl_sb_str(&info, "Control Message - ZLB     ");
	} else {
		wl_sb_str(&info, "Control Message");
		append_message_type(&info, c);
	}
	wl_sb_str(&info, " (tunnel id=");
	wl_sb_u64(&info, tunnel);
	wl_sb_str(&info, ", session id=");
	wl_sb_u64(&info, session);
	wl_sb_char(&info, ')');
}

static void tree_v2(struct wl_dctx *d, const struct cursor *c, uint16_t flags, size_t at_ids,
		    uint16_t tunnel, uint16_t session)
{
	wl_tree_hex(d, c, 0, 2, "Flags", flags);
	wl_tree_flag(d, c, 0, 2, "Type (control)", flags, L2TP_TYPE);
	wl_tree_flag(d, c, 0, 2, "Length present", flags, L2TP_LENGTH);
	wl_tree_flag(d, c, 0, 2, "Sequence present", flags, L2TP_SEQUENCE);
	wl_tree_flag(d, c, 0, 2, "Offset present", flags, L2TP_OFFSET);
	wl_tree_uint(d, c, 1, 1, "Version", flags & L2TP_VERSION);
	wl_tree_uint(d, c, at_ids, 2, "Tunnel ID", tunnel);
	wl_tree_uint(d, c, at_ids + 2, 2, "Session ID", session);
}

/*
 * An L2TPv3 session header from its session id on: data ("D[S:...]"), or
 * a control message when the id is 0 (over IP).
 */
static int decode_v3_session(struct wl_dctx *d, struct cursor *c)
{
	uint32_t session;
	uint16_t type;

	if (cur_be32(c, &session) < 0)
		return wl_fail_short(d, c);
	if (d->tree)
		wl_tree_hex(d, c, c->off - 4, 4, "Session ID", session);
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, "D[S:");
	sb_hex_upper(&info, session);
	wl_sb_char(&info, ']');

	struct cursor payload = cur_rest(c);
	if (cur_left(&payload) > 14 && cur_peek_be16(&payload, 12, &type) == 0 &&
	    (type == 0x0800 || type == 0x86dd || type == 0x0806 || type == 0x8100))
		return wl_dispatch_ethertype(d, 0x6558, &payload);
	return 0;
}

/*
 * An L2TPv3 control message: flags, length (L bit), control connection
 * id, Ns and Nr (S bit), then AVPs.
 */
static int decode_v3_control(struct wl_dctx *d, struct cursor *c)
{
	uint16_t flags, length = 0;
	uint32_t ccid;
	size_t start = c->off;

	if (cur_be16(c, &flags) < 0 || ((flags & L2TP_LENGTH) && cur_be16(c, &length) < 0) ||
	    cur_be32(c, &ccid) < 0 || ((flags & L2TP_SEQUENCE) && cur_skip(c, 4) < 0))
		return wl_fail_short(d, c);
	if (d->tree) {
		wl_tree_hex(d, c, start, 2, "Flags", flags);
		wl_tree_uint(d, c, start + 1, 1, "Version", flags & L2TP_VERSION);
		if (flags & L2TP_LENGTH)
			wl_tree_uint(d, c, start + 2, 2, "Length", length);
		wl_tree_uint(d, c, start + 2 + ((flags & L2TP_LENGTH) ? 2 : 0), 4, "Control Connection ID", ccid);
	}
	struct wl_sb info = wl_info(d);

	wl_sb_str(&info, "Control Message");
	if ((flags & L2TP_LENGTH) && length == 12)
		wl_sb_str(&info, " - ZLB");
	else
		append_message_type(&info, c);
	wl_sb_str(&info, " (ccid=");
	sb_hex_upper(&info, ccid);
	wl_sb_char(&info, ')');
	return 0;
}

/* L2TPv3 over IP: a session id, 0 for the control connection. */
int wl_decode_l2tpv3_ip(struct wl_dctx *d, struct cursor *c)
{
	uint32_t session;

	wl_enter(d, WL_P_L2TPV3, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_L2TPV3, "Layer 2 Tunneling Protocol version 3", c);
	struct cursor peek = *c;

	if (cur_be32(&peek, &session) < 0)
		return wl_fail_short(d, c);
	if (session == 0) {
		cur_skip(c, 4);
		return decode_v3_control(d, c);
	}
	return decode_v3_session(d, c);
}

/* L2TPv3 over UDP: flags and version, 16 reserved bits, then as over IP. */
static int decode_v3_udp(struct wl_dctx *d, struct cursor *c, uint16_t flags)
{
	wl_enter(d, WL_P_L2TPV3, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_L2TPV3, "Layer 2 Tunneling Protocol version 3", c);
	if (flags & L2TP_TYPE)
		return decode_v3_control(d, c);
	if (cur_skip(c, 4) < 0)
		return wl_fail_short(d, c);
	return decode_v3_session(d, c);
}

/* L2TPv2's optional fields between the ids and the payload. */
static int skip_v2_options(struct wl_dctx *d, struct cursor *c, uint16_t flags)
{
	uint16_t offset_size;

	if ((flags & L2TP_SEQUENCE) && cur_skip(c, 4) < 0)
		return wl_fail_short(d, c);
	if (flags & L2TP_OFFSET) {
		if (cur_be16(c, &offset_size) < 0 || cur_skip(c, offset_size) < 0)
			return wl_fail_short(d, c);
	}
	return 0;
}

int wl_decode_l2tp(struct wl_dctx *d, struct cursor *c)
{
	uint16_t flags, length = 0, tunnel, session;
	int r;

	/* Another version is not L2TP, though it came to its port. */
	if (cur_peek_be16(c, c->off, &flags) < 0)
		return 0;
	if ((flags & L2TP_VERSION) == 3)
		return decode_v3_udp(d, c, flags);
	if ((flags & L2TP_VERSION) != 2)
		return 0;
	wl_enter(d, WL_P_L2TP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_L2TP, "Layer 2 Tunneling Protocol", c);
	cur_skip(c, 2);
	if ((flags & L2TP_LENGTH) && cur_be16(c, &length) < 0)
		return wl_fail_short(d, c);
	size_t at_ids = c->off;

	if (cur_be16(c, &tunnel) < 0 || cur_be16(c, &session) < 0)
		return wl_fail_short(d, c);
	if (d->tree)
		tree_v2(d, c, flags, at_ids, tunnel, session);
	/* The length bounds the message; Wireshark reads on when it is too long. */
	if ((flags & L2TP_LENGTH) && length >= c->off && cur_narrow(c, length - c->off) == -EBADMSG)
		wl_fail(d, -EBADMSG);
	if ((r = skip_v2_options(d, c, flags)) < 0)
		return r;
	summarise_v2(d, c, flags, length, tunnel, session);
	if ((flags & L2TP_TYPE) || cur_left(c) == 0)
		return 0;
	struct cursor ppp = cur_rest(c);
	return wl_decode_ppp_hdlc(d, &ppp);
}
