/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Daemon logging: one line per event on stderr, with a syslog-style
 * "<N>" level prefix that journald turns into the entry's priority.
 * Only the daemons and tools call this; proto/ and the codecs never log.
 */
#ifndef WL_LOG_H
#define WL_LOG_H

#include <stddef.h>

enum wl_log_level {
	WL_LOG_ERR = 3,
	WL_LOG_WARNING = 4,
	WL_LOG_NOTICE = 5,
	WL_LOG_INFO = 6,
	WL_LOG_DEBUG = 7,
};

/* A message is cut at WL_LOG_TEXT_MAX - 1 bytes; escaped, it fits WL_LOG_LINE_MAX. */
#define WL_LOG_TEXT_MAX 1024
#define WL_LOG_LINE_MAX (4 * WL_LOG_TEXT_MAX)

/* Sets the program name and the most verbose level printed (default INFO). */
void wl_log_setup(const char *prog, enum wl_log_level max_level);

void wl_log(enum wl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Copies src to dst (size bytes, NUL included) as one safe line, so that no
 * text from a client or a packet can end a log line or forge a "<N>" priority:
 *   - printable ASCII stays, except the backslash, which is doubled;
 *   - well-formed UTF-8 of printable characters stays;
 *   - every other byte becomes \xHH (lowercase hex): controls such as
 *     newline and carriage return, DEL, invalid UTF-8, and the encodings of
 *     C1 controls (U+0080-U+009F) and U+2028/U+2029.
 * The output is cut before an escape or a character that would not fit
 * whole. wl_log() applies it to every message. Returns the length written.
 */
size_t wl_log_escape(char *dst, size_t size, const char *src);

#define wl_err(...) wl_log(WL_LOG_ERR, __VA_ARGS__)
#define wl_warn(...) wl_log(WL_LOG_WARNING, __VA_ARGS__)
#define wl_notice(...) wl_log(WL_LOG_NOTICE, __VA_ARGS__)
#define wl_info(...) wl_log(WL_LOG_INFO, __VA_ARGS__)
#define wl_debug(...) wl_log(WL_LOG_DEBUG, __VA_ARGS__)

#endif
