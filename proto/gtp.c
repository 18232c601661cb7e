/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * GTP (3GPP TS 29.060 and 29.274) on UDP 2152 and 2123: GTPv1-U carries
 * users' packets (T-PDUs) behind optional extension headers; GTPv1-C and
 * GTPv2-C are the control planes, identified by message type. As Wireshark
 * does, both ports take any version and a GTPv0/v1 message type nobody
 * defined means the datagram is not GTP at all.
 */
#include "dissect.h"

#define GTP_FLAG_PT 0x10 /* 1: GTP, 0: GTP' (charging) */
#define GTP_FLAG_E 0x04  /* extension header */
#define GTP_FLAG_S 0x02  /* sequence number */
#define GTP_FLAG_PN 0x01 /* N-PDU number */
#define GTP_MSG_TPDU 255
#define GTPV2_FLAG_T 0x08 /* TEID present */

struct msg_name {
	uint8_t type;
	const char *name;
};

/* GTPv0/v1 message types (TS 29.060 7.1, TS 32.295 for GTP'). */
static const struct msg_name gtp_messages[] = {
	{ 1, "Echo request" }, { 2, "Echo response" }, { 3, "Version not supported" },
	{ 4, "Node alive request" }, { 5, "Node alive response" },
	{ 6, "Redirection request" }, { 7, "Redirection response" },
	{ 16, "Create PDP context request" }, { 17, "Create PDP context response" },
	{ 18, "Update PDP context request" }, { 19, "Update PDP context response" },
	{ 20, "Delete PDP context request" }, { 21, "Delete PDP context response" },
	{ 22, "Initiate PDP Context Activation Request" },
	{ 23, "Initiate PDP Context Activation Response" },
	{ 24, "Delete AA PDP Context Request" }, { 25, "Delete AA PDP Context Response" },
	{ 26, "Error indication" }, { 27, "PDU notification request" },
	{ 28, "PDU notification response" }, { 29, "PDU notification reject request" },
	{ 30, "PDU notification reject response" },
	{ 31, "Supported extension header notification" },
	{ 32, "Send routing information for GPRS request" },
	{ 33, "Send routing information for GPRS response" },
	{ 34, "Failure report request" }, { 35, "Failure report response" },
	{ 36, "Note MS GPRS present request" }, { 37, "Note MS GPRS present response" },
	{ 48, "Identification request" }, { 49, "Identification response" },
	{ 50, "SGSN context request" }, { 51, "SGSN context response" },
	{ 52, "SGSN context acknowledgement" }, { 53, "Forward relocation request" },
	{ 54, "Forward relocation response" }, { 55, "Forward relocation complete" },
	{ 56, "Relocation cancel request" }, { 57, "Relocation cancel response" },
	{ 58, "Forward SRNS context" }, { 59, "Forward relocation complete acknowledge" },
	{ 60, "Forward SRNS context acknowledge" }, { 61, "UE Registration Query Request" },
	{ 62, "UE Registration Query Response" }, { 70, "RAN Information Relay" },
	{ 96, "MBMS Notification Request" }, { 97, "MBMS Notification Response" },
	{ 98, "MBMS Notification Reject Request" }, { 99, "MBMS Notification Reject Response" },
	{ 100, "Create MBMS Context Request" }, { 101, "Create MBMS Context Response" },
	{ 102, "Update MBMS Context Request" }, { 103, "Update MBMS Context Response" },
	{ 104, "Delete MBMS Context Request" }, { 105, "Delete MBMS Context Response" },
	{ 112, "MBMS Registration Request" }, { 113, "MBMS Registration Response" },
	{ 114, "MBMS De-Registration Request" }, { 115, "MBMS De-Registration Response" },
	{ 116, "MBMS Session Start Request" }, { 117, "MBMS Session Start Response" },
	{ 118, "MBMS Session Stop Request" }, { 119, "MBMS Session Stop Response" },
	{ 120, "MBMS Session Update Request" }, { 121, "MBMS Session Update Response" },
	{ 128, "MS Info Change Notification Request" },
	{ 129, "MS Info Change Notification Response" },
	{ 240, "Data record transfer request" }, { 241, "Data record transfer response" },
	{ 254, "End Marker" }, { GTP_MSG_TPDU, "T-PDU" },
};

