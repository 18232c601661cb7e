/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal interface shared by the decoders in proto/. Not installed.
 *
 * Every decoder has the same shape:
 *
 *     int wl_decode_<proto>(struct wl_dctx *d, struct cursor *c);
 *
 * c covers exactly the bytes of this layer and what it carries, starting at
 * offset 0. A decoder reads its header through the cursor, records what it
 * found in d->pkt, then hands the payload to the next decoder through one of
 * the dispatch tables in dissect.c. It returns 0 or a negative errno:
 * -EMSGSIZE when the capture ends inside its header (truncated), -EBADMSG
 * when a field contradicts the format (invalid). Use wl_fail() for both, so
 * that the first error is the one reported.
 */
#ifndef WL_DISSECT_H
#define WL_DISSECT_H

#include "cursor.h"
#include "fmt.h"
#include "wlite-proto.h"

#include <string.h>

/* Bounds recursion through tunnels, VLAN stacks and MPLS label stacks. */
#define WL_MAX_DEPTH 24

struct wl_dctx {
	struct wl_packet *pkt;
	const uint8_t *frame; /* first byte of the frame, for layer offsets */
	struct wl_flow *flow; /* where the next transport header goes, or NULL */
	uint8_t depth;        /* layers entered so far */
	uint8_t n_ip;         /* IP headers seen so far */
	bool in_icmp;         /* inside an ICMP error's quoted packet */
	/*
	 * Bytes of the transport layer (header and payload) as the last IP
	 * header declares them: the capture may hold fewer (snap length).
	 */
	size_t l4_declared;
	int first_err;        /* what wl_dissect() returns: the first wl_fail() */
	/* The detail tree (wl_dissect_tree()), or NULL: see "Detail tree" below. */
	struct wl_tree *tree;
	uint8_t tree_depth;   /* depth of the next field line: 1, or 2 after wl_tree_push() */
	uint8_t tree_proto;   /* proto of the current layer line */
	unsigned tree_layer;  /* index of the current layer line */
	/* Bytes of DNS names walked in this frame, compression pointers included:
	 * bounded per name and per message (below, and dns.c); tests read it. */
	size_t dns_walked;
	/* The destination port of the last UDP header, for the few protocols
	 * whose format depends on the direction (LWAPP). */
	uint16_t udp_dport;
};

/* DNS work bounds (dns.c says why): pointers one name may follow, and bytes
 * of names a message may walk per byte it holds, plus one longest name. */
#define WL_DNS_NAME_MAX_HOPS 127
#define WL_DNS_WALK_PER_BYTE 8

typedef int (*wl_decoder)(struct wl_dctx *d, struct cursor *c);

/*
 * Bytes on the wire from c's byte at off to the end of its layer: what the
 * lower layer declared (c ends there) unless the capture cut the frame, and
 * then what the frame had on the wire. An IP header may claim more than
 * this; tshark then goes by this, and so does the flow engine.
 */
static inline size_t wl_wire_left(const struct wl_dctx *d, const struct cursor *c, size_t off)
{
	size_t at = (size_t)(c->p - d->frame) + off;

	if (!c->cut)
		return c->len > off ? c->len - off : 0;
	return d->pkt->len > at ? d->pkt->len - at : 0;
}

/*
 * ICMP and ICMPv6 note their type, code and (for an echo) identifier in the
 * flow of the IP header that carries them; c is past the checksum.
 */
static inline void wl_note_icmp(struct wl_flow *flow, const struct cursor *c, uint8_t type, uint8_t code,
				bool echo)
{
	struct cursor id = *c;

	if (!flow)
		return;
	flow->l4 |= WL_L4_ICMP;
	flow->icmp_type = type;
	flow->icmp_code = code;
	if (echo && cur_be16(&id, &flow->icmp_id) == 0)
		flow->l4 |= WL_L4_ECHO;
}

/*
 * Starts a new IP layer: returns the flow it describes (the packet's outer
 * flow, then the first tunnelled one, then NULL) and points d->flow at it,
 * so that the transport header right after it lands in the same place.
 */
struct wl_flow *wl_begin_ip(struct wl_dctx *d);

/*
 * Reads an address of ret->family into *ret and, when flow is not NULL, into
 * flow's source or destination (which: WL_HAS_SRC or WL_HAS_DST). Each
 * address is reported as soon as it was captured, as Wireshark does.
 */
/* Inline: twice per IP header, on every packet. */
static inline int wl_read_addr(struct wl_flow *flow, struct cursor *c, uint8_t which, struct wl_addr *ret)
{
	size_t len = ret->family == 6 ? 16 : 4;
	const uint8_t *b;
	int r;

	if ((r = cur_bytes(c, len, &b)) < 0)
		return r;
	memcpy(ret->b, b, len);
	if (flow) {
		if (which == WL_HAS_SRC)
			flow->src = *ret;
		else
			flow->dst = *ret;
		flow->has |= which;
	}
	return 0;
}

