/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef CAPD_OFFLINE_H
#define CAPD_OFFLINE_H

#include "capture.h"

#include <stdint.h>

struct dump_result {
	uint64_t packets;
	uint64_t malformed;
	char error[512]; /* set when the file could not be read to its end */
};

/*
 * Reads an opened capture file and writes one v1 JSON line per packet to fd.
 * Returns 0, or a negative errno with ret->error saying why; the packets
 * before a read error are still written.
 */
int capd_dump_json(struct capture *cap, int fd, struct dump_result *ret);

#endif
