/* SPDX-License-Identifier: BSD-2-Clause */
#include "live/rows.h"

#include "geo/geo.h"
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Query parameters --------------------------------------------------------- */

static int parse_protos(const char *key, const char *v, uint8_t *list, size_t *n, char *err, size_t errlen)
{
	char copy[256], *save = NULL, *tok;

	snprintf(copy, sizeof(copy), "%s", v);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int found = -1;

		for (int p = 0; p < WL_P__MAX && found < 0; p++)
			if (strcasecmp(tok, wl_proto_name((enum wl_proto)p)) == 0)
				found = p;
		if (found < 0) {
			snprintf(err, errlen, "unknown protocol '%.32s' in %s=", tok, key);
			return -EINVAL;
		}
		if (*n >= ROW_FILTER_PROTOS) {
			snprintf(err, errlen, "at most %d protocols in %s=", ROW_FILTER_PROTOS, key);
			return -EINVAL;
		}
		list[(*n)++] = (uint8_t)found;
	}
	return 0;
}

static int parse_param(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	struct row_filter *f = ctx;
	char *end;

	if (strcmp(key, "proto") == 0)
		return parse_protos(key, value, f->protos, &f->n_protos, err, errlen);
	if (strcmp(key, "proto_not") == 0)
		return parse_protos(key, value, f->not_protos, &f->n_not_protos, err, errlen);
	if (strcmp(key, "foreign") == 0) {
		if (strcmp(value, "1") != 0 && strcmp(value, "0") != 0) {
			snprintf(err, errlen, "foreign= must be 0 or 1");
			return -EINVAL;
		}
		f->foreign_only = value[0] == '1';
		return 0;
	}
	if (strcmp(key, "q") == 0) {
		if (strlen(value) >= sizeof(f->q)) {
			snprintf(err, errlen, "q= is longer than %zu bytes", sizeof(f->q) - 1);
			return -EINVAL;
		}
		for (size_t i = 0; value[i]; i++)
			f->q[i] = (char)tolower((unsigned char)value[i]);
		f->q[strlen(value)] = '\0';
		return 0;
	}
	if (strcmp(key, "flow") == 0) {
		errno = 0;
		f->flow_id = strtoull(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || f->flow_id == 0) {
			snprintf(err, errlen, "flow= must be a flow id (a positive whole number)");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "sensor") == 0) {
		if (strlen(value) >= sizeof(f->sensor)) {
			snprintf(err, errlen, "sensor= names no sensor");
			return -EINVAL;
		}
		snprintf(f->sensor, sizeof(f->sensor), "%s", value);
		return 0;
	}
	if (strcmp(key, "host") == 0) {
		if (query_addr(value, &f->host) < 0) {
			snprintf(err, errlen, "host= must be an IPv4 or IPv6 address");
			return -EINVAL;
		}
		f->has_host = true;
		return 0;
	}
	if (strcmp(key, "after_seq") == 0) {
		errno = 0;
		f->after_id = strtoull(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-') {
			snprintf(err, errlen, "after_seq= must be a whole number");
			return -EINVAL;
		}
		return 0;
	}
	return 1; /* not a filter parameter: the caller's (limit=, token=) */
}

int row_filter_parse(struct row_filter *f, const char *query, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	return query_each(query, parse_param, f, err, errlen);
}

/* ---- Rows ------------------------------------------------------------------ */

int row_decode(const struct ring_entry *e, struct wl_wire_record *rec)
{
	struct wl_wire_reader r;

	/* A ring entry is a bare record: read it as a batch of one. */
	r = (struct wl_wire_reader){ .p = e->record, .len = e->len, .off = 0, .left = 1 };
	return wl_wire_next(&r, rec) == 1 ? 0 : -EBADMSG;
}

static const char *best_name(const struct host *h)
{
	const struct host_name *best = NULL;

	for (unsigned i = 0; h && i < h->n_names; i++)
		if (!best || h->names[i].last_seen > best->last_seen)
			best = &h->names[i];
	return best ? best->name : NULL;
}

static const char *name_of(struct state *s, const struct wl_addr *a)
{
	const char *name = best_name(state_find_host(s, a));

	return name ? name : "";
}

static bool contains(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack; haystack++)
		if (strncasecmp(haystack, needle, n) == 0)
			return true;
	return false;
}

static bool text_matches(struct state *s, const struct row_filter *f, const struct wl_packet *pkt)
{
	const struct wl_flow *fl = &pkt->outer;
	char buf[64];

	if (contains(wl_proto_name(pkt->proto), f->q) || contains(pkt->info, f->q))
		return true;
	if ((fl->has & WL_HAS_SRC) && (contains(wl_addr_str(&fl->src, buf, sizeof(buf)), f->q) ||
				       contains(name_of(s, &fl->src), f->q)))
		return true;
	if ((fl->has & WL_HAS_DST) && (contains(wl_addr_str(&fl->dst, buf, sizeof(buf)), f->q) ||
				       contains(name_of(s, &fl->dst), f->q)))
		return true;
	if ((fl->has & (WL_HAS_SPORT | WL_HAS_DPORT))) {
		snprintf(buf, sizeof(buf), "%u %u", fl->sport, fl->dport);
		if (contains(buf, f->q))
			return true;
	}
	if ((pkt->has & WL_PKT_DNS) && pkt->dns.has_question && contains(pkt->dns.qname, f->q))
		return true;
	if ((pkt->has & WL_PKT_SNI) && contains(pkt->sni, f->q))
		return true;
	return (pkt->has & WL_PKT_HTTP) && contains(pkt->http.host, f->q);
}

