/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_DETAIL_H
#define WEBD_DETAIL_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct wl_packet;

/* The dissection tree of one packet, as {"layers":[...]}; NULL when out of memory. */
struct cJSON *detail_json(struct wl_packet *pkt, int linktype, const uint8_t *raw, size_t len);

#endif
