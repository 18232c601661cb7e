/* SPDX-License-Identifier: BSD-2-Clause */
#include "publish.h"

#include "ipc.h"
#include "wlite-wire.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOPIC_LEN (sizeof(WL_TOPIC_PKT)) /* "pkt" and its NUL */
#define FLOW_TOPIC_LEN (sizeof(WL_TOPIC_FLOW))
#define FLOW_BATCH_MAX 256 /* reports a message; they are far rarer than packets */
#define FLOW_BUF_SIZE (FLOW_TOPIC_LEN + WL_WIRE_BATCH_HEADER + FLOW_BATCH_MAX * WL_FLOW_RECORD_MAX)
#define BATCH_MAX_BYTES (512 * 1024)
#define BATCH_MAX_PACKETS 4096
/* Measured: with nanomsg's default 128 KiB most of a burst is lost silently. */
#define SNDBUF_BYTES (32 * 1024 * 1024)
/*
 * The flows-only socket is for subscribers across a WAN (webd at the centre
 * of a fleet, wlite-ipfix, over stunnel). Its buffer must hold the largest
 * burst of reports for as long as a slow link takes to drain it: nanomsg
 * drops, without an error, what does not fit. bench.pcap replayed at max
 * speed sends 59,606 reports (7.5 MB on the wire) within a second or two,
 * the end of a capture reports every open flow at once, and a 10 Mbit/s
 * uplink drains 16 MiB in 13 s. It also exceeds the bandwidth-delay product
 * of a 1 Gbit/s path at 100 ms (12.5 MB), so TCP's window is never held back
 * by it. Asking at all matters: a socket given SO_SNDBUF loses Linux's send
 * autotuning, whose ceiling (net.ipv4.tcp_wmem) is 4 MiB. Half the main
 * socket's 32 MiB, which must hold packet bursts; the kernel cuts either to
 * net.core.wmem_max (systemd/wlite.sysctl raises it to 32 MiB).
 */
#define FLOWS_ONLY_SNDBUF_BYTES (16 * 1024 * 1024)

/*
 * The send buffer the kernel grants for NN_SNDBUF on addr's transport.
 * nanomsg passes the value to setsockopt(SO_SNDBUF) on the OS socket of each
 * subscriber's connection, which it does not expose (and NN_SNDBUF reads back
 * what was asked), so a probe socket of the same family takes the same
 * request: the kernel silently caps it at net.core.wmem_max, and
 * getsockopt() reports twice what it granted (the doubling is its own
 * bookkeeping). Returns the granted size, or a negative errno.
 */
static int kernel_sndbuf(const char *addr, int asked)
{
	int family = strncmp(addr, "ipc://", 6) == 0 ? AF_UNIX : AF_INET, fd, got = 0, r = 0;
	socklen_t len = sizeof(got);

	if (strncmp(addr, "inproc://", 9) == 0)
		return asked; /* within the process: no kernel socket at all */
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &asked, sizeof(asked)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) < 0)
		r = -errno;
	close(fd);
	return r < 0 ? r : got / 2;
}

