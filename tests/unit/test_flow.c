/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capd/flow.c and flow_tcp.c on hand-built packet summaries: keys and
 * directions, timeouts, eviction, active reports, TCP state, and each TCP
 * analysis counter with the meaning tshark gives it.
 */
#include "flow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define MAX_REPORTS 64

struct reports {
	size_t n;
	struct wl_flow_record r[MAX_REPORTS];
};

static void collect(void *ctx, const struct wl_flow_record *rec)
{
	struct reports *rs = ctx;

	if (rs->n < MAX_REPORTS)
		rs->r[rs->n++] = *rec;
}

static struct flow_table *table(struct reports *rs, uint32_t max_flows)
{
	struct flow_config cfg;
	struct flow_table *t;
	int err;

	flow_config_default(&cfg);
	cfg.max_flows = max_flows;
	memset(rs, 0, sizeof(*rs));
	t = flow_table_new(&cfg, collect, rs, &err);
	assert_non_null(t);
	return t;
}

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

/* 10.0.0.1:40000 (side a when it speaks first) and 10.0.0.2:80. */
static struct wl_packet udp_packet(bool from_a, double t, uint32_t len)
{
	struct wl_packet p;

	memset(&p, 0, sizeof(p));
	p.ts_sec = (int64_t)t;
	p.ts_usec = (uint32_t)((t - (double)(int64_t)t) * 1e6 + 0.5);
	p.len = p.caplen = len;
	p.proto = WL_P_UDP;
	p.outer.l3 = WL_L3_IPV4;
	p.outer.has = WL_HAS_SRC | WL_HAS_DST | WL_HAS_IPPROTO | WL_HAS_SPORT | WL_HAS_DPORT;
	p.outer.ipproto = 17;
	p.outer.src = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, from_a ? 1 : 2 } };
	p.outer.dst = (struct wl_addr){ .family = 4, .b = { 10, 0, 0, from_a ? 2 : 1 } };
	p.outer.sport = from_a ? 40000 : 80;
	p.outer.dport = from_a ? 80 : 40000;
	return p;
}

static struct wl_packet tcp_packet(bool from_a, double t, uint16_t flags, uint32_t seq, uint32_t ack, uint32_t payload,
				   uint16_t win)
{
	struct wl_packet p = udp_packet(from_a, t, 54 + payload);

	p.proto = WL_P_TCP;
	p.outer.ipproto = 6;
	p.outer.has |= WL_HAS_TCP_FLAGS;
	p.outer.tcp_flags = flags;
	p.outer.l4 = WL_L4_TCP;
	p.outer.tcp_seq = seq;
	p.outer.tcp_ack = ack;
	p.outer.l4_payload = payload;
	p.outer.tcp_win = win;
	p.outer.tcp_wscale = -1;
	return p;
}

static void feed(struct flow_table *t, struct wl_packet p)
{
	flow_table_packet(t, &p);
}

/* The handshake at t0: a is 1000 -> 1001, b is 5000 -> 5001; RTT 10 ms. */
static void handshake(struct flow_table *t, double t0)
{
	feed(t, tcp_packet(true, t0, SYN, 1000, 0, 0, 64240));
	feed(t, tcp_packet(false, t0 + 0.005, SYN | ACK, 5000, 1001, 0, 65160));
	feed(t, tcp_packet(true, t0 + 0.010, ACK, 1001, 5001, 0, 502));
}

static const struct wl_flow_record *only_final(const struct reports *rs)
{
	const struct wl_flow_record *last = NULL;

	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].end != WL_FLOW_ACTIVE) {
			assert_null(last);
			last = &rs->r[i];
		}
	assert_non_null(last);
	return last;
}

static void test_both_directions_one_flow(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	const struct wl_flow_record *r;
	char a[64], b[64];

	(void)state;
	/* b speaks first: it is side a then. */
	feed(t, udp_packet(false, 100.0, 100));
	feed(t, udp_packet(true, 100.1, 60));
	feed(t, udp_packet(true, 100.2, 60));
	flow_table_flush(t, WL_FLOW_EOF);
	r = only_final(&rs);
	assert_string_equal(wl_addr_str(&r->addr[0], a, sizeof(a)), "10.0.0.2");
	assert_string_equal(wl_addr_str(&r->addr[1], b, sizeof(b)), "10.0.0.1");
	assert_int_equal(r->port[0], 80);
	assert_int_equal(r->port[1], 40000);
	assert_int_equal(r->packets[0], 1);
	assert_int_equal(r->bytes[0], 100);
	assert_int_equal(r->packets[1], 2);
	assert_int_equal(r->bytes[1], 120);
	assert_int_equal(r->first_us, 100000000);
	assert_int_equal(r->last_us, 100200000);
	assert_int_equal(r->end, WL_FLOW_EOF);
	assert_int_equal(r->id, 1);
	flow_table_free(t);
}

