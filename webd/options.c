/* SPDX-License-Identifier: BSD-2-Clause */
/* webd's flags and [webd] configuration keys (common/cli.h). */
#include "options.h"

#include "cli.h"
#include "history/history.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OPT(o) ((struct webd_options *)(o))

#define STRING_SETTER(field, what)                                                        \
	static int set_##field(void *o, const char *v, char *err, size_t errlen)          \
	{                                                                                 \
		return wl_opt_string(OPT(o)->field, sizeof(OPT(o)->field), v, what, err, errlen); \
	}

#define NUMBER_SETTER(name, lvalue, lo, hi, what)                                         \
	static int set_##name(void *o, const char *v, char *err, size_t errlen)           \
	{                                                                                 \
		long n;                                                                   \
		int r = wl_opt_int(v, lo, hi, what, &n, err, errlen);                     \
		if (r == 0)                                                               \
			lvalue = n;                                                       \
		return r;                                                                 \
	}

STRING_SETTER(control, "control")
STRING_SETTER(token, "token")
STRING_SETTER(web_root, "web-root")
STRING_SETTER(geo_country, "geo-country")
STRING_SETTER(geo_city, "geo-city")
STRING_SETTER(geo_asn, "geo-asn")
STRING_SETTER(ip_api, "ip-api")
STRING_SETTER(token_file, "token-file")
STRING_SETTER(history, "history")
NUMBER_SETTER(ring_packets, OPT(o)->limits.ring_packets, 100, 10000000, "ring-packets")
NUMBER_SETTER(hosts, OPT(o)->limits.hosts, 16, 10000000, "hosts")
NUMBER_SETTER(dns_log, OPT(o)->limits.dns_log, 10, 1000000, "dns-log")
NUMBER_SETTER(flows, OPT(o)->limits.flows, 16, FLOWS_LIMIT_MAX, "flows")
NUMBER_SETTER(alert_packets, OPT(o)->limits.alert_packets, 1, 100000000, "alert-packets")
NUMBER_SETTER(alert_window, OPT(o)->limits.alert_window_s, 1, STATE_ALERT_BUCKETS, "alert-window (s)")
NUMBER_SETTER(alert_cooldown, OPT(o)->limits.alert_cooldown_s, 0, 86400, "alert-cooldown (s)")
NUMBER_SETTER(scan_ports, OPT(o)->limits.flow_alerts.scan_ports, 0, FLOW_ALERTS_SCAN_MAX, "scan-ports")
NUMBER_SETTER(scan_hosts, OPT(o)->limits.flow_alerts.scan_hosts, 0, FLOW_ALERTS_SCAN_MAX, "scan-hosts")
NUMBER_SETTER(syn_flood_flows, OPT(o)->limits.flow_alerts.syn_flood_flows, 0, 100000000, "syn-flood-flows")
NUMBER_SETTER(retrans_percent, OPT(o)->limits.flow_alerts.retrans_percent, 0, 100, "retrans-percent")
NUMBER_SETTER(retrans_packets, OPT(o)->limits.flow_alerts.retrans_packets, 1, 100000000, "retrans-packets")
NUMBER_SETTER(flow_alert_window, OPT(o)->limits.flow_alerts.window_s, 1, FLOW_ALERTS_WINDOW_MAX,
	      "flow-alert-window (s)")
NUMBER_SETTER(flow_alert_tracked, OPT(o)->limits.flow_alerts.tracked, 16, FLOW_ALERTS_TRACKED_MAX,
	      "flow-alert-tracked")
NUMBER_SETTER(max_clients, OPT(o)->max_clients, 1, 1000, "max-clients")
NUMBER_SETTER(feed_rows, OPT(o)->feed_rows, 1, 10000, "feed-rows")
NUMBER_SETTER(threads, OPT(o)->threads, 4, 256, "threads")
NUMBER_SETTER(history_max_age, OPT(o)->history_max_age_days, 1, 36500, "history-max-age (days)")
NUMBER_SETTER(history_max_mb, OPT(o)->history_max_mb, 1, 16777216, "history-max-mb")
NUMBER_SETTER(history_raw_hours, OPT(o)->history_raw_hours, 0, 87600, "history-raw-hours")
NUMBER_SETTER(history_queue, OPT(o)->history_queue, 1024, 16777216, "history-queue")

