/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wlite-ipfix: exports capd's flow reports as IPFIX (RFC 7011) to any
 * collector. It subscribes to the "flow" topic of one or more capds (ipc,
 * or a remote --publish-flows endpoint), turns each report's cumulative
 * counters into deltas (ipfix-deltas.c), encodes them as biflow records
 * with RFC 5103 reverse elements (ipfix-encode.c) and sends MTU-sized
 * messages over UDP or TCP (ipfix-transport.c). Each capd is an observation
 * domain of its own (--domain, +1 per further --connect), with its own
 * sequence numbers. It needs no privilege: a member of the group wlite can
 * subscribe to capd's ipc socket.
 */
#include "cli.h"
#include "ipfix-deltas.h"
#include "ipfix-encode.h"
#include "ipfix-transport.h"
#include "log.h"
#include "seq.h"
#include "version.h"
#include "wlite-wire.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Our own limit, not common/sensors.h's (webd numbers sensors in a byte): the
 * delta table keys a sensor by 16 bits, and a fleet's exporter follows many.
 */
#define MAX_SENSORS 256
#define ADDR_MAX 512
#define DEFAULT_CONNECT "ipc:///run/wlite/capd.sock"
#define DEFAULT_COLLECTOR "127.0.0.1:4739" /* 4739: IANA's port for IPFIX */
#define DEFAULT_CONFIG WLITE_SYSCONFDIR "/wlite.conf"
#define RCVBUF_BYTES (16 * 1024 * 1024) /* as capd's flows-only send buffer */
#define POLL_MAX_MS 1000
#define STOP_QUIET_MS 100 /* stopping: the subscriptions are done once quiet this long... */
#define STOP_GRACE_S 2.0  /* ...or after this, whatever still comes */
#define EXIT_USAGE 2

struct sensor {
	char name[64];
	char addr[ADDR_MAX];
	int sock;
	uint32_t domain;        /* the observation domain of this capd's records */
	struct wl_seq flow_seq; /* capd's report numbers: gaps are lost reports */
	uint64_t reports;
	uint32_t exported; /* data records sent in this transport session: the IPFIX sequence number */
};

struct options {
	struct sensor sensors[MAX_SENSORS];
	size_t n_sensors;
	bool connect_given; /* the first --connect replaces the default */
	char collector[320];
	enum ipfix_proto proto;
	long domain;
	int template_interval;
	int mtu;
	long max_flows;
	bool verbose;
	char config_file[ADDR_MAX];
};

struct counts {
	uint64_t messages, messages_lost;
	uint64_t records, records_lost;
	uint64_t template_messages;
	uint64_t empty_skipped;    /* active reports with nothing new since the last */
	uint64_t deltas_lost;      /* no memory for a delta entry: the next report repeats this one's */
	uint64_t malformed_batches;
};

struct exporter {
	struct options opt;
	struct ipfix_transport tx;
	struct ipfix_deltas *deltas;
	uint8_t *buf;
	size_t msg_max;
	struct ipfix_msg msg;
	struct sensor *msg_sensor; /* whose records the message holds, or NULL */
	double templates_due;      /* UDP: when the templates go out again */
	bool send_failing;         /* the last message could not be sent (said once) */
	uint64_t refusals_said;    /* UDP refusals seen so far (the first is logged) */
	double templates_resent_at; /* UDP: after a refusal, at most once a second */
	uint8_t *tbuf;             /* template messages, built apart from the data message */
	bool evictions_said;
	struct wl_flow_record rec;
	struct counts n;
};

/* ---- Options ----------------------------------------------------------------- */

