/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The invariants every fuzz target checks after decoding (fuzz_checks.c):
 * what consumers (capd's JSON writer, the web UI) rely on in a wl_packet.
 */
#ifndef WL_FUZZ_CHECKS_H
#define WL_FUZZ_CHECKS_H

#include "wlite-proto.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * assert() would vanish under -Db_ndebug=true (the release build also builds
 * the replay drivers), so check explicitly. abort() is what libFuzzer and
 * meson test both report as a crash.
 */
#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",        \
				__FILE__, __LINE__, #cond);                     \
			abort();                                                \
		}                                                               \
	} while (0)

/*
 * Checks pkt after decoding a frame of frame_len bytes: err is the frame's
 * first error (what wl_dissect() returns), which pkt->malformed must match.
 * Every output string is read, so that ASan sees an unterminated one.
 */
void wl_fuzz_check_packet(const struct wl_packet *pkt, int err, size_t frame_len);

#endif
