/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for capd's TLS handshake reassembly (capd/tls_reasm.c)
 * and the decoding of what it gathers (wl_dissect_tls_stream()).
 *
 * Input: a list of TCP segments of one connection, each
 *     u8 control, u16 length (big-endian), then that many payload bytes.
 * control bit 0: from the server; bits 1-3: the sequence number (0 next in
 * order, 1 half the segment again, 2 past a hole, 3 far behind, 4 a new
 * start, 5 a SYN carrying data, 6 and 7 wrapped around 2^32); bit 4: the
 * snap length cuts the frame; bits 5-7: seconds passing before it. The
 * harness wraps each payload in Ethernet, IPv4 and TCP headers, decodes the
 * frame with wl_dissect() and feeds it to a small reassembly table, as capd
 * does; each payload is also decoded on its own as reassembled bytes. The
 * invariants of fuzz_checks.c hold for every packet, and the table stays
 * within its bounds.
 *
 * Seeds in corpus/tls_reasm/ (hand-*: hellos split into segments, in order
 * and not); crash inputs go in regressions/tls_reasm/.
 */
#include "fuzz_checks.h"
#include "tls_reasm.h"

#include <stddef.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

/* Inputs are segment lists, not captures: the driver feeds no pcap packets. */
int wl_fuzz_link_index(int linktype)
{
	return -1;
}

#define MAX_STREAMS 4
#define STREAM_BYTES 2048
#define MAX_BYTES (3 * STREAM_BYTES)
#define HEADERS 54 /* Ethernet 14, IPv4 20, TCP 20 */

struct conn {
	uint32_t next[2]; /* the next sequence number, per direction */
	int64_t now;
};

static size_t build_frame(uint8_t *f, const struct conn *c, bool reply, uint32_t seq, uint8_t flags,
			  const uint8_t *payload, size_t len)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa, 8, 0 };
	size_t ip_len = 40 + len;
	uint8_t *ip = f + 14, *tcp = ip + 20;

	memcpy(f, eth, sizeof(eth));
	memset(ip, 0, 40);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, reply ? "\x0a\x00\x00\x02\x0a\x00\x00\x01" : "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	memcpy(tcp, reply ? "\x01\xbb\x9c\x40" : "\x9c\x40\x01\xbb", 4);
	for (int i = 0; i < 4; i++)
		tcp[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	tcp[14] = tcp[15] = 0xff;
	if (len)
		memcpy(tcp + 20, payload, len);
	(void)c;
	return HEADERS + len;
}

/* The sequence number control asks for, and where the direction goes on from. */
static uint32_t pick_seq(struct conn *c, int dir, unsigned how, uint32_t len, uint8_t *flags)
{
	uint32_t seq = c->next[dir];

	switch (how) {
	case 1: seq -= len / 2; break;
	case 2: seq += 100; break;
	case 3: seq -= 100000; break;
	case 4: seq = 1000u * (dir + 1); break;
	case 5: *flags |= 0x02; seq -= 1; break;
	case 6: seq = 0xffffff00u; break;
	case 7: seq = 0xfffffff0u - len; break;
	default: break;
	}
	c->next[dir] = seq + len + (*flags & 0x02 ? 1 : 0);
	return seq;
}

static void one_segment(struct tls_reasm *t, struct conn *c, uint8_t control, const uint8_t *payload, size_t len)
{
	static uint8_t frame[HEADERS + 65535];
	static struct wl_packet pkt;
	bool reply = control & 1;
	uint8_t flags = 0x18;
	uint32_t seq = pick_seq(c, reply, (control >> 1) & 7, (uint32_t)len, &flags);
	size_t n = build_frame(frame, c, reply, seq, flags, payload, len);
	size_t caplen = (control & 0x10) && n > HEADERS + 1 ? n - 1 - len / 2 : n;
	struct tls_reasm_stats st;
	int r;

	c->now += (int64_t)(control >> 5) * 2000000;
	memset(&pkt, 0xa5, sizeof(pkt));
	pkt.seq = 1;
	pkt.ts_sec = c->now / 1000000;
	pkt.ts_usec = (uint32_t)(c->now % 1000000);
	pkt.len = (uint32_t)n;
	pkt.caplen = (uint32_t)caplen;
	pkt.flow_id = 0;
	r = wl_dissect(&pkt, WL_LINK_ETHERNET, frame, caplen);
	wl_fuzz_check_packet(&pkt, r, caplen);
	CHECK(tls_reasm_packet(t, &pkt, frame, caplen) >= 0);
	wl_fuzz_check_packet(&pkt, r, caplen);
	tls_reasm_stats(t, &st);
	CHECK(st.active <= MAX_STREAMS);
	CHECK(st.completed <= st.started);
	CHECK(st.memory <= st.memory_peak);
	CHECK(st.memory_peak <= 256 * 1024 + MAX_BYTES);
}

/* The payload alone, as reassembled bytes: whatever it holds, nothing breaks. */
static void as_stream(const uint8_t *payload, size_t len)
{
	static struct wl_packet pkt;

	/* Poisoned, with the fixed part cleared as wl_dissect() leaves it. */
	memset(&pkt, 0xa5, sizeof(pkt));
	memset(&pkt.has, 0, offsetof(struct wl_packet, info) - offsetof(struct wl_packet, has));
	pkt.info[0] = '\0';
	int r = wl_dissect_tls_stream(&pkt, payload, len);

	CHECK(r <= 0);
	CHECK(pkt.malformed == WL_OK && pkt.n_layers == 0);
	CHECK(!(pkt.has & WL_PKT_TLS_SEGMENT));
	wl_fuzz_check_packet(&pkt, 0, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_reasm_config cfg = { .max_streams = MAX_STREAMS, .stream_bytes = STREAM_BYTES,
					.max_bytes = MAX_BYTES, .timeout_s = 5 };
	struct conn c = { .next = { 1000, 5000 }, .now = 1700000000LL * 1000000 };
	struct tls_reasm *t;
	size_t off = 0;
	int err;

	t = tls_reasm_new(&cfg, &err);
	CHECK(t != NULL);
	while (size - off >= 3) {
		uint8_t control = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];

		off += 3;
		if (len > size - off)
			len = size - off;
		one_segment(t, &c, control, data + off, len);
		as_stream(data + off, len);
		off += len;
	}
	tls_reasm_free(t);
	return 0;
}
