/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DNS (RFC 1035), multicast DNS (RFC 6762) and LLMNR (RFC 4795), over UDP,
 * and DNS over TCP (RFC 1035 4.2.2: a 2-byte length, then the message).
 *
 * The first DNS message of a frame fills pkt->dns, field by field as it is
 * read, so that whatever came before a truncation stays, as in tshark. Names
 * and record data are kept in presentation form with RFC 1035 escapes.
 */
#include "dissect.h"

#define DNS_HDR_LEN 12
#define DNS_NAME_WIRE_MAX 255 /* RFC 1035 3.1, length octets included */

/*
 * Work bounds. Pointers only go backwards, so every walk ends, but a name may
 * chain through every earlier one: a 64 KiB message of 12-byte records, each
 * pointing at the one before, walked N^2/2 pointers (15 million; 50 ms).
 *  - A name follows at most DNS_NAME_MAX_HOPS pointers: it has at most 127
 *    labels, and a compressor needs at most one pointer per label. Its labels
 *    are capped at 255 bytes, so one name walks at most DNS_NAME_WALK_MAX
 *    bytes (labels with their length octets, and 2 per pointer).
 *  - A message walks at most DNS_WALK_PER_BYTE bytes of names per byte it
 *    holds, plus one longest name. Real ones walk less than twice their size
 *    (1.59 at most over the 22,231 DNS messages of bench.pcap and the corpus);
 *    a crafted one within the per-name bounds would walk 42 times its size.
 * Past either bound the message is invalid (-EBADMSG), as a loop would be.
 * The walk is counted in d->dns_walked.
 */
#define DNS_NAME_MAX_HOPS WL_DNS_NAME_MAX_HOPS
#define DNS_NAME_WALK_MAX (DNS_NAME_WIRE_MAX + 2 * DNS_NAME_MAX_HOPS)
#define DNS_WALK_PER_BYTE WL_DNS_WALK_PER_BYTE

enum {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_SOA = 6,
	T_PTR = 12,
	T_MX = 15,
	T_TXT = 16,
	T_AAAA = 28,
	T_SRV = 33,
	T_DNAME = 39,
	T_OPT = 41,
	T_NSEC = 47,
};

/* One message being decoded. */
struct dns_msg {
	struct wl_dctx *d;
	struct cursor msg; /* the whole message; offsets count from its first byte */
	bool cut;          /* the bytes stop before the message does */
	bool mdns;
	struct wl_dns *out; /* NULL when an earlier message of the frame owns pkt->dns */
	struct wl_sb info;  /* pkt->info, only used together with out */
	size_t walk_limit;  /* d->dns_walked may not pass this */
};

/*
 * Running off the end of the bytes we hold is truncation only when the
 * message really goes on past them; otherwise the message contradicts its
 * own counts or lengths. tshark draws the same line (captured length versus
 * reported length) when it decides whether a frame is malformed.
 */
static int end_err(const struct dns_msg *m, const struct cursor *c)
{
	return m->cut && c->len == m->msg.len ? -EMSGSIZE : -EBADMSG;
}

/* ---- Names ------------------------------------------------------------- */

/* Appends "\DDD", the RFC 1035 escape that works for any byte. */
static void sb_escape_ddd(struct wl_sb *sb, uint8_t ch)
{
	wl_sb_char(sb, '\\');
	wl_sb_char(sb, (char)('0' + ch / 100));
	wl_sb_char(sb, (char)('0' + ch / 10 % 10));
	wl_sb_char(sb, (char)('0' + ch % 10));
}

/*
 * A label byte as text. '.' and '\' get a backslash so that a dot inside a
 * label cannot pass for a label boundary; anything not visibly printable
 * becomes \DDD, so the text is unambiguous and safe to show.
 */
static void sb_label_byte(struct wl_sb *sb, uint8_t ch)
{
	if (ch == '.' || ch == '\\') {
		wl_sb_char(sb, '\\');
		wl_sb_char(sb, (char)ch);
	} else if (ch >= 0x21 && ch <= 0x7e) {
		wl_sb_char(sb, (char)ch);
	} else {
		sb_escape_ddd(sb, ch);
	}
}

