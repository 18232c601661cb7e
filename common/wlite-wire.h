/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The wlite IPC wire format, version 1: what wlite-capd publishes on its
 * nanomsg NN_PUB socket and every subscriber (webd, wlite-tap, your tool)
 * reads. This header is the public interface; README.md "Wire format"
 * describes the same thing in prose.
 *
 * Every message starts with a topic: a short ASCII name and a NUL. A
 * subscriber picks topics with NN_SUB_SUBSCRIBE on the topic bytes,
 * NUL included, so that "stats" does not also match "status".
 *
 *   "pkt\0"    a batch of packet records (binary, below)
 *   "flow\0"   a batch of flow records (binary, "Flow records" below)
 *   "stats\0"  JSON, once a second: counters
 *   "status\0" JSON, on change and once a second: interface, filter, paused
 *
 * All integers are big-endian (network byte order), unaligned.
 *
 * A packet batch, after its topic:
 *
 *   offset size  field
 *   0      2     magic 0x574c ("WL")
 *   2      1     version (WL_WIRE_VERSION)
 *   3      1     flags (0; reserved)
 *   4      2     header length H (16 in version 1; skip to H for the records)
 *   6      2     record count N
 *   8      8     sent: capd's wall clock when it sent the batch, microseconds
 *                since the epoch (lets a subscriber measure its own latency)
 *   H      ...   N records
 *
 * A record:
 *
 *   0      4     record length L, this field included
 *   4      8     seq: capd's sequence number, +1 per packet published or lost
 *   12     8     ts_sec (signed, Unix epoch)
 *   20     4     ts_usec
 *   24     4     len: length on the wire
 *   28     4     caplen C: captured bytes
 *   32     2     link type (LINKTYPE_*)
 *   34     1     proto (enum wl_proto: the highest protocol decoded)
 *   35     1     malformed (0 ok, 1 truncated, 2 invalid)
 *   36     C     the captured bytes, as libpcap delivered them
 *   36+C   ...   sections up to L: type (1), reserved (1), length (2), value
 *
 * Sections carry the decoded summary. A reader skips section types it does
 * not know; a section that is absent means "does not apply" (no DNS, ...).
 *
 * Compatibility promise: within version 1, new section types and new
 * trailing fields at the end of a section may be added, and readers must
 * ignore what they do not know. Anything else (a field moved or resized, a
 * meaning changed) bumps WL_WIRE_VERSION, and a reader must drop batches of
 * a version it does not speak.
 */
#ifndef WLITE_WIRE_H
#define WLITE_WIRE_H

#include "wlite-proto.h"

#include <stddef.h>
#include <stdint.h>

#define WL_WIRE_VERSION 1
#define WL_WIRE_MAGIC 0x574c
#define WL_WIRE_BATCH_HEADER 16
#define WL_WIRE_RECORD_FIXED 36

#define WL_TOPIC_PKT "pkt"
#define WL_TOPIC_FLOW "flow"
#define WL_TOPIC_STATS "stats"
#define WL_TOPIC_STATUS "status"

/* Section types. Values are part of the format: never reuse one. */
enum wl_wire_section {
	WL_SEC_ETH = 1,    /* src[6] dst[6] */
	WL_SEC_VLAN = 2,   /* n x u16 VLAN ids, outer first */
	WL_SEC_OUTER = 3,  /* a flow (below) */
	WL_SEC_INNER = 4,  /* a flow: the first tunnelled IP header */
	WL_SEC_INFO = 5,   /* text */
	WL_SEC_SNI = 6,    /* text */
	WL_SEC_HTTP = 7,   /* u8 response, u16 status, then method, host, path as NUL-ended text */
	WL_SEC_DHCP = 8,   /* u8 op, u8 msg_type, u32 xid, hostname text */
	WL_SEC_DNS = 9,    /* DNS header and question (below) */
	WL_SEC_DNS_RR = 10, /* one resource record (below); repeated, in order */
	WL_SEC_LAYERS = 11, /* n x (u8 proto, u16 offset, u16 length) */
	WL_SEC_FLOW = 12,  /* u64: the id of the flow record (below) the packet is counted in */
	WL_SEC_ALPN = 13,  /* u16 names listed, then the names kept, each NUL-ended text */
	WL_SEC_JA3 = 14,   /* text: 32 lowercase hex digits */
	WL_SEC_JA3S = 15,  /* text: 32 lowercase hex digits */
	WL_SEC_JA4 = 16,   /* text: t13d1516h2_8daaf6152771_e5627efa2ab1 */
	WL_SEC_QUIC = 17,  /* the datagram's first QUIC packet (below) */
};

