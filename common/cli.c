/* SPDX-License-Identifier: BSD-2-Clause */
#include "cli.h"

#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OPTIONS 64
#define OPT_BASE 0x100
/* Past every option's value and any letter: a program's own -c is not taken for --config. */
enum { OPT_CONFIG = OPT_BASE + MAX_OPTIONS, OPT_HELP, OPT_VERSION };

int wl_opt_string(char *dst, size_t size, const char *value, const char *what, char *err, size_t errlen)
{
	if (strlen(value) >= size) {
		snprintf(err, errlen, "%s is too long (at most %zu bytes)", what, size - 1);
		return -EINVAL;
	}
	strcpy(dst, value);
	return 0;
}

int wl_opt_int(const char *value, long lo, long hi, const char *what, long *ret, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < lo || v > hi) {
		snprintf(err, errlen, "%s must be a whole number from %ld to %ld, not '%s'", what, lo, hi, value);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int wl_opt_bool(const char *value, const char *what, bool *ret, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
			*ret = strcmp(value, yes[i]) == 0;
			return 0;
		}
	}
	snprintf(err, errlen, "%s must be yes or no, not '%s'", what, value);
	return -EINVAL;
}

static void usage(const struct wl_options_spec *spec)
{
	printf("Usage: %s [OPTIONS]\n\n%s\n\n", spec->prog, spec->summary);
	for (size_t i = 0; i < spec->n_options; i++) {
		const struct wl_option *o = &spec->options[i];
		char left[64];

		if (!o->help)
			continue;
		snprintf(left, sizeof(left), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
			 o->flag_value ? "" : " ", o->flag_value ? "" : (o->metavar ? o->metavar : "VALUE"));
		printf("  %-30s %s\n", left, o->help);
	}
	printf("      --config FILE              configuration file, section [%s] (default %s)\n"
	       "  -h, --help                     show this help\n"
	       "  -V, --version                  show the version\n",
	       spec->section, spec->default_config);
}

struct file_ctx {
	const struct wl_options_spec *spec;
	void *opts;
};

static int file_key(const char *key, const char *value, void *userdata, char *err, size_t errlen)
{
	const struct file_ctx *ctx = userdata;

	for (size_t i = 0; i < ctx->spec->n_options; i++) {
		const struct wl_option *o = &ctx->spec->options[i];

		if (o->in_config && strcmp(o->name, key) == 0)
			return o->set(ctx->opts, value, err, errlen);
	}
	snprintf(err, errlen, "unknown key '%s' in [%s]", key, ctx->spec->section);
	return -EINVAL;
}

/* --config must be known before the other flags, which override the file. */
static const char *find_config_flag(int argc, char **argv)
{
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
	}
	return path;
}

static int load_file(const struct wl_options_spec *spec, void *opts, int argc, char **argv,
		     char *config_path, size_t config_size, char *err, size_t errlen)
{
	struct file_ctx ctx = { spec, opts };
	const char *path = find_config_flag(argc, argv);

	config_path[0] = '\0';
	/* Only the default file may be missing; one asked for must be there. */
	if (!path) {
		if (access(spec->default_config, F_OK) != 0)
			return 0;
		path = spec->default_config;
	}
	snprintf(config_path, config_size, "%s", path);
	return wl_config_load(path, spec->section, file_key, &ctx, err, errlen);
}

static size_t build_getopt(const struct wl_options_spec *spec, struct option *longopts, char *shortopts)
{
	size_t n = 0, ns = 0;

	shortopts[ns++] = 'h';
	shortopts[ns++] = 'V';
	for (size_t i = 0; i < spec->n_options && n < MAX_OPTIONS; i++, n++) {
		const struct wl_option *o = &spec->options[i];

		longopts[n] = (struct option){ o->name, o->flag_value ? no_argument : required_argument,
					       NULL, OPT_BASE + (int)i };
		if (o->short_name) {
			shortopts[ns++] = o->short_name;
			if (!o->flag_value)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	longopts[n++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	longopts[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	longopts[n++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	longopts[n] = (struct option){ 0 };
	return n;
}

static const struct wl_option *find_option(const struct wl_options_spec *spec, int ch)
{
	if (ch >= OPT_BASE && ch < OPT_BASE + (int)spec->n_options)
		return &spec->options[ch - OPT_BASE];
	for (size_t i = 0; i < spec->n_options; i++)
		if (spec->options[i].short_name && spec->options[i].short_name == ch)
			return &spec->options[i];
	return NULL;
}

static enum wl_parse_result parse_flags(const struct wl_options_spec *spec, void *opts, int argc,
					char **argv, char *err, size_t errlen)
{
	struct option longopts[MAX_OPTIONS + 4];
	char shortopts[2 * MAX_OPTIONS + 4];
	int ch;

	build_getopt(spec, longopts, shortopts);
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct wl_option *o;

		if (ch == OPT_HELP || ch == 'h') {
			usage(spec);
			return WL_PARSE_EXIT_OK;
		}
		if (ch == OPT_VERSION || ch == 'V') {
			printf("%s %s\n", spec->prog, spec->version);
			return WL_PARSE_EXIT_OK;
		}
		if (ch == OPT_CONFIG)
			continue; /* already read */
		o = find_option(spec, ch);
		if (!o) {
			snprintf(err, errlen, "unknown option, or one missing its value: '%s' (see --help)",
				 argv[optind - 1]);
			return WL_PARSE_ERROR;
		}
		if (o->set(opts, o->flag_value ? o->flag_value : optarg, err, errlen) < 0)
			return WL_PARSE_ERROR;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return WL_PARSE_ERROR;
	}
	return WL_PARSE_RUN;
}

enum wl_parse_result wl_options_parse(const struct wl_options_spec *spec, void *opts, int argc,
				      char **argv, char *config_path, size_t config_size, char *err,
				      size_t errlen)
{
	/* --help and --version work even when the file is broken. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0)
			return parse_flags(spec, opts, argc, argv, err, errlen);
	}
	if (load_file(spec, opts, argc, argv, config_path, config_size, err, errlen) < 0)
		return WL_PARSE_ERROR;
	return parse_flags(spec, opts, argc, argv, err, errlen);
}
