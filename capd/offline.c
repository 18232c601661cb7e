/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `wlite-capd --read FILE --json`: decode a capture file to NDJSON.
 * The hot path: pcap_next_ex -> wl_dissect -> wl_json_packet straight into
 * one big output buffer, flushed with write(2). No allocation per packet.
 *
 * `wlite-capd --read FILE --flows`: the same reading into the flow table,
 * then every flow's final report, in the order of their first packets.
 */
#include "offline.h"

#include "capture.h"
#include "fingerprint.h"
#include "quic_track.h"

#include "flow-json.h"
#include "packet-json.h"
#include "wlite-proto.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_FLUSH_AT (1024 * 1024)
#define OUT_SIZE (OUT_FLUSH_AT + WL_JSON_PACKET_MAX)

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

struct json_sink {
	int fd;
	char *buf;
	size_t used;
};

static int sink_flush(struct json_sink *s)
{
	int r = write_all(s->fd, s->buf, s->used);

	s->used = 0;
	return r;
}

static int sink_packet(void *ctx, const struct wl_packet *pkt)
{
	struct json_sink *s = ctx;
	long n = wl_json_packet(pkt, s->buf + s->used, OUT_SIZE - s->used);

	if (n < 0)
		return (int)n;
	s->used += (size_t)n;
	return s->used >= OUT_FLUSH_AT ? sink_flush(s) : 0;
}

/*
 * Reads every packet of the file, decodes it (TLS hellos reassembled and
 * fingerprinted as capd does live) and hands it to each().
 */
static int read_packets(struct capture *cap, int (*each)(void *ctx, const struct wl_packet *pkt), void *ctx,
			struct wl_packet *pkt, struct dump_result *ret)
{
	pcap_t *pcap = cap->pcap;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct fingerprints *tls;
	struct quic_track *quic;
	struct quic_track_config qcfg;
	int r;

	if (!(tls = fingerprints_new(&r))) {
		snprintf(ret->error, sizeof(ret->error), "cannot start the TLS fingerprints: %s",
			 r == -EIO ? "libcrypto has no MD5 or SHA-256" : strerror(-r));
		return r;
	}
	quic_track_config_default(&qcfg);
	if (!(quic = quic_track_new(&qcfg, &r))) {
		snprintf(ret->error, sizeof(ret->error), "cannot start the QUIC Initial decryption: %s", strerror(-r));
		fingerprints_free(tls);
		return r;
	}
	while ((r = pcap_next_ex(pcap, &h, &data)) == 1) {
		capture_fill_header(cap, pkt, h);
		pkt->seq = ++ret->packets;
		wl_dissect(pkt, cap->linktype, data, h->caplen);
		quic_track_packet(quic, pkt, data, h->caplen);
		fingerprints_packet(tls, pkt, data, h->caplen);
		if (pkt->malformed)
			ret->malformed++;
		if ((ret->packets & 0xfff) == 0)
			capture_release_read(cap);
		if ((r = each(ctx, pkt)) < 0) {
			snprintf(ret->error, sizeof(ret->error), "write: %s", strerror(-r));
			fingerprints_free(tls);
			quic_track_free(quic);
			return r;
		}
	}
	fingerprints_free(tls);
	quic_track_free(quic);
	if (r == PCAP_ERROR) {
		snprintf(ret->error, sizeof(ret->error), "%s", pcap_geterr(pcap));
		return -EBADMSG;
	}
	return 0;
}