/* --connect [NAME=]ADDR, repeatable: the first one replaces the default. */
static int set_connect(void *o, const char *v, char *err, size_t errlen)
{
	struct options *opt = o;
	const char *eq = strchr(v, '='), *scheme = strstr(v, "://");
	bool named = eq && (!scheme || eq < scheme); /* unless the '=' is the address's own */
	struct sensor *s;

	if (!opt->connect_given)
		opt->n_sensors = 0;
	opt->connect_given = true;
	if (opt->n_sensors >= MAX_SENSORS) {
		snprintf(err, errlen, "at most %d --connect addresses", MAX_SENSORS);
		return -E2BIG;
	}
	s = &opt->sensors[opt->n_sensors];
	if (named && ((size_t)(eq - v) >= sizeof(s->name) || eq == v)) {
		snprintf(err, errlen, "a sensor name must be 1 to %zu characters", sizeof(s->name) - 1);
		return -EINVAL;
	}
	if (wl_opt_string(s->addr, sizeof(s->addr), named ? eq + 1 : v, "connect address", err, errlen) < 0)
		return -EINVAL;
	if (!s->addr[0]) {
		snprintf(err, errlen, "--connect needs [NAME=]ADDR, not '%s'", v);
		return -EINVAL;
	}
	/* Unnamed, a sensor is known by its address. */
	snprintf(s->name, sizeof(s->name), "%.*s", named ? (int)(eq - v) : (int)strlen(v), v);
	opt->n_sensors++;
	return 0;
}

static int set_collector(void *o, const char *v, char *err, size_t errlen)
{
	struct options *opt = o;
	char host[256];
	uint16_t port;

	if (ipfix_parse_hostport(v, host, sizeof(host), &port, err, errlen) < 0)
		return -EINVAL;
	return wl_opt_string(opt->collector, sizeof(opt->collector), v, "collector", err, errlen);
}

static int set_transport(void *o, const char *v, char *err, size_t errlen)
{
	struct options *opt = o;

	if (strcmp(v, "udp") == 0 || strcmp(v, "tcp") == 0) {
		opt->proto = v[0] == 'u' ? IPFIX_UDP : IPFIX_TCP;
		return 0;
	}
	snprintf(err, errlen, "transport must be udp or tcp, not '%s'", v);
	return -EINVAL;
}

static int set_domain(void *o, const char *v, char *err, size_t errlen)
{
	return wl_opt_int(v, 0, UINT32_MAX, "domain", &((struct options *)o)->domain, err, errlen);
}

static int set_template_interval(void *o, const char *v, char *err, size_t errlen)
{
	long n;
	int r = wl_opt_int(v, 1, 86400, "template-interval (s)", &n, err, errlen);

	if (r == 0)
		((struct options *)o)->template_interval = (int)n;
	return r;
}

static int set_mtu(void *o, const char *v, char *err, size_t errlen)
{
	long n;
	int r = wl_opt_int(v, 256, 65535, "mtu (bytes)", &n, err, errlen);

	if (r == 0)
		((struct options *)o)->mtu = (int)n;
	return r;
}

static int set_max_flows(void *o, const char *v, char *err, size_t errlen)
{
	return wl_opt_int(v, 16, 1L << 28, "max-flows", &((struct options *)o)->max_flows, err, errlen);
}

static int set_verbose(void *o, const char *v, char *err, size_t errlen)
{
	return wl_opt_bool(v, "verbose", &((struct options *)o)->verbose, err, errlen);
}

static const struct wl_option option_table[] = {
	/* No -c: the shared parser takes it for --config. */
	{ "connect", 0, NULL, "[NAME=]ADDR", true, set_connect, "capd to subscribe to (repeatable)" },
	{ "collector", 0, NULL, "HOST:PORT", true, set_collector, "where the IPFIX messages go" },
	{ "transport", 0, NULL, "udp|tcp", true, set_transport, "udp (default) or tcp" },
	{ "domain", 0, NULL, "ID", true, set_domain, "observation domain of the first capd" },
	{ "template-interval", 0, NULL, "S", true, set_template_interval, "UDP: templates again every S seconds" },
	{ "mtu", 0, NULL, "BYTES", true, set_mtu, "UDP: largest datagram, IP header included" },
	{ "max-flows", 0, NULL, "N", true, set_max_flows, "flows remembered for the deltas" },
	{ "verbose", 'v', "yes", NULL, true, set_verbose, "log more" },
};

