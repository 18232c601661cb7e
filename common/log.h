/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Daemon logging: one line per event on stderr, with a syslog-style
 * "<N>" level prefix that journald turns into the entry's priority.
 * Only the daemons and tools call this; proto/ and the codecs never log.
 */
#ifndef WL_LOG_H
#define WL_LOG_H

enum wl_log_level {
	WL_LOG_ERR = 3,
	WL_LOG_WARNING = 4,
	WL_LOG_NOTICE = 5,
	WL_LOG_INFO = 6,
	WL_LOG_DEBUG = 7,
};

/* Sets the program name and the most verbose level printed (default INFO). */
void wl_log_setup(const char *prog, enum wl_log_level max_level);

void wl_log(enum wl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wl_err(...) wl_log(WL_LOG_ERR, __VA_ARGS__)
#define wl_warn(...) wl_log(WL_LOG_WARNING, __VA_ARGS__)
#define wl_notice(...) wl_log(WL_LOG_NOTICE, __VA_ARGS__)
#define wl_info(...) wl_log(WL_LOG_INFO, __VA_ARGS__)
#define wl_debug(...) wl_log(WL_LOG_DEBUG, __VA_ARGS__)

#endif
