/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The detail tree of wl_dissect_tree(): layer lines and fields with their
 * exact frame offsets, lengths and values on hand-built frames; the bounds
 * every line keeps; cutting at max; and that the summary comes out exactly as
 * wl_dissect() leaves it, over the pcap corpus.
 *
 * Frames are copied into a heap block of exactly their length, so that
 * AddressSanitizer sees any read past the capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "packet-json.h"
#include "wlite-proto.h"
#include "frame.h"

#define TREE_MAX 512

static void put_eth(struct frame *f, uint16_t type)
{
	put_mem(f, MAC_DST, 6);
	put_mem(f, MAC_SRC, 6);
	put_u16(f, type);
}

/* IPv4 with total length filled by end_ipv4(). */
static size_t put_ipv4(struct frame *f, uint8_t proto)
{
	size_t at = f->n;

	put_u8(f, 0x45);
	put_u8(f, 0xb8); /* DSCP 46, ECN 0 */
	put_u16(f, 0);
	put_u16(f, 0x1234);
	put_u16(f, 0x4000); /* DF */
	put_u8(f, 64);
	put_u8(f, proto);
	put_u16(f, 0xbeef);
	put_addr(f, AF_INET, "192.0.2.1");
	put_addr(f, AF_INET, "198.51.100.2");
	return at;
}

static void end_ipv4(struct frame *f, size_t at)
{
	set_u16(f, at + 2, (uint16_t)(f->n - at));
}

struct result {
	struct wl_packet pkt;
	struct wl_field fields[TREE_MAX];
	struct wl_tree tree;
	int ret;
};

/* Decodes f with the tree and checks the bounds every line must keep. */
static struct result *decode(const struct frame *f, int linktype)
{
	struct result *res = calloc(1, sizeof(*res));
	uint8_t *copy = malloc(f->n ? f->n : 1);

	assert_non_null(res);
	assert_non_null(copy);
	memcpy(copy, f->b, f->n);
	res->pkt.len = res->pkt.caplen = (uint32_t)f->n;
	res->tree = (struct wl_tree){ .fields = res->fields, .max = TREE_MAX };
	res->ret = wl_dissect_tree(&res->pkt, linktype, copy, f->n, &res->tree);
	free(copy);
	assert_false(res->tree.truncated);
	for (unsigned i = 0; i < res->tree.n; i++) {
		const struct wl_field *fl = &res->fields[i];

		assert_true((size_t)fl->off + fl->len <= f->n);
		assert_true(fl->depth <= 2);
		assert_non_null(memchr(fl->name, '\0', sizeof(fl->name)));
		assert_non_null(memchr(fl->value, '\0', sizeof(fl->value)));
	}
	assert_true(res->tree.n == 0 || res->fields[0].depth == 0);
	return res;
}

/* For a failing test: the whole tree, one line each. */
static void dump(const struct result *res)
{
	for (unsigned i = 0; i < res->tree.n; i++) {
		const struct wl_field *f = &res->fields[i];

		fprintf(stderr, "# %*s%s [%u+%u] %s\n", f->depth * 2, "", f->name, f->off, f->len,
			f->value);
	}
}

/* The first line named name of layer proto (at any depth), or fails. */
static const struct wl_field *find(const struct result *res, enum wl_proto proto, const char *name)
{
	for (unsigned i = 0; i < res->tree.n; i++)
		if (res->fields[i].proto == proto && strcmp(res->fields[i].name, name) == 0)
			return &res->fields[i];
	dump(res);
	fail_msg("no line '%s' in layer %s", name, wl_proto_name(proto));
	return NULL;
}

static void check(const struct result *res, enum wl_proto proto, const char *name, unsigned depth,
		  unsigned off, unsigned len, const char *value)
{
	const struct wl_field *f = find(res, proto, name);

	if (f->depth != depth || f->off != off || f->len != len || strcmp(f->value, value) != 0) {
		dump(res);
		fail_msg("%s: depth %u off %u len %u '%s', expected %u %u %u '%s'", name, f->depth,
			 f->off, f->len, f->value, depth, off, len, value);
	}
}

