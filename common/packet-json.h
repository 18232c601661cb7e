/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The v1 packet JSON schema (one object per packet, one line each), shared by
 * `wlite-capd --json`, wlite-tap and webd. The keys are a public interface:
 * see README.md, "Packet JSON (schema v1)". Allocation-free: the caller owns
 * the buffer.
 */
#ifndef WL_PACKET_JSON_H
#define WL_PACKET_JSON_H

#include "wlite-proto.h"

#include <stddef.h>

#define WL_JSON_SCHEMA_VERSION 1

/*
 * Enough for any struct wl_packet: every string in it is at most 255 bytes
 * and escapes to at most 6 bytes per byte.
 */
#define WL_JSON_PACKET_MAX (256 * 1024)

/*
 * Writes pkt as one JSON object followed by '\n' into buf. Returns the number
 * of bytes written, or -ENOBUFS if size was too small (buf then holds a cut,
 * unusable line).
 */
long wl_json_packet(const struct wl_packet *pkt, char *buf, size_t size);

#endif