static const struct wl_options_spec option_spec = {
	.prog = "wlite-ipfix",
	.version = WLITE_VERSION,
	.summary = "Export capd's flow reports as IPFIX.",
	.section = "ipfix",
	.default_config = DEFAULT_CONFIG,
	.options = option_table,
	.n_options = sizeof(option_table) / sizeof(option_table[0]),
};

static void usage(void)
{
	printf("NAME\n"
	       "    wlite-ipfix - export wlite-capd's flow reports as IPFIX to a flow collector\n"
	       "\n"
	       "SYNOPSIS\n"
	       "    wlite-ipfix [--connect [NAME=]ADDR]... [--collector HOST:PORT] [--transport udp|tcp]\n"
	       "                [--domain ID] [--template-interval S] [--mtu BYTES] [--max-flows N]\n"
	       "                [--config FILE] [-v]\n"
	       "\n"
	       "DESCRIPTION\n"
	       "    Subscribes to the \"flow\" topic of one or more wlite-capd publishers and sends\n"
	       "    each flow report as an IPFIX data record (RFC 7011) to a collector such as\n"
	       "    nfcapd. A record is a biflow (RFC 5103): side a (who sent the first packet) is\n"
	       "    the source, and side b's packets, bytes and TCP flags are reverse elements\n"
	       "    (enterprise 29305). capd's counters are cumulative; the records carry deltas:\n"
	       "    what is new since the flow's last report, and the remainder at its end.\n"
	       "    Each capd is one observation domain, with its own sequence numbers (the\n"
	       "    count of data records sent). Templates: IPv4 and IPv6 flows with ports, ICMP,\n"
	       "    other IP protocols, and non-IP flows (MACs and ethertype).\n"
	       "\n"
	       "OPTIONS\n"
	       "    --connect [NAME=]ADDR\n"
	       "        A capd publish address, ipc:// or tcp:// (its --publish-flows endpoint\n"
	       "        on another host). Repeatable, up to %d. Default: %s.\n"
	       "    --collector HOST:PORT\n"
	       "        The collector; an IPv6 literal goes in brackets, [::1]:4739.\n"
	       "        Default: %s.\n"
	       "    --transport udp|tcp\n"
	       "        UDP (default): one message a datagram, templates sent at start and every\n"
	       "        --template-interval seconds. TCP: templates once per connection, which\n"
	       "        is made again (1 s to 30 s apart) when it breaks; sequence numbers start\n"
	       "        over with each connection.\n"
	       "    --domain ID\n"
	       "        Observation domain of the first capd, ID+1 for the second, ... (0 to\n"
	       "        4294967295; default 1).\n"
	       "    --template-interval S\n"
	       "        UDP: seconds between template refreshes (default 60).\n"
	       "    --mtu BYTES\n"
	       "        UDP: no datagram is longer, IP and UDP headers included (default 1400,\n"
	       "        from 256). TCP messages go up to 65535 bytes.\n"
	       "    --max-flows N\n"
	       "        Flows whose last counters are remembered for the deltas (default\n"
	       "        1000000). Only flows reported active take one. When full, the one\n"
	       "        reported longest ago is evicted and counted; its next record then\n"
	       "        carries its counters since the flow began.\n"
	       "    --config FILE\n"
	       "        Keys of section [ipfix] are the long options. Default: %s, when it\n"
	       "        exists. Flags win over the file, but connect lines there and --connect\n"
	       "        flags add up (as webd's capd).\n"
	       "    -v, --verbose\n"
	       "        Log more.\n"
	       "    -h, --help, -V, --version\n"
	       "\n"
	       "INFORMATION ELEMENTS\n"
	       "    flowId, flowStartMilliseconds, flowEndMilliseconds, packetDeltaCount,\n"
	       "    octetDeltaCount and their reverses, flowEndReason (idle 1, active 2, fin\n"
	       "    or rst 3, capd's eof 4, evicted 5), biflowDirection, vlanId,\n"
	       "    dot1qCustomerVlanId, source/destinationIPv4Address or IPv6Address,\n"
	       "    protocolIdentifier, source/destinationTransportPort, tcpControlBits and its\n"
	       "    reverse, icmpTypeCodeIPv4/IPv6, source/destinationMacAddress, ethernetType.\n"
	       "\n"
	       "SIGNALS\n"
	       "    SIGTERM, SIGINT: send what is pending, log the counts and exit.\n"
	       "\n"
	       "EXIT STATUS\n"
	       "    0 after a signal; 1 on a runtime error; 2 on a bad flag or configuration.\n"
	       "\n"
	       "EXAMPLES\n"
	       "    wlite-ipfix --collector 10.0.0.9:2055\n"
	       "    wlite-ipfix --connect lab=tcp://127.0.0.1:5601 --connect ipc:///run/wlite/capd.sock \\\n"
	       "                --collector [2001:db8::9]:4739 --transport tcp --domain 100\n"
	       "\n"
	       "SEE ALSO\n"
	       "    wlite-capd(--publish-flows), wlite-tap, nfcapd(1), RFC 7011, RFC 5103.\n",
	       MAX_SENSORS, DEFAULT_CONNECT, DEFAULT_COLLECTOR, DEFAULT_CONFIG);
}

