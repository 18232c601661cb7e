/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webd/live/counters.c: capd's counters carried over its restarts, so that
 * what /metrics exports never goes down; and common/seq.h's count of
 * sequences that started over, which tells a fast restart apart.
 */
#include "live/counters.h"
#include "seq.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* capd's "stats" with the figures that matter here (the rest as capd sends it). */
static void observe(struct capd_counters *c, uint64_t seq, uint64_t drops, uint64_t created, uint64_t restarts)
{
	char json[600];
	int n = snprintf(json, sizeof(json),
			 "{\"ts\":1.5,\"seq\":%llu,\"packets\":%llu,\"bytes\":0,\"malformed\":0,"
			 "\"protocols\":{},\"pcap\":{\"recv\":%llu,\"drop\":%llu,\"ifdrop\":0},"
			 "\"published\":{\"messages\":1,\"refused_messages\":0,\"packets\":%llu,"
			 "\"refused_packets\":0},\"flows\":{\"active\":3,\"created\":%llu,\"ended\":0,"
			 "\"evicted\":0,\"seq\":%llu}}",
			 (unsigned long long)seq, (unsigned long long)seq, (unsigned long long)(seq + drops),
			 (unsigned long long)drops, (unsigned long long)seq, (unsigned long long)created,
			 (unsigned long long)created);

	capd_counters_observe_json(c, json, (size_t)n, restarts);
}

static uint64_t total(const struct capd_counters *c, enum capd_counter which)
{
	uint64_t v = 12345;

	assert_true(capd_counters_total(c, which, &v));
	return v;
}

static void test_parse(void **state)
{
	const char *json = "{\"seq\":7,\"packets\":7,\"pcap\":{\"recv\":9,\"drop\":2,\"ifdrop\":1},"
			   "\"published\":{\"refused_packets\":4,\"refused_messages\":1},"
			   "\"flows\":{\"active\":5,\"created\":6,\"ended\":1,\"evicted\":0,\"seq\":3,"
			   "\"refused_reports\":2}}";
	struct capd_sample s;

	(void)state;
	assert_int_equal(capd_sample_parse(json, strlen(json), &s), 0);
	assert_true(s.have[CAPD_KERNEL_DROPS]);
	assert_int_equal(s.value[CAPD_KERNEL_DROPS], 2);
	assert_int_equal(s.value[CAPD_KERNEL_RECEIVED], 9);
	assert_int_equal(s.value[CAPD_INTERFACE_DROPS], 1);
	assert_int_equal(s.value[CAPD_REFUSED_PACKETS], 4);
	assert_int_equal(s.value[CAPD_REFUSED_MESSAGES], 1);
	assert_int_equal(s.value[CAPD_REFUSED_REPORTS], 2);
	assert_int_equal(s.value[CAPD_FLOWS_CREATED], 6);
	assert_int_equal(s.value[CAPD_FLOWS_ENDED], 1);
	assert_true(s.have[CAPD_FLOWS_EVICTED]);
	assert_int_equal(s.value[CAPD_SEQ], 7);
	assert_int_equal(s.value[CAPD_FLOW_SEQ], 3);
	assert_true(s.have_flows_active);
	assert_int_equal(s.flows_active, 5);
	/* Only the length given is read. */
	assert_int_equal(capd_sample_parse(json, 10, &s), -EINVAL);
	assert_int_equal(capd_sample_parse("[1,2]", 5, &s), -EINVAL);
	assert_int_equal(capd_sample_parse("", 0, &s), -EINVAL);
}

/* Not numbers, negative, absurd: absent, never a wrapped-around value. */
static void test_parse_bad_values(void **state)
{
	const char *json = "{\"seq\":-1,\"packets\":\"12\",\"pcap\":{\"drop\":1e30,\"recv\":null,\"ifdrop\":2.5},"
			   "\"flows\":[1,2]}";
	struct capd_sample s;

	(void)state;
	assert_int_equal(capd_sample_parse(json, strlen(json), &s), 0);
	assert_false(s.have[CAPD_SEQ]);
	assert_false(s.have[CAPD_PACKETS]);
	assert_false(s.have[CAPD_KERNEL_DROPS]);
	assert_false(s.have[CAPD_KERNEL_RECEIVED]);
	assert_true(s.have[CAPD_INTERFACE_DROPS]);
	assert_int_equal(s.value[CAPD_INTERFACE_DROPS], 2);
	assert_false(s.have[CAPD_FLOWS_CREATED]);
	assert_false(s.have_flows_active);
}

