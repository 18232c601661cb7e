/* SPDX-License-Identifier: BSD-2-Clause */
#include "daemon.h"

#include "version.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

static void notify(const char *state)
{
#if HAVE_LIBSYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

void wl_daemon_ready(void)
{
	notify("READY=1");
}

int wl_daemon_raise_nofile(uint64_t want, uint64_t *got)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want) {
		*got = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
		return 0;
	}
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? (rlim_t)want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	*got = rl.rlim_cur;
	return 0;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct wl_daemon_signals *s = arg;

	s->hooks.on_stop(s->hooks.ctx, (int)sig);
	notify("STOPPING=1");
	event_base_loopbreak(s->base);
}

static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct wl_daemon_signals *s = arg;

	notify("RELOADING=1");
	s->hooks.on_reload(s->hooks.ctx);
	notify("READY=1");
}

int wl_daemon_watch_signals(struct wl_daemon_signals *s, struct event_base *base, const struct wl_daemon_hooks *hooks)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };

	*s = (struct wl_daemon_signals){ .base = base, .hooks = *hooks };
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		s->ev[i] = evsignal_new(base, signals[i], signals[i] == SIGHUP ? on_reload_signal : on_stop_signal, s);
		if (!s->ev[i] || event_add(s->ev[i], NULL) < 0)
			return -ENOMEM;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

void wl_daemon_unwatch_signals(struct wl_daemon_signals *s)
{
	for (size_t i = 0; i < sizeof(s->ev) / sizeof(s->ev[0]); i++) {
		if (s->ev[i])
			event_free(s->ev[i]);
		s->ev[i] = NULL;
	}
}
