/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hand-rolled JSON for the per-packet hot path: cJSON would allocate a tree
 * per packet, and this writer runs a million times a second.
 */
#include "packet-json.h"

#include "dissect.h" /* wl_sb_addr */
#include "fmt.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

struct jw {
	char *p;
	char *end;
	bool overflow;
	bool need_comma;
};

static inline void put_mem(struct jw *w, const char *s, size_t n)
{
	if (n > (size_t)(w->end - w->p)) {
		w->overflow = true;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

static inline void put_char(struct jw *w, char ch)
{
	if (w->p >= w->end) {
		w->overflow = true;
		return;
	}
	*w->p++ = ch;
}

static void put_lit(struct jw *w, const char *s)
{
	put_mem(w, s, strlen(s));
}

static void put_u64(struct jw *w, uint64_t v)
{
	if (w->end - w->p < 20) {
		w->overflow = true;
		return;
	}
	w->p += wl_fmt_u64(w->p, v);
}

static void put_i64(struct jw *w, int64_t v)
{
	if (v < 0) {
		put_char(w, '-');
		put_u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(w, (uint64_t)v);
	}
}

/* True for a byte that JSON requires escaped: controls, '"' and '\\'. */
static inline bool needs_escape(unsigned char ch)
{
	return ch < 0x20 || ch == '"' || ch == '\\';
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Whether any of the 8 bytes in x is below 0x20 (NUL included), '"' or '\\'. */
static inline bool chunk_is_special(uint64_t x)
{
	uint64_t quote = x ^ (ONES * '"'), backslash = x ^ (ONES * '\\');

	return (((x - ONES * 0x20) & ~x) | ((quote - ONES) & ~quote) |
		((backslash - ONES) & ~backslash)) & HIGHS;
}

static void put_escaped(struct jw *w, unsigned char ch)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };

	if (ch == '"' || ch == '\\') {
		put_char(w, '\\');
		put_char(w, (char)ch);
	} else {
		put_mem(w, esc, sizeof(esc));
	}
}

/*
 * Strings from proto/ are printable ASCII plus the UTF-8 arrow in info[];
 * anything else is escaped, so hostile bytes cannot break the line.
 */
/*
 * Writes the NUL-terminated string in s[0..cap) as a JSON string. The scan
 * goes 8 bytes at a time while it stays inside the array, which is why the
 * caller passes its size: the hot strings (info, names) are long.
 */
static void put_string_in(struct jw *w, const char *s, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;

	put_char(w, '"');
	for (;;) {
		uint64_t x;
		size_t stop;

		while (i + 8 <= cap) {
			memcpy(&x, u + i, 8);
			if (chunk_is_special(x))
				break;
			i += 8;
		}
		/* Walk the chunk that held something special byte by byte. */
		for (stop = i + 8 < cap ? i + 8 : cap; i < stop && u[i]; i++) {
			if (needs_escape(u[i])) {
				put_mem(w, s + start, i - start);
				put_escaped(w, u[i]);
				start = i + 1;
			}
		}
		if (i >= cap || u[i] == '\0')
			break;
	}
	put_mem(w, s + start, i - start);
	put_char(w, '"');
}

static void put_string(struct jw *w, const char *s)
{
	put_string_in(w, s, strlen(s) + 1);
}

/* Keys are literals, so their length is known at compile time. */
#define key(w, k) key_n((w), "\"" k "\":", sizeof(k) + 2)

static inline void key_n(struct jw *w, const char *quoted, size_t n)
{
	if (w->need_comma)
		put_char(w, ',');
	put_mem(w, quoted, n);
	w->need_comma = true;
}

static void open_obj(struct jw *w)
{
	put_char(w, '{');
	w->need_comma = false;
}

static void close_obj(struct jw *w)
{
	put_char(w, '}');
	w->need_comma = true;
}

#define kv_u64(w, k, v) (key(w, k), put_u64((w), (v)))
#define kv_str(w, k, v) (key(w, k), put_string((w), (v)))
#define kv_bool(w, k, v) (key(w, k), put_lit((w), (v) ? "true" : "false"))

/* Two lowercase hex digits for every byte value: MACs are in every line. */
static const char hex_pairs[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
				 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
				 "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
				 "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
				 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
				 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
				 "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
				 "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static void put_mac(struct jw *w, const uint8_t *m)
{
	char *out = w->p;

	if (w->end - w->p < 19) {
		w->overflow = true;
		return;
	}
	out[0] = '"';
	for (int i = 0; i < 6; i++) {
		memcpy(out + 1 + i * 3, hex_pairs + 2 * m[i], 2);
		out[3 + i * 3] = ':';
	}
	out[18] = '"';
	w->p += 19;
}

/* Address text is digits, dots, colons and hex letters: nothing to escape. */
static void put_addr(struct jw *w, const struct wl_addr *a)
{
	char text[64];
	struct wl_sb sb;

	if (a->family == 4 && w->end - w->p >= 20) {
		/* The common case, written in place. */
		*w->p++ = '"';
		w->p += wl_fmt_ipv4(w->p, a->b);
		*w->p++ = '"';
		return;
	}
	sb = wl_sb_make(text, sizeof(text));
	wl_sb_addr(&sb, a);
	put_char(w, '"');
	put_mem(w, text, sb.len);
	put_char(w, '"');
}

/* Timestamps are seconds with exactly six decimals. */
static void kv_ts(struct jw *w, int64_t sec, uint32_t usec)
{
	char frac[6];

	sec += usec / 1000000;
	usec %= 1000000;
	key(w, "ts");
	put_i64(w, sec);
	put_char(w, '.');
	/* Six digits, zeros kept: three pairs from the table. */
	memcpy(frac, wl_digit_pairs + usec / 10000 * 2, 2);
	memcpy(frac + 2, wl_digit_pairs + usec / 100 % 100 * 2, 2);
	memcpy(frac + 4, wl_digit_pairs + usec % 100 * 2, 2);
	put_mem(w, frac, sizeof(frac));
}

static void kv_l3(struct jw *w, const struct wl_flow *f)
{
	static const char hex[] = "0123456789abcdef";
	char text[6] = { '0', 'x' };

	switch (f->l3) {
	case WL_L3_IPV4:
		kv_str(w, "l3", "ipv4");
		return;
	case WL_L3_IPV6:
		kv_str(w, "l3", "ipv6");
		return;
	case WL_L3_ARP:
		kv_str(w, "l3", "arp");
		return;
	case WL_L3_OTHER:
		for (int i = 0; i < 4; i++)
			text[2 + i] = hex[(f->ethertype >> (12 - 4 * i)) & 15];
		key(w, "l3");
		put_char(w, '"');
		put_mem(w, text, sizeof(text));
		put_char(w, '"');
		return;
	default:
		return;
	}
}

/* The flow keys shared by the top level and "inner". */
static void put_flow(struct jw *w, const struct wl_flow *f, bool with_l3)
{
	if (with_l3)
		kv_l3(w, f);
	if (f->has & WL_HAS_SRC) {
		key(w, "src");
		put_addr(w, &f->src);
	}
	if (f->has & WL_HAS_DST) {
		key(w, "dst");
		put_addr(w, &f->dst);
	}
	if (f->has & WL_HAS_IPPROTO)
		kv_u64(w, "ipproto", f->ipproto);
	if (f->has & WL_HAS_SPORT)
		kv_u64(w, "sport", f->sport);
	if (f->has & WL_HAS_DPORT)
		kv_u64(w, "dport", f->dport);
	if (f->has & WL_HAS_SCTP_PORTS) {
		/* Kept apart from sport/dport, which mean TCP or UDP to every consumer. */
		key(w, "sctp");
		open_obj(w);
		kv_u64(w, "sport", f->sport);
		kv_u64(w, "dport", f->dport);
		close_obj(w);
	}
}

static void put_vlans(struct jw *w, const struct wl_packet *pkt)
{
	key(w, "vlan");
	put_char(w, '[');
	for (unsigned i = 0; i < pkt->n_vlan; i++) {
		if (i)
			put_char(w, ',');
		put_u64(w, pkt->vlan[i]);
	}
	put_char(w, ']');
}

/* Protocol names are ours and plain ASCII: no scan needed, only a length. */
static void put_proto(struct jw *w, uint8_t proto)
{
	put_char(w, '"');
	put_mem(w, wl_proto_name((enum wl_proto)proto), wl_proto_name_len((enum wl_proto)proto));
	put_char(w, '"');
}

static const char *const section_names[] = { "an", "ns", "ar" };

static void put_dns(struct jw *w, const struct wl_dns *dns)
{
	key(w, "dns");
	open_obj(w);
	kv_u64(w, "id", dns->id);
	kv_bool(w, "response", dns->response);
	kv_u64(w, "rcode", dns->rcode);
	if (dns->has_question) {
		kv_str(w, "qname", dns->qname);
		kv_u64(w, "qtype", dns->qtype);
	}
	key(w, "answers");
	put_char(w, '[');
	for (unsigned i = 0; i < dns->n_answers && i < WL_DNS_MAX_ANSWERS; i++) {
		const struct wl_dns_rr *rr = &dns->answers[i];

		if (i)
			put_char(w, ',');
		open_obj(w);
		kv_str(w, "section", section_names[rr->section < 3 ? rr->section : 0]);
		kv_str(w, "name", rr->name);
		kv_u64(w, "type", rr->type);
		kv_u64(w, "ttl", rr->ttl);
		kv_str(w, "data", rr->data);
		close_obj(w);
	}
	put_char(w, ']');
	close_obj(w);
}

static void put_http(struct jw *w, const struct wl_http *http)
{
	key(w, "http");
	open_obj(w);
	if (http->response) {
		kv_u64(w, "status", http->status);
	} else {
		kv_str(w, "method", http->method);
		if (http->host[0])
			kv_str(w, "host", http->host);
		kv_str(w, "path", http->path);
	}
	close_obj(w);
}

static void put_dhcp(struct jw *w, const struct wl_dhcp *dhcp)
{
	key(w, "dhcp");
	open_obj(w);
	kv_u64(w, "op", dhcp->op);
	if (dhcp->msg_type)
		kv_u64(w, "type", dhcp->msg_type);
	if (dhcp->hostname[0])
		kv_str(w, "hostname", dhcp->hostname);
	close_obj(w);
}

long wl_json_packet(const struct wl_packet *pkt, char *buf, size_t size)
{
	struct jw w = { .p = buf, .end = buf + size };

	open_obj(&w);
	kv_u64(&w, "seq", pkt->seq);
	kv_ts(&w, pkt->ts_sec, pkt->ts_usec);
	kv_u64(&w, "len", pkt->len);
	kv_u64(&w, "caplen", pkt->caplen);
	if (pkt->has & WL_PKT_ETH) {
		key(&w, "eth");
		open_obj(&w);
		key(&w, "src");
		put_mac(&w, pkt->eth_src);
		key(&w, "dst");
		put_mac(&w, pkt->eth_dst);
		close_obj(&w);
	}
	if (pkt->n_vlan)
		put_vlans(&w, pkt);
	put_flow(&w, &pkt->outer, true);
	if (pkt->outer.has & WL_HAS_TCP_FLAGS)
		kv_u64(&w, "tcp_flags", pkt->outer.tcp_flags);
	key(&w, "proto");
	put_proto(&w, pkt->proto);
	key(&w, "info");
	put_string_in(&w, pkt->info, sizeof(pkt->info));
	if (pkt->has & WL_PKT_DNS)
		put_dns(&w, &pkt->dns);
	if (pkt->has & WL_PKT_SNI)
		kv_str(&w, "sni", pkt->sni);
	if (pkt->has & WL_PKT_HTTP)
		put_http(&w, &pkt->http);
	if (pkt->has & WL_PKT_DHCP)
		put_dhcp(&w, &pkt->dhcp);
	if (pkt->has & WL_PKT_INNER) {
		key(&w, "inner");
		open_obj(&w);
		put_flow(&w, &pkt->inner, true);
		close_obj(&w);
	}
	if (pkt->malformed)
		kv_str(&w, "malformed", pkt->malformed == WL_TRUNCATED ? "truncated" : "invalid");
	close_obj(&w);
	put_char(&w, '\n');
	if (w.overflow)
		return -ENOBUFS;
	return (long)(w.p - buf);
}
