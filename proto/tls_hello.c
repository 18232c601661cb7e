/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fingerprint texts of whole TLS hellos: JA3 and JA3S, and JA4.
 *
 * JA3 and JA3S follow what tshark 4.0 computes (packet-tls-utils.c builds
 * tls.handshake.ja3_full while it dissects), since tshark is the reference
 * users compare with: decimal values joined by '-', fields by ','; GREASE
 * values (RFC 8701) left out of the cipher suites, extensions and groups
 * but not of the point formats; the groups read up to the end of their
 * extension; and tshark's way with a malformed hello: a cipher suite or
 * compression vector, or an extension, longer than the hello gives no JA3
 * at all; an extensions block longer than the hello, or an extension
 * longer than the block, ends the text where it stands (without groups
 * and point formats).
 *
 * JA4 follows FoxIO's specification (BSD-3-Clause): a readable part, then
 * two lists that the caller hashes. GREASE is left out everywhere.
 *
 * A read that runs off the body is what ends tshark's dissection with an
 * exception: the hello then has no fingerprint.
 */
#include "tls_hello.h"

enum {
	EXT_SERVER_NAME = 0x0000,
	EXT_SUPPORTED_GROUPS = 0x000a,
	EXT_EC_POINT_FORMATS = 0x000b,
	EXT_SIGNATURE_ALGORITHMS = 0x000d,
	EXT_ALPN = 0x0010,
	EXT_SUPPORTED_VERSIONS = 0x002b,
};

#define HELLO_RANDOM_LEN 32
/* Values kept of each JA4 list: more than its text could hold (5 chars each). */
#define JA4_LIST_MAX (WL_JA4_TEXT_MAX / 5 + 1)
#define GROUPS_TEXT_MAX 1024
#define POINTS_TEXT_MAX 1024

/* ---- Bounded text ----------------------------------------------------------- */

/* Appends to buf[0..size), NUL-terminated; remembers when something did not fit. */
struct text {
	char *buf;
	size_t size, len;
	bool overflow;
};

static struct text text_make(char *buf, size_t size)
{
	buf[0] = '\0';
	return (struct text){ .buf = buf, .size = size };
}

