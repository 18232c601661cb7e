/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wlite-webd: the unprivileged web daemon. Its main() is the story:
 *
 *   setup    flags and configuration; refuse root
 *   acquire  the geolocation databases, the HTTP listener
 *   register the capd subscriptions, the ip-api client, the timers, signals
 *   dispatch the event loop, until SIGTERM or SIGINT
 *
 * There is nothing to drop: webd never holds privileges.
 */
#include "geo/geo.h"
#include "geo/ipapi.h"
#include "history/history.h"
#include "http/server.h"
#include "live/feed.h"
#include "live/ingest.h"
#include "webd.h"

#include "daemon.h"
#include "log.h"
#include "wlite-wire.h"

#include <errno.h>
#include <event2/event.h>
#include <nanomsg/nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2

/* ip-api answers arrive on the event loop: put them on the host. */
static void on_ipapi_result(const struct wl_addr *a, const struct geo_info *info, void *userdata)
{
	struct webd *w = userdata;
	struct host *h;

	if (info->source == GEO_SRC_NONE)
		return; /* ip-api could not place it either */
	pthread_mutex_lock(&w->state.lock);
	h = state_find_host(&w->state, a);
	if (h) {
		if (!h->geo.country[0])
			memcpy(h->geo.country, info->country, sizeof(h->geo.country));
		if (!h->geo.asn) {
			h->geo.asn = info->asn;
			memcpy(h->geo.as_org, info->as_org, sizeof(h->geo.as_org));
		}
		if (!h->geo.city[0])
			memcpy(h->geo.city, info->city, sizeof(h->geo.city));
		if (!h->geo.has_location && info->has_location) {
			h->geo.has_location = true;
			h->geo.latitude = info->latitude;
			h->geo.longitude = info->longitude;
		}
		if (h->geo.source == GEO_SRC_NONE)
			h->geo.source = GEO_SRC_IPAPI;
	}
	pthread_mutex_unlock(&w->state.lock);
}

