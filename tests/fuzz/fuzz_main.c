/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Plain replay driver for LLVMFuzzerTestOneInput (no libFuzzer needed), as in
 * systemd's src/fuzz/fuzz-main.c. It lets meson test run the fuzz target over
 * the crash regressions and the pcap corpus in every build, including the
 * default gcc and ASan builds.
 *
 *   fuzz-dissect-replay FILE|DIR...            run every input, print a count
 *   fuzz-dissect-replay --extract OUT FILE|DIR...
 *                                              write each capture's packets as
 *                                              libFuzzer seed files into OUT
 *
 * Every file is run as one raw fuzz input (byte 0 selects the link type).
 * A pcap or pcapng file is also split into its packets, and each packet is
 * run prefixed with the selector byte of the file's link type, so the real
 * captures serve as seeds. Packets of link types wl_dissect() does not know
 * are skipped. pcapng is handled minimally: Section Header Blocks (either byte
 * order), Interface Description Blocks for the link type, and Enhanced Packet
 * Blocks; Simple Packet Blocks and every other block type are skipped.
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

/* Defined in fuzz_dissect.c. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

/* Inputs larger than this are not fuzz inputs; refuse rather than swap. */
#define MAX_FILE_SIZE (64u << 20)
/* pcapng: at most this many interfaces per section are remembered. */
#define MAX_IFACES 64

struct driver {
	const char *extract_dir; /* NULL: run inputs; else write seed files here */
	unsigned long inputs;    /* inputs run, or seeds written */
	unsigned long packets;   /* of which capture packets */
	int errors;
};

/* Runs one input from its own heap copy, so ASan sees its exact end. */
static void run_input(struct driver *drv, const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		fprintf(stderr, "fuzz-dissect-replay: out of memory\n");
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
		fprintf(stderr, "fuzz-dissect-replay: seed path too long for %s\n", origin);
		drv->errors++;
		return;
	}
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		fprintf(stderr, "fuzz-dissect-replay: cannot write %s: %s\n", path, strerror(errno));
		drv->errors++;
		return;
	}
	drv->inputs++;
}

/* One captured packet: selector byte + the bytes as captured. */
static void feed_packet(struct driver *drv, const char *origin, int linktype,
			const uint8_t *pkt, size_t caplen)
{
	/* The FCS-length bits of a pcap link type field are not the link type. */
	int idx = wl_fuzz_link_index(linktype & 0x03ffffff);
	uint8_t *buf;

	if (idx < 0)
		return;
	buf = malloc(caplen + 1);
	if (!buf) {
		fprintf(stderr, "fuzz-dissect-replay: out of memory\n");
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
		fprintf(stderr, "fuzz-dissect-replay: %s: %s\n", path, strerror(-r));
		drv->errors++;
		return;
	}
	/* The whole file as one raw input: that is what a crash-* file is. */
	if (!drv->extract_dir)
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
		fprintf(stderr, "fuzz-dissect-replay: %s: %s\n", path, strerror(errno));
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
		fprintf(stderr, "fuzz-dissect-replay: %s: %s\n", path, strerror(errno));
		drv->errors++;
		return;
	}
	if (S_ISDIR(st.st_mode))
		do_dir(drv, path);
	else if (S_ISREG(st.st_mode))
		do_file(drv, path);
	else if (!from_dir) {
		fprintf(stderr, "fuzz-dissect-replay: %s: not a file or directory\n", path);
		drv->errors++;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fuzz-dissect-replay FILE|DIR...\n"
		   "       fuzz-dissect-replay --extract OUTDIR FILE|DIR...\n");
}

int main(int argc, char **argv)
{
	struct driver drv = { 0 };
	int i = 1;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--extract")) {
		if (argc < 3) {
			usage(stderr);
			return 2;
		}
		drv.extract_dir = argv[2];
		i = 3;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (; i < argc; i++)
		do_path(&drv, argv[i], 0);

	if (drv.extract_dir)
		printf("fuzz-dissect-replay: wrote %lu seeds to %s\n", drv.inputs, drv.extract_dir);
	else
		printf("fuzz-dissect-replay: ran %lu inputs (%lu capture packets)\n", drv.inputs,
		       drv.packets);
	return drv.errors ? 1 : 0;
}
