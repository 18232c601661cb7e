/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for capd/quic_track.c: QUIC datagrams in IPv4/UDP frames,
 * decoded by wl_dissect() and folded in as capd does. The RFCs' own
 * Initials (RFC 9001 and RFC 9369 Appendix A), and Initials sealed here
 * (quic_seal.h) around ClientHellos built here: CRYPTO frames split and
 * out of order, Retry, the client's later DCID, a new connection on the
 * same ports, forged packets, the short header's DCID, and every bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic.h"
#include "quic_initial.h"
#include "quic_seal.h"
#include "quic_track.h"
#include "quic_vectors.h"

#define CLIENT_PORT 50000
#define MAX_DGRAM 1500

static const uint8_t DCID_A[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
static const uint8_t DCID_B[8] = { 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7 };
static const uint8_t DCID_C[9] = { 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8 };
static const uint8_t CSCID[4] = { 0x11, 0x22, 0x33, 0x44 };
static const uint8_t SSCID[8] = { 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc };

struct env {
	struct quic_track *t;
	struct quic_initial *q;
	struct wl_packet *pkt;
	int64_t ts;
	uint16_t client_port, server_port;
	uint64_t pn[2];
};

static int make_env(void **state, const struct quic_track_config *cfg)
{
	struct env *e = calloc(1, sizeof(*e));
	int err;

	if (!e || !(e->pkt = malloc(sizeof(*e->pkt))) || !(e->t = quic_track_new(cfg, &err)) ||
	    !(e->q = quic_initial_new(&err)))
		return -1;
	e->ts = 1700000000;
	e->client_port = CLIENT_PORT;
	e->server_port = 443;
	*state = e;
	return 0;
}

static int setup(void **state)
{
	struct quic_track_config cfg;

	quic_track_config_default(&cfg);
	return make_env(state, &cfg);
}

static int teardown(void **state)
{
	struct env *e = *state;

	quic_track_free(e->t);
	quic_initial_free(e->q);
	free(e->pkt);
	free(e);
	return 0;
}

static struct quic_track_stats stats(const struct env *e)
{
	struct quic_track_stats st;

	quic_track_stats(e->t, &st);
	return st;
}

/* A datagram in raw IPv4 (link type 228) and UDP, decoded and folded in; quic_track_packet()'s answer. */
static int feed_any(struct env *e, bool from_server, const uint8_t *dgram, size_t len)
{
	static uint8_t frame[28 + 65536];
	const uint8_t client[4] = { 192, 0, 2, 1 }, server[4] = { 198, 51, 100, 2 };
	size_t n = 28 + len;

	memset(frame, 0, 28);
	frame[0] = 0x45;
	frame[2] = (uint8_t)(n >> 8);
	frame[3] = (uint8_t)n;
	frame[8] = 64;
	frame[9] = 17;
	memcpy(frame + 12, from_server ? server : client, 4);
	memcpy(frame + 16, from_server ? client : server, 4);
	frame[20 + (from_server ? 2 : 0)] = (uint8_t)(e->client_port >> 8);
	frame[21 + (from_server ? 2 : 0)] = (uint8_t)e->client_port;
	frame[22 - (from_server ? 2 : 0)] = (uint8_t)(e->server_port >> 8);
	frame[23 - (from_server ? 2 : 0)] = (uint8_t)e->server_port;
	frame[24] = (uint8_t)((n - 20) >> 8);
	frame[25] = (uint8_t)(n - 20);
	memcpy(frame + 28, dgram, len);
	memset(e->pkt, 0, sizeof(*e->pkt));
	e->pkt->ts_sec = e->ts;
	e->pkt->len = e->pkt->caplen = (uint32_t)n;
	wl_dissect(e->pkt, 228, frame, n);
	return quic_track_packet(e->t, e->pkt, frame, n);
}

/* The same, for a datagram proto/ itself takes for QUIC on port 443. */
static int feed(struct env *e, bool from_server, const uint8_t *dgram, size_t len)
{
	int r = feed_any(e, from_server, dgram, len);

	if (e->server_port == 443)
		assert_true(e->pkt->has & WL_PKT_QUIC);
	return r;
}

static size_t unhex(const char *hex, uint8_t *out, size_t room)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= room);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* ---- Building what the client sends ------------------------------------------------- */

