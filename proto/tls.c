/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLS records carried over TCP (RFC 8446 section 5, RFC 5246 section 6.2),
 * decoded far enough to name each record and handshake message, to take
 * the server name (RFC 6066 section 3) and the ALPN list (RFC 7301) out of
 * a ClientHello, and to build the fingerprint texts of whole hellos
 * (tls_hello.c).
 *
 * A frame is decoded on its own, so a record often continues past the
 * segment. Each structure is therefore a "span": the captured bytes plus
 * how many more bytes its length field declared. A length longer than its
 * parent's declared rest contradicts the format (-EBADMSG); one that only
 * runs past the captured bytes is truncation (-EMSGSIZE). What the snap
 * length cut is still decoded; a record that goes on in the next segment
 * is only named, as tshark does without TCP reassembly, and its position
 * is noted (WL_PKT_TLS_SEGMENT) so that capd can reassemble the hello and
 * decode it whole with wl_dissect_tls_stream().
 */
#include "dissect.h"
#include "tls_hello.h"

enum {
	TLS_CT_CHANGE_CIPHER_SPEC = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPLICATION_DATA = 23,
	TLS_CT_HEARTBEAT = 24,
};

enum {
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_EXT_SERVER_NAME = 0,
	TLS_EXT_ALPN = 16,
	TLS_SNI_HOST_NAME = 0,
};

#define TLS_RANDOM_LEN 32
#define TLS_SESSION_ID_MAX 32
/* RFC 5246 6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048. */
#define TLS_RECORD_MAX (16384 + 2048)
/* The segment's end says nothing about where the stream's records end. */
#define TLS_UNBOUNDED SIZE_MAX

struct tls_span {
	struct cursor c; /* the captured bytes of the structure, from offset 0 */
	size_t missing;  /* declared bytes past the end of the capture */
};

/* State of the walk over one segment's records. */
struct tls_walk {
	struct wl_dctx *d;
	struct wl_sb info;
	bool after_ccs; /* a Change Cipher Spec came earlier in the segment */
	/* Bytes the segment has on the wire from its start; SIZE_MAX for a reassembled stream. */
	size_t wire_end;
	bool segmented; /* the current record goes on in a later segment */
	size_t rec_at;  /* where the current record starts in the segment */
	size_t rec_len; /* and its length, header included */
};

/* What a ClientHello yields for the summary. */
struct tls_hello {
	struct wl_dctx *d; /* for its detail tree lines */
	bool has_sni;
	char sni[WL_NAME_MAX];
};

static bool span_done(const struct tls_span *s)
{
	return cur_left(&s->c) == 0 && s->missing == 0;
}

/* Running out of bytes is truncation only if the declared length went on. */
static int span_short(const struct tls_span *s)
{
	return s->missing ? -EMSGSIZE : -EBADMSG;
}

static int span_u8(struct tls_span *s, uint8_t *ret)
{
	return cur_u8(&s->c, ret) ? span_short(s) : 0;
}

static int span_be16(struct tls_span *s, uint16_t *ret)
{
	return cur_be16(&s->c, ret) ? span_short(s) : 0;
}

static int span_be24(struct tls_span *s, uint32_t *ret)
{
	return cur_be24(&s->c, ret) ? span_short(s) : 0;
}

static int span_skip(struct tls_span *s, size_t n)
{
	return cur_skip(&s->c, n) ? span_short(s) : 0;
}

/*
 * Takes the next n declared bytes of parent as the child span *ret and steps
 * parent past them. The child gets whatever part of them was captured.
 */
static int span_take(struct tls_span *parent, size_t n, struct tls_span *ret)
{
	struct cursor child = cur_rest(&parent->c);
	size_t left = cur_left(&parent->c);

	if (n > left && n - left > parent->missing)
		return -EBADMSG;
	if (cur_narrow(&child, n) == 0) {
		cur_skip(&parent->c, n);
		*ret = (struct tls_span){ .c = child, .missing = 0 };
		return 0;
	}
	cur_skip(&parent->c, left);
	if (parent->missing != TLS_UNBOUNDED)
		parent->missing -= n - left;
	*ret = (struct tls_span){ .c = child, .missing = n - left };
	return 0;
}