/* A byte of a quoted character-string (TXT): spaces are fine inside quotes. */
static void sb_string_byte(struct wl_sb *sb, uint8_t ch)
{
	if (ch == '"' || ch == '\\') {
		wl_sb_char(sb, '\\');
		wl_sb_char(sb, (char)ch);
	} else if (ch >= 0x20 && ch <= 0x7e) {
		wl_sb_char(sb, (char)ch);
	} else {
		sb_escape_ddd(sb, ch);
	}
}

static void sb_label(struct wl_sb *sb, const uint8_t *label, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_label_byte(sb, label[i]);
}

/* Where the labels of a name are being read, and where pointers may go. */
struct name_walk {
	struct cursor at; /* reads the next length octet */
	size_t barrier;   /* a pointer must land strictly before this offset */
	size_t wire;      /* wire length of the name so far, length octets included */
	size_t end;       /* where the name ends in place, once a pointer was taken */
	unsigned hops;    /* pointers followed */
	bool jumped;
};

/* Counts n more bytes walked, if the message's budget allows them. */
static int walk(const struct dns_msg *m, size_t n)
{
	if (n > m->walk_limit - m->d->dns_walked)
		return -EBADMSG;
	m->d->dns_walked += n;
	return 0;
}

/*
 * Follows a compression pointer whose first octet was first. Only strictly
 * backward jumps past the header are allowed (as systemd-resolved does):
 * every jump then lowers the barrier, so a loop cannot exist.
 */
static int follow_pointer(const struct dns_msg *m, struct name_walk *w, uint8_t first)
{
	uint8_t low;
	size_t target;

	if (cur_u8(&w->at, &low) < 0)
		return end_err(m, &w->at);
	target = (size_t)(first & 0x3f) << 8 | low;
	if (target < DNS_HDR_LEN || target >= w->barrier || ++w->hops > DNS_NAME_MAX_HOPS)
		return -EBADMSG;
	if (walk(m, 2) < 0)
		return -EBADMSG;
	if (!w->jumped)
		w->end = w->at.off; /* the name ends, in place, after its first pointer */
	w->at = m->msg;
	w->at.off = target;
	w->barrier = target;
	w->jumped = true;
	return 0;
}

/* Reads the label of length n and appends it, dot-separated, to sb. */
static int take_label(const struct dns_msg *m, struct name_walk *w, uint8_t n,
		      struct wl_sb *sb, size_t name_start)
{
	const uint8_t *label;

	/* Check the cap first: the terminating root octet must still fit. */
	w->wire += 1u + n;
	if (w->wire + 1 > DNS_NAME_WIRE_MAX || walk(m, 1u + n) < 0)
		return -EBADMSG;
	if (cur_bytes(&w->at, n, &label) < 0)
		return end_err(m, &w->at);
	if (sb->len > name_start)
		wl_sb_char(sb, '.');
	sb_label(sb, label, n);
	return 0;
}

/*
 * Reads the (possibly compressed) name at c and appends its presentation
 * form to sb; c steps past the name as it sits in place. The first labels are
 * read through c itself, so a name inside rdata cannot run past the rdata;
 * after a pointer they come from anywhere earlier in the message.
 */
static int read_name(const struct dns_msg *m, struct cursor *c, struct wl_sb *sb)
{
	struct name_walk w = { .at = *c, .barrier = c->off };
	size_t name_start = sb->len;

	for (;;) {
		uint8_t len;
		int r;

		if (cur_u8(&w.at, &len) < 0)
			return end_err(m, &w.at);
		if (len == 0)
			break;
		switch (len & 0xc0) {
		case 0x00:
			r = take_label(m, &w, len, sb, name_start);
			break;
		case 0xc0:
			r = follow_pointer(m, &w, len);
			break;
		default: /* 0x40 and 0x80: extended and reserved label types */
			r = -EBADMSG;
			break;
		}
		if (r < 0)
			return r;
	}
	c->off = w.jumped ? w.end : w.at.off;
	if (sb->len == name_start)
		wl_sb_str(sb, "<Root>"); /* what tshark prints for the root */
	return 0;
}

/* ---- Names for the Info column ------------------------------------------ */

struct dns_type_name {
	uint16_t type;
	const char *name;
};

