/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webd's live state (webd/live/state.c), the parts that network data can aim at:
 *
 *   - the host table: 30,000 IPv6 addresses that all share one bucket under
 *     the unkeyed FNV-1a bucket function webd used before must spread out
 *     under the keyed hash (short chains, every host kept); and when a
 *     chain does fill (addresses aimed at a key the test knows), it is
 *     capped at STATE_HOST_CHAIN_MAX, the least recently seen giving way;
 *   - passive DNS: only responses teach name-to-address mappings; a query
 *     that carries an answer record teaches nothing;
 *
 * and what the API reads through state.h rather than by index arithmetic:
 * the rates by capture second, the DNS log and the alerts newest first, and
 * the one formatter of DNS answers that the log and history share; the live
 * rates by webd's second of arrival (a replay faster than real time); and
 * the flow alerts in the same alert list as the flood alert.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "live/state.h"

#define T0 1700000000

static const uint8_t dummy_record[64];

static struct wl_addr addr_from(const char *text)
{
	struct wl_addr a = { 0 };

	if (inet_pton(AF_INET, text, a.b) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, text, a.b) == 1)
		a.family = 6;
	else
		fail_msg("bad address %s", text);
	return a;
}

static void add_packet(struct state *s, const struct wl_addr *src, const struct wl_addr *dst, int64_t ts,
		       const struct wl_dns *dns)
{
	static struct wl_packet pkt;
	struct packet_origin from = { .sensor = 0 };

	memset(&pkt, 0, sizeof(pkt));
	pkt.ts_sec = ts;
	pkt.len = 100;
	pkt.proto = WL_P_UDP;
	pkt.outer.l3 = src->family == 6 ? WL_L3_IPV6 : WL_L3_IPV4;
	pkt.outer.has = WL_HAS_SRC;
	pkt.outer.src = *src;
	if (dst) {
		pkt.outer.has |= WL_HAS_DST;
		pkt.outer.dst = *dst;
	}
	if (dns) {
		pkt.has |= WL_PKT_DNS;
		pkt.dns = *dns;
		pkt.proto = WL_P_DNS;
	}
	state_add_packet(s, &from, &pkt, dummy_record, sizeof(dummy_record), NULL, ts);
}

static struct state *new_state(size_t hosts)
{
	struct state *s = malloc(sizeof(*s));
	struct state_limits lim;

	assert_non_null(s);
	state_default_limits(&lim);
	lim.ring_packets = 64;
	lim.ring_bytes = 64 * 1024;
	lim.hosts = hosts;
	assert_int_equal(state_init(s, &lim), 0);
	return s;
}

static void free_state(struct state *s)
{
	state_free(s);
	free(s);
}

/* ---- The host table ------------------------------------------------------------ */

#define FNV_PRIME 16777619u

/* webd's bucket function before the keyed hash: FNV-1a over family and address. */
static uint32_t old_fnv_bucket(const struct wl_addr *a, uint32_t mask)
{
	uint32_t h = (2166136261u ^ a->family) * FNV_PRIME;

	for (size_t i = 0; i < (a->family == 6 ? 16u : 4u); i++)
		h = (h ^ a->b[i]) * FNV_PRIME;
	return h & mask;
}

/*
 * n distinct IPv6 addresses in 2001:db8::/32 with old_fnv_bucket() == target,
 * as an attacker makes them: the low bits of an FNV-1a state depend only on
 * the low bits before, and multiplying by the odd prime is invertible, so
 * the last byte is solved for once the one before brings bits 8..16 right
 * (one try in 512).
 */
static struct wl_addr *fnv_colliding(size_t n, uint32_t target, uint32_t mask)
{
	struct wl_addr *out = calloc(n, sizeof(*out));
	uint32_t inv = FNV_PRIME, want;
	size_t found = 0;

	assert_non_null(out);
	for (int i = 0; i < 5; i++)
		inv *= 2 - FNV_PRIME * inv; /* Newton: the inverse modulo 2^32 */
	want = (target * inv) & mask;       /* the state before the last multiply */
	for (uint32_t c = 0; found < n; c++) {
		struct wl_addr a = { .family = 6, .b = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, (uint8_t)(c >> 24),
							 (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c } };
		uint32_t h14 = (2166136261u ^ 6) * FNV_PRIME;

		for (int i = 0; i < 14; i++)
			h14 = (h14 ^ a.b[i]) * FNV_PRIME;
		for (unsigned b14 = 0; b14 < 256; b14++) {
			uint32_t h15 = (h14 ^ b14) * FNV_PRIME;

			if (((h15 ^ want) & mask) >> 8)
				continue;
			a.b[14] = (uint8_t)b14;
			a.b[15] = (uint8_t)((h15 ^ want) & 0xff);
			assert_int_equal(old_fnv_bucket(&a, mask), target);
			out[found++] = a;
			break;
		}
	}
	return out;
}

