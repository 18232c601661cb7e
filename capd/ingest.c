/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packets in, records out: the libpcap callback decodes each packet, numbers
 * it, counts it and hands it to the publisher. Live capture is driven by the
 * pcap fd in the event loop; a file is replayed by a timer at the requested
 * speed. Hard pause, the filter and the interface are changed here.
 */
#include "capd.h"

#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DISPATCH_BATCH 1024
#define DISPATCH_ROUNDS 8   /* then let the loop serve control and timers */
#define REPLAY_MAX_BATCH 2048
#define REPLAY_MAX_WAIT_S 86400.0

static bool is_loopback(const struct wl_addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (a->family == 4)
		return a->b[0] == 127;
	return a->family == 6 && memcmp(a->b, v6_loopback, 16) == 0;
}

/*
 * Live, the original tool left out traffic with both ends on loopback (the
 * dashboard's own, mostly); so do we. A file is replayed whole: its reader
 * chose what is in it, and it then matches --read --json.
 */
static bool skip_as_loopback(const struct capd *d, const struct wl_packet *pkt)
{
	const struct wl_flow *f = &pkt->outer;

	return d->cap.live && !d->opt.include_loopback && (f->has & WL_HAS_SRC) &&
	       (f->has & WL_HAS_DST) && is_loopback(&f->src) && is_loopback(&f->dst);
}

/* --- Untrusted bytes start here: only proto/ reads them, through its cursor. --- */
static void handle_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capd *d = (struct capd *)user;
	struct wl_packet *pkt = d->pkt;

	capture_fill_header(&d->cap, pkt, h);
	wl_dissect(pkt, d->cap.linktype, data, h->caplen);
	if (skip_as_loopback(d, pkt)) {
		d->count.loopback_skipped++;
		return;
	}
	capd_quic_packet(d, data, h->caplen);
	capd_tls_packet(d, data, h->caplen);
	pkt->seq = ++d->seq;
	d->count.packets++;
	d->count.bytes += h->len;
	d->count.by_proto[pkt->proto < WL_P__MAX ? pkt->proto : 0]++;
	if (pkt->malformed)
		d->count.malformed++;
	/* The flow first: the packet's record names it. */
	capd_flows_packet(d);
	publisher_add(&d->pub, pkt, d->cap.linktype, data, h->caplen);
}

static void on_live_readable(evutil_socket_t fd, short what, void *arg)
{
	struct capd *d = arg;

	for (int round = 0; round < DISPATCH_ROUNDS; round++) {
		int n = pcap_dispatch(d->cap.pcap, DISPATCH_BATCH, handle_packet, (u_char *)d);

		if (n < 0) {
			wl_err("capture on %s failed: %s", d->cap.source, pcap_geterr(d->cap.pcap));
			break;
		}
		if (n < DISPATCH_BATCH)
			break;
	}
	publisher_flush(&d->pub);
}

/* ---- Offline replay ------------------------------------------------------ */

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double packet_time(const struct capd *d, const struct pcap_pkthdr *h)
{
	return (double)h->ts.tv_sec + (double)h->ts.tv_usec / (d->cap.nano ? 1e9 : 1e6);
}

/* Seconds until the packet is due at the replay speed; <= 0 means now. */
static double due_in(struct capd *d, const struct pcap_pkthdr *h)
{
	double ts = packet_time(d, h), now = monotonic_now();

	if (d->opt.speed == 0)
		return 0;
	/*
	 * First packet, time going backwards in the file, or a gap of more than a
	 * day to wait (an absurd timestamp, or captures pasted together, would
	 * stall the replay for good): restart the clock at this packet.
	 */
	if (!d->clock.started || ts < d->clock.first_ts ||
	    d->clock.start_wall + (ts - d->clock.first_ts) / d->opt.speed - now > REPLAY_MAX_WAIT_S) {
		d->clock = (struct replay_clock){ .started = true, .first_ts = ts, .start_wall = now };
		return 0;
	}
	return d->clock.start_wall + (ts - d->clock.first_ts) / d->opt.speed - now;
}

static void schedule_replay(struct capd *d, double delay)
{
	struct timeval tv = { .tv_sec = (time_t)delay, .tv_usec = (suseconds_t)((delay - (time_t)delay) * 1e6) };

	evtimer_add(d->ev_capture, &tv);
}

static int reopen_file(struct capd *d)
{
	char err[CAPD_ERR_MAX];

	if (capture_rewind_file(&d->cap, err, sizeof(err)) < 0) {
		wl_err("%s", err);
		return -EIO;
	}
	d->clock.started = false;
	return 0;
}

static void at_end_of_file(struct capd *d, int r)
{
	/* The file's flows end with it; a loop starts them again. */
	capd_flows_end_of_file(d);
	capd_quic_end_of_file(d);
	publisher_flush(&d->pub);
	if (r == PCAP_ERROR)
		wl_err("%s: %s (stopped after %llu packets)", d->opt.read_file, pcap_geterr(d->cap.pcap),
		       (unsigned long long)d->count.packets);
	if (d->opt.loop && r != PCAP_ERROR && reopen_file(d) == 0) {
		schedule_replay(d, 0);
		return;
	}
	d->eof = true;
	wl_notice("finished reading %s: %llu packets published", d->opt.read_file,
		  (unsigned long long)d->count.packets);
	capd_publish_status(d);
}

/*
 * A pipe with nothing to read yet: libpcap would block the event loop (and
 * with it the control channel and the stats) until its writer sends more.
 * The pipe is read without stdio's buffer (capture_open_file, paced), so an
 * empty poll() means no packet is waiting anywhere. Blocking can still
 * happen inside a packet the writer has only begun: a short wait.
 */