static void set_defaults(struct options *opt)
{
	memset(opt, 0, sizeof(*opt));
	snprintf(opt->sensors[0].addr, sizeof(opt->sensors[0].addr), "%s", DEFAULT_CONNECT);
	snprintf(opt->sensors[0].name, sizeof(opt->sensors[0].name), "%s", DEFAULT_CONNECT);
	opt->n_sensors = 1;
	snprintf(opt->collector, sizeof(opt->collector), "%s", DEFAULT_COLLECTOR);
	opt->proto = IPFIX_UDP;
	opt->domain = 1;
	opt->template_interval = 60;
	opt->mtu = 1400;
	opt->max_flows = 1000000;
}

/* Returns 0 to run, 1 to exit successfully (--help, --version), -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *opt)
{
	char err[1024] = "";
	enum wl_parse_result r;

	/* The man-page style help, before the shared parser prints its short one. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			return 1;
		}
	}
	set_defaults(opt);
	r = wl_options_parse(&option_spec, opt, argc, argv, opt->config_file, sizeof(opt->config_file), err,
			     sizeof(err));
	if (r == WL_PARSE_EXIT_OK)
		return 1;
	if (r == WL_PARSE_RUN && opt->domain + (long)opt->n_sensors - 1 > (long)UINT32_MAX) {
		snprintf(err, sizeof(err), "--domain %ld leaves no room for %zu observation domains", opt->domain,
			 opt->n_sensors);
		r = WL_PARSE_ERROR;
	}
	if (r == WL_PARSE_ERROR) {
		wl_err("%s", err);
		return -1;
	}
	for (size_t i = 0; i < opt->n_sensors; i++) {
		opt->sensors[i].domain = (uint32_t)(opt->domain + (long)i);
		opt->sensors[i].sock = -1;
	}
	return 0;
}

/* ---- Messages ------------------------------------------------------------------ */

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sends one message of `records` data records (0: templates) and counts what became of it. */
static void transmit(struct exporter *x, const uint8_t *buf, size_t len, uint32_t records)
{
	int r = ipfix_transport_send(&x->tx, buf, len, monotonic_now());

	if (r < 0) {
		x->n.messages_lost++;
		x->n.records_lost += records;
		if (!x->send_failing)
			wl_warn("cannot send to the collector %s: %s; counting what is lost until it works again",
				x->tx.name, strerror(-r));
		x->send_failing = true;
		return;
	}
	if (x->send_failing)
		wl_notice("sending to the collector %s works again", x->tx.name);
	x->send_failing = false;
	if (x->tx.refusals > 0 && x->refusals_said == 0)
		wl_warn("the collector %s refuses datagrams (ICMP port unreachable): is it listening? What it "
			"refuses is lost; the count is logged on exit", x->tx.name);
	x->refusals_said = x->tx.refusals;
	x->n.messages++;
	x->n.records += records;
	if (records == 0)
		x->n.template_messages++;
}

