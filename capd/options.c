/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capd's flags and configuration keys come from one table, so that a key in
 * wlite.conf and its flag can never disagree. Flags follow tcpdump where
 * tcpdump has one (-i, -f, -s, -p, -B, -r).
 */
#include "options.h"

#include "config.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*setter)(struct capd_options *opt, const char *value, char *err, size_t errlen);

static int set_string(char *dst, size_t size, const char *value, const char *what, char *err,
		      size_t errlen)
{
	if (strlen(value) >= size) {
		snprintf(err, errlen, "%s is too long (at most %zu bytes)", what, size - 1);
		return -EINVAL;
	}
	strcpy(dst, value);
	return 0;
}

static int parse_int(const char *value, long lo, long hi, const char *what, long *ret, char *err,
		     size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < lo || v > hi) {
		snprintf(err, errlen, "%s must be a whole number from %ld to %ld, not '%s'", what, lo,
			 hi, value);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int parse_bool(const char *value, const char *what, bool *ret, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(value, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	snprintf(err, errlen, "%s must be yes or no, not '%s'", what, value);
	return -EINVAL;
}

#define STRING_SETTER(field, what)                                                             \
	static int set_##field(struct capd_options *opt, const char *v, char *err, size_t errlen) \
	{                                                                                          \
		return set_string(opt->field, sizeof(opt->field), v, what, err, errlen);          \
	}

STRING_SETTER(interface, "interface")
STRING_SETTER(filter, "filter")
STRING_SETTER(read_file, "read")
STRING_SETTER(publish, "publish")
STRING_SETTER(control, "control")
STRING_SETTER(user, "user")
STRING_SETTER(group, "group")

static int set_config(struct capd_options *opt, const char *v, char *err, size_t errlen)
{
	opt->config_given = true;
	return set_string(opt->config_file, sizeof(opt->config_file), v, "config", err, errlen);
}

static int set_snaplen(struct capd_options *opt, const char *v, char *err, size_t errlen)
{
	long n;
	int r = parse_int(v, 64, 262144, "snaplen", &n, err, errlen);

	if (r == 0)
		opt->snaplen = (int)n;
	return r;
}

static int set_buffer(struct capd_options *opt, const char *v, char *err, size_t errlen)
{
	long n;
	int r = parse_int(v, 64, 1024 * 1024, "buffer-size (KiB)", &n, err, errlen);

	if (r == 0)
		opt->buffer_kib = (int)n;
	return r;
}

static int set_timeout(struct capd_options *opt, const char *v, char *err, size_t errlen)
{
	long n;
	int r = parse_int(v, 1, 10000, "timeout (ms)", &n, err, errlen);

	if (r == 0)
		opt->timeout_ms = (int)n;
	return r;
}

static int set_start_delay(struct capd_options *opt, const char *v, char *err, size_t errlen)
{
	long n;
	int r = parse_int(v, 0, 600000, "start-delay (ms)", &n, err, errlen);

	if (r == 0)
		opt->start_delay_ms = (int)n;
	return r;
}

static int set_speed(struct capd_options *opt, const char *v, char *err, size_t errlen)
{
	char *end;
	double s;

	if (strcmp(v, "max") == 0) {
		opt->speed = 0;
		return 0;
	}
	errno = 0;
	s = strtod(v, &end);
	if (errno || end == v || *end || !(s >= 0.001 && s <= 1e6)) {
		snprintf(err, errlen, "speed must be 'max' or a factor from 0.001 to 1000000, not '%s'", v);
		return -EINVAL;
	}
	opt->speed = s;
	return 0;
}

#define BOOL_SETTER(name, field, what)                                                        \
	static int set_##name(struct capd_options *opt, const char *v, char *err, size_t errlen) \
	{                                                                                         \
		return parse_bool(v, what, &opt->field, err, errlen);                             \
	}

BOOL_SETTER(promisc, promisc, "promisc")
BOOL_SETTER(immediate, immediate, "immediate")
BOOL_SETTER(loop, loop, "loop")
BOOL_SETTER(json, json, "json")
BOOL_SETTER(include_loopback, include_loopback, "include-loopback")
BOOL_SETTER(verbose, verbose, "verbose")

/* A flag without an argument sets its key to this value. */
struct option_spec {
	const char *name;
	char short_name;
	const char *flag_value; /* NULL: the flag takes an argument */
	setter set;
	bool in_config;         /* may appear in wlite.conf */
	const char *help;
};

static const struct option_spec specs[] = {
	{ "interface", 'i', NULL, set_interface, true, "capture on IFACE (default: first up, non-loopback)" },
	{ "filter", 'f', NULL, set_filter, true, "BPF capture filter, tcpdump syntax" },
	{ "snaplen", 's', NULL, set_snaplen, true, "bytes kept of each packet (default 262144)" },
	{ "no-promisc", 'p', "no", set_promisc, false, "do not put the interface in promiscuous mode" },
	{ "promisc", 0, NULL, set_promisc, true, NULL },
	{ "immediate", 0, "yes", set_immediate, true, "deliver each packet at once (more CPU)" },
	{ "buffer-size", 'B', NULL, set_buffer, true, "kernel capture buffer in KiB (default 16384)" },
	{ "timeout", 0, NULL, set_timeout, true, "delivery timeout in ms (default 100)" },
	{ "read", 'r', NULL, set_read_file, false, "read packets from a pcap or pcapng FILE" },
	{ "json", 0, "yes", set_json, false, "with --read: print NDJSON (schema v1) and exit" },
	{ "speed", 0, NULL, set_speed, true, "with --read: 1 = original timing, N times faster, or max" },
	{ "loop", 0, "yes", set_loop, true, "with --read: start over at the end" },
	{ "start-delay", 0, NULL, set_start_delay, true, "with --read: ms to wait for subscribers first (default 1000)" },
	{ "publish", 0, NULL, set_publish, true, "nanomsg address to publish on (default " CAPD_DEFAULT_PUBLISH ")" },
	{ "control", 0, NULL, set_control, true, "nanomsg address of the control channel (default " CAPD_DEFAULT_CONTROL ")" },
	{ "user", 0, NULL, set_user, true, "user to drop privileges to (default wlite)" },
	{ "group", 0, NULL, set_group, true, "group given access to the sockets (default: the user's)" },
	{ "include-loopback", 0, "yes", set_include_loopback, true, "keep packets between loopback addresses" },
	{ "config", 0, NULL, set_config, false, "configuration file (default " CAPD_DEFAULT_CONFIG ")" },
	{ "verbose", 'v', "yes", set_verbose, true, "log more" },
};

#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static void set_defaults(struct capd_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->snaplen = 262144;
	opt->promisc = true;
	opt->buffer_kib = 16 * 1024;
	opt->timeout_ms = 100;
	opt->speed = 1;
	opt->start_delay_ms = 1000;
	strcpy(opt->publish, CAPD_DEFAULT_PUBLISH);
	strcpy(opt->control, CAPD_DEFAULT_CONTROL);
	strcpy(opt->user, "wlite");
}

static void usage(void)
{
	printf("Usage: wlite-capd [OPTIONS]\n\n"
	       "Capture packets, decode them and publish them to subscribers.\n\n");
	for (size_t i = 0; i < N_SPECS; i++) {
		char left[64];

		if (!specs[i].help)
			continue;
		snprintf(left, sizeof(left), "%c%c%s--%s%s", specs[i].short_name ? '-' : ' ',
			 specs[i].short_name ? specs[i].short_name : ' ', specs[i].short_name ? ", " : "  ",
			 specs[i].name, specs[i].flag_value ? "" : " VALUE");
		printf("  %-28s %s\n", left, specs[i].help);
	}
	printf("  -h, --help                   show this help\n"
	       "  -V, --version                show the version\n");
}

static int config_key(const char *key, const char *value, void *userdata, char *err, size_t errlen)
{
	for (size_t i = 0; i < N_SPECS; i++)
		if (specs[i].in_config && strcmp(specs[i].name, key) == 0)
			return specs[i].set(userdata, value, err, errlen);
	snprintf(err, errlen, "unknown key '%s' in [capd]", key);
	return -EINVAL;
}

/* --config must be known before the other flags, which override the file. */
static void find_config_flag(int argc, char **argv, struct capd_options *opt)
{
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--config=", 9) == 0)
			set_config(opt, argv[i] + 9, NULL, 0);
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			set_config(opt, argv[i + 1], NULL, 0);
	}
}