static const struct dns_type_name dns_type_names[] = {
	{ 0, "Unused" },     { 1, "A" },          { 2, "NS" },
	{ 3, "MD" },         { 4, "MF" },         { 5, "CNAME" },
	{ 6, "SOA" },        { 7, "MB" },         { 8, "MG" },
	{ 9, "MR" },         { 10, "NULL" },      { 11, "WKS" },
	{ 12, "PTR" },       { 13, "HINFO" },     { 14, "MINFO" },
	{ 15, "MX" },        { 16, "TXT" },       { 17, "RP" },
	{ 18, "AFSDB" },     { 19, "X25" },       { 20, "ISDN" },
	{ 21, "RT" },        { 22, "NSAP" },      { 23, "NSAP-PTR" },
	{ 24, "SIG" },       { 25, "KEY" },       { 26, "PX" },
	{ 27, "GPOS" },      { 28, "AAAA" },      { 29, "LOC" },
	{ 30, "NXT" },       { 31, "EID" },       { 32, "NIMLOC" },
	{ 33, "SRV" },       { 34, "ATMA" },      { 35, "NAPTR" },
	{ 36, "KX" },        { 37, "CERT" },      { 38, "A6" },
	{ 39, "DNAME" },     { 40, "SINK" },      { 41, "OPT" },
	{ 42, "APL" },       { 43, "DS" },        { 44, "SSHFP" },
	{ 45, "IPSECKEY" },  { 46, "RRSIG" },     { 47, "NSEC" },
	{ 48, "DNSKEY" },    { 49, "DHCID" },     { 50, "NSEC3" },
	{ 51, "NSEC3PARAM" }, { 52, "TLSA" },      { 53, "SMIMEA" },
	{ 55, "HIP" },       { 59, "CDS" },       { 60, "CDNSKEY" },
	{ 61, "OPENPGPKEY" }, { 62, "CSYNC" },     { 63, "ZONEMD" },
	{ 64, "SVCB" },      { 65, "HTTPS" },     { 99, "SPF" },
	{ 100, "UINFO" },    { 101, "UID" },      { 102, "GID" },
	{ 103, "UNSPEC" },   { 249, "TKEY" },     { 250, "TSIG" },
	{ 251, "IXFR" },     { 252, "AXFR" },     { 255, "ANY" },
	{ 256, "URI" },      { 257, "CAA" },
};

static void sb_type(struct wl_sb *sb, uint16_t type)
{
	for (size_t i = 0; i < sizeof(dns_type_names) / sizeof(dns_type_names[0]); i++) {
		if (dns_type_names[i].type == type) {
			wl_sb_str(sb, dns_type_names[i].name);
			return;
		}
	}
	wl_sb_str(sb, "Unknown (");
	wl_sb_u64(sb, type);
	wl_sb_char(sb, ')');
}

/* Wireshark's wording, so that our Info column reads like tshark's. */
static const char *const opcode_names[16] = {
	[0] = "Standard query",
	[1] = "Inverse query",
	[2] = "Server status request",
	[4] = "Zone change notification",
	[5] = "Dynamic update",
	[6] = "DNS Stateful operations (DSO)",
};

static const char *const rcode_names[16] = {
	[1] = "Format error",
	[2] = "Server failure",
	[3] = "No such name",
	[4] = "Not implemented",
	[5] = "Refused",
	[6] = "Name exists",
	[7] = "RRset exists",
	[8] = "RRset does not exist",
	[9] = "Not authoritative",
	[10] = "Name out of zone",
	[11] = "DSO-Type not implemented",
};

static void info_header(struct wl_sb *sb, const struct wl_dns *dns)
{
	if (opcode_names[dns->opcode]) {
		wl_sb_str(sb, opcode_names[dns->opcode]);
	} else {
		wl_sb_str(sb, "Unknown operation (");
		wl_sb_u64(sb, dns->opcode);
		wl_sb_char(sb, ')');
	}
	if (dns->response)
		wl_sb_str(sb, " response");
	wl_sb_str(sb, " 0x");
	wl_sb_hex(sb, dns->id, 4);
	if (dns->rcode == 0)
		return;
	wl_sb_char(sb, ' ');
	if (rcode_names[dns->rcode]) {
		wl_sb_str(sb, rcode_names[dns->rcode]);
	} else {
		wl_sb_str(sb, "Unknown error (");
		wl_sb_u64(sb, dns->rcode);
		wl_sb_char(sb, ')');
	}
}

