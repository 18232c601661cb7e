/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * capd's flow table fed with whatever wl_dissect() makes of fuzz inputs:
 * one table for the whole run (so that a replayed capture's packets make
 * real flows), small and with short timeouts so that expiry and eviction
 * run often. Every report is checked, encoded for the wire, read back and
 * written as JSON; the table never holds more than its bound.
 */
#ifndef WL_FUZZ_FLOWS_H
#define WL_FUZZ_FLOWS_H

#include "wlite-proto.h"

void wl_fuzz_flows(struct wl_packet *pkt);

#endif
