/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capd's flags and configuration keys (common/options.h). Flags follow
 * tcpdump where tcpdump has one (-i, -f, -s, -p, -B, -r).
 */
#include "options.h"

#include "version.h"
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRING_SETTER(field, what)                                                 \
	static int set_##field(void *o, const char *v, char *err, size_t errlen)   \
	{                                                                          \
		struct capd_options *opt = o;                                      \
		return wl_opt_string(opt->field, sizeof(opt->field), v, what, err, errlen); \
	}

#define BOOL_SETTER(field, what)                                                   \
	static int set_##field(void *o, const char *v, char *err, size_t errlen)   \
	{                                                                          \
		return wl_opt_bool(v, what, &((struct capd_options *)o)->field, err, errlen); \
	}

#define INT_SETTER(field, lo, hi, what)                                            \
	static int set_##field(void *o, const char *v, char *err, size_t errlen)   \
	{                                                                          \
		long n;                                                            \
		int r = wl_opt_int(v, lo, hi, what, &n, err, errlen);              \
		if (r == 0)                                                        \
			((struct capd_options *)o)->field = (int)n;                \
		return r;                                                          \
	}

STRING_SETTER(interface, "interface")
STRING_SETTER(filter, "filter")
STRING_SETTER(read_file, "read")
STRING_SETTER(publish, "publish")
STRING_SETTER(publish_flows, "publish-flows")
STRING_SETTER(control, "control")
STRING_SETTER(user, "user")
STRING_SETTER(group, "group")
BOOL_SETTER(promisc, "promisc")
BOOL_SETTER(immediate, "immediate")
BOOL_SETTER(loop, "loop")
BOOL_SETTER(json, "json")
BOOL_SETTER(include_loopback, "include-loopback")
BOOL_SETTER(control_insecure_tcp, "control-insecure-tcp")
BOOL_SETTER(verbose, "verbose")
BOOL_SETTER(flows, "flows")
INT_SETTER(snaplen, 64, 262144, "snaplen")
INT_SETTER(buffer_kib, 64, 1024 * 1024, "buffer-size (KiB)")
INT_SETTER(timeout_ms, 1, 10000, "timeout (ms)")
INT_SETTER(start_delay_ms, 0, 600000, "start-delay (ms)")

static int set_speed(void *o, const char *v, char *err, size_t errlen)
{
	struct capd_options *opt = o;
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

#define FLOW_SETTER(name, lvalue, lo, hi, what)                                    \
	static int set_##name(void *o, const char *v, char *err, size_t errlen)    \
	{                                                                          \
		long n;                                                            \
		int r = wl_opt_int(v, lo, hi, what, &n, err, errlen);              \
		if (r == 0)                                                        \
			((struct capd_options *)o)->flow.lvalue = (uint32_t)n;     \
		return r;                                                          \
	}

FLOW_SETTER(max_flows, max_flows, 16, 1 << 28, "max-flows")
FLOW_SETTER(flow_active, active_s, 1, 86400 * 7, "flow-active-timeout (s)")
FLOW_SETTER(idle_tcp, idle_s[FLOW_CLASS_TCP], 1, 86400 * 7, "flow-idle-tcp (s)")
FLOW_SETTER(idle_tcp_syn, idle_s[FLOW_CLASS_TCP_SYN], 1, 86400 * 7, "flow-idle-tcp-syn (s)")
FLOW_SETTER(idle_tcp_closed, idle_s[FLOW_CLASS_TCP_CLOSED], 1, 86400 * 7, "flow-idle-tcp-closed (s)")
FLOW_SETTER(idle_udp, idle_s[FLOW_CLASS_UDP], 1, 86400 * 7, "flow-idle-udp (s)")
FLOW_SETTER(idle_icmp, idle_s[FLOW_CLASS_ICMP], 1, 86400 * 7, "flow-idle-icmp (s)")
FLOW_SETTER(idle_other, idle_s[FLOW_CLASS_OTHER], 1, 86400 * 7, "flow-idle-other (s)")

static int set_no_flows(void *o, const char *v, char *err, size_t errlen)
{
	bool off;
	int r = wl_opt_bool(v, "no-flows", &off, err, errlen);

	if (r == 0)
		((struct capd_options *)o)->track_flows = !off;
	return r;
}

static const struct wl_option capd_option_table[] = {
	{ "interface", 'i', NULL, "IFACE", true, set_interface, "capture on IFACE (default: first up, non-loopback)" },
	{ "filter", 'f', NULL, "FILTER", true, set_filter, "BPF capture filter, tcpdump syntax" },
	{ "snaplen", 's', NULL, "BYTES", true, set_snaplen, "bytes kept of each packet (default 262144)" },
	{ "no-promisc", 'p', "no", NULL, false, set_promisc, "do not put the interface in promiscuous mode" },
	{ "promisc", 0, NULL, NULL, true, set_promisc, NULL },
	{ "immediate", 0, "yes", NULL, true, set_immediate, "deliver each packet at once (more CPU)" },
	{ "buffer-size", 'B', NULL, "KIB", true, set_buffer_kib, "kernel capture buffer in KiB (default 16384)" },
	{ "timeout", 0, NULL, "MS", true, set_timeout_ms, "delivery timeout in ms (default 100)" },
	{ "read", 'r', NULL, "FILE", false, set_read_file, "read packets from a pcap or pcapng file" },
	{ "json", 0, "yes", NULL, false, set_json, "with --read: print NDJSON (schema v1) and exit" },
	{ "speed", 0, NULL, "1|N|max", true, set_speed, "with --read: original timing, N times faster, or max" },
	{ "loop", 0, "yes", NULL, true, set_loop, "with --read: start over at the end" },
	{ "start-delay", 0, NULL, "MS", true, set_start_delay_ms, "with --read: wait for subscribers first (default 1000)" },
	{ "publish", 0, NULL, "ADDR", true, set_publish, "nanomsg address to publish on (default " CAPD_DEFAULT_PUBLISH ")" },
	{ "publish-flows", 0, NULL, "ADDR", true, set_publish_flows, "also publish flows, stats and status, no packets, on ADDR (for remote subscribers)" },
	{ "control", 0, NULL, "ADDR", true, set_control, "control channel address (default " CAPD_DEFAULT_CONTROL ")" },
	{ "control-insecure-tcp", 0, "yes", NULL, true, set_control_insecure_tcp, "allow a --control address that is not ipc:// (no authentication!)" },
	{ "user", 0, NULL, "USER", true, set_user, "user to drop privileges to (default wlite)" },
	{ "group", 0, NULL, "GROUP", true, set_group, "group given the sockets (default: the user's)" },
	{ "include-loopback", 0, "yes", NULL, true, set_include_loopback, "keep packets between loopback addresses" },
	{ "flows", 0, "yes", NULL, false, set_flows, "with --read: print the flows as NDJSON (flow schema v1) and exit" },
	{ "no-flows", 0, "yes", NULL, true, set_no_flows, "do not keep or publish flows" },
	{ "max-flows", 0, NULL, "N", true, set_max_flows, "flows kept at once; the oldest idle one makes room (default 1000000)" },
	{ "flow-active-timeout", 0, NULL, "S", true, set_flow_active, "a long flow is reported every S seconds (default 60)" },
	{ "flow-idle-tcp", 0, NULL, "S", true, set_idle_tcp, "idle timeout of a TCP connection (default 300)" },
	{ "flow-idle-tcp-syn", 0, NULL, "S", true, set_idle_tcp_syn, "... of a handshake that did not complete (default 30)" },
	{ "flow-idle-tcp-closed", 0, NULL, "S", true, set_idle_tcp_closed, "... after FIN or RST, for late segments (default 60)" },
	{ "flow-idle-udp", 0, NULL, "S", true, set_idle_udp, "... of UDP (default 60)" },
	{ "flow-idle-icmp", 0, NULL, "S", true, set_idle_icmp, "... of ICMP (default 30)" },
	{ "flow-idle-other", 0, NULL, "S", true, set_idle_other, "... of anything else (default 60)" },
	{ "verbose", 'v', "yes", NULL, true, set_verbose, "log more" },
};

static const struct wl_options_spec capd_spec = {
	.prog = "wlite-capd",
	.version = WLITE_VERSION,
	.summary = "Capture packets, decode them and publish them to subscribers.",
	.section = "capd",
	.default_config = CAPD_DEFAULT_CONFIG,
	.options = capd_option_table,
	.n_options = sizeof(capd_option_table) / sizeof(capd_option_table[0]),
};

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
	opt->track_flows = true;
	flow_config_default(&opt->flow);
}