struct bytes {
	uint8_t b[4096];
	size_t n;
};

static void add(struct bytes *b, const void *p, size_t n)
{
	assert_true(n <= sizeof(b->b) - b->n);
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void add8(struct bytes *b, unsigned v)
{
	uint8_t x = (uint8_t)v;

	add(b, &x, 1);
}

static void add16(struct bytes *b, unsigned v)
{
	add8(b, v >> 8);
	add8(b, v);
}

/* A TLS 1.3 ClientHello: SNI, ALPN "h3", then a padding extension of pad bytes. */
static void client_hello(struct bytes *h, const char *sni, size_t pad)
{
	size_t sni_len = strlen(sni), ext = 4 + 5 + sni_len + 4 + 5 + 4 + 3 + 4 + pad;
	size_t body = 2 + 32 + 1 + 4 + 2 + 2 + ext;

	h->n = 0;
	add8(h, 1);
	add8(h, (unsigned)(body >> 16));
	add16(h, (unsigned)body);
	add16(h, 0x0303);
	for (int i = 0; i < 32; i++)
		add8(h, (unsigned)i);
	add8(h, 0);
	add16(h, 2);
	add16(h, 0x1301);
	add8(h, 1);
	add8(h, 0);
	add16(h, (unsigned)ext);
	add16(h, 0x0000); /* server_name */
	add16(h, (unsigned)(5 + sni_len));
	add16(h, (unsigned)(3 + sni_len));
	add8(h, 0);
	add16(h, (unsigned)sni_len);
	add(h, sni, sni_len);
	add16(h, 0x0010); /* ALPN */
	add16(h, 5);
	add16(h, 3);
	add8(h, 2);
	add(h, "h3", 2);
	add16(h, 0x002b); /* supported_versions: TLS 1.3 */
	add16(h, 3);
	add8(h, 2);
	add16(h, 0x0304);
	add16(h, 0x0015); /* padding */
	add16(h, (unsigned)pad);
	for (size_t i = 0; i < pad; i++)
		add8(h, 0);
}

/* A CRYPTO frame with bytes [off, off + n) of data, then PADDING up to 1162 bytes of payload. */
static void crypto_payload(struct bytes *p, const struct bytes *data, size_t off, size_t n)
{
	p->n = 0;
	add8(p, 0x06);
	add16(p, (unsigned)(0x4000 | off));
	add16(p, (unsigned)(0x4000 | n));
	add(p, data->b + off, n);
	while (p->n < 1162)
		add8(p, 0);
}

/* Seals payload as an Initial from the client (keys from odcid) or the server, and feeds it. */
static int send_initial(struct env *e, bool from_server, const uint8_t *dcid, size_t dcid_len, const uint8_t *odcid,
			size_t odcid_len, uint32_t version, const struct bytes *payload)
{
	uint8_t dgram[MAX_DGRAM];
	struct quic_seal_packet p = {
		.version = version,
		.dcid = dcid,
		.dcid_len = dcid_len,
		.scid = from_server ? SSCID : CSCID,
		.scid_len = from_server ? sizeof(SSCID) : sizeof(CSCID),
		.pn = e->pn[from_server]++,
		.pn_len = 2,
		.payload = payload->b,
		.payload_len = payload->n,
	};
	size_t n = quic_seal_initial(e->q, &p, odcid, odcid_len, from_server, dgram, sizeof(dgram));

	assert_true(n > 0);
	return feed(e, from_server, dgram, n);
}

static int client_initial(struct env *e, const uint8_t *dcid, size_t dcid_len, const struct bytes *payload)
{
	return send_initial(e, false, dcid, dcid_len, dcid, dcid_len, WL_QUIC_VERSION_1, payload);
}

/* ---- The RFCs' packets ---------------------------------------------------------------- */

static void rfc_pair(struct env *e, const char *client, const char *server, uint32_t version)
{
	static uint8_t dgram[1300];
	size_t n = unhex(client, dgram, sizeof(dgram));

	assert_int_equal(feed(e, false, dgram, n), 1);
	assert_string_equal(e->pkt->info, "Initial, DCID=8394c8f03e515708, PKN: 2, CRYPTO, PADDING");
	assert_true(e->pkt->has & WL_PKT_SNI);
	assert_string_equal(e->pkt->sni, "example.com");
	assert_true(e->pkt->has & WL_PKT_ALPN);
	assert_string_equal(e->pkt->tls.alpn[0], "alpn");
	assert_int_equal(e->pkt->proto, WL_P_QUIC);
	assert_int_equal(e->pkt->quic.version, version);
	/* JA4's transport: QUIC. */
	if (e->pkt->has & WL_PKT_JA4_TEXT)
		assert_int_equal(e->pkt->tls.ja4_a[0], 'q');

	n = unhex(server, dgram, sizeof(dgram));
	assert_int_equal(feed(e, true, dgram, n), 0);
	assert_string_equal(e->pkt->info, "Initial, SCID=f067a5502a4262b5, PKN: 1, ACK, CRYPTO");
	assert_false(e->pkt->has & WL_PKT_SNI);
	assert_int_equal(stats(e).decrypted, 2);
	assert_int_equal(stats(e).hellos, 1);
	assert_int_equal(stats(e).failed, 0);
}

static void test_rfc9001(void **state)
{
	rfc_pair(*state, RFC9001_CLIENT_INITIAL, RFC9001_SERVER_INITIAL, WL_QUIC_VERSION_1);
}

static void test_rfc9369(void **state)
{
	rfc_pair(*state, RFC9369_CLIENT_INITIAL, RFC9369_SERVER_INITIAL, WL_QUIC_VERSION_2);
}

/* ---- Reassembly --------------------------------------------------------------------------- */

/* The second half first: the SNI comes with the frame that completes the hello, once. */
static void test_split_out_of_order(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;

	client_hello(&hello, "split.example", 500);
	crypto_payload(&p, &hello, 300, hello.n - 300);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	assert_false(e->pkt->has & WL_PKT_SNI);
	assert_string_equal(e->pkt->info, "Initial, DCID=8394c8f03e515708, SCID=11223344, PKN: 0, CRYPTO, PADDING");
	crypto_payload(&p, &hello, 0, 300);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	assert_string_equal(e->pkt->sni, "split.example");
	assert_string_equal(e->pkt->tls.alpn[0], "h3");
	/* The whole hello again (a retransmission): no second report, as tshark. */
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	assert_false(e->pkt->has & WL_PKT_SNI);
	assert_int_equal(stats(e).hellos, 1);
}

/* After the server's Initial the client's DCID is the server's SCID; the keys stay the first DCID's. */
static void test_client_dcid_changes(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;

	client_hello(&hello, "later.example", 700);
	crypto_payload(&p, &hello, 0, 500);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	p.n = 0;
	add8(&p, 0x02); /* ACK of packet 0 */
	add8(&p, 0);
	add8(&p, 0);
	add8(&p, 0);
	add8(&p, 0);
	assert_int_equal(send_initial(e, true, CSCID, 4, DCID_A, 8, WL_QUIC_VERSION_1, &p), 0);
	assert_string_equal(e->pkt->info, "Initial, DCID=11223344, SCID=5566778899aabbcc, PKN: 0, ACK");
	crypto_payload(&p, &hello, 500, hello.n - 500);
	assert_int_equal(send_initial(e, false, SSCID, 8, DCID_A, 8, WL_QUIC_VERSION_1, &p), 1);
	assert_string_equal(e->pkt->sni, "later.example");
	assert_int_equal(stats(e).decrypted, 3);
	assert_int_equal(stats(e).failed, 0);
}

/* A Retry's SCID is the client's next DCID, and its keys; the hello gathered so far goes on. */
static void test_retry(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;
	uint8_t retry[64];
	size_t n = 0;

	client_hello(&hello, "retry.example", 600);
	crypto_payload(&p, &hello, 0, 300);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	retry[n++] = 0xf0;
	memcpy(retry + n, "\x00\x00\x00\x01", 4);
	n += 4;
	retry[n++] = 4;
	memcpy(retry + n, CSCID, 4);
	n += 4;
	retry[n++] = 8;
	memcpy(retry + n, DCID_B, 8);
	n += 8;
	memset(retry + n, 0x7e, 10 + 16); /* token, integrity tag */
	n += 26;
	assert_int_equal(feed(e, true, retry, n), 0);
	assert_string_equal(e->pkt->info, "Retry, DCID=11223344, SCID=b0b1b2b3b4b5b6b7");
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_B, 8, &p), 1);
	assert_string_equal(e->pkt->sni, "retry.example");
	assert_int_equal(stats(e).retries, 1);
	assert_int_equal(stats(e).connections, 1);
	/* The server's Initials now derive from the Retry's SCID too. */
	p.n = 0;
	for (int i = 0; i < 5; i++)
		add8(&p, i == 0 ? 0x02 : 0);
	assert_int_equal(send_initial(e, true, CSCID, 4, DCID_B, 8, WL_QUIC_VERSION_1, &p), 0);
	assert_int_equal(stats(e).failed, 0);
}