/* The layer lines in order, as "ETH IPV4 ..." by proto name. */
static void check_layers(const struct result *res, const char *expected)
{
	char got[256] = "";

	for (unsigned i = 0; i < res->tree.n; i++) {
		if (res->fields[i].depth != 0)
			continue;
		if (got[0])
			strcat(got, " ");
		strcat(got, wl_proto_name(res->fields[i].proto));
	}
	if (strcmp(got, expected) != 0) {
		dump(res);
		fail_msg("layers '%s', expected '%s'", got, expected);
	}
}

/* ---- Frames ---------------------------------------------------------------- */

static void test_eth_ipv4_tcp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	size_t ip = put_ipv4(&f, 6);
	put_u16(&f, 51000);
	put_u16(&f, 22);
	put_u32(&f, 1000);
	put_u32(&f, 2000);
	put_u16(&f, 6 << 12 | 0x012); /* SYN ACK, 24-byte header */
	put_u16(&f, 65535);
	put_u16(&f, 0xabcd);
	put_u16(&f, 0);
	put_u32(&f, 0x020405b4); /* MSS 1460 */
	put_mem(&f, "hello", 5);
	end_ipv4(&f, ip);

	struct result *res = decode(&f, WL_LINK_ETHERNET);

	assert_int_equal(res->ret, 0);
	check_layers(res, "Ethernet IPv4 TCP SSH");
	check(res, WL_P_ETH, "Ethernet II", 0, 0, 14, "");
	check(res, WL_P_ETH, "Destination", 1, 0, 6, "02:00:00:00:00:0b");
	check(res, WL_P_ETH, "Source", 1, 6, 6, "02:00:00:00:00:0a");
	check(res, WL_P_ETH, "Type", 1, 12, 2, "IPv4 (0x0800)");
	check(res, WL_P_IPV4, "Internet Protocol Version 4", 0, 14, 20,
	      "Src: 192.0.2.1, Dst: 198.51.100.2");
	check(res, WL_P_IPV4, "Version", 1, 14, 1, "4");
	check(res, WL_P_IPV4, "Header length", 1, 14, 1, "20 bytes (5)");
	check(res, WL_P_IPV4, "DSCP", 1, 15, 1, "46");
	check(res, WL_P_IPV4, "Total length", 1, 16, 2, "49");
	check(res, WL_P_IPV4, "Identification", 1, 18, 2, "0x1234");
	check(res, WL_P_IPV4, "Don't fragment", 2, 20, 1, "Set");
	check(res, WL_P_IPV4, "More fragments", 2, 20, 1, "Not set");
	check(res, WL_P_IPV4, "Time to live", 1, 22, 1, "64");
	check(res, WL_P_IPV4, "Protocol", 1, 23, 1, "6 (TCP)");
	check(res, WL_P_IPV4, "Header checksum", 1, 24, 2, "0xbeef");
	check(res, WL_P_IPV4, "Source address", 1, 26, 4, "192.0.2.1");
	check(res, WL_P_IPV4, "Destination address", 1, 30, 4, "198.51.100.2");
	check(res, WL_P_TCP, "Transmission Control Protocol", 0, 34, 24,
	      "Src Port: 51000, Dst Port: 22");
	check(res, WL_P_TCP, "Source port", 1, 34, 2, "51000");
	check(res, WL_P_TCP, "Destination port", 1, 36, 2, "22");
	check(res, WL_P_TCP, "Sequence number (raw)", 1, 38, 4, "1000");
	check(res, WL_P_TCP, "Header length", 1, 46, 1, "24 bytes (6)");
	check(res, WL_P_TCP, "Flags", 1, 46, 2, "0x012 [SYN, ACK]");
	check(res, WL_P_TCP, "SYN", 2, 47, 1, "Set");
	check(res, WL_P_TCP, "ACK", 2, 47, 1, "Set");
	check(res, WL_P_TCP, "Window", 1, 48, 2, "65535");
	check(res, WL_P_TCP, "Checksum", 1, 50, 2, "0xabcd");
	check(res, WL_P_TCP, "Urgent pointer", 1, 52, 2, "0");
	check(res, WL_P_TCP, "Options", 1, 54, 4, "020405b4");
	check(res, WL_P_TCP, "Payload length", 1, 58, 5, "5");
	check(res, WL_P_SSH, "SSH", 0, 58, 5, "");
	/* Only the set flags have a line. */
	for (unsigned i = 0; i < res->tree.n; i++)
		assert_string_not_equal(res->fields[i].name, "FIN");
	free(res);
}