static bool in_list(const uint8_t *list, size_t n, uint8_t proto)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == proto)
			return true;
	return false;
}

static bool same_addr(const struct wl_addr *a, const struct wl_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, a->family == 6 ? 16 : 4) == 0;
}

static bool has_host(const struct wl_packet *pkt, const struct wl_addr *host)
{
	const struct wl_flow *layers[2] = { &pkt->outer, &pkt->inner };

	for (int i = 0; i < 2; i++) {
		if (i == 1 && !(pkt->has & WL_PKT_INNER))
			break;
		if (((layers[i]->has & WL_HAS_SRC) && same_addr(&layers[i]->src, host)) ||
		    ((layers[i]->has & WL_HAS_DST) && same_addr(&layers[i]->dst, host)))
			return true;
	}
	return false;
}

/* What the ring entry alone tells, without the packet's summary. */
bool row_entry_matches(const struct state *s, const struct row_filter *f, const struct ring_entry *e)
{
	if (e->id <= f->after_id || (f->foreign_only && !e->foreign))
		return false;
	if (f->flow_id && e->flow_id != f->flow_id)
		return false;
	if (f->sensor[0] && strcmp(s->sensors[e->sensor].name, f->sensor) != 0)
		return false;
	if (f->n_protos && !in_list(f->protos, f->n_protos, e->proto))
		return false;
	return !in_list(f->not_protos, f->n_not_protos, e->proto);
}

bool row_matches(struct state *s, const struct row_filter *f, const struct ring_entry *e,
		 const struct wl_packet *pkt)
{
	if (!row_entry_matches(s, f, e))
		return false;
	if (f->has_host && !has_host(pkt, &f->host))
		return false;
	return !f->q[0] || text_matches(s, f, pkt);
}

/* Appends ,"key":"value" with JSON escaping of the (printable) value. */
static size_t put_kv(char *buf, size_t size, size_t used, const char *key, const char *value)
{
	size_t o = used;
	int n = snprintf(buf + o, o < size ? size - o : 0, ",\"%s\":\"", key);

	if (n < 0 || o + (size_t)n >= size)
		return size;
	o += (size_t)n;
	for (; *value && o + 8 < size; value++) {
		unsigned char ch = (unsigned char)*value;

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(buf + o, size - o, "\\u%04x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (o + 2 >= size)
		return size;
	buf[o++] = '"';
	buf[o] = '\0';
	return o;
}

size_t row_put_host(struct state *s, const struct wl_addr *a, const char *prefix, char *buf, size_t size,
		     size_t used, bool *alerting)
{
	const struct host *h = state_find_host(s, a);
	char key[32];

	if (!h)
		return used;
	if (h->geo.country[0]) {
		snprintf(key, sizeof(key), "%s%scountry", prefix, *prefix ? "_" : "");
		used = put_kv(buf, size, used, key, h->geo.country);
	}
	snprintf(key, sizeof(key), "%s%sscope", prefix, *prefix ? "_" : "");
	used = put_kv(buf, size, used, key, geo_scope_name((enum geo_scope)h->geo.scope));
	if (best_name(h)) {
		snprintf(key, sizeof(key), "%s%sname", prefix, *prefix ? "_" : "");
		used = put_kv(buf, size, used, key, best_name(h));
	}
	if (h->geo.asn && used < size) {
		int n = snprintf(buf + used, size - used, ",\"%s%sasn\":%u", prefix, *prefix ? "_" : "", h->geo.asn);

		used = n < 0 || (size_t)n >= size - used ? size : used + (size_t)n;
	}
	if (h->alerting && alerting)
		*alerting = true;
	return used;
}

long row_json(struct state *s, const struct ring_entry *e, struct wl_packet *pkt, char *buf, size_t size)
{
	bool alerting = false;
	long n;
	size_t used;
	int k;

	pkt->seq = e->id;
	n = wl_json_packet(pkt, buf, size);
	if (n < 2)
		return -ENOBUFS;
	used = (size_t)n - 2; /* drop the closing "}\n" and go on */
	k = snprintf(buf + used, size - used, ",\"capd_seq\":%llu,\"capd_sent_us\":%llu",
		     (unsigned long long)e->capd_seq, (unsigned long long)e->sent_us);
	used += (size_t)k;
	used = put_kv(buf, size, used, "sensor", s->sensors[e->sensor].name);
	if (pkt->outer.has & WL_HAS_SRC)
		used = row_put_host(s, &pkt->outer.src, "src", buf, size, used, &alerting);
	if (pkt->outer.has & WL_HAS_DST) {
		bool replies_to_flooder = false; /* only the source's flood marks a row */

		used = row_put_host(s, &pkt->outer.dst, "dst", buf, size, used, &replies_to_flooder);
	}
	if (used + 40 >= size)
		return -ENOBUFS;
	used += (size_t)snprintf(buf + used, size - used, ",\"foreign\":%s%s}", e->foreign ? "true" : "false",
				 alerting ? ",\"alert\":true" : "");
	return (long)used;
}