/*
 * The control channel has no authentication: whoever can connect may pause
 * the capture or change its filter and interface. An ipc:// socket is guarded
 * by its file's mode and group; anything else (tcp://, ws://) is open to the
 * network, so it takes an explicit flag.
 */
static int check_control_address(const struct capd_options *opt, char *err, size_t errlen)
{
	if (strncmp(opt->control, "ipc://", 6) == 0 || opt->control_insecure_tcp)
		return 0;
	snprintf(err, errlen,
		 "refusing the control address %s: the control channel has no authentication, so "
		 "anyone who can reach it could pause capture or change its filter; use an ipc:// "
		 "address, or give --control-insecure-tcp (control-insecure-tcp = yes) to accept that",
		 opt->control);
	return -EPERM;
}

/*
 * The flows-only socket is a second publisher: on the address of another
 * socket its bind would fail with a less helpful "address in use", and
 * without flows it would carry nothing but stats.
 */
static int check_publish_flows(const struct capd_options *opt, char *err, size_t errlen)
{
	if (!opt->publish_flows[0])
		return 0;
	if (strcmp(opt->publish_flows, opt->publish) == 0 || strcmp(opt->publish_flows, opt->control) == 0) {
		snprintf(err, errlen, "--publish-flows %s must differ from --publish and --control", opt->publish_flows);
		return -EINVAL;
	}
	if (!opt->track_flows) {
		snprintf(err, errlen, "--publish-flows needs flows: drop --no-flows (no-flows = yes)");
		return -EINVAL;
	}
	return 0;
}

enum capd_parse_result capd_options_parse(int argc, char **argv, struct capd_options *opt,
					  char *err, size_t errlen)
{
	enum capd_parse_result r;

	set_defaults(opt);
	r = (enum capd_parse_result)wl_options_parse(&capd_spec, opt, argc, argv, opt->config_file,
						      sizeof(opt->config_file), err, errlen);
	if (r == CAPD_PARSE_RUN &&
	    (check_control_address(opt, err, errlen) < 0 || check_publish_flows(opt, err, errlen) < 0))
		return CAPD_PARSE_ERROR;
	if (r == CAPD_PARSE_RUN && opt->flows && (!opt->read_file[0] || opt->json)) {
		snprintf(err, errlen, "--flows needs --read FILE, and goes without --json");
		return CAPD_PARSE_ERROR;
	}
	return r;
}
