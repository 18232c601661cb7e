/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wlite-capd: the capture daemon. Its main() is the whole story:
 *
 *   setup    parse flags and the configuration file
 *   acquire  open the capture and bind the sockets (needs privileges)
 *   drop     become the unprivileged user, keeping CAP_NET_RAW/CAP_NET_ADMIN
 *   register the capture, control, timer and signal events
 *   dispatch the event loop, until SIGTERM or SIGINT
 *
 * Packet bytes are untrusted: nothing reads them before the drop.
 */
#include "capd.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "offline.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

static int fail(const char *what)
{
	wl_err("%s", what);
	return EXIT_FAILURE;
}

/* ---- acquire --------------------------------------------------------------- */

static int open_capture(struct capd *d, char *err, size_t errlen)
{
	char iface[CAPD_STR_MAX];

	if (d->opt.read_file[0]) {
		/* paced: the event loop polls a pipe before each packet (ingest.c). */
		int r = capture_open_file(&d->cap, d->opt.read_file, d->opt.filter, true, err, errlen);

		if (r == 0 && d->opt.loop && d->cap.stream) {
			snprintf(err, errlen, "--loop needs a file that can be read again; %.400s is a pipe",
				 d->opt.read_file);
			return -ESPIPE;
		}
		return r;
	}
	if (d->opt.interface[0]) {
		snprintf(iface, sizeof(iface), "%s", d->opt.interface);
	} else {
		int r = capture_default_interface(iface, sizeof(iface), err, errlen);

		if (r < 0)
			return r;
		snprintf(d->opt.interface, sizeof(d->opt.interface), "%s", iface);
	}
	return capture_open_live(&d->cap, iface, &d->opt, err, errlen);
}

/* Who we become, and which group may use the sockets. */
static int resolve_identity(struct capd *d, uid_t *uid, char *err, size_t errlen)
{
	if (geteuid() != 0) {
		/* Already unprivileged (systemd's User=): keep who we are. */
		*uid = geteuid();
		d->gid = getegid();
		return 0;
	}
	return capd_resolve_user(d->opt.user, d->opt.group, uid, &d->gid, err, errlen);
}

/*
 * Said once at start-up: the kernel cuts the send buffer to net.core.wmem_max
 * without an error, and a burst larger than what it grants is lost (webd sees
 * the gaps). The README's kernel settings say what to set.
 */
static void warn_small_sndbuf(const char *what, int asked, int effective)
{
	long wmem_max = -1;
	FILE *f;

	if (effective < 0 || effective >= asked)
		return;
	if ((f = fopen("/proc/sys/net/core/wmem_max", "re"))) {
		if (fscanf(f, "%ld", &wmem_max) != 1)
			wmem_max = -1;
		fclose(f);
	}
	wl_warn("the kernel grants the %s socket %d bytes of send buffer, not the %d asked: "
		"raise net.core.wmem_max (now %ld) to %d or more, or bursts will be lost",
		what, effective, asked, wmem_max, asked);
}

/* Said once at start-up: the sockets are safe to bind, but not safe to keep there. */
static void warn_shared_socket_dirs(const struct capd *d)
{
	const char *addrs[] = { d->opt.publish, d->opt.control, d->opt.publish_flows };

	for (int i = 0; i < 3; i++)
		if (addrs[i][0] && capd_ipc_dir_shared(addrs[i]))
			wl_warn("the directory of %s can be written by others than its owner, who "
				"could remove or replace the socket: make it writable by the binding "
				"user only (see systemd/wlite.tmpfiles)", addrs[i]);
}

/* ---- register ------------------------------------------------------------- */

/* SIGTERM, SIGINT: the loop ends after this (common/daemon.c). */
static void on_stop(void *ctx, int sig)
{
	wl_notice("%s: stopping", strsignal(sig));
}

