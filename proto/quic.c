/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * QUIC datagrams without keys (RFC 8999, RFC 9000, RFC 9369): each packet's
 * header (version, connection IDs, type), coalesced packets split by their
 * Length, and, for capd, the frames of an Initial it decrypted.
 *
 * Which UDP payloads are QUIC (wl_looks_like_quic). tshark 4.0 finds QUIC
 * with a heuristic on long headers (a version it knows, CID lengths of at
 * most 20) and then follows the UDP conversation, so a short header or a
 * Version Negotiation is QUIC to it because an earlier long header on the
 * same ports was. wl_dissect() sees one frame at a time, so the rule here
 * is per packet, and on the dev corpus it agrees with tshark on every UDP
 * frame (tests/integration/quic.sh checks it):
 *   - a long header whose version tshark knows (draft 11 and later, v1,
 *     v2, ...) with both CID lengths at most 20, on any port;
 *   - a Version Negotiation (version 0) whose list of versions is whole and
 *     names at least one version tshark knows, on any port;
 *   - a short header (fixed bit set) of at least 21 bytes, the least that
 *     holds a packet number and a header-protection sample (RFC 9001
 *     5.4.2), when either UDP port is 443.
 * A short header elsewhere (QUIC on another port after its handshake) is
 * left as UDP: without the connection's state it cannot be told from noise.
 *
 * Info follows tshark's Info column, which shows the datagram's last
 * packet: "Initial, DCID=..., SCID=...", "Protected Payload (KP0)" (the key
 * phase bit is header-protected, and tshark without keys shows KP0). capd
 * appends what only decryption and the connection's state give (", PKN: 0,
 * CRYPTO, PADDING"; a short header's DCID). The summary's quic object
 * describes the datagram's first packet.
 */
#include "dissect.h"
#include "quic.h"

#define QUIC_LONG_FORM 0x80
#define QUIC_FIXED_BIT 0x40
#define QUIC_SPIN_BIT 0x20
#define QUIC_PORT 443
#define QUIC_SHORT_MIN 21 /* 1 + 4 (packet number) + 16 (sample), RFC 9001 5.4.2 */
#define QUIC_LONG_MIN 13  /* tshark's heuristic: flags, version, 8 more bytes */
#define QUIC_VN_CID_MAX 255 /* RFC 8999 5.1: Version Negotiation echoes any CID */
#define QUIC_RETRY_TAG 16
#define QUIC_VARINT_MAX ((UINT64_C(1) << 62) - 1)

unsigned wl_quic_draft(uint32_t version)
{
	if ((version >> 8) == 0xff0000)
		return version & 0xff;
	switch (version) {
	case 0xfaceb001: /* Facebook mvfst, on draft 22 */
		return 22;
	case 0xfaceb002: /* mvfst, on draft 27 */
	case 0xfaceb00e:
	case 0x51303530: /* Google Q050, T050, T051: IETF headers, draft-27 frames */
	case 0x54303530:
	case 0x54303531:
		return 27;
	case WL_QUIC_VERSION_1:
		return 34;
	case WL_QUIC_VERSION_2:
		return 100;
	default:
		break;
	}
	/* RFC 9000 15: 0x?a?a?a?a versions force Version Negotiation. */
	if ((version & 0x0f0f0f0f) == 0x0a0a0a0a)
		return 29;
	return 0;
}

const char *wl_quic_type_name(uint8_t type)
{
	switch (type) {
	case WL_QUIC_INITIAL: return "Initial";
	case WL_QUIC_0RTT: return "0-RTT";
	case WL_QUIC_HANDSHAKE: return "Handshake";
	case WL_QUIC_RETRY: return "Retry";
	case WL_QUIC_VERSION_NEGOTIATION: return "Version Negotiation";
	case WL_QUIC_1RTT: return "1-RTT";
	default: return "Unknown";
	}
}

