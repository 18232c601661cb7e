/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libwlite-proto: the packet dissectors.
 *
 * A pure library: no I/O, no allocation, no logging. wl_dissect() decodes one
 * captured frame into a fixed-size struct wl_packet summary. All packet bytes
 * are treated as hostile; see cursor.h.
 */
#ifndef WLITE_PROTO_H
#define WLITE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libpcap link-layer types (LINKTYPE_*) that wl_dissect() understands. */
enum {
	WL_LINK_NULL = 0,
	WL_LINK_ETHERNET = 1,
	WL_LINK_PPP = 9,
	WL_LINK_PPP_HDLC = 50, /* PPP in HDLC-like framing, or Cisco HDLC */
	WL_LINK_RAW = 101,
	WL_LINK_C_HDLC = 104,  /* Cisco HDLC */
	WL_LINK_IEEE802_11 = 105,
	WL_LINK_LOOP = 108,
	WL_LINK_SLL = 113,
	WL_LINK_IEEE802_11_RADIOTAP = 127,
	WL_LINK_IPV4 = 228,
	WL_LINK_IPV6 = 229,
	WL_LINK_SLL2 = 276,
};

enum wl_malformed {
	WL_OK = 0,
	WL_TRUNCATED, /* the capture ended inside a header: -EMSGSIZE */
	WL_INVALID,   /* a field contradicts the format: -EBADMSG */
};

enum wl_l3 {
	WL_L3_NONE = 0,
	WL_L3_IPV4,
	WL_L3_IPV6,
	WL_L3_ARP,
	WL_L3_OTHER, /* an ethertype we do not decode; see wl_flow.ethertype */
};

/*
 * The highest protocol decoded, as in Wireshark's Protocol column. Keep in
 * step with wl_proto_name().
 */
enum wl_proto {
	WL_P_UNKNOWN = 0,
	WL_P_ETH,
	WL_P_SLL,
	WL_P_NULL,
	WL_P_VLAN,
	WL_P_PPPOE,
	WL_P_PPPOED,
	WL_P_PPP,
	WL_P_MPLS,
	WL_P_ARP,
	WL_P_LLC,
	WL_P_IPV4,
	WL_P_IPV6,
	WL_P_TCP,
	WL_P_UDP,
	WL_P_SCTP,
	WL_P_ICMP,
	WL_P_ICMPV6,
	WL_P_IGMP,
	WL_P_GRE,
	WL_P_ESP,
	WL_P_AH,
	WL_P_VXLAN,
	WL_P_GENEVE,
	WL_P_DNS,
	WL_P_MDNS,
	WL_P_LLMNR,
	WL_P_TLS,
	WL_P_HTTP,
	WL_P_DHCP,
	WL_P_DHCPV6,
	WL_P_NTP,
	WL_P_QUIC,
	WL_P_SSH,
	WL_P_TEREDO,
	WL_P_NBNS,
	WL_P_NBDS,
	WL_P_SNMP,
	WL_P_SSDP,
	WL_P_SYSLOG,
	WL_P_TFTP,
	WL_P_RIP,
	WL_P_RADIUS,
	WL_P_SIP,
	WL_P_ISAKMP,
	WL_P_SMB,
	WL_P_SMTP,
	WL_P_FTP,
	WL_P_TELNET,
	WL_P_BGP,
	/* Encapsulations (issue 14); appended, as the wire and the history
	 * carry these numbers. */
	WL_P_FABRICPATH,
	WL_P_ETAG,
	WL_P_TRILL,
	WL_P_NSH,
	WL_P_VXLAN_GPE,
	WL_P_CHDLC,
	WL_P_SLARP,
	WL_P_RADIOTAP,
	WL_P_WLAN,
	WL_P_GTP,
	WL_P_GTPV2,
	WL_P_L2TP,
	WL_P_L2TPV3,
	WL_P_LISP,
	WL_P_CAPWAP_DATA,
	WL_P_CAPWAP_CONTROL,
	WL_P_UDPENCAP,
	WL_P_NETLINK,
	WL_P_LWAPP,
	WL_P__MAX
};

const char *wl_proto_name(enum wl_proto p);
size_t wl_proto_name_len(enum wl_proto p); /* strlen(wl_proto_name(p)) */

/* An IPv4 or IPv6 address; family is 4 or 6, 0 when absent. */
struct wl_addr {
	uint8_t family;
	uint8_t b[16];
};

