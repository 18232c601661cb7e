/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Plain replay driver for LLVMFuzzerTestOneInput (no libFuzzer needed), as in
 * systemd's src/fuzz/fuzz-main.c. It lets meson test run the fuzz targets over
 * the crash regressions and the seed corpora in every build, including the
 * default gcc and ASan builds. Linked with fuzz_dissect.c as
 * fuzz-dissect-replay, and with fuzz_decoder.c as fuzz-<decoder>-replay.
 *
 *   PROG FILE|DIR...                 run every input, print a count
 *   PROG --extract OUT FILE|DIR...   write each capture's packets as
 *                                    seed files of fuzz-dissect into OUT
 *   PROG --extract-layers OUT FILE|DIR...
 *                                    dissect each capture's packets and write
 *                                    each layer's bytes as a seed of that
 *                                    layer's decoder, into OUT/<decoder>/
 *
 * Every file is run as one raw fuzz input. A pcap or pcapng file is also
 * split into its packets, and each packet is run prefixed with the selector
 * byte of the file's link type, so the real captures serve as seeds; packets
 * of link types the target does not take (wl_fuzz_link_index() < 0: all, for
 * a single decoder) are skipped. A directory's subdirectories are not walked:
 * tests/fuzz/regressions/<decoder>/ holds inputs of other targets.
 *
 * pcapng is handled minimally: Section Header Blocks (either byte order),
 * Interface Description Blocks for the link type, and Enhanced Packet Blocks;
 * Simple Packet Blocks and every other block type are skipped.
 *
 * A corrupt capture just stops where it stops making sense. The exit status
 * is 0 unless an input cannot be read; a crash is the failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wlite-proto.h"

/* Defined by the target: fuzz_dissect.c or fuzz_decoder.c. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

/* For messages: the name this driver was run as. */
static const char *prog = "fuzz-replay";

/* Inputs larger than this are not fuzz inputs; refuse rather than swap. */
#define MAX_FILE_SIZE (64u << 20)
/* pcapng: at most this many interfaces per section are remembered. */
#define MAX_IFACES 64

struct driver {
	const char *extract_dir; /* NULL: run inputs; else write seed files here */
	const char *layers_dir;  /* --extract-layers: write layer seeds here */
	int layers_pass;         /* 0: seeds that add variety; 1: fill up */
	unsigned long inputs;    /* inputs run, or seeds written */
	unsigned long packets;   /* of which capture packets */
	int errors;
};

/* Runs one input from its own heap copy, so ASan sees its exact end. */
static void run_input(struct driver *drv, const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EXIT_FAILURE);
	}
	memcpy(copy, data, size);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
	drv->inputs++;
}

static void write_seed(struct driver *drv, const char *origin, unsigned long n,
		       const uint8_t *data, size_t size)
{
	const char *base = strrchr(origin, '/');
	char path[4096];
	FILE *f;

	base = base ? base + 1 : origin;
	if (snprintf(path, sizeof(path), "%s/%s-%06lu", drv->extract_dir, base, n) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "%s: seed path too long for %s\n", prog, origin);
		drv->errors++;
		return;
	}
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
		drv->errors++;
		return;
	}
	drv->inputs++;
}

/*
 * --extract-layers: per-decoder seeds cut out of real packets. A seed is the
 * input format of fuzz_decoder.c: a byte for the cut bit (clear), then the
 * bytes from the layer's start to the end of the frame, which is what the
 * decoder's cursor covers inside wl_dissect().
 */
#define LAYER_SEEDS_MAX 40         /* per decoder: keep the corpus small... */
#define LAYER_SEED_BYTES (60u << 10) /* ...and under 64 KiB per decoder */
#define LAYER_SEED_LEN_MAX 2048    /* longer ones add bytes, rarely paths */

struct layer_bin {
	const char *name;
	unsigned n;
	size_t bytes;
	uint64_t hash[LAYER_SEEDS_MAX];
	uint32_t key[LAYER_SEEDS_MAX];
};

