/* SPDX-License-Identifier: BSD-2-Clause */
#include "capture.h"

#include "wlite-proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int capd_linktype(int dlt)
{
	/* DLT_RAW is 12 or 14 depending on the platform; the file said 101. */
	if (dlt == DLT_RAW)
		return WL_LINK_RAW;
	return dlt;
}

int capture_default_interface(char *buf, size_t size, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_if_t *all, *d;
	int r = -ENODEV;

	if (pcap_findalldevs(&all, errbuf) < 0) {
		snprintf(err, errlen, "cannot list interfaces: %s", errbuf);
		return -EIO;
	}
	for (d = all; d; d = d->next) {
		bool usable = (d->flags & PCAP_IF_UP) && (d->flags & PCAP_IF_RUNNING) &&
			      !(d->flags & PCAP_IF_LOOPBACK);

		/* Pseudo-devices ("any", bluetooth, usbmon, nflog) have no addresses. */
		if (usable && d->addresses && strlen(d->name) < size) {
			strcpy(buf, d->name);
			r = 0;
			break;
		}
	}
	pcap_freealldevs(all);
	if (r < 0)
		snprintf(err, errlen, "no interface is up (other than loopback); pick one with -i");
	return r;
}

bool capture_interface_exists(const char *name)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_if_t *all, *d;
	bool found = false;

	if (pcap_findalldevs(&all, errbuf) < 0)
		return false;
	for (d = all; d && !found; d = d->next)
		found = strcmp(d->name, name) == 0;
	pcap_freealldevs(all);
	return found;
}

static int apply_filter(pcap_t *pcap, const char *filter, bool live, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (pcap_compile(pcap, &prog, filter, 1, live ? PCAP_NETMASK_UNKNOWN : 0) < 0) {
		snprintf(err, errlen, "bad filter '%s': %s", filter, pcap_geterr(pcap));
		return -EINVAL;
	}
	if (pcap_setfilter(pcap, &prog) < 0) {
		snprintf(err, errlen, "cannot apply filter: %s", pcap_geterr(pcap));
		pcap_freecode(&prog);
		return -EIO;
	}
	pcap_freecode(&prog);
	return 0;
}

/* Turns pcap_activate()'s result into a one-line reason. */
static int activation_error(pcap_t *pcap, int status, const char *iface, char *err, size_t errlen)
{
	switch (status) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		snprintf(err, errlen, "no such interface '%s'", iface);
		return -ENODEV;
	case PCAP_ERROR_PERM_DENIED:
		snprintf(err, errlen, "no permission to capture on '%s' (needs root or CAP_NET_RAW)", iface);
		return -EPERM;
	case PCAP_ERROR_IFACE_NOT_UP:
		snprintf(err, errlen, "interface '%s' is not up", iface);
		return -ENETDOWN;
	default:
		snprintf(err, errlen, "cannot capture on '%s': %s", iface, pcap_geterr(pcap));
		return -EIO;
	}
}

static int configure(pcap_t *pcap, const struct capd_options *opt)
{
	if (pcap_set_snaplen(pcap, opt->snaplen) < 0 || pcap_set_promisc(pcap, opt->promisc) < 0 ||
	    pcap_set_timeout(pcap, opt->timeout_ms) < 0 ||
	    pcap_set_buffer_size(pcap, opt->buffer_kib * 1024) < 0 ||
	    pcap_set_immediate_mode(pcap, opt->immediate) < 0)
		return -EINVAL;
	return 0;
}

int capture_open_live(struct capture *cap, const char *iface, const struct capd_options *opt,
		      char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pcap = pcap_create(iface, errbuf);
	int status, r;

	if (!pcap) {
		snprintf(err, errlen, "cannot capture on '%s': %s", iface, errbuf);
		return -EIO;
	}
	if (configure(pcap, opt) < 0) {
		snprintf(err, errlen, "cannot configure capture on '%s': %s", iface, pcap_geterr(pcap));
		pcap_close(pcap);
		return -EINVAL;
	}
	status = pcap_activate(pcap);
	if (status < 0) {
		r = activation_error(pcap, status, iface, err, errlen);
		pcap_close(pcap);
		return r;
	}
	/* The event loop polls the fd: reads must never block. */
	if (pcap_setnonblock(pcap, 1, errbuf) < 0 || pcap_get_selectable_fd(pcap) < 0) {
		snprintf(err, errlen, "cannot poll capture on '%s': %s", iface, errbuf);
		pcap_close(pcap);
		return -EIO;
	}
	if (opt->filter[0] && (r = apply_filter(pcap, opt->filter, true, err, errlen)) < 0) {
		pcap_close(pcap);
		return r;
	}
	capture_close(cap);
	cap->pcap = pcap;
	cap->live = true;
	cap->nano = false;
	cap->linktype = capd_linktype(pcap_datalink(pcap));
	snprintf(cap->source, sizeof(cap->source), "%s", iface);
	snprintf(cap->filter, sizeof(cap->filter), "%s", opt->filter);
	return 0;
}

