/* SPDX-License-Identifier: BSD-2-Clause */
#include "history/history_flows.h"

#include "flow-json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const columns[HF__N] = {
	[HF_ID] = "id",
	[HF_SENSOR] = "sensor",
	[HF_FLOW_ID] = "flow_id",
	[HF_FIRST] = "first",
	[HF_LAST] = "last",
	[HF_HEARD] = "heard",
	[HF_ENDED] = "ended",
	[HF_END] = "end_reason",
	[HF_L3] = "l3",
	[HF_IPPROTO] = "ipproto",
	[HF_FLAGS] = "flags",
	[HF_ETHERTYPE] = "ethertype",
	[HF_A] = "a",
	[HF_B] = "b",
	[HF_A_PORT] = "a_port",
	[HF_B_PORT] = "b_port",
	[HF_APP] = "app",
	[HF_NAME] = "name",
	[HF_A_PACKETS] = "a_packets",
	[HF_A_BYTES] = "a_bytes",
	[HF_B_PACKETS] = "b_packets",
	[HF_B_BYTES] = "b_bytes",
	[HF_PACKETS] = "packets",
	[HF_BYTES] = "bytes",
	[HF_TCP_STATE] = "tcp_state",
	[HF_RTT] = "rtt",
	[HF_RETRANS] = "retransmissions",
	[HF_A_TCP_FLAGS] = "a_tcp_flags",
	[HF_B_TCP_FLAGS] = "b_tcp_flags",
	[HF_A_RETRANS] = "a_retransmissions",
	[HF_B_RETRANS] = "b_retransmissions",
	[HF_A_OUT_OF_ORDER] = "a_out_of_order",
	[HF_B_OUT_OF_ORDER] = "b_out_of_order",
	[HF_A_DUP_ACKS] = "a_dup_acks",
	[HF_B_DUP_ACKS] = "b_dup_acks",
	[HF_A_ZERO_WINDOWS] = "a_zero_windows",
	[HF_B_ZERO_WINDOWS] = "b_zero_windows",
	[HF_RESETS] = "resets",
	[HF_VLAN0] = "vlan0",
	[HF_VLAN1] = "vlan1",
	[HF_OUTER_A] = "outer_a",
	[HF_OUTER_B] = "outer_b",
	[HF_ICMP_TYPE] = "icmp_type",
	[HF_ICMP_CODE] = "icmp_code",
	[HF_ICMP_ID] = "icmp_id",
	[HF_A_COUNTRY] = "a_country",
	[HF_B_COUNTRY] = "b_country",
	[HF_HOSTS] = "hosts",
	[HF_RECORD] = "record",
	[HF_NAME_ID] = "name_id",
};

/* snprintf that stops at the end of buf: returns the new length, size when it did not fit. */
static size_t append(char *buf, size_t size, size_t used, const char *a, const char *b)
{
	int n;

	if (used >= size)
		return size;
	n = snprintf(buf + used, size - used, "%s%s", a, b);
	return n < 0 || (size_t)n >= size - used ? size : used + (size_t)n;
}

size_t history_flows_columns(char *buf, size_t size, const char *prefix)
{
	size_t used = 0;

	for (int c = 0; c < HF__N; c++) {
		used = append(buf, size, used, c ? ", " : "", prefix);
		used = append(buf, size, used, columns[c], "");
	}
	return used;
}

size_t history_flows_upsert_sql(char *buf, size_t size)
{
	size_t used = append(buf, size, 0, "INSERT INTO flows(", "");
	char param[16];

	for (int c = HF_SENSOR; c < HF__N; c++)
		used = append(buf, size, used, c > HF_SENSOR ? ", " : "", columns[c]);
	used = append(buf, size, used, ") VALUES(", "");
	for (int c = HF_SENSOR; c < HF__N; c++) {
		snprintf(param, sizeof(param), "?%d", c);
		used = append(buf, size, used, c > HF_SENSOR ? ", " : "", param);
	}
	/*
	 * The key's columns stay; every other one takes the newer report's
	 * value. A late active report (they can cross an end on the wire)
	 * changes nothing, as in the live table.
	 */
	used = append(buf, size, used, ") ON CONFLICT(sensor, flow_id, first) DO UPDATE SET ", "");
	for (int c = HF_LAST; c < HF__N; c++) {
		used = append(buf, size, used, c > HF_LAST ? ", " : "", columns[c]);
		used = append(buf, size, used, " = excluded.", columns[c]);
	}
	return append(buf, size, used, " WHERE excluded.last >= flows.last AND (excluded.ended OR NOT flows.ended)", "");
}