static int load_config(struct capd_options *opt, char *err, size_t errlen)
{
	const char *path = opt->config_given ? opt->config_file : CAPD_DEFAULT_CONFIG;

	/* Only the default file may be missing; one asked for must be there. */
	if (!opt->config_given && access(path, F_OK) != 0)
		return 0;
	return wl_config_load(path, "capd", config_key, opt, err, errlen);
}

static int parse_flags(int argc, char **argv, struct capd_options *opt, char *err, size_t errlen)
{
	struct option longopts[N_SPECS + 3];
	char shortopts[2 * N_SPECS + 8] = "hV";
	size_t n_short = 2;
	int ch, idx;

	for (size_t i = 0; i < N_SPECS; i++) {
		longopts[i] = (struct option){ specs[i].name,
					       specs[i].flag_value ? no_argument : required_argument,
					       NULL, 0x100 + (int)i };
		if (specs[i].short_name) {
			shortopts[n_short++] = specs[i].short_name;
			if (!specs[i].flag_value)
				shortopts[n_short++] = ':';
		}
	}
	shortopts[n_short] = '\0';
	longopts[N_SPECS] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[N_SPECS + 1] = (struct option){ "version", no_argument, NULL, 'V' };
	longopts[N_SPECS + 2] = (struct option){ 0 };

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct option_spec *spec = NULL;

		if (ch == 'h') {
			usage();
			return CAPD_PARSE_EXIT_OK;
		}
		if (ch == 'V') {
			printf("wlite-capd %s\n", WLITE_VERSION);
			return CAPD_PARSE_EXIT_OK;
		}
		if (ch >= 0x100 && ch < 0x100 + (int)N_SPECS)
			spec = &specs[ch - 0x100];
		for (size_t i = 0; !spec && i < N_SPECS; i++)
			if (specs[i].short_name && specs[i].short_name == ch)
				spec = &specs[i];
		if (!spec) {
			snprintf(err, errlen, "unknown or incomplete option '%s' (see --help)",
				 argv[optind - 1]);
			return CAPD_PARSE_ERROR;
		}
		if (spec->set(opt, spec->flag_value ? spec->flag_value : optarg, err, errlen) < 0)
			return CAPD_PARSE_ERROR;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return CAPD_PARSE_ERROR;
	}
	return CAPD_PARSE_RUN;
}

enum capd_parse_result capd_options_parse(int argc, char **argv, struct capd_options *opt,
					  char *err, size_t errlen)
{
	set_defaults(opt);
	find_config_flag(argc, argv, opt);
	if (load_config(opt, err, errlen) < 0)
		return CAPD_PARSE_ERROR;
	return (enum capd_parse_result)parse_flags(argc, argv, opt, err, errlen);
}
