/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wlite-capd: the capture daemon.
 */
#include "config.h"
#include "offline.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct capd_options {
	const char *read_file;
	bool json;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: wlite-capd [OPTIONS]\n"
		"\n"
		"Capture packets and publish their summaries to subscribers.\n"
		"\n"
		"  -r, --read FILE   read packets from a pcap or pcapng file\n"
		"      --json        with --read: print one JSON object per packet (schema v1)\n"
		"  -h, --help        show this help\n"
		"  -V, --version     show the version\n");
}

/* Returns 0 to go on, 1 to exit successfully (help, version), -1 on a bad flag. */
static int parse_options(int argc, char **argv, struct capd_options *opt)
{
	enum { OPT_JSON = 0x100 };
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "r:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			opt->read_file = optarg;
			break;
		case OPT_JSON:
			opt->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("wlite-capd %s\n", WLITE_VERSION);
			return 1;
		default:
			fprintf(stderr, "Try 'wlite-capd --help' for more information.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wlite-capd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int run_json_dump(const struct capd_options *opt)
{
	struct dump_result res;
	int r = capd_dump_json(opt->read_file, STDOUT_FILENO, &res);

	if (r < 0) {
		fprintf(stderr, "wlite-capd: %s: %s\n", opt->read_file, res.error);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	struct capd_options opt = { 0 };
	int r = parse_options(argc, argv, &opt);

	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : 2;
	if (opt.read_file && opt.json)
		return run_json_dump(&opt);
	fprintf(stderr, "wlite-capd: live capture and publishing are not built yet; "
			"use --read FILE --json\n");
	return 2;
}