static void test_follows_one_run(void **state)
{
	struct capd_counters c = { 0 };
	uint64_t v;

	(void)state;
	assert_false(capd_counters_total(&c, CAPD_KERNEL_DROPS, &v));
	observe(&c, 100, 5, 10, 0);
	assert_int_equal(total(&c, CAPD_KERNEL_DROPS), 5);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 10);
	observe(&c, 250, 9, 30, 0);
	assert_int_equal(total(&c, CAPD_KERNEL_DROPS), 9);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 30);
	assert_int_equal(capd_counters_restarts(&c), 0);
	assert_true(c.have_flows_active);
	assert_int_equal(c.flows_active, 3);
}

/* A restart that shows as counters going down: the old run's last word is kept. */
static void test_restart_counters_down(void **state)
{
	struct capd_counters c = { 0 };

	(void)state;
	observe(&c, 1000, 40, 70, 0);
	observe(&c, 20, 1, 2, 0); /* a new capd, a second old */
	assert_int_equal(total(&c, CAPD_KERNEL_DROPS), 41);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 72);
	assert_int_equal(total(&c, CAPD_KERNEL_RECEIVED), 1040 + 21);
	observe(&c, 500, 30, 50, 0);
	assert_int_equal(total(&c, CAPD_KERNEL_DROPS), 70);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 120);
	assert_int_equal(capd_counters_restarts(&c), 1);
}

/*
 * A restart whose new run counted past the old one before its first stats
 * (a replay of the same file, a busy link): nothing went down, but webd saw
 * the packet numbers start over. Without that signal this would export 70
 * for 140 flows.
 */
static void test_restart_seen_by_sequence(void **state)
{
	struct capd_counters c = { 0 };

	(void)state;
	observe(&c, 136, 3, 70, 0);
	observe(&c, 136, 3, 70, 1);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 140);
	assert_int_equal(total(&c, CAPD_KERNEL_DROPS), 6);
	assert_int_equal(capd_counters_restarts(&c), 1);
	/* The same count of restarts again: the same run. */
	observe(&c, 200, 4, 90, 1);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 160);
	assert_int_equal(capd_counters_restarts(&c), 1);
}

/* libpcap's 32-bit counters wrap around within a run: 2^32 more, not a restart. */
static void test_pcap_wraps(void **state)
{
	struct capd_counters c = { 0 };
	uint64_t near = ((uint64_t)1 << 32) - 10;

	(void)state;
	observe(&c, 1000, near, 5, 0);
	observe(&c, 2000, 15, 6, 0);
	assert_int_equal(total(&c, CAPD_KERNEL_DROPS), ((uint64_t)1 << 32) + 15);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 6);
	assert_int_equal(capd_counters_restarts(&c), 0);
}

/*
 * A quiet capd restarts: it published nothing in either run (seq and flows
 * stay 0), but the kernel had dropped packets. The fall from 5 to 0 is a
 * new run, not a wrap-around worth 2^32.
 */
static void test_restart_quiet(void **state)
{
	struct capd_counters c = { 0 };

	(void)state;
	observe(&c, 0, 5, 0, 0);
	observe(&c, 0, 0, 0, 0);
	assert_int_equal(total(&c, CAPD_KERNEL_DROPS), 5);
	assert_int_equal(capd_counters_restarts(&c), 1);
	observe(&c, 0, 2, 0, 0);
	assert_int_equal(total(&c, CAPD_KERNEL_DROPS), 7);
}

/* A counter capd stops sending (flows turned off) keeps its value; a new run banks it. */
static void test_absent_counter(void **state)
{
	struct capd_counters c = { 0 };
	const char *no_flows = "{\"seq\":300,\"packets\":300,\"pcap\":{\"recv\":300,\"drop\":0,\"ifdrop\":0}}";
	const char *restarted = "{\"seq\":5,\"packets\":5,\"pcap\":{\"recv\":5,\"drop\":0,\"ifdrop\":0}}";

	(void)state;
	observe(&c, 200, 0, 50, 0);
	capd_counters_observe_json(&c, no_flows, strlen(no_flows), 0);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 50);
	assert_false(c.have_flows_active);
	capd_counters_observe_json(&c, restarted, strlen(restarted), 0);
	assert_int_equal(capd_counters_restarts(&c), 1);
	observe(&c, 10, 0, 4, 0);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 54);
	/* Not JSON: nothing changes. */
	capd_counters_observe_json(&c, "{\"seq\":", 7, 9);
	assert_int_equal(total(&c, CAPD_FLOWS_CREATED), 54);
	assert_int_equal(capd_counters_restarts(&c), 1);
}

