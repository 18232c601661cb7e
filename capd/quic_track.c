/* SPDX-License-Identifier: BSD-2-Clause */
#include "quic_track.h"

#include "flow-key.h"
#include "idx-list.h"
#include "quic.h"
#include "quic_initial.h"
#include "siphash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define US_PER_S 1000000LL
#define CID_UNKNOWN 0xff
#define CLIENT 0
#define SERVER 1
#define HS_HEADER 4        /* a handshake message's type and 24-bit length */
#define HS_CLIENT_HELLO 1
#define REC_HEADER 5       /* the TLS record header wl_dissect_tls_stream() reads first */
#define TLS_RECORD_MAX (16384 + 2048)
#define DATAGRAM_MAX 65535 /* a UDP payload, and so a QUIC packet, is never longer */

/* The client's CRYPTO stream in order from offset 0, until its ClientHello is whole. */
struct hello {
	uint32_t have;  /* bytes in order from offset 0 */
	uint32_t need;  /* the hello with its header, at most the buffer; 0 until its header came */
	uint32_t size;  /* bytes allocated for this struct and what follows it */
	bool cut;       /* the hello is longer than the buffer */
	uint8_t *seen;  /* a bit per byte of data */
	uint8_t rec[];  /* REC_HEADER bytes of record header, then the stream's bytes */
};

struct conn {
	struct wl_flow_key key;
	uint32_t hash_next;  /* the bucket's chain; the next free entry when free */
	struct wl_idx_link lru; /* least recently used first */
	int64_t last_us;
	bool client_lo;      /* the client is the key's first endpoint */
	bool hello_done;     /* decoded, or given up: later CRYPTO data is ignored (as tshark) */
	bool retry;          /* a Retry named retry_cid: the client's next Initials derive from it */
	uint8_t odcid_len, retry_len;
	uint8_t cid_len[2];  /* the CID each side chose for itself (its SCID), CID_UNKNOWN until seen */
	uint8_t odcid[WL_QUIC_CID_MAX], retry_cid[WL_QUIC_CID_MAX];
	uint32_t keys_version[2]; /* the version keys[side] were derived for, 0: none yet */
	int64_t largest_pn[2];
	struct quic_keys keys[2];
	struct hello *hello;
};

struct quic_track {
	struct quic_track_config cfg;
	struct wl_siphash_key key;
	struct quic_initial *crypto;
	struct conn *conns;
	uint32_t *buckets;
	uint32_t mask, hwm, free_head;
	struct wl_idx_list lru;
	uint64_t buffer_bytes;
	uint8_t *scratch; /* a packet's copy: header protection comes off in place */
	uint8_t *plain;   /* its plaintext */
	struct quic_track_stats stats;
};

void quic_track_config_default(struct quic_track_config *cfg)
{
	cfg->max_conns = 4096;
	cfg->hello_bytes = 8192;
	cfg->max_bytes = 4u << 20;
	cfg->timeout_s = 60;
}

/* ---- The table ---------------------------------------------------------------------- */

static uint32_t bucket_of(const struct quic_track *t, const struct wl_flow_key *k)
{
	return (uint32_t)(wl_siphash24(&t->key, k, sizeof(*k)) & t->mask);
}

static uint32_t find(const struct quic_track *t, const struct wl_flow_key *k)
{
	for (uint32_t i = t->buckets[bucket_of(t, k)]; i != NONE; i = t->conns[i].hash_next)
		if (wl_flow_key_equal(&t->conns[i].key, k))
			return i;
	return NONE;
}

static struct wl_idx_array conns_of(struct quic_track *t)
{
	return WL_IDX_ARRAY(t->conns, struct conn, lru);
}

static void touch(struct quic_track *t, uint32_t i, int64_t now)
{
	t->conns[i].last_us = now;
	wl_idx_list_unlink(&t->lru, conns_of(t), i);
	wl_idx_list_append(&t->lru, conns_of(t), i);
}

