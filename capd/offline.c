/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `wlite-capd --read FILE --json`: decode a capture file to NDJSON.
 * The hot path: pcap_next_ex -> wl_dissect -> wl_json_packet straight into
 * one big output buffer, flushed with write(2). No allocation per packet.
 */
#include "offline.h"

#include "capture.h"

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

static int sink_packet(struct json_sink *s, const struct wl_packet *pkt)
{
	long n = wl_json_packet(pkt, s->buf + s->used, OUT_SIZE - s->used);

	if (n < 0)
		return (int)n;
	s->used += (size_t)n;
	return s->used >= OUT_FLUSH_AT ? sink_flush(s) : 0;
}

static int read_packets(struct capture *cap, struct json_sink *sink, struct wl_packet *pkt,
			struct dump_result *ret)
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
		if ((r = sink_packet(sink, pkt)) < 0) {
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
	r = read_packets(cap, &sink, pkt, ret);
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
