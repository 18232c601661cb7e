/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * common/daemon.c: the stop and reload signals on a real libevent loop, and
 * what systemd hears (read from a NOTIFY_SOCKET the test binds): RELOADING=1
 * before the reload hook runs and READY=1 after it, STOPPING=1 after the
 * stop hook and before the loop ends; SIGPIPE ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "version.h"

struct seen {
	int stops, last_sig, reloads;
	char during[64]; /* what systemd had been told when the hook ran */
};

static int notify_fd = -1;
static char notify_dir[] = "/tmp/wlite-test-daemon-XXXXXX";

/* The next message systemd was sent, "" if none is waiting. */
static const char *next_notice(char *buf, size_t size)
{
	ssize_t n = recv(notify_fd, buf, size - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void on_stop(void *ctx, int sig)
{
	struct seen *s = ctx;

	s->stops++;
	s->last_sig = sig;
	next_notice(s->during, sizeof(s->during));
}

static void on_reload(void *ctx)
{
	struct seen *s = ctx;

	s->reloads++;
	next_notice(s->during, sizeof(s->during));
}

static int setup(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	(void)state;
	if (!mkdtemp(notify_dir))
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", notify_dir);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0 || bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return setenv("NOTIFY_SOCKET", sa.sun_path, 1);
}

static int teardown(void **state)
{
	char path[sizeof(notify_dir) + 8];

	(void)state;
	close(notify_fd);
	snprintf(path, sizeof(path), "%s/notify", notify_dir);
	unlink(path);
	rmdir(notify_dir);
	return 0;
}

static void reload_then_stop(void **unused)
{
	struct event_base *base = event_base_new();
	struct wl_daemon_signals sigs;
	struct seen seen = { 0 };
	struct wl_daemon_hooks hooks = { .on_stop = on_stop, .on_reload = on_reload, .ctx = &seen };
	struct sigaction pipe_action;
	char buf[64];

	(void)unused;
	assert_non_null(base);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(wl_daemon_watch_signals(&sigs, base, &hooks), 0);
	assert_int_equal(sigaction(SIGPIPE, NULL, &pipe_action), 0);
	assert_true(pipe_action.sa_handler == SIG_IGN);

	wl_daemon_ready();
	if (HAVE_LIBSYSTEMD)
		assert_string_equal(next_notice(buf, sizeof(buf)), "READY=1");

	/* SIGHUP: the reload hook, between RELOADING=1 and READY=1; the loop goes on. */
	raise(SIGHUP);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(seen.reloads, 1);
	assert_int_equal(seen.stops, 0);
	assert_false(event_base_got_break(base));
	if (HAVE_LIBSYSTEMD) {
		assert_string_equal(seen.during, "RELOADING=1");
		assert_string_equal(next_notice(buf, sizeof(buf)), "READY=1");
	}

	/* SIGTERM: the stop hook, then STOPPING=1, then the loop ends by itself. */
	raise(SIGTERM);
	assert_int_equal(event_base_dispatch(base), 0);
	assert_true(event_base_got_break(base));
	assert_int_equal(seen.stops, 1);
	assert_int_equal(seen.last_sig, SIGTERM);
	if (HAVE_LIBSYSTEMD) {
		assert_string_equal(seen.during, "");
		assert_string_equal(next_notice(buf, sizeof(buf)), "STOPPING=1");
	}
	assert_string_equal(next_notice(buf, sizeof(buf)), "");

	/* SIGINT stops too. */
	raise(SIGINT);
	assert_int_equal(event_base_dispatch(base), 0);
	assert_int_equal(seen.stops, 2);
	assert_int_equal(seen.last_sig, SIGINT);

	wl_daemon_unwatch_signals(&sigs);
	wl_daemon_unwatch_signals(&sigs); /* twice: nothing left to free */
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reload_then_stop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
