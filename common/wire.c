/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Encoder and decoder of the v1 wire format (wlite-wire.h). The decoder
 * reads untrusted messages through the same bounds-checked cursor as the
 * dissectors: a subscriber must survive whatever arrives on the socket.
 */
#include "wlite-wire.h"

#include "cursor.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* ---- Writing ------------------------------------------------------------ */

struct ww {
	uint8_t *p;
	uint8_t *end;
	bool overflow;
};

static void put_bytes(struct ww *w, const void *src, size_t n)
{
	if (n == 0)
		return; /* src may be NULL for an empty capture */
	if (n > (size_t)(w->end - w->p)) {
		w->overflow = true;
		return;
	}
	memcpy(w->p, src, n);
	w->p += n;
}

static void put_be(struct ww *w, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	put_bytes(w, b, bytes);
}

static void put_text(struct ww *w, const char *s, bool nul)
{
	put_bytes(w, s, strlen(s) + (nul ? 1 : 0));
}

/* Opens a section; returns where its length goes, for end_section(). */
static uint8_t *begin_section(struct ww *w, unsigned type)
{
	uint8_t *start = w->p;

	put_be(w, type, 1);
	put_be(w, 0, 1);
	put_be(w, 0, 2);
	return start;
}

static void end_section(struct ww *w, uint8_t *start)
{
	size_t len = (size_t)(w->p - start) - 4;

	if (w->overflow)
		return;
	if (len > UINT16_MAX) {
		w->overflow = true;
		return;
	}
	start[2] = (uint8_t)(len >> 8);
	start[3] = (uint8_t)len;
}

static void put_text_section(struct ww *w, unsigned type, const char *s)
{
	uint8_t *sec = begin_section(w, type);

	put_text(w, s, false);
	end_section(w, sec);
}

static void put_flow(struct ww *w, enum wl_wire_section type, const struct wl_flow *f)
{
	uint8_t family = f->src.family ? f->src.family : f->dst.family;
	uint8_t *sec = begin_section(w, type);

	put_be(w, f->l3, 1);
	put_be(w, f->has, 1);
	put_be(w, f->ipproto, 1);
	put_be(w, family, 1);
	put_be(w, f->ethertype, 2);
	put_be(w, f->sport, 2);
	put_be(w, f->dport, 2);
	put_be(w, f->tcp_flags, 2);
	if (family) {
		size_t n = family == 6 ? 16 : 4;

		put_bytes(w, f->src.b, n);
		put_bytes(w, f->dst.b, n);
	}
	end_section(w, sec);
}

static void put_dns(struct ww *w, const struct wl_dns *dns)
{
	uint8_t *sec = begin_section(w, WL_SEC_DNS);

	put_be(w, dns->id, 2);
	put_be(w, dns->flags, 2);
	put_be(w, dns->rcode, 1);
	put_be(w, dns->opcode, 1);
	put_be(w, dns->has_question, 1);
	put_be(w, dns->qtype, 2);
	put_be(w, dns->qdcount, 2);
	put_be(w, dns->ancount, 2);
	put_be(w, dns->nscount, 2);
	put_be(w, dns->arcount, 2);
	put_be(w, dns->answers_total, 2);
	put_text(w, dns->qname, false);
	end_section(w, sec);

	for (unsigned i = 0; i < dns->n_answers && i < WL_DNS_MAX_ANSWERS; i++) {
		const struct wl_dns_rr *rr = &dns->answers[i];

		sec = begin_section(w, WL_SEC_DNS_RR);
		put_be(w, rr->section, 1);
		put_be(w, rr->type, 2);
		put_be(w, rr->class, 2);
		put_be(w, rr->ttl, 4);
		put_text(w, rr->name, true);
		put_text(w, rr->data, false);
		end_section(w, sec);
	}
}

static void put_tls(struct ww *w, const struct wl_packet *pkt)
{
	const struct wl_tls *tls = &pkt->tls;

	if (pkt->has & WL_PKT_ALPN) {
		uint8_t *sec = begin_section(w, WL_SEC_ALPN);

		put_be(w, tls->alpn_total, 2);
		for (unsigned i = 0; i < tls->n_alpn && i < WL_ALPN_MAX; i++)
			put_text(w, tls->alpn[i], true);
		end_section(w, sec);
	}
	if (pkt->has & WL_PKT_JA3)
		put_text_section(w, WL_SEC_JA3, tls->ja3);
	if (pkt->has & WL_PKT_JA3S)
		put_text_section(w, WL_SEC_JA3S, tls->ja3s);
	if (pkt->has & WL_PKT_JA4)
		put_text_section(w, WL_SEC_JA4, tls->ja4);
}