/* Reads a length of width 1 or 2 bytes and takes that many bytes as *ret. */
static int span_vector(struct tls_span *parent, unsigned width, struct tls_span *ret)
{
	uint8_t len8 = 0;
	uint16_t len16;
	int r;

	if (width == 1) {
		r = span_u8(parent, &len8);
		len16 = len8;
	} else {
		r = span_be16(parent, &len16);
	}
	return r ? r : span_take(parent, len16, ret);
}

/* Starts a new item of the Info column, Wireshark style: "A, B, C". */
static void info_item(struct wl_sb *info, const char *name)
{
	if (info->len > 0)
		wl_sb_str(info, ", ");
	wl_sb_str(info, name);
}

/* ServerNameList: the first entry of type host_name, if any. */
static int tls_server_name(struct tls_span ext, struct tls_hello *ret)
{
	struct tls_span list, name;
	uint8_t type;
	int r;

	r = span_vector(&ext, 2, &list);
	if (r)
		return r;
	if (!span_done(&ext))
		return -EBADMSG; /* bytes after the list contradict its length */
	while (!span_done(&list)) {
		r = span_u8(&list, &type);
		if (!r)
			r = span_vector(&list, 2, &name);
		if (r)
			return r;
		if (type != TLS_SNI_HOST_NAME)
			continue;
		if (cur_left(&name.c) == 0)
			return -EBADMSG; /* HostName is opaque<1..2^16-1> */
		struct wl_sb sb = wl_sb_make(ret->sni, sizeof(ret->sni));

		wl_sb_printable(&sb, name.c);
		ret->has_sni = true;
		if (ret->d->tree)
			wl_tree_text(ret->d, &name.c, 0, cur_left(&name.c), "Server name", ret->sni);
		return 0;
	}
	return 0;
}

/* Characters a name takes once escaped (wl_sb_printable). */
static size_t printable_len(struct cursor c)
{
	size_t n = 0;
	uint8_t b;

	while (cur_u8(&c, &b) == 0)
		n += b >= 0x20 && b <= 0x7e && b != '\\' ? 1 : 4;
	return n;
}

/*
 * ALPN's ProtocolNameList: the first WL_ALPN_MAX names, each escaped and
 * cut to WL_ALPN_LEN characters. A list that contradicts its lengths is
 * kept as far as it reads: the names say what the client asked for.
 */
static void tls_alpn(struct tls_span ext, struct tls_hello *ret)
{
	struct wl_packet *pkt = ret->d->pkt;
	struct wl_tls *tls = &pkt->tls;
	struct cursor c = ext.c;
	const uint8_t *name;
	uint16_t list_len;
	uint8_t len;

	if ((pkt->has & WL_PKT_ALPN) || cur_be16(&c, &list_len) < 0)
		return;
	if (list_len < cur_left(&c))
		c.len = c.off + list_len;
	tls->n_alpn = 0;
	tls->alpn_total = 0;
	while (cur_u8(&c, &len) == 0 && cur_bytes(&c, len, &name) == 0) {
		struct cursor n = cur_make(name, len);

		if (ret->d->tree)
			wl_tree_printable(ret->d, &c, c.off - len, len, "ALPN protocol");
		if (tls->alpn_total < UINT16_MAX)
			tls->alpn_total++;
		if (tls->n_alpn == WL_ALPN_MAX || printable_len(n) > WL_ALPN_LEN)
			pkt->tls_cut |= WL_TLS_CUT_ALPN;
		if (tls->n_alpn == WL_ALPN_MAX)
			continue;
		struct wl_sb sb = wl_sb_make(tls->alpn[tls->n_alpn++], WL_ALPN_LEN + 1);

		wl_sb_printable(&sb, n);
	}
	if (tls->n_alpn > 0)
		pkt->has |= WL_PKT_ALPN;
}