static void test_vlan_and_ports_separate_flows(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	struct wl_packet p = udp_packet(true, 1.0, 60);
	struct flow_stats st;

	(void)state;
	feed(t, p);
	p.n_vlan = 1;
	p.vlan[0] = 10;
	feed(t, p);
	p.outer.sport = 40001;
	feed(t, p);
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 3);
	flow_table_free(t);
}

static void test_idle_timeout_by_class(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);

	(void)state;
	feed(t, udp_packet(true, 1000.0, 60));
	flow_table_expire(t, (int64_t)(1059.9 * 1e6));
	assert_int_equal(rs.n, 0);
	flow_table_expire(t, (int64_t)(1060.1 * 1e6));
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].end, WL_FLOW_IDLE);
	/* An established TCP flow waits 300 s. */
	handshake(t, 2000.0);
	flow_table_expire(t, (int64_t)(2200.0 * 1e6));
	assert_int_equal(rs.n, 1);
	flow_table_expire(t, (int64_t)(2300.1 * 1e6));
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[1].end, WL_FLOW_IDLE);
	assert_int_equal(rs.r[1].tcp.state, WL_TCP_ESTABLISHED);
	flow_table_free(t);
}

static void test_eviction_of_the_oldest_idle(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 2);
	struct wl_packet p;
	struct flow_stats st;

	(void)state;
	p = udp_packet(true, 1.0, 60);
	feed(t, p);                       /* flow 1 */
	p.outer.sport = 2;
	p.ts_sec = 2;
	feed(t, p);                       /* flow 2 */
	feed(t, udp_packet(true, 3.0, 60)); /* flow 1 again: now flow 2 is the oldest */
	p.outer.sport = 3;
	p.ts_sec = 4;
	feed(t, p);                       /* flow 3: evicts flow 2 */
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].end, WL_FLOW_EVICTED);
	assert_int_equal(rs.r[0].id, 2);
	flow_table_stats(t, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.active, 2);
	flow_table_free(t);
}

static void test_active_reports_cumulative(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);

	(void)state;
	for (int s = 0; s <= 130; s += 10)
		feed(t, udp_packet(true, 5000.0 + s, 100));
	/* At 60 s and 120 s: two reports with the counters so far. */
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[0].end, WL_FLOW_ACTIVE);
	assert_int_equal(rs.r[0].packets[0], 7);
	assert_int_equal(rs.r[1].packets[0], 13);
	assert_int_equal(rs.r[0].id, rs.r[1].id);
	flow_table_flush(t, WL_FLOW_EOF);
	assert_int_equal(rs.r[2].packets[0], 14);
	assert_int_equal(rs.r[2].end, WL_FLOW_EOF);
	flow_table_free(t);
}

static void test_handshake_state_and_rtt(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	const struct wl_flow_record *r;

	(void)state;
	handshake(t, 10.0);
	feed(t, tcp_packet(true, 10.02, ACK | PSH, 1001, 5001, 100, 502));
	feed(t, tcp_packet(false, 10.03, ACK, 5001, 1101, 0, 501));
	feed(t, tcp_packet(true, 10.04, FIN | ACK, 1101, 5001, 0, 502));
	feed(t, tcp_packet(false, 10.05, FIN | ACK, 5001, 1102, 0, 501));
	feed(t, tcp_packet(true, 10.06, ACK, 1102, 5002, 0, 502));
	/* Closed: ended after the grace for late segments (60 s), as fin. */
	flow_table_expire(t, 69 * 1000000LL);
	assert_int_equal(rs.n, 0);
	flow_table_expire(t, 71 * 1000000LL);
	r = only_final(&rs);
	assert_int_equal(r->end, WL_FLOW_FIN);
	assert_int_equal(r->tcp.state, WL_TCP_CLOSED);
	assert_int_equal(r->tcp.rtt_us, 10000);
	assert_int_equal(r->tcp.flags[0], SYN | ACK | PSH | FIN);
	assert_int_equal(r->tcp.flags[1], SYN | ACK | FIN);
	assert_int_equal(r->packets[0], 5);
	assert_int_equal(r->tcp.retransmissions[0] + r->tcp.retransmissions[1], 0);
	assert_int_equal(r->tcp.dup_acks[0] + r->tcp.dup_acks[1], 0);
	flow_table_free(t);
}