/* Bits of wl_flow.has. */
enum {
	WL_HAS_SRC = 1u << 0,
	WL_HAS_DST = 1u << 1,
	WL_HAS_IPPROTO = 1u << 2,
	WL_HAS_SPORT = 1u << 3, /* TCP or UDP */
	WL_HAS_DPORT = 1u << 4,
	WL_HAS_TCP_FLAGS = 1u << 5,
	WL_HAS_SCTP_PORTS = 1u << 6, /* sport and dport came from SCTP */
};

/* Bits of wl_flow.l4: what the flow engine reads of the transport header. */
enum {
	WL_L4_TCP = 1u << 0,  /* tcp_seq, tcp_ack, tcp_win, tcp_wscale, l4_payload */
	WL_L4_ICMP = 1u << 1, /* icmp_type, icmp_code; icmp_id for echo */
	WL_L4_ECHO = 1u << 2, /* an ICMP or ICMPv6 echo request or reply */
	WL_L4_FRAGMENT = 1u << 3, /* this IP header belongs to a fragmented datagram */
};

/* One IP layer and the transport header right after it. */
struct wl_flow {
	uint8_t l3;      /* enum wl_l3 */
	uint8_t has;     /* WL_HAS_* */
	uint8_t ipproto; /* IPv4 protocol, or IPv6's final next header */
	uint16_t ethertype;
	uint16_t sport, dport;
	uint16_t tcp_flags; /* 12 bits */
	struct wl_addr src, dst;
	/*
	 * For flow analysis (capd's flow table), not carried on the wire: the
	 * transport header's sequence space and ICMP's identity.
	 */
	uint8_t l4;          /* WL_L4_* */
	int8_t tcp_wscale;   /* a SYN's window scale option, -1 without one */
	uint16_t tcp_win;    /* as sent, unscaled */
	uint32_t tcp_seq, tcp_ack;
	uint32_t l4_payload; /* TCP payload bytes as the IP header declares them */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	uint32_t tcp_payload_off; /* with WL_L4_TCP: where the payload starts in the frame */
};

#define WL_NAME_MAX 256 /* presentation form of a DNS name, NUL included */
#define WL_DNS_MAX_ANSWERS 32
#define WL_DNS_DATA_MAX 256
#define WL_VLAN_MAX 8
#define WL_INFO_MAX 160

enum wl_dns_section {
	WL_DNS_AN = 0,
	WL_DNS_NS,
	WL_DNS_AR,
};

struct wl_dns_rr {
	uint8_t section; /* enum wl_dns_section */
	uint16_t type;
	uint16_t class;
	uint32_t ttl;
	char name[WL_NAME_MAX];
	char data[WL_DNS_DATA_MAX]; /* presentation form; empty if not decoded */
};

struct wl_dns {
	uint16_t id;
	uint16_t flags;
	bool response;
	uint8_t rcode;
	uint8_t opcode;
	bool has_question;
	uint16_t qtype;
	uint16_t qdcount, ancount, nscount, arcount;
	char qname[WL_NAME_MAX];
	uint8_t n_answers;      /* entries filled in answers[] */
	uint16_t answers_total; /* records decoded, including those not kept */
	struct wl_dns_rr answers[WL_DNS_MAX_ANSWERS];
};

struct wl_http {
	char method[16];
	char host[WL_NAME_MAX];
	char path[WL_NAME_MAX];
	bool response;
	uint16_t status;
};

struct wl_dhcp {
	uint8_t op;
	uint8_t msg_type; /* option 53, 0 if absent */
	uint32_t xid;
	char hostname[WL_NAME_MAX];
};

/* Bits of wl_packet.has. */
enum {
	WL_PKT_ETH = 1u << 0,
	WL_PKT_INNER = 1u << 1,
	WL_PKT_DNS = 1u << 2,
	WL_PKT_SNI = 1u << 3,
	WL_PKT_HTTP = 1u << 4,
	WL_PKT_DHCP = 1u << 5,
	WL_PKT_ALPN = 1u << 6,      /* tls.alpn: a ClientHello's ALPN extension */
	WL_PKT_JA3 = 1u << 7,       /* tls.ja3: set by the caller, from tls.ja3_text */
	WL_PKT_JA3S = 1u << 8,      /* tls.ja3s, from tls.ja3s_text */
	WL_PKT_JA4 = 1u << 9,       /* tls.ja4, from tls.ja4_a, ja4_b_text, ja4_c_text */
	WL_PKT_JA3_TEXT = 1u << 10, /* proto/ built the texts of a whole ClientHello ... */
	WL_PKT_JA3S_TEXT = 1u << 11, /* ... of a whole ServerHello */
	WL_PKT_JA4_TEXT = 1u << 12,
	WL_PKT_TLS_SEGMENT = 1u << 13, /* tls.rec_off, rec_len: a hello's record goes on in later segments */
	WL_PKT_QUIC = 1u << 14,     /* quic: the datagram's first QUIC packet */
};

