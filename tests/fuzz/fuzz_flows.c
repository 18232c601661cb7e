/* SPDX-License-Identifier: BSD-2-Clause */
#include "fuzz_flows.h"

#include "flow-json.h"
#include "flow.h"
#include "fuzz_checks.h"
#include "wlite-wire.h"

#include <string.h>

#define FUZZ_MAX_FLOWS 64

struct fuzz_flows {
	struct flow_table *table;
	uint64_t clock_us, inputs;
};

static void check_round_trip(const struct wl_flow_record *rec)
{
	static uint8_t msg[WL_WIRE_BATCH_HEADER + WL_FLOW_RECORD_MAX];
	static struct wl_flow_record back;
	struct wl_wire_reader r;
	long n = wl_wire_put_flow(msg + WL_WIRE_BATCH_HEADER, WL_FLOW_RECORD_MAX, rec);

	CHECK(n > 0 && n <= WL_FLOW_RECORD_MAX);
	wl_wire_put_batch_header(msg, 1, 0);
	CHECK(wl_wire_reader_init(&r, msg, WL_WIRE_BATCH_HEADER + (size_t)n) == 0);
	CHECK(wl_wire_next_flow(&r, &back) == 1);
	CHECK(back.id == rec->id && back.packets[0] == rec->packets[0] && back.bytes[1] == rec->bytes[1]);
	CHECK(back.end == rec->end && back.first_us == rec->first_us && back.last_us == rec->last_us);
	CHECK(strcmp(back.name, rec->name) == 0);
	CHECK(strcmp(back.ja4, rec->ja4) == 0 && strcmp(back.ja3s, rec->ja3s) == 0);
	CHECK(wl_wire_next_flow(&r, &back) == 0);
}

static void check_report(void *ctx, const struct wl_flow_record *rec)
{
	static char json[WL_JSON_FLOW_MAX];
	struct flow_stats st;

	flow_table_stats(((struct fuzz_flows *)ctx)->table, &st);
	CHECK(rec->id >= 1 && rec->id <= st.created);
	CHECK(rec->end < WL_FLOW_END__MAX);
	CHECK(rec->packets[0] >= 1); /* side a sent the first packet */
	CHECK(rec->last_us >= rec->first_us);
	CHECK(memchr(rec->name, '\0', sizeof(rec->name)) != NULL);
	CHECK(memchr(rec->ja4, '\0', sizeof(rec->ja4)) != NULL);
	CHECK(memchr(rec->ja3s, '\0', sizeof(rec->ja3s)) != NULL);
	CHECK(!(rec->flags & WL_FLOW_TCP) || rec->tcp.state < WL_TCP_STATE__MAX);
	CHECK(rec->n_vlan <= WL_FLOW_VLAN_MAX);
	CHECK(wl_json_flow(rec, NULL, json, sizeof(json)) > 0);
	check_round_trip(rec);
}

static struct fuzz_flows *state(void)
{
	static struct fuzz_flows f;
	struct flow_config cfg;
	int err;

	if (f.table)
		return &f;
	flow_config_default(&cfg);
	cfg.max_flows = FUZZ_MAX_FLOWS;
	cfg.active_s = 5;
	for (int c = 0; c < FLOW_CLASS__MAX; c++)
		cfg.idle_s[c] = 1 + (uint32_t)c;
	f.table = flow_table_new(&cfg, check_report, &f, &err);
	CHECK(f.table != NULL);
	return &f;
}

void wl_fuzz_flows(struct wl_packet *pkt)
{
	struct fuzz_flows *f = state();
	struct flow_stats st;

	/* 10 ms a packet, and now and then a jump past every timeout, or back. */
	f->inputs++;
	f->clock_us += 10000;
	if ((f->inputs & 0xff) == 0)
		f->clock_us += 100000000;
	pkt->ts_sec = (int64_t)(f->clock_us / 1000000);
	pkt->ts_usec = (uint32_t)(f->clock_us % 1000000);
	if ((f->inputs & 0x3ff) == 0x200)
		pkt->ts_sec -= 50;
	flow_table_packet(f->table, pkt);
	if ((f->inputs & 0x3f) == 0)
		flow_table_expire(f->table, (int64_t)f->clock_us);
	flow_table_stats(f->table, &st);
	CHECK(st.active <= FUZZ_MAX_FLOWS);
	CHECK(st.created == st.active + st.ended);
}