static void text_mem(struct text *t, const char *s, size_t n)
{
	if (n > t->size - 1 - t->len) {
		t->overflow = true;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void text_char(struct text *t, char ch)
{
	text_mem(t, &ch, 1);
}

static void text_dec(struct text *t, unsigned v)
{
	char digits[20];

	text_mem(t, digits, wl_fmt_u64(digits, v));
}

static void text_hex4(struct text *t, uint16_t v)
{
	static const char hex[] = "0123456789abcdef";
	char out[4] = { hex[v >> 12], hex[(v >> 8) & 15], hex[(v >> 4) & 15], hex[v & 15] };

	text_mem(t, out, sizeof(out));
}

/* ---- JA4's parts ------------------------------------------------------------- */

struct u16_list {
	uint16_t v[JA4_LIST_MAX];
	size_t n;
	bool cut; /* more values than v[] holds */
};

static void list_add(struct u16_list *l, uint16_t v)
{
	if (l->n < JA4_LIST_MAX)
		l->v[l->n++] = v;
	else
		l->cut = true;
}

void wl_ja4_sort(uint16_t *v, size_t n)
{
	/* Insertion sort: the lists are short, and this needs no memory. */
	for (size_t i = 1; i < n; i++) {
		uint16_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

const char *wl_ja4_version(uint16_t version)
{
	switch (version) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

static bool is_alnum(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
}

void wl_ja4_alpn_chars(const uint8_t *p, size_t len, char ret[2])
{
	static const char hex[] = "0123456789abcdef";

	if (len == 0) {
		ret[0] = ret[1] = '0';
	} else if (is_alnum(p[0]) && is_alnum(p[len - 1])) {
		ret[0] = (char)p[0];
		ret[1] = (char)p[len - 1];
	} else {
		/* Not alphanumeric: the first and last digits of the name in hex. */
		ret[0] = hex[p[0] >> 4];
		ret[1] = hex[p[len - 1] & 15];
	}
}

/* ---- The ClientHello --------------------------------------------------------- */

/* What one walk over a ClientHello collects for JA3 and JA4. */
struct client_walk {
	struct cursor body; /* the whole message: point formats may read past their extension */
	struct text ja3, groups, points;
	struct u16_list ciphers, exts, sigalgs;
	bool has_sni, has_sigalgs, has_alpn, has_versions;
	uint16_t max_version; /* the highest supported_versions value (GREASE left out) */
	const uint8_t *alpn;  /* the first protocol name, alpn_len bytes */
	size_t alpn_len;
};

/* Appends v to a '-' separated JA3 list; *first says whether it starts one. */
static void ja3_item(struct text *t, unsigned v, bool *first)
{
	if (!*first)
		text_char(t, '-');
	text_dec(t, v);
	*first = false;
}

/*
 * supported_groups: tshark lists the groups up to the end of the extension,
 * whatever the vector's own length says, once that length fits.
 */
static void client_groups(struct client_walk *w, struct cursor ext)
{
	uint16_t len, group;
	bool first = true;

	if (cur_be16(&ext, &len) < 0 || len > cur_left(&ext))
		return;
	text_char(&w->groups, ',');
	while (cur_be16(&ext, &group) == 0)
		if (!wl_tls_grease(group))
			ja3_item(&w->groups, group, &first);
}

/*
 * ec_point_formats: a 1-byte count, then the formats, GREASE or not. tshark
 * reads the count even from an empty extension, and the formats past the
 * extension's end if the count says so: at is where the extension starts
 * in the body. False when that runs off the body (no JA3 then).
 */
static bool client_points(struct client_walk *w, size_t at)
{
	struct cursor c = w->body;
	uint8_t n, format;

	c.off = at;
	if (cur_u8(&c, &n) < 0)
		return false;
	text_char(&w->points, ',');
	for (unsigned i = 0; i < n; i++) {
		if (cur_u8(&c, &format) < 0)
			return false;
		if (i > 0)
			text_char(&w->points, '-');
		text_dec(&w->points, format);
	}
	return true;
}

/* signature_algorithms, for JA4: in their order, once. */
static void client_sigalgs(struct client_walk *w, struct cursor ext)
{
	uint16_t len, alg;

	if (w->has_sigalgs || cur_be16(&ext, &len) < 0)
		return;
	w->has_sigalgs = true;
	if (len < cur_left(&ext))
		ext.len = ext.off + len;
	while (cur_be16(&ext, &alg) == 0)
		if (!wl_tls_grease(alg))
			list_add(&w->sigalgs, alg);
}

/* supported_versions, for JA4: the highest one offered. */
static void client_versions(struct client_walk *w, struct cursor ext)
{
	uint8_t len;
	uint16_t v;

	if (w->has_versions || cur_u8(&ext, &len) < 0)
		return;
	w->has_versions = true;
	if (len < cur_left(&ext))
		ext.len = ext.off + len;
	while (cur_be16(&ext, &v) == 0)
		if (!wl_tls_grease(v) && v > w->max_version)
			w->max_version = v;
}

/* ALPN, for JA4: the first protocol name, if it fits its extension. */
static void client_alpn(struct client_walk *w, struct cursor ext)
{
	uint16_t list_len;
	uint8_t len;
	const uint8_t *name;

	if (w->has_alpn || cur_be16(&ext, &list_len) < 0 || cur_u8(&ext, &len) < 0 ||
	    cur_bytes(&ext, len, &name) < 0)
		return;
	w->has_alpn = true;
	w->alpn = name;
	w->alpn_len = len;
}

/* One extension of type type, whose data ext starts at body offset at. */
static bool client_extension(struct client_walk *w, uint16_t type, struct cursor ext, size_t at)
{
	switch (type) {
	case EXT_SERVER_NAME:
		w->has_sni = true;
		return true;
	case EXT_SUPPORTED_GROUPS:
		client_groups(w, ext);
		return true;
	case EXT_EC_POINT_FORMATS:
		return client_points(w, at);
	case EXT_SIGNATURE_ALGORITHMS:
		client_sigalgs(w, ext);
		return true;
	case EXT_ALPN:
		client_alpn(w, ext);
		return true;
	case EXT_SUPPORTED_VERSIONS:
		client_versions(w, ext);
		return true;
	default:
		return true;
	}
}

/*
 * The extensions block, at the body's position. False only when a read ran
 * off the body; an extension longer than its room ends the walk early,
 * without the groups and point formats (tshark returns there).
 */
static bool client_extensions(struct client_walk *w)
{
	struct cursor *c = &w->body;
	uint16_t len, type = 0, ext_len = 0;
	bool first = true;

	if (cur_be16(c, &len) < 0 || len > cur_left(c))
		return true; /* tshark: "v,c," and nothing more */
	size_t end = c->off + len;

	while (end - c->off >= 4) {
		cur_be16(c, &type);
		cur_be16(c, &ext_len);
		if (!wl_tls_grease(type)) {
			ja3_item(&w->ja3, type, &first);
			list_add(&w->exts, type);
		}
		/* Past the block: tshark stops there; past the hello, it throws. */
		if (ext_len > end - c->off)
			return ext_len <= cur_left(c);
		struct cursor ext = cur_make(c->p + c->off, ext_len);

		if (!client_extension(w, type, ext, c->off))
			return false;
		c->off += ext_len;
	}
	text_mem(&w->ja3, w->groups.len ? w->groups.buf : ",", w->groups.len ? w->groups.len : 1);
	text_mem(&w->ja3, w->points.len ? w->points.buf : ",", w->points.len ? w->points.len : 1);
	w->ja3.overflow |= w->groups.overflow || w->points.overflow;
	return true;
}

/* Version, random, session id, cipher suites, compression methods. */
static bool client_prefix(struct client_walk *w)
{
	struct cursor *c = &w->body;
	uint16_t version, len, suite = 0;
	uint8_t sid_len, comp_len;
	bool first = true;

	if (cur_be16(c, &version) < 0 || cur_skip(c, HELLO_RANDOM_LEN) < 0 || cur_u8(c, &sid_len) < 0 ||
	    cur_skip(c, sid_len) < 0)
		return false;
	text_dec(&w->ja3, version);
	text_char(&w->ja3, ',');
	if (cur_be16(c, &len) < 0 || len > cur_left(c))
		return false;
	for (size_t end = c->off + len; end - c->off >= 2;) {
		cur_be16(c, &suite);
		if (wl_tls_grease(suite))
			continue;
		ja3_item(&w->ja3, suite, &first);
		list_add(&w->ciphers, suite);
	}
	c->off += len % 2;
	text_char(&w->ja3, ',');
	return cur_u8(c, &comp_len) == 0 && cur_skip(c, comp_len) == 0;
}

/* JA4_a: transport, version, SNI, counts, ALPN. */
static void ja4_a(const struct client_walk *w, uint16_t legacy, char transport, char ret[11])
{
	/* supported_versions says it when present; the legacy field otherwise. */
	uint16_t version = w->has_versions ? w->max_version : legacy;
	size_t n_ciphers = w->ciphers.n, n_exts = w->exts.n;

	ret[0] = transport;
	memcpy(ret + 1, wl_ja4_version(version), 2);
	ret[3] = w->has_sni ? 'd' : 'i';
	if (n_ciphers > 99)
		n_ciphers = 99;
	if (n_exts > 99)
		n_exts = 99;
	memcpy(ret + 4, wl_digit_pairs + 2 * n_ciphers, 2);
	memcpy(ret + 6, wl_digit_pairs + 2 * n_exts, 2);
	wl_ja4_alpn_chars(w->alpn, w->has_alpn ? w->alpn_len : 0, ret + 8);
	ret[10] = '\0';
}

/* Sorted values as hex, ',' between; SNI and ALPN left out when skip_named. */
static void ja4_list(struct text *t, struct u16_list *l, bool skip_named)
{
	bool first = true;

	wl_ja4_sort(l->v, l->n);
	for (size_t i = 0; i < l->n; i++) {
		if (skip_named && (l->v[i] == EXT_SERVER_NAME || l->v[i] == EXT_ALPN))
			continue;
		if (!first)
			text_char(t, ',');
		text_hex4(t, l->v[i]);
		first = false;
	}
}

static void ja4_texts(struct wl_packet *pkt, struct client_walk *w, uint16_t legacy, char transport)
{
	struct wl_tls *tls = &pkt->tls;
	struct text b = text_make(tls->ja4_b_text, sizeof(tls->ja4_b_text));
	struct text c = text_make(tls->ja4_c_text, sizeof(tls->ja4_c_text));

	ja4_a(w, legacy, transport, tls->ja4_a);
	ja4_list(&b, &w->ciphers, false);
	ja4_list(&c, &w->exts, true);
	/* The signature algorithms follow only a list that has something. */
	if (c.len > 0 && w->sigalgs.n > 0) {
		text_char(&c, '_');
		for (size_t i = 0; i < w->sigalgs.n; i++) {
			if (i > 0)
				text_char(&c, ',');
			text_hex4(&c, w->sigalgs.v[i]);
		}
	}
	if (b.overflow || c.overflow || w->ciphers.cut || w->exts.cut || w->sigalgs.cut) {
		pkt->tls_cut |= WL_TLS_CUT_JA4;
		return;
	}
	pkt->has |= WL_PKT_JA4_TEXT;
}

void wl_tls_client_hello_texts(struct wl_packet *pkt, struct cursor body, char transport)
{
	/* Static would be shared by threads; this is about 2.5 KiB of stack. */
	char groups[GROUPS_TEXT_MAX], points[POINTS_TEXT_MAX];
	struct client_walk w = { .body = cur_rest(&body) };
	struct wl_tls *tls = &pkt->tls;
	uint16_t legacy = 0;

	if ((pkt->has & (WL_PKT_JA3_TEXT | WL_PKT_JA4_TEXT)) || (pkt->tls_cut & (WL_TLS_CUT_JA3 | WL_TLS_CUT_JA4)))
		return; /* the frame's first hello has them */
	w.ja3 = text_make(tls->ja3_text, sizeof(tls->ja3_text));
	w.groups = text_make(groups, sizeof(groups));
	w.points = text_make(points, sizeof(points));
	cur_peek_be16(&w.body, 0, &legacy);
	if (!client_prefix(&w))
		return;
	if (cur_left(&w.body) == 0)
		text_mem(&w.ja3, ",,", 2); /* no extensions at all */
	else if (!client_extensions(&w))
		return;
	if (w.ja3.overflow)
		pkt->tls_cut |= WL_TLS_CUT_JA3;
	else
		pkt->has |= WL_PKT_JA3_TEXT;
	ja4_texts(pkt, &w, legacy, transport);
}

/* ---- The ServerHello --------------------------------------------------------- */

/*
 * The version the ServerHello settles (tshark's tls_scan_server_hello): a
 * TLS 1.2 legacy version defers to a supported_versions extension.
 */
static uint16_t server_version(struct cursor c)
{
	static const size_t min_len = 2 + HELLO_RANDOM_LEN + 1 + 5 + 6;
	uint16_t version = 0, type = 0, len = 0, chosen = 0;
	uint8_t sid_len = 0;

	if (cur_be16(&c, &version) < 0 || version != 0x0303 || cur_left(&c) + 2 < min_len)
		return version;
	cur_skip(&c, HELLO_RANDOM_LEN);
	cur_u8(&c, &sid_len);
	if (cur_skip(&c, (size_t)sid_len + 5) < 0)
		return version; /* session id, cipher suite, compression, extensions length */
	while (cur_left(&c) >= 6) {
		cur_be16(&c, &type);
		cur_be16(&c, &len);
		if (len > cur_left(&c))
			break;
		if (type == EXT_SUPPORTED_VERSIONS && len == 2) {
			cur_be16(&c, &chosen);
			return chosen;
		}
		cur_skip(&c, len);
	}
	return version;
}

/* TLS 1.3 drafts before 22 had no session id or compression in the ServerHello. */
static bool server_early_draft(uint16_t version)
{
	return (version & 0xff00) == 0x7f00 && (version & 0xff) > 0 && (version & 0xff) < 22;
}

/* As client_extensions(), with only the types: false when tshark would throw. */
static bool server_extensions(struct cursor *c, struct text *t)
{
	uint16_t len, type = 0, ext_len = 0;
	bool first = true;

	if (cur_be16(c, &len) < 0 || len > cur_left(c))
		return true;
	size_t end = c->off + len;

	while (end - c->off >= 4) {
		cur_be16(c, &type);
		cur_be16(c, &ext_len);
		if (!wl_tls_grease(type))
			ja3_item(t, type, &first);
		if (ext_len > end - c->off)
			return ext_len <= cur_left(c);
		c->off += ext_len;
	}
	return true;
}

void wl_tls_server_hello_texts(struct wl_packet *pkt, struct cursor body)
{
	struct wl_tls *tls = &pkt->tls;
	struct cursor c = cur_rest(&body);
	struct text t;
	uint16_t version, suite;
	uint8_t sid_len, comp;
	bool draft;

	if ((pkt->has & WL_PKT_JA3S_TEXT) || (pkt->tls_cut & WL_TLS_CUT_JA3S))
		return;
	t = text_make(tls->ja3s_text, sizeof(tls->ja3s_text));
	draft = server_early_draft(server_version(c));
	if (cur_be16(&c, &version) < 0 || cur_skip(&c, HELLO_RANDOM_LEN) < 0)
		return;
	if (!draft && (cur_u8(&c, &sid_len) < 0 || cur_skip(&c, sid_len) < 0))
		return;
	if (cur_be16(&c, &suite) < 0 || (!draft && cur_u8(&c, &comp) < 0))
		return;
	text_dec(&t, version);
	text_char(&t, ',');
	text_dec(&t, suite);
	text_char(&t, ',');
	if (cur_left(&c) > 0 && !server_extensions(&c, &t))
		return;
	if (t.overflow)
		pkt->tls_cut |= WL_TLS_CUT_JA3S;
	else
		pkt->has |= WL_PKT_JA3S_TEXT;
}
