/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef CAPD_OFFLINE_H
#define CAPD_OFFLINE_H

#include "capture.h"
#include "flow.h"

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

/*
 * Reads an opened capture file into a flow table and writes each flow's
 * final report as one flow JSON line to fd, in the order of their first
 * packets. The flows of the packets before a read error are written too.
 */
int capd_dump_flows(struct capture *cap, const struct flow_config *cfg, int fd, struct dump_result *ret);

#endif
