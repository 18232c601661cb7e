/* SPDX-License-Identifier: BSD-2-Clause */
#include "flow-key.h"

#include <stddef.h>

_Static_assert(sizeof(struct wl_flow_key) == 44, "struct wl_flow_key has padding");

const struct wl_flow *wl_flow_key_layer(const struct wl_packet *pkt)
{
	if ((pkt->has & WL_PKT_INNER) && (pkt->inner.has & WL_HAS_SRC) && (pkt->inner.has & WL_HAS_DST))
		return &pkt->inner;
	return &pkt->outer;
}

static void key_ports(const struct wl_flow *l, uint16_t *sport, uint16_t *dport)
{
	*sport = *dport = 0;
	if ((l->has & (WL_HAS_SPORT | WL_HAS_SCTP_PORTS)) && (l->has & WL_HAS_DPORT)) {
		*sport = l->sport;
		*dport = l->dport;
	} else if (l->l4 & WL_L4_ECHO) {
		*sport = *dport = l->icmp_id; /* request and reply share it */
	}
}

/* Puts the two endpoints in canonical order: lower address (then port) first. */
static bool order_endpoints(struct wl_flow_key *k, const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
			    uint16_t dport)
{
	int cmp = memcmp(src, dst, 16);
	bool src_is_lo = cmp < 0 || (cmp == 0 && sport <= dport);

	memcpy(k->addr[0], src_is_lo ? src : dst, 16);
	memcpy(k->addr[1], src_is_lo ? dst : src, 16);
	k->port[0] = src_is_lo ? sport : dport;
	k->port[1] = src_is_lo ? dport : sport;
	return src_is_lo;
}

bool wl_flow_key_of_packet(const struct wl_packet *pkt, struct wl_flow_key *k, bool *src_is_lo)
{
	const struct wl_flow *l = wl_flow_key_layer(pkt);
	uint8_t src[16] = { 0 }, dst[16] = { 0 };
	uint16_t sport, dport;

	memset(k, 0, sizeof(*k));
	if ((l->has & WL_HAS_SRC) && (l->has & WL_HAS_DST) && (l->l3 == WL_L3_IPV4 || l->l3 == WL_L3_IPV6)) {
		k->family = l->src.family;
		k->ipproto = l->has & WL_HAS_IPPROTO ? l->ipproto : 0;
		memcpy(src, l->src.b, 16);
		memcpy(dst, l->dst.b, 16);
		key_ports(l, &sport, &dport);
		k->tunnel = l == &pkt->inner;
	} else if (pkt->has & WL_PKT_ETH) {
		memcpy(src, pkt->eth_src, 6);
		memcpy(dst, pkt->eth_dst, 6);
		sport = dport = l->l3 == WL_L3_ARP ? 0x0806 : l->ethertype;
	} else {
		return false;
	}
	k->n_vlan = pkt->n_vlan < WL_FLOW_VLAN_MAX ? pkt->n_vlan : WL_FLOW_VLAN_MAX;
	memcpy(k->vlan, pkt->vlan, k->n_vlan * sizeof(k->vlan[0]));
	*src_is_lo = order_endpoints(k, src, dst, sport, dport);
	return true;
}

void wl_flow_key_of_record(const struct wl_flow_record *r, struct wl_flow_key *k)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	bool ip = r->addr[0].family == 4 || r->addr[0].family == 6;

	memset(k, 0, sizeof(*k));
	if (ip) {
		k->family = r->addr[0].family;
		k->ipproto = r->ipproto;
		memcpy(a, r->addr[0].b, 16);
		memcpy(b, r->addr[1].b, 16);
		k->tunnel = (r->flags & WL_FLOW_OUTER) != 0;
	} else {
		memcpy(a, r->mac[0], 6);
		memcpy(b, r->mac[1], 6);
	}
	k->n_vlan = r->n_vlan < WL_FLOW_VLAN_MAX ? r->n_vlan : WL_FLOW_VLAN_MAX;
	memcpy(k->vlan, r->vlan, k->n_vlan * sizeof(k->vlan[0]));
	order_endpoints(k, a, b, r->port[0], r->port[1]);
}
