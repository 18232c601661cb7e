/* SPDX-License-Identifier: BSD-2-Clause */
#include "http/pcap_out.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void pcap_out_header(struct http_stream *s, int linktype)
{
	uint8_t header[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 }; /* magic, version 2.4 */

	put_le32(header + 16, PCAP_OUT_SNAPLEN);
	put_le32(header + 20, (uint32_t)linktype);
	http_stream_write(s, header, sizeof(header));
}

void pcap_out_record(struct http_stream *s, int64_t ts_sec, uint32_t ts_usec, uint32_t wire_len,
		     const void *raw, size_t caplen)
{
	uint8_t rh[16];

	put_le32(rh, (uint32_t)ts_sec);
	put_le32(rh + 4, ts_usec);
	put_le32(rh + 8, (uint32_t)caplen);
	put_le32(rh + 12, wire_len);
	http_stream_write(s, rh, sizeof(rh));
	http_stream_write(s, raw, caplen);
}