/* RFC 9369 3.2: v2 shuffles the long packet types. */
static uint8_t long_type(uint8_t first, uint32_t version)
{
	static const uint8_t v1[4] = { WL_QUIC_INITIAL, WL_QUIC_0RTT, WL_QUIC_HANDSHAKE, WL_QUIC_RETRY };
	static const uint8_t v2[4] = { WL_QUIC_RETRY, WL_QUIC_INITIAL, WL_QUIC_0RTT, WL_QUIC_HANDSHAKE };
	unsigned bits = (first >> 4) & 3;

	if (version == 0)
		return WL_QUIC_VERSION_NEGOTIATION;
	return version == WL_QUIC_VERSION_2 ? v2[bits] : v1[bits];
}

/* RFC 9000 16: two bits of length, then 6, 14, 30 or 62 bits of value. */
static int cur_varint(struct cursor *c, uint64_t *ret)
{
	uint8_t first;
	size_t n;
	uint64_t v;

	if (cur_peek_u8(c, c->off, &first) < 0)
		return -EMSGSIZE;
	n = (size_t)1 << (first >> 6);
	if (cur_need(c, n) < 0)
		return -EMSGSIZE;
	v = first & 0x3f;
	for (size_t i = 1; i < n; i++)
		v = v << 8 | c->p[c->off + i];
	c->off += n;
	*ret = v;
	return 0;
}

int wl_quic_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *ret)
{
	struct cursor c = cur_make(p, len);

	if (*off > len)
		return -EMSGSIZE;
	c.off = *off;
	if (cur_varint(&c, ret) < 0)
		return -EMSGSIZE;
	*off = c.off;
	return 0;
}

/* ---- Which payloads are QUIC ------------------------------------------- */

/* Version Negotiation: whole 4-byte versions, one of them known. */
static bool vn_plausible(const struct cursor *c, size_t at)
{
	size_t left = c->len > at ? c->len - at : 0;
	bool known = false;

	if (left < 4 || (left % 4 && !c->cut))
		return false;
	for (size_t i = at; i + 4 <= c->len; i += 4) {
		uint32_t v = (uint32_t)c->p[i] << 24 | (uint32_t)c->p[i + 1] << 16 |
			     (uint32_t)c->p[i + 2] << 8 | c->p[i + 3];

		known = known || wl_quic_version_known(v);
	}
	return known;
}

static bool long_plausible(const struct cursor *c)
{
	uint8_t dcil, scil;
	uint32_t version;
	struct cursor h = cur_rest(c);

	if (cur_left(c) < QUIC_LONG_MIN || cur_skip(&h, 1) < 0 || cur_be32(&h, &version) < 0 ||
	    cur_u8(&h, &dcil) < 0 || cur_skip(&h, dcil) < 0 || cur_u8(&h, &scil) < 0)
		return false;
	if (version == 0)
		return cur_skip(&h, scil) == 0 && vn_plausible(&h, h.off);
	return wl_quic_version_known(version) && dcil <= WL_QUIC_CID_MAX && scil <= WL_QUIC_CID_MAX;
}

bool wl_looks_like_quic(const struct cursor *c, uint16_t sport, uint16_t dport)
{
	uint8_t first;

	if (cur_peek_u8(c, c->off, &first) < 0)
		return false;
	if (first & QUIC_LONG_FORM)
		return long_plausible(c);
	return (first & QUIC_FIXED_BIT) && (sport == QUIC_PORT || dport == QUIC_PORT) &&
	       cur_left(c) >= QUIC_SHORT_MIN;
}

/* ---- The packets of a datagram ------------------------------------------ */

void wl_quic_walk_init(struct wl_quic_walk *w, const uint8_t *p, size_t len, bool cut)
{
	*w = (struct wl_quic_walk){ .p = p, .len = len, .cut = cut };
}

static int read_cid(struct cursor *c, uint8_t max, uint8_t *len, const uint8_t **ret)
{
	if (cur_u8(c, len) < 0 || cur_bytes(c, *len, ret) < 0)
		return cur_end_error(c);
	return *len > max ? -EBADMSG : 0;
}

/* What every long header has: version and both CIDs. */
static int long_common(struct cursor *c, struct wl_quic_header *h)
{
	uint8_t max;
	int r;

	if (cur_skip(c, 1) < 0 || cur_be32(c, &h->version) < 0)
		return cur_end_error(c);
	h->type = long_type(h->first, h->version);
	max = h->type == WL_QUIC_VERSION_NEGOTIATION ? QUIC_VN_CID_MAX : WL_QUIC_CID_MAX;
	if ((r = read_cid(c, max, &h->dcid_len, &h->dcid)) < 0 ||
	    (r = read_cid(c, max, &h->scid_len, &h->scid)) < 0)
		return r;
	h->has_dcid = true;
	return 0;
}