/* ---- Binding a report ---------------------------------------------------------------- */

static void bind_u64_or_null(sqlite3_stmt *st, int col, bool present, uint64_t v)
{
	if (present)
		sqlite3_bind_int64(st, col, (int64_t)v);
	else
		sqlite3_bind_null(st, col);
}

static void bind_ip(sqlite3_stmt *st, int col, const struct wl_addr *a)
{
	if (a->family == 4 || a->family == 6)
		sqlite3_bind_blob(st, col, a->b, a->family == 4 ? 4 : 16, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *s, size_t n)
{
	if (n)
		sqlite3_bind_text(st, col, s, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

static void bind_tcp(sqlite3_stmt *st, const struct wl_flow_record *r)
{
	bool tcp = r->flags & WL_FLOW_TCP;
	const struct wl_flow_tcp *t = &r->tcp;
	const uint32_t *sides[] = { t->retransmissions, t->out_of_order, t->dup_acks, t->zero_windows };

	bind_u64_or_null(st, HF_TCP_STATE, tcp, t->state);
	bind_u64_or_null(st, HF_RTT, tcp && t->rtt_us != UINT32_MAX, t->rtt_us);
	bind_u64_or_null(st, HF_RETRANS, tcp, (uint64_t)t->retransmissions[0] + t->retransmissions[1]);
	bind_u64_or_null(st, HF_A_TCP_FLAGS, tcp, t->flags[0]);
	bind_u64_or_null(st, HF_B_TCP_FLAGS, tcp, t->flags[1]);
	for (int i = 0; i < 4; i++) {
		bind_u64_or_null(st, HF_A_RETRANS + 2 * i, tcp, sides[i][0]);
		bind_u64_or_null(st, HF_B_RETRANS + 2 * i, tcp, sides[i][1]);
	}
	bind_u64_or_null(st, HF_RESETS, tcp, t->resets);
}

static void bind_extras(sqlite3_stmt *st, const struct wl_flow_record *r)
{
	bool icmp = r->flags & WL_FLOW_ICMP, outer = r->flags & WL_FLOW_OUTER;

	bind_u64_or_null(st, HF_VLAN0, r->n_vlan > 0, r->vlan[0]);
	bind_u64_or_null(st, HF_VLAN1, r->n_vlan > 1, r->vlan[1]);
	if (outer) {
		bind_ip(st, HF_OUTER_A, &r->outer[0]);
		bind_ip(st, HF_OUTER_B, &r->outer[1]);
	} else {
		sqlite3_bind_null(st, HF_OUTER_A);
		sqlite3_bind_null(st, HF_OUTER_B);
	}
	bind_u64_or_null(st, HF_ICMP_TYPE, icmp, r->icmp_type);
	bind_u64_or_null(st, HF_ICMP_CODE, icmp, r->icmp_code);
	bind_u64_or_null(st, HF_ICMP_ID, icmp && (r->flags & WL_FLOW_ECHO), r->icmp_id);
}

/* The report as a wire batch of one record, or NULL if it does not fit. */
static void bind_record(sqlite3_stmt *st, const struct wl_flow_record *r, int64_t heard_us, uint8_t *buf,
			size_t size)
{
	long n = size > WL_WIRE_BATCH_HEADER ? wl_wire_put_flow(buf + WL_WIRE_BATCH_HEADER, size - WL_WIRE_BATCH_HEADER, r)
					     : -ENOBUFS;

	if (n < 0) {
		sqlite3_bind_null(st, HF_RECORD);
		return;
	}
	wl_wire_put_batch_header(buf, 1, (uint64_t)heard_us);
	sqlite3_bind_blob(st, HF_RECORD, buf, WL_WIRE_BATCH_HEADER + (int)n, SQLITE_STATIC);
}

void history_flows_bind(sqlite3_stmt *st, const struct hist_flow *f, const uint8_t *hosts, int64_t sensor_id,
			int64_t name_id, uint8_t *record, size_t size)
{
	const struct wl_flow_record *r = &f->rec;
	bool ip = r->l3 == WL_L3_IPV4 || r->l3 == WL_L3_IPV6, ports = r->flags & WL_FLOW_PORTS;

	sqlite3_bind_int64(st, HF_SENSOR, sensor_id);
	sqlite3_bind_int64(st, HF_FLOW_ID, (int64_t)r->id);
	sqlite3_bind_int64(st, HF_FIRST, r->first_us);
	sqlite3_bind_int64(st, HF_LAST, r->last_us);
	sqlite3_bind_int64(st, HF_HEARD, f->heard_us);
	sqlite3_bind_int(st, HF_ENDED, r->end != WL_FLOW_ACTIVE);
	sqlite3_bind_int(st, HF_END, r->end);
	sqlite3_bind_int(st, HF_L3, r->l3);
	sqlite3_bind_int(st, HF_IPPROTO, r->ipproto);
	sqlite3_bind_int(st, HF_FLAGS, r->flags);
	sqlite3_bind_int(st, HF_ETHERTYPE, r->ethertype);
	for (int side = 0; side < 2; side++) {
		/* An IP flow's addresses, or a non-IP flow's MACs (6 bytes: never taken for an address). */
		if (ip)
			bind_ip(st, HF_A + side, &r->addr[side]);
		else
			sqlite3_bind_blob(st, HF_A + side, r->mac[side], 6, SQLITE_STATIC);
		bind_u64_or_null(st, HF_A_PORT + side, ports, r->port[side]);
		sqlite3_bind_int64(st, HF_A_PACKETS + 2 * side, (int64_t)r->packets[side]);
		sqlite3_bind_int64(st, HF_A_BYTES + 2 * side, (int64_t)r->bytes[side]);
		bind_text_or_null(st, HF_A_COUNTRY + side, f->country[side], strnlen(f->country[side], 2));
	}
	sqlite3_bind_int(st, HF_APP, r->app);
	bind_text_or_null(st, HF_NAME, r->name, strnlen(r->name, sizeof(r->name)));
	bind_u64_or_null(st, HF_NAME_ID, name_id > 0, (uint64_t)name_id);
	sqlite3_bind_int64(st, HF_PACKETS, (int64_t)(r->packets[0] + r->packets[1]));
	sqlite3_bind_int64(st, HF_BYTES, (int64_t)(r->bytes[0] + r->bytes[1]));
	bind_tcp(st, r);
	bind_extras(st, r);
	bind_text_or_null(st, HF_HOSTS, (const char *)hosts, f->hosts_len);
	bind_record(st, r, f->heard_us, record, size);
}

/* ---- Reading a row back ------------------------------------------------------------------ */

static uint64_t col_u64(sqlite3_stmt *st, int col0, int c)
{
	return (uint64_t)sqlite3_column_int64(st, col0 + c);
}

static bool col_null(sqlite3_stmt *st, int col0, int c)
{
	return sqlite3_column_type(st, col0 + c) == SQLITE_NULL;
}

static void col_ip(sqlite3_stmt *st, int col0, int c, struct wl_addr *ret)
{
	int n = sqlite3_column_bytes(st, col0 + c);
	const void *b = sqlite3_column_blob(st, col0 + c);

	memset(ret, 0, sizeof(*ret));
	if (b && (n == 4 || n == 16)) {
		ret->family = n == 4 ? 4 : 6;
		memcpy(ret->b, b, (size_t)n);
	}
}

static void read_tcp(sqlite3_stmt *st, int col0, struct wl_flow_tcp *t)
{
	uint32_t *sides[] = { t->retransmissions, t->out_of_order, t->dup_acks, t->zero_windows };

	t->state = (uint8_t)col_u64(st, col0, HF_TCP_STATE);
	t->rtt_us = col_null(st, col0, HF_RTT) ? UINT32_MAX : (uint32_t)col_u64(st, col0, HF_RTT);
	t->flags[0] = (uint16_t)col_u64(st, col0, HF_A_TCP_FLAGS);
	t->flags[1] = (uint16_t)col_u64(st, col0, HF_B_TCP_FLAGS);
	for (int i = 0; i < 4; i++) {
		sides[i][0] = (uint32_t)col_u64(st, col0, HF_A_RETRANS + 2 * i);
		sides[i][1] = (uint32_t)col_u64(st, col0, HF_B_RETRANS + 2 * i);
	}
	t->resets = (uint32_t)col_u64(st, col0, HF_RESETS);
}

static void read_ends(sqlite3_stmt *st, int col0, struct wl_flow_record *r)
{
	bool ip = r->l3 == WL_L3_IPV4 || r->l3 == WL_L3_IPV6;

	for (int side = 0; side < 2; side++) {
		if (ip) {
			col_ip(st, col0, HF_A + side, &r->addr[side]);
		} else if (sqlite3_column_bytes(st, col0 + HF_A + side) == 6) {
			memcpy(r->mac[side], sqlite3_column_blob(st, col0 + HF_A + side), 6);
		}
		r->port[side] = (uint16_t)col_u64(st, col0, HF_A_PORT + side);
		r->packets[side] = col_u64(st, col0, HF_A_PACKETS + 2 * side);
		r->bytes[side] = col_u64(st, col0, HF_A_BYTES + 2 * side);
		if (r->flags & WL_FLOW_OUTER)
			col_ip(st, col0, HF_OUTER_A + side, &r->outer[side]);
	}
}

/* The record column, when it holds one report this webd can read. */
static bool read_record(sqlite3_stmt *st, int col0, struct wl_flow_record *r)
{
	const uint8_t *blob = sqlite3_column_blob(st, col0 + HF_RECORD);
	struct wl_wire_reader rd;

	return blob && wl_wire_reader_init(&rd, blob, (size_t)sqlite3_column_bytes(st, col0 + HF_RECORD)) == 0 &&
	       wl_wire_next_flow(&rd, r) == 1;
}

void history_flows_record(sqlite3_stmt *st, int col0, struct wl_flow_record *r)
{
	const unsigned char *name = sqlite3_column_text(st, col0 + HF_NAME);

	memset(r, 0, sizeof(*r));
	if (read_record(st, col0, r))
		return;
	memset(r, 0, sizeof(*r));
	r->id = col_u64(st, col0, HF_FLOW_ID);
	r->first_us = sqlite3_column_int64(st, col0 + HF_FIRST);
	r->last_us = sqlite3_column_int64(st, col0 + HF_LAST);
	r->end = (uint8_t)col_u64(st, col0, HF_END);
	r->l3 = (uint8_t)col_u64(st, col0, HF_L3);
	r->ipproto = (uint8_t)col_u64(st, col0, HF_IPPROTO);
	r->flags = (uint8_t)col_u64(st, col0, HF_FLAGS);
	r->ethertype = (uint16_t)col_u64(st, col0, HF_ETHERTYPE);
	r->app = (uint8_t)col_u64(st, col0, HF_APP);
	read_ends(st, col0, r);
	r->n_vlan = (uint8_t)(!col_null(st, col0, HF_VLAN0) + !col_null(st, col0, HF_VLAN1));
	r->vlan[0] = (uint16_t)col_u64(st, col0, HF_VLAN0);
	r->vlan[1] = (uint16_t)col_u64(st, col0, HF_VLAN1);
	r->icmp_type = (uint8_t)col_u64(st, col0, HF_ICMP_TYPE);
	r->icmp_code = (uint8_t)col_u64(st, col0, HF_ICMP_CODE);
	r->icmp_id = (uint16_t)col_u64(st, col0, HF_ICMP_ID);
	if (r->flags & WL_FLOW_TCP)
		read_tcp(st, col0, &r->tcp);
	if (name)
		snprintf(r->name, sizeof(r->name), "%s", (const char *)name);
}

long history_flows_json(sqlite3_stmt *st, int col0, const char *sensor, char *buf, size_t size)
{
	struct wl_flow_record r;
	const unsigned char *hosts = sqlite3_column_text(st, col0 + HF_HOSTS);
	size_t hosts_len = hosts ? (size_t)sqlite3_column_bytes(st, col0 + HF_HOSTS) : 0, used;
	double secs, bytes;
	long n;
	int k;

	history_flows_record(st, col0, &r);
	n = wl_json_flow(&r, sensor, buf, size < WL_JSON_FLOW_MAX ? size : WL_JSON_FLOW_MAX);
	if (n < 2)
		return -ENOBUFS;
	used = (size_t)n - 2; /* the closing "}\n": webd's keys go on, as for a live flow */
	secs = (double)(r.last_us - r.first_us) / 1e6;
	bytes = (double)(r.bytes[0] + r.bytes[1]);
	/* The rate as /api/flows reckons it: a single packet counts as a millisecond's worth. */
	k = snprintf(buf + used, size - used, ",\"active\":%s,\"duration\":%.6f,\"rate_bps\":%.0f,\"heard\":%.3f",
		     r.end == WL_FLOW_ACTIVE ? "true" : "false", secs, bytes * 8 / (secs > 0.001 ? secs : 0.001),
		     (double)sqlite3_column_int64(st, col0 + HF_HEARD) / 1e6);
	if (k < 0 || (size_t)k >= size - used)
		return -ENOBUFS;
	used += (size_t)k;
	/* Written by rows.c's row_put_host when the report arrived: ",\"a_country\":...". */
	if (hosts_len && hosts[0] == ',' && hosts_len < size - used) {
		memcpy(buf + used, hosts, hosts_len);
		used += hosts_len;
	}
	if (used + 1 >= size)
		return -ENOBUFS;
	buf[used++] = '}';
	buf[used] = '\0';
	return (long)used;
}
