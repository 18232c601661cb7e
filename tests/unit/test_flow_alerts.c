/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Alerts from flows (webd/live/flow_alerts.c), against a fake alert list:
 *
 *   - a port scan and a host scan raise one alert each per episode, from
 *     the first packets of new flows; the open alert grows, clears once
 *     the window has gone quiet, and the same address alerts again only
 *     after the cooldown; below the thresholds nothing happens;
 *   - only the first packet of a flow counts (capd's ids rise), a packet
 *     with an ACK says nothing of who opened it, multicast is no target,
 *     and a capd that started over (its sequence went back) is followed;
 *   - in fleet mode (no packets from the sensor) the first report of each
 *     flow counts instead; while packets come, reports do not count twice;
 *   - SYN floods count flows that ended half-open (not backscatter, not
 *     completed handshakes, not active reports);
 *   - retransmissions: over the ratio with enough packets, one episode per
 *     pair, a long flow counted once;
 *   - bounded: a table of 64 entries holds 64 whatever the number of
 *     sources, evictions counted, an open episode cleared when evicted; a
 *     hash chain full of addresses chosen for one bucket (with the key
 *     known, as an attacker cannot) is capped; a scanner of 60,000 ports
 *     costs the same fixed bitmaps and raises one alert.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "live/flow_alerts.h"

#define T0 1700000000
#define WINDOW 12   /* parts of 4 s */
#define COOLDOWN 30
#define MAX_ALERTS 64

/* ---- A fake alert list ------------------------------------------------------------ */

struct fake_list {
	struct alert alerts[MAX_ALERTS];
	size_t n;
	unsigned cleared_calls;
};

static struct alert *fake_raise(void *ctx, const struct alert *a, size_t *ret_slot)
{
	struct fake_list *l = ctx;

	assert_true(l->n < MAX_ALERTS);
	l->alerts[l->n] = *a;
	l->alerts[l->n].id = l->n + 1;
	*ret_slot = l->n;
	return &l->alerts[l->n++];
}

static struct alert *fake_find(void *ctx, size_t slot, uint64_t id)
{
	struct fake_list *l = ctx;

	return slot < l->n && l->alerts[slot].id == id && !l->alerts[slot].cleared ? &l->alerts[slot] : NULL;
}

static void fake_cleared(void *ctx, const struct alert *a)
{
	struct fake_list *l = ctx;

	assert_int_not_equal(a->cleared, 0);
	l->cleared_calls++;
}

struct fixture {
	struct flow_alerts fa;
	struct fake_list list;
	uint64_t next_flow, next_seq;
};

static struct fixture *setup_with(size_t tracked)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct flow_alert_limits lim;
	struct alert_sink sink = { .raise = fake_raise, .find = fake_find, .cleared = fake_cleared };

	assert_non_null(f);
	flow_alerts_default_limits(&lim);
	lim.window_s = WINDOW;
	lim.cooldown_s = COOLDOWN;
	lim.tracked = tracked;
	sink.ctx = &f->list;
	assert_int_equal(flow_alerts_init(&f->fa, &lim, &sink), 0);
	/* A known key, so that every run places the same elements on the same bits. */
	wl_siphash_key_from_bytes(&f->fa.key, (const uint8_t *)"flow-alerts-test");
	f->next_flow = 1000;
	f->next_seq = 1;
	return f;
}

static void teardown(struct fixture *f)
{
	flow_alerts_free(&f->fa);
	free(f);
}

static struct wl_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct wl_addr x = { .family = 4, .b = { a, b, c, d } };

	return x;
}

/* The first packet of a new flow (or, with flow_id, of that flow) from src to dst:port. */
static void packet(struct fixture *f, struct wl_addr src, struct wl_addr dst, uint8_t ipproto, uint16_t dport,
		   uint16_t tcp_flags, uint64_t flow_id, int64_t ts)
{
	static struct wl_packet pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.seq = f->next_seq++;
	pkt.ts_sec = ts;
	pkt.flow_id = flow_id ? flow_id : f->next_flow++;
	pkt.outer.l3 = WL_L3_IPV4;
	pkt.outer.has = WL_HAS_SRC | WL_HAS_DST | WL_HAS_IPPROTO;
	pkt.outer.src = src;
	pkt.outer.dst = dst;
	pkt.outer.ipproto = ipproto;
	if (ipproto == 6 || ipproto == 17) {
		pkt.outer.has |= WL_HAS_SPORT | WL_HAS_DPORT;
		pkt.outer.sport = 40000;
		pkt.outer.dport = dport;
	}
	if (ipproto == 6) {
		pkt.outer.has |= WL_HAS_TCP_FLAGS;
		pkt.outer.tcp_flags = tcp_flags;
	}
	flow_alerts_packet(&f->fa, 0, &pkt, ts, ts);
}

