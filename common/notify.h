/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Readiness for systemd's Type=notify: READY=1 once the daemon serves,
 * RELOADING=1 around a SIGHUP reload, STOPPING=1 on the way out. Without
 * libsystemd (or outside systemd, where NOTIFY_SOCKET is unset) it does nothing.
 */
#ifndef WL_NOTIFY_H
#define WL_NOTIFY_H

#include "version.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

static inline void wl_notify(const char *state)
{
	sd_notify(0, state);
}
#else
static inline void wl_notify(const char *state)
{
	(void)state;
}
#endif

#endif
