/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wlite-tap: the reference subscriber. It connects to one or more capd
 * publishers and prints what they send as JSON lines: packets in the v1
 * schema (as `wlite-capd --read FILE --json` prints them) and the stats and
 * status events. It can also keep a rotating pcap log (-w, -C, -W) and a
 * CSV log (--csv), and it reports sequence gaps on stderr.
 *
 * Each address gets its own NN_SUB socket, so gaps are counted per sensor.
 */
#include "flow-json.h"
#include "log.h"
#include "packet-json.h"
#include "sensors.h"
#include "seq.h"
#include "version.h"
#include "wlite-wire.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ADDR "ipc:///run/wlite/capd.sock"

struct sensor {
	char name[64];
	const char *addr;
	int sock;
	struct wl_seq seq;
	struct wl_seq flow_seq; /* flow reports are numbered apart from packets */
	uint64_t packets, flows;
	double first_at, last_at; /* monotonic times of the first and last packet */
};

struct pcap_log {
	const char *base; /* -w FILE */
	long max_bytes;   /* -C, 0: no rotation */
	int max_files;    /* -W, 0: no limit */
	int index;        /* of the file being written */
	int linktype;
	pcap_t *dead;
	pcap_dumper_t *dumper;
};

struct tap {
	struct sensor sensors[WL_SENSORS_MAX];
	int n_sensors;
	bool topics[4]; /* pkt, flow, stats, status */
	uint64_t count_limit, packets;
	bool quiet;     /* no JSON on stdout (only the logs) */
	struct pcap_log pcap;
	FILE *csv, *flows_csv;
	char *json; /* WL_JSON_PACKET_MAX */
	struct wl_wire_record *rec;
	struct wl_flow_record flow;
};

enum { TOPIC_PKT, TOPIC_FLOW, TOPIC_STATS, TOPIC_STATUS, TOPIC__MAX };
static const char *const topic_names[] = { WL_TOPIC_PKT, WL_TOPIC_FLOW, WL_TOPIC_STATS, WL_TOPIC_STATUS };

/* ---- Outputs ---------------------------------------------------------------- */

/* The logs hold packet bytes and addresses: not for everyone to read. */
#define LOG_FILE_MODE 0640

/*
 * Opens a log file for writing from its start, safely even for root in a
 * directory others can write: a symlink at path is refused (O_NOFOLLOW), and
 * so is a regular file with another name elsewhere (a hard link to, say,
 * /etc/shadow); it is truncated only once that was checked. A FIFO or a
 * character device (/dev/null) is written as it is. Returns NULL with errno.
 */
static FILE *open_log_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, LOG_FILE_MODE), e = 0;
	struct stat st;
	FILE *f = NULL;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISREG(st.st_mode) && st.st_nlink > 1)
		e = EMLINK;
	else if (S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0)
		e = errno;
	else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		e = EINVAL;
	else if (!(f = fdopen(fd, "w")))
		e = errno;
	if (e) {
		close(fd);
		errno = e;
	}
	return f;
}

static void pcap_log_path(const struct pcap_log *log, int index, char *buf, size_t size)
{
	if (index == 0)
		snprintf(buf, size, "%s", log->base);
	else
		snprintf(buf, size, "%s%d", log->base, index);
}

/* Opens the next file, tcpdump -C/-W style: FILE, FILE1, FILE2, ... wrapping at -W. */
static int pcap_log_open(struct pcap_log *log, int linktype)
{
	char path[4096];
	FILE *f;

	if (log->dumper)
		pcap_dump_close(log->dumper);
	if (log->dead)
		pcap_close(log->dead);
	log->dumper = NULL;
	log->linktype = linktype;
	log->dead = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_MICRO);
	if (!log->dead)
		return -ENOMEM;
	pcap_log_path(log, log->index, path, sizeof(path));
	/* Each file of the rotation (FILE, FILE1, ...) is opened the same safe way. */
	if (!(f = open_log_file(path))) {
		wl_err("cannot write %s: %s", path, strerror(errno));
		return -EIO;
	}
	log->dumper = pcap_dump_fopen(log->dead, f);
	if (!log->dumper) {
		wl_err("cannot write %s: %s", path, pcap_geterr(log->dead));
		fclose(f); /* libpcap leaves f to us when it refuses the link type */
		return -EIO;
	}
	return 0;
}