static void syn(struct fixture *f, struct wl_addr src, struct wl_addr dst, uint16_t dport, int64_t ts)
{
	packet(f, src, dst, 6, dport, 0x02, 0, ts);
}

static struct wl_flow_record tcp_report(struct wl_addr a, struct wl_addr b, uint16_t dport, uint8_t state,
					uint16_t a_flags, uint8_t end)
{
	struct wl_flow_record r;

	memset(&r, 0, sizeof(r));
	r.l3 = WL_L3_IPV4;
	r.ipproto = 6;
	r.flags = WL_FLOW_TCP | WL_FLOW_PORTS;
	r.addr[0] = a;
	r.addr[1] = b;
	r.port[0] = 40000;
	r.port[1] = dport;
	r.tcp.state = state;
	r.tcp.flags[0] = a_flags;
	r.tcp.rtt_us = UINT32_MAX;
	r.end = end;
	r.packets[0] = 1;
	return r;
}

static size_t count_kind(const struct fixture *f, enum alert_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < f->list.n; i++)
		n += f->list.alerts[i].kind == kind;
	return n;
}

/* ---- Scans -------------------------------------------------------------------------- */

static void port_scan_one_alert_per_episode(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_addr scanner = v4(10, 0, 0, 5), target = v4(10, 0, 0, 9);
	struct alert *a;

	(void)unused;
	for (int p = 1; p <= 150; p++)
		syn(f, scanner, target, (uint16_t)p, T0);
	assert_int_equal(f->list.n, 1);
	a = &f->list.alerts[0];
	assert_int_equal(a->kind, ALERT_PORT_SCAN);
	assert_int_equal(a->addr.family, 4);
	assert_memory_equal(a->addr.b, scanner.b, 4);
	assert_int_equal(a->threshold, 100);
	assert_int_equal(a->window_s, WINDOW);
	assert_int_equal(a->started, T0);
	/* Raised near the 101st distinct port (an estimate), its peak grew with the scan. */
	assert_in_range(a->peak_window, 120, 180);
	assert_int_equal(a->packets, 150); /* the flows in the window when raised, and each one after */
	assert_int_equal(count_kind(f, ALERT_HOST_SCAN), 0); /* one host */

	/* Still open while the window holds the scan; cleared once it does not. */
	flow_alerts_tick(&f->fa, T0 + 2);
	flow_alerts_tick(&f->fa, T0 + 15);
	assert_int_equal(a->cleared, 0);
	flow_alerts_tick(&f->fa, T0 + 16); /* T0's part is out of the window (4 parts of 4 s) */
	assert_int_equal(a->cleared, T0 + 16);
	assert_int_equal(f->list.cleared_calls, 1);

	/* Again within the cooldown: no alert. */
	for (int p = 1; p <= 150; p++)
		syn(f, scanner, target, (uint16_t)(1000 + p), T0 + 30);
	flow_alerts_tick(&f->fa, T0 + 31);
	assert_int_equal(f->list.n, 1);

	/* After the cooldown (cleared at T0 + 16, cooldown 30): a second alert. */
	flow_alerts_tick(&f->fa, T0 + 60);
	for (int p = 1; p <= 150; p++)
		syn(f, scanner, target, (uint16_t)(2000 + p), T0 + 60);
	assert_int_equal(f->list.n, 2);
	assert_int_equal(f->list.alerts[1].kind, ALERT_PORT_SCAN);
	assert_int_equal(f->list.alerts[1].started, T0 + 60);
	teardown(f);
}