/* The templates of s's observation domain, in messages of their own (the data message in progress stays). */
static void send_templates(struct exporter *x, struct sensor *s)
{
	struct ipfix_msg m;

	if (!ipfix_transport_up(&x->tx))
		return;
	ipfix_msg_start(&m, x->tbuf, x->msg_max);
	for (int t = IPFIX_T_V4_PORTS; t < IPFIX_T__END; t++) {
		if (ipfix_msg_add_template(&m, (enum ipfix_template)t) < 0) {
			transmit(x, x->tbuf, ipfix_msg_finish(&m, (uint32_t)time(NULL), s->exported, s->domain), 0);
			ipfix_msg_start(&m, x->tbuf, x->msg_max);
			ipfix_msg_add_template(&m, (enum ipfix_template)t); /* a fresh message holds any */
		}
	}
	transmit(x, x->tbuf, ipfix_msg_finish(&m, (uint32_t)time(NULL), s->exported, s->domain), 0);
}

static void send_all_templates(struct exporter *x)
{
	for (size_t i = 0; i < x->opt.n_sensors; i++)
		send_templates(x, &x->opt.sensors[i]);
}

/*
 * Sends the message being built, if any. Its records count in the sequence
 * even when lost: the collector sees the gap. Over UDP, a refusal (ICMP port
 * unreachable) pending says the collector missed a datagram, perhaps the
 * templates (it started after us, or restarted): they go again first, at
 * most once a second.
 */
static void send_message(struct exporter *x)
{
	struct sensor *s = x->msg_sensor;
	uint32_t records = x->msg.records;
	double now = monotonic_now();
	size_t len;

	if (!s || ipfix_msg_empty(&x->msg))
		return;
	if (ipfix_transport_refused(&x->tx) && now >= x->templates_resent_at + 1) {
		x->templates_resent_at = now;
		send_all_templates(x);
	}
	len = ipfix_msg_finish(&x->msg, (uint32_t)time(NULL), s->exported, s->domain);
	s->exported += records;
	transmit(x, x->buf, len, records);
	ipfix_msg_start(&x->msg, x->buf, x->msg_max);
	x->msg_sensor = NULL;
}

/* Starts a message for sensor s unless the one being built is already its own. */
static void message_for(struct exporter *x, struct sensor *s)
{
	if (x->msg_sensor != s)
		send_message(x);
	x->msg_sensor = s;
}

static void export_record(struct exporter *x, struct sensor *s, const struct ipfix_flow *f)
{
	if (!ipfix_transport_up(&x->tx)) {
		/* TCP between connections: nothing can be sent (the count says so). */
		x->n.records_lost++;
		return;
	}
	message_for(x, s);
	if (ipfix_msg_add_flow(&x->msg, f) < 0) {
		send_message(x);
		x->msg_sensor = s;
		ipfix_msg_add_flow(&x->msg, f); /* a fresh message holds any record (--mtu >= 256) */
	}
}

/* ---- Input ------------------------------------------------------------------------ */

static void note_flow_seq(struct exporter *x, struct sensor *s, uint64_t seq)
{
	uint64_t before = s->flow_seq.last, lost;

	if (before && seq <= before) {
		/* capd started over: its ids have a new random prefix, the old ones never come back. */
		wl_notice("%s: flow reports start over at %llu (capd restarted?)", s->name, (unsigned long long)seq);
		ipfix_deltas_forget_sensor(x->deltas, (uint16_t)(s - x->opt.sensors));
	}
	lost = wl_seq_packet(&s->flow_seq, seq);
	if (lost)
		wl_warn("%s: gap of %llu flow report(s) after %llu", s->name, (unsigned long long)lost,
			(unsigned long long)before);
}

