/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for proto/dns.c: DNS, mDNS, LLMNR and DNS over TCP, on hand-built bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dissect.h"

/* ---- Building messages ---------------------------------------------------- */

struct msg {
	uint8_t b[65536]; /* a DNS-over-TCP segment of the largest IPv4 packet fits */
	size_t n;
};

static void put_u8(struct msg *m, uint8_t v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = v;
}

static void put_u16(struct msg *m, uint16_t v)
{
	put_u8(m, (uint8_t)(v >> 8));
	put_u8(m, (uint8_t)v);
}

static void put_u32(struct msg *m, uint32_t v)
{
	put_u16(m, (uint16_t)(v >> 16));
	put_u16(m, (uint16_t)v);
}

static void put_mem(struct msg *m, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_u8(m, ((const uint8_t *)p)[i]);
}

/* "www.example.com" as uncompressed labels, root included; "" is the root. */
static void put_name(struct msg *m, const char *dotted)
{
	while (*dotted) {
		size_t n = strcspn(dotted, ".");

		put_u8(m, (uint8_t)n);
		put_mem(m, dotted, n);
		dotted += n;
		if (*dotted == '.')
			dotted++;
	}
	put_u8(m, 0);
}

static void put_ptr(struct msg *m, uint16_t off)
{
	put_u16(m, (uint16_t)(0xc000 | off));
}

static void put_header(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		       uint16_t ns, uint16_t ar)
{
	m->n = 0;
	put_u16(m, id);
	put_u16(m, flags);
	put_u16(m, qd);
	put_u16(m, an);
	put_u16(m, ns);
	put_u16(m, ar);
}

/* The fixed part of a record after its owner name. */
static void put_rr_fixed(struct msg *m, uint16_t type, uint16_t class, uint32_t ttl,
			 uint16_t rdlength)
{
	put_u16(m, type);
	put_u16(m, class);
	put_u32(m, ttl);
	put_u16(m, rdlength);
}

enum { QNAME_OFF = 12 }; /* the first question's name starts right after the header */

/* Header plus one question, "www.example.com" (example.com sits at offset 16). */
static void put_query(struct msg *m, uint16_t flags, uint16_t an, uint16_t type)
{
	put_header(m, 0x1a2b, flags, 1, an, 0, 0);
	put_name(m, "www.example.com");
	put_u16(m, type);
	put_u16(m, 1);
}

/* ---- Running the decoder -------------------------------------------------- */

/*
 * Decodes bytes[0..caplen) of a datagram that was wire_len bytes long: when
 * caplen < wire_len the capture itself was cut short. pkt->dns is filled
 * with junk first because wl_dissect() does not clear it.
 */
static int run(wl_decoder fn, struct wl_packet *pkt, const uint8_t *bytes, size_t caplen,
	       size_t wire_len)
{
	struct wl_dctx d = { .pkt = pkt, .frame = bytes };
	struct cursor c = cur_make(bytes, caplen);

	memset(pkt, 0, offsetof(struct wl_packet, info));
	memset(&pkt->dns, 0xa5, sizeof(pkt->dns));
	pkt->info[0] = '\0';
	pkt->len = (uint32_t)wire_len;
	pkt->caplen = (uint32_t)caplen;
	return fn(&d, &c);
}

static int run_msg(wl_decoder fn, struct wl_packet *pkt, const struct msg *m)
{
	return run(fn, pkt, m->b, m->n, m->n);
}

/* run_msg, and how many bytes of names the decoder walked (d.dns_walked). */
static int run_walked(wl_decoder fn, struct wl_packet *pkt, const struct msg *m, size_t *walked)
{
	struct wl_dctx d = { .pkt = pkt, .frame = m->b };
	struct cursor c = cur_make(m->b, m->n);
	int r;

	memset(pkt, 0, offsetof(struct wl_packet, info));
	pkt->info[0] = '\0';
	pkt->len = pkt->caplen = (uint32_t)m->n;
	r = fn(&d, &c);
	*walked = d.dns_walked;
	return r;
}