static void update_memory(struct quic_track *t)
{
	t->stats.memory = sizeof(*t) + (uint64_t)t->cfg.max_conns * sizeof(*t->conns) +
			  ((uint64_t)t->mask + 1) * sizeof(*t->buckets) + 2 * DATAGRAM_MAX + t->buffer_bytes;
	if (t->stats.memory > t->stats.memory_peak)
		t->stats.memory_peak = t->stats.memory;
}

static void hello_free(struct quic_track *t, struct conn *c)
{
	if (!c->hello)
		return;
	t->buffer_bytes -= c->hello->size;
	free(c->hello);
	c->hello = NULL;
	update_memory(t);
}

static void drop(struct quic_track *t, uint32_t i)
{
	struct conn *c = &t->conns[i];
	uint32_t *link = &t->buckets[bucket_of(t, &c->key)];

	while (*link != i)
		link = &t->conns[*link].hash_next;
	*link = c->hash_next;
	wl_idx_list_unlink(&t->lru, conns_of(t), i);
	hello_free(t, c);
	c->hash_next = t->free_head;
	t->free_head = i;
	t->stats.active--;
}

static void expire(struct quic_track *t, int64_t now)
{
	int64_t limit = (int64_t)t->cfg.timeout_s * US_PER_S;

	while (t->lru.oldest != NONE && now - t->conns[t->lru.oldest].last_us > limit) {
		drop(t, t->lru.oldest);
		t->stats.expired++;
	}
}

/* A fresh entry for key, the one idle the longest making room when the table is full. */
static uint32_t add(struct quic_track *t, const struct wl_flow_key *k)
{
	uint32_t i, b;

	if (t->stats.active >= t->cfg.max_conns && t->lru.oldest != NONE) {
		drop(t, t->lru.oldest);
		t->stats.evicted++;
	}
	if (t->free_head != NONE) {
		i = t->free_head;
		t->free_head = t->conns[i].hash_next;
	} else {
		i = t->hwm++;
	}
	t->conns[i] = (struct conn){ .key = *k };
	b = bucket_of(t, k);
	t->conns[i].hash_next = t->buckets[b];
	t->buckets[b] = i;
	wl_idx_list_append(&t->lru, conns_of(t), i);
	t->stats.active++;
	t->stats.connections++;
	return i;
}

/* What a connection is at its client's first Initial (a new one, or one started over). */
static void conn_begin(struct quic_track *t, struct conn *c, bool client_lo, const struct wl_quic_header *h,
		       const struct quic_keys *client_keys)
{
	hello_free(t, c);
	c->client_lo = client_lo;
	c->hello_done = c->retry = false;
	c->odcid_len = h->dcid_len;
	memcpy(c->odcid, h->dcid, h->dcid_len);
	c->cid_len[CLIENT] = c->cid_len[SERVER] = CID_UNKNOWN;
	c->largest_pn[CLIENT] = c->largest_pn[SERVER] = -1;
	c->keys[CLIENT] = *client_keys;
	c->keys_version[CLIENT] = h->version;
	c->keys_version[SERVER] = 0;
}

/* ---- The client's ClientHello ------------------------------------------------------- */

/* A buffer, the oldest connections' buffers making room within max_bytes. */
static struct hello *hello_new(struct quic_track *t, uint32_t self)
{
	uint32_t cap = t->cfg.hello_bytes;
	size_t size = sizeof(struct hello) + REC_HEADER + cap + (cap + 7) / 8;
	struct hello *h;

	for (uint32_t i = t->lru.oldest; i != NONE && t->buffer_bytes + size > t->cfg.max_bytes;
	     i = wl_idx_list_next(conns_of(t), i)) {
		if (i == self || !t->conns[i].hello)
			continue;
		hello_free(t, &t->conns[i]);
		t->conns[i].hello_done = true; /* its hello cannot complete now */
		t->stats.evicted++;
	}
	if (t->buffer_bytes + size > t->cfg.max_bytes || !(h = calloc(1, size)))
		return NULL;
	h->size = (uint32_t)size;
	h->seen = h->rec + REC_HEADER + cap;
	t->buffer_bytes += size;
	update_memory(t);
	return h;
}

