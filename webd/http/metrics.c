/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The figures are copied under the state lock into plain structs (a few
 * hundred bytes a sensor), the lock is released, and only then is the text
 * written and sent: a scrape holds up the ingest for a copy, never for a
 * client. Every family is written whole (HELP, TYPE, then each sensor's
 * sample), as the format wants; a figure that is not known (capd has not
 * sent its stats yet, flows are off) is left out rather than given as 0.
 */
#include "http/metrics.h"

#include "geo/geo.h"
#include "geo/ipapi.h"
#include "history/history.h"
#include "http/http.h"
#include "http/promtext.h"
#include "live/counters.h"
#include "live/feed.h"
#include "live/ingest.h"
#include "live/state.h"
#include "text.h"
#include "version.h"
#include "webd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* capd sends its stats once a second: a sensor silent for longer than this is down. */
#define SENSOR_UP_SECONDS 5

enum sensor_metric {
	SM_UP,
	SM_LAST_HEARD,
	SM_RESTARTS,
	SM_PACKETS,
	SM_BYTES,
	SM_IPC_GAPS,
	SM_IPC_MISSED,
	SM_KERNEL_RECEIVED,
	SM_KERNEL_DROPS,
	SM_INTERFACE_DROPS,
	SM_REFUSED_PACKETS,
	SM_REFUSED_MESSAGES,
	SM_REFUSED_REPORTS,
	SM_FLOWS_ACTIVE,
	SM_FLOWS_CREATED,
	SM_FLOWS_ENDED,
	SM_FLOWS_EVICTED,
	SM_FLOW_REPORTS,
	SM_FLOW_REPORTS_MISSED,
	SM_ALERTS_ACTIVE,
	SM_BAD_BATCHES,
	SM_BAD_TIMESTAMPS,
	SM_LOCK_WAITS,
	SM_HANDOFF_FULL,
	SM_RCVBUF,
	SM__MAX
};

static const struct {
	const char *name, *type, *help;
	int capd; /* the capd counter it exports (counters.h), or -1 */
} sensor_metrics[SM__MAX] = {
	[SM_UP] = { "wlite_sensor_up", "gauge",
		    "1 when webd heard from the sensor within the last 5 seconds (capd sends stats every second)", -1 },
	[SM_LAST_HEARD] = { "wlite_sensor_last_heard_timestamp_seconds", "gauge",
			    "When webd last heard from the sensor, seconds since the epoch", -1 },
	[SM_RESTARTS] = { "wlite_sensor_restarts_total", "counter",
			  "Restarts of the sensor's capd seen by webd (its counters started over)", -1 },
	[SM_PACKETS] = { "wlite_packets_total", "counter", "Packets webd received from the sensor", -1 },
	[SM_BYTES] = { "wlite_bytes_total", "counter",
		       "Bytes on the wire of the packets webd received from the sensor", -1 },
	[SM_IPC_GAPS] = { "wlite_ipc_gaps_total", "counter",
			  "Jumps in capd's packet sequence numbers seen by webd (packets lost between capd and webd)",
			  -1 },
	[SM_IPC_MISSED] = { "wlite_ipc_missed_packets_total", "counter",
			    "Packets capd numbered that webd never received (IPC gaps, in packets)", -1 },
	[SM_KERNEL_RECEIVED] = { "wlite_kernel_received_packets_total", "counter",
				 "Packets the kernel's capture received for capd (libpcap ps_recv)",
				 CAPD_KERNEL_RECEIVED },
	[SM_KERNEL_DROPS] = { "wlite_kernel_drops_total", "counter",
			      "Packets the kernel dropped because capd's capture buffer was full (libpcap ps_drop)",
			      CAPD_KERNEL_DROPS },
	[SM_INTERFACE_DROPS] = { "wlite_interface_drops_total", "counter",
				 "Packets the network interface or its driver dropped (libpcap ps_ifdrop)",
				 CAPD_INTERFACE_DROPS },
	[SM_REFUSED_PACKETS] = { "wlite_publish_refused_packets_total", "counter",
				 "Packets capd's publish socket refused (its send buffer was full)",
				 CAPD_REFUSED_PACKETS },
	[SM_REFUSED_MESSAGES] = { "wlite_publish_refused_messages_total", "counter",
				  "Messages (batches) capd's publish socket refused", CAPD_REFUSED_MESSAGES },
	[SM_REFUSED_REPORTS] = { "wlite_publish_refused_flow_reports_total", "counter",
				 "Flow reports capd's publish socket refused", CAPD_REFUSED_REPORTS },
	[SM_FLOWS_ACTIVE] = { "wlite_flows_active", "gauge", "Flows in capd's flow table now", -1 },
	[SM_FLOWS_CREATED] = { "wlite_flows_created_total", "counter", "Flows capd's flow table began",
			       CAPD_FLOWS_CREATED },
	[SM_FLOWS_ENDED] = { "wlite_flows_ended_total", "counter", "Flows capd's flow table ended (any reason)",
			     CAPD_FLOWS_ENDED },
	[SM_FLOWS_EVICTED] = { "wlite_flows_evicted_total", "counter",
			       "Flows capd ended early to make room (its table was full)", CAPD_FLOWS_EVICTED },
	[SM_FLOW_REPORTS] = { "wlite_flow_reports_total", "counter", "Flow reports webd received from the sensor",
			      -1 },
	[SM_FLOW_REPORTS_MISSED] = { "wlite_flow_reports_missed_total", "counter",
				     "Flow reports capd numbered that webd never received", -1 },
	[SM_ALERTS_ACTIVE] = { "wlite_alerts_active", "gauge", "Flood alerts open now for the sensor's traffic",
			       -1 },
	[SM_BAD_BATCHES] = { "wlite_bad_batches_total", "counter",
			     "Packet and flow batches from the sensor webd could not read", -1 },
	[SM_BAD_TIMESTAMPS] = { "wlite_bad_timestamps_total", "counter",
				"Packets and flow reports dropped for an impossible capture time", -1 },
	[SM_LOCK_WAITS] = { "wlite_ingest_lock_waits_total", "counter",
			    "Messages from the sensor that found the state lock busy and waited in the hand-off", -1 },
	[SM_HANDOFF_FULL] = { "wlite_ingest_handoff_full_total", "counter",
			      "Times the ingest's hand-off filled up (the kernel's socket buffer was next)", -1 },
	[SM_RCVBUF] = { "wlite_sensor_receive_buffer_bytes", "gauge",
			"The receive buffer the kernel gave the subscription to the sensor", -1 },
};

