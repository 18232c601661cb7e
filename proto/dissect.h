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
	int first_err;        /* what wl_dissect() returns: the first wl_fail() */
};

typedef int (*wl_decoder)(struct wl_dctx *d, struct cursor *c);

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
int wl_read_addr(struct wl_flow *flow, struct cursor *c, uint8_t which, struct wl_addr *ret);

/* Records the first error of the frame and returns err, for "return wl_fail()". */
int wl_fail(struct wl_dctx *d, int err);

/* Marks proto as the highest layer so far and records where it starts in the frame. */
void wl_enter(struct wl_dctx *d, enum wl_proto proto, const struct cursor *c);

/* Dispatch by ethertype, IP protocol number, or well-known port. Unknown
 * values return 0 and leave the packet as it is. */
int wl_dispatch_ethertype(struct wl_dctx *d, uint16_t type, struct cursor *c);
int wl_dispatch_ipproto(struct wl_dctx *d, uint8_t ipproto, struct cursor *c);
int wl_dispatch_udp(struct wl_dctx *d, uint16_t sport, uint16_t dport, struct cursor *c);
int wl_dispatch_tcp(struct wl_dctx *d, uint16_t sport, uint16_t dport, struct cursor *c);

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

/* Payload sniffers used by wl_dispatch_tcp() when the port says nothing. */
bool wl_looks_like_tls(const struct cursor *c);
bool wl_looks_like_http(const struct cursor *c);
bool wl_looks_like_dns(const struct cursor *c); /* UDP on an unknown port */

#endif