/*
 * A QUIC datagram (proto/quic.h): the header of its first packet. The
 * packet types are tshark's (enum values are ours: v1 and v2 encode them
 * differently). A long header's CIDs are always known (possibly empty); a
 * short header's DCID only when capd knows the connection's CID length or
 * the packet followed a long header in the same datagram.
 */
#define WL_QUIC_CID_MAX 20

enum wl_quic_type {
	WL_QUIC_INITIAL = 1,
	WL_QUIC_0RTT,
	WL_QUIC_HANDSHAKE,
	WL_QUIC_RETRY,
	WL_QUIC_VERSION_NEGOTIATION,
	WL_QUIC_1RTT, /* a short header: "Protected Payload" */
};

/* Bits of wl_quic.flags. */
enum {
	WL_QUIC_HAS_VERSION = 1u << 0, /* long headers, Version Negotiation's 0 included */
	WL_QUIC_HAS_DCID = 1u << 1,
	WL_QUIC_HAS_SCID = 1u << 2,
};

struct wl_quic {
	uint32_t version;
	uint8_t type;    /* enum wl_quic_type */
	uint8_t flags;   /* WL_QUIC_HAS_* */
	uint8_t packets; /* QUIC packets in the datagram (coalesced), at most 255 counted */
	uint8_t dcid_len, scid_len;
	uint8_t dcid[WL_QUIC_CID_MAX], scid[WL_QUIC_CID_MAX];
};

/*
 * What a TLS ClientHello or ServerHello gives: the client's ALPN list, and
 * the canonical texts of the JA3 and JA3S fingerprints (exactly as tshark
 * 4.0 builds tls.handshake.ja3_full and ja3s_full) and of JA4 (FoxIO's
 * definition: the readable part a, and the lists behind the hashes b and c).
 * proto/ builds the texts, bounded; hashing them (MD5 for JA3 and JA3S,
 * SHA-256 cut to 12 hex digits for JA4) is the caller's job (capd's
 * fingerprint.c), since proto/ stays free of libraries and allocation.
 */
#define WL_ALPN_MAX 8       /* protocol names kept of a ClientHello */
#define WL_ALPN_LEN 32      /* characters kept of one name (escaped as the SNI) */
#define WL_JA3_TEXT_MAX 2048
#define WL_JA3S_TEXT_MAX 1024
#define WL_JA4_TEXT_MAX 1024
#define WL_JA3_LEN 32       /* hex digits of an MD5 */
#define WL_JA4_LEN 36       /* t13d1516h2_8daaf6152771_e5627efa2ab1 */

/* Bits of wl_packet.tls_cut: what did not fit its bound. */
enum {
	WL_TLS_CUT_ALPN = 1u << 0, /* a name not kept (more than WL_ALPN_MAX) or shortened */
	WL_TLS_CUT_JA3 = 1u << 1,  /* a text outgrew its buffer: that fingerprint is left out */
	WL_TLS_CUT_JA3S = 1u << 2,
	WL_TLS_CUT_JA4 = 1u << 3,
};

struct wl_tls {
	uint8_t n_alpn;      /* names in alpn[] */
	uint16_t alpn_total; /* names the extension listed */
	char alpn[WL_ALPN_MAX][WL_ALPN_LEN + 1];
	/* The fingerprints, lowercase hex, filled by the caller from the texts. */
	char ja3[WL_JA3_LEN + 1];
	char ja3s[WL_JA3_LEN + 1];
	char ja4[WL_JA4_LEN + 1];
	/*
	 * With WL_PKT_TLS_SEGMENT: the record holding the frame's first hello
	 * starts rec_off bytes into the TCP payload and takes rec_len bytes
	 * (header included), more than the segment holds. Handshake
	 * reassembly (capd) starts there.
	 */
	uint32_t rec_off, rec_len;
	char ja4_a[11];
	char ja3_text[WL_JA3_TEXT_MAX];
	char ja3s_text[WL_JA3S_TEXT_MAX];
	char ja4_b_text[WL_JA4_TEXT_MAX]; /* sorted ciphers, "" for none */
	char ja4_c_text[WL_JA4_TEXT_MAX]; /* sorted extensions [_ signature algorithms], "" for none */
};

/* Where a layer sits in the frame, for hex views and detail trees. */
struct wl_layer {
	uint8_t proto; /* enum wl_proto */
	uint16_t off;
	uint16_t len;
};

#define WL_LAYERS_MAX 16