/*
 * Walks the extensions block. An extension is decoded only if it was captured
 * whole; the first one cut by the capture ends the walk as truncation.
 */
static int tls_extensions(struct tls_span exts, struct tls_hello *ret)
{
	struct tls_span ext;
	uint16_t type;
	int r;

	if (ret->d->tree) {
		unsigned n = 0;
		struct tls_span walk = exts;

		while (cur_left(&walk.c) > 0 && span_be16(&walk, &type) == 0 &&
		       span_vector(&walk, 2, &ext) == 0)
			n++;
		wl_tree_uint(ret->d, &exts.c, 0, cur_left(&exts.c), "Extensions (captured)", n);
	}
	while (!span_done(&exts)) {
		r = span_be16(&exts, &type);
		if (!r)
			r = span_vector(&exts, 2, &ext);
		if (r)
			return r;
		if (ext.missing)
			return -EMSGSIZE;
		if (type == TLS_EXT_SERVER_NAME && !ret->has_sni) {
			r = tls_server_name(ext, ret);
			if (r)
				return r;
		} else if (type == TLS_EXT_ALPN) {
			tls_alpn(ext, ret);
		}
	}
	return 0;
}

/* Steps over the fixed fields and vectors that come before the extensions. */
static int tls_skip_hello_prefix(struct tls_span *hello, struct wl_dctx *d)
{
	struct tls_span vec;
	uint16_t version;
	int r;

	if (d->tree && cur_peek_be16(&hello->c, hello->c.off, &version) == 0)
		wl_tree_hex(d, &hello->c, hello->c.off, 2, "Version", version);
	r = span_skip(hello, 2 + TLS_RANDOM_LEN); /* legacy_version, random */
	if (r)
		return r;
	r = span_vector(hello, 1, &vec); /* legacy_session_id */
	if (r)
		return r;
	if (cur_left(&vec.c) + vec.missing > TLS_SESSION_ID_MAX)
		return -EBADMSG;
	r = span_vector(hello, 2, &vec); /* cipher_suites */
	if (r)
		return r;
	if (d->tree)
		wl_tree_uint(d, &vec.c, 0, cur_left(&vec.c), "Cipher suites",
			     (cur_left(&vec.c) + vec.missing) / 2);
	return span_vector(hello, 1, &vec); /* legacy_compression_methods */
}

static int tls_client_hello(struct tls_span hello, struct tls_hello *ret)
{
	struct tls_span exts;
	int r;

	r = tls_skip_hello_prefix(&hello, ret->d);
	if (r)
		return r;
	/* Before TLS 1.2, a hello without extensions simply ends here. */
	if (span_done(&hello))
		return 0;
	r = span_vector(&hello, 2, &exts);
	if (r)
		return r;
	r = tls_extensions(exts, ret);
	if (r)
		return r;
	/* Bytes after the extensions contradict the hello's length. */
	return span_done(&hello) ? 0 : -EBADMSG;
}

static const char *tls_handshake_name(uint8_t type)
{
	switch (type) {
	case 0: return "Hello Request";
	case 1: return "Client Hello";
	case 2: return "Server Hello";
	case 3: return "Hello Verify Request";
	case 4: return "New Session Ticket";
	case 5: return "End of Early Data";
	case 8: return "Encrypted Extensions";
	case 11: return "Certificate";
	case 12: return "Server Key Exchange";
	case 13: return "Certificate Request";
	case 14: return "Server Hello Done";
	case 15: return "Certificate Verify";
	case 16: return "Client Key Exchange";
	case 20: return "Finished";
	case 21: return "Certificate URL";
	case 22: return "Certificate Status";
	case 24: return "Key Update";
	default: return NULL;
	}
}

/* Keeps the first server name of the frame. */
static void tls_keep_sni(struct wl_dctx *d, const struct tls_hello *hello)
{
	struct wl_packet *pkt = d->pkt;

	if (!hello->has_sni || (pkt->has & WL_PKT_SNI))
		return;
	memcpy(pkt->sni, hello->sni, sizeof(pkt->sni));
	pkt->has |= WL_PKT_SNI;
}