static void put_quic(struct ww *w, const struct wl_quic *q)
{
	uint8_t *sec = begin_section(w, WL_SEC_QUIC);
	uint8_t dcid_len = q->dcid_len <= WL_QUIC_CID_MAX ? q->dcid_len : 0;
	uint8_t scid_len = q->scid_len <= WL_QUIC_CID_MAX ? q->scid_len : 0;

	put_be(w, q->version, 4);
	put_be(w, q->type, 1);
	put_be(w, q->flags, 1);
	put_be(w, q->packets, 1);
	put_be(w, dcid_len, 1);
	put_bytes(w, q->dcid, dcid_len);
	put_be(w, scid_len, 1);
	put_bytes(w, q->scid, scid_len);
	end_section(w, sec);
}

static void put_summary(struct ww *w, const struct wl_packet *pkt)
{
	uint8_t *sec;

	if (pkt->has & WL_PKT_ETH) {
		sec = begin_section(w, WL_SEC_ETH);
		put_bytes(w, pkt->eth_src, 6);
		put_bytes(w, pkt->eth_dst, 6);
		end_section(w, sec);
	}
	if (pkt->n_vlan) {
		sec = begin_section(w, WL_SEC_VLAN);
		for (unsigned i = 0; i < pkt->n_vlan && i < WL_VLAN_MAX; i++)
			put_be(w, pkt->vlan[i], 2);
		end_section(w, sec);
	}
	if (pkt->outer.l3 != WL_L3_NONE || pkt->outer.has)
		put_flow(w, WL_SEC_OUTER, &pkt->outer);
	if (pkt->has & WL_PKT_INNER)
		put_flow(w, WL_SEC_INNER, &pkt->inner);
	put_text_section(w, WL_SEC_INFO, pkt->info);
	if (pkt->has & WL_PKT_SNI)
		put_text_section(w, WL_SEC_SNI, pkt->sni);
	if (pkt->has & WL_PKT_HTTP) {
		sec = begin_section(w, WL_SEC_HTTP);
		put_be(w, pkt->http.response, 1);
		put_be(w, pkt->http.status, 2);
		put_text(w, pkt->http.method, true);
		put_text(w, pkt->http.host, true);
		put_text(w, pkt->http.path, true);
		end_section(w, sec);
	}
	if (pkt->has & WL_PKT_DHCP) {
		sec = begin_section(w, WL_SEC_DHCP);
		put_be(w, pkt->dhcp.op, 1);
		put_be(w, pkt->dhcp.msg_type, 1);
		put_be(w, pkt->dhcp.xid, 4);
		put_text(w, pkt->dhcp.hostname, false);
		end_section(w, sec);
	}
	if (pkt->has & WL_PKT_DNS)
		put_dns(w, &pkt->dns);
	if (pkt->flow_id) {
		sec = begin_section(w, WL_SEC_FLOW);
		put_be(w, pkt->flow_id, 8);
		end_section(w, sec);
	}
	if (pkt->has & (WL_PKT_ALPN | WL_PKT_JA3 | WL_PKT_JA3S | WL_PKT_JA4))
		put_tls(w, pkt);
	if (pkt->has & WL_PKT_QUIC)
		put_quic(w, &pkt->quic);
	if (pkt->n_layers) {
		sec = begin_section(w, WL_SEC_LAYERS);
		for (unsigned i = 0; i < pkt->n_layers && i < WL_LAYERS_MAX; i++) {
			put_be(w, pkt->layers[i].proto, 1);
			put_be(w, pkt->layers[i].off, 2);
			put_be(w, pkt->layers[i].len, 2);
		}
		end_section(w, sec);
	}
}