struct file_view {
	void *map; /* the file mapped, or NULL when read through stdio */
	size_t len;
	bool paced; /* a stream is read without stdio's buffer (see capture_open_file) */
};

/* Whether fd can be read again from its start: a regular file can, a pipe cannot. */
static bool is_seekable(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * libpcap reads a file record by record through stdio. A regular file is
 * mapped and handed over as a memory stream: no read(2) per buffer and no
 * copy out of the kernel. Anything else is read through stdio from where it
 * stands (a pipe cannot seek), with a big buffer unless paced.
 */
static FILE *open_stream(int fd, struct file_view *view)
{
	struct stat st;
	int copy;
	FILE *f;

	view->map = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		view->len = (size_t)st.st_size;
		view->map = mmap(NULL, view->len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (view->map != MAP_FAILED) {
			madvise(view->map, view->len, MADV_SEQUENTIAL);
			if ((f = fmemopen(view->map, view->len, "rb")))
				return f;
			munmap(view->map, view->len);
		}
		view->map = NULL;
	}
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0 || (is_seekable(copy) && lseek(copy, 0, SEEK_SET) < 0) || !(f = fdopen(copy, "rb"))) {
		if (copy >= 0)
			close(copy);
		return NULL;
	}
	if (view->paced && !is_seekable(copy))
		setvbuf(f, NULL, _IONBF, 0);
	else
		setvbuf(f, NULL, _IOFBF, 1 << 20);
	return f;
}

/* A pcap handle on the kept descriptor, read from the start (or from where a stream is). */
static pcap_t *open_from_fd(int fd, struct file_view *view, char *errbuf)
{
	FILE *f = open_stream(fd, view);
	pcap_t *pcap;

	if (!f) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
		return NULL;
	}
	/* One thread reads it: spare stdio its lock on each of libpcap's freads. */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pcap) {
		fclose(f);
		if (view->map)
			munmap(view->map, view->len);
		view->map = NULL;
	}
	return pcap;
}

void capture_release_read(struct capture *cap)
{
	long pos;
	size_t page = 4096, done;

	if (!cap->map || !cap->pcap || (pos = ftell(pcap_file(cap->pcap))) <= 0)
		return;
	/* Pages already read count in RSS for as long as they stay mapped. */
	done = (size_t)pos / page * page;
	if (done > cap->map_released) {
		madvise((char *)cap->map + cap->map_released, done - cap->map_released, MADV_DONTNEED);
		cap->map_released = done;
	}
}

/* The old handle is closed: its mapping can go, and the new one is kept. */
static void replace_view(struct capture *cap, const struct file_view *view)
{
	if (cap->map)
		munmap(cap->map, cap->map_len);
	cap->map = view->map;
	cap->map_len = view->len;
	cap->map_released = 0;
}

static int adopt_file_handle(struct capture *cap, pcap_t *pcap, const char *filter, char *err,
			     size_t errlen)
{
	int r;

	if (filter[0] && (r = apply_filter(pcap, filter, false, err, errlen)) < 0) {
		pcap_close(pcap);
		return r;
	}
	if (cap->pcap)
		pcap_close(cap->pcap);
	cap->pcap = pcap;
	cap->live = false;
	cap->nano = pcap_get_tstamp_precision(pcap) == PCAP_TSTAMP_PRECISION_NANO;
	cap->linktype = capd_linktype(pcap_datalink(pcap));
	if (filter != cap->filter)
		snprintf(cap->filter, sizeof(cap->filter), "%s", filter);
	return 0;
}

/* The file, or standard input for "-"; a FIFO's open waits for a writer, as tcpdump's does. */
static int open_input(const char *path, char *err, size_t errlen)
{
	int fd;

	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return fd < 0 ? -errno : fd;
	}
	if (isatty(STDIN_FILENO)) {
		snprintf(err, errlen, "--read -: standard input is a terminal; pipe a capture into it");
		return -ENOTTY;
	}
	/* Our own descriptor: closing the capture leaves fd 0 alone. */
	fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		snprintf(err, errlen, "standard input: %s", strerror(errno));
	return fd < 0 ? -errno : fd;
}

