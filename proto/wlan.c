/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IEEE 802.11 frames (link type 105, behind radiotap, in CAPWAP): the MAC
 * header of management, control and data frames, the SSID and beacon
 * interval of management frames, and data frames' LLC/SNAP payload.
 * Protected (encrypted) frames, fragments and frames without data are
 * named, not looked into. The summary follows Wireshark's Info column:
 * "QoS Data, SN=12, FN=0, Flags=.p.....T".
 *
 * Multi-byte fields are little-endian; the addresses are bytes.
 */
#include "dissect.h"

enum { TYPE_MGMT = 0, TYPE_CONTROL = 1, TYPE_DATA = 2, TYPE_EXTENSION = 3 };

#define FLAG_TO_DS 0x01
#define FLAG_FROM_DS 0x02
#define FLAG_MORE_FRAGMENTS 0x04
#define FLAG_PROTECTED 0x40
#define FLAG_ORDER 0x80 /* +HTC: an HT Control field in QoS data and management frames */
#define DATA_QOS 0x08    /* subtype bit */
#define DATA_NO_BODY 0x04 /* subtype bit: null function, CF-Ack/Poll without data */
#define QOS_AMSDU 0x80    /* first byte of QoS Control */
#define MGMT_HEADER 24
#define SSID_TAG 0

static const char *const mgmt_names[16] = {
	"Association Request", "Association Response", "Reassociation Request",
	"Reassociation Response", "Probe Request", "Probe Response", "Measurement Pilot", NULL,
	"Beacon frame", "ATIM", "Disassociate", "Authentication", "Deauthentication", "Action",
	"Action No Ack", "Aruba Management",
};

static const char *const control_names[16] = {
	NULL, NULL, "Trigger", NULL, "Beamforming Report Poll", "VHT/HE NDP Announcement", NULL,
	"Control Wrapper", "802.11 Block Ack Req", "802.11 Block Ack", "Power-Save poll",
	"Request-to-send", "Clear-to-send", "Acknowledgement", "CF-End (Control-frame)",
	"CF-End + CF-Ack (Control-frame)",
};

static const char *const data_names[16] = {
	"Data", "Data + CF-Ack", "Data + CF-Poll", "Data + CF-Ack + CF-Poll",
	"Null function (No data)", "Acknowledgement (No data)", "CF-Poll (No data)",
	"CF-Ack/Poll (No data)", "QoS Data", "QoS Data + CF-Acknowledgment", "QoS Data + CF-Poll",
	"QoS Data + CF-Ack + CF-Poll", "QoS Null function (No data)", NULL, "QoS CF-Poll (No Data)",
	"QoS CF-Ack + CF-Poll (No data)",
};

static const char *frame_name(unsigned type, unsigned subtype)
{
	const char *name = NULL;

	switch (type) {
	case TYPE_MGMT: name = mgmt_names[subtype]; break;
	case TYPE_CONTROL: name = control_names[subtype]; break;
	case TYPE_DATA: name = data_names[subtype]; break;
	default: name = subtype == 0 ? "DMG Beacon" : subtype == 1 ? "S1G Beacon" : NULL; break;
	}
	return name ? name : "Unrecognized (Reserved frame)";
}

/* The frame being decoded: what the header said, for the parts that follow. */
struct wlan {
	unsigned type, subtype;
	uint8_t flags;
	unsigned opts;       /* WL_WLAN_* */
	uint16_t seq_ctl;
	const uint8_t *sa, *da; /* source and destination, from the DS bits */
	struct wl_sb info;
};

/* ", SN=1, FN=0" for frames with a sequence control field, then the flags. */
static void summarise_header(struct wlan *w, bool has_seq)
{
	static const char letters[] = "opmPRMFT";

	if (has_seq) {
		wl_sb_str(&w->info, ", SN=");
		wl_sb_u64(&w->info, w->seq_ctl >> 4);
		wl_sb_str(&w->info, ", FN=");
		wl_sb_u64(&w->info, w->seq_ctl & 0x0f);
	}
	wl_sb_str(&w->info, ", Flags=");
	for (int i = 0; i < 8; i++)
		wl_sb_char(&w->info, (w->flags & (0x80 >> i)) ? letters[i] : '.');
	if (w->opts & WL_WLAN_FCS)
		wl_sb_char(&w->info, 'C');
}