/* A DNS response over IPv6/UDP: a question and two answers, one compressed. */
static void test_eth_ipv6_udp_dns(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x86dd);
	put_u32(&f, 0x60012345); /* traffic class 0, flow label 0x12345 */
	put_u16(&f, 0);          /* payload length, set below */
	put_u8(&f, 17);
	put_u8(&f, 64);
	put_addr(&f, AF_INET6, "2001:db8::1");
	put_addr(&f, AF_INET6, "2001:db8::2");
	size_t udp = f.n;
	put_u16(&f, 53);
	put_u16(&f, 40000);
	put_u16(&f, 0);
	put_u16(&f, 0x1111);
	size_t dns = f.n;
	put_u16(&f, 0xbeef);
	put_u16(&f, 0x8180); /* response, RD, RA */
	put_u16(&f, 1);
	put_u16(&f, 2);
	put_u16(&f, 0);
	put_u16(&f, 0);
	put_mem(&f, "\x07" "example\x03" "com\x00", 13);
	put_u16(&f, 1);
	put_u16(&f, 1);
	/* example.com A 192.0.2.7, TTL 300, name as a pointer to offset 12 */
	put_u16(&f, 0xc00c);
	put_u16(&f, 1);
	put_u16(&f, 1);
	put_u32(&f, 300);
	put_u16(&f, 4);
	put_addr(&f, AF_INET, "192.0.2.7");
	/* www.example.com CNAME example.com */
	put_mem(&f, "\x03www\xc0\x0c", 6);
	put_u16(&f, 5);
	put_u16(&f, 1);
	put_u32(&f, 60);
	put_u16(&f, 2);
	put_u16(&f, 0xc00c);
	set_u16(&f, 18, (uint16_t)(f.n - udp));
	set_u16(&f, udp + 4, (uint16_t)(f.n - udp));

	struct result *res = decode(&f, WL_LINK_ETHERNET);

	assert_int_equal(res->ret, 0);
	check_layers(res, "Ethernet IPv6 UDP DNS");
	check(res, WL_P_IPV6, "Internet Protocol Version 6", 0, 14, 40,
	      "Src: 2001:db8::1, Dst: 2001:db8::2");
	check(res, WL_P_IPV6, "Flow label", 1, 15, 3, "0x012345");
	check(res, WL_P_IPV6, "Next header", 1, 20, 1, "17 (UDP)");
	check(res, WL_P_IPV6, "Hop limit", 1, 21, 1, "64");
	check(res, WL_P_IPV6, "Source address", 1, 22, 16, "2001:db8::1");
	check(res, WL_P_IPV6, "Destination address", 1, 38, 16, "2001:db8::2");
	check(res, WL_P_UDP, "User Datagram Protocol", 0, 54, 8, "Src Port: 53, Dst Port: 40000");
	check(res, WL_P_UDP, "Length", 1, 58, 2, "71");
	check(res, WL_P_UDP, "Checksum", 1, 60, 2, "0x1111");
	check(res, WL_P_DNS, "Domain Name System", 0, (unsigned)dns, 63, "");
	check(res, WL_P_DNS, "Transaction ID", 1, 62, 2, "0xbeef");
	check(res, WL_P_DNS, "Flags", 1, 64, 2, "0x8180");
	check(res, WL_P_DNS, "Response", 2, 64, 1, "Message is a response");
	check(res, WL_P_DNS, "Recursion available", 2, 65, 1, "Set");
	check(res, WL_P_DNS, "Reply code", 2, 65, 1, "0 (No error)");
	check(res, WL_P_DNS, "Answer RRs", 1, 68, 2, "2");
	check(res, WL_P_DNS, "Query", 1, 74, 17, "example.com: type A, class IN");
	check(res, WL_P_DNS, "Name", 2, 74, 13, "example.com");
	check(res, WL_P_DNS, "Answer", 1, 91, 16, "example.com: type A, class IN");
	check(res, WL_P_DNS, "Time to live", 2, 97, 4, "300");
	check(res, WL_P_DNS, "Data length", 2, 101, 2, "4");
	check(res, WL_P_DNS, "Data", 2, 103, 4, "192.0.2.7");

	/* The second answer: its name line covers only the bytes in place. */
	const struct wl_field *second = NULL;
	for (unsigned i = 0; i < res->tree.n; i++)
		if (strcmp(res->fields[i].name, "Answer") == 0)
			second = &res->fields[i];
	assert_non_null(second);
	assert_int_equal(second->off, 107);
	assert_int_equal(second->len, 18);
	assert_string_equal(second->value, "www.example.com: type CNAME, class IN");
	assert_string_equal(second[1].name, "Name");
	assert_int_equal(second[1].off, 107);
	assert_int_equal(second[1].len, 6);
	assert_string_equal(second[6].name, "Data");
	assert_string_equal(second[6].value, "example.com");
	free(res);
}

