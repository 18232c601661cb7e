/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers every decoder shares: error recording, layer bookkeeping, text. */
#include "dissect.h"

int wl_fail(struct wl_dctx *d, int err)
{
	if (d->first_err == 0 && err < 0) {
		d->first_err = err;
		d->pkt->malformed = err == -EMSGSIZE ? WL_TRUNCATED : WL_INVALID;
		if (d->tree)
			wl_tree_error(d, err);
	}
	return err;
}

void wl_sb_hex(struct wl_sb *sb, uint64_t v, unsigned min_digits)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = digits[v & 0xf];
		v >>= 4;
	} while ((v || sizeof(tmp) - i < min_digits) && i > 0);
	wl_sb_mem(sb, tmp + i, sizeof(tmp) - i);
}

void wl_sb_printable(struct wl_sb *sb, struct cursor c)
{
	uint8_t b;

	while (cur_u8(&c, &b) == 0) {
		if (b >= 0x20 && b <= 0x7e && b != '\\') {
			wl_sb_char(sb, (char)b);
			continue;
		}
		/* Never leave half an escape at the end of a full buffer. */
		if (sb->size - 1 - sb->len < 4)
			break;
		wl_sb_str(sb, "\\x");
		wl_sb_hex(sb, b, 2);
	}
}

static void sb_ipv4(struct wl_sb *sb, const uint8_t *b)
{
	char text[18];

	wl_sb_mem(sb, text, wl_fmt_ipv4(text, b));
}

/* RFC 5952: lowercase, no leading zeros, the longest run (first on a tie) of
 * two or more zero groups as "::", and a dotted quad for v4-mapped addresses. */
static void sb_ipv6(struct wl_sb *sb, const uint8_t *b)
{
	uint16_t g[8];
	int best = -1, best_len = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	bool mapped = best == 0 && best_len == 5 && g[5] == 0xffff;

	for (int i = 0; i < 8; i++) {
		if (i == best) {
			wl_sb_str(sb, "::");
			i += best_len - 1;
			continue;
		}
		if (mapped && i == 6) {
			wl_sb_char(sb, ':');
			sb_ipv4(sb, b + 12);
			break;
		}
		if (i > 0 && i != best + best_len)
			wl_sb_char(sb, ':');
		wl_sb_hex(sb, g[i], 1);
	}
}

void wl_sb_addr(struct wl_sb *sb, const struct wl_addr *a)
{
	if (a->family == 4)
		sb_ipv4(sb, a->b);
	else if (a->family == 6)
		sb_ipv6(sb, a->b);
}

const char *wl_addr_str(const struct wl_addr *a, char *buf, size_t size)
{
	struct wl_sb sb = wl_sb_make(buf, size);

	wl_sb_addr(&sb, a);
	return buf;
}