static int pcap_log_write(struct pcap_log *log, const struct wl_wire_record *rec)
{
	struct pcap_pkthdr h = {
		.ts = { .tv_sec = (time_t)rec->pkt.ts_sec, .tv_usec = (suseconds_t)rec->pkt.ts_usec },
		.caplen = (bpf_u_int32)rec->raw_len,
		.len = rec->pkt.len,
	};

	/* A pcap file has one link type: a new one (set_interface) starts a new file. */
	if (!log->dumper || rec->linktype != log->linktype ||
	    (log->max_bytes && pcap_dump_ftell(log->dumper) >= log->max_bytes)) {
		if (log->dumper) {
			log->index++;
			if (log->max_files && log->index >= log->max_files)
				log->index = 0;
		}
		if (pcap_log_open(log, rec->linktype) < 0)
			return -EIO;
	}
	pcap_dump((u_char *)log->dumper, &h, rec->raw);
	return 0;
}

static void csv_field(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_write(FILE *f, const struct sensor *s, const struct wl_packet *pkt)
{
	char src[64] = "", dst[64] = "";

	if (pkt->outer.has & WL_HAS_SRC)
		wl_addr_str(&pkt->outer.src, src, sizeof(src));
	if (pkt->outer.has & WL_HAS_DST)
		wl_addr_str(&pkt->outer.dst, dst, sizeof(dst));
	fprintf(f, "%s,%llu,%lld.%06u,%s,%s,%s,", s->name, (unsigned long long)pkt->seq,
		(long long)pkt->ts_sec, pkt->ts_usec, src, dst, wl_proto_name(pkt->proto));
	if (pkt->outer.has & WL_HAS_SPORT)
		fprintf(f, "%u", pkt->outer.sport);
	fputc(',', f);
	if (pkt->outer.has & WL_HAS_DPORT)
		fprintf(f, "%u", pkt->outer.dport);
	fprintf(f, ",%u,", pkt->len);
	csv_field(f, pkt->info);
	fputc('\n', f);
}

#define FLOWS_CSV_HEADER                                                                                  \
	"sensor,id,end,l3,ipproto,a,a_port,b,b_port,first,last,a_packets,a_bytes,b_packets,b_bytes,app,name,"   \
	"tcp_state,rtt_ms,a_retransmissions,b_retransmissions\n"

static void csv_endpoint(FILE *f, const struct wl_flow_record *r, int side)
{
	char text[64];

	if (r->l3 == WL_L3_IPV4 || r->l3 == WL_L3_IPV6)
		fputs(wl_addr_str(&r->addr[side], text, sizeof(text)), f);
	else
		fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x", r->mac[side][0], r->mac[side][1], r->mac[side][2],
			r->mac[side][3], r->mac[side][4], r->mac[side][5]);
	fputc(',', f);
	if (r->flags & WL_FLOW_PORTS)
		fprintf(f, "%u", r->port[side]);
	fputc(',', f);
}

static void csv_time(FILE *f, int64_t us)
{
	fprintf(f, "%s%lld.%06lld,", us < 0 ? "-" : "", (long long)(us < 0 ? -us : us) / 1000000,
		(long long)(us < 0 ? -us : us) % 1000000);
}