int publisher_open(struct publisher *pub, const char *addr, gid_t gid, char *err, size_t errlen)
{
	int sndbuf = SNDBUF_BYTES, r;

	memset(pub, 0, sizeof(*pub));
	pub->sock = -1;
	pub->flows_only.sock = -1;
	pub->size = TOPIC_LEN + WL_WIRE_BATCH_HEADER + BATCH_MAX_BYTES + WL_WIRE_RECORD_MAX(262144);
	pub->buf = malloc(pub->size);
	pub->flows.buf = malloc(FLOW_BUF_SIZE);
	if (!pub->buf || !pub->flows.buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pub->sock = nn_socket(AF_SP, NN_PUB);
	if (pub->sock < 0 || nn_setsockopt(pub->sock, NN_SOL_SOCKET, NN_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0) {
		r = -nn_errno();
		snprintf(err, errlen, "cannot create publish socket: %s", nn_strerror(nn_errno()));
		return r;
	}
	pub->sndbuf_asked = sndbuf;
	r = kernel_sndbuf(addr, sndbuf);
	pub->sndbuf_effective = r < 0 ? -1 : r;
	if ((r = capd_bind(pub->sock, addr, gid, "publish", err, errlen)) < 0) {
		/* Not ours to unlink: whatever is at the path stays (see capd_bind). */
		nn_close(pub->sock);
		pub->sock = -1;
	}
	return r;
}

int publisher_open_flows_only(struct publisher *pub, const char *addr, gid_t gid, char *err, size_t errlen)
{
	int sndbuf = FLOWS_ONLY_SNDBUF_BYTES, sock, r;

	sock = nn_socket(AF_SP, NN_PUB);
	if (sock < 0 || nn_setsockopt(sock, NN_SOL_SOCKET, NN_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0) {
		r = -nn_errno();
		snprintf(err, errlen, "cannot create the flows-only publish socket: %s", nn_strerror(-r));
		if (sock >= 0)
			nn_close(sock);
		return r;
	}
	if ((r = capd_bind(sock, addr, gid, "publish flows", err, errlen)) < 0) {
		nn_close(sock); /* not ours to unlink (see capd_bind) */
		return r;
	}
	pub->flows_only.sock = sock;
	pub->flows_only.sndbuf_asked = sndbuf;
	r = kernel_sndbuf(addr, sndbuf);
	pub->flows_only.sndbuf_effective = r < 0 ? -1 : r;
	return 0;
}

static uint64_t wall_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void start_batch(struct publisher *pub)
{
	memcpy(pub->buf, WL_TOPIC_PKT, TOPIC_LEN);
	pub->used = TOPIC_LEN + WL_WIRE_BATCH_HEADER;
	pub->count = 0;
}

static void flush_flows(struct publisher *pub)
{
	if (pub->flows.count == 0)
		return;
	wl_wire_put_batch_header(pub->flows.buf + FLOW_TOPIC_LEN, pub->flows.count, wall_clock_us());
	if (nn_send(pub->sock, pub->flows.buf, pub->flows.used, NN_DONTWAIT) < 0) {
		pub->msgs_refused++;
		pub->flows.refused += pub->flows.count;
	} else {
		pub->msgs_sent++;
		pub->flows.sent += pub->flows.count;
	}
	/* The same bytes, so the same seq numbers: the two sockets' counts compare. */
	if (pub->flows_only.sock >= 0) {
		if (nn_send(pub->flows_only.sock, pub->flows.buf, pub->flows.used, NN_DONTWAIT) < 0) {
			pub->flows_only.msgs_refused++;
			pub->flows_only.reports_refused += pub->flows.count;
		} else {
			pub->flows_only.msgs_sent++;
			pub->flows_only.reports_sent += pub->flows.count;
		}
	}
	pub->flows.count = 0;
	pub->flows.used = 0;
}

void publisher_add_flow(struct publisher *pub, const struct wl_flow_record *rec)
{
	struct wl_flow_record numbered = *rec;
	long n;

	if (pub->flows.count >= FLOW_BATCH_MAX)
		flush_flows(pub);
	if (pub->flows.used == 0) {
		memcpy(pub->flows.buf, WL_TOPIC_FLOW, FLOW_TOPIC_LEN);
		pub->flows.used = FLOW_TOPIC_LEN + WL_WIRE_BATCH_HEADER;
	}
	/* Numbered even if it is then refused: a subscriber sees the gap. */
	numbered.seq = ++pub->flows.seq;
	n = wl_wire_put_flow(pub->flows.buf + pub->flows.used, FLOW_BUF_SIZE - pub->flows.used, &numbered);
	if (n < 0) {
		pub->flows.refused++; /* cannot happen: every record fits in WL_FLOW_RECORD_MAX */
		return;
	}
	pub->flows.used += (size_t)n;
	pub->flows.count++;
}

void publisher_flush(struct publisher *pub)
{
	flush_flows(pub);
	if (pub->count == 0)
		return;
	wl_wire_put_batch_header(pub->buf + TOPIC_LEN, pub->count, wall_clock_us());
	if (nn_send(pub->sock, pub->buf, pub->used, NN_DONTWAIT) < 0) {
		pub->msgs_refused++;
		pub->pkts_refused += pub->count;
	} else {
		pub->msgs_sent++;
		pub->pkts_sent += pub->count;
	}
	start_batch(pub);
}

void publisher_add(struct publisher *pub, const struct wl_packet *pkt, int linktype,
		   const uint8_t *raw, size_t raw_len)
{
	long n;

	if (pub->used == 0)
		start_batch(pub);
	if (pub->count >= BATCH_MAX_PACKETS || pub->used > TOPIC_LEN + WL_WIRE_BATCH_HEADER + BATCH_MAX_BYTES)
		publisher_flush(pub);
	n = wl_wire_put_record(pub->buf + pub->used, pub->size - pub->used, pkt, linktype, raw, raw_len);
	if (n < 0) {
		/* Cannot happen with the buffer sized for the largest record; count it all the same. */
		pub->pkts_refused++;
		return;
	}
	pub->used += (size_t)n;
	pub->count++;
}

/* Sends "topic\0json" on sock. Returns 0, -ENOMEM, or -EAGAIN when the socket refused it. */
static int send_event(int sock, const char *topic, const char *json)
{
	size_t tlen = strlen(topic) + 1, jlen = strlen(json);
	char *msg = nn_allocmsg(tlen + jlen, 0);

	if (!msg)
		return -ENOMEM;
	memcpy(msg, topic, tlen);
	memcpy(msg + tlen, json, jlen);
	/* With NN_MSG, nanomsg frees the buffer once sent; a refused one stays ours. */
	if (nn_send(sock, &msg, NN_MSG, NN_DONTWAIT) < 0) {
		nn_freemsg(msg);
		return -EAGAIN;
	}
	return 0;
}

int publisher_event(struct publisher *pub, const char *topic, const char *json)
{
	int r = send_event(pub->sock, topic, json);

	if (r == 0)
		pub->msgs_sent++;
	else
		pub->msgs_refused++;
	if (pub->flows_only.sock >= 0) {
		if (send_event(pub->flows_only.sock, topic, json) == 0)
			pub->flows_only.msgs_sent++;
		else
			pub->flows_only.msgs_refused++;
	}
	return r;
}

/*
 * nanomsg 1.1.5 has no linger: nn_close() drops what the socket has not sent
 * yet, so the last batches (the flows still open when capd stops) would be
 * lost more often than not. A short wait lets them out first.
 */
#define CLOSE_LINGER_US 250000

void publisher_close(struct publisher *pub, const char *addr, const char *flows_addr)
{
	publisher_flush(pub);
	if ((pub->sock >= 0 && pub->msgs_sent) || (pub->flows_only.sock >= 0 && pub->flows_only.msgs_sent))
		usleep(CLOSE_LINGER_US);
	capd_close_bound(pub->sock, addr);
	pub->sock = -1;
	if (flows_addr)
		capd_close_bound(pub->flows_only.sock, flows_addr);
	pub->flows_only.sock = -1;
	free(pub->buf);
	free(pub->flows.buf);
	pub->buf = NULL;
	pub->flows.buf = NULL;
}