/*
 * Like tshark: the type, then the short form of the data. SOA shows only its
 * primary server and TXT nothing, so one record cannot fill the column.
 */
static void info_record(struct wl_sb *sb, const struct wl_dns_rr *rr, bool mdns_flush)
{
	wl_sb_char(sb, ' ');
	sb_type(sb, rr->type);
	if (mdns_flush)
		wl_sb_str(sb, ", cache flush");
	if (rr->data[0] == '\0' || rr->type == T_TXT)
		return;
	wl_sb_char(sb, ' ');
	if (rr->type == T_SOA)
		wl_sb_mem(sb, rr->data, strcspn(rr->data, " "));
	else
		wl_sb_str(sb, rr->data);
}

/* ---- Record data --------------------------------------------------------- */

static int rdata_addr(struct cursor *rd, uint8_t family, struct wl_sb *sb)
{
	struct wl_addr a = { .family = family };
	size_t n = family == 4 ? 4 : 16;
	const uint8_t *b;

	/* An address of any other length contradicts the type. */
	if (cur_left(rd) != n || cur_bytes(rd, n, &b) < 0)
		return -EBADMSG;
	memcpy(a.b, b, n);
	wl_sb_addr(sb, &a);
	return 0;
}

/* Appends a 16- or 32-bit number read from rd, then a space if more follows. */
static int rdata_u16(struct cursor *rd, struct wl_sb *sb, bool more)
{
	uint16_t v;

	if (cur_be16(rd, &v) < 0)
		return -EBADMSG;
	wl_sb_u64(sb, v);
	if (more)
		wl_sb_char(sb, ' ');
	return 0;
}

static int rdata_u32(struct cursor *rd, struct wl_sb *sb, bool more)
{
	uint32_t v;

	if (cur_be32(rd, &v) < 0)
		return -EBADMSG;
	wl_sb_u64(sb, v);
	if (more)
		wl_sb_char(sb, ' ');
	return 0;
}

static int rdata_mx(const struct dns_msg *m, struct cursor *rd, struct wl_sb *sb)
{
	int r = rdata_u16(rd, sb, true);

	return r < 0 ? r : read_name(m, rd, sb);
}

static int rdata_srv(const struct dns_msg *m, struct cursor *rd, struct wl_sb *sb)
{
	int r = 0;

	for (int i = 0; i < 3 && r == 0; i++) /* priority, weight, port */
		r = rdata_u16(rd, sb, true);
	return r < 0 ? r : read_name(m, rd, sb);
}

static int rdata_soa(const struct dns_msg *m, struct cursor *rd, struct wl_sb *sb)
{
	int r = read_name(m, rd, sb); /* primary server */

	if (r == 0) {
		wl_sb_char(sb, ' ');
		r = read_name(m, rd, sb); /* responsible mailbox */
	}
	if (r == 0)
		wl_sb_char(sb, ' ');
	/* serial, refresh, retry, expire, minimum */
	for (int i = 0; i < 5 && r == 0; i++)
		r = rdata_u32(rd, sb, i < 4);
	return r;
}

/* TXT: one or more character-strings, each quoted, separated by spaces. */
static int rdata_txt(struct cursor *rd, struct wl_sb *sb)
{
	while (cur_left(rd) > 0) {
		const uint8_t *s;
		uint8_t n;

		if (cur_u8(rd, &n) < 0 || cur_bytes(rd, n, &s) < 0)
			return -EBADMSG;
		if (sb->len > 0)
			wl_sb_char(sb, ' ');
		wl_sb_char(sb, '"');
		for (size_t i = 0; i < n; i++)
			sb_string_byte(sb, s[i]);
		wl_sb_char(sb, '"');
	}
	return 0;
}