/* DNS over TCP: the message behind its 2-byte length. */
static void to_tcp(struct msg *tcp, const struct msg *m, uint16_t declared)
{
	tcp->n = 0;
	put_u16(tcp, declared);
	put_mem(tcp, m->b, m->n);
}

/* struct wl_packet is large: one per test, off the stack. */
static int setup(void **state)
{
	*state = test_calloc(1, sizeof(struct wl_packet));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

/* ---- Queries and responses ------------------------------------------------ */

static void test_query(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_query(&m, 0x0100, 0, 1);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_int_equal(pkt->malformed, WL_OK);
	assert_int_equal(pkt->proto, WL_P_DNS);
	assert_true(pkt->has & WL_PKT_DNS);
	assert_int_equal(pkt->dns.id, 0x1a2b);
	assert_int_equal(pkt->dns.flags, 0x0100);
	assert_false(pkt->dns.response);
	assert_int_equal(pkt->dns.opcode, 0);
	assert_int_equal(pkt->dns.rcode, 0);
	assert_int_equal(pkt->dns.qdcount, 1);
	assert_int_equal(pkt->dns.ancount, 0);
	assert_int_equal(pkt->dns.nscount, 0);
	assert_int_equal(pkt->dns.arcount, 0);
	assert_true(pkt->dns.has_question);
	assert_string_equal(pkt->dns.qname, "www.example.com");
	assert_int_equal(pkt->dns.qtype, 1);
	assert_int_equal(pkt->dns.n_answers, 0);
	assert_int_equal(pkt->dns.answers_total, 0);
	assert_string_equal(pkt->info, "Standard query 0x1a2b A www.example.com");
}

static const uint8_t example_v6[16] = { 0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01,
					0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46 };

/* www.example.com: CNAME, A, AAAA, MX; every owner is a pointer to the question. */
static void build_response(struct msg *m)
{
	put_query(m, 0x8180, 4, 1);
	put_ptr(m, QNAME_OFF);
	put_rr_fixed(m, 5, 1, 300, 6);
	put_u8(m, 3);
	put_mem(m, "foo", 3);
	put_ptr(m, 16); /* example.com */
	put_ptr(m, QNAME_OFF);
	put_rr_fixed(m, 1, 1, 60, 4);
	put_mem(m, "\x5d\xb8\xd8\x22", 4);
	put_ptr(m, QNAME_OFF);
	put_rr_fixed(m, 28, 1, 60, 16);
	put_mem(m, example_v6, 16);
	put_ptr(m, QNAME_OFF);
	put_rr_fixed(m, 15, 1, 3600, 9);
	put_u16(m, 10);
	put_u8(m, 4);
	put_mem(m, "mail", 4);
	put_ptr(m, 16);
}

static void assert_rr(const struct wl_dns_rr *rr, uint16_t type, uint32_t ttl, const char *data)
{
	assert_int_equal(rr->section, WL_DNS_AN);
	assert_int_equal(rr->type, type);
	assert_int_equal(rr->class, 1);
	assert_int_equal(rr->ttl, ttl);
	assert_string_equal(rr->name, "www.example.com");
	assert_string_equal(rr->data, data);
}

static void test_response(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	build_response(&m);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_int_equal(pkt->malformed, WL_OK);
	assert_true(pkt->dns.response);
	assert_int_equal(pkt->dns.ancount, 4);
	assert_int_equal(pkt->dns.n_answers, 4);
	assert_int_equal(pkt->dns.answers_total, 4);
	assert_rr(&pkt->dns.answers[0], 5, 300, "foo.example.com");
	assert_rr(&pkt->dns.answers[1], 1, 60, "93.184.216.34");
	assert_rr(&pkt->dns.answers[2], 28, 60, "2606:2800:220:1:248:1893:25c8:1946");
	assert_rr(&pkt->dns.answers[3], 15, 3600, "10 mail.example.com");
	assert_string_equal(pkt->info, "Standard query response 0x1a2b A www.example.com"
				       " CNAME foo.example.com A 93.184.216.34"
				       " AAAA 2606:2800:220:1:248:1893:25c8:1946"
				       " MX 10 mail.example.com");
}

static void test_soa_srv_txt_and_sections(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_header(&m, 0x0001, 0x8183, 1, 1, 1, 1); /* rcode 3 */
	put_name(&m, "_x._tcp.example.com");
	put_u16(&m, 33);
	put_u16(&m, 1);
	/* answer: SRV 1 2 443 example.com, target by pointer to offset 20 */
	put_ptr(&m, QNAME_OFF);
	put_rr_fixed(&m, 33, 1, 5, 8);
	put_u16(&m, 1);
	put_u16(&m, 2);
	put_u16(&m, 443);
	put_ptr(&m, 20);
	/* authority: SOA */
	put_ptr(&m, 20);
	put_rr_fixed(&m, 6, 1, 5, 4 + 20);
	put_ptr(&m, 20);
	put_ptr(&m, 20);
	put_u32(&m, 2024010101);
	put_u32(&m, 7200);
	put_u32(&m, 3600);
	put_u32(&m, 1209600);
	put_u32(&m, 300);
	/* additional: TXT with a quote, a space and a DEL inside */
	put_ptr(&m, 20);
	put_rr_fixed(&m, 16, 1, 5, 7 + 1);
	put_mem(&m, "\x05hi \"\x7f\x00", 7);
	put_u8(&m, 0); /* an empty second string */
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_int_equal(pkt->dns.rcode, 3);
	assert_int_equal(pkt->dns.n_answers, 3);
	assert_int_equal(pkt->dns.answers[0].section, WL_DNS_AN);
	assert_string_equal(pkt->dns.answers[0].data, "1 2 443 example.com");
	assert_int_equal(pkt->dns.answers[1].section, WL_DNS_NS);
	assert_string_equal(pkt->dns.answers[1].name, "example.com");
	assert_string_equal(pkt->dns.answers[1].data,
			    "example.com example.com 2024010101 7200 3600 1209600 300");
	assert_int_equal(pkt->dns.answers[2].section, WL_DNS_AR);
	assert_string_equal(pkt->dns.answers[2].data, "\"hi \\\"\\127\" \"\" \"\"");
	assert_string_equal(pkt->info, "Standard query response 0x0001 No such name"
				       " SRV _x._tcp.example.com SRV 1 2 443 example.com"
				       " SOA example.com TXT");
}

/* ---- Compression pointers ------------------------------------------------- */

/* A query whose name is only a pointer to off. */
static void build_pointer_query(struct msg *m, uint16_t off)
{
	put_header(m, 0x0002, 0x0100, 1, 0, 0, 0);
	put_ptr(m, off);
	put_u16(m, 1);
	put_u16(m, 1);
}

static void assert_invalid_question(struct wl_packet *pkt, int rc)
{
	assert_int_equal(rc, -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
	assert_true(pkt->has & WL_PKT_DNS); /* the header was read */
	assert_false(pkt->dns.has_question);
	assert_string_equal(pkt->info, "Standard query 0x0002");
}

static void test_pointer_forward(void **state)
{
	struct msg m;

	build_pointer_query(&m, 14); /* just past the pointer itself */
	assert_invalid_question(*state, run_msg(wl_decode_dns, *state, &m));
}

static void test_pointer_to_itself(void **state)
{
	struct msg m;

	build_pointer_query(&m, QNAME_OFF);
	assert_invalid_question(*state, run_msg(wl_decode_dns, *state, &m));
}

static void test_pointer_into_header(void **state)
{
	struct msg m;

	build_pointer_query(&m, 4);
	assert_invalid_question(*state, run_msg(wl_decode_dns, *state, &m));
}

/*
 * A loop 27 -> 23 -> 27: the first record's rdata (not decoded, type NULL)
 * holds "a" and a pointer to the second record's owner, which points back
 * to it. The backward jump is fine; the jump forward again is refused.
 */
static void test_pointer_loop(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_header(&m, 0x0003, 0x8100, 0, 2, 0, 0);
	put_name(&m, "");
	put_rr_fixed(&m, 10, 1, 0, 4);
	assert_int_equal(m.n, 23);
	put_u8(&m, 1);
	put_u8(&m, 'a');
	put_ptr(&m, 27);
	assert_int_equal(m.n, 27);
	put_ptr(&m, 23);
	put_rr_fixed(&m, 1, 1, 0, 4);
	put_u32(&m, 0);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
	assert_int_equal(pkt->dns.n_answers, 1);
	assert_string_equal(pkt->dns.answers[0].name, "<Root>");
}

/* A pointer that lands on a pointer that jumps further back is fine. */
static void test_pointer_chain(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_query(&m, 0x8180, 2, 1);
	put_u8(&m, 1);
	put_u8(&m, 'b');
	put_ptr(&m, 16); /* b.example.com, at 33 */
	put_rr_fixed(&m, 1, 1, 0, 4);
	put_u32(&m, 0x01020304);
	put_ptr(&m, 33);
	put_rr_fixed(&m, 1, 1, 0, 4);
	put_u32(&m, 0x05060708);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_string_equal(pkt->dns.answers[0].name, "b.example.com");
	assert_string_equal(pkt->dns.answers[1].name, "b.example.com");
	assert_string_equal(pkt->dns.answers[1].data, "5.6.7.8");
}

/* ---- Names ---------------------------------------------------------------- */

static void test_root_name(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_header(&m, 0x0004, 0x0000, 1, 0, 0, 0);
	put_name(&m, "");
	put_u16(&m, 2);
	put_u16(&m, 1);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_string_equal(pkt->dns.qname, "<Root>");
	assert_string_equal(pkt->info, "Standard query 0x0004 NS <Root>");
}

/* A query for a name of labels of the given lengths, filled with fill. */
static void build_long_query(struct msg *m, const uint8_t *lens, size_t n, uint8_t fill)
{
	put_header(m, 0x0005, 0x0100, 1, 0, 0, 0);
	for (size_t i = 0; i < n; i++) {
		put_u8(m, lens[i]);
		for (size_t j = 0; j < lens[i]; j++)
			put_u8(m, fill);
	}
	put_u8(m, 0);
	put_u16(m, 1);
	put_u16(m, 1);
}

static void test_name_255_bytes(void **state)
{
	struct wl_packet *pkt = *state;
	static const uint8_t lens[] = { 63, 63, 63, 61 }; /* 4 * 1 + 250 + 1 = 255 */
	struct msg m;

	build_long_query(&m, lens, 4, 'x');
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_int_equal(strlen(pkt->dns.qname), 63 * 3 + 61 + 3);
}

static void test_name_over_255_bytes(void **state)
{
	struct wl_packet *pkt = *state;
	static const uint8_t lens[] = { 63, 63, 63, 62 };
	struct msg m;

	build_long_query(&m, lens, 4, 'x');
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
	assert_false(pkt->dns.has_question);
}

/* Escaped text longer than WL_NAME_MAX is cut at the buffer's end. */
static void test_name_text_cut(void **state)
{
	struct wl_packet *pkt = *state;
	static const uint8_t lens[] = { 63, 63, 63 };
	struct msg m;

	build_long_query(&m, lens, 3, 0x01);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_true(pkt->dns.has_question);
	assert_int_equal(strlen(pkt->dns.qname), WL_NAME_MAX - 1);
	assert_memory_equal(pkt->dns.qname, "\\001\\001", 8);
}

static void test_reserved_label_types(void **state)
{
	static const uint8_t types[] = { 0x40, 0x80 };

	for (size_t i = 0; i < 2; i++) {
		struct wl_packet *pkt = *state;
		struct msg m;

		put_header(&m, 0x0006, 0x0100, 1, 0, 0, 0);
		put_u8(&m, types[i] | 1);
		put_u8(&m, 'a');
		put_u8(&m, 0);
		put_u16(&m, 1);
		put_u16(&m, 1);
		assert_int_equal(run_msg(wl_decode_dns, pkt, &m), -EBADMSG);
		assert_int_equal(pkt->malformed, WL_INVALID);
	}
}

static void test_escaping(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_header(&m, 0x0007, 0x0100, 1, 0, 0, 0);
	put_u8(&m, 7);
	put_mem(&m, "a\x01.\\ \xffz", 7);
	put_name(&m, "com");
	put_u16(&m, 1);
	put_u16(&m, 1);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_string_equal(pkt->dns.qname, "a\\001\\.\\\\\\032\\255z.com");
}

/* ---- Truncated versus invalid --------------------------------------------- */

static void test_zero_length(void **state)
{
	struct wl_packet *pkt = *state;
	static const uint8_t none[1];

	/* An empty datagram is no DNS message at all, as tshark sees it. */
	assert_int_equal(run(wl_decode_dns, pkt, none, 0, 0), 0);
	assert_int_equal(pkt->malformed, WL_OK);
	assert_false(pkt->has & WL_PKT_DNS);
	assert_int_equal(pkt->proto, WL_P_UNKNOWN);
}

static void test_cut_in_header(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_query(&m, 0x0100, 0, 1);
	assert_int_equal(run(wl_decode_dns, pkt, m.b, 7, m.n), -EMSGSIZE);
	assert_int_equal(pkt->malformed, WL_TRUNCATED);
	assert_false(pkt->has & WL_PKT_DNS);
	assert_int_equal(pkt->proto, WL_P_DNS);

	/* The same 7 bytes as a whole datagram: too short to be DNS. */
	assert_int_equal(run(wl_decode_dns, pkt, m.b, 7, 7), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
}

static void test_cut_in_question(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_query(&m, 0x0100, 0, 1);
	assert_int_equal(run(wl_decode_dns, pkt, m.b, 20, m.n), -EMSGSIZE);
	assert_int_equal(pkt->malformed, WL_TRUNCATED);
	assert_true(pkt->has & WL_PKT_DNS);
	assert_int_equal(pkt->dns.id, 0x1a2b);
	assert_false(pkt->dns.has_question);
	assert_int_equal(pkt->dns.n_answers, 0);
	assert_string_equal(pkt->info, "Standard query 0x1a2b");

	/* Cut after the name, inside the type: the name was read, the question was not. */
	assert_int_equal(run(wl_decode_dns, pkt, m.b, 30, m.n), -EMSGSIZE);
	assert_false(pkt->dns.has_question);
}

/* The AAAA record's rdata ends early: what came before it stays. */
static void test_cut_in_rdata(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;
	size_t cut;

	build_response(&m);
	cut = m.n - (2 + 10 + 9) - 8; /* half of the AAAA address */
	assert_int_equal(run(wl_decode_dns, pkt, m.b, cut, m.n), -EMSGSIZE);
	assert_int_equal(pkt->malformed, WL_TRUNCATED);
	assert_true(pkt->dns.has_question);
	assert_string_equal(pkt->dns.qname, "www.example.com");
	assert_int_equal(pkt->dns.n_answers, 3);
	assert_int_equal(pkt->dns.answers_total, 3);
	assert_string_equal(pkt->dns.answers[1].data, "93.184.216.34");
	assert_int_equal(pkt->dns.answers[2].type, 28);
	assert_string_equal(pkt->dns.answers[2].data, "");
	assert_string_equal(pkt->info, "Standard query response 0x1a2b A www.example.com"
				       " CNAME foo.example.com A 93.184.216.34 AAAA");

	/* The same bytes as a whole datagram: rdlength runs past the message. */
	assert_int_equal(run(wl_decode_dns, pkt, m.b, cut, cut), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
	assert_int_equal(pkt->dns.n_answers, 3);
}

/* A name inside rdata may not run past rdlength, even when the bytes are there. */
static void test_name_past_rdlength(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_query(&m, 0x8180, 1, 5);
	put_ptr(&m, QNAME_OFF);
	put_rr_fixed(&m, 5, 1, 0, 2);
	put_name(&m, "abc");
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), -EBADMSG);
	assert_int_equal(pkt->dns.n_answers, 1);
	assert_string_equal(pkt->dns.answers[0].data, "");
}

static void test_bad_address_length(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_query(&m, 0x8180, 1, 1);
	put_ptr(&m, QNAME_OFF);
	put_rr_fixed(&m, 1, 1, 0, 5);
	put_mem(&m, "\x01\x02\x03\x04\x05", 5);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
}

/* ---- Limits and the frame ------------------------------------------------- */

static void test_more_records_than_kept(void **state)
{
	struct wl_packet *pkt = *state;
	enum { N = WL_DNS_MAX_ANSWERS + 8 };
	struct msg m;

	put_query(&m, 0x8180, N, 1);
	for (uint32_t i = 0; i < N; i++) {
		put_ptr(&m, QNAME_OFF);
		put_rr_fixed(&m, 1, 1, i, 4);
		put_u32(&m, 0x0a000000 + i);
	}
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_int_equal(pkt->dns.n_answers, WL_DNS_MAX_ANSWERS);
	assert_int_equal(pkt->dns.answers_total, N);
	assert_string_equal(pkt->dns.answers[WL_DNS_MAX_ANSWERS - 1].data, "10.0.0.31");
	assert_int_equal(strlen(pkt->info), WL_INFO_MAX - 1);
}

static void test_first_message_wins(void **state)
{
	struct wl_packet *pkt = *state;
	struct wl_dctx d = { .pkt = pkt };
	struct msg a, b;
	struct cursor c;

	put_query(&a, 0x0100, 0, 1);
	put_query(&b, 0x0100, 0, 28);
	b.b[0] = 0x99;
	assert_int_equal(run_msg(wl_decode_dns, pkt, &a), 0);
	d.frame = b.b;
	c = cur_make(b.b, b.n);
	pkt->len = pkt->caplen = (uint32_t)b.n;
	assert_int_equal(wl_decode_dns(&d, &c), 0);
	assert_int_equal(pkt->dns.id, 0x1a2b);
	assert_int_equal(pkt->dns.qtype, 1);
	assert_string_equal(pkt->info, "Standard query 0x1a2b A www.example.com");
}

/* ---- mDNS and LLMNR ------------------------------------------------------- */

static void test_mdns_class_bits(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_header(&m, 0, 0x8400, 1, 1, 0, 0);
	put_name(&m, "host.local");
	put_u16(&m, 1);
	put_u16(&m, 0x8001); /* unicast response wanted */
	put_ptr(&m, QNAME_OFF);
	put_rr_fixed(&m, 1, 0x8001, 120, 4); /* cache flush */
	put_u32(&m, 0xc0a80102);
	assert_int_equal(run_msg(wl_decode_mdns, pkt, &m), 0);
	assert_int_equal(pkt->proto, WL_P_MDNS);
	assert_int_equal(pkt->dns.answers[0].class, 1);
	assert_string_equal(pkt->info, "Standard query response 0x0000 A host.local, \"QU\" question"
				       " A, cache flush 192.168.1.2");

	/* Plain DNS keeps the class as it is. */
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_int_equal(pkt->dns.answers[0].class, 0x8001);
}

static void test_llmnr(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_header(&m, 0x4620, 0, 1, 0, 0, 0);
	put_name(&m, "printer");
	put_u16(&m, 1);
	put_u16(&m, 1);
	assert_int_equal(run_msg(wl_decode_llmnr, pkt, &m), 0);
	assert_int_equal(pkt->proto, WL_P_LLMNR);
	assert_string_equal(pkt->info, "Standard query 0x4620 A printer");
}

/* ---- DNS over TCP ---------------------------------------------------------- */

static void test_tcp(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m, tcp;

	build_response(&m);
	to_tcp(&tcp, &m, (uint16_t)m.n);
	assert_int_equal(run_msg(wl_decode_dns_tcp, pkt, &tcp), 0);
	assert_int_equal(pkt->proto, WL_P_DNS);
	assert_int_equal(pkt->dns.n_answers, 4);
	assert_string_equal(pkt->dns.answers[3].data, "10 mail.example.com");
}

/* The segment holds only the start of the message: decoded as far as it goes. */
static void test_tcp_cut_segment(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m, tcp;

	build_response(&m);
	to_tcp(&tcp, &m, (uint16_t)m.n);
	/* The segment ends inside the AAAA record; the rest comes in the next one. */
	tcp.n -= 2 + 10 + 9 + 8;
	assert_int_equal(run_msg(wl_decode_dns_tcp, pkt, &tcp), -EMSGSIZE);
	assert_int_equal(pkt->malformed, WL_TRUNCATED);
	assert_int_equal(pkt->dns.n_answers, 3);
	assert_string_equal(pkt->dns.answers[1].data, "93.184.216.34");

	/* A declared length past the segment, but every record is there: complete. */
	to_tcp(&tcp, &m, (uint16_t)(m.n + 100));
	assert_int_equal(run_msg(wl_decode_dns_tcp, pkt, &tcp), 0);
	assert_int_equal(pkt->dns.n_answers, 4);

	/* Only the length prefix's first byte. */
	assert_int_equal(run(wl_decode_dns_tcp, pkt, tcp.b, 1, 1), -EMSGSIZE);
	assert_false(pkt->has & WL_PKT_DNS);

	/* A message shorter than its records say, all of it in the segment: invalid. */
	to_tcp(&tcp, &m, (uint16_t)(m.n - 3));
	assert_int_equal(run_msg(wl_decode_dns_tcp, pkt, &tcp), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
}

static void test_tcp_two_messages_and_empty(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg q, tcp;
	static const uint8_t zero_len[2] = { 0, 0 };

	put_query(&q, 0x0100, 0, 1);
	to_tcp(&tcp, &q, (uint16_t)q.n);
	put_u16(&tcp, (uint16_t)q.n);
	put_mem(&tcp, q.b, q.n);
	tcp.b[tcp.n - q.n] = 0x77; /* the second message's id */
	assert_int_equal(run_msg(wl_decode_dns_tcp, pkt, &tcp), 0);
	assert_int_equal(pkt->dns.id, 0x1a2b);

	/* A bare ACK carries nothing; a zero-length message is no message. */
	assert_int_equal(run(wl_decode_dns_tcp, pkt, zero_len, 0, 0), 0);
	assert_int_equal(pkt->proto, WL_P_UNKNOWN);
	assert_int_equal(run(wl_decode_dns_tcp, pkt, zero_len, 2, 2), -EBADMSG);
}

static void test_unknown_type_and_opcode(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg m;

	put_header(&m, 0x00ff, 0x7800 | 0x8000 | 0xc, 1, 0, 0, 0); /* opcode 15, rcode 12 */
	put_name(&m, "a");
	put_u16(&m, 4242);
	put_u16(&m, 1);
	assert_int_equal(run_msg(wl_decode_dns, pkt, &m), 0);
	assert_int_equal(pkt->dns.opcode, 15);
	assert_int_equal(pkt->dns.rcode, 12);
	assert_string_equal(pkt->info,
			    "Unknown operation (15) response 0x00ff Unknown error (12) Unknown (4242) a");
}

/* ---- Work bounds ----------------------------------------------------------- */

/* Most bytes one name may walk: 255 of labels, 2 for each pointer. */
#define NAME_WALK_MAX (255 + 2 * WL_DNS_NAME_MAX_HOPS)

/* A pointer reaches offsets below 16 KiB only. */
#define PTR_REACH 0x3fff

/*
 * A DNS-over-TCP segment as large as an IPv4 packet allows: a 64 KiB message
 * of 12-byte records of type NULL. Record 0 is owned by the root; each later
 * one, as long as a pointer reaches it, by a pointer to the record before:
 * the k-th name walks k pointers. The rest point at the last one reached.
 */
static void build_chain_segment(struct msg *tcp, struct msg *m)
{
	size_t prev = QNAME_OFF, limit = 65535 - 20 - 20 - 2;
	unsigned n = 1;

	put_header(m, 0xc4a1, 0x8180, 0, 0, 0, 0);
	put_name(m, "");
	put_rr_fixed(m, 10, 1, 0, 0);
	while (m->n + 12 <= limit) {
		size_t here = m->n;

		put_ptr(m, (uint16_t)prev);
		put_rr_fixed(m, 10, 1, 0, 0);
		if (here <= PTR_REACH)
			prev = here;
		n++;
	}
	m->b[6] = (uint8_t)(n >> 8), m->b[7] = (uint8_t)n; /* ancount */
	to_tcp(tcp, m, (uint16_t)m->n);
}

/*
 * Each name chains through every earlier one: unbounded, that walked about
 * 6.5 million pointers (1 + 2 + ... + 1364 in the first 16 KiB, then 1364 for
 * each of the 4,093 records past it). The decoder now stops at the first name
 * that would follow more than WL_DNS_NAME_MAX_HOPS pointers, says the
 * message is invalid, and has walked what the names before it did.
 */
static void test_chain_through_every_earlier_name(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg *m = test_malloc(sizeof(*m)), *tcp = test_malloc(sizeof(*tcp));
	size_t walked = 0;

	build_chain_segment(tcp, m);
	assert_true(m->n > 65000);
	assert_int_equal(run_walked(wl_decode_dns_tcp, pkt, tcp, &walked), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
	/* Records 0..127 decoded (the last one's name followed 127 pointers);
	 * record 128's name was refused at its 128th pointer. */
	assert_int_equal(pkt->dns.answers_total, WL_DNS_NAME_MAX_HOPS + 1);
	assert_string_equal(pkt->dns.answers[1].name, "<Root>");
	/* 2 bytes per pointer: 1 + 2 + ... + 127 pointers, then 127 more. */
	assert_int_equal(walked, 2 * (127 * 128 / 2 + 127));
	assert_true(walked <= (size_t)(WL_DNS_NAME_MAX_HOPS + 1) * NAME_WALK_MAX);
	test_free(m);
	test_free(tcp);
}

/*
 * Names within the per-name bounds, but many of them: record 1's rdata (not
 * decoded, type NULL) holds "a" and a pointer to the root, then 125 times
 * "a" and a pointer to the one before; every later record is owned by a
 * pointer to the far end, so each name has 126 labels and follows 127
 * pointers (506 bytes walked for a 12-byte record). The message's budget,
 * WL_DNS_WALK_PER_BYTE times its size plus one longest name, stops it.
 */
static void test_message_walk_budget(void **state)
{
	struct wl_packet *pkt = *state;
	struct msg *m = test_malloc(sizeof(*m)), *tcp = test_malloc(sizeof(*tcp));
	size_t end = QNAME_OFF, walked = 0, budget, limit = 65535 - 20 - 20 - 2;
	unsigned n = 2;

	put_header(m, 0xc4a2, 0x8180, 0, 0, 0, 0);
	put_name(m, "");
	put_rr_fixed(m, 10, 1, 0, 0);
	put_name(m, "");
	put_rr_fixed(m, 10, 1, 0, 126 * 4);
	for (int i = 0; i < 126; i++) {
		size_t here = m->n;

		put_u8(m, 1);
		put_u8(m, 'a');
		put_ptr(m, (uint16_t)end);
		end = here;
	}
	while (m->n + 12 <= limit) {
		put_ptr(m, (uint16_t)end);
		put_rr_fixed(m, 10, 1, 0, 0);
		n++;
	}
	m->b[6] = (uint8_t)(n >> 8), m->b[7] = (uint8_t)n;
	to_tcp(tcp, m, (uint16_t)m->n);
	budget = WL_DNS_WALK_PER_BYTE * m->n + NAME_WALK_MAX;

	assert_int_equal(run_walked(wl_decode_dns_tcp, pkt, tcp, &walked), -EBADMSG);
	assert_int_equal(pkt->malformed, WL_INVALID);
	/* Whole names up to the budget: it, not a name, stopped the message. */
	assert_true(walked <= budget);
	assert_true(walked > budget - 506);
	assert_int_equal(pkt->dns.answers_total, 2 + budget / 506);
	assert_int_equal(strlen(pkt->dns.answers[2].name), 126 * 2 - 1); /* a.a. ... .a */
	assert_true(pkt->dns.answers_total < n);
	test_free(m);
	test_free(tcp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_soa_srv_txt_and_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer_to_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer_into_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_255_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_over_255_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_text_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_label_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_in_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_in_question, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_in_rdata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_past_rdlength, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_address_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_records_than_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_message_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mdns_class_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_llmnr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_cut_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_two_messages_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_and_opcode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_through_every_earlier_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_walk_budget, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