static void host_scan(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_addr scanner = v4(10, 0, 0, 6);

	(void)unused;
	for (int h = 0; h < 150; h++)
		syn(f, scanner, v4(10, 2, (uint8_t)(h / 250), (uint8_t)(1 + h % 250)), 22, T0);
	assert_int_equal(f->list.n, 1);
	assert_int_equal(f->list.alerts[0].kind, ALERT_HOST_SCAN);
	assert_in_range(f->list.alerts[0].peak_window, 120, 180);
	/* ICMP echo sweeps count too (hosts, no ports). */
	for (int h = 0; h < 150; h++)
		packet(f, v4(10, 0, 0, 7), v4(10, 3, 0, (uint8_t)(1 + h)), 1, 0, 0, 0, T0);
	assert_int_equal(count_kind(f, ALERT_HOST_SCAN), 2);
	assert_int_equal(count_kind(f, ALERT_PORT_SCAN), 0);
	teardown(f);
}

static void below_thresholds_nothing(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_addr client = v4(10, 0, 0, 8);

	(void)unused;
	/* 80 ports on 80 hosts in one window: busy, not a scan. */
	for (int i = 0; i < 80; i++)
		syn(f, client, v4(10, 4, 0, (uint8_t)(1 + i)), (uint16_t)(8000 + i), T0);
	/* The same spread over windows far apart never adds up. */
	for (int w = 1; w <= 5; w++)
		for (int i = 0; i < 60; i++)
			syn(f, client, v4(10, 5, (uint8_t)w, (uint8_t)(1 + i)), (uint16_t)(9000 + w * 100 + i),
			    T0 + w * 100);
	flow_alerts_tick(&f->fa, T0 + 1000);
	assert_int_equal(f->list.n, 0);
	teardown(f);
}

static void only_first_packets_count(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_addr scanner = v4(10, 0, 0, 5), target = v4(10, 0, 0, 9);
	uint64_t high = 500000;

	(void)unused;
	/* Every packet of one flow, 300 times: one flow. */
	for (int i = 0; i < 300; i++)
		packet(f, scanner, target, 6, (uint16_t)(1 + i), 0x02, high, T0);
	/* Lower ids: flows seen before (their later packets). */
	for (int i = 0; i < 300; i++)
		packet(f, scanner, target, 6, (uint16_t)(1 + i), 0x02, 1 + (uint64_t)i, T0);
	/* An ACK: capd joined the flow mid-stream, the sender may be the server. */
	for (int i = 0; i < 300; i++)
		packet(f, scanner, target, 6, (uint16_t)(1 + i), 0x10, high + 1 + (uint64_t)i, T0);
	/* Multicast and broadcast are not hosts. */
	for (int i = 0; i < 300; i++)
		packet(f, scanner, v4(239, 1, (uint8_t)(i / 250), (uint8_t)i), 17, (uint16_t)(1 + i), 0, high + 1000 + (uint64_t)i, T0);
	for (int i = 0; i < 300; i++)
		packet(f, scanner, v4(255, 255, 255, 255), 17, (uint16_t)(1 + i), 0, high + 2000 + (uint64_t)i, T0);
	assert_int_equal(f->list.n, 0);
	assert_int_equal(f->fa.stats.scan_flows, 1);
	teardown(f);
}

static void capd_restart_followed(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_addr scanner = v4(10, 0, 0, 5), target = v4(10, 0, 0, 9);

	(void)unused;
	f->next_flow = 1u << 30;
	f->next_seq = 1000000;
	syn(f, scanner, target, 1, T0);
	/* capd started over: its packets from 1, its flow ids from a lower base. */
	f->next_flow = 5;
	f->next_seq = 1;
	for (int p = 2; p <= 150; p++)
		syn(f, scanner, target, (uint16_t)p, T0);
	assert_int_equal(f->fa.stats.scan_flows, 150);
	assert_int_equal(count_kind(f, ALERT_PORT_SCAN), 1);
	teardown(f);
}

