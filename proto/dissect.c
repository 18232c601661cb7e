/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The entry point and the dispatch tables that join the decoders: link type
 * -> ethertype -> IP protocol -> well-known port. A decoder never calls the
 * next one by name; it asks a table, so adding a protocol is one row.
 */
#include "dissect.h"

#include <limits.h>

struct link_entry {
	int linktype;
	wl_decoder decode;
};

static const struct link_entry link_table[] = {
	{ WL_LINK_ETHERNET, wl_decode_ethernet },
	{ WL_LINK_SLL, wl_decode_sll },
	{ WL_LINK_SLL2, wl_decode_sll2 },
	{ WL_LINK_RAW, wl_decode_raw },
	{ WL_LINK_IPV4, wl_decode_ipv4 },
	{ WL_LINK_IPV6, wl_decode_ipv6 },
	{ WL_LINK_NULL, wl_decode_null },
	{ WL_LINK_LOOP, wl_decode_loop },
	{ WL_LINK_PPP, wl_decode_ppp_hdlc },
	{ WL_LINK_PPP_HDLC, wl_decode_ppp_hdlc },
	{ WL_LINK_C_HDLC, wl_decode_chdlc },
	{ WL_LINK_IEEE802_11, wl_decode_wlan },
	{ WL_LINK_IEEE802_11_RADIOTAP, wl_decode_radiotap },
};

struct type_entry {
	uint16_t type;
	wl_decoder decode;
};

static const struct type_entry ethertype_table[] = {
	{ 0x0800, wl_decode_ipv4 },
	{ 0x86dd, wl_decode_ipv6 },
	{ 0x0806, wl_decode_arp },
	{ 0x8035, wl_decode_arp },     /* RARP */
	{ 0x8100, wl_decode_vlan },    /* 802.1Q */
	{ 0x88a8, wl_decode_vlan },    /* 802.1ad */
	{ 0x9100, wl_decode_vlan },    /* pre-standard QinQ */
	{ 0x8864, wl_decode_pppoe },   /* PPPoE session */
	{ 0x8863, wl_decode_pppoed },  /* PPPoE discovery */
	{ 0x8847, wl_decode_mpls },    /* unicast */
	{ 0x8848, wl_decode_mpls },    /* multicast */
	{ 0x6558, wl_decode_ethernet }, /* transparent Ethernet bridging (GRE, Geneve) */
	{ 0x8926, wl_decode_vntag },
	{ 0xd28b, wl_decode_arista },
	{ 0x88e7, wl_decode_pbb },     /* 802.1ah */
	{ 0x88e5, wl_decode_macsec },  /* 802.1AE */
	{ 0x893f, wl_decode_etag },    /* 802.1BR */
	{ 0x22f3, wl_decode_trill },
	{ 0x894f, wl_decode_nsh },
};

static const struct type_entry ipproto_table[] = {
	{ 1, wl_decode_icmp },
	{ 4, wl_decode_ipv4 },   /* IP-in-IP */
	{ 6, wl_decode_tcp },
	{ 17, wl_decode_udp },
	{ 41, wl_decode_ipv6 },  /* 6in4, IPv6-in-IPv6 */
	{ 47, wl_decode_gre },
	{ 50, wl_decode_esp },
	{ 51, wl_decode_ah },
	{ 58, wl_decode_icmpv6 },
	{ 115, wl_decode_l2tpv3_ip },
	{ 132, wl_decode_sctp },
	{ 137, wl_decode_mpls }, /* MPLS-in-IP */
};

/*
 * Ports: the lower port is tried first, as most stacks pick a high ephemeral
 * one. A row without a decoder only names the protocol, which also keeps the
 * DNS sniffer away from look-alikes such as NetBIOS name service.
 */
struct port_entry {
	uint16_t port;
	wl_decoder decode;
	uint8_t proto; /* enum wl_proto, for rows that only name */
};

