/* SPDX-License-Identifier: BSD-2-Clause */
/* The v1 packet JSON, with the writer of json-writer.h. */
#include "packet-json.h"

#include "json-writer.h"
#include "quic.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static void kv_l3(struct jw *w, const struct wl_flow *f)
{
	static const char hex[] = "0123456789abcdef";
	char text[6] = { '0', 'x' };

	switch (f->l3) {
	case WL_L3_IPV4:
		kv_word(w, "l3", "ipv4");
		return;
	case WL_L3_IPV6:
		kv_word(w, "l3", "ipv6");
		return;
	case WL_L3_ARP:
		kv_word(w, "l3", "arp");
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

/* The TLS fields: the client's ALPN list and the fingerprints (hex, nothing to escape). */
static void put_tls(struct jw *w, const struct wl_packet *pkt)
{
	const struct wl_tls *tls = &pkt->tls;

	if (pkt->has & WL_PKT_ALPN) {
		key(w, "alpn");
		put_char(w, '[');
		for (unsigned i = 0; i < tls->n_alpn && i < WL_ALPN_MAX; i++) {
			if (i)
				put_char(w, ',');
			put_string_in(w, tls->alpn[i], sizeof(tls->alpn[i]));
		}
		put_char(w, ']');
	}
	if (pkt->has & WL_PKT_JA3)
		kv_str(w, "ja3", tls->ja3);
	if (pkt->has & WL_PKT_JA3S)
		kv_str(w, "ja3s", tls->ja3s);
	if (pkt->has & WL_PKT_JA4)
		kv_str(w, "ja4", tls->ja4);
}

static void put_cid(struct jw *w, const uint8_t *cid, uint8_t len)
{
	put_char(w, '"');
	for (unsigned i = 0; i < len && i < WL_QUIC_CID_MAX; i++)
		put_mem(w, wl_json_hex_pairs + 2 * cid[i], 2);
	put_char(w, '"');
}

/* The datagram's first QUIC packet: CIDs in hex, an unknown one left out. */
static void put_quic(struct jw *w, const struct wl_quic *q)
{
	key(w, "quic");
	open_obj(w);
	if (q->flags & WL_QUIC_HAS_VERSION)
		kv_u64(w, "version", q->version);
	kv_word(w, "packet_type", wl_quic_type_name(q->type));
	if (q->flags & WL_QUIC_HAS_DCID) {
		key(w, "dcid");
		put_cid(w, q->dcid, q->dcid_len);
	}
	if (q->flags & WL_QUIC_HAS_SCID) {
		key(w, "scid");
		put_cid(w, q->scid, q->scid_len);
	}
	if (q->packets > 1)
		kv_u64(w, "packets", q->packets);
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
	if (pkt->has & (WL_PKT_ALPN | WL_PKT_JA3 | WL_PKT_JA3S | WL_PKT_JA4))
		put_tls(&w, pkt);
	if (pkt->has & WL_PKT_QUIC)
		put_quic(&w, &pkt->quic);
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
	if (pkt->flow_id)
		kv_u64(&w, "flow", pkt->flow_id);
	if (pkt->malformed)
		kv_str(&w, "malformed", pkt->malformed == WL_TRUNCATED ? "truncated" : "invalid");
	close_obj(&w);
	put_char(&w, '\n');
	if (w.overflow)
		return -ENOBUFS;
	return (long)(w.p - buf);
}