/* Said once: a full delta table makes the next records of evicted flows carry their whole counters. */
static void warn_evictions(struct exporter *x)
{
	struct ipfix_deltas_stats ds;

	if (x->evictions_said)
		return;
	ipfix_deltas_stats(x->deltas, &ds);
	if (ds.evicted == 0)
		return;
	wl_warn("the delta table is full (--max-flows %ld): flows reported active longest ago are evicted, "
		"and their next record carries their counters since they began; raise --max-flows",
		x->opt.max_flows);
	x->evictions_said = true;
}

static void handle_report(struct exporter *x, struct sensor *s, const struct wl_flow_record *rec)
{
	struct ipfix_flow f = { .rec = rec };

	note_flow_seq(x, s, rec->seq);
	s->reports++;
	if (ipfix_deltas_apply(x->deltas, (uint16_t)(s - x->opt.sensors), rec, f.packets, f.bytes) < 0)
		x->n.deltas_lost++;
	warn_evictions(x);
	if (rec->end == WL_FLOW_ACTIVE && !(f.packets[0] | f.packets[1] | f.bytes[0] | f.bytes[1])) {
		x->n.empty_skipped++; /* an active report with nothing new says nothing */
		return;
	}
	export_record(x, s, &f);
}

static void handle_flows(struct exporter *x, struct sensor *s, const uint8_t *body, size_t len)
{
	struct wl_wire_reader r;
	int rc = wl_wire_reader_init(&r, body, len);

	if (rc == -EPROTO) {
		wl_warn("%s: dropping a flow batch of another wire version", s->name);
		return;
	}
	while (rc >= 0 && (rc = wl_wire_next_flow(&r, &x->rec)) == 1)
		handle_report(x, s, &x->rec);
	if (rc < 0) {
		x->n.malformed_batches++;
		wl_warn("%s: malformed flow batch, rest dropped", s->name);
	}
}

/* capd's stats carry the last report's number: reports lost at the end show there. */
static void handle_stats(struct sensor *s, const char *json, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "flows"), "seq");
	uint64_t before = s->flow_seq.last, lost;

	if (cJSON_IsNumber(seq) && seq->valuedouble >= 0 &&
	    (lost = wl_seq_sent(&s->flow_seq, (uint64_t)seq->valuedouble)))
		wl_warn("%s: gap of %llu flow report(s) after %llu (capd's stats say it sent them)", s->name,
			(unsigned long long)lost, (unsigned long long)before);
	cJSON_Delete(root);
}

static void handle_message(struct exporter *x, struct sensor *s, const uint8_t *msg, size_t len)
{
	size_t tlen;

	if (len >= sizeof(WL_TOPIC_FLOW) && memcmp(msg, WL_TOPIC_FLOW, sizeof(WL_TOPIC_FLOW)) == 0) {
		tlen = sizeof(WL_TOPIC_FLOW);
		handle_flows(x, s, msg + tlen, len - tlen);
	} else if (len >= sizeof(WL_TOPIC_STATS) && memcmp(msg, WL_TOPIC_STATS, sizeof(WL_TOPIC_STATS)) == 0) {
		tlen = sizeof(WL_TOPIC_STATS);
		handle_stats(s, (const char *)msg + tlen, len - tlen);
	}
}

/*
 * A tcp:// capd is mostly a remote sensor behind a TLS tunnel, whose local
 * end accepts and closes at once while that capd is down: nanomsg's 100 ms
 * would make ten TLS handshakes a second there. Once a second, as webd.
 */
static int set_reconnect_interval(int sock, const char *addr)
{
	int ms = 1000;

	if (strncmp(addr, "tcp://", 6) != 0)
		return 0;
	return nn_setsockopt(sock, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ms, sizeof(ms));
}

