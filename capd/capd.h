/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The capture daemon's state, shared by its parts: ingest (packets in,
 * records out), control (the NN_REP channel), events (stats and status).
 * There is one struct capd, owned by main().
 */
#ifndef CAPD_CAPD_H
#define CAPD_CAPD_H

#include "capture.h"
#include "daemon.h"
#include "flow.h"
#include "options.h"
#include "publish.h"
#include "wlite-proto.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct capd_counters {
	uint64_t packets; /* published or refused, i.e. given a sequence number */
	uint64_t bytes;   /* wire bytes of those */
	uint64_t loopback_skipped;
	uint64_t malformed;
	uint64_t by_proto[WL_P__MAX];
};

/* Offline replay of --read FILE: where the file's clock stands against ours. */
struct replay_clock {
	bool started;
	double first_ts;   /* capture time of the first packet of this pass */
	double start_wall; /* monotonic time when it was published */
};

struct capd {
	struct capd_options opt;    /* as running: control requests change it */
	struct capd_options loaded; /* as last read from flags and file */
	char **argv; /* kept for SIGHUP: flags still override the reloaded file */
	int argc;
	gid_t gid;   /* group given the sockets */

	struct capture cap;
	struct publisher pub;
	int ctl_sock;
	bool paused;
	bool eof; /* a file was read to its end (and not looping) */
	uint64_t seq;
	struct capd_counters count;
	struct replay_clock clock;
	struct pcap_pkthdr *pending_h; /* replay: read from the file but not yet due */
	const u_char *pending_data;
	struct wl_packet *pkt; /* scratch, one per daemon: no allocation per packet */
	struct flow_table *flows; /* NULL with --no-flows */
	struct fingerprints *tls; /* handshake reassembly and fingerprints (fingerprint.h) */
	struct quic_track *quic;  /* QUIC Initial decryption (quic_track.h) */

	struct event_base *base;
	struct event *ev_capture; /* live: the pcap fd; offline: the replay timer */
	struct event *ev_input;   /* offline from a pipe: its fd has bytes again */
	struct event *ev_control;
	struct event *ev_tick; /* once a second: stats and status */
	struct wl_daemon_signals signals; /* stop and reload (common/daemon.h) */
};

/* ingest.c */
int capd_start_capture(struct capd *d, char *err, size_t errlen);
void capd_stop_capture(struct capd *d);
int capd_pause(struct capd *d, char *err, size_t errlen);
int capd_resume(struct capd *d, char *err, size_t errlen);
int capd_set_filter(struct capd *d, const char *filter, char *err, size_t errlen);
int capd_set_interface(struct capd *d, const char *iface, char *err, size_t errlen);

/* flowtrack.c: the flow table on the publish path. */
int capd_flows_start(struct capd *d, char *err, size_t errlen);
void capd_flows_packet(struct capd *d);
/* Before the flow: reassembles TLS hellos and hashes their fingerprints into d->pkt. */
void capd_tls_packet(struct capd *d, const uint8_t *frame, size_t caplen);
void capd_flows_tick(struct capd *d);
void capd_flows_end_of_file(struct capd *d);
void capd_flows_stop(struct capd *d);
struct cJSON;
void capd_flows_stats_json(const struct capd *d, struct cJSON *root);

/* quic_capd.c: QUIC Initials decrypted, their ClientHellos decoded, before the TLS fingerprints. */
int capd_quic_start(struct capd *d, char *err, size_t errlen);
void capd_quic_packet(struct capd *d, const uint8_t *frame, size_t caplen);
void capd_quic_end_of_file(struct capd *d);
void capd_quic_stop(struct capd *d);
void capd_quic_stats_json(const struct capd *d, struct cJSON *root);

/* events.c: JSON texts, returned malloc'ed (cJSON_Print) or NULL. */
char *capd_stats_json(const struct capd *d);
char *capd_status_json(const struct capd *d);
void capd_publish_status(struct capd *d);
void capd_tick(evutil_socket_t fd, short what, void *arg);

/* control.c */
int capd_control_bind(struct capd *d, char *err, size_t errlen);     /* acquire */
int capd_control_register(struct capd *d, char *err, size_t errlen); /* register */
void capd_control_close(struct capd *d);

/* privdrop.c */
int capd_resolve_user(const char *user, const char *group, uid_t *ret_uid, gid_t *ret_gid,
		      char *err, size_t errlen);
/* capture_caps: keep CAP_NET_RAW and CAP_NET_ADMIN (live capture); else keep none. */
int capd_drop_privileges(uid_t uid, gid_t gid, bool capture_caps, char *err, size_t errlen);

#endif