struct sensor_figures {
	char name[SENSOR_NAME_MAX];
	uint64_t v[SM__MAX];
	bool have[SM__MAX];
};

/* What the state lock guards, copied. */
struct state_figures {
	size_t n_sensors;
	struct sensor_figures *sensors;
	uint64_t hosts, hosts_evicted, geo_lookups;
	uint64_t ring_packets, ring_bytes, ring_evicted;
	uint64_t flow_table_flows, flow_table_evicted;
	bool geo_database;
};

static void set(struct sensor_figures *f, enum sensor_metric m, uint64_t v)
{
	f->v[m] = v;
	f->have[m] = true;
}

/* One sensor's figures (state lock held). */
static void copy_sensor(const struct sensor_stats *ss, int64_t now, struct sensor_figures *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", ss->name);
	set(f, SM_UP, ss->last_heard && now - ss->last_heard <= SENSOR_UP_SECONDS);
	if (ss->last_heard > 0)
		set(f, SM_LAST_HEARD, (uint64_t)ss->last_heard);
	set(f, SM_RESTARTS, capd_counters_restarts(&ss->capd));
	set(f, SM_PACKETS, ss->packets);
	set(f, SM_BYTES, ss->bytes);
	set(f, SM_IPC_GAPS, ss->seq.gaps);
	set(f, SM_IPC_MISSED, ss->seq.missed);
	for (int m = 0; m < SM__MAX; m++)
		if (sensor_metrics[m].capd >= 0)
			f->have[m] = capd_counters_total(&ss->capd, (enum capd_counter)sensor_metrics[m].capd, &f->v[m]);
	if (ss->capd.have_flows_active)
		set(f, SM_FLOWS_ACTIVE, ss->capd.flows_active);
	set(f, SM_FLOW_REPORTS, ss->flow_reports);
	set(f, SM_FLOW_REPORTS_MISSED, ss->flow_seq.missed);
	set(f, SM_ALERTS_ACTIVE, 0); /* counted over the alert list */
	set(f, SM_BAD_BATCHES, ss->bad_batches + ss->bad_flow_batches);
	set(f, SM_BAD_TIMESTAMPS, ss->bad_timestamps + ss->bad_flow_timestamps);
	set(f, SM_LOCK_WAITS, ss->handoff_waited);
	set(f, SM_HANDOFF_FULL, ss->handoff_filled);
	if (ss->rcvbuf >= 0)
		set(f, SM_RCVBUF, (uint64_t)ss->rcvbuf);
}