/*
 * The whole hello, decoded by proto/'s TLS parser: wl_dissect_tls_stream()
 * reads records, so the stream goes behind a record header of the hello's
 * declared length (a hello longer than the buffer then reads as one the
 * capture cut). What it says of the frame itself (proto, info) stays
 * QUIC's. JA4's first character is the transport: 'q' (FoxIO).
 */
static void hello_decode(struct quic_track *t, struct conn *c, struct wl_packet *pkt)
{
	struct hello *h = c->hello;
	uint8_t *hs = h->rec + REC_HEADER;
	size_t declared = HS_HEADER + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
	char info[WL_INFO_MAX];
	uint8_t proto = pkt->proto;

	if (declared > TLS_RECORD_MAX)
		declared = TLS_RECORD_MAX;
	h->rec[0] = 22; /* handshake */
	h->rec[1] = 3;
	h->rec[2] = 3;
	h->rec[3] = (uint8_t)(declared >> 8);
	h->rec[4] = (uint8_t)declared;
	memcpy(info, pkt->info, sizeof(info));
	wl_dissect_tls_stream(pkt, h->rec, REC_HEADER + (size_t)h->need);
	pkt->proto = proto;
	memcpy(pkt->info, info, sizeof(info));
	if (pkt->has & WL_PKT_JA4_TEXT)
		pkt->tls.ja4_a[0] = 'q';
	t->stats.hellos++;
	if (h->cut)
		t->stats.hello_cut++;
	c->hello_done = true;
	hello_free(t, c);
}

/* Bytes [off, off + n) of the CRYPTO stream; true once the hello is whole. */
static bool hello_add(struct quic_track *t, uint32_t i, uint64_t off, const uint8_t *p, size_t n)
{
	struct conn *c = &t->conns[i];
	uint32_t cap = t->cfg.hello_bytes;
	struct hello *h;

	if (off >= cap || n == 0 || (!c->hello && !(c->hello = hello_new(t, i))))
		return false;
	h = c->hello;
	if (n > cap - off)
		n = (size_t)(cap - off);
	memcpy(h->rec + REC_HEADER + off, p, n);
	for (size_t b = (size_t)off; b < off + n; b++)
		h->seen[b / 8] |= (uint8_t)(1u << (b % 8));
	while (h->have < cap && (h->seen[h->have / 8] & (1u << (h->have % 8))))
		h->have++;
	if (h->need == 0 && h->have >= HS_HEADER) {
		const uint8_t *hs = h->rec + REC_HEADER;
		uint32_t len = (uint32_t)hs[1] << 16 | (uint32_t)hs[2] << 8 | hs[3];

		if (hs[0] != HS_CLIENT_HELLO) {
			t->stats.not_hello++;
			c->hello_done = true;
			hello_free(t, c);
			return false;
		}
		h->cut = len > cap - HS_HEADER;
		h->need = h->cut ? cap : HS_HEADER + len;
	}
	return h->need && h->have >= h->need;
}

/* ---- Initial packets ---------------------------------------------------------------- */

/* One datagram's walk. */
struct visit {
	struct quic_track *t;
	struct wl_packet *pkt;
	uint32_t conn;     /* NONE: no connection known */
	bool src_lo;       /* the sender is the key's first endpoint */
	bool cut;          /* the capture cut the frame (snap length) */
	bool from_client;  /* with a connection */
	bool completed;    /* a ClientHello became whole */
	bool opened;       /* the packet just walked was opened */
	bool pn_only;      /* it was not, but its packet number was unmasked (tshark shows it) */
	uint64_t pn;
	char frames[WL_INFO_MAX]; /* ", CRYPTO, PADDING": the opened packet's frames */
	size_t frames_len;
};