static void tree_addresses(struct wl_dctx *d, const struct cursor *c, const struct wlan *w, unsigned n)
{
	static const char *const names[4][4] = {
		{ "Destination", "Source", "BSS Id", NULL },               /* neither DS bit */
		{ "BSS Id", "Source", "Destination", NULL },               /* to DS */
		{ "Destination", "BSS Id", "Source", NULL },               /* from DS */
		{ "Receiver", "Transmitter", "Destination", "Source" },    /* both: a WDS */
	};
	unsigned ds = w->type == TYPE_DATA ? (w->flags & 3) : 0;

	for (unsigned i = 0; i < n; i++)
		wl_tree_mac(d, c, 4 + 6 * i + (i == 3 ? 2 : 0), names[ds][i] ? names[ds][i] : "Address");
}

/*
 * An SSID is up to 32 bytes of anything: quoted, with printable ASCII as
 * is and every other byte, the quote and the backslash as \xHH, so that no
 * SSID can end the quotes early or pass for another.
 */
static void summarise_ssid_text(struct wl_sb *info, struct cursor ssid)
{
	uint8_t b;

	wl_sb_char(info, '"');
	while (cur_u8(&ssid, &b) == 0) {
		bool plain = b >= 0x20 && b <= 0x7e && b != '"' && b != '\\';

		/* A summary cut short still closes its quotes. */
		if (info->size - 1 - info->len < (plain ? 2u : 5u))
			break;
		if (plain) {
			wl_sb_char(info, (char)b);
		} else {
			wl_sb_str(info, "\\x");
			wl_sb_hex(info, b, 2);
		}
	}
	wl_sb_char(info, '"');
}

/*
 * Tagged parameters of a management frame: only the SSID is kept, in the
 * summary (a zero-length one is the wildcard). The walk stops at the first
 * SSID.
 */
static int summarise_ssid(struct wl_dctx *d, struct wlan *w, struct cursor *c)
{
	uint8_t id, len;

	while (cur_u8(c, &id) == 0 && cur_u8(c, &len) == 0) {
		if (len > cur_left(c))
			return wl_fail_short(d, c);
		if (id != SSID_TAG) {
			cur_skip(c, len);
			continue;
		}
		struct cursor ssid = cur_rest(c);

		cur_narrow(&ssid, len);
		if (d->tree)
			wl_tree_printable(d, c, c->off, len, "SSID");
		if (len == 0) {
			wl_sb_str(&w->info, ", SSID=Wildcard (Broadcast)");
		} else {
			wl_sb_str(&w->info, ", SSID=");
			summarise_ssid_text(&w->info, ssid);
		}
		return 0;
	}
	return 0;
}

/* Fixed fields before the tags, by subtype; -1: no tagged parameters follow. */
static int fixed_fields(unsigned subtype)
{
	static const int8_t len[16] = { 4, 6, 10, 6, 0, 12, -1, -1, 12, -1, -1, 6, -1, -1, -1, -1 };

	return len[subtype];
}

static int decode_mgmt(struct wl_dctx *d, struct cursor *c, struct wlan *w)
{
	size_t header = MGMT_HEADER + ((w->flags & FLAG_ORDER) ? 4 : 0);
	uint16_t interval;

	if (cur_skip(c, 18) < 0 || cur_le16(c, &w->seq_ctl) < 0 || cur_skip(c, header - MGMT_HEADER) < 0)
		return wl_fail_short(d, c);
	if (d->tree) {
		tree_addresses(d, c, w, 3);
		wl_tree_uint(d, c, 22, 2, "Sequence number", w->seq_ctl >> 4);
	}
	summarise_header(w, true);
	int fixed = fixed_fields(w->subtype);

	if (fixed < 0 || (w->flags & FLAG_PROTECTED) || cur_left(c) == 0)
		return 0;
	/* Beacons and probe responses: an 8-byte timestamp, then the interval. */
	struct cursor bi = *c;

	if ((w->subtype == 5 || w->subtype == 8) && cur_skip(&bi, 8) == 0 && cur_le16(&bi, &interval) == 0) {
		wl_sb_str(&w->info, ", BI=");
		wl_sb_u64(&w->info, interval);
	}
	if (cur_skip(c, (size_t)fixed) < 0)
		return wl_fail_short(d, c);
	return summarise_ssid(d, w, c);
}

/* Control frames carry one or two addresses and nothing to decode further. */
static int decode_control(struct wl_dctx *d, struct cursor *c, struct wlan *w)
{
	unsigned addresses = w->subtype == 12 || w->subtype == 13 ? 1 : w->subtype >= 8 ? 2 : 0;

	if (cur_skip(c, 6 * (size_t)addresses) < 0)
		return wl_fail_short(d, c);
	if (d->tree)
		tree_addresses(d, c, w, addresses);
	summarise_header(w, false);
	return 0;
}