static void test_vlan(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x8100);
	put_u16(&f, 5 << 13 | 1 << 12 | 100);
	put_u16(&f, 0x0800);
	size_t ip = put_ipv4(&f, 253);
	end_ipv4(&f, ip);

	struct result *res = decode(&f, WL_LINK_ETHERNET);

	check_layers(res, "Ethernet VLAN IPv4");
	check(res, WL_P_ETH, "Type", 1, 12, 2, "802.1Q Virtual LAN (0x8100)");
	check(res, WL_P_VLAN, "802.1Q Virtual LAN", 0, 14, 4, "");
	check(res, WL_P_VLAN, "Priority", 1, 14, 2, "5");
	check(res, WL_P_VLAN, "DEI", 1, 14, 2, "1");
	check(res, WL_P_VLAN, "ID", 1, 14, 2, "100");
	check(res, WL_P_VLAN, "Type", 1, 16, 2, "IPv4 (0x0800)");
	check(res, WL_P_IPV4, "Protocol", 1, 27, 1, "253");
	free(res);
}

static void test_arp(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0806);
	put_u16(&f, 1);
	put_u16(&f, 0x0800);
	put_u8(&f, 6);
	put_u8(&f, 4);
	put_u16(&f, 1);
	put_mem(&f, MAC_SRC, 6);
	put_addr(&f, AF_INET, "192.0.2.1");
	put_mem(&f, "\0\0\0\0\0\0", 6);
	put_addr(&f, AF_INET, "192.0.2.254");

	struct result *res = decode(&f, WL_LINK_ETHERNET);

	assert_int_equal(res->ret, 0);
	check_layers(res, "Ethernet ARP");
	check(res, WL_P_ARP, "Address Resolution Protocol", 0, 14, 28, "");
	check(res, WL_P_ARP, "Hardware type", 1, 14, 2, "1 (Ethernet)");
	check(res, WL_P_ARP, "Protocol type", 1, 16, 2, "IPv4 (0x0800)");
	check(res, WL_P_ARP, "Hardware size", 1, 18, 1, "6");
	check(res, WL_P_ARP, "Protocol size", 1, 19, 1, "4");
	check(res, WL_P_ARP, "Opcode", 1, 20, 2, "1 (request)");
	check(res, WL_P_ARP, "Sender MAC address", 1, 22, 6, "02:00:00:00:00:0a");
	check(res, WL_P_ARP, "Sender IP address", 1, 28, 4, "192.0.2.1");
	check(res, WL_P_ARP, "Target MAC address", 1, 32, 6, "00:00:00:00:00:00");
	check(res, WL_P_ARP, "Target IP address", 1, 38, 4, "192.0.2.254");
	free(res);
}