static void on_frame(void *ctx, const struct wl_quic_frame *f)
{
	struct visit *v = ctx;
	const char *name = wl_quic_frame_name(f->type);
	size_t n = strlen(name);

	if (v->frames_len + 2 + n < sizeof(v->frames)) {
		memcpy(v->frames + v->frames_len, ", ", 2);
		memcpy(v->frames + v->frames_len + 2, name, n + 1);
		v->frames_len += 2 + n;
	}
	if (f->type == WL_QUIC_FRAME_CRYPTO && v->conn != NONE && v->from_client &&
	    !v->t->conns[v->conn].hello_done && hello_add(v->t, v->conn, f->offset, f->data, f->len))
		v->completed = true;
}

/*
 * Opens the packet (h, p) with keys; a fresh copy each try, as opening
 * changes it. A Length past the datagram (invalid) leaves the datagram's
 * rest, as tshark takes it: its packet number shows, its tag fails.
 */
static int try_open(struct quic_track *t, const struct quic_keys *keys, int64_t largest,
		    const struct wl_quic_header *h, const uint8_t *p, struct quic_opened *ret)
{
	memcpy(t->scratch, p, h->captured);
	return quic_initial_open(t->crypto, keys, t->scratch, h->captured, h->pn_off, largest, t->plain, ret);
}

/* The connection's keys for side, derived again when the version changed. */
static int side_keys(struct quic_track *t, struct conn *c, int side, uint32_t version)
{
	int r;

	if (c->keys_version[side] == version)
		return 0;
	r = quic_initial_keys(t->crypto, version, c->odcid, c->odcid_len, side == SERVER, &c->keys[side]);
	c->keys_version[side] = r == 0 ? version : 0;
	return r;
}

/* The client's first Initial after a Retry: its DCID is the Retry's SCID, and keys derive from it. */
static int open_after_retry(struct visit *v, struct conn *c, const struct wl_quic_header *h, const uint8_t *p,
			    struct quic_opened *ret)
{
	struct quic_keys keys;
	int r;

	if (!c->retry || h->dcid_len != c->retry_len || memcmp(h->dcid, c->retry_cid, h->dcid_len) != 0 ||
	    quic_initial_keys(v->t->crypto, h->version, h->dcid, h->dcid_len, false, &keys) < 0 ||
	    (r = try_open(v->t, &keys, c->largest_pn[CLIENT], h, p, ret)) < 0)
		return -EBADMSG;
	/* The same connection: its hello so far, and its packet numbers, go on. */
	c->retry = false;
	c->odcid_len = c->retry_len;
	memcpy(c->odcid, c->retry_cid, c->retry_len);
	c->keys[CLIENT] = keys;
	c->keys_version[CLIENT] = h->version;
	c->keys_version[SERVER] = 0;
	v->t->stats.retries++;
	return r;
}

/* With the connection's keys: its client's or its server's Initial. */
static int open_known(struct visit *v, const struct wl_quic_header *h, const uint8_t *p, struct quic_opened *ret)
{
	struct conn *c = &v->t->conns[v->conn];
	int side = v->from_client ? CLIENT : SERVER;

	if (v->from_client && open_after_retry(v, c, h, p, ret) == 0)
		return 0;
	if (side_keys(v->t, c, side, h->version) < 0)
		return -EBADMSG;
	return try_open(v->t, &c->keys[side], c->largest_pn[side], h, p, ret);
}

/*
 * A client's first Initial: the keys derive from its own DCID. It makes a
 * connection, or starts the flow's one over (a new connection on the same
 * ports, or one whose beginning the capture missed).
 */
static int open_first(struct visit *v, const struct wl_quic_header *h, const uint8_t *p, const struct wl_flow_key *k,
		      struct quic_opened *ret)
{
	struct quic_keys keys;
	int r;