long wl_wire_put_record(uint8_t *buf, size_t size, const struct wl_packet *pkt, int linktype,
			const uint8_t *raw, size_t raw_len)
{
	struct ww w = { .p = buf, .end = buf + size };

	put_be(&w, 0, 4); /* the record length, patched below */
	put_be(&w, pkt->seq, 8);
	put_be(&w, (uint64_t)pkt->ts_sec, 8);
	put_be(&w, pkt->ts_usec, 4);
	put_be(&w, pkt->len, 4);
	put_be(&w, raw_len, 4);
	put_be(&w, (uint16_t)linktype, 2);
	put_be(&w, pkt->proto, 1);
	put_be(&w, pkt->malformed, 1);
	put_bytes(&w, raw, raw_len);
	put_summary(&w, pkt);
	if (w.overflow)
		return -ENOBUFS;
	size_t len = (size_t)(w.p - buf);
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	return (long)len;
}

void wl_wire_put_batch_header(uint8_t *buf, uint16_t count, uint64_t sent_us)
{
	struct ww w = { .p = buf, .end = buf + WL_WIRE_BATCH_HEADER };

	put_be(&w, WL_WIRE_MAGIC, 2);
	put_be(&w, WL_WIRE_VERSION, 1);
	put_be(&w, 0, 1);
	put_be(&w, WL_WIRE_BATCH_HEADER, 2);
	put_be(&w, count, 2);
	put_be(&w, sent_us, 8);
}

/* ---- Reading ------------------------------------------------------------ */

int wl_wire_reader_init(struct wl_wire_reader *r, const uint8_t *msg, size_t len)
{
	struct cursor c = cur_make(msg, len);
	uint16_t magic, hlen, count;
	uint8_t version, flags;
	uint64_t sent_us;

	if (cur_be16(&c, &magic) < 0 || cur_u8(&c, &version) < 0 || cur_u8(&c, &flags) < 0 ||
	    cur_be16(&c, &hlen) < 0 || cur_be16(&c, &count) < 0 || cur_be64(&c, &sent_us) < 0)
		return -EBADMSG;
	if (magic != WL_WIRE_MAGIC)
		return -EBADMSG;
	if (version != WL_WIRE_VERSION)
		return -EPROTO;
	if (hlen < WL_WIRE_BATCH_HEADER || hlen > len)
		return -EBADMSG;
	*r = (struct wl_wire_reader){ .p = msg, .len = len, .off = hlen, .left = count, .sent_us = sent_us };
	return 0;
}