/* GTPv2-C message types (TS 29.274 6.1), the ones seen on S5/S8 and S11. */
static const struct msg_name gtpv2_messages[] = {
	{ 1, "Echo Request" }, { 2, "Echo Response" }, { 3, "Version Not Supported Indication" },
	{ 32, "Create Session Request" }, { 33, "Create Session Response" },
	{ 34, "Modify Bearer Request" }, { 35, "Modify Bearer Response" },
	{ 36, "Delete Session Request" }, { 37, "Delete Session Response" },
	{ 38, "Change Notification Request" }, { 39, "Change Notification Response" },
	{ 64, "Modify Bearer Command" }, { 65, "Modify Bearer Failure Indication" },
	{ 66, "Delete Bearer Command" }, { 67, "Delete Bearer Failure Indication" },
	{ 68, "Bearer Resource Command" }, { 69, "Bearer Resource Failure Indication" },
	{ 70, "Downlink Data Notification Failure Indication" },
	{ 95, "Create Bearer Request" }, { 96, "Create Bearer Response" },
	{ 97, "Update Bearer Request" }, { 98, "Update Bearer Response" },
	{ 99, "Delete Bearer Request" }, { 100, "Delete Bearer Response" },
	{ 101, "Delete PDN Connection Set Request" }, { 102, "Delete PDN Connection Set Response" },
	{ 128, "Identification Request" }, { 129, "Identification Response" },
	{ 130, "Context Request" }, { 131, "Context Response" }, { 132, "Context Acknowledge" },
	{ 133, "Forward Relocation Request" }, { 134, "Forward Relocation Response" },
	{ 135, "Forward Relocation Complete Notification" },
	{ 136, "Forward Relocation Complete Acknowledge" },
	{ 149, "Detach Notification" }, { 150, "Detach Acknowledge" },
	{ 160, "Create Forwarding Tunnel Request" }, { 161, "Create Forwarding Tunnel Response" },
	{ 162, "Suspend Notification" }, { 163, "Suspend Acknowledge" },
	{ 164, "Resume Notification" }, { 165, "Resume Acknowledge" },
	{ 166, "Create Indirect Data Forwarding Tunnel Request" },
	{ 167, "Create Indirect Data Forwarding Tunnel Response" },
	{ 168, "Delete Indirect Data Forwarding Tunnel Request" },
	{ 169, "Delete Indirect Data Forwarding Tunnel Response" },
	{ 170, "Release Access Bearers Request" }, { 171, "Release Access Bearers Response" },
	{ 176, "Downlink Data Notification" },
	{ 177, "Downlink Data Notification Acknowledgement" },
	{ 179, "PGW Restart Notification" }, { 180, "PGW Restart Notification Acknowledge" },
	{ 200, "Update PDN Connection Set Request" }, { 201, "Update PDN Connection Set Response" },
	{ 211, "Modify Access Bearers Request" }, { 212, "Modify Access Bearers Response" },
};