static void test_reset(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	const struct wl_flow_record *r;

	(void)state;
	feed(t, tcp_packet(true, 1.0, SYN, 1000, 0, 0, 64240));
	feed(t, tcp_packet(false, 1.001, RST | ACK, 0, 1001, 0, 0));
	flow_table_flush(t, WL_FLOW_EOF);
	r = only_final(&rs);
	assert_int_equal(r->end, WL_FLOW_RST);
	assert_int_equal(r->tcp.state, WL_TCP_RESET);
	assert_int_equal(r->tcp.resets, 1);
	/* No zero window: a RST's window means nothing. */
	assert_int_equal(r->tcp.zero_windows[1], 0);
	flow_table_free(t);
}

/* Data from a: 1001.. in 100-byte segments. */
static void data(struct flow_table *t, double at, uint32_t seq)
{
	feed(t, tcp_packet(true, at, ACK | PSH, seq, 5001, 100, 502));
}

static const struct wl_flow_record *ended(struct flow_table *t, struct reports *rs)
{
	flow_table_flush(t, WL_FLOW_EOF);
	return only_final(rs);
}

static void test_retransmission(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	const struct wl_flow_record *r;

	(void)state;
	handshake(t, 1.0);
	data(t, 1.02, 1001);
	data(t, 1.03, 1101);
	/* The same bytes again, long after (past the 10 ms RTT): a retransmission. */
	data(t, 1.5, 1001);
	r = ended(t, &rs);
	assert_int_equal(r->tcp.retransmissions[0], 1);
	assert_int_equal(r->tcp.out_of_order[0], 0);
	flow_table_free(t);
}

static void test_out_of_order(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	const struct wl_flow_record *r;

	(void)state;
	handshake(t, 1.0);
	data(t, 1.02, 1001);
	data(t, 1.03, 1201); /* 1101 is missing */
	data(t, 1.032, 1101); /* it comes 2 ms after the highest: within the RTT, out of order */
	r = ended(t, &rs);
	assert_int_equal(r->tcp.out_of_order[0], 1);
	assert_int_equal(r->tcp.retransmissions[0], 0);
	flow_table_free(t);
}

static void test_spurious_and_fast_retransmission(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	const struct wl_flow_record *r;

	(void)state;
	handshake(t, 1.0);
	data(t, 1.02, 1001);
	feed(t, tcp_packet(false, 1.03, ACK, 5001, 1101, 0, 501));
	data(t, 1.5, 1001); /* already acknowledged: spurious, counted as a retransmission */
	data(t, 1.6, 1201); /* 1101 lost */
	feed(t, tcp_packet(false, 1.61, ACK, 5001, 1101, 0, 501)); /* dup ACKs for 1101 */
	feed(t, tcp_packet(false, 1.612, ACK, 5001, 1101, 0, 501));
	feed(t, tcp_packet(false, 1.614, ACK, 5001, 1101, 0, 501));
	data(t, 1.62, 1101); /* fast retransmission, 6 ms after the last dup ACK */
	r = ended(t, &rs);
	assert_int_equal(r->tcp.retransmissions[0], 2);
	assert_int_equal(r->tcp.dup_acks[1], 3);
	assert_int_equal(r->tcp.out_of_order[0], 0);
	flow_table_free(t);
}

static void test_zero_window_and_keep_alive(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	const struct wl_flow_record *r;

	(void)state;
	handshake(t, 1.0);
	data(t, 1.02, 1001);
	feed(t, tcp_packet(false, 1.03, ACK, 5001, 1101, 0, 0)); /* zero window */
	feed(t, tcp_packet(true, 1.5, ACK, 1101, 5001, 1, 502)); /* a zero window probe: not a retransmission */
	feed(t, tcp_packet(false, 1.51, ACK, 5001, 1101, 0, 0)); /* its ACK: zero window again, no dup ACK */
	feed(t, tcp_packet(false, 2.0, ACK, 5001, 1101, 0, 1000)); /* window update */
	feed(t, tcp_packet(true, 60.0, ACK, 1100, 5001, 0, 502)); /* keep-alive: seq one below */
	feed(t, tcp_packet(false, 60.01, ACK, 5001, 1101, 0, 1000)); /* its ACK: not a dup ACK */
	r = ended(t, &rs);
	assert_int_equal(r->tcp.zero_windows[1], 2);
	assert_int_equal(r->tcp.retransmissions[0], 0);
	assert_int_equal(r->tcp.dup_acks[1], 0);
	flow_table_free(t);
}