static int subscribe(struct sensor *s)
{
	/* A peer announcing more than any capd sends is dropped, not allocated for. */
	int rcvbuf = RCVBUF_BYTES, maxsize = WL_WIRE_MESSAGE_MAX;

	s->sock = nn_socket(AF_SP, NN_SUB);
	if (s->sock < 0)
		return -nn_errno();
	if (nn_setsockopt(s->sock, NN_SOL_SOCKET, NN_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    nn_setsockopt(s->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize)) < 0 ||
	    nn_setsockopt(s->sock, NN_SUB, NN_SUB_SUBSCRIBE, WL_TOPIC_FLOW, sizeof(WL_TOPIC_FLOW)) < 0 ||
	    nn_setsockopt(s->sock, NN_SUB, NN_SUB_SUBSCRIBE, WL_TOPIC_STATS, sizeof(WL_TOPIC_STATS)) < 0 ||
	    set_reconnect_interval(s->sock, s->addr) < 0 || nn_connect(s->sock, s->addr) < 0)
		return -nn_errno();
	return 0;
}

/* Reads everything waiting on every subscription, then sends the message in progress. */
static void drain(struct exporter *x)
{
	for (size_t i = 0; i < x->opt.n_sensors; i++) {
		struct sensor *s = &x->opt.sensors[i];
		void *msg;
		int n;

		while ((n = nn_recv(s->sock, &msg, NN_MSG, NN_DONTWAIT)) >= 0) {
			handle_message(x, s, msg, (size_t)n);
			nn_freemsg(msg);
		}
	}
	send_message(x);
}

/* ---- The loop ------------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Time-driven work: the TCP connection, the UDP template refresh. */
static void tick(struct exporter *x, double now)
{
	if (ipfix_transport_tick(&x->tx, now) == 1) {
		/* A new transport session: sequence numbers start over, templates first. */
		for (size_t i = 0; i < x->opt.n_sensors; i++)
			x->opt.sensors[i].exported = 0;
		send_all_templates(x);
	}
	if (x->opt.proto == IPFIX_UDP && now >= x->templates_due) {
		send_all_templates(x);
		x->templates_due = now + x->opt.template_interval;
	}
}

static int poll_timeout_ms(const struct exporter *x, double now)
{
	double wait = POLL_MAX_MS / 1000.0, tx = ipfix_transport_next(&x->tx, now);

	if (x->opt.proto == IPFIX_UDP && x->templates_due - now < wait)
		wait = x->templates_due - now;
	if (tx >= 0 && tx < wait)
		wait = tx;
	return wait <= 0 ? 0 : (int)(wait * 1000) + 1;
}

static int run(struct exporter *x)
{
	struct pollfd fds[MAX_SENSORS + 1];
	size_t n = x->opt.n_sensors;

	for (size_t i = 0; i < n; i++) {
		size_t sz = sizeof(int);

		if (nn_getsockopt(x->opt.sensors[i].sock, NN_SOL_SOCKET, NN_RCVFD, &fds[i].fd, &sz) < 0)
			return -EIO;
		fds[i].events = POLLIN;
	}
	while (!stop_requested) {
		double now = monotonic_now();

		tick(x, now);
		fds[n] = (struct pollfd){ .fd = ipfix_transport_watch_fd(&x->tx), .events = POLLIN };
		if (poll(fds, (nfds_t)n + 1, poll_timeout_ms(x, now)) < 0 && errno != EINTR)
			return -errno;
		if (fds[n].fd >= 0 && (fds[n].revents & (POLLIN | POLLHUP | POLLERR)))
			ipfix_transport_readable(&x->tx, monotonic_now());
		drain(x);
	}
	/*
	 * Stopping: what capd already sent still goes out. nanomsg's own thread
	 * may not have handed all of it over yet (after a SIGSTOP, say), so the
	 * sockets are drained until they stay quiet for a moment.
	 */
	for (double end = monotonic_now() + STOP_GRACE_S;;) {
		int ready = poll(fds, (nfds_t)n, STOP_QUIET_MS);

		drain(x);
		if (ready <= 0 || monotonic_now() > end)
			break;
	}
	return 0;
}