/*
 * What a data frame's body starts with, as Wireshark guesses it: LLC
 * (0xaa 0xaa), an Ethernet frame (its addresses repeat the 802.11 ones),
 * two stray bytes some drivers insert before LLC, or an ethertype (EPD).
 * Raw IPX (0xff 0xff) is left alone.
 */
static int decode_body(struct wl_dctx *d, struct cursor *body, const struct wlan *w)
{
	const uint8_t *b = body->p;
	size_t n = cur_left(body);
	uint16_t type;

	if (n < 2)
		return body->cut ? wl_fail(d, -EMSGSIZE) : 0; /* nothing to tell it by */
	if (b[0] == 0xaa && b[1] == 0xaa)
		return wl_decode_llc(d, body);
	if ((n >= 12 && memcmp(b + 6, w->sa, 6) == 0) || (n >= 6 && memcmp(b, w->da, 6) == 0))
		return wl_dispatch_ethertype(d, 0x6558, body);
	if (b[0] == 0xff && b[1] == 0xff)
		return 0;
	if (n >= 18 && b[0] == 0 && b[1] == 0 && memcmp(b + 6, w->da, 6) == 0 &&
	    memcmp(b + 12, w->sa, 6) == 0) {
		struct cursor frame = *body;

		cur_skip(&frame, 6);
		frame = cur_rest(&frame);
		return wl_dispatch_ethertype(d, 0x6558, &frame);
	}
	if ((b[0] == 0 && b[1] == 0) || (uint16_t)(b[1] << 8 | b[0]) == w->seq_ctl) {
		struct cursor llc = *body;

		cur_skip(&llc, 2);
		llc = cur_rest(&llc);
		return wl_decode_llc(d, &llc);
	}
	type = (uint16_t)(b[0] << 8 | b[1]);
	if (type > 0x0600 && wl_ethertype_known(type)) {
		struct cursor payload = *body;

		cur_skip(&payload, 2);
		payload = cur_rest(&payload);
		return wl_dispatch_ethertype(d, type, &payload);
	}
	return wl_decode_llc(d, body);
}

/* An A-MSDU: subframes of DA, SA, length and an LLC payload; the first is decoded. */
static int decode_amsdu(struct wl_dctx *d, struct cursor *body)
{
	uint16_t len;

	if (cur_skip(body, 12) < 0 || cur_be16(body, &len) < 0)
		return wl_fail_short(d, body);
	struct cursor llc = cur_rest(body);

	if (cur_narrow(&llc, len) == -EBADMSG)
		return wl_fail(d, -EBADMSG);
	return wl_decode_llc(d, &llc);
}

/* The source and destination of a data frame, by its DS bits. */
static void data_addresses(struct wlan *w, const uint8_t *h, bool wds)
{
	switch (w->flags & (FLAG_TO_DS | FLAG_FROM_DS)) {
	case 0: w->da = h + 4; w->sa = h + 10; break;
	case FLAG_TO_DS: w->da = h + 16; w->sa = h + 10; break;
	case FLAG_FROM_DS: w->da = h + 4; w->sa = h + 16; break;
	default: w->da = h + 16; w->sa = wds ? h + 24 : h + 10; break;
	}
}

static int decode_data(struct wl_dctx *d, struct cursor *c, struct wlan *w)
{
	bool wds = (w->flags & (FLAG_TO_DS | FLAG_FROM_DS)) == (FLAG_TO_DS | FLAG_FROM_DS);
	bool qos = w->subtype & DATA_QOS;
	size_t header = 24 + (wds ? 6 : 0);
	uint8_t qos_ctl = 0;

	if (cur_skip(c, 18) < 0 || cur_le16(c, &w->seq_ctl) < 0 || (wds && cur_skip(c, 6) < 0) ||
	    (qos && (cur_u8(c, &qos_ctl) < 0 || cur_skip(c, 1) < 0)))
		return wl_fail_short(d, c);
	header += qos ? 2 : 0;
	if (qos && (w->flags & FLAG_ORDER))
		header += 4;
	if ((w->opts & WL_WLAN_DATAPAD) && header % 4)
		header += 4 - header % 4;
	if (d->tree) {
		tree_addresses(d, c, w, wds ? 4 : 3);
		wl_tree_uint(d, c, 22, 2, "Sequence number", w->seq_ctl >> 4);
		wl_tree_uint(d, c, 22, 2, "Fragment number", w->seq_ctl & 0x0f);
		if (qos)
			wl_tree_hex(d, c, wds ? 30 : 24, 2, "QoS Control", qos_ctl);
	}
	summarise_header(w, true);
	data_addresses(w, c->p, wds);
	if (cur_skip(c, header - c->off) < 0)
		return wl_fail_short(d, c);
	/* Nothing to read: no data, encrypted, or a fragment of a larger frame. */
	if ((w->subtype & DATA_NO_BODY) || (w->flags & (FLAG_PROTECTED | FLAG_MORE_FRAGMENTS)) ||
	    (w->seq_ctl & 0x0f))
		return 0;
	struct cursor body = cur_rest(c);
	return qos && (qos_ctl & QOS_AMSDU) ? decode_amsdu(d, &body) : decode_body(d, &body, w);
}

