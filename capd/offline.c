/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `wlite-capd --read FILE --json`: decode a capture file to NDJSON.
 * The hot path: pcap_next_ex -> wl_dissect -> wl_json_packet straight into
 * one big output buffer, flushed with write(2). No allocation per packet.
 */
#include "offline.h"

#include "packet-json.h"
#include "wlite-proto.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_FLUSH_AT (1024 * 1024)
#define OUT_SIZE (OUT_FLUSH_AT + WL_JSON_PACKET_MAX)

int capd_linktype(int dlt)
{
	/* DLT_RAW is 12 or 14 depending on the platform; the file said 101. */
	if (dlt == DLT_RAW)
		return WL_LINK_RAW;
	return dlt;
}

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

static void fill_header(struct wl_packet *pkt, uint64_t seq, const struct pcap_pkthdr *h, bool nano)
{
	pkt->seq = seq;
	pkt->ts_sec = (int64_t)h->ts.tv_sec;
	/* pcap's 32-bit seconds are unsigned (good to 2106); libpcap hands them over signed. */
	if (pkt->ts_sec < 0 && pkt->ts_sec >= INT32_MIN)
		pkt->ts_sec += (int64_t)1 << 32;
	/* Round nanoseconds to the schema's microseconds, carrying into seconds. */
	pkt->ts_usec = nano ? (uint32_t)(((uint64_t)h->ts.tv_usec + 500) / 1000) : (uint32_t)h->ts.tv_usec;
	pkt->len = h->len;
	pkt->caplen = h->caplen;
}

static int read_packets(pcap_t *pcap, struct json_sink *sink, struct wl_packet *pkt,
			struct dump_result *ret)
{
	bool nano = pcap_get_tstamp_precision(pcap) == PCAP_TSTAMP_PRECISION_NANO;
	int linktype = capd_linktype(pcap_datalink(pcap));
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;

	while ((r = pcap_next_ex(pcap, &h, &data)) == 1) {
		fill_header(pkt, ++ret->packets, h, nano);
		wl_dissect(pkt, linktype, data, h->caplen);
		if (pkt->malformed)
			ret->malformed++;
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

int capd_dump_json(const char *path, int fd, struct dump_result *ret)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct json_sink sink = { .fd = fd };
	struct wl_packet *pkt = NULL;
	pcap_t *pcap;
	int r, rf;

	memset(ret, 0, sizeof(*ret));
	pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pcap) {
		snprintf(ret->error, sizeof(ret->error), "%s", errbuf);
		return -EINVAL;
	}
	sink.buf = malloc(OUT_SIZE);
	pkt = malloc(sizeof(*pkt));
	if (!sink.buf || !pkt) {
		snprintf(ret->error, sizeof(ret->error), "out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = read_packets(pcap, &sink, pkt, ret);
	rf = sink_flush(&sink);
	if (r == 0 && rf < 0) {
		snprintf(ret->error, sizeof(ret->error), "write: %s", strerror(-rf));
		r = rf;
	}
out:
	free(pkt);
	free(sink.buf);
	pcap_close(pcap);
	return r;
}
