/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The low-rate JSON events: "stats" once a second, "status" on every change
 * and once a second, so that a subscriber joining late learns the state.
 */
#include "capd.h"

#include "log.h"
#include "version.h"
#include "wlite-wire.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <time.h>

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void add_u64(cJSON *obj, const char *key, uint64_t v)
{
	cJSON_AddNumberToObject(obj, key, (double)v);
}

static cJSON *protocols_json(const struct capd_counters *c)
{
	cJSON *protos = cJSON_CreateObject();

	for (int p = 0; p < WL_P__MAX; p++)
		if (c->by_proto[p])
			add_u64(protos, wl_proto_name((enum wl_proto)p), c->by_proto[p]);
	return protos;
}

/* --publish-flows: what went out on the flows-only socket, and its send buffer. */
static void flows_only_json(const struct publisher *p, cJSON *root)
{
	cJSON *o = cJSON_AddObjectToObject(root, "publish_flows"), *sndbuf;

	add_u64(o, "messages", p->flows_only.msgs_sent);
	add_u64(o, "refused_messages", p->flows_only.msgs_refused);
	add_u64(o, "reports", p->flows_only.reports_sent);
	add_u64(o, "refused_reports", p->flows_only.reports_refused);
	sndbuf = cJSON_AddObjectToObject(o, "sndbuf");
	cJSON_AddNumberToObject(sndbuf, "asked", p->flows_only.sndbuf_asked);
	if (p->flows_only.sndbuf_effective >= 0)
		cJSON_AddNumberToObject(sndbuf, "effective", p->flows_only.sndbuf_effective);
}

char *capd_stats_json(const struct capd *d)
{
	struct capture_stats ps;
	cJSON *root = cJSON_CreateObject(), *pcap, *pub, *sndbuf;
	char *text;

	capture_stats(&d->cap, &ps);
	cJSON_AddNumberToObject(root, "ts", wall_now());
	add_u64(root, "seq", d->seq);
	add_u64(root, "packets", d->count.packets);
	add_u64(root, "bytes", d->count.bytes);
	add_u64(root, "malformed", d->count.malformed);
	add_u64(root, "loopback_skipped", d->count.loopback_skipped);
	cJSON_AddItemToObject(root, "protocols", protocols_json(&d->count));
	pcap = cJSON_AddObjectToObject(root, "pcap");
	add_u64(pcap, "recv", ps.recv);
	add_u64(pcap, "drop", ps.drop);
	add_u64(pcap, "ifdrop", ps.ifdrop);
	pub = cJSON_AddObjectToObject(root, "published");
	add_u64(pub, "messages", d->pub.msgs_sent);
	add_u64(pub, "refused_messages", d->pub.msgs_refused);
	add_u64(pub, "packets", d->pub.pkts_sent);
	add_u64(pub, "refused_packets", d->pub.pkts_refused);
	/* What the publish socket asked for, and what the kernel granted (see publish.c). */
	sndbuf = cJSON_AddObjectToObject(root, "sndbuf");
	cJSON_AddNumberToObject(sndbuf, "asked", d->pub.sndbuf_asked);
	if (d->pub.sndbuf_effective >= 0)
		cJSON_AddNumberToObject(sndbuf, "effective", d->pub.sndbuf_effective);
	if (d->pub.flows_only.sock >= 0)
		flows_only_json(&d->pub, root);
	capd_flows_stats_json(d, root);
	capd_quic_stats_json(d, root);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

char *capd_status_json(const struct capd *d)
{
	cJSON *root = cJSON_CreateObject();
	char *text;

	cJSON_AddNumberToObject(root, "ts", wall_now());
	cJSON_AddStringToObject(root, "version", WLITE_VERSION);
	cJSON_AddNumberToObject(root, "wire_version", 1);
	cJSON_AddStringToObject(root, "source", d->cap.live ? "interface" : "file");
	cJSON_AddStringToObject(root, d->cap.live ? "interface" : "file", d->cap.source);
	cJSON_AddStringToObject(root, "filter", d->cap.filter);
	cJSON_AddNumberToObject(root, "linktype", d->cap.linktype);
	cJSON_AddBoolToObject(root, "paused", d->paused);
	cJSON_AddBoolToObject(root, "finished", d->eof);
	if (!d->cap.live)
		cJSON_AddNumberToObject(root, "speed", d->opt.speed);
	cJSON_AddNumberToObject(root, "snaplen", d->opt.snaplen);
	cJSON_AddBoolToObject(root, "flows", d->flows != NULL);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

void capd_publish_status(struct capd *d)
{
	char *json = capd_status_json(d);

	if (json)
		publisher_event(&d->pub, WL_TOPIC_STATUS, json);
	free(json);
}

void capd_tick(evutil_socket_t fd, short what, void *arg)
{
	struct capd *d = arg;
	char *json;

	capd_flows_tick(d);
	/* Packets of a quiet interface may wait for the next pcap timeout. */
	publisher_flush(&d->pub);
	json = capd_stats_json(d);
	if (json)
		publisher_event(&d->pub, WL_TOPIC_STATS, json);
	free(json);
	capd_publish_status(d);
}