static bool input_would_block(const struct capd *d)
{
	struct pollfd p = { .fd = d->cap.file_fd, .events = POLLIN };

	return d->cap.stream && poll(&p, 1, 0) == 0;
}

static void on_replay_timer(evutil_socket_t fd, short what, void *arg)
{
	struct capd *d = arg;
	int r = 1;

	for (int n = 0; n < REPLAY_MAX_BATCH && !d->paused; n++) {
		if (!d->pending_h && input_would_block(d)) {
			publisher_flush(&d->pub);
			event_add(d->ev_input, NULL); /* back here when bytes come */
			return;
		}
		/* libpcap keeps the last packet's bytes until the next read. */
		if (!d->pending_h && (r = pcap_next_ex(d->cap.pcap, &d->pending_h, &d->pending_data)) != 1) {
			d->pending_h = NULL;
			at_end_of_file(d, r);
			return;
		}
		double wait = due_in(d, d->pending_h);

		if (wait > 0) {
			publisher_flush(&d->pub);
			schedule_replay(d, wait);
			return;
		}
		handle_packet((u_char *)d, d->pending_h, d->pending_data);
		d->pending_h = NULL;
	}
	publisher_flush(&d->pub);
	capture_release_read(&d->cap);
	if (!d->paused)
		schedule_replay(d, 0);
}

/* ---- Starting, stopping, and the control operations ------------------------ */

int capd_start_capture(struct capd *d, char *err, size_t errlen)
{
	if (d->cap.live) {
		d->ev_capture = event_new(d->base, pcap_get_selectable_fd(d->cap.pcap),
					  EV_READ | EV_PERSIST, on_live_readable, d);
		if (!d->ev_capture || event_add(d->ev_capture, NULL) < 0)
			goto fail;
		return 0;
	}
	d->ev_capture = evtimer_new(d->base, on_replay_timer, d);
	if (!d->ev_capture)
		goto fail;
	if (d->cap.stream && !(d->ev_input = event_new(d->base, d->cap.file_fd, EV_READ, on_replay_timer, d)))
		goto fail;
	schedule_replay(d, d->opt.start_delay_ms / 1000.0);
	return 0;
fail:
	snprintf(err, errlen, "cannot watch the capture: out of memory");
	return -ENOMEM;
}

void capd_stop_capture(struct capd *d)
{
	if (d->ev_capture) {
		event_free(d->ev_capture);
		d->ev_capture = NULL;
	}
	if (d->ev_input) {
		event_free(d->ev_input);
		d->ev_input = NULL;
	}
}

int capd_pause(struct capd *d, char *err, size_t errlen)
{
	int r;

	if (d->paused)
		return 0;
	if (d->cap.live) {
		/* The kernel stops copying packets: nothing piles up to be dropped. */
		if ((r = capture_block_all(&d->cap, err, errlen)) < 0)
			return r;
		on_live_readable(-1, 0, d); /* publish what was already captured */
		event_del(d->ev_capture);
	} else {
		evtimer_del(d->ev_capture);
		if (d->ev_input)
			event_del(d->ev_input);
	}
	d->paused = true;
	capd_publish_status(d);
	return 0;
}

int capd_resume(struct capd *d, char *err, size_t errlen)
{
	char filter[CAPD_STR_MAX];
	int r;

	if (!d->paused)
		return 0;
	if (d->cap.live) {
		snprintf(filter, sizeof(filter), "%s", d->cap.filter);
		if ((r = capture_set_filter(&d->cap, filter, err, errlen)) < 0)
			return r;
		event_add(d->ev_capture, NULL);
	} else if (!d->eof) {
		d->clock.started = false; /* the pause does not count as file time */
		schedule_replay(d, 0);
	}
	d->paused = false;
	capd_publish_status(d);
	return 0;
}

int capd_set_filter(struct capd *d, const char *filter, char *err, size_t errlen)
{
	int r;

	if (d->paused) {
		/* Check it now, apply it on resume. */
		if ((r = capture_set_filter(&d->cap, filter, err, errlen)) < 0)
			return r;
		capture_block_all(&d->cap, err, errlen);
	} else if ((r = capture_set_filter(&d->cap, filter, err, errlen)) < 0) {
		return r;
	}
	snprintf(d->opt.filter, sizeof(d->opt.filter), "%s", d->cap.filter);
	wl_notice("capture filter is now '%s'", d->cap.filter);
	capd_publish_status(d);
	return 0;
}

int capd_set_interface(struct capd *d, const char *iface, char *err, size_t errlen)
{
	int r;

	if (!d->cap.live) {
		snprintf(err, errlen, "capd is reading a file, not an interface");
		return -EINVAL;
	}
	if (!capture_interface_exists(iface)) {
		snprintf(err, errlen, "no such interface '%s'", iface);
		return -ENODEV;
	}
	publisher_flush(&d->pub);
	capd_stop_capture(d);
	/* The new handle gets the current filter; on failure the old one stays. */
	r = capture_open_live(&d->cap, iface, &d->opt, err, errlen);
	if (r == 0 && d->paused)
		capture_block_all(&d->cap, err, errlen);
	if (capd_start_capture(d, err, errlen) < 0)
		return -ENOMEM;
	if (d->paused)
		event_del(d->ev_capture);
	if (r == 0) {
		snprintf(d->opt.interface, sizeof(d->opt.interface), "%s", iface);
		wl_notice("capturing on %s", iface);
		capd_publish_status(d);
	}
	return r;
}
