/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One alert: an episode of something wrong, raised once when a figure
 * passes its threshold, kept open (its peak and count growing) while the
 * episode lasts, and cleared when the figure falls back; the same address
 * cannot raise the same kind again before the cooldown has passed. The
 * state keeps them in one list (live/state.h), whatever found them:
 *
 *   flood            packets one address sent within the flood window (state.c)
 *   port_scan        distinct destination ports one address opened flows to
 *   host_scan        distinct destination hosts one address opened flows to
 *   syn_flood        half-open TCP flows to one address
 *   retransmissions  TCP flows between two addresses whose retransmission
 *                    ratio passed the threshold
 *
 * (the last four: live/flow_alerts.h). Its own header so that the detectors
 * and whoever stores alerts (history) need not know the rest of the state.
 */
#ifndef WEBD_ALERT_H
#define WEBD_ALERT_H

#include "wlite-proto.h"

#include <stddef.h>
#include <stdint.h>

enum alert_kind {
	ALERT_FLOOD = 0,
	ALERT_PORT_SCAN,
	ALERT_HOST_SCAN,
	ALERT_SYN_FLOOD,
	ALERT_RETRANSMISSIONS,
	ALERT_KIND__MAX
};

struct alert {
	uint64_t id;
	struct wl_addr addr; /* flood, scans: the sender; syn_flood: the target; retransmissions: side a */
	struct wl_addr peer; /* retransmissions: side b (the responder); family 0 otherwise */
	uint8_t sensor;
	uint8_t kind;        /* enum alert_kind */
	int64_t started, last, cleared; /* capture clock, s; cleared == 0: still active */
	/*
	 * The highest figure seen during the episode: flood, packets in one
	 * window; scans, distinct ports or hosts in one window (an estimate,
	 * live/flow_alerts.h); syn_flood, half-open flows in one window;
	 * retransmissions, the worst flow's ratio in hundredths of a percent.
	 */
	uint64_t peak_window;
	uint64_t packets;    /* flood: packets during the episode; the others: flows counted in it */
	uint64_t flow_id;    /* retransmissions: capd's id of the worst flow (on sensor); 0 otherwise */
	unsigned threshold;  /* what the figure had to pass (retransmissions: percent) */
	unsigned window_s;
};

/* "flood", "port_scan", ...: the API's and history's name of a kind. */
static inline const char *alert_kind_name(unsigned kind)
{
	static const char *const names[ALERT_KIND__MAX] = {
		[ALERT_FLOOD] = "flood",
		[ALERT_PORT_SCAN] = "port_scan",
		[ALERT_HOST_SCAN] = "host_scan",
		[ALERT_SYN_FLOOD] = "syn_flood",
		[ALERT_RETRANSMISSIONS] = "retransmissions",
	};

	return kind < ALERT_KIND__MAX ? names[kind] : "unknown";
}

/*
 * Where a detector puts its alerts: the state's list, or a test's. raise
 * stores a copy (id assigned), tells whoever listens, and returns the
 * stored alert with its place in *ret_slot. find returns the alert stored
 * at slot if it is still the one with that id (the list is a ring: a newer
 * alert may have taken its place), else NULL. cleared tells whoever listens
 * that an alert found with find has been cleared.
 */
struct alert_sink {
	struct alert *(*raise)(void *ctx, const struct alert *a, size_t *ret_slot);
	struct alert *(*find)(void *ctx, size_t slot, uint64_t id);
	void (*cleared)(void *ctx, const struct alert *a);
	void *ctx;
};

#endif