static int set_ring_mb(void *o, const char *v, char *err, size_t errlen)
{
	long mb;
	int r = wl_opt_int(v, 1, 65536, "ring-mb", &mb, err, errlen);

	if (r == 0)
		OPT(o)->limits.ring_bytes = (size_t)mb * 1024 * 1024;
	return r;
}

/* Repeatable, and a space-separated list too: each use adds to the list. */
static int append_word(char *list, size_t size, const char *v, const char *what, char *err, size_t errlen)
{
	size_t used = strlen(list);

	if (strlen(v) + used + 2 > size) {
		snprintf(err, errlen, "%s: at most %zu characters in all", what, size - 1);
		return -E2BIG;
	}
	snprintf(list + used, size - used, "%s%s", used ? " " : "", v);
	return 0;
}

static int set_allow_host(void *o, const char *v, char *err, size_t errlen)
{
	return append_word(OPT(o)->allow_hosts, sizeof(OPT(o)->allow_hosts), v, "allow-host", err, errlen);
}

static int set_allowed_origins(void *o, const char *v, char *err, size_t errlen)
{
	return append_word(OPT(o)->allowed_origins, sizeof(OPT(o)->allowed_origins), v, "allow-origin", err, errlen);
}

static int set_allow_root(void *o, const char *v, char *err, size_t errlen)
{
	return wl_opt_bool(v, "allow-root", &OPT(o)->allow_root, err, errlen);
}

static int set_verbose(void *o, const char *v, char *err, size_t errlen)
{
	return wl_opt_bool(v, "verbose", &OPT(o)->verbose, err, errlen);
}

/* HOST:PORT with a numeric IPv4 host, since this civetweb has no IPv6. */
static int set_listen(void *o, const char *v, char *err, size_t errlen)
{
	unsigned a, b, c, d, port;
	char tail;

	if (sscanf(v, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &port, &tail) != 5 || a > 255 || b > 255 ||
	    c > 255 || d > 255 || port == 0 || port > 65535) {
		snprintf(err, errlen, "listen must be IPV4:PORT, such as 127.0.0.1:8080, not '%s'", v);
		return -EINVAL;
	}
	return wl_opt_string(OPT(o)->listen, sizeof(OPT(o)->listen), v, "listen", err, errlen);
}

static int set_home_country(void *o, const char *v, char *err, size_t errlen)
{
	if (strlen(v) != 2 || !isalpha((unsigned char)v[0]) || !isalpha((unsigned char)v[1])) {
		snprintf(err, errlen, "home-country must be a two-letter code such as DE, not '%s'", v);
		return -EINVAL;
	}
	OPT(o)->limits.home_country[0] = (char)toupper((unsigned char)v[0]);
	OPT(o)->limits.home_country[1] = (char)toupper((unsigned char)v[1]);
	OPT(o)->limits.home_country[2] = '\0';
	return 0;
}

/* --capd [NAME=]ADDR, repeatable: the first one replaces the default. */
static int set_capd(void *o, const char *v, char *err, size_t errlen)
{
	struct webd_options *opt = o;
	const char *eq = strchr(v, '='), *scheme = strstr(v, "://");
	struct webd_sensor_opt *s;
	bool named = eq && (!scheme || eq < scheme);

	if (!opt->sensors_given) {
		opt->n_sensors = 0;
		opt->sensors_given = true;
	}
	if (opt->n_sensors >= WL_SENSORS_MAX) {
		snprintf(err, errlen, "at most %d capd addresses", WL_SENSORS_MAX);
		return -E2BIG;
	}
	s = &opt->sensors[opt->n_sensors];
	if (named && ((size_t)(eq - v) >= sizeof(s->name) || eq == v)) {
		snprintf(err, errlen, "sensor name must be 1 to %zu characters", sizeof(s->name) - 1);
		return -EINVAL;
	}
	if (wl_opt_string(s->addr, sizeof(s->addr), named ? eq + 1 : v, "capd address", err, errlen) < 0)
		return -EINVAL;
	if (named)
		snprintf(s->name, sizeof(s->name), "%.*s", (int)(eq - v), v);
	else
		snprintf(s->name, sizeof(s->name), "%s", opt->n_sensors == 0 ? "capd" : "");
	if (!s->name[0])
		snprintf(s->name, sizeof(s->name), "capd%zu", opt->n_sensors + 1);
	opt->n_sensors++;
	return 0;
}