static void fleet_mode_counts_first_reports(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_addr scanner = v4(10, 0, 0, 5), target = v4(10, 0, 0, 9);

	(void)unused;
	/* No packet from sensor 0: the first report of each flow counts. */
	for (int p = 1; p <= 150; p++) {
		struct wl_flow_record r = tcp_report(scanner, target, (uint16_t)p, WL_TCP_RESET, 0x02, WL_FLOW_IDLE);

		r.id = (uint64_t)p;
		flow_alerts_report(&f->fa, 0, &r, true, T0, T0);
		/* A later report of the same flow is not a new flow. */
		flow_alerts_report(&f->fa, 0, &r, false, T0, T0);
	}
	assert_int_equal(f->fa.stats.scan_flows, 150);
	assert_int_equal(count_kind(f, ALERT_PORT_SCAN), 1);
	teardown(f);

	/* With packets coming from the sensor, its reports do not count again. */
	f = setup_with(1024);
	syn(f, v4(10, 9, 9, 9), target, 80, T0);
	for (int p = 1; p <= 150; p++) {
		struct wl_flow_record r = tcp_report(scanner, target, (uint16_t)p, WL_TCP_RESET, 0x02, WL_FLOW_IDLE);

		flow_alerts_report(&f->fa, 0, &r, true, T0, T0 + 10);
	}
	assert_int_equal(f->fa.stats.scan_flows, 1);
	assert_int_equal(f->list.n, 0);
	/* ... until the sensor has sent none for FLOW_ALERTS_PACKETS_QUIET_S. */
	for (int p = 1; p <= 150; p++) {
		struct wl_flow_record r = tcp_report(scanner, target, (uint16_t)p, WL_TCP_RESET, 0x02, WL_FLOW_IDLE);

		flow_alerts_report(&f->fa, 0, &r, true, T0 + 400, T0 + FLOW_ALERTS_PACKETS_QUIET_S + 1);
	}
	assert_int_equal(count_kind(f, ALERT_PORT_SCAN), 1);
	/* A mid-stream TCP flow (side a sent ACKs, never a SYN) is not counted. */
	{
		struct wl_flow_record r = tcp_report(v4(10, 7, 7, 7), target, 443, WL_TCP_MIDSTREAM, 0x18, WL_FLOW_IDLE);
		uint64_t before = f->fa.stats.scan_flows;

		flow_alerts_report(&f->fa, 0, &r, true, T0 + 400, T0 + 1000);
		assert_int_equal(f->fa.stats.scan_flows, before);
	}
	teardown(f);
}

/* ---- SYN floods ---------------------------------------------------------------------- */

static void syn_flood_from_half_open_flows(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_addr victim = v4(10, 1, 0, 20);
	struct wl_flow_record r;

	(void)unused;
	/* Not half-open: completed, backscatter (a sent SYN/ACK), still active, reset. */
	for (int i = 0; i < 200; i++) {
		struct wl_addr src = v4(10, 3, (uint8_t)(i / 200), (uint8_t)(1 + i % 200));

		r = tcp_report(src, victim, 80, WL_TCP_ESTABLISHED, 0x12, WL_FLOW_FIN);
		flow_alerts_report(&f->fa, 0, &r, false, T0, T0);
		r = tcp_report(src, victim, 80, WL_TCP_SYN_RECEIVED, 0x12, WL_FLOW_IDLE);
		flow_alerts_report(&f->fa, 0, &r, false, T0, T0);
		r = tcp_report(src, victim, 80, WL_TCP_SYN_SENT, 0x02, WL_FLOW_ACTIVE);
		flow_alerts_report(&f->fa, 0, &r, false, T0, T0);
		r = tcp_report(src, victim, 80, WL_TCP_RESET, 0x02, WL_FLOW_RST);
		flow_alerts_report(&f->fa, 0, &r, false, T0, T0);
	}
	assert_int_equal(count_kind(f, ALERT_SYN_FLOOD), 0);
	assert_int_equal(f->fa.stats.half_open, 0);

	/* 100 half-open flows: not more than the threshold. */
	for (int i = 0; i < 100; i++) {
		r = tcp_report(v4(10, 3, 1, (uint8_t)(1 + i)), victim, 80, i % 2 ? WL_TCP_SYN_SENT : WL_TCP_SYN_RECEIVED,
			       0x02, WL_FLOW_IDLE);
		flow_alerts_report(&f->fa, 0, &r, false, T0 + 1, T0 + 1);
	}
	assert_int_equal(count_kind(f, ALERT_SYN_FLOOD), 0);
	/* The 101st is. */
	r = tcp_report(v4(10, 3, 2, 1), victim, 80, WL_TCP_SYN_SENT, 0x02, WL_FLOW_EOF);
	flow_alerts_report(&f->fa, 0, &r, false, T0 + 1, T0 + 1);
	assert_int_equal(count_kind(f, ALERT_SYN_FLOOD), 1);
	assert_memory_equal(f->list.alerts[0].addr.b, victim.b, 4);
	assert_int_equal(f->list.alerts[0].peak_window, 101);
	assert_int_equal(f->list.alerts[0].packets, 101);
	/* More of the same flood: the same alert grows. */
	for (int i = 0; i < 50; i++) {
		r = tcp_report(v4(10, 3, 3, (uint8_t)(1 + i)), victim, 80, WL_TCP_SYN_SENT, 0x02, WL_FLOW_IDLE);
		flow_alerts_report(&f->fa, 0, &r, false, T0 + 2, T0 + 2);
	}
	assert_int_equal(f->list.n, 1);
	assert_int_equal(f->list.alerts[0].packets, 151);
	assert_int_equal(f->list.alerts[0].peak_window, 151);
	assert_int_equal(f->list.alerts[0].last, T0 + 2);
	flow_alerts_tick(&f->fa, T0 + 3);
	assert_int_equal(f->list.alerts[0].cleared, 0);
	flow_alerts_tick(&f->fa, T0 + 20);
	assert_int_equal(f->list.alerts[0].cleared, T0 + 20);
	teardown(f);
}

