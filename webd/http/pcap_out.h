/* SPDX-License-Identifier: BSD-2-Clause */
/* Classic pcap (microseconds, little-endian) written into a streamed HTTP answer. */
#ifndef WEBD_PCAP_OUT_H
#define WEBD_PCAP_OUT_H

#include "http/http.h"

#include <stddef.h>
#include <stdint.h>

#define PCAP_OUT_SNAPLEN 262144

void pcap_out_header(struct http_stream *s, int linktype);
void pcap_out_record(struct http_stream *s, int64_t ts_sec, uint32_t ts_usec, uint32_t wire_len,
		     const void *raw, size_t caplen);

#endif
