/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Alerts from flows: scans, SYN floods and retransmissions (live/alert.h
 * names the kinds). Each is an episode like the flood alert: raised once
 * when its figure passes the threshold within the window, open while it
 * stays above, cleared when it falls back, and not raised again for the
 * same address (or pair) before the cooldown has passed.
 *
 *   port_scan   one address opened flows to more than scan_ports distinct
 *               destination ports (protocol and port) within the window
 *   host_scan   ... or to more than scan_hosts distinct unicast hosts
 *   syn_flood   more than syn_flood_flows TCP flows to one address ended
 *               half-open (SYN, or SYN and SYN/ACK, and nothing more)
 *   retransmissions
 *               a TCP flow of at least retrans_packets packets, more than
 *               retrans_percent of them retransmissions; one episode per
 *               pair of addresses, open while such flows keep coming
 *
 * Where each comes from, and how late:
 *   - scans count the flows an address opens. When the sensor sends
 *     packets, a flow is counted at its first packet (the first packet that
 *     carries a flow id above every id seen before: capd numbers flows in
 *     order), so a scan alerts as it happens. When it sends only flow
 *     reports (capd --publish-flows: a sensor on another host), a flow is
 *     counted at its first report: when it ends or at its first active
 *     timeout, so up to capd's idle timeout later (60 s for a probe answered
 *     by a RST, 30 s for one left unanswered, by default).
 *   - SYN floods count half-open flows as their reports come: capd ends one
 *     after --flow-idle-tcp-syn (30 s) without a packet, so the alert comes
 *     that long after the flood began.
 *   - retransmissions judge each report (active or final) of a TCP flow:
 *     at the latest, capd's active timeout (60 s) after the flow began.
 *
 * Who opened a flow is who sent its first packet; a TCP flow counts for a
 * scan only when that packet had no ACK (a SYN, or a FIN, NULL or Xmas
 * probe): capd may have joined a connection mid-stream, and then the first
 * packet it saw could be the server's.
 *
 * Time is the capture's clock, as for the flood alert: a packet counts at
 * its capture second, a report at the state's clock when it arrives.
 *
 * Bounded whatever the traffic: one table of (detector, address[, peer])
 * entries, at most `tracked`, under a random SipHash key, hash chains of at
 * most FLOW_ALERTS_CHAIN_MAX, the least recently used entry making room
 * (counted; an open episode it held is cleared then). Distinct ports and
 * hosts are counted in fixed-size bitmaps (linear counting, 512 bits per
 * part of the window, elements placed by the keyed hash): a scanner cannot
 * grow them, nor aim its probes at the same bits. The count is an estimate,
 * within a few percent up to FLOW_ALERTS_SCAN_MAX. The window is kept in
 * parts of window/3 seconds (rounded up), three whole ones and the current
 * one, so an event counts for at least the window and at most four parts.
 *
 * Not thread-safe: the caller holds the state lock.
 */
#ifndef WEBD_FLOW_ALERTS_H
#define WEBD_FLOW_ALERTS_H

#include "live/alert.h"
#include "sensors.h"
#include "siphash.h"
#include "wlite-proto.h"
#include "wlite-wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_ALERTS_SCAN_MAX 1000      /* the highest scan threshold the bitmaps count well */
#define FLOW_ALERTS_WINDOW_MAX 3600
#define FLOW_ALERTS_TRACKED_DEFAULT 8192
#define FLOW_ALERTS_TRACKED_MAX (1u << 22)
#define FLOW_ALERTS_CHAIN_MAX 16
#define FLOW_ALERTS_PARTS 4            /* of the window: three whole ones and the current one */
#define FLOW_ALERTS_SKETCH_WORDS 8     /* 512 bits */
/* A sensor that sent no packet with a flow id for this long counts scans from its reports. */
#define FLOW_ALERTS_PACKETS_QUIET_S 300

struct flow_alert_limits {
	unsigned scan_ports;      /* more than this many distinct ports ... (0: off; default 100) */
	unsigned scan_hosts;      /* ... or hosts (0: off; default 100) */
	unsigned syn_flood_flows; /* half-open flows to one address (0: off; default 100) */
	unsigned retrans_percent; /* of a flow's packets retransmitted (0: off; default 10) */
	unsigned retrans_packets; /* the smallest flow judged (default 50) */
	unsigned window_s;        /* the window of all four (default 60) */
	unsigned cooldown_s;      /* before the same address (pair) alerts again: the state's alert_cooldown_s */
	size_t tracked;           /* entries, at most (default FLOW_ALERTS_TRACKED_DEFAULT) */
};

struct flow_alerts_stats {
	size_t tracked, max;
	uint64_t evicted;        /* entries that made room for another */
	uint64_t evicted_open;   /* ... of them with an alert open, cleared then */
	uint64_t chain_evicted;  /* ... of them because their hash chain was full */
	uint64_t scan_flows;     /* flows counted for scans */
	uint64_t half_open;      /* half-open flows counted */
	uint64_t retrans_flows;  /* reports over the retransmission threshold */
};

struct flow_alerts_sensor {
	uint64_t max_flow_id; /* the highest flow id among its packets */
	uint64_t last_seq;    /* capd's number of its last packet: lower means capd started over */
	int64_t packets_wall; /* webd's clock (s) at its last packet with a flow id; 0: none yet */
};

struct fa_entry;

struct flow_alerts {
	struct flow_alert_limits lim;
	struct alert_sink sink;
	unsigned part_s; /* the length of one part of the window */
	struct fa_entry *entries;
	uint32_t *buckets;
	size_t n_buckets; /* a power of two */
	uint32_t lru_head, lru_tail, open_head, n_used;
	uint64_t touches;
	struct wl_siphash_key key;
	struct flow_alerts_sensor sensors[WL_SENSORS_MAX];
	struct flow_alerts_stats stats;
};

void flow_alerts_default_limits(struct flow_alert_limits *lim);

/* Returns 0, -EINVAL for limits out of range, or -ENOMEM. */
int flow_alerts_init(struct flow_alerts *fa, const struct flow_alert_limits *lim, const struct alert_sink *sink);
void flow_alerts_free(struct flow_alerts *fa);

/*
 * A packet from sensor, now being its capture second and wall_now webd's
 * clock (s): counts the flow it opens for the scans, if it is the first
 * packet of its flow.
 */
void flow_alerts_packet(struct flow_alerts *fa, uint8_t sensor, const struct wl_packet *pkt, int64_t now,
			int64_t wall_now);

/*
 * A flow report from sensor; first: the first report of this flow webd has
 * had; now: the state's capture clock; wall_now: webd's clock (s).
 */
void flow_alerts_report(struct flow_alerts *fa, uint8_t sensor, const struct wl_flow_record *rec, bool first,
			int64_t now, int64_t wall_now);

/* Clears the episodes whose figure has fallen back; once a second. */
void flow_alerts_tick(struct flow_alerts *fa, int64_t now);

/* Forgets every entry and episode (the "Clear" button); the counters stay. */
void flow_alerts_clear(struct flow_alerts *fa);

#endif
