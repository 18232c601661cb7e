/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hand-rolled JSON for the per-packet hot path: cJSON would allocate a tree
 * per packet, and this writer runs a million times a second.
 */
#include "packet-json.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

struct jw {
	char *p;
	char *end;
	bool overflow;
	bool need_comma;
};

static void put_mem(struct jw *w, const char *s, size_t n)
{
	if (n > (size_t)(w->end - w->p)) {
		w->overflow = true;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

static void put_char(struct jw *w, char ch)
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
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_mem(w, tmp + i, sizeof(tmp) - i);
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

/* 1 marks a byte that JSON requires escaped: controls, '"' and '\\'. */
static const uint8_t needs_escape[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
	[0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
	[0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
	[0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
	[0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1, [0x7f] = 1,
};

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
static void put_string(struct jw *w, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, start = 0;

	put_char(w, '"');
	for (i = 0; u[i]; i++) {
		if (!needs_escape[u[i]])
			continue;
		put_mem(w, s + start, i - start);
		put_escaped(w, u[i]);
		start = i + 1;
	}
	put_mem(w, s + start, i - start);
	put_char(w, '"');
}

static void key(struct jw *w, const char *k)
{
	if (w->need_comma)
		put_char(w, ',');
	put_char(w, '"');
	put_lit(w, k);
	put_lit(w, "\":");
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

static void kv_u64(struct jw *w, const char *k, uint64_t v)
{
	key(w, k);
	put_u64(w, v);
}

static void kv_str(struct jw *w, const char *k, const char *v)
{
	key(w, k);
	put_string(w, v);
}

static void kv_bool(struct jw *w, const char *k, bool v)
{
	key(w, k);
	put_lit(w, v ? "true" : "false");
}

static void kv_mac(struct jw *w, const char *k, const uint8_t *m)
{
	static const char hex[] = "0123456789abcdef";
	char text[17];

	for (int i = 0; i < 6; i++) {
		text[i * 3] = hex[m[i] >> 4];
		text[i * 3 + 1] = hex[m[i] & 15];
		if (i < 5)
			text[i * 3 + 2] = ':';
	}
	key(w, k);
	put_char(w, '"');
	put_mem(w, text, sizeof(text));
	put_char(w, '"');
}

static void kv_addr(struct jw *w, const char *k, const struct wl_addr *a)
{
	char text[64];

	kv_str(w, k, wl_addr_str(a, text, sizeof(text)));
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
	for (int i = 5; i >= 0; i--) {
		frac[i] = (char)('0' + usec % 10);
		usec /= 10;
	}
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
	if (f->has & WL_HAS_SRC)
		kv_addr(w, "src", &f->src);
	if (f->has & WL_HAS_DST)
		kv_addr(w, "dst", &f->dst);
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
		kv_mac(&w, "src", pkt->eth_src);
		kv_mac(&w, "dst", pkt->eth_dst);
		close_obj(&w);
	}
	if (pkt->n_vlan)
		put_vlans(&w, pkt);
	put_flow(&w, &pkt->outer, true);
	if (pkt->outer.has & WL_HAS_TCP_FLAGS)
		kv_u64(&w, "tcp_flags", pkt->outer.tcp_flags);
	kv_str(&w, "proto", wl_proto_name(pkt->proto));
	kv_str(&w, "info", pkt->info);
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