int capture_open_file(struct capture *cap, const char *path, const char *filter, bool paced,
		      char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	int fd = open_input(path, err, errlen), r;
	struct file_view view = { .paced = paced };
	pcap_t *pcap;

	if (fd < 0)
		return fd;
	pcap = open_from_fd(fd, &view, errbuf);
	if (!pcap) {
		snprintf(err, errlen, "%s: %s", path, errbuf);
		close(fd);
		return -EINVAL;
	}
	capture_close(cap);
	if ((r = adopt_file_handle(cap, pcap, filter, err, errlen)) < 0) {
		if (view.map)
			munmap(view.map, view.len);
		close(fd);
		return r;
	}
	replace_view(cap, &view);
	cap->file_fd = fd;
	cap->stream = !is_seekable(fd);
	snprintf(cap->source, sizeof(cap->source), "%s", path);
	return 0;
}

int capture_rewind_file(struct capture *cap, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct file_view view = { .paced = false };
	pcap_t *pcap;
	int r;

	if (cap->stream) {
		snprintf(err, errlen, "%s: a pipe cannot be read again", cap->source);
		return -ESPIPE;
	}
	pcap = open_from_fd(cap->file_fd, &view, errbuf);
	if (!pcap) {
		snprintf(err, errlen, "%s: %s", cap->source, errbuf);
		return -EIO;
	}
	r = adopt_file_handle(cap, pcap, cap->filter, err, errlen);
	if (r < 0) {
		if (view.map)
			munmap(view.map, view.len);
		return r;
	}
	replace_view(cap, &view);
	return 0;
}

void capture_init(struct capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	cap->file_fd = -1;
}

int capture_set_filter(struct capture *cap, const char *filter, char *err, size_t errlen)
{
	int r;

	if (strlen(filter) >= sizeof(cap->filter)) {
		snprintf(err, errlen, "filter is too long (at most %zu bytes)", sizeof(cap->filter) - 1);
		return -EINVAL;
	}
	/* An empty filter passes everything; pcap_compile("") does exactly that. */
	r = apply_filter(cap->pcap, filter, cap->live, err, errlen);
	if (r == 0)
		snprintf(cap->filter, sizeof(cap->filter), "%s", filter);
	return r;
}

int capture_block_all(struct capture *cap, char *err, size_t errlen)
{
	/* "less 1": no frame is that short, so the kernel copies none. */
	return apply_filter(cap->pcap, "less 1", cap->live, err, errlen);
}

void capture_stats(const struct capture *cap, struct capture_stats *ret)
{
	struct pcap_stat ps;

	ret->recv = cap->closed_recv;
	ret->drop = cap->closed_drop;
	ret->ifdrop = cap->closed_ifdrop;
	if (cap->pcap && cap->live && pcap_stats(cap->pcap, &ps) == 0) {
		ret->recv += ps.ps_recv;
		ret->drop += ps.ps_drop;
		ret->ifdrop += ps.ps_ifdrop;
	}
}

void capture_close(struct capture *cap)
{
	struct capture_stats st;

	if (!cap->pcap)
		return;
	capture_stats(cap, &st);
	cap->closed_recv = st.recv;
	cap->closed_drop = st.drop;
	cap->closed_ifdrop = st.ifdrop;
	pcap_close(cap->pcap);
	cap->pcap = NULL;
	if (cap->map)
		munmap(cap->map, cap->map_len);
	cap->map = NULL;
	if (cap->file_fd >= 0)
		close(cap->file_fd);
	cap->file_fd = -1;
	cap->stream = false;
}

void capture_fill_header(const struct capture *cap, struct wl_packet *pkt,
			 const struct pcap_pkthdr *h)
{
	int64_t sec = (int64_t)h->ts.tv_sec;
	uint64_t frac = (uint64_t)h->ts.tv_usec;

	/* pcap's 32-bit seconds are unsigned (good to 2106); libpcap hands them over signed. */
	if (sec < 0 && sec >= INT32_MIN)
		sec += (int64_t)1 << 32;
	/* Round nanoseconds to the schema's microseconds; a fraction of a second
	 * or more (corrupt files have them) carries into the seconds. */
	if (cap->nano)
		frac = (frac + 500) / 1000;
	pkt->ts_sec = sec + (int64_t)(frac / 1000000);
	pkt->ts_usec = (uint32_t)(frac % 1000000);
	pkt->len = h->len;
	pkt->caplen = h->caplen;
	pkt->flow_id = 0; /* set by the flow table, when there is one */
}