/* A ClientHello with a server name that needs escaping. */
static void test_tls_client_hello_sni(void **state)
{
	static const char host[] = "a.example\x01";
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	size_t ip = put_ipv4(&f, 6);
	put_u16(&f, 50000);
	put_u16(&f, 443);
	put_u32(&f, 1);
	put_u32(&f, 0);
	put_u16(&f, 5 << 12 | 0x018);
	put_u16(&f, 1024);
	put_u32(&f, 0);
	size_t rec = f.n; /* 54 */
	size_t host_len = sizeof(host) - 1;
	size_t sni_ext = 4 + 2 + 1 + 2 + host_len;
	size_t exts = sni_ext + 4; /* and an empty extension */
	size_t hello = 2 + 32 + 1 + 2 + 4 + 1 + 1 + 2 + exts;

	put_u8(&f, 22);
	put_u16(&f, 0x0301);
	put_u16(&f, (uint16_t)(4 + hello));
	put_u8(&f, 1);
	put_u8(&f, 0);
	put_u16(&f, (uint16_t)hello);
	put_u16(&f, 0x0303);
	for (int i = 0; i < 32; i++)
		put_u8(&f, (uint8_t)i);
	put_u8(&f, 0);      /* session id */
	put_u16(&f, 4);     /* two cipher suites */
	put_u32(&f, 0x13011302);
	put_u8(&f, 1);
	put_u8(&f, 0);
	put_u16(&f, (uint16_t)exts);
	put_u16(&f, 0);     /* server_name */
	put_u16(&f, (uint16_t)(sni_ext - 4));
	put_u16(&f, (uint16_t)(sni_ext - 6));
	put_u8(&f, 0);
	put_u16(&f, (uint16_t)host_len);
	size_t host_at = f.n;
	put_mem(&f, host, host_len);
	put_u16(&f, 23);    /* extended_master_secret, empty */
	put_u16(&f, 0);
	end_ipv4(&f, ip);

	struct result *res = decode(&f, WL_LINK_ETHERNET);

	assert_int_equal(res->ret, 0);
	check_layers(res, "Ethernet IPv4 TCP TLS");
	assert_string_equal(res->pkt.sni, "a.example\\x01");
	check(res, WL_P_TLS, "Transport Layer Security", 0, (unsigned)rec,
	      (unsigned)(f.n - rec), "");
	check(res, WL_P_TLS, "TLS record", 1, (unsigned)rec, (unsigned)(f.n - rec),
	      "Handshake, TLS 1.0, length 72");
	check(res, WL_P_TLS, "Content type", 2, 54, 1, "22 (Handshake)");
	check(res, WL_P_TLS, "Version", 2, 55, 2, "TLS 1.0 (0x0301)");
	check(res, WL_P_TLS, "Length", 2, 57, 2, "72");
	check(res, WL_P_TLS, "Handshake type", 2, 59, 1, "1 (Client Hello)");
	check(res, WL_P_TLS, "Handshake length", 2, 60, 3, "68");
	check(res, WL_P_TLS, "Cipher suites", 2, 100, 4, "2");
	check(res, WL_P_TLS, "Extensions (captured)", 2, 108, (unsigned)exts, "2");
	check(res, WL_P_TLS, "Server name", 2, (unsigned)host_at, (unsigned)host_len,
	      "a.example\\x01");
	free(res);
}

/* A frame cut inside the IPv4 header: the error is a line of that layer. */
static void test_truncated_shows_error(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	put_ipv4(&f, 6);
	f.n -= 6;

	struct result *res = decode(&f, WL_LINK_ETHERNET);

	assert_int_equal(res->ret, -EMSGSIZE);
	check(res, WL_P_IPV4, "Expert info", 1, 14, 14,
	      "Truncated: the capture ends inside this layer");
	free(res);
}

/* A small max: truncated is set, and nothing is written past max. */
static void test_small_max(void **state)
{
	struct frame f = { .n = 0 };
	struct wl_field fields[5];
	struct wl_packet pkt = { .seq = 0 };

	(void)state;
	put_eth(&f, 0x0800);
	size_t ip = put_ipv4(&f, 17);
	put_u16(&f, 1000);
	put_u16(&f, 2000);
	put_u16(&f, 8);
	put_u16(&f, 0);
	end_ipv4(&f, ip);

	memset(fields, 0x5a, sizeof(fields));
	struct wl_tree tree = { .fields = fields, .max = 3 };

	pkt.len = pkt.caplen = (uint32_t)f.n;
	assert_int_equal(wl_dissect_tree(&pkt, WL_LINK_ETHERNET, f.b, f.n, &tree), 0);
	assert_int_equal(tree.n, 3);
	assert_true(tree.truncated);
	for (size_t i = 3; i < 5; i++)
		for (size_t j = 0; j < sizeof(fields[i]); j++)
			assert_int_equal(((const uint8_t *)&fields[i])[j], 0x5a);
	assert_string_equal(fields[0].name, "Ethernet II");

	/* max 0: nothing at all. */
	tree = (struct wl_tree){ .fields = fields, .max = 0 };
	assert_int_equal(wl_dissect_tree(&pkt, WL_LINK_ETHERNET, f.b, f.n, &tree), 0);
	assert_int_equal(tree.n, 0);
	assert_true(tree.truncated);
}