/* ---- Retransmissions ------------------------------------------------------------------ */

static struct wl_flow_record lossy(uint64_t id, uint64_t packets, uint32_t retrans, uint8_t end)
{
	struct wl_flow_record r = tcp_report(v4(10, 1, 0, 30), v4(10, 1, 0, 31), 5001, WL_TCP_ESTABLISHED, 0x1a, end);

	r.id = id;
	r.packets[0] = packets - packets / 2;
	r.packets[1] = packets / 2;
	r.tcp.retransmissions[0] = retrans;
	return r;
}

static void retransmissions_per_pair(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_flow_record r;

	(void)unused;
	r = lossy(1, 40, 20, WL_FLOW_FIN); /* too small to judge */
	flow_alerts_report(&f->fa, 0, &r, true, T0, T0);
	r = lossy(2, 100, 10, WL_FLOW_FIN); /* 10 %: not more than */
	flow_alerts_report(&f->fa, 0, &r, true, T0, T0);
	assert_int_equal(f->list.n, 0);

	r = lossy(3, 100, 20, WL_FLOW_ACTIVE);
	flow_alerts_report(&f->fa, 0, &r, true, T0 + 1, T0 + 1);
	assert_int_equal(f->list.n, 1);
	assert_int_equal(f->list.alerts[0].kind, ALERT_RETRANSMISSIONS);
	assert_int_equal(f->list.alerts[0].peak_window, 2000); /* 20.00 % */
	assert_int_equal(f->list.alerts[0].threshold, 10);
	assert_int_equal(f->list.alerts[0].flow_id, 3);
	assert_memory_equal(f->list.alerts[0].peer.b, v4(10, 1, 0, 31).b, 4);
	/* The same flow's final report, worse: one flow, a higher peak. */
	r = lossy(3, 200, 60, WL_FLOW_FIN);
	flow_alerts_report(&f->fa, 0, &r, false, T0 + 2, T0 + 2);
	assert_int_equal(f->list.alerts[0].packets, 1);
	assert_int_equal(f->list.alerts[0].peak_window, 3000);
	/* Another flow of the pair: the same episode, two flows. */
	r = lossy(4, 100, 15, WL_FLOW_FIN);
	flow_alerts_report(&f->fa, 0, &r, true, T0 + 3, T0 + 3);
	assert_int_equal(f->list.n, 1);
	assert_int_equal(f->list.alerts[0].packets, 2);
	assert_int_equal(f->list.alerts[0].flow_id, 3);
	flow_alerts_tick(&f->fa, T0 + 30);
	assert_int_not_equal(f->list.alerts[0].cleared, 0);
	teardown(f);
}

/* ---- Bounds ---------------------------------------------------------------------------- */