int capd_dump_json(struct capture *cap, int fd, struct dump_result *ret)
{
	struct json_sink sink = { .fd = fd };
	struct wl_packet *pkt = NULL;
	int r, rf;

	memset(ret, 0, sizeof(*ret));
	sink.buf = malloc(OUT_SIZE);
	pkt = malloc(sizeof(*pkt));
	if (!sink.buf || !pkt) {
		snprintf(ret->error, sizeof(ret->error), "out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = read_packets(cap, sink_packet, &sink, pkt, ret);
	rf = sink_flush(&sink);
	if (r == 0 && rf < 0) {
		snprintf(ret->error, sizeof(ret->error), "write: %s", strerror(-rf));
		r = rf;
	}
out:
	free(pkt);
	free(sink.buf);
	return r;
}

/* ---- --flows ---------------------------------------------------------------- */

/*
 * Final reports as JSON lines, written in the order of the flows' ids (the
 * order of their first packets): a line waits only while a flow that began
 * before it is still open, and the table ends the rest in that order.
 */
struct flow_lines {
	struct json_sink out;
	char **pending; /* by id - 1, of ids not written yet */
	size_t n_pending;
	uint64_t next; /* the id written next */
	int err;
};

static int write_line(struct flow_lines *l, const char *line, size_t len)
{
	memcpy(l->out.buf + l->out.used, line, len);
	l->out.used += len;
	return l->out.used >= OUT_FLUSH_AT ? sink_flush(&l->out) : 0;
}

/* Writes the lines that were waiting for the one just written. */
static int write_ready(struct flow_lines *l)
{
	int r = 0;

	while (r == 0 && l->next <= l->n_pending && l->pending[l->next - 1]) {
		char *line = l->pending[l->next - 1];

		r = write_line(l, line, strlen(line));
		free(line);
		l->pending[l->next++ - 1] = NULL;
	}
	return r;
}

static int hold_line(struct flow_lines *l, uint64_t id, const char *line, size_t len)
{
	if (id > l->n_pending) {
		size_t n = l->n_pending ? l->n_pending : 4096;
		char **p;

		while (n < id)
			n *= 2;
		if (!(p = realloc(l->pending, n * sizeof(*p))))
			return -ENOMEM;
		memset(p + l->n_pending, 0, (n - l->n_pending) * sizeof(*p));
		l->pending = p;
		l->n_pending = n;
	}
	return (l->pending[id - 1] = strndup(line, len)) ? 0 : -ENOMEM;
}

static void print_final_report(void *ctx, const struct wl_flow_record *rec)
{
	struct flow_lines *l = ctx;
	char line[WL_JSON_FLOW_MAX];
	long n;

	if (rec->end == WL_FLOW_ACTIVE || l->err || rec->id < l->next)
		return; /* only each flow's last report is printed */
	if ((n = wl_json_flow(rec, NULL, line, sizeof(line))) < 0) {
		l->err = (int)n;
		return;
	}
	if (rec->id != l->next) {
		l->err = hold_line(l, rec->id, line, (size_t)n);
		return;
	}
	l->next++;
	if ((l->err = write_line(l, line, (size_t)n)) == 0)
		l->err = write_ready(l);
}

static int fold_packet(void *ctx, const struct wl_packet *pkt)
{
	flow_table_packet(ctx, pkt);
	return 0;
}

static void free_lines(struct flow_lines *l)
{
	for (size_t i = 0; i < l->n_pending; i++)
		free(l->pending[i]);
	free(l->pending);
	free(l->out.buf);
}

int capd_dump_flows(struct capture *cap, const struct flow_config *cfg, int fd, struct dump_result *ret)
{
	struct flow_lines lines = { .out = { .fd = fd }, .next = 1 };
	struct wl_packet *pkt = malloc(sizeof(*pkt));
	struct flow_table *t = NULL;
	int r = -ENOMEM, rf;

	memset(ret, 0, sizeof(*ret));
	lines.out.buf = malloc(OUT_SIZE);
	if (pkt && lines.out.buf)
		t = flow_table_new(cfg, print_final_report, &lines, &r);
	if (!t) {
		snprintf(ret->error, sizeof(ret->error), "cannot make the flow table: %s", strerror(-r));
		free(pkt);
		free_lines(&lines);
		return r;
	}
	/* No sweeps: a flow's timeout is checked by its next packet and at the end. */
	r = read_packets(cap, fold_packet, t, pkt, ret);
	/* After a read error too: the flows of the packets before it. */
	flow_table_flush(t, WL_FLOW_EOF);
	flow_table_free(t);
	rf = sink_flush(&lines.out);
	if (r == 0 && (lines.err < 0 || rf < 0)) {
		r = lines.err < 0 ? lines.err : rf;
		snprintf(ret->error, sizeof(ret->error), "%s", r == -ENOMEM ? "out of memory for the flows" : strerror(-r));
	}
	free_lines(&lines);
	free(pkt);
	return r;
}