	if (quic_initial_keys(v->t->crypto, h->version, h->dcid, h->dcid_len, false, &keys) < 0 ||
	    (r = try_open(v->t, &keys, -1, h, p, ret)) < 0)
		return -EBADMSG;
	if (v->conn == NONE)
		v->conn = add(v->t, k);
	conn_begin(v->t, &v->t->conns[v->conn], v->src_lo, h, &keys);
	v->from_client = true;
	return r;
}

static void initial(struct visit *v, const struct wl_quic_header *h, const uint8_t *p, const struct wl_flow_key *k)
{
	struct quic_track *t = v->t;
	struct quic_opened o = { .pn_len = 0 }, shown = { .pn_len = 0 };
	bool known = v->conn != NONE;
	int r = -EBADMSG;

	if (h->captured < h->len && v->cut)
		return; /* cut by the capture: nothing to open */
	t->stats.initials++;
	if (!quic_initial_supported(h->version)) {
		t->stats.unsupported++;
		return;
	}
	if (known) {
		r = open_known(v, h, p, &o);
		shown = o;
	}
	if (r < 0 && (!known || v->from_client)) {
		r = open_first(v, h, p, k, &o);
		if (!known)
			shown = o;
	}
	if (r < 0) {
		/* The keys tshark would take unmask the number even if the tag then fails. */
		t->stats.failed++;
		v->pn_only = shown.pn_len > 0;
		v->pn = shown.pn;
		return;
	}
	t->stats.decrypted++;
	struct conn *c = &t->conns[v->conn];
	int side = v->from_client ? CLIENT : SERVER;

	if ((int64_t)o.pn > c->largest_pn[side])
		c->largest_pn[side] = (int64_t)o.pn;
	v->opened = true;
	v->pn = o.pn;
	if (wl_quic_initial_frames(t->plain, o.payload_len, on_frame, v) < 0)
		t->stats.bad_frames++;
}

/* ---- Datagrams ---------------------------------------------------------------------- */

static void note_retry(struct conn *c, const struct wl_quic_header *h)
{
	c->retry = true;
	c->retry_len = h->scid_len;
	memcpy(c->retry_cid, h->scid, h->scid_len);
}

static void visit_packet(struct visit *v, const struct wl_quic_header *h, const uint8_t *p,
			 const struct wl_flow_key *k)
{
	struct conn *c = v->conn != NONE ? &v->t->conns[v->conn] : NULL;

	v->opened = v->pn_only = false;
	v->frames_len = 0;
	v->frames[0] = '\0';
	if (h->type == WL_QUIC_INITIAL)
		initial(v, h, p, k);
	else if (h->type == WL_QUIC_RETRY && c && !v->from_client)
		note_retry(c, h);
	c = v->conn != NONE ? &v->t->conns[v->conn] : NULL;
	if (c && h->type != WL_QUIC_1RTT && h->type != WL_QUIC_VERSION_NEGOTIATION && h->type != WL_QUIC_RETRY)
		c->cid_len[v->from_client ? CLIENT : SERVER] = h->scid_len;
}

static void append(char *info, const char *s)
{
	size_t len = strlen(info), n = strlen(s);

	if (n > WL_INFO_MAX - 1 - len)
		n = WL_INFO_MAX - 1 - len;
	memcpy(info + len, s, n);
	info[len + n] = '\0';
}

static void append_hex(char *info, const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char two[3] = { 0 };

	for (size_t i = 0; i < n; i++) {
		two[0] = hex[b[i] >> 4];
		two[1] = hex[b[i] & 15];
		append(info, two);
	}
}

/* The DCID of a short header on its own, once the connection says how long it is. */
static void short_dcid(struct visit *v, const struct wl_quic_header *h, const uint8_t *p)
{
	const struct conn *c = &v->t->conns[v->conn];
	uint8_t len = c->cid_len[v->from_client ? SERVER : CLIENT];
	struct wl_quic *q = &v->pkt->quic;

	if (len == CID_UNKNOWN || len > WL_QUIC_CID_MAX || (size_t)len + 1 > h->captured)
		return;
	if (len) {
		append(v->pkt->info, ", DCID=");
		append_hex(v->pkt->info, p + 1, len);
	}
	if (q->type == WL_QUIC_1RTT && !(q->flags & WL_QUIC_HAS_DCID)) {
		q->flags |= WL_QUIC_HAS_DCID;
		q->dcid_len = len;
		memcpy(q->dcid, p + 1, len);
	}
}