static void tree_frame_control(struct wl_dctx *d, const struct cursor *c, const struct wlan *w,
			       uint16_t duration)
{
	wl_tree_named(d, c, 0, 1, "Type", w->type,
		      (const char *const[]){ "Management", "Control", "Data", "Extension" }[w->type]);
	wl_tree_uint(d, c, 0, 1, "Subtype", w->subtype);
	wl_tree_hex(d, c, 1, 1, "Flags", w->flags);
	wl_tree_flag(d, c, 1, 1, "To DS", w->flags, FLAG_TO_DS);
	wl_tree_flag(d, c, 1, 1, "From DS", w->flags, FLAG_FROM_DS);
	wl_tree_flag(d, c, 1, 1, "More fragments", w->flags, FLAG_MORE_FRAGMENTS);
	wl_tree_flag(d, c, 1, 1, "Retry", w->flags, 0x08);
	wl_tree_flag(d, c, 1, 1, "Protected", w->flags, FLAG_PROTECTED);
	wl_tree_uint(d, c, 2, 2, "Duration", duration);
}

/*
 * Protocol version 1 (802.11ah's short frames) has other headers, and 2 and
 * 3 are not defined: they are named as Wireshark names them, not decoded.
 */
static void summarise_version(struct wlan *w, unsigned version, uint8_t fc0)
{
	static const char *const pv1_types[8] = {
		"PV1 QoS Data - with one SID", "PV1 Management", "PV1 Control", "PV1 QoS Data - no SIDs",
		"PV1 Reserved", "PV1 Reserved", "PV1 Reserved", "PV1 Extension (currently reserved)",
	};

	if (version == 1) {
		wl_sb_str(&w->info, pv1_types[fc0 >> 2 & 7]);
		return;
	}
	wl_sb_str(&w->info, "Unknown protocol version: ");
	wl_sb_u64(&w->info, version);
}

int wl_decode_wlan_frame(struct wl_dctx *d, struct cursor *c, unsigned opts)
{
	struct wlan w = { .opts = opts };
	uint8_t fc[2];
	uint16_t duration;

	wl_enter(d, WL_P_WLAN, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_WLAN, "IEEE 802.11", c);
	if (cur_u8(c, &fc[0]) < 0 || cur_u8(c, &fc[1]) < 0 || cur_le16(c, &duration) < 0)
		return wl_fail_short(d, c);
	if (opts & WL_WLAN_SWAPPED_FC) {
		uint8_t t = fc[0];

		fc[0] = fc[1];
		fc[1] = t;
	}
	w.type = fc[0] >> 2 & 3;
	w.subtype = fc[0] >> 4;
	w.flags = fc[1];
	w.info = wl_info(d);
	if (fc[0] & 3) {
		summarise_version(&w, fc[0] & 3, fc[0]);
		return 0;
	}
	wl_sb_str(&w.info, frame_name(w.type, w.subtype));
	if (d->tree)
		tree_frame_control(d, c, &w, duration);
	switch (w.type) {
	case TYPE_MGMT: return decode_mgmt(d, c, &w);
	case TYPE_CONTROL: return decode_control(d, c, &w);
	case TYPE_DATA: return decode_data(d, c, &w);
	default: summarise_header(&w, false); return 0;
	}
}

int wl_decode_wlan(struct wl_dctx *d, struct cursor *c)
{
	return wl_decode_wlan_frame(d, c, 0);
}

/* CAPWAP's (Cisco's) 802.11, whose frame control bytes come swapped. */
int wl_decode_wlan_bsfc(struct wl_dctx *d, struct cursor *c)
{
	return wl_decode_wlan_frame(d, c, WL_WLAN_SWAPPED_FC);
}