/* SIGHUP: read the configuration again; the command line still wins. */
static void on_reload(void *ctx)
{
	struct capd *d = ctx;
	struct capd_options fresh;
	char err[CAPD_ERR_MAX] = "";

	if (capd_options_parse(d->argc, d->argv, &fresh, err, sizeof(err)) != CAPD_PARSE_RUN) {
		wl_err("reload refused, keeping the running configuration: %s", err);
		return;
	}
	/*
	 * Only what changed in the configuration is applied: a filter or an
	 * interface set over the control channel since stays unless the file
	 * now says otherwise.
	 */
	if (strcmp(fresh.filter, d->loaded.filter) != 0 && capd_set_filter(d, fresh.filter, err, sizeof(err)) < 0)
		wl_err("reload: %s", err);
	if (d->cap.live && fresh.interface[0] && strcmp(fresh.interface, d->loaded.interface) != 0 &&
	    capd_set_interface(d, fresh.interface, err, sizeof(err)) < 0)
		wl_err("reload: %s", err);
	d->loaded = fresh;
	wl_notice("configuration reloaded");
}

static int register_events(struct capd *d, char *err, size_t errlen)
{
	const struct wl_daemon_hooks hooks = { .on_stop = on_stop, .on_reload = on_reload, .ctx = d };
	struct timeval one_second = { 1, 0 };
	int r;

	d->base = event_base_new();
	if (!d->base) {
		snprintf(err, errlen, "cannot create the event loop");
		return -ENOMEM;
	}
	if ((r = capd_start_capture(d, err, errlen)) < 0 || (r = capd_control_register(d, err, errlen)) < 0)
		return r;
	d->ev_tick = event_new(d->base, -1, EV_PERSIST, capd_tick, d);
	if (!d->ev_tick || event_add(d->ev_tick, &one_second) < 0) {
		snprintf(err, errlen, "cannot start the stats timer");
		return -ENOMEM;
	}
	if (wl_daemon_watch_signals(&d->signals, d->base, &hooks) < 0) {
		snprintf(err, errlen, "cannot watch signals");
		return -ENOMEM;
	}
	return 0;
}

static void print_final_counts(struct capd *d)
{
	struct capture_stats ps;

	publisher_flush(&d->pub);
	capture_stats(&d->cap, &ps);
	wl_notice("%llu packets published (%llu refused by the socket), %llu bytes; "
		  "kernel: %llu received, %llu dropped, %llu dropped by the interface",
		  (unsigned long long)d->pub.pkts_sent, (unsigned long long)d->pub.pkts_refused,
		  (unsigned long long)d->count.bytes, (unsigned long long)ps.recv,
		  (unsigned long long)ps.drop, (unsigned long long)ps.ifdrop);
	if (d->opt.publish_flows[0])
		wl_notice("flows-only socket: %llu flow reports published (%llu refused), %llu messages (%llu refused)",
			  (unsigned long long)d->pub.flows_only.reports_sent,
			  (unsigned long long)d->pub.flows_only.reports_refused,
			  (unsigned long long)d->pub.flows_only.msgs_sent,
			  (unsigned long long)d->pub.flows_only.msgs_refused);
}

static void cleanup(struct capd *d)
{
	wl_daemon_unwatch_signals(&d->signals);
	if (d->ev_tick)
		event_free(d->ev_tick);
	capd_stop_capture(d);
	capd_control_close(d);
	capd_flows_stop(d); /* the last reports, while the socket is there */
	capd_quic_stop(d);
	publisher_close(&d->pub, d->opt.publish, d->opt.publish_flows[0] ? d->opt.publish_flows : NULL);
	capture_close(&d->cap);
	if (d->base)
		event_base_free(d->base);
	free(d->pkt);
}