/* tshark's Info is the last packet's: what decryption or the connection add to it. */
static void amend_info(struct visit *v, const struct wl_quic_header *h, const uint8_t *p)
{
	char pn[32] = ", PKN: ";
	char digits[21];
	size_t n = 0;
	uint64_t x = v->pn;

	if (v->opened || v->pn_only) {
		do
			digits[n++] = (char)('0' + x % 10);
		while ((x /= 10) && n < sizeof(digits));
		for (size_t i = 0; i < n; i++)
			pn[7 + i] = digits[n - 1 - i];
		pn[7 + n] = '\0';
		append(v->pkt->info, pn);
		append(v->pkt->info, v->frames);
	} else if (h->type == WL_QUIC_1RTT && !h->has_dcid && v->conn != NONE) {
		short_dcid(v, h, p);
	}
}

static int64_t capture_us(const struct wl_packet *pkt)
{
	if (pkt->ts_sec > INT64_MAX / US_PER_S - 1)
		return INT64_MAX - US_PER_S;
	if (pkt->ts_sec < INT64_MIN / US_PER_S + 1)
		return INT64_MIN + US_PER_S;
	return pkt->ts_sec * US_PER_S + (int64_t)(pkt->ts_usec % 1000000);
}

/* Where proto/ found the QUIC datagram in the frame: its layer. */
static bool datagram_of(const struct wl_packet *pkt, size_t caplen, size_t *off, size_t *len)
{
	for (unsigned i = pkt->n_layers; i-- > 0;) {
		const struct wl_layer *l = &pkt->layers[i];

		if (l->proto != WL_P_QUIC)
			continue;
		if (l->off > caplen || l->len > caplen - l->off)
			return false;
		*off = l->off;
		*len = l->len;
		return true;
	}
	return false;
}

/*
 * A short header off port 443, or with its fixed bit cleared (RFC 9287 lets
 * peers that agreed grease it), is plain UDP to proto/, which sees one
 * frame at a time; tshark follows the UDP conversation of a QUIC
 * connection, and so does this: a payload with the long-header bit clear,
 * of a flow whose Initial opened, is the connection's 1-RTT packet.
 */
static void short_on_known_flow(struct quic_track *t, struct wl_packet *pkt, const uint8_t *frame, size_t caplen,
				int64_t now)
{
	static const char protected[] = "Protected Payload (KP0)";
	const struct wl_layer *udp = pkt->n_layers ? &pkt->layers[pkt->n_layers - 1] : NULL;
	struct visit v = { .t = t, .pkt = pkt };
	struct wl_quic_header h = { .type = WL_QUIC_1RTT };
	struct wl_flow_key k;
	size_t off;

	if (!udp || udp->proto != WL_P_UDP || udp->len < 8 + 2 || udp->off + (size_t)udp->len > caplen ||
	    pkt->n_layers >= WL_LAYERS_MAX || (frame[udp->off + 8u] & 0x80) ||
	    !wl_flow_key_of_packet(pkt, &k, &v.src_lo) || (v.conn = find(t, &k)) == NONE)
		return;
	off = udp->off + 8u;
	v.from_client = t->conns[v.conn].client_lo == v.src_lo;
	h.first = frame[off];
	h.len = h.captured = udp->len - 8u;
	pkt->layers[pkt->n_layers++] = (struct wl_layer){ .proto = WL_P_QUIC, .off = (uint16_t)off,
							 .len = (uint16_t)h.len };
	pkt->proto = WL_P_QUIC;
	pkt->has |= WL_PKT_QUIC;
	pkt->quic = (struct wl_quic){ .type = WL_QUIC_1RTT, .packets = 1 };
	memcpy(pkt->info, protected, sizeof(protected));
	short_dcid(&v, &h, frame + off);
	touch(t, v.conn, now);
}