/* The longest chain in the table now, walked bucket by bucket. */
static size_t longest_chain(const struct state *s)
{
	size_t longest = 0;

	for (size_t b = 0; b < s->host_hash_size; b++) {
		size_t len = 0;

		for (uint32_t i = s->host_hash[b]; i != UINT32_MAX; i = s->hosts[i].hash_next)
			len++;
		if (len > longest)
			longest = len;
	}
	return longest;
}

#define N_CRAFTED 30000

static void fnv_collisions_spread(void **unused)
{
	struct state *s = new_state(65536);
	uint32_t mask = (uint32_t)s->host_hash_size - 1;
	struct wl_addr dst = addr_from("2001:db8:ffff::1");
	struct wl_addr *crafted = fnv_colliding(N_CRAFTED, old_fnv_bucket(&dst, mask), mask);

	(void)unused;
	for (size_t i = 0; i < N_CRAFTED; i++)
		add_packet(s, &crafted[i], &dst, T0 + (int64_t)(i / 1000), NULL);
	/* Every host kept, none given up for a full chain, and every chain short. */
	assert_int_equal(s->n_hosts, N_CRAFTED + 1);
	assert_int_equal(s->hosts_chain_evicted, 0);
	for (size_t i = 0; i < N_CRAFTED; i++)
		assert_non_null(state_find_host(s, &crafted[i]));
	if (s->hosts_chain_max > 8 || longest_chain(s) > 8)
		fail_msg("chains up to %u long (now %zu) for %d addresses in %zu buckets", s->hosts_chain_max,
			 longest_chain(s), N_CRAFTED + 1, s->host_hash_size);
	free(crafted);
	free_state(s);
}

/* The bucket webd/live/state.c computes: SipHash of the family byte and the address. */
static size_t sip_bucket(const struct state *s, const struct wl_addr *a)
{
	uint8_t bytes[17] = { a->family };

	memcpy(bytes + 1, a->b, 16);
	return (size_t)wl_siphash24(&s->host_key, bytes, 17) & (s->host_hash_size - 1);
}

