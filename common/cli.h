/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Command-line flags and configuration-file keys from one table, for every
 * wlite program: a key in wlite.conf and its flag can never disagree.
 * Precedence: the program's defaults, then the file ([section] of
 * --config FILE, or of the default file if it exists), then the flags.
 */
#ifndef WL_CLI_H
#define WL_CLI_H

#include <stdbool.h>
#include <stddef.h>

typedef int (*wl_option_set)(void *opts, const char *value, char *err, size_t errlen);

struct wl_option {
	const char *name;       /* --name, and the key in the file */
	char short_name;        /* 0: none */
	const char *flag_value; /* NULL: the flag takes a value; else the value it stands for */
	const char *metavar;    /* for --help */
	bool in_config;         /* may appear in the file */
	wl_option_set set;
	const char *help;       /* NULL: hidden from --help */
};

struct wl_options_spec {
	const char *prog;    /* "wlite-capd" */
	const char *version;
	const char *summary; /* one line for --help */
	const char *section; /* "capd" */
	const char *default_config;
	const struct wl_option *options;
	size_t n_options;
};

enum wl_parse_result {
	WL_PARSE_RUN = 0,
	WL_PARSE_EXIT_OK = 1, /* --help or --version was printed */
	WL_PARSE_ERROR = -1,  /* err holds one line */
};

/*
 * Applies the file, then argv, to opts (already holding the defaults).
 * config_path receives the file that was read, or "" when none was.
 */
enum wl_parse_result wl_options_parse(const struct wl_options_spec *spec, void *opts, int argc,
				      char **argv, char *config_path, size_t config_size, char *err,
				      size_t errlen);

/* Value checkers for setters: 0, or -EINVAL with a message naming what. */
int wl_opt_string(char *dst, size_t size, const char *value, const char *what, char *err, size_t errlen);
int wl_opt_int(const char *value, long lo, long hi, const char *what, long *ret, char *err, size_t errlen);
int wl_opt_bool(const char *value, const char *what, bool *ret, char *err, size_t errlen);

#endif