/*
 * Runs of random lengths, restarts seen either way, random observation
 * points: the exported value never goes down and always equals what every
 * run counted up to its last observation, plus the current run.
 */
static void test_never_goes_down(void **state)
{
	struct capd_counters c = { 0 };
	uint64_t rng = 0x9e3779b97f4a7c15u, banked = 0, prev = 0, restarts = 0;

	(void)state;
	for (int run = 0; run < 200; run++) {
		uint64_t value = 0, seq = 0, seen = 0;
		int steps;

		rng = rng * 6364136223846793005u + 1442695040888963407u;
		steps = 1 + (int)(rng >> 60);
		if (run > 0 && (rng >> 33) % 2)
			restarts++; /* webd saw the numbers start over; otherwise only the counters show it */
		for (int i = 0; i < steps; i++) {
			rng = rng * 6364136223846793005u + 1442695040888963407u;
			value += (rng >> 40) % 1000;
			seq += 1 + (rng >> 20) % 5000;
			/* The run's first sample counts below the last one's, unless the sequence said. */
			if (i == 0 && run > 0 && restarts == c.seq_restarts && seq >= c.last[CAPD_SEQ])
				seq = c.last[CAPD_SEQ] ? c.last[CAPD_SEQ] - 1 : 0;
			observe(&c, seq, value, value, restarts);
			seen = value;
			assert_true(total(&c, CAPD_FLOWS_CREATED) >= prev);
			prev = total(&c, CAPD_FLOWS_CREATED);
			assert_int_equal(prev, banked + seen);
		}
		banked += seen;
	}
	assert_int_equal(capd_counters_restarts(&c), 199);
}

/* common/seq.h: a number not above the last one is a restart, not a loss. */
static void test_seq_restarts(void **state)
{
	struct wl_seq s = { 0 };

	(void)state;
	wl_seq_packet(&s, 1);
	wl_seq_packet(&s, 2);
	wl_seq_packet(&s, 5);
	assert_int_equal(s.gaps, 1);
	assert_int_equal(s.missed, 2);
	assert_int_equal(s.restarts, 0);
	wl_seq_packet(&s, 1); /* capd started over */
	assert_int_equal(s.restarts, 1);
	assert_int_equal(s.missed, 2);
	wl_seq_packet(&s, 2);
	assert_int_equal(s.restarts, 1);
}

/*
 * A subscriber that joined late hears "stats" before any packet: it takes
 * their number as its last, so that a new run's first packet (numbered
 * from 1) shows as a restart, and a later gap of this run is counted.
 */
static void test_seq_late_join(void **state)
{
	struct wl_seq s = { 0 }, t = { 0 };

	(void)state;
	assert_int_equal(wl_seq_sent(&s, 136), 0); /* nothing seen yet: no loss counted */
	assert_int_equal(s.gaps, 0);
	wl_seq_packet(&s, 1);
	assert_int_equal(s.restarts, 1);
	assert_int_equal(s.gaps, 0);

	wl_seq_sent(&t, 136);
	wl_seq_packet(&t, 140);
	assert_int_equal(t.gaps, 1);
	assert_int_equal(t.missed, 3);
	assert_int_equal(t.restarts, 0);
	/* Stats of the run that are behind the packets change nothing. */
	wl_seq_sent(&t, 139);
	assert_int_equal(t.last, 140);
	assert_int_equal(wl_seq_sent(&t, 142), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad_values),
		cmocka_unit_test(test_follows_one_run),
		cmocka_unit_test(test_restart_counters_down),
		cmocka_unit_test(test_restart_seen_by_sequence),
		cmocka_unit_test(test_pcap_wraps),
		cmocka_unit_test(test_restart_quiet),
		cmocka_unit_test(test_absent_counter),
		cmocka_unit_test(test_never_goes_down),
		cmocka_unit_test(test_seq_restarts),
		cmocka_unit_test(test_seq_late_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
