/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What capd and webd both do around their event loop: SIGTERM and SIGINT
 * stop it, SIGHUP reloads the configuration, SIGPIPE is ignored (a peer
 * that went away is an error from write, not the end of the daemon), and
 * systemd's Type=notify hears READY=1 once the daemon serves, RELOADING=1
 * and READY=1 around a reload, and STOPPING=1 on the way out. Without
 * libsystemd, or outside systemd (NOTIFY_SOCKET unset), there is nothing
 * to hear and nothing is sent.
 *
 * Library code: it never logs. The daemon's hooks say what happened.
 */
#ifndef WL_DAEMON_H
#define WL_DAEMON_H

#include <stdint.h>

struct event;
struct event_base;

struct wl_daemon_hooks {
	/* A stop signal arrived: say so. STOPPING=1 and the loop's end follow. */
	void (*on_stop)(void *ctx, int sig);
	/* SIGHUP: reload and say how it went; called between RELOADING=1 and READY=1. */
	void (*on_reload)(void *ctx);
	void *ctx;
};

struct wl_daemon_signals {
	struct event_base *base;
	struct wl_daemon_hooks hooks;
	struct event *ev[3]; /* SIGTERM, SIGINT, SIGHUP */
};

/*
 * Watches the stop and reload signals on base with these hooks (both
 * required), and ignores SIGPIPE. Returns 0, or -ENOMEM; either way
 * wl_daemon_unwatch_signals undoes what was done.
 */
int wl_daemon_watch_signals(struct wl_daemon_signals *s, struct event_base *base, const struct wl_daemon_hooks *hooks);

/* Frees the signal events (before the event base). */
void wl_daemon_unwatch_signals(struct wl_daemon_signals *s);

/* Tells systemd the daemon serves: once, after register, before dispatch. */
void wl_daemon_ready(void);

/*
 * Raises the soft limit on open files to want, or as far as the hard limit
 * allows: a subscriber following hundreds of sensors holds a few
 * descriptors for each, past the usual soft limit of 1024. Returns 0 with
 * the soft limit now in *got (below want when the hard limit is), or -errno.
 */
int wl_daemon_raise_nofile(uint64_t want, uint64_t *got);

#endif
