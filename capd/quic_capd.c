/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * QUIC Initial decryption on capd's publish path (quic_track.h): made after
 * the privilege drop like everything that reads packet bytes, fed every
 * packet before the TLS fingerprints (which hash the JA4 text a QUIC
 * ClientHello gives), counted in "stats" and logged when capd stops.
 */
#include "capd.h"

#include "log.h"
#include "quic_track.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int capd_quic_start(struct capd *d, char *err, size_t errlen)
{
	struct quic_track_config cfg;
	int r;

	quic_track_config_default(&cfg);
	if (!(d->quic = quic_track_new(&cfg, &r))) {
		snprintf(err, errlen, "cannot start the QUIC Initial decryption: %s",
			 r == -EIO ? "libcrypto has no HKDF, AES-128-ECB or AES-128-GCM" : strerror(-r));
		return r;
	}
	return 0;
}

void capd_quic_packet(struct capd *d, const uint8_t *frame, size_t caplen)
{
	if (d->quic)
		quic_track_packet(d->quic, d->pkt, frame, caplen);
}

/* A file's connections end with it: a --loop replay decodes its hellos again. */
void capd_quic_end_of_file(struct capd *d)
{
	if (d->quic)
		quic_track_flush(d->quic);
}

void capd_quic_stop(struct capd *d)
{
	struct quic_track_stats st;

	if (!d->quic)
		return;
	quic_track_stats(d->quic, &st);
	wl_notice("QUIC: %llu Initial packets, %llu decrypted, %llu not (%llu of unknown versions); "
		  "%llu ClientHellos (%llu longer than their buffer); %llu connections, %llu evicted; "
		  "memory %llu bytes at most",
		  (unsigned long long)st.initials, (unsigned long long)st.decrypted,
		  (unsigned long long)st.failed, (unsigned long long)st.unsupported,
		  (unsigned long long)st.hellos, (unsigned long long)st.hello_cut,
		  (unsigned long long)st.connections, (unsigned long long)st.evicted,
		  (unsigned long long)st.memory_peak);
	d->quic = quic_track_free(d->quic);
}

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

/* "quic" in stats. */
void capd_quic_stats_json(const struct capd *d, struct cJSON *root)
{
	struct quic_track_stats st;
	cJSON *o;

	if (!d->quic)
		return;
	quic_track_stats(d->quic, &st);
	o = cJSON_AddObjectToObject(root, "quic");
	add_u64(o, "initials", st.initials);
	add_u64(o, "decrypted", st.decrypted);
	add_u64(o, "failed", st.failed);
	add_u64(o, "unsupported", st.unsupported);
	add_u64(o, "bad_frames", st.bad_frames);
	add_u64(o, "hellos", st.hellos);
	add_u64(o, "hello_cut", st.hello_cut);
	add_u64(o, "not_hello", st.not_hello);
	add_u64(o, "retries", st.retries);
	add_u64(o, "connections", st.connections);
	add_u64(o, "active", st.active);
	add_u64(o, "evicted", st.evicted);
	add_u64(o, "expired", st.expired);
	add_u64(o, "memory", st.memory);
	add_u64(o, "memory_peak", st.memory_peak);
}