/* rd holds exactly the rdata; names in it may still point back into the message. */
static int decode_rdata(const struct dns_msg *m, uint16_t type, struct cursor *rd,
			struct wl_sb *sb)
{
	switch (type) {
	case T_A:
		return rdata_addr(rd, 4, sb);
	case T_AAAA:
		return rdata_addr(rd, 6, sb);
	case T_NS:
	case T_CNAME:
	case T_PTR:
	case T_DNAME:
	case T_NSEC: /* the next owner name; the type bitmap is not shown */
		return read_name(m, rd, sb);
	case T_MX:
		return rdata_mx(m, rd, sb);
	case T_SRV:
		return rdata_srv(m, rd, sb);
	case T_SOA:
		return rdata_soa(m, rd, sb);
	case T_TXT:
		return rdata_txt(rd, sb);
	default:
		return 0;
	}
}

/* ---- Records and questions ----------------------------------------------- */

/* Where the next record goes: a free slot of answers[], or scratch space. */
static struct wl_dns_rr *record_slot(const struct dns_msg *m, struct wl_dns_rr *scratch)
{
	if (m->out && m->out->n_answers < WL_DNS_MAX_ANSWERS)
		return &m->out->answers[m->out->n_answers];
	return scratch;
}

/* The class field's top bit is a flag in mDNS (RFC 6762 10.2 and 5.4). */
static uint16_t record_class(const struct dns_msg *m, uint16_t type, uint16_t class)
{
	/* OPT's "class" is the UDP payload size, not a class. */
	if (!m->mdns || type == T_OPT)
		return class;
	return class & 0x7fff;
}

static int read_rdata(const struct dns_msg *m, struct cursor *c, struct wl_dns_rr *rr,
		      uint16_t rdlength)
{
	struct cursor rd = *c;
	struct wl_sb sb = wl_sb_make(rr->data, sizeof(rr->data));
	int r;

	if (cur_narrow(&rd, rdlength) < 0) {
		r = end_err(m, c);
		c->off = c->len;
		return r;
	}
	c->off += rdlength;
	r = decode_rdata(m, rr->type, &rd, &sb);
	if (r < 0) {
		rr->data[0] = '\0'; /* half-decoded data would mislead */
		/* The rdata was captured whole: running past it means rdlength is wrong. */
		return r == -EMSGSIZE ? -EBADMSG : r;
	}
	return 0;
}

struct dns_header {
	uint16_t id, flags;
	uint16_t qdcount, ancount, nscount, arcount;
};

/* ---- Detail tree --------------------------------------------------------- */

/* "name: type X, class Y": the record's or question's line. */
static void tree_entry_line(struct wl_dctx *d, const struct cursor *c, size_t start, size_t end,
			    const char *what, const char *name, uint16_t type, uint16_t class)
{
	struct wl_sb sb;

	if (!wl_tree_field(d, c, start, end - start, what, &sb))
		return;
	wl_sb_str(&sb, name); /* presentation form: already escaped */
	wl_sb_str(&sb, ": type ");
	sb_type(&sb, type);
	wl_sb_str(&sb, ", class ");
	if (class == 1)
		wl_sb_str(&sb, "IN");
	else
		wl_sb_u64(&sb, class);
}

static void tree_type(struct wl_dctx *d, const struct cursor *c, size_t at, uint16_t type)
{
	struct wl_sb sb;

	if (!wl_tree_field(d, c, at, 2, "Type", &sb))
		return;
	sb_type(&sb, type);
	wl_sb_str(&sb, " (");
	wl_sb_u64(&sb, type);
	wl_sb_char(&sb, ')');
}

static void tree_question(struct dns_msg *m, const struct cursor *c, size_t start,
			  size_t name_end, const char *name, uint16_t type, uint16_t class)
{
	struct wl_dctx *d = m->d;

	tree_entry_line(d, c, start, name_end + 4, "Query", name, type, class);
	wl_tree_push(d);
	wl_tree_text(d, c, start, name_end - start, "Name", name);
	tree_type(d, c, name_end, type);
	wl_tree_hex(d, c, name_end + 2, 2, "Class", class);
	wl_tree_pop(d);
}