static void csv_flow(FILE *f, const struct sensor *s, const struct wl_flow_record *r)
{
	fprintf(f, "%s,%llu,%s,%u,%u,", s->name, (unsigned long long)r->id, wl_flow_end_name(r->end), r->l3, r->ipproto);
	csv_endpoint(f, r, 0);
	csv_endpoint(f, r, 1);
	csv_time(f, r->first_us);
	csv_time(f, r->last_us);
	fprintf(f, "%llu,%llu,%llu,%llu,%s,", (unsigned long long)r->packets[0], (unsigned long long)r->bytes[0],
		(unsigned long long)r->packets[1], (unsigned long long)r->bytes[1],
		r->app ? wl_proto_name((enum wl_proto)r->app) : "");
	csv_field(f, r->name);
	if (r->flags & WL_FLOW_TCP) {
		fprintf(f, ",%s,", wl_tcp_state_name(r->tcp.state));
		if (r->tcp.rtt_us != UINT32_MAX)
			fprintf(f, "%u.%03u", r->tcp.rtt_us / 1000, r->tcp.rtt_us % 1000);
		fprintf(f, ",%u,%u\n", r->tcp.retransmissions[0], r->tcp.retransmissions[1]);
	} else {
		fputs(",,,,\n", f);
	}
}

/* ---- Input ------------------------------------------------------------------ */

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void note_seq(struct sensor *s, uint64_t seq)
{
	uint64_t before = s->seq.last, lost;

	if (before && seq <= before)
		wl_notice("%s: sequence restarted at %llu (capd restarted?)", s->name, (unsigned long long)seq);
	lost = wl_seq_packet(&s->seq, seq);
	if (lost)
		wl_warn("%s: gap of %llu packet(s) after seq %llu", s->name, (unsigned long long)lost,
			(unsigned long long)before);
}

static void print_packet(struct tap *t, const struct sensor *s, const struct wl_packet *pkt)
{
	long n = wl_json_packet(pkt, t->json, WL_JSON_PACKET_MAX);

	if (n <= 0)
		return;
	/* With several sensors, say which one: a key the schema leaves to readers to ignore. */
	if (t->n_sensors > 1) {
		printf("{\"sensor\":\"%s\",", s->name);
		fwrite(t->json + 1, 1, (size_t)n - 1, stdout);
	} else {
		fwrite(t->json, 1, (size_t)n, stdout);
	}
}

static int handle_batch(struct tap *t, struct sensor *s, const uint8_t *body, size_t len)
{
	struct wl_wire_reader r;
	int rc = wl_wire_reader_init(&r, body, len);

	if (rc == -EPROTO) {
		wl_warn("%s: dropping a batch of another wire version", s->name);
		return 0;
	}
	while (rc >= 0 && (rc = wl_wire_next(&r, t->rec)) == 1) {
		struct wl_packet *pkt = &t->rec->pkt;

		note_seq(s, pkt->seq);
		s->last_at = monotonic_now();
		if (s->packets++ == 0)
			s->first_at = s->last_at;
		t->packets++;
		if (!t->quiet)
			print_packet(t, s, pkt);
		if (t->pcap.base && pcap_log_write(&t->pcap, t->rec) < 0)
			return -EIO;
		if (t->csv)
			csv_write(t->csv, s, pkt);
		if (t->count_limit && t->packets >= t->count_limit)
			return 1;
	}
	if (rc < 0)
		wl_warn("%s: malformed batch, rest dropped", s->name);
	return 0;
}

static int handle_flows(struct tap *t, struct sensor *s, const uint8_t *body, size_t len)
{
	struct wl_wire_reader r;
	int rc = wl_wire_reader_init(&r, body, len);
	char line[WL_JSON_FLOW_MAX];

	if (rc == -EPROTO) {
		wl_warn("%s: dropping a flow batch of another wire version", s->name);
		return 0;
	}
	while (rc >= 0 && (rc = wl_wire_next_flow(&r, &t->flow)) == 1) {
		uint64_t before = s->flow_seq.last, lost = wl_seq_packet(&s->flow_seq, t->flow.seq);
		long n;

		if (lost)
			wl_warn("%s: gap of %llu flow report(s) after flow seq %llu", s->name, (unsigned long long)lost,
				(unsigned long long)before);
		s->flows++;
		if (!t->quiet && (n = wl_json_flow(&t->flow, t->n_sensors > 1 ? s->name : NULL, line, sizeof(line))) > 0)
			fwrite(line, 1, (size_t)n, stdout);
		if (t->flows_csv)
			csv_flow(t->flows_csv, s, &t->flow);
	}
	if (rc < 0)
		wl_warn("%s: malformed flow batch, rest dropped", s->name);
	return 0;
}