/*
 * --sensor-url NAME=URL, repeatable: where a sensor's own dashboard is.
 * Shown as a link, so only http:// and https:// and printable ASCII without
 * spaces or quotes: never a javascript: or data: URL.
 */
static int set_sensor_url(void *o, const char *v, char *err, size_t errlen)
{
	struct webd_options *opt = o;
	const char *eq = strchr(v, '='), *url = eq ? eq + 1 : "";
	struct webd_sensor_url *s;

	if (opt->n_sensor_urls >= WL_SENSORS_MAX) {
		snprintf(err, errlen, "at most %d sensor URLs", WL_SENSORS_MAX);
		return -E2BIG;
	}
	s = &opt->sensor_urls[opt->n_sensor_urls];
	if (!eq || eq == v || (size_t)(eq - v) >= sizeof(s->name)) {
		snprintf(err, errlen, "sensor-url must be NAME=URL, with a sensor name of 1 to %zu characters",
			 sizeof(s->name) - 1);
		return -EINVAL;
	}
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "sensor-url: the URL must start with http:// or https://");
		return -EINVAL;
	}
	for (const char *c = url; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f || *c == '"' || *c == '\\' || *c == '<' || *c == '>') {
			snprintf(err, errlen, "sensor-url: the URL must be printable ASCII without spaces, quotes or <>");
			return -EINVAL;
		}
	if (wl_opt_string(s->url, sizeof(s->url), url, "sensor-url", err, errlen) < 0)
		return -EINVAL;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)(eq - v), v);
	for (size_t i = 0; i < opt->n_sensor_urls; i++)
		if (strcmp(opt->sensor_urls[i].name, s->name) == 0) {
			snprintf(err, errlen, "sensor-url: %s is given twice", s->name);
			return -EINVAL;
		}
	opt->n_sensor_urls++;
	return 0;
}

const char *options_sensor_url(const struct webd_options *opt, const char *name)
{
	for (size_t i = 0; i < opt->n_sensor_urls; i++)
		if (strcmp(opt->sensor_urls[i].name, name) == 0)
			return opt->sensor_urls[i].url;
	return "";
}