/* --read FILE --json or --flows: decode to stdout and exit; no sockets, same privilege drop. */
static int run_file_dump(struct capd *d)
{
	char err[CAPD_ERR_MAX];
	struct dump_result res;
	uid_t uid;
	int r;

	/* acquire */
	if (capture_open_file(&d->cap, d->opt.read_file, d->opt.filter, false, err, sizeof(err)) < 0)
		return fail(err);
	/* drop: decoding hostile bytes never happens as root */
	if (geteuid() == 0 && capd_resolve_user(d->opt.user, d->opt.group, &uid, &d->gid, err, sizeof(err)) < 0 &&
	    capd_resolve_user("nobody", NULL, &uid, &d->gid, err, sizeof(err)) < 0)
		return fail(err);
	if (capd_drop_privileges(uid, d->gid, false, err, sizeof(err)) < 0)
		return fail(err);
	if (d->opt.flows)
		r = capd_dump_flows(&d->cap, &d->opt.flow, STDOUT_FILENO, &res);
	else
		r = capd_dump_json(&d->cap, STDOUT_FILENO, &res);
	capture_close(&d->cap);
	if (r < 0) {
		wl_err("%s: %s", d->opt.read_file, res.error);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	/*
	 * No socket yet: with 0, a start-up that failed before the bind (a bad
	 * interface) closed "socket 0" and unlinked the socket file of the
	 * capd already running on that address.
	 */
	struct capd d = { .argc = argc, .argv = argv, .ctl_sock = -1, .pub = { .sock = -1, .flows_only = { .sock = -1 } } };
	char err[CAPD_ERR_MAX] = "";
	uid_t uid;
	int r;

	/* setup */
	wl_log_setup("wlite-capd", WL_LOG_INFO);
	capture_init(&d.cap);
	r = capd_options_parse(argc, argv, &d.opt, err, sizeof(err));
	if (r == CAPD_PARSE_EXIT_OK)
		return EXIT_SUCCESS;
	if (r == CAPD_PARSE_ERROR) {
		wl_err("%s", err);
		return EXIT_USAGE;
	}
	if (d.opt.verbose)
		wl_log_setup("wlite-capd", WL_LOG_DEBUG);
	d.loaded = d.opt;
	if (d.opt.json || d.opt.flows) {
		if (!d.opt.read_file[0]) {
			wl_err("--json needs --read FILE");
			return EXIT_USAGE;
		}
		return run_file_dump(&d);
	}
	d.pkt = malloc(sizeof(*d.pkt));
	if (!d.pkt)
		return fail("out of memory");

	/* acquire: the capture and the sockets (root or CAP_NET_RAW) */
	if (resolve_identity(&d, &uid, err, sizeof(err)) < 0 || open_capture(&d, err, sizeof(err)) < 0 ||
	    publisher_open(&d.pub, d.opt.publish, d.gid, err, sizeof(err)) < 0 ||
	    (d.opt.publish_flows[0] &&
	     publisher_open_flows_only(&d.pub, d.opt.publish_flows, d.gid, err, sizeof(err)) < 0) ||
	    capd_control_bind(&d, err, sizeof(err)) < 0) {
		cleanup(&d);
		return fail(err);
	}
	warn_shared_socket_dirs(&d);
	warn_small_sndbuf("publish", d.pub.sndbuf_asked, d.pub.sndbuf_effective);
	if (d.opt.publish_flows[0])
		warn_small_sndbuf("flows-only publish", d.pub.flows_only.sndbuf_asked, d.pub.flows_only.sndbuf_effective);

	/* drop: from here on, unprivileged but for CAP_NET_RAW and CAP_NET_ADMIN
	 * when capturing live (a file needs neither) */
	if (capd_drop_privileges(uid, d.gid, d.cap.live, err, sizeof(err)) < 0) {
		cleanup(&d);
		return fail(err);
	}

	/* register: the flow table is made here, after the drop, like all that packets feed */
	if (capd_flows_start(&d, err, sizeof(err)) < 0 || capd_quic_start(&d, err, sizeof(err)) < 0 ||
	    register_events(&d, err, sizeof(err)) < 0) {
		cleanup(&d);
		return fail(err);
	}
	wl_notice("%s %s%s%s, publishing on %s%s%s, control on %s", d.cap.live ? "capturing on" : "replaying",
		  d.cap.source, d.cap.filter[0] ? " with filter " : "", d.cap.filter, d.opt.publish,
		  d.opt.publish_flows[0] ? ", flows only on " : "", d.opt.publish_flows, d.opt.control);
	capd_publish_status(&d);
	wl_daemon_ready();

	/* dispatch */
	r = event_base_dispatch(d.base);
	print_final_counts(&d);
	cleanup(&d);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