/* Records the first error of the frame and returns err, for "return wl_fail()". */
int wl_fail(struct wl_dctx *d, int err);

/*
 * A read from c ran off its end: truncated when the bytes past it were cut
 * from the capture, invalid when the layer's declared end is really there.
 */
static inline int wl_fail_short(struct wl_dctx *d, const struct cursor *c)
{
	return wl_fail(d, cur_end_error(c));
}

/* Marks proto as the highest layer so far and records where it starts in the frame. */
/* Inline: once per layer, on every packet. */
static inline void wl_enter(struct wl_dctx *d, enum wl_proto proto, const struct cursor *c)
{
	struct wl_packet *pkt = d->pkt;

	pkt->proto = (uint8_t)proto;
	if (pkt->n_layers < WL_LAYERS_MAX) {
		size_t off = (size_t)(c->p + c->off - d->frame);
		size_t len = cur_left(c);

		pkt->layers[pkt->n_layers++] = (struct wl_layer){
			.proto = (uint8_t)proto,
			.off = (uint16_t)(off > UINT16_MAX ? UINT16_MAX : off),
			.len = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len),
		};
	}
}

/* Dispatch by ethertype, IP protocol number, or well-known port. Unknown
 * values return 0 and leave the packet as it is. */
int wl_dispatch_ethertype(struct wl_dctx *d, uint16_t type, struct cursor *c);
int wl_dispatch_ipproto(struct wl_dctx *d, uint8_t ipproto, struct cursor *c);
int wl_dispatch_udp(struct wl_dctx *d, uint16_t sport, uint16_t dport, struct cursor *c);
int wl_dispatch_tcp(struct wl_dctx *d, uint16_t sport, uint16_t dport, struct cursor *c);

/* Whether the ethertype table has a decoder for type (802.11's EPD guess). */
bool wl_ethertype_known(uint16_t type);

/* Calls decode one layer down, within the depth bound, for decoders that
 * call another directly and could otherwise recurse without one. */
int wl_descend(struct wl_dctx *d, wl_decoder decode, struct cursor *c);

/*
 * A tiny allocation-free string builder for info[] and names: appends are
 * cut at the buffer's end and the result is always NUL-terminated.
 */
struct wl_sb {
	char *buf;
	size_t size;
	size_t len;
};

/* size must be at least 1. */
static inline struct wl_sb wl_sb_make(char *buf, size_t size)
{
	buf[0] = '\0';
	return (struct wl_sb){ .buf = buf, .size = size, .len = 0 };
}


/*
 * The appends are inline: info[] is built for every packet, and most pieces
 * are literals whose length the compiler knows.
 */