static void tree_record(struct dns_msg *m, const struct cursor *c, size_t start,
			size_t name_end, const struct wl_dns_rr *rr, uint16_t class,
			uint16_t rdlength)
{
	static const char *const sections[] = { "Answer", "Authority", "Additional" };
	struct wl_dctx *d = m->d;
	size_t rdata = name_end + 10;

	tree_entry_line(d, c, start, rdata + rdlength, sections[rr->section], rr->name, rr->type,
			rr->class);
	wl_tree_push(d);
	wl_tree_text(d, c, start, name_end - start, "Name", rr->name);
	tree_type(d, c, name_end, rr->type);
	wl_tree_hex(d, c, name_end + 2, 2, "Class", class);
	wl_tree_uint(d, c, name_end + 4, 4, "Time to live", rr->ttl);
	wl_tree_uint(d, c, name_end + 8, 2, "Data length", rdlength);
	if (rr->data[0])
		wl_tree_text(d, c, rdata, rdlength, "Data", rr->data);
	else if (rdlength)
		wl_tree_bytes(d, c, rdata, rdlength, "Data");
	wl_tree_pop(d);
}

static void tree_header(struct wl_dctx *d, const struct cursor *c, const struct dns_header *h)
{
	uint8_t opcode = (uint8_t)(h->flags >> 11 & 0xf), rcode = (uint8_t)(h->flags & 0xf);

	wl_tree_hex(d, c, 0, 2, "Transaction ID", h->id);
	wl_tree_hex(d, c, 2, 2, "Flags", h->flags);
	wl_tree_push(d);
	wl_tree_text(d, c, 2, 1, "Response", h->flags & 0x8000 ? "Message is a response"
								: "Message is a query");
	wl_tree_named(d, c, 2, 1, "Opcode", opcode, opcode_names[opcode]);
	wl_tree_pop(d);
	wl_tree_flag(d, c, 2, 1, "Authoritative", h->flags, 0x0400);
	wl_tree_flag(d, c, 2, 1, "Truncated", h->flags, 0x0200);
	wl_tree_flag(d, c, 2, 1, "Recursion desired", h->flags, 0x0100);
	wl_tree_flag(d, c, 3, 1, "Recursion available", h->flags, 0x0080);
	wl_tree_push(d);
	wl_tree_named(d, c, 3, 1, "Reply code", rcode, rcode ? rcode_names[rcode] : "No error");
	wl_tree_pop(d);
	wl_tree_uint(d, c, 4, 2, "Questions", h->qdcount);
	wl_tree_uint(d, c, 6, 2, "Answer RRs", h->ancount);
	wl_tree_uint(d, c, 8, 2, "Authority RRs", h->nscount);
	wl_tree_uint(d, c, 10, 2, "Additional RRs", h->arcount);
}

/*
 * One resource record. It is counted (and kept, while answers[] has room) as
 * soon as its fixed fields are read, so a record whose rdata was cut off
 * still shows its owner, type and TTL.
 */
static int read_record(struct dns_msg *m, struct cursor *c, uint8_t section)
{
	struct wl_dns_rr scratch;
	struct wl_dns_rr *rr = record_slot(m, &scratch);
	struct wl_sb name = wl_sb_make(rr->name, sizeof(rr->name));
	size_t start = c->off;
	uint16_t class, rdlength;
	int r;

	r = read_name(m, c, &name);
	if (r < 0)
		return r;
	size_t name_end = c->off;
	if (cur_be16(c, &rr->type) < 0 || cur_be16(c, &class) < 0 ||
	    cur_be32(c, &rr->ttl) < 0 || cur_be16(c, &rdlength) < 0)
		return end_err(m, c);
	rr->section = section;
	rr->class = record_class(m, rr->type, class);
	rr->data[0] = '\0';
	if (m->out) {
		if (rr != &scratch)
			m->out->n_answers++;
		if (m->out->answers_total < UINT16_MAX)
			m->out->answers_total++;
	}
	r = read_rdata(m, c, rr, rdlength);
	if (m->out)
		info_record(&m->info, rr, m->mdns && rr->type != T_OPT && (class & 0x8000));
	if (m->d->tree)
		tree_record(m, c, start, name_end, rr, class, rdlength);
	return r;
}