static void table_bounded_evictions_counted(void **unused)
{
	struct fixture *f = setup_with(64);

	(void)unused;
	/* A host scan raised first: open, then pushed out by 10,000 other sources. */
	for (int h = 0; h < 150; h++)
		syn(f, v4(10, 0, 0, 6), v4(10, 2, 0, (uint8_t)(1 + h)), 22, T0);
	assert_int_equal(f->list.n, 1);
	for (int i = 0; i < 10000; i++)
		syn(f, v4(10, 100, (uint8_t)(i >> 8), (uint8_t)i), v4(10, 0, 0, 9), 80, T0);
	assert_int_equal(f->fa.stats.tracked, 64);
	assert_int_equal(f->fa.stats.evicted, 10000 + 1 - 64);
	assert_int_equal(f->fa.stats.evicted_open, 1);
	assert_int_equal(f->list.alerts[0].cleared, T0);
	assert_int_equal(f->list.cleared_calls, 1);
	teardown(f);
}

/* The entry key as flow_alerts.c hashes it, to aim addresses at one bucket with a known key. */
struct key_bytes {
	uint8_t detector, family_a, family_p;
	uint8_t a[16], p[16];
};

static void chain_capped(void **unused)
{
	struct fixture *f = setup_with(1024);
	size_t aimed = 0, bucket0 = SIZE_MAX;

	(void)unused;
	wl_siphash_key_from_bytes(&f->fa.key, (const uint8_t *)"0123456789abcdef");
	for (uint32_t i = 0; aimed < 40 && i < 1000000; i++) {
		struct key_bytes k = { .detector = 1, .family_a = 4 };
		struct wl_addr src = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		size_t bucket;

		memcpy(k.a, src.b, 4);
		bucket = (size_t)wl_siphash24(&f->fa.key, &k, sizeof(k)) & (f->fa.n_buckets - 1);
		if (bucket0 == SIZE_MAX)
			bucket0 = bucket;
		if (bucket != bucket0)
			continue;
		syn(f, src, v4(10, 0, 0, 9), 80, T0);
		aimed++;
	}
	assert_int_equal(aimed, 40);
	assert_int_equal(f->fa.stats.chain_evicted, 40 - FLOW_ALERTS_CHAIN_MAX);
	assert_int_equal(f->fa.stats.tracked, FLOW_ALERTS_CHAIN_MAX);
	teardown(f);
}

static void sketch_fixed_whatever_the_scan(void **unused)
{
	struct fixture *f = setup_with(1024);
	struct wl_addr scanner = v4(10, 0, 0, 5), target = v4(10, 0, 0, 9);

	(void)unused;
	for (int p = 1; p <= 60000; p++)
		syn(f, scanner, target, (uint16_t)p, T0);
	assert_int_equal(f->list.n, 1);
	assert_true(f->list.alerts[0].peak_window > FLOW_ALERTS_SCAN_MAX);
	assert_int_equal(f->list.alerts[0].packets, 60000);
	assert_int_equal(f->fa.stats.tracked, 1);
	teardown(f);
}

static void limits_checked(void **unused)
{
	struct flow_alerts fa;
	struct flow_alert_limits lim;
	struct alert_sink sink = { .raise = fake_raise, .find = fake_find, .cleared = fake_cleared };

	(void)unused;
	flow_alerts_default_limits(&lim);
	lim.window_s = 0;
	assert_int_equal(flow_alerts_init(&fa, &lim, &sink), -EINVAL);
	flow_alerts_default_limits(&lim);
	lim.scan_ports = FLOW_ALERTS_SCAN_MAX + 1;
	assert_int_equal(flow_alerts_init(&fa, &lim, &sink), -EINVAL);
	flow_alerts_default_limits(&lim);
	lim.retrans_percent = 101;
	assert_int_equal(flow_alerts_init(&fa, &lim, &sink), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_scan_one_alert_per_episode),
		cmocka_unit_test(host_scan),
		cmocka_unit_test(below_thresholds_nothing),
		cmocka_unit_test(only_first_packets_count),
		cmocka_unit_test(capd_restart_followed),
		cmocka_unit_test(fleet_mode_counts_first_reports),
		cmocka_unit_test(syn_flood_from_half_open_flows),
		cmocka_unit_test(retransmissions_per_pair),
		cmocka_unit_test(table_bounded_evictions_counted),
		cmocka_unit_test(chain_capped),
		cmocka_unit_test(sketch_fixed_whatever_the_scan),
		cmocka_unit_test(limits_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