/*
 * The frame's first hello in a record that goes on in a later segment: where
 * it starts, for capd's reassembly. Not inside an ICMP error's quote, whose
 * bytes belong to no stream of this capture.
 */
static void tls_note_segment(struct tls_walk *w)
{
	struct wl_packet *pkt = w->d->pkt;

	if (w->d->in_icmp || (pkt->has & WL_PKT_TLS_SEGMENT) || w->rec_len > UINT32_MAX)
		return;
	pkt->tls.rec_off = (uint32_t)w->rec_at;
	pkt->tls.rec_len = (uint32_t)w->rec_len;
	pkt->has |= WL_PKT_TLS_SEGMENT;
}

static int tls_handshake_message(struct tls_walk *w, uint8_t type, struct tls_span msg, bool first)
{
	struct tls_hello hello = { .d = w->d, .has_sni = false };
	bool hello_type = type == TLS_HS_CLIENT_HELLO || type == TLS_HS_SERVER_HELLO;
	int r = 0;

	info_item(&w->info, tls_handshake_name(type));
	if (w->segmented) {
		/* As tshark without reassembly: named, not decoded. */
		if (first && hello_type)
			tls_note_segment(w);
		return msg.missing ? -EMSGSIZE : 0;
	}
	if (type == TLS_HS_SERVER_HELLO && msg.missing == 0)
		wl_tls_server_hello_texts(w->d->pkt, msg.c);
	if (type != TLS_HS_CLIENT_HELLO)
		return msg.missing ? -EMSGSIZE : 0;
	r = tls_client_hello(msg, &hello);
	if (msg.missing == 0)
		wl_tls_client_hello_texts(w->d->pkt, msg.c, WL_JA4_TCP);
	tls_keep_sni(w->d, &hello);
	if (hello.has_sni) {
		wl_sb_str(&w->info, " (SNI=");
		wl_sb_str(&w->info, hello.sni);
		wl_sb_char(&w->info, ')');
	}
	return r;
}

/*
 * Without the session's keys an encrypted Finished cannot be told from
 * plaintext by its first bytes (a zero explicit nonce reads as two Hello
 * Requests), so a record is taken for plaintext only if it reads as a chain
 * of known messages that ends exactly at the record's end, or runs into the
 * end of the capture.
 */
static bool tls_handshake_plaintext(struct tls_span rec)
{
	while (!span_done(&rec)) {
		struct tls_span msg;
		uint8_t type;
		uint32_t len;

		if (span_u8(&rec, &type) || span_be24(&rec, &len))
			return rec.missing > 0;
		if (!tls_handshake_name(type) || span_take(&rec, len, &msg))
			return false;
	}
	return true;
}

/* The handshake messages of one record, each narrowed to its length. */
static int tls_handshake_record(struct tls_walk *w, struct tls_span rec)
{
	if (w->after_ccs || span_done(&rec) || !tls_handshake_plaintext(rec)) {
		info_item(&w->info, "Encrypted Handshake Message");
		return rec.missing ? -EMSGSIZE : 0;
	}
	while (!span_done(&rec)) {
		struct tls_span msg = { .missing = 0 };
		uint8_t type = 0;
		uint32_t len = 0;
		size_t at = rec.c.off;
		int r = span_u8(&rec, &type);

		if (!r)
			r = span_be24(&rec, &len);
		if (!r && w->d->tree) {
			wl_tree_named(w->d, &rec.c, at, 1, "Handshake type", type, tls_handshake_name(type));
			wl_tree_uint(w->d, &rec.c, at + 1, 3, "Handshake length", len);
		}
		if (!r)
			r = span_take(&rec, len, &msg);
		if (!r)
			r = tls_handshake_message(w, type, msg, at == 0);
		if (r)
			return r;
	}
	return 0;
}