/* Every decoder that wl_enter()s a layer of its own, so has seeds to find. */
static struct layer_bin layer_bins[] = {
	{ .name = "ethernet" }, { .name = "sll" },    { .name = "sll2" },   { .name = "null" },
	{ .name = "loop" },     { .name = "raw" },    { .name = "vlan" },   { .name = "pppoe" },
	{ .name = "pppoed" },   { .name = "ppp" },    { .name = "mpls" },   { .name = "arp" },
	{ .name = "vntag" },    { .name = "arista" }, { .name = "pbb" },    { .name = "macsec" },
	{ .name = "ipv4" },     { .name = "ipv6" },   { .name = "tcp" },    { .name = "udp" },
	{ .name = "sctp" },     { .name = "icmp" },   { .name = "icmpv6" }, { .name = "gre" },
	{ .name = "vxlan" },    { .name = "geneve" }, { .name = "teredo" }, { .name = "dns" },
	{ .name = "mdns" },     { .name = "llmnr" },  { .name = "dns_tcp" }, { .name = "tls" },
	{ .name = "http" },     { .name = "dhcp" },
	/* Encapsulations (issue 14) */
	{ .name = "llc" },      { .name = "fabricpath" }, { .name = "etag" },    { .name = "trill" },
	{ .name = "nsh" },      { .name = "vxlan_gpe" },  { .name = "chdlc" },   { .name = "ppp_hdlc" },
	{ .name = "radiotap" }, { .name = "wlan" },       { .name = "wlan_bsfc" }, { .name = "gtp" },
	{ .name = "l2tp" },     { .name = "l2tpv3_ip" },  { .name = "lisp" },    { .name = "capwap" },
	{ .name = "lwapp" },    { .name = "esp" },        { .name = "ah" },      { .name = "udpencap" },
};

/* The same for the encapsulations of issue 14; NULL for layers that only name. */
static const char *encap_decoder(const struct wl_packet *pkt, unsigned i, int linktype)
{
	unsigned below = i > 0 ? pkt->layers[i - 1].proto : WL_P_UNKNOWN;
	bool serial_link = i == 0 && (linktype == WL_LINK_PPP || linktype == WL_LINK_PPP_HDLC);

	switch (pkt->layers[i].proto) {
	case WL_P_LLC: return "llc";
	case WL_P_FABRICPATH: return "fabricpath";
	case WL_P_ETAG: return "etag";
	case WL_P_TRILL: return "trill";
	case WL_P_NSH: return "nsh";
	case WL_P_VXLAN_GPE: return "vxlan_gpe";
	case WL_P_CHDLC: return serial_link ? "ppp_hdlc" : "chdlc";
	case WL_P_RADIOTAP: return "radiotap";
	case WL_P_WLAN: return below == WL_P_CAPWAP_DATA ? "wlan_bsfc" : "wlan";
	case WL_P_GTP: case WL_P_GTPV2: return "gtp";
	case WL_P_L2TP: return "l2tp";
	case WL_P_L2TPV3: return below == WL_P_UDP ? "l2tp" : "l2tpv3_ip";
	case WL_P_LISP: return below == WL_P_UDP ? "lisp" : NULL;
	case WL_P_CAPWAP_DATA: return "capwap";
	case WL_P_LWAPP: return "lwapp";
	case WL_P_ESP: return below == WL_P_UDP ? "udpencap" : "esp";
	case WL_P_AH: return "ah";
	case WL_P_UDPENCAP: return "udpencap";
	default: return NULL;
	}
}

/*
 * The decoder that wrote layers[i]. A layer's proto does not always say:
 * SLL and SLL2, NULL and LOOP share one, the shims record Ethernet, and DNS
 * over TCP records DNS, so the link type, the ethertype just before the
 * layer and the layer below tell them apart.
 */