/* Once a second: alerts close, and public hosts the databases missed go to ip-api. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct webd *w = arg;
	struct state *s = &w->state;
	unsigned asked = 0;

	ingest_tick(fd, what, arg);
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = s->lru_head; i != UINT32_MAX && asked < 256; i = s->hosts[i].lru_next) {
		struct host *h = &s->hosts[i];
		struct geo_info info;

		struct wl_addr addr = h->addr;
		int r;

		if (h->geo.scope != GEO_PUBLIC || (h->geo.country[0] && h->geo.asn) || h->ipapi_asked)
			continue;
		asked++;
		r = ipapi_lookup(w->ipapi, &addr, &info);
		/* Queued (-EAGAIN) is asked again next second; the client folds repeats. */
		h->ipapi_asked = r != -EAGAIN;
		if (r == 0) {
			pthread_mutex_unlock(&s->lock);
			on_ipapi_result(&addr, &info, w);
			pthread_mutex_lock(&s->lock);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* SIGTERM, SIGINT: the loop ends after this (common/daemon.c). */
static void on_stop(void *ctx, int sig)
{
	wl_notice("%s: stopping", strsignal(sig));
}

/*
 * SIGHUP: read the configuration again and reopen the geolocation databases
 * (newer .mmdb files dropped in place); clients stay connected. Hosts
 * already seen keep what they were given; new ones use the new files.
 */
static void on_reload(void *ctx)
{
	struct webd *w = ctx;
	struct webd_options fresh;
	struct geo_db *db = NULL, *old;
	char err[1024] = "";

	if (options_parse(w->argc, w->argv, &fresh, err, sizeof(err)) != WEBD_PARSE_RUN) {
		wl_err("reload refused, keeping the running configuration: %s", err);
		return;
	}
	struct geo_paths paths = { .country = fresh.geo_country, .city = fresh.geo_city, .asn = fresh.geo_asn };
	if (geo_open(&db, &paths, err, sizeof(err)) < 0) {
		wl_err("reload: cannot reopen the geolocation databases: out of memory");
		return;
	}
	if (err[0])
		wl_warn("geolocation: %s", err);
	/* geo_lookup runs under the state lock, so the swap does too. */
	pthread_mutex_lock(&w->state.lock);
	old = w->geo;
	w->geo = db;
	memcpy(w->opt.geo_country, fresh.geo_country, sizeof(w->opt.geo_country));
	memcpy(w->opt.geo_city, fresh.geo_city, sizeof(w->opt.geo_city));
	memcpy(w->opt.geo_asn, fresh.geo_asn, sizeof(w->opt.geo_asn));
	pthread_mutex_unlock(&w->state.lock);
	geo_close(old);
	wl_notice("configuration reloaded; geolocation databases reopened");
}

static int open_geo(struct webd *w)
{
	struct geo_paths paths = { .country = w->opt.geo_country, .city = w->opt.geo_city, .asn = w->opt.geo_asn };
	char err[1024] = "";
	int r = geo_open(&w->geo, &paths, err, sizeof(err));

	if (err[0])
		wl_warn("geolocation: %s; %s", err,
			strcmp(w->opt.ip_api, "off") == 0 ? "no country look-ups (ip-api is off too)"
							   : "countries come from ip-api only");
	return r;
}

static void on_alert(void *ctx, const struct alert *a)
{
	struct webd *w = ctx;

	history_add_alert(w->history, a);
}

/*
 * Each sensor's subscription holds descriptors (nanomsg's socket and its
 * connection: 2 a sensor measured with 256), each HTTP worker one or two:
 * a central webd with hundreds of sensors needs more than the usual soft
 * limit of 1024. The margin is for history, geolocation and exports.
 */
static void raise_fd_limit(struct webd *w)
{
	uint64_t want = 3 * (uint64_t)w->opt.n_sensors + 4 * (uint64_t)w->opt.threads + 512, got = 0;
	int r = wl_daemon_raise_nofile(want, &got);

	if (r < 0)
		wl_warn("cannot raise the open-file limit to %llu: %s", (unsigned long long)want, strerror(-r));
	else if (got < want)
		wl_warn("open files are limited to %llu, below the %llu that %zu sensors and %d HTTP workers may need "
			"(raise LimitNOFILE)", (unsigned long long)got, (unsigned long long)want, w->opt.n_sensors,
			w->opt.threads);
}

/* History is optional: without it webd serves the live view as before. */
static void open_history(struct webd *w)
{
	struct history_config cfg;
	char err[1024] = "";

	history_default_config(&cfg);
	cfg.path = w->opt.history;
	cfg.max_age_days = w->opt.history_max_age_days;
	cfg.max_bytes = (uint64_t)w->opt.history_max_mb << 20;
	cfg.raw_window_hours = w->opt.history_raw_hours;
	/* Room for the texts and raw bytes of a typical packet each, 64 MiB at least. */
	cfg.queue_packets = w->opt.history_queue;
	if ((uint64_t)cfg.queue_packets * 256 > cfg.queue_bytes)
		cfg.queue_bytes = (size_t)cfg.queue_packets * 256;
	cfg.n_sensors = w->opt.n_sensors;
	for (size_t i = 0; i < w->opt.n_sensors && i < WL_SENSORS_MAX; i++)
		cfg.sensor_names[i] = w->opt.sensors[i].name;
	if (history_open(&w->history, &cfg, err, sizeof(err)) < 0) {
		wl_err("history: %s; running without history", err);
		return;
	}
	if (err[0])
		wl_warn("history: %s; paused until it can write", err);
	if (w->history) {
		w->state.on_alert = on_alert;
		w->state.on_alert_ctx = w;
		wl_notice("history: %s (%u days, %u MB, raw bytes %u h)", cfg.path, cfg.max_age_days,
			  w->opt.history_max_mb, cfg.raw_window_hours);
	}
}

static int register_events(struct webd *w, char *err, size_t errlen)
{
	struct ipapi_config ipc = { .base_url = w->opt.ip_api };
	const struct wl_daemon_hooks hooks = { .on_stop = on_stop, .on_reload = on_reload, .ctx = w };
	struct timeval one_second = { 1, 0 }, tenth = { 0, 100000 };
	int r;

	w->base = event_base_new();
	if (!w->base) {
		snprintf(err, errlen, "cannot create the event loop");
		return -ENOMEM;
	}
	if ((r = ipapi_new(&w->ipapi, w->base, &ipc, on_ipapi_result, w, err, errlen)) < 0)
		return r;
	if ((r = ingest_connect(w, err, errlen)) < 0)
		return r;
	w->ev_tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
	w->ev_feed = event_new(w->base, -1, EV_PERSIST, feed_tick_cb, w);
	if (!w->ev_tick || !w->ev_feed || event_add(w->ev_tick, &one_second) < 0 ||
	    event_add(w->ev_feed, &tenth) < 0) {
		snprintf(err, errlen, "cannot start timers");
		return -ENOMEM;
	}
	if (wl_daemon_watch_signals(&w->signals, w->base, &hooks) < 0) {
		snprintf(err, errlen, "cannot watch signals");
		return -ENOMEM;
	}
	return 0;
}

static void cleanup(struct webd *w)
{
	server_stop(w);
	ingest_close(w);
	/* After the ingest and the API: nothing adds or reads any more. Flushes the queue. */
	w->history = history_close(w->history);
	wl_daemon_unwatch_signals(&w->signals);
	if (w->ev_tick)
		event_free(w->ev_tick);
	if (w->ev_feed)
		event_free(w->ev_feed);
	w->ipapi = ipapi_free(w->ipapi);
	if (w->base)
		event_base_free(w->base);
	feed_free(w->feed);
	w->geo = geo_close(w->geo);
	if (w->ctl_sock >= 0)
		nn_close(w->ctl_sock);
	state_free(&w->state);
	free(w->scratch);
}

/* A token on the command line is in /proc/PID/cmdline for every local user to read. */
static void warn_token_in_argv(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--token") == 0 || strncmp(argv[i], "--token=", 8) == 0)
			wl_warn("--token on the command line can be read by every local user (ps); "
				"use --token-file or the configuration file");
}

static int fail(struct webd *w, const char *err)
{
	wl_err("%s", err);
	cleanup(w);
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	static struct webd w; /* large; owned by main, never by anything else */
	char err[1024] = "";
	int r;

	/* setup */
	wl_log_setup("wlite-webd", WL_LOG_INFO);
	w.ctl_sock = -1;
	w.web_root_fd = -1;
	w.argc = argc;
	w.argv = argv;
	for (size_t i = 0; i < WL_SENSORS_MAX; i++)
		w.conns[i].sock = -1;
	r = options_parse(argc, argv, &w.opt, err, sizeof(err));
	if (r == WEBD_PARSE_EXIT_OK)
		return EXIT_SUCCESS;
	if (r == WEBD_PARSE_ERROR) {
		wl_err("%s", err);
		return EXIT_USAGE;
	}
	if (w.opt.verbose)
		wl_log_setup("wlite-webd", WL_LOG_DEBUG);
	if ((geteuid() == 0 || getuid() == 0) && !w.opt.allow_root) {
		wl_err("refusing to run as root: webd needs no privileges (run it as an ordinary user, "
		       "or pass --allow-root)");
		return EXIT_USAGE;
	}
	warn_token_in_argv(argc, argv);
	pthread_mutex_init(&w.ctl_lock, NULL);
	w.started = (int64_t)time(NULL);
	w.scratch = malloc(sizeof(*w.scratch));
	w.feed = feed_new((unsigned)w.opt.max_clients);
	if (!w.scratch || !w.feed || state_init(&w.state, &w.opt.limits) < 0)
		return fail(&w, "out of memory for the live state (lower --ring-packets or --hosts)");

	/* acquire */
	raise_fd_limit(&w);
	if (open_geo(&w) < 0)
		return fail(&w, "out of memory");
	open_history(&w);

	/* register: the ingest and the timers first, then the server that reads what they fill */
	if (register_events(&w, err, sizeof(err)) < 0 || server_start(&w, err, sizeof(err)) < 0)
		return fail(&w, err);
	wl_notice("serving http://%s/ from %s; subscribed to %zu capd address(es)", w.opt.listen,
		  w.opt.web_root[0] ? w.opt.web_root : "(no web root)", w.opt.n_sensors);
	wl_daemon_ready();

	/* dispatch */
	r = event_base_dispatch(w.base);
	cleanup(&w);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