/* One question; the first one of the message is kept in pkt->dns. */
static int read_question(struct dns_msg *m, struct cursor *c, bool first)
{
	char scratch[WL_NAME_MAX];
	bool keep = first && m->out;
	struct wl_sb name = keep ? wl_sb_make(m->out->qname, sizeof(m->out->qname))
				 : wl_sb_make(scratch, sizeof(scratch));
	size_t start = c->off;
	uint16_t type, class;
	int r;

	r = read_name(m, c, &name);
	if (r < 0)
		return r;
	size_t name_end = c->off;
	if (cur_be16(c, &type) < 0 || cur_be16(c, &class) < 0)
		return end_err(m, c);
	if (m->d->tree)
		tree_question(m, c, start, name_end, name.buf, type, class);
	if (keep) {
		m->out->qtype = type;
		m->out->has_question = true;
	}
	if (m->out) {
		wl_sb_char(&m->info, ' ');
		sb_type(&m->info, type);
		wl_sb_char(&m->info, ' ');
		wl_sb_str(&m->info, name.buf);
		/* The top bit asks for a unicast answer (RFC 6762 5.4). */
		if (m->mdns)
			wl_sb_str(&m->info, class & 0x8000 ? ", \"QU\" question"
							   : ", \"QM\" question");
	}
	return 0;
}

/* ---- Messages ------------------------------------------------------------ */

static int read_header(const struct dns_msg *m, struct cursor *c, struct dns_header *h)
{
	if (cur_be16(c, &h->id) < 0 || cur_be16(c, &h->flags) < 0 ||
	    cur_be16(c, &h->qdcount) < 0 || cur_be16(c, &h->ancount) < 0 ||
	    cur_be16(c, &h->nscount) < 0 || cur_be16(c, &h->arcount) < 0)
		return end_err(m, c);
	return 0;
}

/* pkt->dns is not cleared by wl_dissect(): set every field here. */
static void fill_header(struct wl_dns *dns, const struct dns_header *h)
{
	dns->id = h->id;
	dns->flags = h->flags;
	dns->response = h->flags >> 15;
	dns->opcode = (uint8_t)(h->flags >> 11 & 0xf);
	dns->rcode = (uint8_t)(h->flags & 0xf);
	dns->qdcount = h->qdcount;
	dns->ancount = h->ancount;
	dns->nscount = h->nscount;
	dns->arcount = h->arcount;
	dns->has_question = false;
	dns->qtype = 0;
	dns->qname[0] = '\0';
	dns->n_answers = 0;
	dns->answers_total = 0;
}

/* The first DNS message of the frame wins pkt->dns and the Info column. */
static void claim_packet(struct dns_msg *m, const struct dns_header *h)
{
	struct wl_packet *pkt = m->d->pkt;

	if (pkt->has & WL_PKT_DNS)
		return;
	m->out = &pkt->dns;
	fill_header(m->out, h);
	pkt->has |= WL_PKT_DNS;
	m->info = wl_info(m->d);
	info_header(&m->info, m->out);
}