/* Takes the state lock for the copy only. Returns 0 or -ENOMEM. */
static int copy_state(struct webd *w, struct state_figures *sf)
{
	struct state *s = &w->state;
	int64_t now = (int64_t)time(NULL);

	memset(sf, 0, sizeof(*sf));
	pthread_mutex_lock(&s->lock);
	sf->sensors = calloc(s->n_sensors ? s->n_sensors : 1, sizeof(*sf->sensors));
	if (!sf->sensors) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	sf->n_sensors = s->n_sensors;
	for (size_t i = 0; i < s->n_sensors; i++)
		copy_sensor(&s->sensors[i], now, &sf->sensors[i]);
	for (size_t i = 0; i < s->alerts_count; i++) {
		const struct alert *a = state_alert_at(s, i);

		if (!a->cleared && a->sensor < sf->n_sensors)
			sf->sensors[a->sensor].v[SM_ALERTS_ACTIVE]++;
	}
	sf->hosts = s->n_hosts;
	sf->hosts_evicted = s->hosts_evicted + s->hosts_chain_evicted;
	/* Each new host is classified and, when public, looked up in the databases once (state.c). */
	sf->geo_lookups = s->n_hosts + sf->hosts_evicted;
	sf->ring_packets = s->ring_count;
	sf->ring_bytes = s->ring_bytes;
	sf->ring_evicted = s->evicted;
	sf->flow_table_flows = s->flows.stats.n;
	sf->flow_table_evicted = s->flows.stats.evicted_ended + s->flows.stats.evicted_active;
	sf->geo_database = geo_has_databases(w->geo); /* reload swaps it under this lock */
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void write_sensors(struct text *t, const struct state_figures *sf)
{
	for (int m = 0; m < SM__MAX; m++) {
		promtext_family(t, sensor_metrics[m].name, sensor_metrics[m].type, sensor_metrics[m].help);
		for (size_t i = 0; i < sf->n_sensors; i++)
			if (sf->sensors[i].have[m])
				promtext_u64(t, sensor_metrics[m].name, "sensor", sf->sensors[i].name, sf->sensors[i].v[m]);
	}
}

/* A family of one sample without labels. */
static void one_u64(struct text *t, const char *name, const char *type, const char *help, uint64_t v)
{
	promtext_family(t, name, type, help);
	promtext_u64(t, name, NULL, NULL, v);
}

static void write_state(struct text *t, const struct state_figures *sf)
{
	one_u64(t, "wlite_hosts", "gauge", "Addresses in webd's host table", sf->hosts);
	one_u64(t, "wlite_hosts_evicted_total", "counter", "Hosts given up to make room for new ones",
		sf->hosts_evicted);
	one_u64(t, "wlite_ring_packets", "gauge", "Packets in the live ring", sf->ring_packets);
	one_u64(t, "wlite_ring_bytes", "gauge", "Bytes of the packets in the live ring", sf->ring_bytes);
	one_u64(t, "wlite_ring_evicted_total", "counter", "Packets the live ring let go to make room",
		sf->ring_evicted);
	one_u64(t, "wlite_flow_table_flows", "gauge", "Flows in webd's table of every sensor's flow reports",
		sf->flow_table_flows);
	one_u64(t, "wlite_flow_table_evicted_total", "counter", "Flows webd's flow table let go to make room",
		sf->flow_table_evicted);
	one_u64(t, "wlite_geo_database_loaded", "gauge", "1 when a local geolocation database is open",
		sf->geo_database);
	one_u64(t, "wlite_geo_lookups_total", "counter",
		"New addresses geolocated: each is classified once and, when public, looked up in the local "
		"databases",
		sf->geo_lookups);
}

static void write_ipapi(struct text *t, struct ipapi *c)
{
	struct ipapi_stats is;

	ipapi_get_stats(c, &is);
	one_u64(t, "wlite_ipapi_queued_total", "counter",
		"Addresses the local databases could not place, queued for ip-api", is.queued);
	one_u64(t, "wlite_ipapi_requests_total", "counter", "Batch requests sent to ip-api", is.requests);
	one_u64(t, "wlite_ipapi_failures_total", "counter",
		"Requests to ip-api that failed (no network, refused, time-out, bad answer)", is.failed);
	one_u64(t, "wlite_ipapi_answers_total", "counter", "Addresses ip-api answered for, placed or not",
		is.answered);
	one_u64(t, "wlite_ipapi_rate_limited_total", "counter", "Times ip-api said to wait (HTTP 429 or X-Rl 0)",
		is.rate_limited);
	one_u64(t, "wlite_ipapi_dropped_total", "counter", "Addresses not queued for ip-api: its queue was full",
		is.dropped);
	one_u64(t, "wlite_ipapi_cache_hits_total", "counter", "Look-ups answered by the ip-api cache",
		is.cache_hits);
	one_u64(t, "wlite_ipapi_backing_off", "gauge", "1 while ip-api requests wait after failures",
		is.backing_off);
}

static void write_history(struct text *t, struct history *h)
{
	struct history_stats hs;
	const char *rows = "wlite_history_rows_written_total", *lost = "wlite_history_rows_dropped_total";

	history_get_stats(h, &hs);
	one_u64(t, "wlite_history_enabled", "gauge", "1 when the SQLite history is on", hs.enabled);
	if (!hs.enabled)
		return;
	one_u64(t, "wlite_history_paused", "gauge", "1 while history cannot write (disk full, unwritable)",
		hs.paused);
	promtext_family(t, rows, "counter", "Rows committed to the history database, by table");
	promtext_u64(t, rows, "table", "packets", hs.stored);
	promtext_u64(t, rows, "table", "dns", hs.stored_dns);
	promtext_u64(t, rows, "table", "alerts", hs.stored_alerts);
	promtext_u64(t, rows, "table", "rates", hs.stored_rates);
	promtext_family(t, lost, "counter",
			"Rows history did not store (queue full, paused, a failed batch): packets, and alerts and "
			"rates together");
	promtext_u64(t, lost, "table", "packets", hs.dropped);
	promtext_u64(t, lost, "table", "alerts_and_rates", hs.dropped_other);
	one_u64(t, "wlite_history_raw_dropped_total", "counter",
		"Packets stored without their raw bytes (the byte queue was full)", hs.raw_dropped);
	one_u64(t, "wlite_history_queue_rows", "gauge", "Rows waiting for the history writer", hs.queued);
	one_u64(t, "wlite_history_database_bytes", "gauge", "Size of the history database and its WAL",
		hs.db_bytes);
	promtext_family(t, "wlite_history_write_seconds_total", "counter",
			"Time the history writer spent writing batches");
	promtext_double(t, "wlite_history_write_seconds_total", NULL, NULL, hs.write_seconds);
}

static void write_feed_http(struct text *t, struct webd *w)
{
	struct feed_stats fs;
	struct guard_stats gs;
	size_t queued, queued_bytes;
	const char *cut = "wlite_http_connections_cut_total";

	feed_get_stats(w->feed, &fs);
	one_u64(t, "wlite_feed_clients", "gauge", "Live feed clients (SSE and WebSocket) connected", fs.clients);
	one_u64(t, "wlite_feed_clients_dropped_total", "counter", "Live feed clients dropped for not keeping up",
		fs.clients_dropped);
	one_u64(t, "wlite_feed_updates_total", "counter", "Live feed updates built (ten a second)", fs.updates);
	one_u64(t, "wlite_feed_rows_sent_total", "counter", "Packet rows sent in live feed updates", fs.rows_sent);
	one_u64(t, "wlite_feed_rows_skipped_total", "counter",
		"Packet rows left out of live feed updates (more arrived than --feed-rows)", fs.rows_skipped);
	ingest_queue_depth(w->ingest, &queued, &queued_bytes);
	one_u64(t, "wlite_ingest_queue_messages", "gauge",
		"Messages from the sensors waiting in the ingest's hand-off for the state lock", queued);
	one_u64(t, "wlite_ingest_queue_bytes", "gauge", "Bytes of the messages waiting in the ingest's hand-off",
		queued_bytes);
	guard_get_stats(&w->guard, &gs);
	one_u64(t, "wlite_http_connections", "gauge", "HTTP connections open", gs.open);
	one_u64(t, "wlite_http_half_open_connections", "gauge", "HTTP connections still sending their first request",
		gs.half_open);
	promtext_family(t, cut, "counter",
			"HTTP connections the guard cut: stalled in their headers, or their address held too many");
	promtext_u64(t, cut, "reason", "half_open", gs.cut_half_open);
	promtext_u64(t, cut, "reason", "per_address", gs.cut_per_addr);
	one_u64(t, "wlite_http_rejected_total", "counter", "Requests refused with a 4xx (bad requests, tokens, origins)",
		atomic_load(&w->http_rejected));
}

/* ---- The process, under client libraries' standard names ---------------------------- */

/* A small file of /proc, NUL-terminated; its length, or -1. */
static ssize_t read_proc(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Boot time plus the process's start in clock ticks since boot (proc(5): stat, field 22). */
static bool start_time(double *ret)
{
	char stat[1024], all[8192];
	const char *p, *btime;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);

	if (read_proc("/proc/self/stat", stat, sizeof(stat)) < 0 || !(p = strrchr(stat, ')')) ||
	    read_proc("/proc/stat", all, sizeof(all)) < 0 || !(btime = strstr(all, "\nbtime ")) || hz <= 0)
		return false;
	/* The command may hold spaces and ')': fields count from its last ')', state being the 3rd. */
	for (int field = 3; field <= 22 && p; field++)
		p = strchr(p + 1, ' '); /* the space before this field */
	if (!p || sscanf(p, " %llu", &ticks) != 1)
		return false;
	*ret = strtod(btime + 7, NULL) + (double)ticks / (double)hz;
	return true;
}

static uint64_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	uint64_t n = 0;
	struct dirent *e;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n ? n - 1 : 0; /* not the directory's own descriptor */
}

