/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef CAPD_OPTIONS_H
#define CAPD_OPTIONS_H

#include "flow.h"
#include "version.h"

#include <stdbool.h>
#include <stddef.h>

#define CAPD_DEFAULT_PUBLISH "ipc:///run/wlite/capd.sock"
#define CAPD_DEFAULT_CONTROL "ipc:///run/wlite/capd-ctl.sock"
#define CAPD_DEFAULT_CONFIG WLITE_SYSCONFDIR "/wlite.conf"
#define CAPD_STR_MAX 512

/* Everything that decides how capd runs: defaults, then the file, then flags. */
struct capd_options {
	char interface[CAPD_STR_MAX]; /* empty: the first up, non-loopback one */
	char filter[CAPD_STR_MAX];
	int snaplen;
	bool promisc;
	bool immediate;
	int buffer_kib;
	int timeout_ms;
	char read_file[CAPD_STR_MAX];
	bool json;
	double speed; /* 0: as fast as possible */
	bool loop;
	int start_delay_ms; /* --read: time for subscribers to connect */
	char publish[CAPD_STR_MAX];
	char publish_flows[CAPD_STR_MAX]; /* flows, stats and status only; "" for none */
	char control[CAPD_STR_MAX];
	bool control_insecure_tcp; /* allow a control address other than ipc:// */
	char user[64];
	char group[64];
	bool include_loopback;
	bool flows;       /* --read FILE --flows: print the flows and exit */
	bool track_flows; /* keep and publish the flow table (default; --no-flows) */
	struct flow_config flow;
	char config_file[CAPD_STR_MAX]; /* the file that was read, or "" */
	bool verbose;
};

enum capd_parse_result {
	CAPD_PARSE_RUN = 0,
	CAPD_PARSE_EXIT_OK = 1, /* --help or --version was printed */
	CAPD_PARSE_ERROR = -1,  /* err holds one line */
};

/* Fills opt from the defaults, the configuration file and argv, in that order. */
enum capd_parse_result capd_options_parse(int argc, char **argv, struct capd_options *opt,
					  char *err, size_t errlen);

#endif
