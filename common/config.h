/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration file both daemons read (/etc/wlite/wlite.conf):
 *
 *     # comment
 *     [capd]
 *     interface = eth0
 *     filter = tcp port 443     # a comment after a value, too
 *
 *     [webd]
 *     listen = 127.0.0.1:8080
 *
 * Keys are the long option names; a section belongs to one daemon, which
 * ignores the others. Values run to the end of the line, or to a '#' after
 * a space or tab (so the shipped file's examples work once uncommented),
 * trimmed; quotes are not needed. The parser only splits lines: each daemon checks its keys
 * and values, and the error names the file and line.
 */
#ifndef WL_CONFIG_H
#define WL_CONFIG_H

#include <stddef.h>

#define WL_CONFIG_LINE_MAX 1024

/*
 * Called for each key of the wanted section. Returns 0, or a negative errno
 * with a message in err (size errlen) that the parser prefixes with
 * "FILE:LINE: ".
 */
typedef int (*wl_config_cb)(const char *key, const char *value, void *userdata, char *err,
			    size_t errlen);

/*
 * Reads path and calls cb for every key in [section]. Returns 0 or a negative
 * errno with a one-line message in err: a missing file, a line too long, a
 * line that is not "key = value", or what cb said.
 */
int wl_config_load(const char *path, const char *section, wl_config_cb cb, void *userdata,
		   char *err, size_t errlen);

#endif