/*
 * The summary of one frame. wl_dissect() clears only the fixed part before
 * info[]; the larger members after it are valid only when their WL_PKT_* bit
 * is set in has (info[] is always a valid string). That keeps the per-packet
 * cost of a frame without DNS or TLS small.
 */
struct wl_packet {
	/* Filled by the caller, not by wl_dissect(). */
	uint64_t seq;
	int64_t ts_sec;
	uint32_t ts_usec;
	uint32_t len;    /* length on the wire */
	uint32_t caplen; /* bytes captured */
	uint64_t flow_id; /* the flow capd's table put it in (wlite-wire.h); 0: none */

	/* Cleared by wl_dissect(). */
	uint32_t has;      /* WL_PKT_* */
	uint8_t malformed; /* enum wl_malformed */
	uint8_t proto;     /* enum wl_proto, the highest decoded */
	uint8_t tls_cut;   /* WL_TLS_CUT_*: TLS data left out for want of room */
	uint8_t eth_src[6], eth_dst[6];
	uint8_t n_vlan;
	uint16_t vlan[WL_VLAN_MAX]; /* outer first */
	struct wl_flow outer; /* outermost IP header (or ARP/other ethertype) */
	struct wl_flow inner; /* the first tunnelled IP header (WL_PKT_INNER) */
	uint8_t n_layers;
	struct wl_layer layers[WL_LAYERS_MAX];

	/* Always a string; set by the highest layer that has something to say. */
	char info[WL_INFO_MAX];

	/* Valid only with their WL_PKT_* bit. */
	char sni[WL_NAME_MAX];
	struct wl_tls tls; /* each part with its bit: WL_PKT_ALPN, _JA3, ... */
	struct wl_quic quic;
	struct wl_http http;
	struct wl_dhcp dhcp;
	struct wl_dns dns;
};

/*
 * Decodes one frame of link type linktype. The caller fills seq, ts_*, len and
 * caplen first; wl_dissect() clears and fills the rest. Returns 0, or the
 * first error met: -EMSGSIZE truncated, -EBADMSG invalid, -ELOOP when layers
 * nest deeper than any real frame (counted as invalid), -EPROTONOSUPPORT for
 * an unknown link type. The fields decoded before the error stay filled and
 * pkt->malformed says which kind it was.
 */
int wl_dissect(struct wl_packet *pkt, int linktype, const uint8_t *data, size_t caplen);

/*
 * A detail tree: the decoded layers of one frame as a flat list of lines in
 * display order. depth 0 is a layer's header line, 1 one of its fields, 2 a
 * part of a field (a flag bit, a part of a DNS record). Each line names the
 * frame bytes it covers, so a UI can highlight them. Values are printable
 * ASCII plus UTF-8 that the decoders write themselves (an arrow): network text
 * is escaped as \xHH or DNS's \DDD.
 */
#define WL_FIELD_NAME_MAX 32
#define WL_FIELD_VALUE_MAX 160

struct wl_field {
	uint8_t depth;
	uint8_t proto;    /* enum wl_proto of the layer the line belongs to */
	uint16_t off, len; /* frame bytes covered: off + len <= caplen */
	char name[WL_FIELD_NAME_MAX];
	char value[WL_FIELD_VALUE_MAX];
};

/* The caller provides fields[max]; wl_dissect_tree() sets n and truncated. */
struct wl_tree {
	struct wl_field *fields;
	unsigned max;
	unsigned n;
	bool truncated; /* more lines than max (or past 64 KiB into the frame) */
};

/*
 * wl_dissect() that also fills tree, for one packet's detail pane. The
 * summary in pkt comes out exactly as wl_dissect() would leave it. Lines that
 * do not fit in tree->max are dropped and tree->truncated is set. Not for the
 * per-packet path: formatting every field costs.
 */
int wl_dissect_tree(struct wl_packet *pkt, int linktype, const uint8_t *data, size_t caplen,
		    struct wl_tree *tree);

/*
 * Decodes TLS records that capd reassembled from one direction of a TCP
 * connection (data starts at a record header: the hello's record, from
 * wl_tls.rec_off of the frame that began it) into pkt, the frame that
 * completed them: proto becomes TLS, info the records' summary, and the
 * SNI, ALPN and fingerprint texts come from the whole hello. Addresses,
 * layers and malformed stay as wl_dissect() left them for the frame itself.
 * Returns 0, or -EMSGSIZE / -EBADMSG for records cut short or invalid.
 */
int wl_dissect_tls_stream(struct wl_packet *pkt, const uint8_t *data, size_t len);

/* Formats an address as text (IPv6 in RFC 5952 form). buf must hold 46 bytes. */
const char *wl_addr_str(const struct wl_addr *a, char *buf, size_t size);

#endif