static const char *find_name(const struct msg_name *table, size_t n, uint8_t type)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].type == type)
			return table[i].name;
	return NULL;
}

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The declared length bounds the message (Wireshark's set_actual_length):
 * it goes on for left more bytes from the cursor. A length past what the
 * datagram holds is noted, and decoding goes on with what there is.
 */
static void narrow_to_length(struct wl_dctx *d, struct cursor *msg, size_t left)
{
	if (cur_narrow(msg, left) == -EBADMSG)
		wl_fail(d, -EBADMSG);
}

/*
 * A T-PDU's first byte says what it is, as Wireshark guesses it: IPv4 with
 * a header of 20 to 56 bytes, IPv6, or an Ethernet frame carrying IP or ARP.
 */
static int decode_tpdu(struct wl_dctx *d, struct cursor *c)
{
	struct cursor payload = cur_rest(c);
	uint8_t first;
	uint16_t type;

	if (cur_peek_u8(&payload, 0, &first) < 0)
		return 0;
	if (first >= 0x45 && first <= 0x4e)
		return wl_dispatch_ethertype(d, 0x0800, &payload);
	if ((first & 0xf0) == 0x60)
		return wl_dispatch_ethertype(d, 0x86dd, &payload);
	if (cur_left(&payload) > 14 && cur_peek_be16(&payload, 12, &type) == 0 &&
	    (type == 0x0806 || type == 0x86dd || type == 0x0800))
		return wl_dispatch_ethertype(d, 0x6558, &payload);
	return 0;
}

/*
 * Extension headers: a length in 4-byte words (the length byte and the
 * next type included), then the next header's type in the last byte. Each
 * takes at least 4 bytes, so the walk is linear in the datagram.
 */
static int skip_extensions(struct wl_dctx *d, struct cursor *c, uint8_t next)
{
	while (next != 0) {
		uint8_t words;

		if (cur_u8(c, &words) < 0)
			return wl_fail_short(d, c);
		if (words == 0)
			return wl_fail(d, -EBADMSG);
		if (cur_skip(c, (size_t)words * 4 - 2) < 0 || cur_u8(c, &next) < 0)
			return wl_fail_short(d, c);
		if (d->tree)
			wl_tree_uint(d, c, c->off - (size_t)words * 4, (size_t)words * 4,
				     "Extension header length", (uint64_t)words * 4);
	}
	return 0;
}

static void tree_gtp(struct wl_dctx *d, const struct cursor *c, uint8_t flags, uint8_t type,
		     uint16_t length, const char *name)
{
	wl_tree_hex(d, c, 0, 1, "Flags", flags);
	wl_tree_push(d);
	wl_tree_uint(d, c, 0, 1, "Version", flags >> 5);
	wl_tree_uint(d, c, 0, 1, "Protocol type", flags >> 4 & 1);
	wl_tree_uint(d, c, 0, 1, "Extension header", flags >> 2 & 1);
	wl_tree_uint(d, c, 0, 1, "Sequence number present", flags >> 1 & 1);
	wl_tree_uint(d, c, 0, 1, "N-PDU number present", flags & 1);
	wl_tree_pop(d);
	wl_tree_named(d, c, 1, 1, "Message type", type, name);
	wl_tree_uint(d, c, 2, 2, "Length", length);
}

/* GTPv1 (and GTP'): flags, type, length, TEID, then the optional fields. */
static int decode_gtpv1(struct wl_dctx *d, struct cursor *c, uint8_t flags, uint8_t type,
			const char *name)
{
	uint16_t length;
	uint32_t teid = 0;
	int r;

	if (cur_skip(c, 2) < 0 || cur_be16(c, &length) < 0)
		return wl_fail_short(d, c);
	if (d->tree)
		tree_gtp(d, c, flags, type, length, name);
	if (!(flags & GTP_FLAG_PT)) {
		/* GTP': a sequence number, and no TEID; the payload is charging data. */
		narrow_to_length(d, c, 2 + (size_t)length);
		return 0;
	}
	if (cur_be32(c, &teid) < 0)
		return wl_fail_short(d, c);
	narrow_to_length(d, c, length);
	if (d->tree)
		wl_tree_hex(d, c, 4, 4, "TEID", teid);
	if (flags & (GTP_FLAG_E | GTP_FLAG_S | GTP_FLAG_PN)) {
		uint16_t seq;
		uint8_t npdu, next;

		if (cur_be16(c, &seq) < 0 || cur_u8(c, &npdu) < 0 || cur_u8(c, &next) < 0)
			return wl_fail_short(d, c);
		if (d->tree && (flags & GTP_FLAG_S))
			wl_tree_uint(d, c, 8, 2, "Sequence number", seq);
		if ((flags & GTP_FLAG_E) && (r = skip_extensions(d, c, next)) < 0)
			return r;
	}
	return type == GTP_MSG_TPDU ? decode_tpdu(d, c) : 0;
}

/* GTPv0 (TS 09.60): a 20-byte header with a TID, then the same messages. */
static int decode_gtpv0(struct wl_dctx *d, struct cursor *c, uint8_t type)
{
	uint16_t length;

	if (cur_skip(c, 2) < 0 || cur_be16(c, &length) < 0 || cur_skip(c, 16) < 0)
		return wl_fail_short(d, c);
	narrow_to_length(d, c, length);
	return type == GTP_MSG_TPDU ? decode_tpdu(d, c) : 0;
}

/* GTPv2-C: flags, type, length, TEID when T is set, sequence number, spare. */
static int decode_gtpv2(struct wl_dctx *d, struct cursor *c)
{
	uint8_t flags, type;
	uint16_t length;
	uint32_t teid = 0, seq;

	wl_enter(d, WL_P_GTPV2, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_GTPV2, "GPRS Tunneling Protocol V2", c);
	if (cur_u8(c, &flags) < 0 || cur_u8(c, &type) < 0 || cur_be16(c, &length) < 0)
		return wl_fail_short(d, c);
	const char *name = find_name(gtpv2_messages, N_ELEMENTS(gtpv2_messages), type);
	struct wl_sb info = wl_info(d);

	if (name) {
		wl_sb_str(&info, name);
	} else {
		wl_sb_str(&info, "Message type ");
		wl_sb_u64(&info, type);
	}
	if (d->tree)
		tree_gtp(d, c, flags, type, length, name);
	narrow_to_length(d, c, length);
	if ((flags & GTPV2_FLAG_T) && cur_be32(c, &teid) < 0)
		return wl_fail_short(d, c);
	if (cur_be24(c, &seq) < 0 || cur_skip(c, 1) < 0)
		return wl_fail_short(d, c);
	if (d->tree) {
		if (flags & GTPV2_FLAG_T)
			wl_tree_hex(d, c, 4, 4, "TEID", teid);
		wl_tree_uint(d, c, c->off - 4, 3, "Sequence number", seq);
	}
	return 0;
}

int wl_decode_gtp(struct wl_dctx *d, struct cursor *c)
{
	uint8_t flags, type;

	if (cur_peek_u8(c, c->off, &flags) < 0)
		return 0;
	if (flags >> 5 == 2)
		return decode_gtpv2(d, c);
	/* Another version, or a type no one defined: not GTP. */
	if (flags >> 5 > 2 || cur_peek_u8(c, c->off + 1, &type) < 0)
		return 0;
	const char *name = find_name(gtp_messages, N_ELEMENTS(gtp_messages), type);

	if (!name)
		return 0;
	wl_enter(d, WL_P_GTP, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_GTP, (flags & GTP_FLAG_PT) ? "GPRS Tunneling Protocol" :
					   "GPRS Tunneling Protocol Prime", c);
	struct wl_sb info = wl_info(d);
	wl_sb_str(&info, name);
	if (flags >> 5 == 0 && (flags & GTP_FLAG_PT))
		return decode_gtpv0(d, c, type);
	return decode_gtpv1(d, c, flags, type, name);
}