/*
 * The packet ends where its Length says. Past the captured bytes it is still
 * reported (its header was read) and the walk then stops: truncated if the
 * capture cut the datagram, else invalid (tshark takes the rest then).
 */
static void packet_extent(struct wl_quic_walk *w, const struct cursor *c, struct wl_quic_header *h,
			  uint64_t length)
{
	size_t left = cur_left(c);

	h->pn_off = c->off;
	if (length == 0)
		w->err = -EBADMSG; /* no room for the packet number */
	if (length <= left) {
		h->len = h->captured = c->off + (size_t)length;
		return;
	}
	h->captured = c->len;
	h->len = length > SIZE_MAX - c->off ? SIZE_MAX : c->off + (size_t)length;
	w->err = c->cut ? -EMSGSIZE : -EBADMSG;
}

/* Initial, 0-RTT and Handshake: [token,] Length, packet number, payload. */
static int long_protected(struct wl_quic_walk *w, struct cursor *c, struct wl_quic_header *h)
{
	uint64_t token_len = 0, length;

	if (h->type == WL_QUIC_INITIAL) {
		if (cur_varint(c, &token_len) < 0)
			return cur_end_error(c);
		h->token_off = c->off;
		if (token_len > cur_left(c))
			return cur_end_error(c);
		h->token_len = (size_t)token_len;
		c->off += (size_t)token_len;
	}
	if (cur_varint(c, &length) < 0)
		return cur_end_error(c);
	packet_extent(w, c, h, length);
	return 0;
}

/* Retry and Version Negotiation take the rest of the datagram. */
static int long_rest(struct wl_quic_walk *w, struct cursor *c, struct wl_quic_header *h)
{
	size_t left = cur_left(c);

	h->len = h->captured = c->len;
	if (h->type == WL_QUIC_RETRY) {
		h->token_off = c->off;
		h->token_len = left > QUIC_RETRY_TAG ? left - QUIC_RETRY_TAG : 0;
		if (left < QUIC_RETRY_TAG)
			w->err = cur_end_error(c);
	} else if (left == 0 || left % 4) {
		w->err = cur_end_error(c); /* supported versions, 4 bytes each */
	}
	return 0;
}

/* A later packet of the datagram must carry the first one's DCID. */
static bool same_dcid(const struct wl_quic_walk *w, const struct cursor *c)
{
	size_t at = (c->p[0] & QUIC_LONG_FORM) ? 6 : 1;

	if (c->p[0] & QUIC_LONG_FORM) {
		if (cur_left(c) < 6 || c->p[5] != w->dcid_len)
			return false;
	}
	return w->dcid_len <= cur_left(c) - at && memcmp(c->p + at, w->dcid, w->dcid_len) == 0;
}

static int read_packet(struct wl_quic_walk *w, struct cursor *c, struct wl_quic_header *h)
{
	int r;

	h->first = c->p[0];
	if (!(h->first & QUIC_LONG_FORM)) {
		h->type = WL_QUIC_1RTT;
		h->len = h->captured = c->len;
		if (w->n > 0) { /* coalesced: same_dcid() checked it */
			h->has_dcid = true;
			h->dcid_len = w->dcid_len;
			h->dcid = c->p + 1;
		}
		return 0;
	}
	if ((r = long_common(c, h)) < 0)
		return r;
	if (h->type == WL_QUIC_RETRY || h->type == WL_QUIC_VERSION_NEGOTIATION)
		return long_rest(w, c, h);
	return long_protected(w, c, h);
}