/* ---- The summary is wl_dissect()'s, over the corpus ------------------------ */

struct corpus_stats {
	unsigned long files, packets, lines;
};

static void compare_capture(const char *path, struct corpus_stats *st, struct wl_field *fields)
{
	static struct wl_packet a, b;
	static char ja[WL_JSON_PACKET_MAX], jb[WL_JSON_PACKET_MAX];
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (!p)
		return; /* not a capture libpcap reads */
	int dlt = pcap_datalink(p);
	int linktype = dlt == DLT_RAW ? WL_LINK_RAW : dlt;

	st->files++;
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct wl_tree tree = { .fields = fields, .max = TREE_MAX };
		uint8_t *copy = malloc(h->caplen ? h->caplen : 1);

		assert_non_null(copy);
		memcpy(copy, data, h->caplen);
		/* Poisoned differently, so a field one of them skips shows up. */
		memset(&a, 0xa5, sizeof(a));
		memset(&b, 0x5a, sizeof(b));
		a.seq = b.seq = ++st->packets;
		a.ts_sec = b.ts_sec = h->ts.tv_sec;
		a.ts_usec = b.ts_usec = (uint32_t)h->ts.tv_usec;
		a.len = b.len = h->len;
		a.caplen = b.caplen = h->caplen;
		a.flow_id = b.flow_id = 0;

		int ra = wl_dissect(&a, linktype, copy, h->caplen);
		int rb = wl_dissect_tree(&b, linktype, copy, h->caplen, &tree);
		long na = wl_json_packet(&a, ja, sizeof(ja));
		long nb = wl_json_packet(&b, jb, sizeof(jb));

		free(copy);
		if (ra != rb || na != nb || na < 0 || memcmp(ja, jb, (size_t)na) != 0)
			fail_msg("%s packet %lu: wl_dissect_tree's summary differs:\n%.*s\n%.*s",
				 path, st->packets, (int)(na > 0 ? na : 0), ja, (int)(nb > 0 ? nb : 0),
				 jb);
		assert_true(tree.n <= TREE_MAX);
		for (unsigned i = 0; i < tree.n; i++) {
			assert_true((size_t)fields[i].off + fields[i].len <= h->caplen);
			assert_true(fields[i].depth <= 2);
		}
		st->lines += tree.n;
	}
	pcap_close(p);
}

static void test_corpus_summary_identical(void **state)
{
	struct corpus_stats st = { 0 };
	struct wl_field *fields = calloc(TREE_MAX, sizeof(*fields));
	DIR *dir = opendir(WL_CORPUS_DIR);
	struct dirent *e;

	(void)state;
	if (!dir) {
		free(fields);
		skip();
	}
	assert_non_null(fields);
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		char path[4096];

		if ((n < 5 || strcmp(e->d_name + n - 5, ".pcap") != 0) &&
		    (n < 7 || strcmp(e->d_name + n - 7, ".pcapng") != 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", WL_CORPUS_DIR, e->d_name);
		compare_capture(path, &st, fields);
	}
	closedir(dir);
	free(fields);
	printf("# corpus: %lu captures, %lu packets, %lu tree lines\n", st.files, st.packets,
	       st.lines);
	assert_true(st.packets > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_ipv4_tcp),
		cmocka_unit_test(test_eth_ipv6_udp_dns),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_tls_client_hello_sni),
		cmocka_unit_test(test_truncated_shows_error),
		cmocka_unit_test(test_small_max),
		cmocka_unit_test(test_corpus_summary_identical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
