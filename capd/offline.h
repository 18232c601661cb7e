/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef CAPD_OFFLINE_H
#define CAPD_OFFLINE_H

#include <stdint.h>
#include <stdio.h>

struct dump_result {
	uint64_t packets;
	uint64_t malformed;
	char error[512]; /* set when the file could not be read to its end */
};

/*
 * Reads a pcap or pcapng file and writes one v1 JSON line per packet to fd.
 * Returns 0, or a negative errno with ret->error saying why; the packets
 * before a read error are still written.
 */
int capd_dump_json(const char *path, int fd, struct dump_result *ret);

/* Maps libpcap's DLT_* value to the LINKTYPE_* number proto/ speaks. */
int capd_linktype(int dlt);

#endif