int wl_quic_next(struct wl_quic_walk *w, struct wl_quic_header *ret, size_t *at)
{
	struct wl_quic_header h = { .has_dcid = false };
	struct cursor c;
	int r;

	if (w->err) {
		r = w->err;
		w->err = 0;
		w->off = w->len;
		return r;
	}
	c = cur_make(w->p + w->off, w->len > w->off ? w->len - w->off : 0);
	c.cut = w->cut;
	if (w->off < w->len && w->n > 0 && !same_dcid(w, &c))
		w->off = w->len; /* padding after the packets, as tshark takes it */
	if (w->off >= w->len) {
		/* The capture cut the datagram: what followed is unknown. */
		if (w->cut && w->n > 0) {
			w->cut = false;
			return -EMSGSIZE;
		}
		return 0;
	}
	if ((r = read_packet(w, &c, &h)) < 0) {
		w->off = w->len;
		return r;
	}
	if (w->n == 0) {
		w->dcid_len = h.has_dcid ? h.dcid_len : 0;
		w->dcid = h.dcid;
	}
	*at = w->off;
	*ret = h;
	w->off += h.captured;
	w->n++;
	return 1;
}

/* ---- Frames of a decrypted Initial --------------------------------------- */

const char *wl_quic_frame_name(uint8_t type)
{
	switch (type) {
	case WL_QUIC_FRAME_PADDING: return "PADDING";
	case WL_QUIC_FRAME_PING: return "PING";
	case WL_QUIC_FRAME_ACK: return "ACK";
	case WL_QUIC_FRAME_ACK_ECN: return "ACK_ECN";
	case WL_QUIC_FRAME_CRYPTO: return "CRYPTO";
	case WL_QUIC_FRAME_CONNECTION_CLOSE: return "CC";
	default: return "UNKNOWN";
	}
}

static int skip_varints(struct cursor *c, unsigned n)
{
	uint64_t v;

	while (n--)
		if (cur_varint(c, &v) < 0)
			return -EBADMSG;
	return 0;
}

/* RFC 9000 19.3: each range costs at least two bytes, so the loop is linear. */
static int skip_ack(struct cursor *c, bool ecn)
{
	uint64_t ranges;

	if (skip_varints(c, 2) < 0 || cur_varint(c, &ranges) < 0 || skip_varints(c, 1) < 0)
		return -EBADMSG;
	while (ranges--)
		if (skip_varints(c, 2) < 0)
			return -EBADMSG;
	return ecn ? skip_varints(c, 3) : 0;
}

static int read_crypto(struct cursor *c, struct wl_quic_frame *f)
{
	uint64_t len;

	if (cur_varint(c, &f->offset) < 0 || cur_varint(c, &len) < 0 || len > cur_left(c))
		return -EBADMSG;
	/* RFC 9000 19.6: the stream never reaches 2^62. */
	if (f->offset + len > QUIC_VARINT_MAX)
		return -EBADMSG;
	f->len = (size_t)len;
	return cur_bytes(c, f->len, &f->data) < 0 ? -EBADMSG : 0;
}

static int skip_close(struct cursor *c)
{
	uint64_t reason;

	if (skip_varints(c, 2) < 0 || cur_varint(c, &reason) < 0 || reason > cur_left(c))
		return -EBADMSG;
	return cur_skip(c, (size_t)reason) < 0 ? -EBADMSG : 0;
}

static int read_frame(struct cursor *c, uint64_t type, struct wl_quic_frame *f)
{
	switch (type) {
	case WL_QUIC_FRAME_PADDING:
		f->len = 1;
		while (cur_left(c) > 0 && c->p[c->off] == 0) {
			c->off++;
			f->len++;
		}
		return 0;
	case WL_QUIC_FRAME_PING:
		return 0;
	case WL_QUIC_FRAME_ACK:
	case WL_QUIC_FRAME_ACK_ECN:
		return skip_ack(c, type == WL_QUIC_FRAME_ACK_ECN);
	case WL_QUIC_FRAME_CRYPTO:
		return read_crypto(c, f);
	case WL_QUIC_FRAME_CONNECTION_CLOSE:
		return skip_close(c);
	default:
		return -EBADMSG; /* RFC 9000 12.4: no other frame in an Initial */
	}
}

int wl_quic_initial_frames(const uint8_t *p, size_t len, wl_quic_frame_fn fn, void *ctx)
{
	struct cursor c = cur_make(p, len);

	while (cur_left(&c) > 0) {
		struct wl_quic_frame f = { .len = 0 };
		uint64_t type;

		if (cur_varint(&c, &type) < 0 || read_frame(&c, type, &f) < 0)
			return -EBADMSG;
		f.type = (uint8_t)type;
		fn(ctx, &f);
	}
	return 0;
}