/* A hello already whole before the Retry is not reported again after it (tshark's quic_retry.pcap). */
static void test_retry_after_whole_hello(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;
	uint8_t retry[32] = { 0xf0, 0, 0, 0, 1, 0, 8 };

	client_hello(&hello, "once.example", 100);
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	memcpy(retry + 7, DCID_B, 8);
	memset(retry + 15, 0x7e, 17);
	assert_int_equal(feed(e, true, retry, sizeof(retry)), 0);
	assert_int_equal(client_initial(e, DCID_B, 8, &p), 0);
	assert_true(strstr(e->pkt->info, "PKN: 1, CRYPTO") != NULL);
	assert_false(e->pkt->has & WL_PKT_SNI);
	assert_int_equal(stats(e).retries, 1);
}

/* A client Initial with a DCID of its own, no Retry before it: a new connection on the same ports. */
static void test_new_connection_same_ports(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;

	client_hello(&hello, "first.example", 50);
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	client_hello(&hello, "second.example", 50);
	crypto_payload(&p, &hello, 0, hello.n);
	e->pn[0] = 0;
	assert_int_equal(client_initial(e, DCID_C, sizeof(DCID_C), &p), 1);
	assert_string_equal(e->pkt->sni, "second.example");
	assert_int_equal(stats(e).hellos, 2);
}