int quic_track_packet(struct quic_track *t, struct wl_packet *pkt, const uint8_t *frame, size_t caplen)
{
	struct visit v = { .t = t, .pkt = pkt, .cut = pkt->caplen < pkt->len };
	struct wl_quic_header h, last = { .type = 0 };
	struct wl_quic_walk w;
	struct wl_flow_key k;
	size_t off, len, at, last_at = 0;
	int64_t now;

	if (!(pkt->has & WL_PKT_QUIC)) {
		if (t->stats.active && pkt->proto == WL_P_UDP)
			short_on_known_flow(t, pkt, frame, caplen, capture_us(pkt));
		return 0;
	}
	if (!datagram_of(pkt, caplen, &off, &len) || !wl_flow_key_of_packet(pkt, &k, &v.src_lo))
		return 0;
	now = capture_us(pkt);
	expire(t, now);
	v.conn = find(t, &k);
	wl_quic_walk_init(&w, frame + off, len, pkt->caplen < pkt->len);
	while (wl_quic_next(&w, &h, &at) == 1) {
		v.from_client = v.conn != NONE && t->conns[v.conn].client_lo == v.src_lo;
		visit_packet(&v, &h, frame + off + at, &k);
		last = h;
		last_at = at;
	}
	if (last.type)
		amend_info(&v, &last, frame + off + last_at);
	if (v.conn != NONE)
		touch(t, v.conn, now);
	if (!v.completed)
		return 0;
	hello_decode(t, &t->conns[v.conn], pkt);
	return 1;
}

/* ---- Life cycle ---------------------------------------------------------------------- */

struct quic_track *quic_track_new(const struct quic_track_config *cfg, int *err)
{
	struct quic_track *t;
	uint32_t n = 1;
	int r;

	if (cfg->max_conns == 0 || cfg->max_conns > (1u << 24) || cfg->hello_bytes < 64 ||
	    cfg->hello_bytes > (1u << 20) || cfg->max_bytes < cfg->hello_bytes || cfg->timeout_s == 0) {
		*err = -EINVAL;
		return NULL;
	}
	*err = -ENOMEM;
	if (!(t = calloc(1, sizeof(*t))))
		return NULL;
	t->cfg = *cfg;
	if ((r = wl_siphash_key_random(&t->key)) < 0 || !(t->crypto = quic_initial_new(&r))) {
		*err = r;
		return quic_track_free(t);
	}
	while (n < cfg->max_conns)
		n <<= 1;
	t->mask = n - 1;
	t->free_head = NONE;
	wl_idx_list_init(&t->lru);
	t->conns = calloc(cfg->max_conns, sizeof(*t->conns));
	t->buckets = malloc((size_t)n * sizeof(*t->buckets));
	t->scratch = malloc(DATAGRAM_MAX);
	t->plain = malloc(DATAGRAM_MAX);
	if (!t->conns || !t->buckets || !t->scratch || !t->plain)
		return quic_track_free(t);
	memset(t->buckets, 0xff, (size_t)n * sizeof(*t->buckets));
	update_memory(t);
	*err = 0;
	return t;
}

struct quic_track *quic_track_free(struct quic_track *t)
{
	if (!t)
		return NULL;
	for (uint32_t i = 0; t->conns && i < t->hwm; i++)
		free(t->conns[i].hello);
	free(t->conns);
	free(t->buckets);
	free(t->scratch);
	free(t->plain);
	quic_initial_free(t->crypto);
	free(t);
	return NULL;
}

void quic_track_flush(struct quic_track *t)
{
	while (t->lru.oldest != NONE)
		drop(t, t->lru.oldest);
}

void quic_track_stats(const struct quic_track *t, struct quic_track_stats *ret)
{
	*ret = t->stats;
}