/* ---- The decoder ---------------------------------------------------------- */

static void put_cid(struct wl_sb *sb, const char *label, const uint8_t *cid, size_t len)
{
	if (len == 0)
		return;
	wl_sb_str(sb, label);
	for (size_t i = 0; i < len; i++)
		wl_sb_hex(sb, cid[i], 2);
}

/* One packet's part of the Info column; the last packet's stays (as in tshark). */
static void packet_info(struct wl_sb *sb, const struct wl_quic_header *h)
{
	if (h->type == WL_QUIC_1RTT) {
		wl_sb_str(sb, "Protected Payload (KP0)");
		if (h->has_dcid)
			put_cid(sb, ", DCID=", h->dcid, h->dcid_len);
		return;
	}
	wl_sb_str(sb, wl_quic_type_name(h->type));
	put_cid(sb, ", DCID=", h->dcid, h->dcid_len);
	put_cid(sb, ", SCID=", h->scid, h->scid_len);
}

static void note_first(struct wl_packet *pkt, const struct wl_quic_header *h, bool long_form)
{
	struct wl_quic *q = &pkt->quic;

	*q = (struct wl_quic){ .type = h->type };
	if (long_form) {
		q->flags |= WL_QUIC_HAS_VERSION;
		q->version = h->version;
	}
	if (h->has_dcid && h->dcid_len <= WL_QUIC_CID_MAX) {
		q->flags |= WL_QUIC_HAS_DCID;
		q->dcid_len = h->dcid_len;
		memcpy(q->dcid, h->dcid, h->dcid_len);
	}
	if (long_form && h->scid_len <= WL_QUIC_CID_MAX) {
		q->flags |= WL_QUIC_HAS_SCID;
		q->scid_len = h->scid_len;
		memcpy(q->scid, h->scid, h->scid_len);
	}
	pkt->has |= WL_PKT_QUIC;
}

static const char *version_name(uint32_t v, char buf[16])
{
	struct wl_sb sb = wl_sb_make(buf, 16);

	if (v == 0)
		return "Version Negotiation";
	if (v == WL_QUIC_VERSION_1 || v == WL_QUIC_VERSION_2)
		return v == WL_QUIC_VERSION_1 ? "1" : "2";
	if ((v >> 8) == 0xff0000) {
		wl_sb_str(&sb, "draft-");
		wl_sb_u64(&sb, v & 0xff);
		return buf;
	}
	return (v & 0x0f0f0f0f) == 0x0a0a0a0a ? "GREASE" : NULL;
}

WL_TREE_FN static void tree_cid(struct wl_dctx *d, const struct cursor *c, size_t at, const char *len_name,
				const char *name, uint8_t len)
{
	wl_tree_uint(d, c, at, 1, len_name, len);
	if (len)
		wl_tree_bytes(d, c, at + 1, len, name);
}

WL_TREE_FN static void tree_long(struct wl_dctx *d, const struct cursor *c, const struct wl_quic_header *h)
{
	char buf[16];
	const char *vname = version_name(h->version, buf);
	size_t scid_at = 6 + (size_t)h->dcid_len;
	struct wl_sb sb;

	wl_tree_text(d, c, 0, 1, "Header form", "Long Header (1)");
	wl_tree_uint(d, c, 0, 1, "Fixed bit", (h->first & QUIC_FIXED_BIT) != 0);
	if (h->type != WL_QUIC_VERSION_NEGOTIATION)
		wl_tree_named(d, c, 0, 1, "Packet type", (h->first >> 4) & 3, wl_quic_type_name(h->type));
	if (wl_tree_field(d, c, 1, 4, "Version", &sb)) {
		wl_sb_str(&sb, "0x");
		wl_sb_hex(&sb, h->version, 8);
		if (vname) {
			wl_sb_str(&sb, " (");
			wl_sb_str(&sb, vname);
			wl_sb_char(&sb, ')');
		}
	}
	tree_cid(d, c, 5, "DCID length", "Destination connection ID", h->dcid_len);
	tree_cid(d, c, scid_at, "SCID length", "Source connection ID", h->scid_len);
}