static void test_not_client_hello(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;

	client_hello(&hello, "x.example", 50);
	hello.b[0] = 2; /* a ServerHello's type */
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	assert_int_equal(stats(e).not_hello, 1);
	assert_int_equal(stats(e).hellos, 0);
}

/* ---- What does not open ------------------------------------------------------------------ */

static void test_forged_and_unknown(void **state)
{
	struct env *e = *state;
	static uint8_t dgram[1300];
	size_t n = unhex(RFC9001_CLIENT_INITIAL, dgram, sizeof(dgram));

	dgram[n - 100] ^= 0x20;
	assert_int_equal(feed(e, false, dgram, n), 0);
	/* The packet number header protection hid, as tshark shows it; no frames. */
	assert_string_equal(e->pkt->info, "Initial, DCID=8394c8f03e515708, PKN: 2");
	assert_false(e->pkt->has & WL_PKT_SNI);
	/* The server's Initial of a connection never seen: no keys fit. */
	n = unhex(RFC9001_SERVER_INITIAL, dgram, sizeof(dgram));
	assert_int_equal(feed(e, true, dgram, n), 0);
	assert_int_equal(stats(e).failed, 2);
	assert_int_equal(stats(e).decrypted, 0);
	assert_int_equal(stats(e).active, 0);
	/* Google's Q050 uses IETF headers (QUIC to tshark) but a salt of its own. */
	dgram[1] = 'Q', dgram[2] = '0', dgram[3] = '5', dgram[4] = '0';
	assert_int_equal(feed(e, true, dgram, n), 0);
	assert_int_equal(stats(e).unsupported, 1);
}

/* ---- The short header's DCID ----------------------------------------------------------- */

