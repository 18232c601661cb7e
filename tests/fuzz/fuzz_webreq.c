/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for what webd does itself with a request before any
 * handler: the front gate (webd/http/gate.c: Host, Origin, the dashboard's file
 * names) and the WebSocket frames a client sends (webd/http/wsproto.c), read as
 * webd's /ws reader reads them. civetweb parses the request line and the
 * headers; that is civetweb's code, not ours.
 *
 * Input: one byte choosing what is fuzzed, then:
 *   0  Host NUL Origin NUL path  (missing parts are NULL)
 *   1  a stream of client frames
 * Seeds: corpus/webreq/.
 */
#include "fuzz_checks.h"
#include "http/gate.h"
#include "http/wsproto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

int wl_fuzz_link_index(int linktype)
{
	return -1; /* no pcap packets for this target */
}

/* Splits s at NULs into at most n strings (NULL when absent). */
static void split(char *s, size_t len, const char **parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		parts[i] = len ? s : NULL;
		while (len && *s) {
			s++;
			len--;
		}
		if (len) {
			s++;
			len--;
		}
	}
}

static void fuzz_gate(const uint8_t *data, size_t size)
{
	static struct gate g;
	static int ready;
	char *copy = malloc(size + 1), rel[128];
	const char *parts[3];
	char err[256];

	if (!copy)
		return;
	if (!ready) {
		CHECK(gate_init(&g, "127.0.0.1:8080", "wlite.example other.example:9443", "https://proxy.example",
				err, sizeof(err)) == 0);
		ready = 1;
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	split(copy, size, parts, 3);
	(void)gate_host_ok(&g, parts[0]);
	(void)gate_origin_ok(&g, parts[1]);
	if (gate_static_file(parts[2], rel, sizeof(rel))) {
		/* Whatever is accepted names a file inside the web root, never a hidden one. */
		CHECK(rel[0] != '/' && rel[0] != '.');
		CHECK(strstr(rel, "..") == NULL && strstr(rel, "/.") == NULL && strstr(rel, "//") == NULL);
		CHECK(strcmp(gate_static_type(rel), "application/octet-stream") != 0);
	}
	free(copy);
}

/* As ws.c's reader: a header, its message check, then the payload once all of it is there. */
static void fuzz_frames(const uint8_t *data, size_t size)
{
	struct ws_message msg = { 0 };
	uint8_t *buf = malloc(size ? size : 1);
	size_t used = 0;

	if (!buf)
		return;
	memcpy(buf, data, size);
	while (used < size) {
		struct ws_frame f;
		int h = wsproto_parse_header(buf + used, size - used, &f);

		if (h <= 0 || wsproto_message_check(&msg, &f) < 0)
			break;
		CHECK(h >= 6 && h <= 14);
		CHECK((f.opcode & 0x8) == 0 || f.len <= WS_CONTROL_MAX);
		CHECK(f.len <= WS_MESSAGE_MAX);
		if (size - used - (size_t)h < f.len)
			break;
		wsproto_message_commit(&msg, &f);
		CHECK(msg.size <= WS_MESSAGE_MAX);
		wsproto_unmask(buf + used + h, (size_t)f.len, f.mask, 0);
		used += (size_t)h + (size_t)f.len;
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_frames(data + 1, size - 1);
	else
		fuzz_gate(data + 1, size - 1);
	return 0;
}