static void write_process(struct text *t)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long long pages_total = 0, pages_resident = 0;
	char statm[256];
	double started;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		promtext_family(t, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
		promtext_double(t, "process_cpu_seconds_total", NULL, NULL,
				(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
					(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	if (read_proc("/proc/self/statm", statm, sizeof(statm)) > 0 &&
	    sscanf(statm, "%llu %llu", &pages_total, &pages_resident) == 2) {
		one_u64(t, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", pages_total * page);
		one_u64(t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
			pages_resident * page);
	}
	if (start_time(&started)) {
		promtext_family(t, "process_start_time_seconds", "gauge",
				"Start time of the process since unix epoch in seconds.");
		promtext_double(t, "process_start_time_seconds", NULL, NULL, started);
	}
	one_u64(t, "process_open_fds", "gauge", "Number of open file descriptors.", open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		one_u64(t, "process_max_fds", "gauge", "Maximum number of open file descriptors.", rl.rlim_cur);
}

static void write_all(struct text *t, struct webd *w, const struct state_figures *sf)
{
	promtext_family(t, "wlite_build_info", "gauge", "webd's version, as a label; always 1");
	promtext_u64(t, "wlite_build_info", "version", WLITE_VERSION, 1);
	write_sensors(t, sf);
	write_state(t, sf);
	write_feed_http(t, w);
	write_history(t, w->history);
	write_ipapi(t, w->ipapi);
	write_process(t);
}

int metrics_serve(struct webd *w, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct state_figures sf;
	struct text t = { 0 };
	int status;

	if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0)
		return http_send_error(w, conn, 405, "use GET");
	if ((status = http_authorize(w, conn)) != 0)
		return status;
	if (copy_state(w, &sf) < 0)
		return http_send_error(w, conn, 503, "out of memory");
	write_all(&t, w, &sf);
	free(sf.sensors);
	if (t.failed)
		status = http_send_error(w, conn, 503, "out of memory");
	else
		status = http_send(conn, 200, PROMTEXT_CONTENT_TYPE, t.buf, t.len);
	text_free(&t);
	return status;
}
