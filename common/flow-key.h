/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What makes two packets one flow: the key capd's flow table looks packets
 * up by, and the key of a published flow record, so that a subscriber can
 * tell which packets belong to a flow it was told of (webd's per-flow
 * packets and PCAP) by the very rule that made the flow.
 *
 * A key holds the protocol, the two endpoints in canonical order (lower
 * address first; addresses and, for TCP, UDP and SCTP, ports; the
 * identifier for ICMP echo; MACs and the ethertype for non-IP), the VLAN
 * ids, and whether the flow is a tunnel's inner one. It has no padding:
 * keys compare and hash as bytes.
 */
#ifndef WL_FLOW_KEY_H
#define WL_FLOW_KEY_H

#include "wlite-proto.h"
#include "wlite-wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct wl_flow_key {
	uint8_t family; /* 4, 6, or 0 for a MAC pair */
	uint8_t ipproto;
	uint8_t n_vlan;
	uint8_t tunnel; /* the inner headers of a tunnel */
	uint16_t vlan[WL_FLOW_VLAN_MAX];
	uint16_t port[2];
	uint8_t addr[2][16];
};

/* The IP layer a flow is about: a tunnel's inner headers, else the outer ones. */
const struct wl_flow *wl_flow_key_layer(const struct wl_packet *pkt);

/*
 * Fills the key of a packet; *src_is_lo says whether its sender is the
 * key's first endpoint. Returns false for a packet no flow can hold (no
 * addresses).
 */
bool wl_flow_key_of_packet(const struct wl_packet *pkt, struct wl_flow_key *k, bool *src_is_lo);

/* Fills the key of the flow a record reports. */
void wl_flow_key_of_record(const struct wl_flow_record *r, struct wl_flow_key *k);

static inline bool wl_flow_key_equal(const struct wl_flow_key *a, const struct wl_flow_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

#endif