/*
 * A flow: u8 l3, u8 has (WL_HAS_*), u8 ipproto, u8 address family (0, 4
 * or 6), u16 ethertype, u16 sport, u16 dport, u16 tcp_flags, then the
 * source and destination addresses, 4 or 16 bytes each (none for family 0).
 *
 * DNS: u16 id, u16 flags, u8 rcode, u8 opcode, u8 has_question, u16 qtype,
 * u16 qdcount, ancount, nscount, arcount, u16 answers_total, qname text.
 *
 * DNS_RR: u8 section, u16 type, u16 class, u32 ttl, name text NUL, data text.
 *
 * QUIC: u32 version, u8 packet type (enum wl_quic_type), u8 flags
 * (WL_QUIC_HAS_*: which of version, DCID and SCID are known), u8 packets
 * in the datagram, u8 DCID length, the DCID, u8 SCID length, the SCID
 * (lengths at most 20; 0 for an unknown one).
 *
 * Text is UTF-8 without a terminating NUL unless said; its length is the
 * section's (or what is left of it).
 */

/* Room one record can need: raw bytes plus a generous summary. */
#define WL_WIRE_SUMMARY_MAX (24 * 1024)
#define WL_WIRE_RECORD_MAX(caplen) ((size_t)(caplen) + WL_WIRE_SUMMARY_MAX)

/*
 * Batching, and the largest message a capd sends. capd closes a batch once
 * it holds WL_WIRE_BATCH_PACKETS records or more than WL_WIRE_BATCH_BYTES of
 * them, so the record that crosses the line can take a batch past
 * WL_WIRE_BATCH_BYTES by one record of the largest snap length (capd's
 * --snaplen and libpcap both stop at WL_WIRE_SNAPLEN_MAX). With the topic in
 * front, no "pkt" message is longer than WL_WIRE_MESSAGE_MAX (about 792 KiB); the
 * "stats" and "status" JSON events are a few KiB. Subscribers give it to
 * NN_RCVMAXSIZE: a peer announcing more is not a capd speaking this version,
 * and nanomsg then drops that connection instead of allocating what the
 * peer announced (with -1 it tries, and a 4 TiB announcement aborts).
 */
#define WL_WIRE_SNAPLEN_MAX 262144
#define WL_WIRE_BATCH_PACKETS 4096
#define WL_WIRE_BATCH_BYTES (512 * 1024)
#define WL_WIRE_TOPIC_MAX 8 /* the longest topic, "status", with its NUL, rounded up */
#define WL_WIRE_MESSAGE_MAX                                                                           \
	(WL_WIRE_TOPIC_MAX + WL_WIRE_BATCH_HEADER + WL_WIRE_BATCH_BYTES + WL_WIRE_RECORD_MAX(WL_WIRE_SNAPLEN_MAX))

/*
 * Appends one record for pkt and its raw bytes to buf[0..size). Returns the
 * record length, or -ENOBUFS if it does not fit (nothing is then promised
 * about buf past the batch written so far).
 */
long wl_wire_put_record(uint8_t *buf, size_t size, const struct wl_packet *pkt, int linktype,
			const uint8_t *raw, size_t raw_len);