static const char *layer_decoder(const struct wl_packet *pkt, unsigned i, int linktype,
				 const uint8_t *frame)
{
	const struct wl_layer *l = &pkt->layers[i];
	unsigned below = i > 0 ? pkt->layers[i - 1].proto : WL_P_UNKNOWN;
	unsigned type = l->off >= 2 ? (unsigned)(frame[l->off - 2] << 8 | frame[l->off - 1]) : 0;

	switch (l->proto) {
	case WL_P_ETH:
		if (i == 0)
			return "ethernet";
		return type == 0x8926 ? "vntag" : type == 0xd28b ? "arista" :
		       type == 0x88e7 ? "pbb" : type == 0x88e5 ? "macsec" : "ethernet";
	case WL_P_SLL: return linktype == WL_LINK_SLL2 ? "sll2" : "sll";
	case WL_P_NULL: return linktype == WL_LINK_LOOP ? "loop" : "null";
	case WL_P_VLAN: return "vlan";
	case WL_P_PPPOE: return "pppoe";
	case WL_P_PPPOED: return "pppoed";
	case WL_P_PPP: return i == 0 ? "ppp_hdlc" : "ppp";
	case WL_P_MPLS: return "mpls";
	case WL_P_ARP: return "arp";
	case WL_P_IPV4: return "ipv4";
	case WL_P_IPV6: return "ipv6";
	case WL_P_TCP: return "tcp";
	case WL_P_UDP: return "udp";
	case WL_P_SCTP: return "sctp";
	case WL_P_ICMP: return "icmp";
	case WL_P_ICMPV6: return "icmpv6";
	case WL_P_GRE: return "gre";
	case WL_P_VXLAN: return "vxlan";
	case WL_P_GENEVE: return "geneve";
	case WL_P_TEREDO: return "teredo";
	case WL_P_DNS: return below == WL_P_TCP ? "dns_tcp" : "dns";
	case WL_P_MDNS: return "mdns";
	case WL_P_LLMNR: return "llmnr";
	case WL_P_TLS: return "tls";
	case WL_P_HTTP: return "http";
	case WL_P_DHCP: return "dhcp";
	default: return encap_decoder(pkt, i, linktype);
	}
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3u;
	return h;
}

/*
 * Offers one layer seed. Pass 0 takes a seed only if it adds variety (a new
 * combination of the packet's malformed state, its length's power of two and
 * the protocol the layer carries), so that the first capture in the corpus
 * does not fill the quota; pass 1 fills what is left with any new bytes.
 */
static void offer_layer_seed(struct driver *drv, const char *name, uint32_t key,
			     const uint8_t *bytes, size_t len)
{
	struct layer_bin *bin = NULL;
	uint64_t hash = fnv1a(bytes, len);

	for (size_t i = 0; i < sizeof(layer_bins) / sizeof(layer_bins[0]); i++)
		if (!strcmp(layer_bins[i].name, name))
			bin = &layer_bins[i];
	if (!bin || len > LAYER_SEED_LEN_MAX || bin->n == LAYER_SEEDS_MAX ||
	    bin->bytes + len + 1 > LAYER_SEED_BYTES)
		return;
	for (unsigned i = 0; i < bin->n; i++)
		if (bin->hash[i] == hash || (drv->layers_pass == 0 && bin->key[i] == key))
			return;

	char path[4096];
	uint8_t cut_byte = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", drv->layers_dir, name);
	mkdir(path, 0777); /* EEXIST is fine; fopen reports real trouble */
	snprintf(path, sizeof(path), "%s/%s/x-%016llx", drv->layers_dir, name,
		 (unsigned long long)hash);
	f = fopen(path, "wb");
	if (!f || fwrite(&cut_byte, 1, 1, f) != 1 || fwrite(bytes, 1, len, f) != len ||
	    fclose(f) != 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
		drv->errors++;
		return;
	}
	bin->hash[bin->n] = hash;
	bin->key[bin->n++] = key;
	bin->bytes += len + 1;
	drv->inputs++;
}

