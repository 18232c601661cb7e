/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The libpcap side of capd: a live interface or a capture file, its BPF
 * filter, and its statistics. Errors come back as text for the caller to
 * log or to send to a control client.
 */
#ifndef CAPD_CAPTURE_H
#define CAPD_CAPTURE_H

#include "options.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>

#define CAPD_ERR_MAX 512

struct capture {
	pcap_t *pcap;
	bool live;
	int linktype; /* LINKTYPE_* for proto/ */
	bool nano;    /* file timestamps in nanoseconds */
	char source[CAPD_STR_MAX]; /* interface name or file path */
	int file_fd; /* the file, opened before privileges were dropped; -1 live */
	bool stream; /* the file is a pipe, FIFO or the like: read once, as bytes come */
	void *map;   /* the file's mapping while a handle reads it, or NULL */
	size_t map_len;
	size_t map_released; /* bytes at the start already given back */
	char filter[CAPD_STR_MAX];
	/* Counters of handles already closed (interface switches), so that the
	 * published pcap_stats never go backwards. */
	uint64_t closed_recv, closed_drop, closed_ifdrop;
};

struct capture_stats {
	uint64_t recv, drop, ifdrop;
};

/* Picks the first interface that is up, running and not loopback. */
int capture_default_interface(char *buf, size_t size, char *err, size_t errlen);

/* Whether name is an interface pcap_findalldevs() lists. */
bool capture_interface_exists(const char *name);

/* Opens iface live with the options' snaplen, promisc, buffer, timeout and filter. */
int capture_open_live(struct capture *cap, const char *iface, const struct capd_options *opt,
		      char *err, size_t errlen);

/*
 * Opens a pcap or pcapng file; "-" is standard input. A regular file is
 * mapped; a pipe or FIFO (cap->stream) is read through stdio, with a big
 * buffer, or with none when paced: then poll() on cap->file_fd tells
 * whether a packet is there, so that an event loop never blocks in libpcap.
 */
int capture_open_file(struct capture *cap, const char *path, const char *filter, bool paced,
		      char *err, size_t errlen);

/* Starts the file over (--loop) from the descriptor kept open, so that a
 * file only root could read can still be replayed after the drop. A stream
 * cannot be started over. */
int capture_rewind_file(struct capture *cap, char *err, size_t errlen);

/* Gives back the pages of a mapped file that were read already; call now and then. */
void capture_release_read(struct capture *cap);

/* A closed capture: call before the first open. */
void capture_init(struct capture *cap);

/* Compiles filter first, so a bad one changes nothing and err holds libpcap's text. */
int capture_set_filter(struct capture *cap, const char *filter, char *err, size_t errlen);

/* A filter that matches nothing: the kernel stops copying packets (hard pause). */
int capture_block_all(struct capture *cap, char *err, size_t errlen);

void capture_stats(const struct capture *cap, struct capture_stats *ret);

void capture_close(struct capture *cap);

struct wl_packet;
/* Fills ts, len and caplen of pkt from a libpcap header of this capture. */
void capture_fill_header(const struct capture *cap, struct wl_packet *pkt,
			 const struct pcap_pkthdr *h);

/* Maps libpcap's DLT_* value to the LINKTYPE_* number proto/ speaks. */
int capd_linktype(int dlt);

#endif