static void test_short_header_dcid(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;
	uint8_t shdr[40];

	client_hello(&hello, "short.example", 10);
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	memset(shdr, 0x5c, sizeof(shdr));
	shdr[0] = 0x41;
	memcpy(shdr + 1, SSCID, 8);
	/* Before the server named its CID, the length is unknown. */
	assert_int_equal(feed(e, false, shdr, sizeof(shdr)), 0);
	assert_string_equal(e->pkt->info, "Protected Payload (KP0)");
	p.n = 0;
	for (int i = 0; i < 5; i++)
		add8(&p, i == 0 ? 0x02 : 0);
	assert_int_equal(send_initial(e, true, CSCID, 4, DCID_A, 8, WL_QUIC_VERSION_1, &p), 0);
	assert_int_equal(feed(e, false, shdr, sizeof(shdr)), 0);
	assert_string_equal(e->pkt->info, "Protected Payload (KP0), DCID=5566778899aabbcc");
	assert_true(e->pkt->quic.flags & WL_QUIC_HAS_DCID);
	assert_int_equal(e->pkt->quic.dcid_len, 8);
	assert_memory_equal(e->pkt->quic.dcid, SSCID, 8);
	memcpy(shdr + 1, CSCID, 4);
	assert_int_equal(feed(e, true, shdr, sizeof(shdr)), 0);
	assert_string_equal(e->pkt->info, "Protected Payload (KP0), DCID=11223344");
}

/*
 * Off port 443 a short header is plain UDP to proto/; of a flow whose
 * Initial opened, it is the connection's (tshark follows the conversation).
 */
static void test_short_header_other_port(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;
	uint8_t shdr[40];

	e->server_port = 4433;
	memset(shdr, 0x5c, sizeof(shdr));
	shdr[0] = 0x41;
	memcpy(shdr + 1, SSCID, 8);
	assert_int_equal(feed_any(e, false, shdr, sizeof(shdr)), 0);
	assert_int_equal(e->pkt->proto, WL_P_UDP);
	client_hello(&hello, "port.example", 10);
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	assert_int_equal(e->pkt->proto, WL_P_QUIC);
	p.n = 0;
	for (int i = 0; i < 5; i++)
		add8(&p, i == 0 ? 0x02 : 0);
	assert_int_equal(send_initial(e, true, CSCID, 4, DCID_A, 8, WL_QUIC_VERSION_1, &p), 0);
	assert_int_equal(feed(e, false, shdr, sizeof(shdr)), 0);
	assert_int_equal(e->pkt->proto, WL_P_QUIC);
	assert_string_equal(e->pkt->info, "Protected Payload (KP0), DCID=5566778899aabbcc");
	assert_int_equal(e->pkt->quic.type, WL_QUIC_1RTT);
	assert_int_equal(e->pkt->quic.packets, 1);
	assert_int_equal(e->pkt->layers[e->pkt->n_layers - 1].proto, WL_P_QUIC);
	/* The fixed bit greased (RFC 9287), on a known connection: still its packet, as tshark has it. */
	shdr[0] = 0x01;
	assert_int_equal(feed(e, false, shdr, sizeof(shdr)), 0);
	assert_int_equal(e->pkt->proto, WL_P_QUIC);
	/* A long-header bit is not a short header. */
	shdr[0] = 0x81;
	assert_int_equal(feed(e, false, shdr, sizeof(shdr)), 0);
	assert_int_equal(e->pkt->proto, WL_P_UDP);
	/* Another flow: no connection, so plain UDP. */
	shdr[0] = 0x41;
	e->client_port++;
	assert_int_equal(feed(e, false, shdr, sizeof(shdr)), 0);
	assert_int_equal(e->pkt->proto, WL_P_UDP);
}

/* On port 443 too: a greased fixed bit fails proto/'s rule, and the connection makes it QUIC. */
static void test_greased_fixed_bit_on_443(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;
	uint8_t shdr[40];

	memset(shdr, 0x5c, sizeof(shdr));
	shdr[0] = 0x01;
	memcpy(shdr + 1, CSCID, 4);
	assert_int_equal(feed_any(e, true, shdr, sizeof(shdr)), 0);
	assert_int_equal(e->pkt->proto, WL_P_UDP);
	client_hello(&hello, "grease.example", 10);
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	assert_int_equal(feed_any(e, true, shdr, sizeof(shdr)), 0);
	assert_int_equal(e->pkt->proto, WL_P_QUIC);
	assert_string_equal(e->pkt->info, "Protected Payload (KP0), DCID=11223344");
	assert_int_equal(e->pkt->quic.type, WL_QUIC_1RTT);
}