static const struct port_entry udp_port_table[] = {
	{ 53, wl_decode_dns, 0 },
	{ 5353, wl_decode_mdns, 0 },
	{ 5355, wl_decode_llmnr, 0 },
	{ 67, wl_decode_dhcp, 0 },
	{ 68, wl_decode_dhcp, 0 },
	{ 4789, wl_decode_vxlan, 0 },
	{ 8472, wl_decode_vxlan, 0 }, /* Linux's pre-IANA VXLAN port */
	{ 6081, wl_decode_geneve, 0 },
	{ 3544, wl_decode_teredo, 0 },
	{ 4790, wl_decode_vxlan_gpe, 0 },
	{ 2152, wl_decode_gtp, 0 },  /* GTP-U */
	{ 2123, wl_decode_gtp, 0 },  /* GTP-C */
	{ 1701, wl_decode_l2tp, 0 },
	{ 4341, wl_decode_lisp, 0 },
	{ 6635, wl_decode_mpls, 0 }, /* MPLS-in-UDP (RFC 7510) */
	{ 5247, wl_decode_capwap_data, 0 },
	{ 12222, wl_decode_lwapp, 0 },
	{ 12223, wl_decode_lwapp, 0 },
	{ 3386, wl_decode_gtp, 0 },  /* GTP' and GTPv0 */
	{ 4500, wl_decode_udpencap, 0 }, /* IPsec NAT traversal: ESP, IKE, keep-alives */
	{ 123, NULL, WL_P_NTP },
	{ 137, NULL, WL_P_NBNS },
	{ 138, NULL, WL_P_NBDS },
	{ 161, NULL, WL_P_SNMP },
	{ 162, NULL, WL_P_SNMP },
	{ 1900, NULL, WL_P_SSDP },
	{ 514, NULL, WL_P_SYSLOG },
	{ 69, NULL, WL_P_TFTP },
	{ 520, NULL, WL_P_RIP },
	{ 1812, NULL, WL_P_RADIUS },
	{ 1813, NULL, WL_P_RADIUS },
	{ 5060, NULL, WL_P_SIP },
	{ 500, NULL, WL_P_ISAKMP },
	{ 4342, NULL, WL_P_LISP },   /* control messages */
	{ 5246, NULL, WL_P_CAPWAP_CONTROL },
	{ 546, NULL, WL_P_DHCPV6 },
	{ 547, NULL, WL_P_DHCPV6 },
};

static const struct port_entry tcp_port_table[] = {
	{ 53, wl_decode_dns_tcp, 0 },
	/* No HTTP ports: wl_looks_like_http() finds every request and status
	 * line on any port, and the rest of a body is plain TCP. */
	{ 443, wl_decode_tls, 0 },
	{ 853, wl_decode_tls, 0 },
	{ 8443, wl_decode_tls, 0 },
	{ 22, NULL, WL_P_SSH },
	{ 25, NULL, WL_P_SMTP },
	{ 21, NULL, WL_P_FTP },
	{ 23, NULL, WL_P_TELNET },
	{ 139, NULL, WL_P_SMB },
	{ 445, NULL, WL_P_SMB },
	{ 179, NULL, WL_P_BGP },
};

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static wl_decoder find_decoder(const struct type_entry *table, size_t n, uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].type == type)
			return table[i].decode;
	return NULL;
}

/* Every step down goes through here, so depth is bounded in one place. */
static int descend(struct wl_dctx *d, wl_decoder decode, struct cursor *c)
{
	int r;

	if (d->depth >= WL_MAX_DEPTH)
		return wl_fail(d, -ELOOP);
	d->depth++;
	r = decode(d, c);
	d->depth--;
	return r;
}

int wl_descend(struct wl_dctx *d, wl_decoder decode, struct cursor *c)
{
	return descend(d, decode, c);
}

bool wl_ethertype_known(uint16_t type)
{
	return find_decoder(ethertype_table, N_ELEMENTS(ethertype_table), type) != NULL;
}

int wl_dispatch_ethertype(struct wl_dctx *d, uint16_t type, struct cursor *c)
{
	wl_decoder decode = find_decoder(ethertype_table, N_ELEMENTS(ethertype_table), type);

	/* Before any IP header, the last ethertype named is the frame's l3. */
	if (d->n_ip == 0 && !d->in_icmp) {
		d->pkt->outer.ethertype = type;
		d->pkt->outer.l3 = WL_L3_OTHER;
	}
	return decode ? descend(d, decode, c) : 0;
}