WL_TREE_FN static void tree_body(struct wl_dctx *d, const struct cursor *c, const struct wl_quic_header *h)
{
	size_t at = 7 + (size_t)h->dcid_len + h->scid_len;

	switch (h->type) {
	case WL_QUIC_VERSION_NEGOTIATION:
		for (; at + 4 <= c->len; at += 4)
			wl_tree_hex(d, c, at, 4, "Supported version",
				    (uint32_t)c->p[at] << 24 | (uint32_t)c->p[at + 1] << 16 |
					    (uint32_t)c->p[at + 2] << 8 | c->p[at + 3]);
		return;
	case WL_QUIC_RETRY:
		wl_tree_bytes(d, c, h->token_off, h->token_len, "Retry token");
		wl_tree_bytes(d, c, h->token_off + h->token_len, QUIC_RETRY_TAG, "Retry integrity tag");
		return;
	case WL_QUIC_INITIAL:
		wl_tree_uint(d, c, at, h->token_off - at, "Token length", h->token_len);
		if (h->token_len)
			wl_tree_bytes(d, c, h->token_off, h->token_len, "Token");
		at = h->token_off + h->token_len;
		break;
	default:
		break;
	}
	wl_tree_uint(d, c, at, h->pn_off - at, "Length", h->len - h->pn_off);
	wl_tree_bytes(d, c, h->pn_off, h->captured - h->pn_off, "Packet number and payload (protected)");
}

WL_TREE_FN static void tree_short(struct wl_dctx *d, const struct cursor *c, const struct wl_quic_header *h)
{
	size_t at = h->has_dcid ? 1 + (size_t)h->dcid_len : 1;

	wl_tree_text(d, c, 0, 1, "Header form", "Short Header (0)");
	wl_tree_uint(d, c, 0, 1, "Fixed bit", (h->first & QUIC_FIXED_BIT) != 0);
	wl_tree_uint(d, c, 0, 1, "Spin bit", (h->first & QUIC_SPIN_BIT) != 0);
	if (h->has_dcid && h->dcid_len)
		wl_tree_bytes(d, c, 1, h->dcid_len, "Destination connection ID");
	wl_tree_bytes(d, c, at, c->len - at, "Packet number and payload (protected)");
}

/* A layer line per packet, over its captured bytes. */
WL_TREE_FN static void tree_packet(struct wl_dctx *d, const struct cursor *c, size_t at,
				   const struct wl_quic_header *h)
{
	struct cursor p = cur_make(c->p + c->off + at, h->captured);
	struct wl_sb sb;

	wl_tree_layer(d, WL_P_QUIC, "QUIC IETF", &p);
	if (wl_tree_layer_value(d, &sb))
		packet_info(&sb, h);
	if (h->type == WL_QUIC_1RTT) {
		tree_short(d, &p, h);
		return;
	}
	tree_long(d, &p, h);
	tree_body(d, &p, h);
}

int wl_decode_quic(struct wl_dctx *d, struct cursor *c)
{
	struct wl_quic_walk w;
	struct wl_quic_header h;
	size_t at;
	int r;

	wl_enter(d, WL_P_QUIC, c);
	wl_quic_walk_init(&w, c->p + c->off, cur_left(c), c->cut);
	while ((r = wl_quic_next(&w, &h, &at)) == 1) {
		struct wl_sb info = wl_info(d);

		/* A quoted packet (ICMP error) is another packet's: no summary. */
		if (w.n == 1 && !d->in_icmp)
			note_first(d->pkt, &h, h.type != WL_QUIC_1RTT);
		packet_info(&info, &h);
		if (d->tree)
			tree_packet(d, c, at, &h);
	}
	if ((d->pkt->has & WL_PKT_QUIC) && !d->in_icmp)
		d->pkt->quic.packets = (uint8_t)(w.n > UINT8_MAX ? UINT8_MAX : w.n);
	if (w.n == 0) {
		struct wl_sb info = wl_info(d);

		wl_sb_str(&info, "QUIC");
	}
	return r < 0 ? wl_fail(d, r) : 0;
}