static inline void wl_sb_mem(struct wl_sb *sb, const char *s, size_t n)
{
	size_t room = sb->size - 1 - sb->len;

	if (n > room)
		n = room;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

static inline void wl_sb_str(struct wl_sb *sb, const char *s)
{
	wl_sb_mem(sb, s, strlen(s));
}

static inline void wl_sb_char(struct wl_sb *sb, char ch)
{
	if (sb->len + 1 < sb->size) {
		sb->buf[sb->len++] = ch;
		sb->buf[sb->len] = '\0';
	}
}

static inline void wl_sb_u64(struct wl_sb *sb, uint64_t v)
{
	char tmp[20];

	if (sb->size - 1 - sb->len >= sizeof(tmp)) {
		sb->len += wl_fmt_u64(sb->buf + sb->len, v);
		sb->buf[sb->len] = '\0';
	} else {
		wl_sb_mem(sb, tmp, wl_fmt_u64(tmp, v));
	}
}

void wl_sb_hex(struct wl_sb *sb, uint64_t v, unsigned min_digits);
void wl_sb_addr(struct wl_sb *sb, const struct wl_addr *a);

/*
 * Appends network bytes as text: printable ASCII as is, anything else (and
 * the backslash itself, so the text stays unambiguous) as \xHH.
 */
void wl_sb_printable(struct wl_sb *sb, struct cursor c);

/* Starts info[] afresh: the highest layer's summary replaces the lower one's. */
static inline struct wl_sb wl_info(struct wl_dctx *d)
{
	return wl_sb_make(d->pkt->info, sizeof(d->pkt->info));
}

/*
 * ---- Detail tree ----------------------------------------------------------
 *
 * Only wl_dissect_tree() sets d->tree; on the per-packet path it is NULL and
 * a decoder pays one predictable branch per layer: it gathers its lines in a
 * static tree_<proto>() function called as "if (d->tree) tree_<proto>(...)"
 * once the header is read. The wl_tree_*() functions may only be called with
 * d->tree set (they check again, and do nothing otherwise).
 *
 * Offsets are relative to a cursor's first byte (c->p), as decoders count
 * them; the helpers turn them into frame offsets. Field values are formatted
 * with the wl_sb appends; network text goes through wl_tree_printable() or
 * an escaping of its own (DNS names), never raw.
 */

/*
 * Cold: the compiler then takes every "if (d->tree)" as unlikely and moves
 * the tree code out of the per-packet instruction stream.
 */
#define WL_TREE_FN __attribute__((cold))

/* The frame offset of offset at of cursor c. */
static inline size_t wl_frame_off(const struct wl_dctx *d, const struct cursor *c, size_t at)
{
	return (size_t)(c->p - d->frame) + at;
}

/* A layer line covering c from its position to its end; later fields belong to it. */
WL_TREE_FN void wl_tree_layer(struct wl_dctx *d, enum wl_proto proto, const char *name, const struct cursor *c);

/* The value of the current layer line, to append a summary to. */
WL_TREE_FN bool wl_tree_layer_value(struct wl_dctx *d, struct wl_sb *ret);

/*
 * Adds a field line over bytes [at, at + len) of c and points *ret at its
 * value. False (nothing added) when the tree is full.
 */
WL_TREE_FN bool wl_tree_field(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		   const char *name, struct wl_sb *ret);

/* Field lines with a value of one kind. */
WL_TREE_FN void wl_tree_uint(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		  const char *name, uint64_t v);
WL_TREE_FN void wl_tree_hex(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		 const char *name, uint64_t v); /* 0x and 2 * len digits */
WL_TREE_FN void wl_tree_text(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		  const char *name, const char *text); /* our own text, not the network's */
WL_TREE_FN void wl_tree_printable(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		       const char *name); /* the bytes themselves, escaped */
WL_TREE_FN void wl_tree_bytes(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		   const char *name); /* in hex, cut with "..." when long */
WL_TREE_FN void wl_tree_addr(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name,
		  const struct wl_addr *a);
WL_TREE_FN void wl_tree_mac(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name);
/* A uint whose name comes from a table, as "6 (TCP)"; known may be NULL. */
WL_TREE_FN void wl_tree_named(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		   const char *name, uint64_t v, const char *known);

/* A flag bit (mask) of the len-byte field at: a sub-field "Set" or "Not set". */
WL_TREE_FN void wl_tree_flag(struct wl_dctx *d, const struct cursor *c, size_t at, size_t len,
		  const char *name, uint64_t v, uint64_t mask);

/* An ethertype field, named when known (link.c). */
WL_TREE_FN void wl_tree_ethertype(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name,
		       uint16_t type);

/* An IP protocol / next header field, named when known (ipv4.c). */
WL_TREE_FN void wl_tree_ipproto(struct wl_dctx *d, const struct cursor *c, size_t at, const char *name,
		     uint8_t proto);

/* Called by wl_fail() and wl_dissect_tree(). */
WL_TREE_FN void wl_tree_error(struct wl_dctx *d, int err);
WL_TREE_FN void wl_tree_finish(struct wl_tree *tree);

/* Fields added between push and pop are sub-fields (depth 2) of the last field. */
static inline void wl_tree_push(struct wl_dctx *d)
{
	d->tree_depth = 2;
}

static inline void wl_tree_pop(struct wl_dctx *d)
{
	d->tree_depth = 1;
}

/* Link layers */
int wl_decode_ethernet(struct wl_dctx *d, struct cursor *c);
int wl_decode_sll(struct wl_dctx *d, struct cursor *c);
int wl_decode_sll2(struct wl_dctx *d, struct cursor *c);
int wl_decode_null(struct wl_dctx *d, struct cursor *c);
int wl_decode_loop(struct wl_dctx *d, struct cursor *c);
int wl_decode_raw(struct wl_dctx *d, struct cursor *c);
int wl_decode_vlan(struct wl_dctx *d, struct cursor *c);
int wl_decode_pppoe(struct wl_dctx *d, struct cursor *c);
int wl_decode_pppoed(struct wl_dctx *d, struct cursor *c);
int wl_decode_mpls(struct wl_dctx *d, struct cursor *c);
int wl_decode_ppp(struct wl_dctx *d, struct cursor *c);
int wl_decode_arp(struct wl_dctx *d, struct cursor *c);
int wl_decode_vntag(struct wl_dctx *d, struct cursor *c);
int wl_decode_arista(struct wl_dctx *d, struct cursor *c);
int wl_decode_pbb(struct wl_dctx *d, struct cursor *c);
int wl_decode_macsec(struct wl_dctx *d, struct cursor *c);
int wl_decode_llc(struct wl_dctx *d, struct cursor *c);   /* 802.2 LLC/SNAP */

/* Encapsulations (issue 14) */
bool wl_looks_like_fabricpath(const struct cursor *c);    /* at an Ethernet frame's start */
int wl_decode_fabricpath(struct wl_dctx *d, struct cursor *c);
int wl_decode_etag(struct wl_dctx *d, struct cursor *c);
int wl_decode_trill(struct wl_dctx *d, struct cursor *c);
int wl_decode_nsh(struct wl_dctx *d, struct cursor *c);
int wl_decode_vxlan_gpe(struct wl_dctx *d, struct cursor *c);
int wl_decode_chdlc(struct wl_dctx *d, struct cursor *c);
int wl_decode_ppp_hdlc(struct wl_dctx *d, struct cursor *c); /* PPP, or Cisco HDLC */
int wl_decode_radiotap(struct wl_dctx *d, struct cursor *c);
int wl_decode_wlan(struct wl_dctx *d, struct cursor *c);
int wl_decode_wlan_bsfc(struct wl_dctx *d, struct cursor *c); /* frame control swapped */

/* Options of wl_decode_wlan_frame(). */
enum {
	WL_WLAN_SWAPPED_FC = 1u << 0, /* frame control bytes swapped (Cisco CAPWAP) */
	WL_WLAN_DATAPAD = 1u << 1,    /* header padded to 4 bytes (a radiotap flag) */
	WL_WLAN_FCS = 1u << 2,        /* the frame had an FCS, which the caller cut off */
};
int wl_decode_wlan_frame(struct wl_dctx *d, struct cursor *c, unsigned opts);

int wl_decode_gtp(struct wl_dctx *d, struct cursor *c);   /* UDP 2152 and 2123, every version */
int wl_decode_l2tp(struct wl_dctx *d, struct cursor *c);  /* UDP 1701: v2 and v3 */
int wl_decode_l2tpv3_ip(struct wl_dctx *d, struct cursor *c); /* IP protocol 115 */
int wl_decode_lisp(struct wl_dctx *d, struct cursor *c);
int wl_decode_capwap_data(struct wl_dctx *d, struct cursor *c);
int wl_decode_lwapp(struct wl_dctx *d, struct cursor *c);  /* UDP 12222, 12223 */
int wl_decode_esp(struct wl_dctx *d, struct cursor *c);
int wl_decode_ah(struct wl_dctx *d, struct cursor *c);
int wl_decode_udpencap(struct wl_dctx *d, struct cursor *c); /* UDP 4500 */

/* Network and transport */
int wl_decode_ipv4(struct wl_dctx *d, struct cursor *c);
int wl_decode_ipv6(struct wl_dctx *d, struct cursor *c);
int wl_decode_tcp(struct wl_dctx *d, struct cursor *c);
int wl_decode_udp(struct wl_dctx *d, struct cursor *c);
int wl_decode_sctp(struct wl_dctx *d, struct cursor *c);
int wl_decode_icmp(struct wl_dctx *d, struct cursor *c);
int wl_decode_icmpv6(struct wl_dctx *d, struct cursor *c);
int wl_decode_gre(struct wl_dctx *d, struct cursor *c);
int wl_decode_vxlan(struct wl_dctx *d, struct cursor *c);
int wl_decode_geneve(struct wl_dctx *d, struct cursor *c);
int wl_decode_teredo(struct wl_dctx *d, struct cursor *c);

/* Applications */
int wl_decode_dns(struct wl_dctx *d, struct cursor *c);     /* UDP, port 53 */
int wl_decode_mdns(struct wl_dctx *d, struct cursor *c);    /* UDP, port 5353 */
int wl_decode_llmnr(struct wl_dctx *d, struct cursor *c);   /* UDP, port 5355 */
int wl_decode_dns_tcp(struct wl_dctx *d, struct cursor *c); /* TCP: 2-byte length first */
int wl_decode_tls(struct wl_dctx *d, struct cursor *c);     /* records over TCP */
int wl_decode_http(struct wl_dctx *d, struct cursor *c);
int wl_decode_dhcp(struct wl_dctx *d, struct cursor *c);
int wl_decode_quic(struct wl_dctx *d, struct cursor *c);    /* UDP: a datagram's packets */

/* Payload sniffers used by wl_dispatch_tcp() when the port says nothing. */
bool wl_looks_like_tls(const struct cursor *c);
bool wl_looks_like_http(const struct cursor *c);
bool wl_looks_like_dns(const struct cursor *c); /* UDP on an unknown port */
bool wl_looks_like_quic(const struct cursor *c, uint16_t sport, uint16_t dport); /* UDP */

#endif