int wl_dispatch_ipproto(struct wl_dctx *d, uint8_t ipproto, struct cursor *c)
{
	wl_decoder decode = find_decoder(ipproto_table, N_ELEMENTS(ipproto_table), ipproto);

	return decode ? descend(d, decode, c) : 0;
}

static const struct port_entry *find_port(const struct port_entry *table, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].port == port)
			return &table[i];
	return NULL;
}

/* A payload on a port we only name: say what it is, decode nothing. */
static int name_payload(struct wl_dctx *d, enum wl_proto proto, struct cursor *c)
{
	struct wl_sb info = wl_info(d);

	wl_enter(d, proto, c);
	if (d->tree) {
		wl_tree_layer(d, proto, wl_proto_name(proto), c);
		wl_tree_uint(d, c, c->off, cur_left(c), "Payload length", cur_left(c));
	}
	wl_sb_str(&info, wl_proto_name(proto));
	return 0;
}

static int dispatch_ports(struct wl_dctx *d, const struct port_entry *table, size_t n,
			  uint16_t sport, uint16_t dport, struct cursor *c)
{
	uint16_t lo = sport < dport ? sport : dport, hi = sport < dport ? dport : sport;
	const struct port_entry *e = find_port(table, n, lo);

	if (!e)
		e = find_port(table, n, hi);
	if (!e)
		return 0;
	/* Nothing captured of a payload that was sent: its header is missing. */
	if (cur_left(c) == 0)
		return c->cut ? wl_fail(d, -EMSGSIZE) : 0;
	return e->decode ? descend(d, e->decode, c) : name_payload(d, e->proto, c);
}

int wl_dispatch_udp(struct wl_dctx *d, uint16_t sport, uint16_t dport, struct cursor *c)
{
	struct wl_packet *pkt = d->pkt;
	uint8_t before = pkt->proto;
	int r = dispatch_ports(d, udp_port_table, N_ELEMENTS(udp_port_table), sport, dport, c);

	/* No port claimed it: QUIC by its header (quic.c says when), then DNS on
	 * odd ports, common enough to sniff for. */
	if (r == 0 && pkt->proto == before && wl_looks_like_quic(c, sport, dport))
		return descend(d, wl_decode_quic, c);
	if (r == 0 && pkt->proto == before && wl_looks_like_dns(c))
		return descend(d, wl_decode_dns, c);
	return r;
}

int wl_dispatch_tcp(struct wl_dctx *d, uint16_t sport, uint16_t dport, struct cursor *c)
{
	if (cur_left(c) == 0)
		return 0;
	/* Content first: TLS and HTTP run on any port, and a port says little. */
	if (wl_looks_like_tls(c))
		return descend(d, wl_decode_tls, c);
	if (wl_looks_like_http(c))
		return descend(d, wl_decode_http, c);
	return dispatch_ports(d, tcp_port_table, N_ELEMENTS(tcp_port_table), sport, dport, c);
}

static int dissect(struct wl_packet *pkt, int linktype, const uint8_t *data, size_t caplen,
		   struct wl_tree *tree)
{
	struct wl_dctx d = { .pkt = pkt, .frame = data, .tree = tree, .tree_layer = UINT_MAX };
	struct cursor c = cur_make(data, caplen);

	c.cut = caplen < pkt->len;
	memset(&pkt->has, 0, offsetof(struct wl_packet, info) - offsetof(struct wl_packet, has));
	pkt->info[0] = '\0';

	for (size_t i = 0; i < N_ELEMENTS(link_table); i++) {
		if (link_table[i].linktype != linktype)
			continue;
		int r = descend(&d, link_table[i].decode, &c);

		/* A decoder may note an error and go on; the first one is the answer. */
		if (r < 0)
			wl_fail(&d, r);
		return d.first_err;
	}
	return -EPROTONOSUPPORT;
}

int wl_dissect(struct wl_packet *pkt, int linktype, const uint8_t *data, size_t caplen)
{
	return dissect(pkt, linktype, data, caplen, NULL);
}

int wl_dissect_tree(struct wl_packet *pkt, int linktype, const uint8_t *data, size_t caplen,
		    struct wl_tree *tree)
{
	int r;

	tree->n = 0;
	tree->truncated = false;
	r = dissect(pkt, linktype, data, caplen, tree);
	wl_tree_finish(tree);
	return r;
}
