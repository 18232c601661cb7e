/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Set once at start-up, like the loaded config; never changed afterwards. */
static struct {
	const char *prog;
	enum wl_log_level max_level;
	int prefix_levels; /* stderr is journald's: "<N>" prefixes set priorities */
} log_setup = { "wlite", WL_LOG_INFO, 0 };

void wl_log_setup(const char *prog, enum wl_log_level max_level)
{
	log_setup.prog = prog;
	log_setup.max_level = max_level;
	/* systemd sets JOURNAL_STREAM when stderr is the journal, which reads
	 * "<N>" as the priority; terminals and test pipes get plain lines. */
	log_setup.prefix_levels = getenv("JOURNAL_STREAM") != NULL;
}

void wl_log(enum wl_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_setup.max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_setup.prefix_levels)
		fprintf(stderr, "<%d>%s: %s\n", (int)level, log_setup.prog, line);
	else
		fprintf(stderr, "%s: %s\n", log_setup.prog, line);
}