/* A plaintext alert is exactly level and description; anything else is sealed. */
static int tls_record_body(struct tls_walk *w, uint8_t type, struct tls_span rec)
{
	bool sealed = cur_left(&rec.c) + rec.missing != 2;

	switch (type) {
	case TLS_CT_HANDSHAKE:
		return tls_handshake_record(w, rec);
	case TLS_CT_CHANGE_CIPHER_SPEC:
		/* From here on the sender's handshake messages are encrypted. */
		w->after_ccs = true;
		info_item(&w->info, "Change Cipher Spec");
		break;
	case TLS_CT_ALERT:
		info_item(&w->info, sealed || w->after_ccs ? "Encrypted Alert" : "Alert");
		break;
	case TLS_CT_APPLICATION_DATA:
		info_item(&w->info, "Application Data");
		break;
	default:
		info_item(&w->info, "Heartbeat");
		break;
	}
	return rec.missing ? -EMSGSIZE : 0;
}

static bool tls_record_header_ok(uint8_t type, uint8_t major, uint8_t minor)
{
	return type >= TLS_CT_CHANGE_CIPHER_SPEC && type <= TLS_CT_HEARTBEAT && major == 3 &&
	       minor <= 4;
}

static const char *tls_content_type_name(uint8_t type)
{
	static const char *const names[] = { "Change Cipher Spec", "Alert", "Handshake",
					     "Application Data", "Heartbeat" };

	return type >= TLS_CT_CHANGE_CIPHER_SPEC && type <= TLS_CT_HEARTBEAT
		       ? names[type - TLS_CT_CHANGE_CIPHER_SPEC] : NULL;
}

/* The record's line, over its header and body, and its header fields. */
static void tree_record(struct wl_dctx *d, const struct cursor *c, size_t at, uint8_t type,
			uint8_t major, uint8_t minor, uint16_t len)
{
	static const char *const versions[] = { "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3" };
	struct wl_sb sb;

	if (wl_tree_field(d, c, at, 5 + (size_t)len, "TLS record", &sb)) {
		wl_sb_str(&sb, tls_content_type_name(type));
		wl_sb_str(&sb, ", ");
		wl_sb_str(&sb, versions[minor]);
		wl_sb_str(&sb, ", length ");
		wl_sb_u64(&sb, len);
	}
	wl_tree_push(d);
	wl_tree_named(d, c, at, 1, "Content type", type, tls_content_type_name(type));
	if (wl_tree_field(d, c, at + 1, 2, "Version", &sb)) {
		wl_sb_str(&sb, versions[minor]);
		wl_sb_str(&sb, " (0x");
		wl_sb_hex(&sb, (unsigned)major << 8 | minor, 4);
		wl_sb_char(&sb, ')');
	}
	wl_tree_uint(d, c, at + 3, 2, "Length", len);
	wl_tree_pop(d);
}

/* One record: a 5-byte header (type, version, length), then its fragment. */
static int tls_record(struct tls_walk *w, struct tls_span *seg)
{
	struct tls_span rec;
	uint8_t type, major, minor;
	uint16_t len;
	int r;

	size_t at = seg->c.off;

	if (span_u8(seg, &type) || span_u8(seg, &major) || span_u8(seg, &minor) ||
	    span_be16(seg, &len))
		return -EMSGSIZE;
	if (!tls_record_header_ok(type, major, minor)) {
		info_item(&w->info, "Ignored Unknown Record");
		return -EBADMSG;
	}
	if (len > TLS_RECORD_MAX)
		return -EBADMSG;
	w->rec_at = at;
	w->rec_len = 5 + (size_t)len;
	w->segmented = w->rec_len > w->wire_end - at;
	if (w->d->tree)
		tree_record(w->d, &seg->c, seg->c.off - 5, type, major, minor, len);
	r = span_take(seg, len, &rec);
	if (r)
		return r;
	if (w->d->tree)
		wl_tree_push(w->d);
	r = tls_record_body(w, type, rec);
	if (w->d->tree)
		wl_tree_pop(w->d);
	return r;
}

/*
 * SSL 2.0 compatible ClientHello (RFC 5246 appendix E.2), still sent by some
 * old clients: a 2-byte length with the top bit set, msg_type 1, and an SSL
 * 2.0 or 3.x version. Its cipher specs carry no server name.
 */