/* Addresses aimed at one bucket of a key the test knows: the chain stops at the cap. */
static void full_chain_is_capped(void **unused)
{
	struct state *s = new_state(64);
	const uint8_t key[16] = "wlite test key!";
	struct wl_addr aimed[STATE_HOST_CHAIN_MAX + 24];
	size_t n = 0, target;

	(void)unused;
	wl_siphash_key_from_bytes(&s->host_key, key);
	target = sip_bucket(s, &(struct wl_addr){ .family = 6 });
	for (uint32_t c = 1; n < sizeof(aimed) / sizeof(aimed[0]); c++) {
		struct wl_addr a = { .family = 6, .b = { 0x20, 0x01, 0x0d, 0xb8, [12] = (uint8_t)(c >> 24),
							 (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c } };

		if (sip_bucket(s, &a) == target)
			aimed[n++] = a;
	}
	for (size_t i = 0; i < n; i++)
		add_packet(s, &aimed[i], NULL, T0 + (int64_t)i, NULL);
	assert_int_equal(s->hosts_chain_max, STATE_HOST_CHAIN_MAX);
	assert_int_equal(s->hosts_chain_evicted, n - STATE_HOST_CHAIN_MAX);
	assert_int_equal(longest_chain(s), STATE_HOST_CHAIN_MAX);
	/* The least recently seen gave way: the oldest are gone, the newest kept. */
	for (size_t i = 0; i < n; i++) {
		if (i < n - STATE_HOST_CHAIN_MAX)
			assert_null(state_find_host(s, &aimed[i]));
		else
			assert_non_null(state_find_host(s, &aimed[i]));
	}
	free_state(s);
}

/* ---- Passive DNS ------------------------------------------------------------------ */

static struct wl_dns dns_with_answer(bool response)
{
	struct wl_dns d = { .id = 0x1234, .response = response, .has_question = true, .qtype = 1,
			    .qdcount = 1, .ancount = 1, .n_answers = 1, .answers_total = 1 };

	strcpy(d.qname, "bank.example");
	d.answers[0] = (struct wl_dns_rr){ .section = WL_DNS_AN, .type = 1, .class = 1, .ttl = 300 };
	strcpy(d.answers[0].name, "bank.example");
	strcpy(d.answers[0].data, "192.0.2.66");
	return d;
}

static void dns_query_with_answer_teaches_nothing(void **unused)
{
	struct state *s = new_state(1024);
	struct wl_addr client = addr_from("10.0.0.7"), resolver = addr_from("10.0.0.53");
	struct wl_addr answer = addr_from("192.0.2.66");
	struct wl_dns q = dns_with_answer(false);

	(void)unused;
	add_packet(s, &client, &resolver, T0, &q);
	assert_null(state_find_host(s, &answer));
	/* ... and names nothing it did touch. */
	assert_int_equal(state_find_host(s, &client)->n_names, 0);
	assert_int_equal(state_find_host(s, &resolver)->n_names, 0);
	free_state(s);
}

static void dns_response_teaches(void **unused)
{
	struct state *s = new_state(1024);
	struct wl_addr client = addr_from("10.0.0.7"), resolver = addr_from("10.0.0.53");
	struct wl_addr answer = addr_from("192.0.2.66");
	struct wl_dns r = dns_with_answer(true);
	const struct host *h;

	(void)unused;
	add_packet(s, &resolver, &client, T0, &r);
	h = state_find_host(s, &answer);
	assert_non_null(h);
	assert_int_equal(h->n_names, 1);
	assert_string_equal(h->names[0].name, "bank.example");
	assert_int_equal(h->names[0].source, 'd');
	assert_int_equal(h->names[0].expires, T0 + 300);
	free_state(s);
}

/* ---- What the API reads: rates by second, the DNS log and alerts newest first ------ */

static void rates_by_capture_second(void **unused)
{
	struct state *s = new_state(1024);
	struct wl_addr a = addr_from("10.0.0.1");

	(void)unused;
	add_packet(s, &a, NULL, T0, NULL);
	add_packet(s, &a, NULL, T0, NULL);
	add_packet(s, &a, NULL, T0 + 2, NULL);
	assert_int_equal(state_rate_at(s, T0)->packets, 2);
	assert_int_equal(state_rate_at(s, T0)->bytes, 200);
	assert_null(state_rate_at(s, T0 + 1)); /* quiet */
	assert_int_equal(state_rate_at(s, T0 + 2)->packets, 1);
	/* An hour later the same bucket holds the new second, and the old one is gone. */
	add_packet(s, &a, NULL, T0 + STATE_RATE_SECONDS, NULL);
	assert_null(state_rate_at(s, T0));
	assert_int_equal(state_rate_at(s, T0 + STATE_RATE_SECONDS)->packets, 1);
	free_state(s);
}

static void dns_log_newest_first(void **unused)
{
	struct state *s = malloc(sizeof(*s));
	struct state_limits lim;
	struct wl_addr client = addr_from("10.0.0.7"), resolver = addr_from("10.0.0.53");
	char answers[256];

	(void)unused;
	assert_non_null(s);
	state_default_limits(&lim);
	lim.ring_packets = 64;
	lim.ring_bytes = 64 * 1024;
	lim.dns_log = 3;
	assert_int_equal(state_init(s, &lim), 0);
	for (int i = 0; i < 5; i++) {
		struct wl_dns r = dns_with_answer(true);

		snprintf(r.qname, sizeof(r.qname), "name%d.example", i);
		add_packet(s, &resolver, &client, T0 + i, &r);
	}
	assert_string_equal(state_dns_at(s, 0)->qname, "name4.example");
	assert_string_equal(state_dns_at(s, 2)->qname, "name2.example");
	assert_null(state_dns_at(s, 3)); /* the log keeps 3 */
	/* The log shows the answers with the formatter history uses. */
	state_dns_answers(&(struct wl_dns){ 0 }, answers, sizeof(answers));
	assert_string_equal(answers, "");
	{
		struct wl_dns r = dns_with_answer(true);

		state_dns_answers(&r, answers, sizeof(answers));
		assert_string_equal(state_dns_at(s, 0)->answers, answers);
	}
	state_free(s);
	free(s);
}

static void alerts_newest_first(void **unused)
{
	struct state *s = malloc(sizeof(*s));
	struct state_limits lim;
	const char *flooders[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3" };

	(void)unused;
	assert_non_null(s);
	state_default_limits(&lim);
	lim.ring_packets = 64;
	lim.ring_bytes = 64 * 1024;
	lim.alerts = 2;
	lim.alert_packets = 2; /* a third packet within the window alerts */
	assert_int_equal(state_init(s, &lim), 0);
	for (int f = 0; f < 3; f++) {
		struct wl_addr a = addr_from(flooders[f]);

		for (int i = 0; i < 3; i++)
			add_packet(s, &a, NULL, T0 + f, NULL);
	}
	assert_int_equal(s->alerts_count, 2);
	assert_memory_equal(state_alert_at(s, 0)->addr.b, addr_from("10.0.0.3").b, 4);
	assert_memory_equal(state_alert_at(s, 1)->addr.b, addr_from("10.0.0.2").b, 4);
	assert_null(state_alert_at(s, 2)); /* the list keeps 2 */
	state_free(s);
	free(s);
}

/*
 * The live rates count by webd's clock: ten capture seconds arriving in
 * one wall second (a replay at --speed 10) are ten seconds' packets in
 * that second, while the capture seconds keep their own counts.
 */
static void arrival_rates_by_wall_second(void **unused)
{
	struct state *s = new_state(1024);
	struct wl_addr a = addr_from("10.0.0.1");
	static struct wl_packet pkt;
	struct packet_origin from = { .sensor = 0 };
	const int64_t wall = T0 + 5000;

	(void)unused;
	memset(&pkt, 0, sizeof(pkt));
	pkt.len = 100;
	pkt.outer.l3 = WL_L3_IPV4;
	pkt.outer.has = WL_HAS_SRC;
	pkt.outer.src = a;
	for (int i = 0; i < 100; i++) {
		pkt.ts_sec = T0 + i / 10; /* ten capture seconds ... */
		state_add_packet(s, &from, &pkt, dummy_record, sizeof(dummy_record), NULL, wall); /* ... in one */
	}
	assert_int_equal(state_arrival_at(s, wall)->packets, 100);
	assert_int_equal(state_arrival_at(s, wall)->bytes, 10000);
	assert_null(state_arrival_at(s, wall - 1));
	assert_null(state_arrival_at(s, T0)); /* nothing arrived then */
	for (int i = 0; i < 10; i++)
		assert_int_equal(state_rate_at(s, T0 + i)->packets, 10);
	/* The next wall second starts afresh; flow reports are counted by arrival too. */
	state_add_packet(s, &from, &pkt, dummy_record, sizeof(dummy_record), NULL, wall + 1);
	assert_int_equal(state_arrival_at(s, wall + 1)->packets, 1);
	{
		struct wl_flow_record r;

		memset(&r, 0, sizeof(r));
		r.id = 1;
		r.l3 = WL_L3_IPV4;
		r.addr[0] = a;
		r.addr[1] = addr_from("10.0.0.2");
		state_add_flow_report(s, 0, &r, (wall + 1) * 1000000);
		assert_int_equal(state_arrival_at(s, wall + 1)->flow_reports, 1);
	}
	state_clear(s);
	assert_null(state_arrival_at(s, wall));
	free_state(s);
}

/*
 * Flow alerts go to the state's one alert list, with their kind; a flood
 * alert's host is not fooled by a flow alert of the same address taking
 * its place in the ring, and the listener hears of both.
 */
static unsigned heard;

static void count_heard(void *ctx, const struct alert *a)
{
	(void)ctx;
	(void)a;
	heard++;
}

static void flow_alerts_in_the_list(void **unused)
{
	struct state *s = malloc(sizeof(*s));
	struct state_limits lim;
	struct wl_addr victim = addr_from("10.1.0.20");

	(void)unused;
	assert_non_null(s);
	state_default_limits(&lim);
	lim.ring_packets = 64;
	lim.ring_bytes = 64 * 1024;
	lim.alerts = 1; /* one place: every alert takes the last one's */
	lim.alert_packets = 2;
	lim.flow_alerts.syn_flood_flows = 3;
	assert_int_equal(state_init(s, &lim), 0);
	s->on_alert = count_heard;
	heard = 0;
	/* A flood from the victim's address ... */
	for (int i = 0; i < 3; i++)
		add_packet(s, &victim, NULL, T0, NULL);
	assert_int_equal(state_alert_at(s, 0)->kind, ALERT_FLOOD);
	assert_int_equal(heard, 1);
	/* ... then four half-open flows to it: a SYN flood alert takes the one place. */
	for (uint64_t id = 1; id <= 4; id++) {
		struct wl_flow_record r;

		memset(&r, 0, sizeof(r));
		r.id = id;
		r.l3 = WL_L3_IPV4;
		r.ipproto = 6;
		r.flags = WL_FLOW_TCP | WL_FLOW_PORTS;
		r.addr[0] = addr_from("10.3.0.1");
		r.addr[0].b[3] = (uint8_t)id;
		r.addr[1] = victim;
		r.port[1] = 80;
		r.tcp.state = WL_TCP_SYN_SENT;
		r.tcp.flags[0] = 0x02;
		r.end = WL_FLOW_IDLE;
		state_add_flow_report(s, 0, &r, (int64_t)T0 * 1000000);
	}
	assert_int_equal(s->alerts_count, 1);
	assert_int_equal(state_alert_at(s, 0)->kind, ALERT_SYN_FLOOD);
	assert_int_equal(state_alert_at(s, 0)->peak_window, 4);
	assert_int_equal(heard, 2);
	/*
	 * More flood packets: the flood's record is gone from the list, but its
	 * episode goes on (no second alert), and the SYN flood's record is not
	 * taken for it.
	 */
	add_packet(s, &victim, NULL, T0, NULL);
	assert_int_equal(state_alert_at(s, 0)->kind, ALERT_SYN_FLOOD);
	assert_int_equal(state_alert_at(s, 0)->packets, 4);
	assert_int_equal(heard, 2);
	assert_true(state_find_host(s, &victim)->alerting);
	/* Both end once their windows are quiet (the state's clock: the capture's). */
	state_tick(s, T0 + 200);
	assert_int_equal(state_alert_at(s, 0)->cleared, T0 + 200);
	assert_false(state_find_host(s, &victim)->alerting);
	assert_int_equal(heard, 3); /* the SYN flood's clearing; the flood's record is gone */
	state_free(s);
	free(s);
}

/* The one formatter of DNS answers: answer-section data only, joined, cut to fit. */
static void dns_answers_text(void **unused)
{
	struct wl_dns d = dns_with_answer(true);
	char out[256], small[8];
	size_t n;

	(void)unused;
	d.n_answers = 4;
	d.answers[1] = (struct wl_dns_rr){ .section = WL_DNS_NS, .type = 2 };
	strcpy(d.answers[1].data, "ns.example"); /* not an answer */
	d.answers[2] = (struct wl_dns_rr){ .section = WL_DNS_AN, .type = 5 }; /* no data */
	d.answers[3] = (struct wl_dns_rr){ .section = WL_DNS_AN, .type = 5 };
	strcpy(d.answers[3].data, "alias.example");
	n = state_dns_answers(&d, out, sizeof(out));
	assert_string_equal(out, "192.0.2.66, alias.example");
	assert_int_equal(n, strlen(out));
	n = state_dns_answers(&d, small, sizeof(small));
	assert_int_equal(n, sizeof(small) - 1);
	assert_string_equal(small, "192.0.2");
	/* However many answers, the text fits its buffer. */
	d.n_answers = WL_DNS_MAX_ANSWERS;
	for (int i = 0; i < WL_DNS_MAX_ANSWERS; i++) {
		d.answers[i] = (struct wl_dns_rr){ .section = WL_DNS_AN, .type = 16 };
		memset(d.answers[i].data, 'x', 40);
	}
	n = state_dns_answers(&d, out, sizeof(out));
	assert_true(n < sizeof(out));
	assert_int_equal(strlen(out), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fnv_collisions_spread),
		cmocka_unit_test(full_chain_is_capped),
		cmocka_unit_test(dns_query_with_answer_teaches_nothing),
		cmocka_unit_test(dns_response_teaches),
		cmocka_unit_test(rates_by_capture_second),
		cmocka_unit_test(dns_log_newest_first),
		cmocka_unit_test(alerts_newest_first),
		cmocka_unit_test(dns_answers_text),
		cmocka_unit_test(arrival_rates_by_wall_second),
		cmocka_unit_test(flow_alerts_in_the_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