/* Writes a batch header for count records at buf (WL_WIRE_BATCH_HEADER bytes). */
void wl_wire_put_batch_header(uint8_t *buf, uint16_t count, uint64_t sent_us);

/* One decoded record: the summary, and where its raw bytes are in the message. */
struct wl_wire_record {
	struct wl_packet pkt;
	int linktype;
	const uint8_t *raw;
	size_t raw_len;
};

/* Iterates over the records of a "pkt" batch (the topic already stripped). */
struct wl_wire_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	uint16_t left; /* records not read yet */
	uint64_t sent_us; /* from the batch header */
};

/*
 * Checks the batch header. Returns 0, -EPROTO for another major version
 * (drop the batch), or -EBADMSG for a malformed one.
 */
int wl_wire_reader_init(struct wl_wire_reader *r, const uint8_t *msg, size_t len);

/*
 * Reads the next record into *ret. Returns 1 when a record was read, 0 at
 * the end of the batch, -EBADMSG for a malformed record (stop reading).
 */
int wl_wire_next(struct wl_wire_reader *r, struct wl_wire_record *ret);

/*
 * ---- Flow records ---------------------------------------------------------
 *
 * capd keeps a table of flows (conversations) and publishes a record when a
 * flow ends and at every active timeout while it goes on. Counters are
 * cumulative since the flow began: a consumer that wants deltas subtracts
 * the previous record with the same id.
 *
 * A "flow" message is the topic, then the same 16-byte batch header as a
 * packet batch (magic, version, flags, header length H, count N, sent), then
 * N records:
 *
 *   0      4     record length L, this field included
 *   4      8     seq: capd numbers every flow report it publishes from 1, so
 *                that a subscriber sees each one it missed (as for packets)
 *   12     8     id: unique per capd run and sensor, the same in every report
 *   20     8     first packet, microseconds since the epoch (signed)
 *   28     8     last packet, the same
 *   36     8     a_packets  (side a sent the flow's first packet)
 *   44     8     a_bytes    (length on the wire)
 *   52     8     b_packets
 *   60     8     b_bytes
 *   68     1     l3 (enum wl_l3: 1 IPv4, 2 IPv6, 3 ARP, 4 another ethertype)
 *   69     1     ipproto (IP only)
 *   70     1     end (enum wl_flow_end)
 *   71     1     app (enum wl_proto: the best-known application seen)
 *   72     2     a_port (with WL_FLOW_PORTS)
 *   74     2     b_port
 *   76     2     ethertype (non-IP flows)
 *   78     1     flags (WL_FLOW_*)
 *   79     1     address family: 4, 6, or 0 for a MAC pair
 *   80     ...   address a, then b: 4 or 16 bytes each, or 6 (MACs)
 *   ...    ...   sections up to L, as in packet records: type (1),
 *                reserved (1), length (2), value
 *
 * Flow sections (their own numbering; never reuse a value):
 *   1 VLAN   n x u16, outer first
 *   2 OUTER  the tunnel's outer endpoints: u8 family, a, b (4 or 16 each)
 *   3 NAME   text: TLS SNI, HTTP Host or DNS query name
 *   4 TCP    u8 state (enum wl_tcp_state), u8 reserved, u16 a_flags,
 *            u16 b_flags (every TCP flag seen per side), u32 rtt_us
 *            (0xffffffff: no handshake RTT), then u32 each: a_retrans,
 *            b_retrans, a_out_of_order, b_out_of_order, a_dup_acks,
 *            b_dup_acks, a_zero_windows, b_zero_windows, resets
 *   5 ICMP   u8 type, u8 code, u16 echo identifier (of the first packet)
 *   6 JA4    text: the JA4 of the flow's first ClientHello (the client's)
 *   7 JA3S   text: the JA3S of the flow's first ServerHello (the server's)
 *
 * The compatibility promise of the packet records holds here too.
 */