static int read_records(struct dns_msg *m, struct cursor *c, uint16_t count, uint8_t section)
{
	for (unsigned i = 0; i < count; i++) {
		int r = read_record(m, c, section);

		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Decodes the message in msg (offset 0 is its first byte, which compression
 * pointers count from). cut says the message goes on past the bytes we have.
 */
static int decode_message(struct wl_dctx *d, struct cursor msg, bool cut, bool mdns)
{
	struct dns_msg m = {
		.d = d, .msg = msg, .cut = cut, .mdns = mdns,
		.walk_limit = d->dns_walked + DNS_WALK_PER_BYTE * msg.len + DNS_NAME_WALK_MAX,
	};
	struct cursor c = msg;
	struct dns_header h;
	int r;

	r = read_header(&m, &c, &h);
	if (r < 0)
		return r;
	if (d->tree)
		tree_header(d, &c, &h);
	claim_packet(&m, &h);
	for (unsigned i = 0; i < h.qdcount; i++) {
		r = read_question(&m, &c, i == 0);
		if (r < 0)
			return r;
	}
	r = read_records(&m, &c, h.ancount, WL_DNS_AN);
	if (r == 0)
		r = read_records(&m, &c, h.nscount, WL_DNS_NS);
	if (r == 0)
		r = read_records(&m, &c, h.arcount, WL_DNS_AR);
	return r;
}

/*
 * True when the capture, not the datagram, ends where c ends: then running
 * off c is truncation. Needs pkt->len and pkt->caplen, which the caller of
 * wl_dissect() fills.
 */
static bool capture_ends_with(const struct wl_dctx *d, const struct cursor *c)
{
	const struct wl_packet *pkt = d->pkt;

	return pkt->caplen < pkt->len && c->p + c->len == d->frame + pkt->caplen;
}

/* One message per datagram (RFC 1035 4.2.1). */
static int decode_udp(struct wl_dctx *d, enum wl_proto proto, bool mdns, struct cursor *c)
{
	struct cursor msg = cur_rest(c);

	/* An empty datagram holds no message; tshark leaves it at UDP too. */
	if (cur_left(&msg) == 0)
		return 0;
	wl_enter(d, proto, c);
	if (d->tree)
		wl_tree_layer(d, proto, proto == WL_P_DNS ? "Domain Name System" : wl_proto_name(proto), c);
	return wl_fail(d, decode_message(d, msg, capture_ends_with(d, &msg), mdns));
}

int wl_decode_dns(struct wl_dctx *d, struct cursor *c)
{
	return decode_udp(d, WL_P_DNS, false, c);
}

int wl_decode_mdns(struct wl_dctx *d, struct cursor *c)
{
	return decode_udp(d, WL_P_MDNS, true, c);
}

int wl_decode_llmnr(struct wl_dctx *d, struct cursor *c)
{
	return decode_udp(d, WL_P_LLMNR, false, c);
}

/*
 * DNS over TCP: each message follows its 2-byte length. With no reassembly,
 * a segment may hold several messages, or only the start of one: a message
 * longer than what the segment holds is decoded as far as it goes and
 * reported truncated.
 */
int wl_decode_dns_tcp(struct wl_dctx *d, struct cursor *c)
{
	struct cursor seg = cur_rest(c);

	if (cur_left(&seg) == 0)
		return 0; /* a bare ACK carries no DNS */
	wl_enter(d, WL_P_DNS, c);
	if (d->tree)
		wl_tree_layer(d, WL_P_DNS, "Domain Name System", c);
	while (cur_left(&seg) > 0) {
		struct cursor msg;
		uint16_t len;
		bool cut;
		int r;

		if (cur_be16(&seg, &len) < 0)
			return wl_fail(d, -EMSGSIZE); /* the length goes on in the next segment */
		if (d->tree)
			wl_tree_uint(d, &seg, seg.off - 2, 2, "Length", len);
		msg = cur_rest(&seg);
		cut = cur_narrow(&msg, len) < 0;
		seg.off += cur_left(&msg);
		r = decode_message(d, msg, cut, false);
		if (r < 0)
			return wl_fail(d, r);
	}
	return 0;
}

/*
 * Recognises DNS on a UDP port that no table names, the way Wireshark's
 * heuristic does: a standard-query opcode, plausible section counts (a query
 * asks exactly one question), and enough bytes for what the counts promise.
 */
bool wl_looks_like_dns(const struct cursor *c)
{
	enum { MAX_RECORDS = 128, MIN_QUESTION = 6, MIN_RECORD = 11 };
	struct cursor h = cur_rest(c);
	uint16_t id, flags, qd, an, ns, ar;

	if (cur_left(&h) <= DNS_HDR_LEN)
		return false;
	if (cur_be16(&h, &id) < 0 || cur_be16(&h, &flags) < 0 || cur_be16(&h, &qd) < 0 ||
	    cur_be16(&h, &an) < 0 || cur_be16(&h, &ns) < 0 || cur_be16(&h, &ar) < 0)
		return false;
	if (flags & 0x7800) /* opcode */
		return false;
	if (!(flags & 0x8000) ? qd != 1 || an != 0 || ns != 0 : qd > 1 || an > MAX_RECORDS || ns > MAX_RECORDS)
		return false;
	if (ar > MAX_RECORDS || qd + an == 0)
		return false;
	return (size_t)qd * MIN_QUESTION + ((size_t)an + ns + ar) * MIN_RECORD <= cur_left(&h);
}