/* ---- Bounds -------------------------------------------------------------------------------- */

static int setup_small(void **state)
{
	struct quic_track_config cfg = { .max_conns = 2, .hello_bytes = 256, .max_bytes = 4096, .timeout_s = 60 };

	return make_env(state, &cfg);
}

/* A hello longer than hello_bytes is decoded from its first bytes: the SNI comes early. */
static void test_hello_cut(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;

	client_hello(&hello, "long.example", 900);
	crypto_payload(&p, &hello, 0, 200);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	crypto_payload(&p, &hello, 200, 400);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	assert_string_equal(e->pkt->sni, "long.example");
	assert_int_equal(stats(e).hello_cut, 1);
}

/* max_conns: the connection idle the longest makes room. */
static void test_max_conns(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;

	client_hello(&hello, "a.example", 10);
	crypto_payload(&p, &hello, 0, 20);
	for (uint16_t port = 1000; port < 1003; port++) {
		e->client_port = port;
		e->ts++;
		assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	}
	assert_int_equal(stats(e).active, 2);
	assert_int_equal(stats(e).connections, 3);
	assert_int_equal(stats(e).evicted, 1);
	/* The first one's rest finds no connection: its Initial makes a new one, and no hello completes. */
	e->client_port = 1000;
	crypto_payload(&p, &hello, 20, hello.n - 20);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
}

/* max_bytes: buffers of the oldest connections make room; theirs can no longer complete. */
static void test_max_bytes(void **state)
{
	struct quic_track_config cfg = { .max_conns = 8, .hello_bytes = 1024, .max_bytes = 1500, .timeout_s = 60 };
	struct env *e;
	struct bytes hello, p;

	assert_int_equal(make_env(state, &cfg), 0);
	e = *state;
	client_hello(&hello, "b.example", 300);
	crypto_payload(&p, &hello, 0, 100);
	e->client_port = 2000;
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	e->client_port = 2001;
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	assert_int_equal(stats(e).evicted, 1);
	assert_true(stats(e).memory_peak <= stats(e).memory + 1500);
	crypto_payload(&p, &hello, 100, hello.n - 100);
	e->client_port = 2000;
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0); /* its buffer went */
	e->client_port = 2001;
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	teardown(state);
}

/* A connection with no packet for timeout_s of capture time is forgotten. */
static void test_timeout(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;

	client_hello(&hello, "t.example", 10);
	crypto_payload(&p, &hello, 0, 20);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	assert_int_equal(stats(e).active, 1);
	e->ts += 61;
	e->client_port++;
	assert_int_equal(client_initial(e, DCID_B, 8, &p), 0);
	assert_int_equal(stats(e).expired, 1);
	assert_int_equal(stats(e).active, 1);
}

/* After a flush (a file's end, before --loop replays it) the same hello is reported again. */
static void test_flush(void **state)
{
	struct env *e = *state;
	struct bytes hello, p;

	client_hello(&hello, "again.example", 10);
	crypto_payload(&p, &hello, 0, hello.n);
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	e->pn[0] = 0;
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 0);
	quic_track_flush(e->t);
	assert_int_equal(stats(e).active, 0);
	e->pn[0] = 0;
	assert_int_equal(client_initial(e, DCID_A, 8, &p), 1);
	assert_string_equal(e->pkt->sni, "again.example");
}

static void test_bad_config(void **state)
{
	struct quic_track_config cfg = { .max_conns = 0, .hello_bytes = 1024, .max_bytes = 4096, .timeout_s = 1 };
	int err = 0;

	assert_null(quic_track_new(&cfg, &err));
	assert_int_equal(err, -EINVAL);
	cfg.max_conns = 1;
	cfg.max_bytes = 10;
	assert_null(quic_track_new(&cfg, &err));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rfc9001, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfc9369, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_dcid_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_whole_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_connection_same_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_client_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_header_dcid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_header_other_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_greased_fixed_bit_on_443, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_cut, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_max_conns, setup_small, teardown),
		cmocka_unit_test(test_max_bytes),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