enum wl_flow_end {
	WL_FLOW_ACTIVE = 0,  /* still going: an active-timeout report */
	WL_FLOW_IDLE = 1,    /* no packet for the idle timeout */
	WL_FLOW_FIN = 2,     /* TCP: both sides sent FIN */
	WL_FLOW_RST = 3,     /* TCP: a reset */
	WL_FLOW_EOF = 4,     /* the capture ended (a file's end, or capd stopped) */
	WL_FLOW_EVICTED = 5, /* the table was full: the oldest idle flow made room */
	WL_FLOW_END__MAX
};

enum wl_tcp_state {
	WL_TCP_MIDSTREAM = 0,    /* no handshake seen: joined an open connection */
	WL_TCP_SYN_SENT = 1,     /* a SYN, no answer yet */
	WL_TCP_SYN_RECEIVED = 2, /* SYN and SYN/ACK */
	WL_TCP_ESTABLISHED = 3,  /* the handshake completed */
	WL_TCP_CLOSING = 4,      /* one side sent FIN */
	WL_TCP_CLOSED = 5,       /* both sides sent FIN */
	WL_TCP_RESET = 6,        /* a RST was seen */
	WL_TCP_STATE__MAX
};

/* Bits of wl_flow_record.flags. */
enum {
	WL_FLOW_PORTS = 1u << 0,  /* a_port, b_port: TCP, UDP or SCTP */
	WL_FLOW_TCP = 1u << 1,    /* the tcp part is filled */
	WL_FLOW_OUTER = 1u << 2,  /* tunnelled: keyed by the inner headers; outer_* */
	WL_FLOW_ICMP = 1u << 3,   /* icmp_* */
	WL_FLOW_ECHO = 1u << 4,   /* an ICMP echo flow, keyed by its identifier */
};

#define WL_FLOW_VLAN_MAX 2 /* VLAN ids kept per flow, outer first */

struct wl_flow_tcp {
	uint8_t state;            /* enum wl_tcp_state */
	uint16_t flags[2];        /* every flag seen, per side (a, b) */
	uint32_t rtt_us;          /* SYN to the ACK completing the handshake; UINT32_MAX: none */
	uint32_t retransmissions[2], out_of_order[2], dup_acks[2], zero_windows[2];
	uint32_t resets;
};

struct wl_flow_record {
	uint64_t seq; /* set by the publisher; 0 in `--flows` output */
	uint64_t id;
	int64_t first_us, last_us;
	uint64_t packets[2], bytes[2]; /* [0] side a, [1] side b */
	uint8_t l3;                    /* enum wl_l3 */
	uint8_t ipproto;
	uint8_t end;                   /* enum wl_flow_end */
	uint8_t app;                   /* enum wl_proto */
	uint8_t flags;                 /* WL_FLOW_* */
	uint16_t ethertype;
	uint16_t port[2];
	struct wl_addr addr[2];        /* IP flows */
	uint8_t mac[2][6];             /* non-IP flows (addr family 0) */
	uint8_t n_vlan;
	uint16_t vlan[WL_FLOW_VLAN_MAX];
	struct wl_addr outer[2];
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	struct wl_flow_tcp tcp;
	char ja4[WL_JA4_LEN + 1];      /* the client's, "" when none */
	char ja3s[WL_JA3_LEN + 1];     /* the server's, "" when none */
	char name[WL_NAME_MAX];        /* "" when none */
};

const char *wl_flow_end_name(enum wl_flow_end end);
const char *wl_tcp_state_name(enum wl_tcp_state state);

/* Room one flow record can need on the wire. */
#define WL_FLOW_RECORD_MAX 640

/* Appends one flow record to buf[0..size); returns its length or -ENOBUFS. */
long wl_wire_put_flow(uint8_t *buf, size_t size, const struct wl_flow_record *f);

/*
 * Reads the next record of a "flow" batch (reader from wl_wire_reader_init
 * on the message without its topic). Returns 1, 0 at the end, or -EBADMSG.
 */
int wl_wire_next_flow(struct wl_wire_reader *r, struct wl_flow_record *ret);

#endif