static void report(const struct exporter *x)
{
	struct ipfix_deltas_stats ds;
	uint64_t reports = 0, gaps = 0, missed = 0;

	for (size_t i = 0; i < x->opt.n_sensors; i++) {
		const struct sensor *s = &x->opt.sensors[i];

		reports += s->reports;
		gaps += s->flow_seq.gaps;
		missed += s->flow_seq.missed;
		if (x->opt.n_sensors > 1)
			wl_notice("%s (domain %u): %llu flow reports, %llu gaps, %llu reports missed", s->name,
				  s->domain, (unsigned long long)s->reports, (unsigned long long)s->flow_seq.gaps,
				  (unsigned long long)s->flow_seq.missed);
	}
	ipfix_deltas_stats(x->deltas, &ds);
	wl_notice("%llu flow reports received (%llu gaps, %llu reports missed, %llu malformed batches); "
		  "sent to %s over %s: %llu records in %llu messages (%llu of templates only); "
		  "not sent: %llu records, %llu messages; refused by the collector (ICMP port unreachable): "
		  "%llu times; %llu active reports with nothing new skipped; "
		  "deltas: %zu flows remembered, %llu evicted, %llu counters that went backwards, %llu out of memory",
		  (unsigned long long)reports, (unsigned long long)gaps, (unsigned long long)missed,
		  (unsigned long long)x->n.malformed_batches, x->tx.name, x->opt.proto == IPFIX_UDP ? "UDP" : "TCP",
		  (unsigned long long)x->n.records, (unsigned long long)x->n.messages,
		  (unsigned long long)x->n.template_messages, (unsigned long long)x->n.records_lost,
		  (unsigned long long)x->n.messages_lost, (unsigned long long)x->tx.refusals,
		  (unsigned long long)x->n.empty_skipped, ds.entries, (unsigned long long)ds.evicted,
		  (unsigned long long)ds.backwards, (unsigned long long)x->n.deltas_lost);
}

static int setup(struct exporter *x)
{
	char err[1024];
	int r;

	if ((r = ipfix_transport_open(&x->tx, x->opt.proto, x->opt.collector, err, sizeof(err))) < 0) {
		wl_err("%s", err);
		return r;
	}
	x->msg_max = ipfix_transport_message_max(&x->tx, x->opt.mtu);
	x->buf = malloc(x->msg_max);
	x->tbuf = malloc(x->msg_max);
	x->deltas = ipfix_deltas_new((size_t)x->opt.max_flows, &r);
	if (!x->buf || !x->tbuf || !x->deltas) {
		wl_err("out of memory");
		return -ENOMEM;
	}
	ipfix_msg_start(&x->msg, x->buf, x->msg_max);
	for (size_t i = 0; i < x->opt.n_sensors; i++) {
		if ((r = subscribe(&x->opt.sensors[i])) < 0) {
			wl_err("cannot subscribe to %s: %s", x->opt.sensors[i].addr, nn_strerror(-r));
			return r;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct exporter x; /* 256 sensors' state: not on the stack */
	struct sigaction sa = { .sa_handler = on_signal };
	int r;

	wl_log_setup("wlite-ipfix", WL_LOG_INFO);
	r = parse_options(argc, argv, &x.opt);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	if (x.opt.verbose)
		wl_log_setup("wlite-ipfix", WL_LOG_DEBUG);
	/* No SA_RESTART: poll() returns on the signal. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = setup(&x);
	if (r == 0) {
		wl_notice("exporting the flows of %zu capd(s) to %s over %s, observation domain %ld%s",
			  x.opt.n_sensors, x.opt.collector, x.opt.proto == IPFIX_UDP ? "UDP" : "TCP", x.opt.domain,
			  x.opt.n_sensors > 1 ? " and up" : "");
		r = run(&x);
		report(&x);
		if (r < 0)
			wl_err("%s", strerror(-r));
	}
	for (size_t i = 0; i < x.opt.n_sensors; i++)
		if (x.opt.sensors[i].sock >= 0)
			nn_close(x.opt.sensors[i].sock);
	ipfix_transport_close(&x.tx);
	x.deltas = ipfix_deltas_free(x.deltas);
	free(x.buf);
	free(x.tbuf);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