static bool tls_looks_like_sslv2_hello(const struct cursor *c)
{
	uint8_t b0, b2, major, minor;

	if (cur_peek_u8(c, c->off, &b0) || cur_peek_u8(c, c->off + 2, &b2) ||
	    cur_peek_u8(c, c->off + 3, &major) || cur_peek_u8(c, c->off + 4, &minor))
		return false;
	return (b0 & 0x80) && b2 == TLS_HS_CLIENT_HELLO &&
	       ((major == 0 && minor == 2) || (major == 3 && minor <= 4));
}

static int tls_sslv2_hello(struct wl_dctx *d, const struct cursor *c)
{
	struct cursor rec = cur_rest(c);
	uint16_t len;

	wl_enter(d, WL_P_TLS, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_TLS, "SSLv2-compatible Client Hello", c);
	struct wl_sb info = wl_info(d);

	wl_sb_str(&info, "Client Hello");
	if (cur_be16(&rec, &len) || cur_need(&rec, len & 0x7fff))
		return wl_fail(d, -EMSGSIZE);
	return 0;
}

bool wl_looks_like_tls(const struct cursor *c)
{
	uint8_t type, major, minor;

	if (cur_peek_u8(c, c->off, &type) || cur_peek_u8(c, c->off + 1, &major) ||
	    cur_peek_u8(c, c->off + 2, &minor))
		return false;
	return tls_record_header_ok(type, major, minor);
}

/*
 * Without reassembly a segment can start in the middle of a record, and its
 * first bytes can pass for a record header by chance; an impossible length
 * tells such continuation data apart.
 */
static bool tls_first_length_plausible(const struct cursor *c)
{
	uint16_t len;

	return cur_peek_be16(c, c->off + 3, &len) || len <= TLS_RECORD_MAX;
}

int wl_decode_tls(struct wl_dctx *d, struct cursor *c)
{
	struct tls_span seg = { .c = cur_rest(c), .missing = TLS_UNBOUNDED };
	int r = 0;

	if (!wl_looks_like_tls(c))
		return tls_looks_like_sslv2_hello(c) ? tls_sslv2_hello(d, c) : 0;
	if (!tls_first_length_plausible(c))
		return 0;
	wl_enter(d, WL_P_TLS, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_TLS, "Transport Layer Security", c);
	struct tls_walk w = { .d = d, .info = wl_info(d), .wire_end = wl_wire_left(d, c, c->off) };

	/* A segment can hold several records; the first cut one ends it. */
	while (r == 0 && cur_left(&seg.c) > 0)
		r = tls_record(&w, &seg);
	if (w.info.len == 0)
		wl_sb_str(&w.info, "Truncated Record");
	return r ? wl_fail(d, r) : 0;
}

int wl_dissect_tls_stream(struct wl_packet *pkt, const uint8_t *data, size_t len)
{
	struct wl_dctx d = { .pkt = pkt, .frame = data };
	struct tls_span seg = { .c = cur_make(data, len), .missing = TLS_UNBOUNDED };
	int r = 0;

	/* What the frame's own bytes said of TLS gives way to the stream's. */
	pkt->has &= ~(uint32_t)(WL_PKT_SNI | WL_PKT_ALPN | WL_PKT_JA3 | WL_PKT_JA3S | WL_PKT_JA4 |
				WL_PKT_JA3_TEXT | WL_PKT_JA3S_TEXT | WL_PKT_JA4_TEXT | WL_PKT_TLS_SEGMENT);
	pkt->tls_cut = 0;
	if (!wl_looks_like_tls(&seg.c))
		return -EBADMSG;
	pkt->proto = WL_P_TLS;
	/* No layer is entered: these bytes are not the frame's. Nor is malformed set. */
	struct tls_walk w = { .d = &d, .info = wl_info(&d), .wire_end = SIZE_MAX };

	while (r == 0 && cur_left(&seg.c) > 0)
		r = tls_record(&w, &seg);
	return r;
}
