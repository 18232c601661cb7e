/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_OPTIONS_H
#define WEBD_OPTIONS_H

#include "live/state.h"
#include "sensors.h"
#include "version.h"

#include <stdbool.h>
#include <stddef.h>

#define WEBD_DEFAULT_CAPD "ipc:///run/wlite/capd.sock"
#define WEBD_DEFAULT_CONTROL "ipc:///run/wlite/capd-ctl.sock"
#define WEBD_DEFAULT_CONFIG WLITE_SYSCONFDIR "/wlite.conf"
#define WEBD_STR_MAX 512

struct webd_sensor_opt {
	char name[SENSOR_NAME_MAX];
	char addr[256];
};

/* --sensor-url NAME=URL: a sensor's own dashboard, for the fleet view's link. */
struct webd_sensor_url {
	char name[SENSOR_NAME_MAX];
	char url[HEALTH_URL_MAX];
};

struct webd_options {
	struct webd_sensor_opt sensors[WL_SENSORS_MAX];
	size_t n_sensors;
	struct webd_sensor_url sensor_urls[WL_SENSORS_MAX];
	size_t n_sensor_urls;
	bool sensors_given; /* the first --capd replaces the default */
	char control[256];
	char listen[128];   /* HOST:PORT */
	char token[128];    /* from --token, or read from --token-file */
	char token_file[WEBD_STR_MAX];
	char web_root[WEBD_STR_MAX];
	char geo_country[WEBD_STR_MAX];
	char geo_city[WEBD_STR_MAX];
	char geo_asn[WEBD_STR_MAX];
	char ip_api[256];   /* URL, or "off" */
	char allow_hosts[WEBD_STR_MAX];     /* --allow-host: more names this server answers to, space-separated */
	char allowed_origins[WEBD_STR_MAX]; /* extra origins allowed, space-separated */
	char history[WEBD_STR_MAX]; /* the history database, or "off" */
	unsigned history_max_age_days;
	unsigned history_max_mb;
	unsigned history_raw_hours;
	unsigned history_queue;
	struct state_limits limits;
	int max_clients;
	int feed_rows;      /* rows per live update, at most */
	int threads;
	bool allow_root;
	bool verbose;
	char config_file[WEBD_STR_MAX];
};

enum webd_parse_result {
	WEBD_PARSE_RUN = 0,
	WEBD_PARSE_EXIT_OK = 1,
	WEBD_PARSE_ERROR = -1,
};

enum webd_parse_result options_parse(int argc, char **argv, struct webd_options *opt, char *err, size_t errlen);

/* The URL given with --sensor-url for the sensor called name, or "". */
const char *options_sensor_url(const struct webd_options *opt, const char *name);

#endif
