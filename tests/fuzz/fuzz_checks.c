/* SPDX-License-Identifier: BSD-2-Clause */
/* The invariants shared by fuzz_dissect.c and fuzz_decoder.c; see fuzz_checks.h. */
#include "fuzz_checks.h"

#include <errno.h>
#include <string.h>

/*
 * A string member must hold its NUL inside its own array. strlen() alone is
 * not enough: ASan does not see an overrun into the next member of the same
 * struct, so look for the terminator within the array's size.
 */
#define CHECK_STR(arr) CHECK(memchr((arr), '\0', sizeof(arr)) != NULL)

/* Keeps the reads from being optimised away. */
static volatile size_t fuzz_sink;

static void touch(const char *s)
{
	fuzz_sink += strlen(s);
}

static void check_flow(const struct wl_flow *f)
{
	char buf[46];

	CHECK(f->l3 <= WL_L3_OTHER);
	CHECK(f->src.family == 0 || f->src.family == 4 || f->src.family == 6);
	CHECK(f->dst.family == 0 || f->dst.family == 4 || f->dst.family == 6);
	touch(wl_addr_str(&f->src, buf, sizeof(buf)));
	touch(wl_addr_str(&f->dst, buf, sizeof(buf)));
}

static void check_dns(const struct wl_dns *dns)
{
	CHECK_STR(dns->qname);
	touch(dns->qname);
	CHECK(dns->n_answers <= WL_DNS_MAX_ANSWERS);
	CHECK(dns->answers_total >= dns->n_answers);
	for (unsigned i = 0; i < dns->n_answers; i++) {
		const struct wl_dns_rr *rr = &dns->answers[i];

		CHECK(rr->section <= WL_DNS_AR);
		CHECK_STR(rr->name);
		CHECK_STR(rr->data);
		touch(rr->name);
		touch(rr->data);
	}
}

/* The TLS fields, each valid with its bit: bounded, terminated inside their arrays. */
static void check_tls(const struct wl_packet *pkt)
{
	const struct wl_tls *tls = &pkt->tls;

	if (pkt->has & WL_PKT_ALPN) {
		CHECK(tls->n_alpn >= 1 && tls->n_alpn <= WL_ALPN_MAX);
		CHECK(tls->alpn_total >= tls->n_alpn);
		for (unsigned i = 0; i < tls->n_alpn; i++) {
			CHECK_STR(tls->alpn[i]);
			CHECK(strlen(tls->alpn[i]) <= WL_ALPN_LEN);
		}
	}
	if (pkt->has & WL_PKT_JA3_TEXT) {
		CHECK_STR(tls->ja3_text);
		touch(tls->ja3_text);
	}
	if (pkt->has & WL_PKT_JA3S_TEXT) {
		CHECK_STR(tls->ja3s_text);
		touch(tls->ja3s_text);
	}
	if (pkt->has & WL_PKT_JA4_TEXT) {
		CHECK(strlen(tls->ja4_a) == 10);
		CHECK_STR(tls->ja4_b_text);
		CHECK_STR(tls->ja4_c_text);
		touch(tls->ja4_b_text);
		touch(tls->ja4_c_text);
	}
	if (pkt->has & WL_PKT_JA3)
		CHECK(strlen(tls->ja3) == WL_JA3_LEN);
	if (pkt->has & WL_PKT_JA3S)
		CHECK(strlen(tls->ja3s) == WL_JA3_LEN);
	if (pkt->has & WL_PKT_JA4)
		CHECK(strlen(tls->ja4) == WL_JA4_LEN);
	/* A record noted for reassembly is longer than what the segment had of it. */
	if (pkt->has & WL_PKT_TLS_SEGMENT)
		CHECK(tls->rec_len > 5 && tls->rec_len <= 5 + 16384 + 2048);
}

void wl_fuzz_check_packet(const struct wl_packet *pkt, int err, size_t frame_len)
{
	/*
	 * Any negative errno may come back (the depth limit gives -ELOOP), but
	 * every error must be recorded in malformed, and of the right kind; and
	 * malformed is set only together with the error (wl_fail() in core.c).
	 */
	CHECK(err <= 0);
	CHECK(pkt->malformed <= WL_INVALID);
	if (err == 0)
		CHECK(pkt->malformed == WL_OK);
	else if (err == -EMSGSIZE)
		CHECK(pkt->malformed == WL_TRUNCATED);
	else if (err != -EPROTONOSUPPORT)
		CHECK(pkt->malformed == WL_INVALID);

	CHECK(pkt->proto < WL_P__MAX);
	touch(wl_proto_name((enum wl_proto)pkt->proto));
	CHECK(pkt->n_vlan <= WL_VLAN_MAX);
	check_flow(&pkt->outer);
	check_flow(&pkt->inner);

	CHECK(pkt->n_layers <= WL_LAYERS_MAX);
	for (unsigned i = 0; i < pkt->n_layers; i++) {
		const struct wl_layer *l = &pkt->layers[i];

		CHECK(l->proto < WL_P__MAX);
		CHECK((size_t)l->off + l->len <= frame_len);
	}

	CHECK_STR(pkt->info);
	touch(pkt->info);
	if (pkt->has & WL_PKT_SNI) {
		CHECK_STR(pkt->sni);
		touch(pkt->sni);
	}
	if (pkt->has & WL_PKT_DNS)
		check_dns(&pkt->dns);
	if (pkt->has & WL_PKT_HTTP) {
		CHECK_STR(pkt->http.method);
		CHECK_STR(pkt->http.host);
		CHECK_STR(pkt->http.path);
		touch(pkt->http.method);
		touch(pkt->http.host);
		touch(pkt->http.path);
	}
	if (pkt->has & WL_PKT_DHCP) {
		CHECK_STR(pkt->dhcp.hostname);
		touch(pkt->dhcp.hostname);
	}
	check_tls(pkt);
	if (pkt->has & WL_PKT_QUIC) {
		CHECK(pkt->quic.type >= WL_QUIC_INITIAL && pkt->quic.type <= WL_QUIC_1RTT);
		CHECK(pkt->quic.dcid_len <= WL_QUIC_CID_MAX && pkt->quic.scid_len <= WL_QUIC_CID_MAX);
		CHECK(pkt->quic.packets >= 1);
	}
}
