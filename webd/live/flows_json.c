/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/flows_json.h"

#include "flow-json.h"
#include "live/rows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Joining what webd knows ------------------------------------------------------------ */

void flows_json_country(void *ctx, const struct wl_addr *a, char cc[3])
{
	const struct host *h = state_find_host(ctx, a);

	snprintf(cc, 3, "%s", h ? h->geo.country : "");
}

int flows_json_sensor_index(void *ctx, const char *name)
{
	const struct state *s = ctx;

	for (size_t i = 0; i < s->n_sensors; i++)
		if (strcmp(s->sensors[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void copy_text(char *dst, size_t size, const struct live_flows *t, uint32_t ref)
{
	size_t len;
	const char *text = flows_text(t, ref, &len);

	snprintf(dst, size, "%.*s", (int)len, text);
}

/* A live flow back as a report, for the shared flow JSON writer. */
static void as_record(const struct live_flows *t, const struct live_flow *f, struct wl_flow_record *r)
{
	size_t len;
	const char *name = flows_name(t, f, &len);
	bool ip = f->l3 == WL_L3_IPV4 || f->l3 == WL_L3_IPV6;

	memset(r, 0, sizeof(*r));
	r->id = f->id;
	r->first_us = f->first_us;
	r->last_us = f->last_us;
	memcpy(r->packets, f->packets, sizeof(r->packets));
	memcpy(r->bytes, f->bytes, sizeof(r->bytes));
	r->l3 = f->l3;
	r->ipproto = f->ipproto;
	r->end = f->end;
	r->app = f->app;
	r->flags = f->flags;
	r->ethertype = f->ethertype;
	for (int side = 0; side < 2; side++) {
		r->port[side] = f->port[side];
		r->outer[side] = f->outer[side];
		if (ip)
			r->addr[side] = f->addr[side];
		else
			memcpy(r->mac[side], f->addr[side].b, 6);
	}
	r->n_vlan = f->n_vlan;
	memcpy(r->vlan, f->vlan, sizeof(r->vlan));
	r->icmp_type = f->icmp_type;
	r->icmp_code = f->icmp_code;
	r->icmp_id = f->icmp_id;
	r->tcp = f->tcp;
	memcpy(r->name, name, len < sizeof(r->name) ? len : sizeof(r->name) - 1);
	copy_text(r->ja4, sizeof(r->ja4), t, f->ja4);
	copy_text(r->ja3s, sizeof(r->ja3s), t, f->ja3s);
}

void flows_json_one(struct state *s, const struct live_flow *f, struct text *out)
{
	char buf[WL_JSON_FLOW_MAX + 1024];
	struct wl_flow_record r;
	double secs = (double)(f->last_us - f->first_us) / 1e6;
	long n;
	size_t used;

	as_record(&s->flows, f, &r);
	n = wl_json_flow(&r, s->sensors[f->sensor].name, buf, WL_JSON_FLOW_MAX);
	if (n < 2) {
		out->failed = true;
		return;
	}
	used = (size_t)n - 2; /* the closing "}\n": webd's keys go on */
	used += (size_t)snprintf(buf + used, sizeof(buf) - used,
				 ",\"active\":%s,\"duration\":%.6f,\"rate_bps\":%.0f,\"heard\":%.3f",
				 f->ended ? "false" : "true", secs, flow_sort_value(f, FLOW_SORT_RATE),
				 (double)f->heard_us / 1e6);
	if (f->l3 == WL_L3_IPV4 || f->l3 == WL_L3_IPV6) {
		used = row_put_host(s, &f->addr[0], "a", buf, sizeof(buf), used, NULL);
		used = row_put_host(s, &f->addr[1], "b", buf, sizeof(buf), used, NULL);
	}
	if (used + 2 >= sizeof(buf)) {
		out->failed = true;
		return;
	}
	buf[used++] = '}';
	text_add(out, buf, used);
}

struct flow_join flows_json_join(struct state *s)
{
	return (struct flow_join){ flows_json_country, s };
}

int flows_json_parse(struct state *s, struct flow_query *q, const char *query, char *err, size_t errlen)
{
	return flow_query_parse(q, query, flows_json_sensor_index, s, err, errlen);
}

int flows_json_parse_filters(struct state *s, struct flow_query *q, const char *query, char *err, size_t errlen)
{
	return flow_query_parse_filters(q, query, flows_json_sensor_index, s, err, errlen);
}

void flows_json_page(struct state *s, const struct flow_query *q, struct text *out)
{
	struct flow_join join = flows_json_join(s);
	const struct live_flow **page = malloc((q->limit ? q->limit : 1) * sizeof(*page));
	size_t total = 0;
	long n = page ? flow_query_run(&s->flows, q, &join, page, &total) : -ENOMEM;

	text_add(out, "{\"flows\":[", 10);
	for (long i = 0; i < n; i++) {
		if (i)
			text_add(out, ",", 1);
		flows_json_one(s, page[i], out);
	}
	free(page);
	if (n < 0)
		out->failed = true;
	text_addf(out, "],\"total\":%zu,\"offset\":%zu,\"limit\":%zu,\"sort\":\"%s\",\"order\":\"%s\"", total,
		  q->offset, q->limit, flow_sort_name(q->sort), q->ascending ? "asc" : "desc");
}