/* Names and their lengths: the JSON writer prints one per packet. */
#define NAME(s) { s, sizeof(s) - 1 }
static const struct {
	const char *text;
	uint8_t len;
} proto_names[WL_P__MAX] = {
	[WL_P_UNKNOWN] = NAME("Unknown"),
	[WL_P_ETH] = NAME("Ethernet"),
	[WL_P_SLL] = NAME("SLL"),
	[WL_P_NULL] = NAME("Null"),
	[WL_P_VLAN] = NAME("VLAN"),
	[WL_P_PPPOE] = NAME("PPPoES"),
	[WL_P_PPPOED] = NAME("PPPoED"),
	[WL_P_PPP] = NAME("PPP"),
	[WL_P_MPLS] = NAME("MPLS"),
	[WL_P_ARP] = NAME("ARP"),
	[WL_P_LLC] = NAME("LLC"),
	[WL_P_IPV4] = NAME("IPv4"),
	[WL_P_IPV6] = NAME("IPv6"),
	[WL_P_TCP] = NAME("TCP"),
	[WL_P_UDP] = NAME("UDP"),
	[WL_P_SCTP] = NAME("SCTP"),
	[WL_P_ICMP] = NAME("ICMP"),
	[WL_P_ICMPV6] = NAME("ICMPv6"),
	[WL_P_IGMP] = NAME("IGMP"),
	[WL_P_GRE] = NAME("GRE"),
	[WL_P_ESP] = NAME("ESP"),
	[WL_P_AH] = NAME("AH"),
	[WL_P_VXLAN] = NAME("VXLAN"),
	[WL_P_GENEVE] = NAME("Geneve"),
	[WL_P_DNS] = NAME("DNS"),
	[WL_P_MDNS] = NAME("MDNS"),
	[WL_P_LLMNR] = NAME("LLMNR"),
	[WL_P_TLS] = NAME("TLS"),
	[WL_P_HTTP] = NAME("HTTP"),
	[WL_P_DHCP] = NAME("DHCP"),
	[WL_P_DHCPV6] = NAME("DHCPv6"),
	[WL_P_NTP] = NAME("NTP"),
	[WL_P_QUIC] = NAME("QUIC"),
	[WL_P_SSH] = NAME("SSH"),
	[WL_P_TEREDO] = NAME("Teredo"),
	[WL_P_NBNS] = NAME("NBNS"),
	[WL_P_NBDS] = NAME("NBDS"),
	[WL_P_SNMP] = NAME("SNMP"),
	[WL_P_SSDP] = NAME("SSDP"),
	[WL_P_SYSLOG] = NAME("Syslog"),
	[WL_P_TFTP] = NAME("TFTP"),
	[WL_P_RIP] = NAME("RIP"),
	[WL_P_RADIUS] = NAME("RADIUS"),
	[WL_P_SIP] = NAME("SIP"),
	[WL_P_ISAKMP] = NAME("ISAKMP"),
	[WL_P_SMB] = NAME("SMB"),
	[WL_P_SMTP] = NAME("SMTP"),
	[WL_P_FTP] = NAME("FTP"),
	[WL_P_TELNET] = NAME("TELNET"),
	[WL_P_BGP] = NAME("BGP"),
	[WL_P_FABRICPATH] = NAME("FabricPath"),
	[WL_P_ETAG] = NAME("ETAG"),
	[WL_P_TRILL] = NAME("TRILL"),
	[WL_P_NSH] = NAME("NSH"),
	[WL_P_VXLAN_GPE] = NAME("VXLAN-GPE"),
	[WL_P_CHDLC] = NAME("CHDLC"),
	[WL_P_SLARP] = NAME("SLARP"),
	[WL_P_RADIOTAP] = NAME("Radiotap"),
	[WL_P_WLAN] = NAME("802.11"),
	[WL_P_GTP] = NAME("GTP"),
	[WL_P_GTPV2] = NAME("GTPv2"),
	[WL_P_L2TP] = NAME("L2TP"),
	[WL_P_L2TPV3] = NAME("L2TPv3"),
	[WL_P_LISP] = NAME("LISP"),
	[WL_P_CAPWAP_DATA] = NAME("CAPWAP-Data"),
	[WL_P_CAPWAP_CONTROL] = NAME("CAPWAP-Control"),
	[WL_P_UDPENCAP] = NAME("UDPENCAP"),
	[WL_P_NETLINK] = NAME("Netlink"),
	[WL_P_LWAPP] = NAME("LWAPP"),
};
#undef NAME

const char *wl_proto_name(enum wl_proto p)
{
	if ((unsigned)p >= WL_P__MAX || !proto_names[p].text)
		return "Unknown";
	return proto_names[p].text;
}

size_t wl_proto_name_len(enum wl_proto p)
{
	if ((unsigned)p >= WL_P__MAX || !proto_names[p].text)
		return 7; /* "Unknown" */
	return proto_names[p].len;
}

struct wl_flow *wl_begin_ip(struct wl_dctx *d)
{
	struct wl_packet *pkt = d->pkt;
	struct wl_flow *flow = NULL;

	if (d->in_icmp) {
		flow = NULL; /* a quoted header describes another packet */
	} else if (d->n_ip == 0) {
		flow = &pkt->outer;
	} else if (!(pkt->has & WL_PKT_INNER)) {
		flow = &pkt->inner;
		memset(flow, 0, sizeof(*flow));
		pkt->has |= WL_PKT_INNER;
	}
	if (!d->in_icmp)
		d->n_ip++;
	d->flow = flow;
	return flow;
}