/* Copies text of n bytes into a NUL-terminated buffer, cutting what does not fit. */
static void copy_text(char *dst, size_t size, const uint8_t *src, size_t n)
{
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Reads NUL-terminated text, or up to the end of the section if there is no NUL. */
static void take_text(struct cursor *c, char *dst, size_t size)
{
	const uint8_t *start = c->p + c->off;
	const uint8_t *nul = memchr(start, '\0', cur_left(c));
	size_t n = nul ? (size_t)(nul - start) : cur_left(c);

	copy_text(dst, size, start, n);
	cur_skip(c, nul ? n + 1 : n);
}

static int get_flow(struct cursor *c, struct wl_flow *f)
{
	uint8_t family;

	memset(f, 0, sizeof(*f));
	if (cur_u8(c, &f->l3) < 0 || cur_u8(c, &f->has) < 0 || cur_u8(c, &f->ipproto) < 0 ||
	    cur_u8(c, &family) < 0 || cur_be16(c, &f->ethertype) < 0 || cur_be16(c, &f->sport) < 0 ||
	    cur_be16(c, &f->dport) < 0 || cur_be16(c, &f->tcp_flags) < 0)
		return -EBADMSG;
	if (family != 0 && family != 4 && family != 6)
		return -EBADMSG;
	if (family) {
		size_t n = family == 6 ? 16 : 4;
		const uint8_t *src, *dst;

		if (cur_bytes(c, n, &src) < 0 || cur_bytes(c, n, &dst) < 0)
			return -EBADMSG;
		f->src.family = f->dst.family = family;
		memcpy(f->src.b, src, n);
		memcpy(f->dst.b, dst, n);
	}
	if (f->l3 > WL_L3_OTHER)
		return -EBADMSG;
	return 0;
}

static int get_dns(struct cursor *c, struct wl_dns *dns)
{
	uint8_t has_question;

	if (cur_be16(c, &dns->id) < 0 || cur_be16(c, &dns->flags) < 0 || cur_u8(c, &dns->rcode) < 0 ||
	    cur_u8(c, &dns->opcode) < 0 || cur_u8(c, &has_question) < 0 ||
	    cur_be16(c, &dns->qtype) < 0 || cur_be16(c, &dns->qdcount) < 0 ||
	    cur_be16(c, &dns->ancount) < 0 || cur_be16(c, &dns->nscount) < 0 ||
	    cur_be16(c, &dns->arcount) < 0 || cur_be16(c, &dns->answers_total) < 0)
		return -EBADMSG;
	dns->has_question = has_question != 0;
	dns->response = (dns->flags & 0x8000) != 0;
	dns->n_answers = 0;
	take_text(c, dns->qname, sizeof(dns->qname));
	return 0;
}

static int get_dns_rr(struct cursor *c, struct wl_dns *dns)
{
	struct wl_dns_rr *rr;

	if (dns->n_answers >= WL_DNS_MAX_ANSWERS)
		return 0; /* more than we keep: the count says how many there were */
	rr = &dns->answers[dns->n_answers];
	if (cur_u8(c, &rr->section) < 0 || cur_be16(c, &rr->type) < 0 ||
	    cur_be16(c, &rr->class) < 0 || cur_be32(c, &rr->ttl) < 0)
		return -EBADMSG;
	if (rr->section > WL_DNS_AR)
		return -EBADMSG;
	take_text(c, rr->name, sizeof(rr->name));
	take_text(c, rr->data, sizeof(rr->data));
	dns->n_answers++;
	return 0;
}

static int get_alpn(struct cursor *c, struct wl_packet *pkt)
{
	struct wl_tls *tls = &pkt->tls;

	if (cur_be16(c, &tls->alpn_total) < 0)
		return -EBADMSG;
	tls->n_alpn = 0;
	while (cur_left(c) > 0 && tls->n_alpn < WL_ALPN_MAX)
		take_text(c, tls->alpn[tls->n_alpn++], sizeof(tls->alpn[0]));
	if (tls->n_alpn > 0)
		pkt->has |= WL_PKT_ALPN;
	return 0;
}

static int get_cid(struct cursor *c, uint8_t *len, uint8_t *cid)
{
	const uint8_t *b;

	if (cur_u8(c, len) < 0 || *len > WL_QUIC_CID_MAX || cur_bytes(c, *len, &b) < 0)
		return -EBADMSG;
	memcpy(cid, b, *len);
	return 0;
}

static int get_quic(struct cursor *c, struct wl_packet *pkt)
{
	struct wl_quic *q = &pkt->quic;

	if (cur_be32(c, &q->version) < 0 || cur_u8(c, &q->type) < 0 || cur_u8(c, &q->flags) < 0 ||
	    cur_u8(c, &q->packets) < 0 || get_cid(c, &q->dcid_len, q->dcid) < 0 ||
	    get_cid(c, &q->scid_len, q->scid) < 0)
		return -EBADMSG;
	pkt->has |= WL_PKT_QUIC;
	return 0;
}

static int get_layers(struct cursor *c, struct wl_packet *pkt)
{
	while (cur_left(c) >= 5 && pkt->n_layers < WL_LAYERS_MAX) {
		struct wl_layer *l = &pkt->layers[pkt->n_layers++];

		cur_u8(c, &l->proto);
		cur_be16(c, &l->off);
		cur_be16(c, &l->len);
		if (l->proto >= WL_P__MAX)
			return -EBADMSG;
	}
	return 0;
}

static int get_http(struct cursor *c, struct wl_http *http)
{
	uint8_t response;

	if (cur_u8(c, &response) < 0 || cur_be16(c, &http->status) < 0)
		return -EBADMSG;
	http->response = response != 0;
	take_text(c, http->method, sizeof(http->method));
	take_text(c, http->host, sizeof(http->host));
	take_text(c, http->path, sizeof(http->path));
	return 0;
}

static int get_dhcp(struct cursor *c, struct wl_dhcp *dhcp)
{
	if (cur_u8(c, &dhcp->op) < 0 || cur_u8(c, &dhcp->msg_type) < 0 || cur_be32(c, &dhcp->xid) < 0)
		return -EBADMSG;
	take_text(c, dhcp->hostname, sizeof(dhcp->hostname));
	return 0;
}

/* Applies one section to the record; unknown types are skipped, as promised. */
static int get_section(uint8_t type, struct cursor *c, struct wl_wire_record *rec)
{
	struct wl_packet *pkt = &rec->pkt;
	const uint8_t *b;

	switch (type) {
	case WL_SEC_ETH:
		if (cur_bytes(c, 6, &b) < 0)
			return -EBADMSG;
		memcpy(pkt->eth_src, b, 6);
		if (cur_bytes(c, 6, &b) < 0)
			return -EBADMSG;
		memcpy(pkt->eth_dst, b, 6);
		pkt->has |= WL_PKT_ETH;
		return 0;
	case WL_SEC_VLAN:
		while (cur_left(c) >= 2 && pkt->n_vlan < WL_VLAN_MAX)
			cur_be16(c, &pkt->vlan[pkt->n_vlan++]);
		return 0;
	case WL_SEC_OUTER:
		return get_flow(c, &pkt->outer);
	case WL_SEC_INNER:
		pkt->has |= WL_PKT_INNER;
		return get_flow(c, &pkt->inner);
	case WL_SEC_INFO:
		copy_text(pkt->info, sizeof(pkt->info), c->p + c->off, cur_left(c));
		return 0;
	case WL_SEC_SNI:
		pkt->has |= WL_PKT_SNI;
		copy_text(pkt->sni, sizeof(pkt->sni), c->p + c->off, cur_left(c));
		return 0;
	case WL_SEC_HTTP:
		pkt->has |= WL_PKT_HTTP;
		return get_http(c, &pkt->http);
	case WL_SEC_DHCP:
		pkt->has |= WL_PKT_DHCP;
		return get_dhcp(c, &pkt->dhcp);
	case WL_SEC_DNS:
		pkt->has |= WL_PKT_DNS;
		return get_dns(c, &pkt->dns);
	case WL_SEC_DNS_RR:
		return pkt->has & WL_PKT_DNS ? get_dns_rr(c, &pkt->dns) : -EBADMSG;
	case WL_SEC_LAYERS:
		return get_layers(c, pkt);
	case WL_SEC_FLOW:
		return cur_be64(c, &pkt->flow_id) < 0 ? -EBADMSG : 0;
	case WL_SEC_ALPN:
		return get_alpn(c, pkt);
	case WL_SEC_JA3:
		pkt->has |= WL_PKT_JA3;
		copy_text(pkt->tls.ja3, sizeof(pkt->tls.ja3), c->p + c->off, cur_left(c));
		return 0;
	case WL_SEC_JA3S:
		pkt->has |= WL_PKT_JA3S;
		copy_text(pkt->tls.ja3s, sizeof(pkt->tls.ja3s), c->p + c->off, cur_left(c));
		return 0;
	case WL_SEC_JA4:
		pkt->has |= WL_PKT_JA4;
		copy_text(pkt->tls.ja4, sizeof(pkt->tls.ja4), c->p + c->off, cur_left(c));
		return 0;
	case WL_SEC_QUIC:
		return get_quic(c, pkt);
	default:
		return 0;
	}
}

static int get_fixed(struct cursor *c, struct wl_wire_record *rec)
{
	struct wl_packet *pkt = &rec->pkt;
	uint64_t ts_sec;
	uint32_t caplen;
	uint16_t linktype;

	if (cur_be64(c, &pkt->seq) < 0 || cur_be64(c, &ts_sec) < 0 || cur_be32(c, &pkt->ts_usec) < 0 ||
	    cur_be32(c, &pkt->len) < 0 || cur_be32(c, &caplen) < 0 || cur_be16(c, &linktype) < 0 ||
	    cur_u8(c, &pkt->proto) < 0 || cur_u8(c, &pkt->malformed) < 0)
		return -EBADMSG;
	if (pkt->proto >= WL_P__MAX || pkt->malformed > WL_INVALID || pkt->ts_usec >= 1000000)
		return -EBADMSG;
	pkt->ts_sec = (int64_t)ts_sec;
	pkt->caplen = caplen;
	rec->linktype = linktype;
	return 0;
}

/*
 * The record at the reader's position: its cursor, narrowed to the record,
 * past the length field. -EBADMSG when it runs past the batch or is shorter
 * than fixed bytes.
 */
static int begin_record(const struct wl_wire_reader *r, size_t fixed, struct cursor *c, uint32_t *ret_len)
{
	*c = cur_make(r->p, r->len);
	c->off = r->off;
	if (cur_be32(c, ret_len) < 0 || *ret_len < fixed || *ret_len - 4 > cur_left(c))
		return -EBADMSG;
	cur_narrow(c, *ret_len - 4);
	return 0;
}

/* Hands each section up to the record's end to fn; sections fn does not know it skips. */
static int read_sections(struct cursor *c, int (*fn)(uint8_t type, struct cursor *sec, void *out), void *out)
{
	while (cur_left(c) > 0) {
		uint8_t type, reserved;
		uint16_t len;
		struct cursor sec;

		if (cur_u8(c, &type) < 0 || cur_u8(c, &reserved) < 0 || cur_be16(c, &len) < 0)
			return -EBADMSG;
		sec = cur_rest(c);
		if (cur_narrow(&sec, len) < 0 || cur_skip(c, len) < 0)
			return -EBADMSG;
		if (fn(type, &sec, out) < 0)
			return -EBADMSG;
	}
	return 0;
}

static void next_record(struct wl_wire_reader *r, uint32_t len)
{
	r->off += len;
	r->left--;
}

static int packet_section(uint8_t type, struct cursor *sec, void *out)
{
	return get_section(type, sec, out);
}

int wl_wire_next(struct wl_wire_reader *r, struct wl_wire_record *ret)
{
	struct cursor c;
	uint32_t rec_len;

	if (r->left == 0)
		return r->off == r->len ? 0 : -EBADMSG;
	if (begin_record(r, WL_WIRE_RECORD_FIXED, &c, &rec_len) < 0)
		return -EBADMSG;
	memset(&ret->pkt.has, 0, offsetof(struct wl_packet, info) - offsetof(struct wl_packet, has));
	ret->pkt.info[0] = '\0';
	ret->pkt.flow_id = 0;
	if (get_fixed(&c, ret) < 0 || cur_bytes(&c, ret->pkt.caplen, &ret->raw) < 0)
		return -EBADMSG;
	ret->raw_len = ret->pkt.caplen;
	if (read_sections(&c, packet_section, ret) < 0)
		return -EBADMSG;
	next_record(r, rec_len);
	return 1;
}

/* ---- Flow records ----------------------------------------------------------- */

/* Flow sections: their own numbering (wlite-wire.h). */
enum {
	FLOW_SEC_VLAN = 1,
	FLOW_SEC_OUTER = 2,
	FLOW_SEC_NAME = 3,
	FLOW_SEC_TCP = 4,
	FLOW_SEC_ICMP = 5,
	FLOW_SEC_JA4 = 6,
	FLOW_SEC_JA3S = 7,
};

#define FLOW_FIXED 80

static const char *const flow_end_names[] = { "active", "idle", "fin", "rst", "eof", "evicted" };
static const char *const tcp_state_names[] = { "midstream", "syn_sent", "syn_received", "established",
					       "closing", "closed", "reset" };

const char *wl_flow_end_name(enum wl_flow_end end)
{
	return (unsigned)end < WL_FLOW_END__MAX ? flow_end_names[end] : "unknown";
}

const char *wl_tcp_state_name(enum wl_tcp_state state)
{
	return (unsigned)state < WL_TCP_STATE__MAX ? tcp_state_names[state] : "unknown";
}

static size_t addr_len(uint8_t family)
{
	return family == 6 ? 16 : family == 4 ? 4 : 6;
}

static void put_flow_tcp(struct ww *w, const struct wl_flow_tcp *t)
{
	uint8_t *sec = begin_section(w, FLOW_SEC_TCP);

	put_be(w, t->state, 1);
	put_be(w, 0, 1);
	put_be(w, t->flags[0], 2);
	put_be(w, t->flags[1], 2);
	put_be(w, t->rtt_us, 4);
	for (int i = 0; i < 2; i++)
		put_be(w, t->retransmissions[i], 4);
	for (int i = 0; i < 2; i++)
		put_be(w, t->out_of_order[i], 4);
	for (int i = 0; i < 2; i++)
		put_be(w, t->dup_acks[i], 4);
	for (int i = 0; i < 2; i++)
		put_be(w, t->zero_windows[i], 4);
	put_be(w, t->resets, 4);
	end_section(w, sec);
}

static void put_flow_sections(struct ww *w, const struct wl_flow_record *f)
{
	uint8_t *sec;

	if (f->n_vlan) {
		sec = begin_section(w, FLOW_SEC_VLAN);
		for (unsigned i = 0; i < f->n_vlan && i < WL_FLOW_VLAN_MAX; i++)
			put_be(w, f->vlan[i], 2);
		end_section(w, sec);
	}
	if ((f->flags & WL_FLOW_OUTER) && (f->outer[0].family == 4 || f->outer[0].family == 6)) {
		sec = begin_section(w, FLOW_SEC_OUTER);
		put_be(w, f->outer[0].family, 1);
		put_bytes(w, f->outer[0].b, addr_len(f->outer[0].family));
		put_bytes(w, f->outer[1].b, addr_len(f->outer[0].family));
		end_section(w, sec);
	}
	if (f->name[0])
		put_text_section(w, FLOW_SEC_NAME, f->name);
	if (f->ja4[0])
		put_text_section(w, FLOW_SEC_JA4, f->ja4);
	if (f->ja3s[0])
		put_text_section(w, FLOW_SEC_JA3S, f->ja3s);
	if (f->flags & WL_FLOW_TCP)
		put_flow_tcp(w, &f->tcp);
	if (f->flags & WL_FLOW_ICMP) {
		sec = begin_section(w, FLOW_SEC_ICMP);
		put_be(w, f->icmp_type, 1);
		put_be(w, f->icmp_code, 1);
		put_be(w, f->icmp_id, 2);
		end_section(w, sec);
	}
}

long wl_wire_put_flow(uint8_t *buf, size_t size, const struct wl_flow_record *f)
{
	struct ww w = { .p = buf, .end = buf + size };
	uint8_t family = f->l3 == WL_L3_IPV4 || f->l3 == WL_L3_IPV6 ? f->addr[0].family : 0;
	size_t len;

	put_be(&w, 0, 4); /* the length, once known */
	put_be(&w, f->seq, 8);
	put_be(&w, f->id, 8);
	put_be(&w, (uint64_t)f->first_us, 8);
	put_be(&w, (uint64_t)f->last_us, 8);
	for (int i = 0; i < 2; i++) {
		put_be(&w, f->packets[i], 8);
		put_be(&w, f->bytes[i], 8);
	}
	put_be(&w, f->l3, 1);
	put_be(&w, f->ipproto, 1);
	put_be(&w, f->end, 1);
	put_be(&w, f->app, 1);
	put_be(&w, f->port[0], 2);
	put_be(&w, f->port[1], 2);
	put_be(&w, f->ethertype, 2);
	put_be(&w, f->flags, 1);
	put_be(&w, family, 1);
	for (int i = 0; i < 2; i++)
		put_bytes(&w, family ? f->addr[i].b : f->mac[i], addr_len(family));
	put_flow_sections(&w, f);
	len = (size_t)(w.p - buf);
	if (w.overflow || len > UINT32_MAX)
		return -ENOBUFS;
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	return (long)len;
}

static int get_flow_tcp(struct cursor *c, struct wl_flow_tcp *t)
{
	uint8_t reserved;
	int r = 0;

	r |= cur_u8(c, &t->state) | cur_u8(c, &reserved) | cur_be16(c, &t->flags[0]) | cur_be16(c, &t->flags[1]);
	r |= cur_be32(c, &t->rtt_us);
	for (int i = 0; i < 2; i++)
		r |= cur_be32(c, &t->retransmissions[i]);
	for (int i = 0; i < 2; i++)
		r |= cur_be32(c, &t->out_of_order[i]);
	for (int i = 0; i < 2; i++)
		r |= cur_be32(c, &t->dup_acks[i]);
	for (int i = 0; i < 2; i++)
		r |= cur_be32(c, &t->zero_windows[i]);
	r |= cur_be32(c, &t->resets);
	return r < 0 || t->state >= WL_TCP_STATE__MAX ? -EBADMSG : 0;
}

static int get_flow_outer(struct cursor *c, struct wl_flow_record *f)
{
	uint8_t family;
	const uint8_t *a, *b;

	if (cur_u8(c, &family) < 0 || (family != 4 && family != 6) || cur_bytes(c, addr_len(family), &a) < 0 ||
	    cur_bytes(c, addr_len(family), &b) < 0)
		return -EBADMSG;
	f->outer[0].family = f->outer[1].family = family;
	memcpy(f->outer[0].b, a, addr_len(family));
	memcpy(f->outer[1].b, b, addr_len(family));
	f->flags |= WL_FLOW_OUTER;
	return 0;
}

/* A section of a flow record; unknown ones are skipped. */
static int get_flow_section(uint8_t type, struct cursor *c, struct wl_flow_record *f)
{
	switch (type) {
	case FLOW_SEC_VLAN:
		while (cur_left(c) >= 2 && f->n_vlan < WL_FLOW_VLAN_MAX)
			cur_be16(c, &f->vlan[f->n_vlan++]);
		return 0;
	case FLOW_SEC_OUTER:
		return get_flow_outer(c, f);
	case FLOW_SEC_NAME:
		copy_text(f->name, sizeof(f->name), c->p + c->off, cur_left(c));
		return 0;
	case FLOW_SEC_JA4:
		copy_text(f->ja4, sizeof(f->ja4), c->p + c->off, cur_left(c));
		return 0;
	case FLOW_SEC_JA3S:
		copy_text(f->ja3s, sizeof(f->ja3s), c->p + c->off, cur_left(c));
		return 0;
	case FLOW_SEC_TCP:
		f->flags |= WL_FLOW_TCP;
		return get_flow_tcp(c, &f->tcp);
	case FLOW_SEC_ICMP:
		f->flags |= WL_FLOW_ICMP;
		return cur_u8(c, &f->icmp_type) < 0 || cur_u8(c, &f->icmp_code) < 0 || cur_be16(c, &f->icmp_id) < 0
			       ? -EBADMSG
			       : 0;
	default:
		return 0;
	}
}

static int flow_section(uint8_t type, struct cursor *sec, void *out)
{
	return get_flow_section(type, sec, out);
}

static int get_flow_fixed(struct cursor *c, struct wl_flow_record *f)
{
	uint64_t first = 0, last = 0;
	uint8_t family = 0;
	const uint8_t *a, *b;
	int r = 0;

	r |= cur_be64(c, &f->seq) | cur_be64(c, &f->id) | cur_be64(c, &first) | cur_be64(c, &last);
	for (int i = 0; i < 2; i++)
		r |= cur_be64(c, &f->packets[i]) | cur_be64(c, &f->bytes[i]);
	r |= cur_u8(c, &f->l3) | cur_u8(c, &f->ipproto) | cur_u8(c, &f->end) | cur_u8(c, &f->app);
	r |= cur_be16(c, &f->port[0]) | cur_be16(c, &f->port[1]) | cur_be16(c, &f->ethertype);
	r |= cur_u8(c, &f->flags) | cur_u8(c, &family);
	if (r < 0 || (family != 0 && family != 4 && family != 6) || f->l3 > WL_L3_OTHER ||
	    f->end >= WL_FLOW_END__MAX || f->app >= WL_P__MAX)
		return -EBADMSG;
	if (cur_bytes(c, addr_len(family), &a) < 0 || cur_bytes(c, addr_len(family), &b) < 0)
		return -EBADMSG;
	if (family) {
		f->addr[0].family = f->addr[1].family = family;
		memcpy(f->addr[0].b, a, addr_len(family));
		memcpy(f->addr[1].b, b, addr_len(family));
	} else {
		memcpy(f->mac[0], a, 6);
		memcpy(f->mac[1], b, 6);
	}
	f->first_us = (int64_t)first;
	f->last_us = (int64_t)last;
	/* Sections say these again; what the fixed part claims is not trusted. */
	f->flags &= WL_FLOW_PORTS | WL_FLOW_ECHO;
	return 0;
}

int wl_wire_next_flow(struct wl_wire_reader *r, struct wl_flow_record *ret)
{
	struct cursor c;
	uint32_t rec_len;

	if (r->left == 0)
		return r->off == r->len ? 0 : -EBADMSG;
	if (begin_record(r, FLOW_FIXED, &c, &rec_len) < 0)
		return -EBADMSG;
	memset(ret, 0, offsetof(struct wl_flow_record, name));
	ret->name[0] = '\0';
	if (get_flow_fixed(&c, ret) < 0 || read_sections(&c, flow_section, ret) < 0)
		return -EBADMSG;
	next_record(r, rec_len);
	return 1;
}