static void test_port_reuse_new_flow(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);

	(void)state;
	handshake(t, 1.0);
	feed(t, tcp_packet(true, 1.1, FIN | ACK, 1001, 5001, 0, 502));
	feed(t, tcp_packet(false, 1.11, FIN | ACK, 5001, 1002, 0, 501));
	/* The same ports, a new ISN: a new connection, the old one ended as fin. */
	feed(t, tcp_packet(true, 2.0, SYN, 900000, 0, 0, 64240));
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].end, WL_FLOW_FIN);
	assert_int_equal(rs.r[0].id, 1);
	flow_table_flush(t, WL_FLOW_EOF);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[1].id, 2);
	assert_int_equal(rs.r[1].tcp.state, WL_TCP_SYN_SENT);
	/* A repeated SYN (the same ISN) stays in the flow, as a retransmission. */
	memset(&rs, 0, sizeof(rs));
	feed(t, tcp_packet(true, 3.0, SYN, 7000, 0, 0, 64240));
	feed(t, tcp_packet(true, 4.0, SYN, 7000, 0, 0, 64240));
	flow_table_flush(t, WL_FLOW_EOF);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].packets[0], 2);
	assert_int_equal(rs.r[0].tcp.retransmissions[0], 1);
	flow_table_free(t);
}

static void test_non_ip_and_icmp_echo(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	struct wl_packet arp, ping;

	(void)state;
	memset(&arp, 0, sizeof(arp));
	arp.len = 42;
	arp.has = WL_PKT_ETH;
	memcpy(arp.eth_src, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(arp.eth_dst, "\xff\xff\xff\xff\xff\xff", 6);
	arp.outer.l3 = WL_L3_ARP;
	feed(t, arp);
	ping = udp_packet(true, 0, 98);
	ping.outer.ipproto = 1;
	ping.outer.has = WL_HAS_SRC | WL_HAS_DST | WL_HAS_IPPROTO;
	ping.outer.l4 = WL_L4_ICMP | WL_L4_ECHO;
	ping.outer.icmp_type = 8;
	ping.outer.icmp_id = 0x1234;
	feed(t, ping);
	ping = udp_packet(false, 0.001, 98);
	ping.outer.ipproto = 1;
	ping.outer.has = WL_HAS_SRC | WL_HAS_DST | WL_HAS_IPPROTO;
	ping.outer.l4 = WL_L4_ICMP | WL_L4_ECHO;
	ping.outer.icmp_id = 0x1234;
	feed(t, ping);
	flow_table_flush(t, WL_FLOW_EOF);
	assert_int_equal(rs.n, 2);
	/* Flushed in the order the flows began: ARP, then the ping. */
	assert_int_equal(rs.r[0].l3, WL_L3_ARP);
	assert_int_equal(rs.r[0].ethertype, 0x0806);
	assert_memory_equal(rs.r[0].mac[0], "\x02\x00\x00\x00\x00\x01", 6);
	assert_int_equal(rs.r[1].packets[0], 1);
	assert_int_equal(rs.r[1].packets[1], 1);
	assert_int_equal(rs.r[1].icmp_id, 0x1234);
	assert_int_equal(rs.r[1].icmp_type, 8);
	assert_true(rs.r[1].flags & WL_FLOW_ECHO);
	flow_table_free(t);
}

static void test_names_and_app(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	struct wl_packet p = tcp_packet(true, 1.0, ACK | PSH, 1, 1, 200, 100);

	(void)state;
	p.proto = WL_P_TLS;
	p.has |= WL_PKT_SNI;
	strcpy(p.sni, "example.org");
	feed(t, p);
	flow_table_flush(t, WL_FLOW_EOF);
	assert_int_equal(rs.r[0].app, WL_P_TLS);
	assert_string_equal(rs.r[0].name, "example.org");
	flow_table_free(t);
}

/*
 * The client's JA4 and the server's JA3S: the first of each is kept, beside
 * the name and a tunnel's endpoints, and they travel in the flow record.
 */
static void test_fingerprints_kept(void **state)
{
	static const char ja4[] = "t13d1516h2_8daaf6152771_e5627efa2ab1";
	static const char ja3s[] = "f4febc55ea12b31ae17cfb7e614afda8";
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	struct wl_packet hello = tcp_packet(true, 1.0, ACK | PSH, 1, 1, 300, 100);
	struct wl_packet answer = tcp_packet(false, 1.1, ACK | PSH, 1, 301, 100, 100);
	struct wl_flow_record back;
	struct wl_wire_reader r;
	uint8_t msg[WL_WIRE_BATCH_HEADER + WL_FLOW_RECORD_MAX];
	long n;

	(void)state;
	hello.proto = answer.proto = WL_P_TLS;
	hello.has |= WL_PKT_SNI | WL_PKT_JA4;
	strcpy(hello.sni, "example.org");
	strcpy(hello.tls.ja4, ja4);
	answer.has |= WL_PKT_JA3S;
	strcpy(answer.tls.ja3s, ja3s);
	feed(t, hello);
	feed(t, answer);
	/* Later hellos change nothing. */
	hello.has = WL_PKT_JA4;
	strcpy(hello.tls.ja4, "t12i000000_000000000000_000000000000");
	hello.ts_sec = 2;
	feed(t, hello);
	flow_table_flush(t, WL_FLOW_EOF);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].name, "example.org");
	assert_string_equal(rs.r[0].ja4, ja4);
	assert_string_equal(rs.r[0].ja3s, ja3s);
	/* On the wire and back. */
	n = wl_wire_put_flow(msg + WL_WIRE_BATCH_HEADER, WL_FLOW_RECORD_MAX, &rs.r[0]);
	assert_true(n > 0);
	wl_wire_put_batch_header(msg, 1, 0);
	assert_int_equal(wl_wire_reader_init(&r, msg, WL_WIRE_BATCH_HEADER + (size_t)n), 0);
	assert_int_equal(wl_wire_next_flow(&r, &back), 1);
	assert_string_equal(back.ja4, ja4);
	assert_string_equal(back.ja3s, ja3s);
	assert_string_equal(back.name, "example.org");
	flow_table_free(t);
}