/*
 * capd sends "stats" after the packets it has counted, on the same pipe:
 * a stats seq beyond the last packet seen means those packets were lost,
 * even when no later packet arrives to show the gap.
 */
static void check_stats_seq(struct sensor *s, const char *json, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
	uint64_t before = s->seq.last, lost;

	if (cJSON_IsNumber(seq) && seq->valuedouble >= 0 && (lost = wl_seq_sent(&s->seq, (uint64_t)seq->valuedouble)))
		wl_warn("%s: gap of %llu packet(s) after seq %llu (capd's stats say it sent them)", s->name,
			(unsigned long long)lost, (unsigned long long)before);
	cJSON_Delete(root);
}

static void print_event(const struct sensor *s, const char *topic, const char *json, size_t len,
			bool with_sensor)
{
	/* {"event":"stats", ...the event's own keys...} */
	if (len < 2 || json[0] != '{')
		return;
	printf("{\"event\":\"%s\",", topic);
	if (with_sensor)
		printf("\"sensor\":\"%s\",", s->name);
	fwrite(json + 1, 1, len - 1, stdout);
	putchar('\n');
}

/* Returns 1 when --count is reached, -errno on a fatal error. */
static int handle_message(struct tap *t, struct sensor *s, const uint8_t *msg, size_t len)
{
	const uint8_t *nul = memchr(msg, '\0', len < 16 ? len : 16);
	size_t tlen;

	if (!nul)
		return 0;
	tlen = (size_t)(nul - msg) + 1;
	if (strcmp((const char *)msg, WL_TOPIC_PKT) == 0)
		return t->topics[TOPIC_PKT] ? handle_batch(t, s, msg + tlen, len - tlen) : 0;
	if (strcmp((const char *)msg, WL_TOPIC_FLOW) == 0)
		return t->topics[TOPIC_FLOW] ? handle_flows(t, s, msg + tlen, len - tlen) : 0;
	if (strcmp((const char *)msg, WL_TOPIC_STATS) == 0 && t->topics[TOPIC_PKT])
		check_stats_seq(s, (const char *)msg + tlen, len - tlen);
	for (int i = TOPIC_STATS; i <= TOPIC_STATUS; i++)
		if (t->topics[i] && !t->quiet && strcmp((const char *)msg, topic_names[i]) == 0)
			print_event(s, topic_names[i], (const char *)msg + tlen, len - tlen, t->n_sensors > 1);
	return 0;
}