static void extract_layers(struct driver *drv, int linktype, const uint8_t *frame, size_t caplen)
{
	static struct wl_packet pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.len = pkt.caplen = (uint32_t)caplen;
	wl_dissect(&pkt, linktype, frame, caplen);
	for (unsigned i = 0; i < pkt.n_layers; i++) {
		const struct wl_layer *l = &pkt.layers[i];

		if (l->off > caplen)
			continue; /* wl_enter() saturates offsets past 64 KiB */

		const char *name = layer_decoder(&pkt, i, linktype, frame);
		size_t len = caplen - l->off;
		unsigned bits = 0;

		if (!name)
			continue;
		while (len >> bits)
			bits++;
		uint32_t key = pkt.malformed | bits << 2 |
			       (uint32_t)(i + 1 < pkt.n_layers ? pkt.layers[i + 1].proto : 0) << 8;

		offer_layer_seed(drv, name, key, frame + l->off, len);
		/* wl_decode_raw() takes any IP packet: the outermost ones will do. */
		if (i == 0 && (l->proto == WL_P_IPV4 || l->proto == WL_P_IPV6))
			offer_layer_seed(drv, "raw", key, frame + l->off, len);
	}
}

/* One captured packet: selector byte + the bytes as captured. */
static void feed_packet(struct driver *drv, const char *origin, int linktype,
			const uint8_t *pkt, size_t caplen)
{
	/* The FCS-length bits of a pcap link type field are not the link type. */
	int idx = wl_fuzz_link_index(linktype & 0x03ffffff);
	uint8_t *buf;

	if (drv->layers_dir) {
		extract_layers(drv, linktype & 0x03ffffff, pkt, caplen);
		return;
	}
	if (idx < 0)
		return;
	buf = malloc(caplen + 1);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EXIT_FAILURE);
	}
	buf[0] = (uint8_t)idx;
	memcpy(buf + 1, pkt, caplen);
	drv->packets++;
	if (drv->extract_dir)
		write_seed(drv, origin, drv->packets, buf, caplen + 1);
	else
		run_input(drv, buf, caplen + 1);
	free(buf);
}

static uint32_t get32(const uint8_t *p, int swap)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 24;

	return swap ? __builtin_bswap32(v) : v;
}

static uint16_t get16(const uint8_t *p, int swap)
{
	uint16_t v = (uint16_t)(p[0] | p[1] << 8);

	return swap ? __builtin_bswap16(v) : v;
}

/* Classic pcap. Returns 1 if buf was a pcap (even a corrupt one), else 0. */
static int walk_pcap(struct driver *drv, const char *origin, const uint8_t *buf, size_t len)
{
	int swap;
	uint32_t magic;

	if (len < 4)
		return 0;
	magic = get32(buf, 0);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		swap = 0;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		swap = 1;
	else
		return 0;
	if (len < 24)
		return 1;

	int linktype = (int)get32(buf + 20, swap);
	size_t off = 24;

	while (len - off >= 16) {
		uint32_t incl = get32(buf + off + 8, swap);

		off += 16;
		if (incl > len - off)
			break; /* cut short or corrupt: stop here */
		feed_packet(drv, origin, linktype, buf + off, incl);
		off += incl;
	}
	return 1;
}

/* Minimal pcapng (see the top comment). Returns 1 if buf was pcapng, else 0. */
static int walk_pcapng(struct driver *drv, const char *origin, const uint8_t *buf, size_t len)
{
	int linktypes[MAX_IFACES];
	unsigned n_ifaces = 0;
	int swap = 0;
	size_t off = 0;

	if (len < 12 || get32(buf, 0) != 0x0a0d0d0a)
		return 0;

	while (len - off >= 12) {
		const uint8_t *blk = buf + off;
		uint32_t type = get32(blk, swap);
		uint32_t total;

		if (type == 0x0a0d0d0a) {
			/* A new section: its byte-order magic sets the byte order. */
			uint32_t bom;

			bom = get32(blk + 8, 0);
			if (bom == 0x1a2b3c4d)
				swap = 0;
			else if (bom == 0x4d3c2b1a)
				swap = 1;
			else
				break;
			n_ifaces = 0;
		}
		total = get32(blk + 4, swap);
		if (total < 12 || total % 4 != 0 || total > len - off)
			break;

		const uint8_t *body = blk + 8;
		size_t body_len = total - 12;

		if (type == 1 && body_len >= 2) { /* Interface Description Block */
			if (n_ifaces < MAX_IFACES)
				linktypes[n_ifaces] = get16(body, swap);
			n_ifaces++;
		} else if (type == 6 && body_len >= 20) { /* Enhanced Packet Block */
			uint32_t iface = get32(body, swap);
			uint32_t caplen = get32(body + 12, swap);

			if (caplen > body_len - 20)
				break;
			if (iface < n_ifaces && iface < MAX_IFACES)
				feed_packet(drv, origin, linktypes[iface], body + 20, caplen);
		}
		off += total;
	}
	return 1;
}

