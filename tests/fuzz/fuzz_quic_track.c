/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for capd's QUIC Initial decryption (capd/quic_track.c):
 * a sequence of UDP datagrams between one client and one server on port
 * 443, each decoded by wl_dissect() and folded in as capd does. Random
 * bytes almost never pass the AEAD, so a datagram can also be a payload
 * the harness seals as a valid Initial (tests/unit/quic_seal.h): the
 * fuzzer then reaches the frames parser, the CRYPTO reassembly, its bounds
 * and the ClientHello decoder with plaintext of its choosing.
 *
 * Input: byte 0 picks the table's bounds (bit 0: tiny ones, so that
 * eviction and cut hellos happen). Then records, until the input ends:
 *   ctl (1)   bit 0 from the server; bit 1 sealed (else raw); bits 2-3 the
 *             version (v1, v2, draft-29, draft-23); bit 6 the capture's
 *             clock jumps 70 s (past the timeout); bit 7 another client port
 *   cids (1)  bits 0-1 the DCID, bits 2-3 the DCID the keys derive from
 *             (one of four fixed CIDs, the fourth empty)
 *   len (2)   big-endian, then len bytes: the datagram, or the plaintext
 * After each packet the summary is checked as every target checks it, plus
 * the table's own bounds.
 */
#include "fuzz_checks.h"
#include "quic.h"
#include "quic_initial.h"
#include "quic_seal.h"
#include "quic_track.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

/* Its seeds are its own format, not captures. */
int wl_fuzz_link_index(int linktype)
{
	return -1;
}

static const uint8_t CIDS[4][8] = {
	{ 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 },
	{ 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7 },
	{ 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 },
};
static const uint32_t VERSIONS[4] = { WL_QUIC_VERSION_1, WL_QUIC_VERSION_2, 0xff00001d, 0xff000017 };

struct run {
	struct quic_track *t;
	struct quic_initial *q;
	struct quic_track_config cfg;
	struct wl_packet pkt;
	uint8_t frame[28 + 65536];
	uint64_t pn[2];
	int64_t ts;
};

static size_t cid_len(unsigned i)
{
	return i == 3 ? 0 : 8;
}

/* The datagram in IPv4 and UDP (client 192.0.2.1, server 198.51.100.2:443), decoded and folded in. */
static void feed(struct run *r, bool from_server, uint16_t port, const uint8_t *dgram, size_t len)
{
	static const uint8_t client[4] = { 192, 0, 2, 1 }, server[4] = { 198, 51, 100, 2 };
	uint8_t *f = r->frame;
	size_t n = 28 + len;
	int err;

	memset(f, 0, 28);
	f[0] = 0x45;
	f[2] = (uint8_t)(n >> 8), f[3] = (uint8_t)n;
	f[8] = 64, f[9] = 17;
	memcpy(f + 12, from_server ? server : client, 4);
	memcpy(f + 16, from_server ? client : server, 4);
	f[from_server ? 22 : 20] = (uint8_t)(port >> 8), f[from_server ? 23 : 21] = (uint8_t)port;
	f[from_server ? 20 : 22] = 443 >> 8, f[from_server ? 21 : 23] = 443 & 0xff;
	f[24] = (uint8_t)((n - 20) >> 8), f[25] = (uint8_t)(n - 20);
	memcpy(f + 28, dgram, len);
	memset(&r->pkt, 0, sizeof(r->pkt));
	r->pkt.ts_sec = r->ts;
	r->pkt.len = r->pkt.caplen = (uint32_t)n;
	err = wl_dissect(&r->pkt, 228, f, n);
	quic_track_packet(r->t, &r->pkt, f, n);
	wl_fuzz_check_packet(&r->pkt, err, n);
}

/* A payload sealed as an Initial: padded so that the header-protection sample fits. */
static void feed_sealed(struct run *r, uint8_t ctl, uint8_t cids, uint16_t port, const uint8_t *p, size_t len)
{
	static uint8_t payload[65536], dgram[65536];
	bool server = ctl & 1;
	unsigned dcid = cids & 3, odcid = (cids >> 2) & 3;
	struct quic_seal_packet sp = {
		.version = VERSIONS[(ctl >> 2) & 3],
		.dcid = CIDS[dcid], .dcid_len = cid_len(dcid),
		.scid = CIDS[2], .scid_len = server ? 8 : 0,
		.pn = r->pn[server]++, .pn_len = 2,
		.payload = payload, .payload_len = len < 4 ? 4 : len,
	};
	size_t n;

	memset(payload, 0, sp.payload_len);
	memcpy(payload, p, len);
	n = quic_seal_initial(r->q, &sp, CIDS[odcid], cid_len(odcid), server, dgram, sizeof(dgram));
	if (n)
		feed(r, server, port, dgram, n);
}

static void check_bounds(const struct run *r)
{
	struct quic_track_stats st;

	quic_track_stats(r->t, &st);
	CHECK(st.active <= r->cfg.max_conns);
	CHECK(st.decrypted + st.failed + st.unsupported <= st.initials);
	CHECK(st.hello_cut <= st.hellos);
	/* The table, the two packet buffers, and at most max_bytes of hello buffers. */
	CHECK(st.memory_peak <= 4096 + (uint64_t)r->cfg.max_conns * 512 + 2 * 65536 + r->cfg.max_bytes +
					 (uint64_t)r->cfg.max_conns * 4 * 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	size_t off = 1;
	int err;

	if (size < 1)
		return 0;
	quic_track_config_default(&r.cfg);
	if (data[0] & 1)
		r.cfg = (struct quic_track_config){ .max_conns = 2, .hello_bytes = 64, .max_bytes = 256, .timeout_s = 60 };
	CHECK((r.t = quic_track_new(&r.cfg, &err)) != NULL);
	CHECK((r.q = quic_initial_new(&err)) != NULL);
	r.pn[0] = r.pn[1] = 0;
	r.ts = 1700000000;
	while (size - off >= 4) {
		uint8_t ctl = data[off], cids = data[off + 1];
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		uint16_t port = ctl & 0x80 ? 50001 : 50000;

		off += 4;
		if (len > size - off)
			len = size - off;
		if (ctl & 0x40)
			r.ts += 70;
		if (ctl & 2)
			feed_sealed(&r, ctl, cids, port, data + off, len);
		else
			feed(&r, ctl & 1, port, data + off, len);
		check_bounds(&r);
		off += len;
	}
	r.t = quic_track_free(r.t);
	r.q = quic_initial_free(r.q);
	return 0;
}
