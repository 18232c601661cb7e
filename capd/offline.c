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

/* Reads every packet of the file, decodes it and hands it to each(). */
static int read_packets(struct capture *cap, int (*each)(void *ctx, const struct wl_packet *pkt), void *ctx,
			struct wl_packet *pkt, struct dump_result *ret)
{
	pcap_t *pcap = cap->pcap;
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;

	while ((r = pcap_next_ex(pcap, &h, &data)) == 1) {
		capture_fill_header(cap, pkt, h);
		pkt->seq = ++ret->packets;
		wl_dissect(pkt, cap->linktype, data, h->caplen);
		if (pkt->malformed)
			ret->malformed++;
		if ((ret->packets & 0xfff) == 0)
			capture_release_read(cap);
		if ((r = each(ctx, pkt)) < 0) {
			snprintf(ret->error, sizeof(ret->error), "write: %s", strerror(-r));
			return r;
		}
	}
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
 * Final reports as JSON lines, kept until the end and written in the order
 * of the flows' ids: ids are given in the order of first packets.
 */
struct flow_lines {
	char *text;
	size_t used, size;
	size_t *start; /* by id - 1: where its line starts, + 1; 0 for none */
	size_t n_ids;
	int err;
};

static int lines_reserve(struct flow_lines *l, uint64_t id, size_t bytes)
{
	if (id > l->n_ids) {
		size_t n = l->n_ids ? l->n_ids : 4096;
		size_t *p;

		while (n < id)
			n *= 2;
		if (!(p = realloc(l->start, n * sizeof(*p))))
			return -ENOMEM;
		memset(p + l->n_ids, 0, (n - l->n_ids) * sizeof(*p));
		l->start = p;
		l->n_ids = n;
	}
	if (bytes > l->size - l->used) {
		size_t n = l->size ? l->size : 1 << 20;
		char *p;

		while (n - l->used < bytes)
			n *= 2;
		if (!(p = realloc(l->text, n)))
			return -ENOMEM;
		l->text = p;
		l->size = n;
	}
	return 0;
}

static void keep_final_report(void *ctx, const struct wl_flow_record *rec)
{
	struct flow_lines *l = ctx;
	long n;

	if (rec->end == WL_FLOW_ACTIVE || l->err || rec->id == 0)
		return; /* only each flow's last report is printed */
	if ((l->err = lines_reserve(l, rec->id, WL_JSON_FLOW_MAX)) < 0)
		return;
	n = wl_json_flow(rec, NULL, l->text + l->used, WL_JSON_FLOW_MAX);
	if (n < 0) {
		l->err = (int)n;
		return;
	}
	l->start[rec->id - 1] = l->used + 1;
	l->used += (size_t)n;
}

static int fold_packet(void *ctx, const struct wl_packet *pkt)
{
	flow_table_packet(ctx, pkt);
	return 0;
}

static int write_lines(const struct flow_lines *l, int fd)
{
	for (size_t i = 0; i < l->n_ids; i++) {
		const char *line;
		int r;

		if (!l->start[i])
			continue;
		line = l->text + l->start[i] - 1;
		if ((r = write_all(fd, line, (size_t)(strchr(line, '\n') + 1 - line))) < 0)
			return r;
	}
	return 0;
}

int capd_dump_flows(struct capture *cap, const struct flow_config *cfg, int fd, struct dump_result *ret)
{
	struct flow_lines lines = { 0 };
	struct wl_packet *pkt = malloc(sizeof(*pkt));
	struct flow_table *t = NULL;
	int r = -ENOMEM, rw;

	memset(ret, 0, sizeof(*ret));
	if (pkt)
		t = flow_table_new(cfg, keep_final_report, &lines, &r);
	if (!t) {
		snprintf(ret->error, sizeof(ret->error), "cannot make the flow table: %s", strerror(-r));
		free(pkt);
		return r;
	}
	/* No sweeps: a flow's timeout is checked by its next packet and at the end. */
	r = read_packets(cap, fold_packet, t, pkt, ret);
	flow_table_flush(t, WL_FLOW_EOF);
	flow_table_free(t);
	if (lines.err < 0 && r == 0) {
		snprintf(ret->error, sizeof(ret->error), "out of memory for the flows");
		r = lines.err;
	}
	/* After a read error too: the flows of the packets before it. */
	if (lines.err == 0 && (rw = write_lines(&lines, fd)) < 0 && r == 0) {
		snprintf(ret->error, sizeof(ret->error), "write: %s", strerror(-rw));
		r = rw;
	}
	free(lines.text);
	free(lines.start);
	free(pkt);
	return r;
}