/* Every --sensor-url names a sensor: a misspelt name would be a link that never shows. */
static int check_sensor_urls(const struct webd_options *opt, char *err, size_t errlen)
{
	for (size_t i = 0; i < opt->n_sensor_urls; i++) {
		size_t k = 0;

		while (k < opt->n_sensors && strcmp(opt->sensors[k].name, opt->sensor_urls[i].name) != 0)
			k++;
		if (k == opt->n_sensors) {
			snprintf(err, errlen, "sensor-url: no capd is named %s", opt->sensor_urls[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct wl_option webd_option_table[] = {
	{ "capd", 0, NULL, "[NAME=]ADDR", true, set_capd, "capd publish address (repeatable; default " WEBD_DEFAULT_CAPD ")" },
	{ "sensor-url", 0, NULL, "NAME=URL", true, set_sensor_url, "a sensor's own dashboard, linked from the fleet view (repeatable)" },
	{ "control", 0, NULL, "ADDR", true, set_control, "capd control address (default " WEBD_DEFAULT_CONTROL ")" },
	{ "listen", 'l', NULL, "HOST:PORT", true, set_listen, "where to serve (default 127.0.0.1:8080)" },
	{ "token", 0, NULL, "TOKEN", true, set_token, "require this access token on every API call and the feed (visible in ps: prefer --token-file)" },
	{ "token-file", 0, NULL, "PATH", true, set_token_file, "read the access token from this file (first line; not readable by others)" },
	{ "allow-host", 0, NULL, "NAME[:PORT]", true, set_allow_host, "another name this server answers to, and allows as Origin (repeatable)" },
	{ "allow-origin", 0, NULL, "ORIGIN", true, set_allowed_origins, "another origin allowed, as https://HOST[:PORT] (repeatable)" },
	{ "web-root", 0, NULL, "DIR", true, set_web_root, "the dashboard's files (default " WLITE_DATADIR "/web)" },
	{ "geo-country", 0, NULL, "PATH", true, set_geo_country, "country .mmdb, MaxMind or flat layout (default " WLITE_DATADIR "/geo-whois-asn-country.mmdb)" },
	{ "geo-city", 0, NULL, "PATH", true, set_geo_city, "city .mmdb (optional)" },
	{ "geo-asn", 0, NULL, "PATH", true, set_geo_asn, "ASN .mmdb (optional)" },
	{ "ip-api", 0, NULL, "URL|off", true, set_ip_api, "ip-api fallback base URL (default http://ip-api.com)" },
	{ "home-country", 0, NULL, "CC", true, set_home_country, "'foreign' means public and not from CC (default: any public address)" },
	{ "ring-packets", 0, NULL, "N", true, set_ring_packets, "latest packets kept (default 100000)" },
	{ "ring-mb", 0, NULL, "MB", true, set_ring_mb, "memory for them, at most (default 128)" },
	{ "hosts", 0, NULL, "N", true, set_hosts, "addresses tracked (default 65536)" },
	{ "dns-log", 0, NULL, "N", true, set_dns_log, "DNS queries kept (default 1000)" },
	{ "flows", 0, NULL, "N", true, set_flows, "flows kept, active and ended (default 200000; ended ones make room first)" },
	{ "alert-packets", 0, NULL, "N", true, set_alert_packets, "alert when one IP sends more than N packets ... (default 200)" },
	{ "alert-window", 0, NULL, "S", true, set_alert_window, "... within S seconds (default 10)" },
	{ "alert-cooldown", 0, NULL, "S", true, set_alert_cooldown, "quiet seconds before an IP can alert again, any kind (default 60)" },
	{ "scan-ports", 0, NULL, "N", true, set_scan_ports, "alert when one IP opens flows to more than N distinct ports ... (default 100, 0: off)" },
	{ "scan-hosts", 0, NULL, "N", true, set_scan_hosts, "... or to more than N distinct hosts ... (default 100, 0: off)" },
	{ "syn-flood-flows", 0, NULL, "N", true, set_syn_flood_flows, "... or more than N half-open TCP flows go to one IP ... (default 100, 0: off)" },
	{ "flow-alert-window", 0, NULL, "S", true, set_flow_alert_window, "... within S seconds (default 60)" },
	{ "retrans-percent", 0, NULL, "P", true, set_retrans_percent, "alert on TCP flows with more than P% retransmissions ... (default 10, 0: off)" },
	{ "retrans-packets", 0, NULL, "N", true, set_retrans_packets, "... and at least N packets (default 50)" },
	{ "flow-alert-tracked", 0, NULL, "N", true, set_flow_alert_tracked, "addresses and pairs the flow alerts track (default 8192)" },
	{ "max-clients", 0, NULL, "N", true, set_max_clients, "live feed clients at once (default 32)" },
	{ "feed-rows", 0, NULL, "N", true, set_feed_rows, "rows per live update at most; more are sampled (default 50)" },
	{ "threads", 0, NULL, "N", true, set_threads, "HTTP worker threads (default 48)" },
	{ "history", 0, NULL, "PATH|off", true, set_history, "history database (default " HISTORY_DEFAULT_PATH ")" },
	{ "history-max-age", 0, NULL, "DAYS", true, set_history_max_age, "history kept this long (default 30)" },
	{ "history-max-mb", 0, NULL, "MB", true, set_history_max_mb, "history database size, at most (default 2048)" },
	{ "history-raw-hours", 0, NULL, "H", true, set_history_raw_hours, "raw bytes kept for PCAP export, 0: none (default 24)" },
	{ "history-queue", 0, NULL, "N", true, set_history_queue, "packets waiting for the history writer, at most (default 262144)" },
	{ "allow-root", 0, "yes", NULL, false, set_allow_root, "run even as root (not recommended)" },
	{ "verbose", 'v', "yes", NULL, true, set_verbose, "log more" },
};

static const struct wl_options_spec webd_spec = {
	.prog = "wlite-webd",
	.version = WLITE_VERSION,
	.summary = "Serve the wlite dashboard, REST API and live feed from capd's packets.",
	.section = "webd",
	.default_config = WEBD_DEFAULT_CONFIG,
	.options = webd_option_table,
	.n_options = sizeof(webd_option_table) / sizeof(webd_option_table[0]),
};

static void set_defaults(struct webd_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->n_sensors = 1;
	strcpy(opt->sensors[0].name, "capd");
	strcpy(opt->sensors[0].addr, WEBD_DEFAULT_CAPD);
	strcpy(opt->control, WEBD_DEFAULT_CONTROL);
	strcpy(opt->listen, "127.0.0.1:8080");
	strcpy(opt->ip_api, "http://ip-api.com");
	/* Where meson install puts them; a missing database only means no local geo. */
	snprintf(opt->web_root, sizeof(opt->web_root), "%s/web", WLITE_DATADIR);
	snprintf(opt->geo_country, sizeof(opt->geo_country), "%s/geo-whois-asn-country.mmdb", WLITE_DATADIR);
	state_default_limits(&opt->limits);
	opt->max_clients = 32;
	opt->feed_rows = 50;
	opt->threads = 48;
	snprintf(opt->history, sizeof(opt->history), "%s", HISTORY_DEFAULT_PATH);
	opt->history_max_age_days = 30;
	opt->history_max_mb = 2048;
	opt->history_raw_hours = 24;
	opt->history_queue = 262144;
}

/* The token must be printable ASCII, for a header, a cookie and a URL alike. */
static bool token_text_ok(const char *t)
{
	for (; *t; t++)
		if (*t < 0x21 || *t > 0x7e)
			return false;
	return true;
}

/*
 * --token-file: the first line of a file that others cannot read, so that
 * the token is neither in /proc/PID/cmdline nor readable by every user.
 */
static int read_token_file(struct webd_options *opt, char *err, size_t errlen)
{
	int fd = open(opt->token_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char buf[sizeof(opt->token) + 2];
	struct stat st;
	ssize_t n;
	size_t len;

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "token-file %s: %s", opt->token_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (st.st_mode & S_IROTH) {
		snprintf(err, errlen, "token-file %s is readable by every user: chmod o-rwx it", opt->token_file);
		return -EPERM;
	}
	len = n > 0 ? (size_t)n : 0;
	if (memchr(buf, '\n', len))
		len = (size_t)((char *)memchr(buf, '\n', len) - buf);
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (n < 0 || len == 0 || len >= sizeof(opt->token) || strlen(buf) != len || !token_text_ok(buf)) {
		snprintf(err, errlen, "token-file %s: the first line must be the token, 1 to %zu printable characters",
			 opt->token_file, sizeof(opt->token) - 1);
		return -EINVAL;
	}
	memcpy(opt->token, buf, len + 1);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int check_token(struct webd_options *opt, char *err, size_t errlen)
{
	if (opt->token_file[0] && opt->token[0]) {
		snprintf(err, errlen, "give the token with token or token-file, not both");
		return -EINVAL;
	}
	if (opt->token_file[0])
		return read_token_file(opt, err, errlen);
	if (opt->token[0] && !token_text_ok(opt->token)) {
		snprintf(err, errlen, "the token must be printable characters without spaces");
		return -EINVAL;
	}
	return 0;
}

enum webd_parse_result options_parse(int argc, char **argv, struct webd_options *opt, char *err, size_t errlen)
{
	enum wl_parse_result r;

	set_defaults(opt);
	r = wl_options_parse(&webd_spec, opt, argc, argv, opt->config_file, sizeof(opt->config_file), err, errlen);
	if (r == WL_PARSE_RUN && (check_token(opt, err, errlen) < 0 || check_sensor_urls(opt, err, errlen) < 0))
		r = WL_PARSE_ERROR;
	return (enum webd_parse_result)r;
}