/* Fingerprints without a name, and a tunnel's endpoints with them. */
static void test_fingerprints_in_tunnel(void **state)
{
	struct reports rs;
	struct flow_table *t = table(&rs, 16);
	struct wl_packet p = tcp_packet(true, 1.0, ACK | PSH, 1, 1, 300, 100);
	struct wl_flow_record big;
	uint8_t msg[WL_FLOW_RECORD_MAX];

	(void)state;
	p.inner = p.outer;
	p.has |= WL_PKT_INNER;
	p.outer.src = (struct wl_addr){ .family = 4, .b = { 192, 0, 2, 1 } };
	p.outer.dst = (struct wl_addr){ .family = 4, .b = { 192, 0, 2, 2 } };
	feed(t, p);
	p.has |= WL_PKT_JA4;
	strcpy(p.tls.ja4, "t13i010100_000000000000_000000000000");
	feed(t, p);
	flow_table_flush(t, WL_FLOW_EOF);
	assert_int_equal(rs.n, 1);
	assert_true(rs.r[0].flags & WL_FLOW_OUTER);
	assert_int_equal(rs.r[0].outer[0].b[3], 1);
	assert_string_equal(rs.r[0].ja4, "t13i010100_000000000000_000000000000");
	assert_string_equal(rs.r[0].name, "");
	assert_string_equal(rs.r[0].ja3s, "");
	/* The largest record still fits WL_FLOW_RECORD_MAX. */
	big = rs.r[0];
	big.n_vlan = WL_FLOW_VLAN_MAX;
	big.l3 = WL_L3_IPV6;
	big.addr[0].family = big.addr[1].family = 6;
	big.outer[0].family = big.outer[1].family = 6;
	big.flags |= WL_FLOW_TCP | WL_FLOW_ICMP;
	memset(big.name, 'n', sizeof(big.name) - 1);
	memset(big.ja4, 'a', sizeof(big.ja4) - 1);
	memset(big.ja3s, 'b', sizeof(big.ja3s) - 1);
	assert_true(wl_wire_put_flow(msg, sizeof(msg), &big) > 0);
	flow_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions_one_flow),
		cmocka_unit_test(test_vlan_and_ports_separate_flows),
		cmocka_unit_test(test_idle_timeout_by_class),
		cmocka_unit_test(test_eviction_of_the_oldest_idle),
		cmocka_unit_test(test_active_reports_cumulative),
		cmocka_unit_test(test_handshake_state_and_rtt),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_retransmission),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_spurious_and_fast_retransmission),
		cmocka_unit_test(test_zero_window_and_keep_alive),
		cmocka_unit_test(test_port_reuse_new_flow),
		cmocka_unit_test(test_non_ip_and_icmp_echo),
		cmocka_unit_test(test_names_and_app),
		cmocka_unit_test(test_fingerprints_kept),
		cmocka_unit_test(test_fingerprints_in_tunnel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