static int read_whole(const char *path, uint8_t **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (len == cap) {
			uint8_t *nbuf;

			if (cap >= MAX_FILE_SIZE) {
				free(buf);
				fclose(f);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 65536;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		size_t n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		int err = -EIO;

		free(buf);
		fclose(f);
		return err;
	}
	fclose(f);
	*ret = buf;
	*ret_len = len;
	return 0;
}

static void do_file(struct driver *drv, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = read_whole(path, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-r));
		drv->errors++;
		return;
	}
	/* The whole file as one raw input: that is what a crash-* file is. */
	if (!drv->extract_dir && !drv->layers_dir)
		run_input(drv, buf, len);
	if (!walk_pcap(drv, path, buf, len))
		walk_pcapng(drv, path, buf, len);
	free(buf);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Not fuzz inputs: the corpus's tshark oracles and the README that keeps the
 * regressions folder in git. Named explicitly on the command line they still run.
 */
static int skip_in_dir(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' || strncmp(name, "README", 6) == 0 ||
	       (n > 4 && strcmp(name + n - 4, ".csv") == 0);
}

static void do_path(struct driver *drv, const char *path, int from_dir);

static void do_dir(struct driver *drv, const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!dir) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		drv->errors++;
		return;
	}
	while ((de = readdir(dir))) {
		if (skip_in_dir(de->d_name))
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 256;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn)
				exit(EXIT_FAILURE);
			names = nn;
		}
		names[n] = malloc(strlen(path) + strlen(de->d_name) + 2);
		if (!names[n])
			exit(EXIT_FAILURE);
		sprintf(names[n], "%s/%s", path, de->d_name);
		n++;
	}
	closedir(dir);
	/* Sorted, so that a run is reproducible and the output is comparable. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		do_path(drv, names[i], 1);
		free(names[i]);
	}
	free(names);
}

static void do_path(struct driver *drv, const char *path, int from_dir)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		drv->errors++;
		return;
	}
	if (S_ISDIR(st.st_mode) && from_dir)
		return; /* not walked: see the top comment */
	if (S_ISDIR(st.st_mode))
		do_dir(drv, path);
	else if (S_ISREG(st.st_mode))
		do_file(drv, path);
	else if (!from_dir) {
		fprintf(stderr, "%s: %s: not a file or directory\n", prog, path);
		drv->errors++;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s FILE|DIR...\n"
		   "       %s --extract OUTDIR FILE|DIR...\n"
		   "       %s --extract-layers OUTDIR FILE|DIR...\n", prog, prog, prog);
}

int main(int argc, char **argv)
{
	struct driver drv = { 0 };
	int i = 1;

	if (argc > 0 && argv[0][0]) {
		const char *slash = strrchr(argv[0], '/');

		prog = slash ? slash + 1 : argv[0];
	}
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "--extract") || !strcmp(argv[1], "--extract-layers"))) {
		if (argc < 3) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(argv[1], "--extract"))
			drv.extract_dir = argv[2];
		else
			drv.layers_dir = argv[2];
		i = 3;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	/* Layer seeds take two passes over the captures: see offer_layer_seed(). */
	for (drv.layers_pass = 0; drv.layers_pass < (drv.layers_dir ? 2 : 1); drv.layers_pass++)
		for (int j = i; j < argc; j++)
			do_path(&drv, argv[j], 0);

	if (drv.extract_dir || drv.layers_dir)
		printf("%s: wrote %lu seeds to %s\n", prog, drv.inputs,
		       drv.extract_dir ? drv.extract_dir : drv.layers_dir);
	else
		printf("%s: ran %lu inputs (%lu capture packets)\n", prog, drv.inputs,
		       drv.packets);
	return drv.errors ? 1 : 0;
}