static int subscribe(struct tap *t, struct sensor *s)
{
	/* A peer announcing more than any capd sends is dropped, not allocated for. */
	int rcvbuf = 32 * 1024 * 1024, maxsize = WL_WIRE_MESSAGE_MAX;

	s->sock = nn_socket(AF_SP, NN_SUB);
	if (s->sock < 0)
		return -nn_errno();
	nn_setsockopt(s->sock, NN_SOL_SOCKET, NN_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	nn_setsockopt(s->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize));
	for (int i = 0; i < TOPIC__MAX; i++) {
		/* stats is needed for packets too: it shows losses at the end. */
		bool want = t->topics[i] || (i == TOPIC_STATS && t->topics[TOPIC_PKT]);

		/* The NUL is part of the topic, so "stats" never matches "status". */
		if (want &&
		    nn_setsockopt(s->sock, NN_SUB, NN_SUB_SUBSCRIBE, topic_names[i], strlen(topic_names[i]) + 1) < 0)
			return -nn_errno();
	}
	if (nn_connect(s->sock, s->addr) < 0)
		return -nn_errno();
	return 0;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int run(struct tap *t)
{
	struct pollfd fds[WL_SENSORS_MAX];

	for (int i = 0; i < t->n_sensors; i++) {
		size_t sz = sizeof(int);

		if (nn_getsockopt(t->sensors[i].sock, NN_SOL_SOCKET, NN_RCVFD, &fds[i].fd, &sz) < 0)
			return -EIO;
		fds[i].events = POLLIN;
	}
	while (!stop_requested) {
		if (poll(fds, (nfds_t)t->n_sensors, 500) < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < t->n_sensors; i++) {
			void *msg;
			int n;

			while ((n = nn_recv(t->sensors[i].sock, &msg, NN_MSG, NN_DONTWAIT)) >= 0) {
				int r = handle_message(t, &t->sensors[i], msg, (size_t)n);

				nn_freemsg(msg);
				if (r != 0)
					return r < 0 ? r : 0;
			}
		}
		fflush(stdout);
	}
	return 0;
}

/* ---- Setup -------------------------------------------------------------------- */

static void usage(void)
{
	printf("Usage: wlite-tap [OPTIONS]\n\n"
	       "Subscribe to wlite-capd and print packets and events as JSON lines.\n\n"
	       "  -c, --connect [NAME=]ADDR  capd's publish address (repeatable; default %s)\n"
	       "  -t, --topic TOPIC         pkt, flow, stats or status (repeatable; default: all)\n"
	       "  -n, --count N             exit after N packets\n"
	       "  -w FILE                   also write packets to a pcap file\n"
	       "  -C SIZE                   with -w: start a new file every SIZE million bytes\n"
	       "  -W COUNT                  with -C: keep at most COUNT files, overwriting the oldest\n"
	       "      --csv FILE            also write a CSV log of the packets\n"
	       "      --flows-csv FILE      also write a CSV log of the flow reports (subscribes to flow)\n"
	       "  -q, --quiet               print nothing on stdout (logs only)\n"
	       "  -h, --help, -V, --version\n",
	       DEFAULT_ADDR);
}

static int add_sensor(struct tap *t, char *arg)
{
	struct sensor *s;
	char *eq = strchr(arg, '=');
	const char *scheme = strstr(arg, "://");

	if (t->n_sensors >= WL_SENSORS_MAX) {
		wl_err("at most %d --connect addresses", WL_SENSORS_MAX);
		return -E2BIG;
	}
	s = &t->sensors[t->n_sensors++];
	/* "NAME=ADDR", unless the '=' belongs to the address itself. */
	if (eq && (!scheme || eq < scheme)) {
		*eq = '\0';
		snprintf(s->name, sizeof(s->name), "%s", arg);
		s->addr = eq + 1;
	} else {
		snprintf(s->name, sizeof(s->name), "%s", arg);
		s->addr = arg;
	}
	s->sock = -1;
	return 0;
}

static int parse_number(const char *arg, const char *what, long max, long *ret)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end || v < 1 || v > max) {
		wl_err("%s must be a number from 1 to %ld, not '%s'", what, max, arg);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int set_topic(struct tap *t, const char *arg, bool *any)
{
	for (int i = 0; i < TOPIC__MAX; i++) {
		if (strcmp(arg, topic_names[i]) == 0) {
			if (!*any)
				memset(t->topics, 0, sizeof(t->topics));
			*any = true;
			t->topics[i] = true;
			return 0;
		}
	}
	wl_err("unknown topic '%s' (pkt, flow, stats or status)", arg);
	return -EINVAL;
}

/* Returns 0 to run, 1 to exit successfully, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct tap *t)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' }, { "topic", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },   { "csv", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },         { "help", no_argument, NULL, 'h' },
		{ "flows-csv", required_argument, NULL, 'F' },
		{ "version", no_argument, NULL, 'V' },       { 0 },
	};
	bool any_topic = false;
	long v;
	int ch;

	for (int i = 0; i < TOPIC__MAX; i++)
		t->topics[i] = true;
	while ((ch = getopt_long(argc, argv, "c:t:n:w:C:W:qhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (add_sensor(t, optarg) < 0)
				return -1;
			break;
		case 't':
			if (set_topic(t, optarg, &any_topic) < 0)
				return -1;
			break;
		case 'n':
			if (parse_number(optarg, "--count", 1L << 40, &v) < 0)
				return -1;
			t->count_limit = (uint64_t)v;
			break;
		case 'w':
			t->pcap.base = optarg;
			break;
		case 'C':
			if (parse_number(optarg, "-C", 1000000, &v) < 0)
				return -1;
			t->pcap.max_bytes = v * 1000000;
			break;
		case 'W':
			if (parse_number(optarg, "-W", 100000, &v) < 0)
				return -1;
			t->pcap.max_files = (int)v;
			break;
		case 'S':
			t->csv = open_log_file(optarg);
			if (!t->csv) {
				wl_err("cannot write %s: %s", optarg, strerror(errno));
				return -1;
			}
			fputs("sensor,seq,ts,src,dst,proto,sport,dport,len,info\n", t->csv);
			break;
		case 'F':
			t->flows_csv = open_log_file(optarg);
			if (!t->flows_csv) {
				wl_err("cannot write %s: %s", optarg, strerror(errno));
				return -1;
			}
			fputs(FLOWS_CSV_HEADER, t->flows_csv);
			break;
		case 'q':
			t->quiet = true;
			break;
		case 'h':
			usage();
			return 1;
		case 'V':
			printf("wlite-tap %s\n", WLITE_VERSION);
			return 1;
		default:
			fprintf(stderr, "Try 'wlite-tap --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		wl_err("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (t->n_sensors == 0)
		add_sensor(t, (char *)DEFAULT_ADDR);
	if (t->flows_csv)
		t->topics[TOPIC_FLOW] = true;
	if ((t->pcap.max_bytes || t->pcap.max_files) && !t->pcap.base) {
		wl_err("-C and -W need -w FILE");
		return -1;
	}
	return 0;
}

static void report(const struct tap *t)
{
	for (int i = 0; i < t->n_sensors; i++) {
		const struct sensor *s = &t->sensors[i];
		double span = s->last_at - s->first_at;

		wl_notice("%s: %llu packets received, %llu gaps, %llu packets missed, "
			  "%.3f s from first to last (%.0f packets/s)",
			  s->name, (unsigned long long)s->packets, (unsigned long long)s->seq.gaps,
			  (unsigned long long)s->seq.missed, span, span > 0 ? (double)(s->packets - 1) / span : 0.0);
		if (t->topics[TOPIC_FLOW])
			wl_notice("%s: %llu flow reports received, %llu gaps, %llu reports missed", s->name,
				  (unsigned long long)s->flows, (unsigned long long)s->flow_seq.gaps,
				  (unsigned long long)s->flow_seq.missed);
	}
}

int main(int argc, char **argv)
{
	struct tap t = { 0 };
	int r;

	wl_log_setup("wlite-tap", WL_LOG_INFO);
	r = parse_args(argc, argv, &t);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : 2;
	t.json = malloc(WL_JSON_PACKET_MAX);
	t.rec = malloc(sizeof(*t.rec));
	if (!t.json || !t.rec) {
		wl_err("out of memory");
		return EXIT_FAILURE;
	}
	for (int i = 0; i < t.n_sensors; i++) {
		if ((r = subscribe(&t, &t.sensors[i])) < 0) {
			wl_err("cannot subscribe to %s: %s", t.sensors[i].addr, nn_strerror(-r));
			return EXIT_FAILURE;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	r = run(&t);
	fflush(stdout);
	report(&t);
	if (t.pcap.dumper)
		pcap_dump_close(t.pcap.dumper);
	if (t.pcap.dead)
		pcap_close(t.pcap.dead);
	if (t.csv)
		fclose(t.csv);
	if (t.flows_csv)
		fclose(t.flows_csv);
	free(t.json);
	free(t.rec);
	for (int i = 0; i < t.n_sensors; i++)
		nn_close(t.sensors[i].sock);
	if (r < 0) {
		wl_err("%s", strerror(-r));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
