/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ip-api fallback: for public addresses the local databases do not know,
 * an asynchronous client on libevent's evhttp using the batch endpoint
 * (POST {base}/batch with a JSON array of at most 100 addresses, fields
 * status,countryCode,as,asname,city,lat,lon,query). It never blocks: a
 * look-up returns what the cache holds or queues the address and returns
 * -EAGAIN; answers arrive later through the callback, on the event loop.
 *
 * Limits honoured (ip-api's published rules for the free endpoint): at most
 * 15 batch requests a minute, tracked locally and from the X-Rl (requests
 * left) and X-Ttl (seconds until the window resets) headers; on HTTP 429 or
 * X-Rl 0, nothing is sent until X-Ttl has passed. Failures (no network,
 * refused, time-out, 5xx) back off exponentially from 5 s to 10 min and are
 * logged once per outage, not once per request. The cache is an LRU with a
 * TTL (answers: 24 h), with negative entries for addresses ip-api could not
 * place (1 h).
 *
 * Each request has a total deadline (timeout_ms, connect to last byte), not
 * only libevent's per-read time-out, so a server that sends its answer a
 * byte at a time fails like one that never answers, and the next request
 * goes after the back-off.
 *
 * What the answer says is not trusted: country is two ASCII letters,
 * uppercased, or "" for anything else; city and as_org are valid UTF-8,
 * cut on a character boundary to fit, with each ill-formed sequence and
 * each control character replaced by U+FFFD.
 */
#ifndef WEBD_IPAPI_H
#define WEBD_IPAPI_H

#include "geo/geo.h"

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

struct ipapi;

struct ipapi_config {
	const char *base_url;      /* e.g. "http://ip-api.com"; NULL or "off": disabled */
	size_t cache_entries;      /* LRU size (default 65536) */
	unsigned positive_ttl_s;   /* default 86400 */
	unsigned negative_ttl_s;   /* default 3600 */
	unsigned requests_per_min; /* default 15 */
	size_t queue_max;          /* addresses waiting to be asked; more are dropped (default 10000) */
	/* Timings; 0 means the default. The tests shorten them. */
	unsigned batch_delay_ms;   /* a batch of fewer than 100 waits this long for more (1000) */
	unsigned backoff_base_ms;  /* first back-off after a failure, doubling (5000) */
	unsigned backoff_max_ms;   /* longest back-off (600000: 10 min) */
	unsigned timeout_ms;       /* one request in all, connect to last byte (10000) */
};

/*
 * Called on the event loop for each address an answer (or a definite "no")
 * came for. a is the address as asked: IPv4-mapped and NAT64 addresses are
 * asked (and cached) as the IPv4 address they carry. For a "no", info has
 * source GEO_SRC_NONE and empty fields. The callback may call
 * ipapi_lookup(), not ipapi_free().
 */
typedef void (*ipapi_result_fn)(const struct wl_addr *a, const struct geo_info *info, void *userdata);

/*
 * requests sent; addresses answered (placed or not); requests failed;
 * times ip-api said to wait (HTTP 429 or X-Rl 0); addresses queued;
 * addresses dropped because the queue was full; look-ups the cache answered.
 */
struct ipapi_stats {
	uint64_t requests, answered, failed, rate_limited, queued, dropped, cache_hits;
	bool backing_off;
};

/*
 * Creates the client. Returns 0, -EINVAL for a base URL it cannot use (err
 * says why: only http:// is supported, this build has no TLS), -ENOMEM.
 * With the fallback off (cfg NULL, base_url NULL, "" or "off"), *ret is a
 * client whose look-ups always return -ENOENT. A host name (not a numeric
 * address) is resolved asynchronously with evdns.
 */
int ipapi_new(struct ipapi **ret, struct event_base *base, const struct ipapi_config *cfg,
	      ipapi_result_fn on_result, void *userdata, char *err, size_t errlen);

/*
 * 0 with *ret filled from the cache; -EAGAIN when queued (or already
 * queued or in flight), or when the queue is full (counted in
 * stats.dropped: ask again later); -ENOENT when ip-api could not place it
 * (cached), the address is not public, or the fallback is off; -ENOMEM.
 * *ret is only written on 0. Never blocks, never does I/O itself: requests
 * go out from a timer on the event loop. Not thread-safe: call it on the
 * event loop's thread.
 */
int ipapi_lookup(struct ipapi *c, const struct wl_addr *a, struct geo_info *ret);

void ipapi_get_stats(const struct ipapi *c, struct ipapi_stats *ret);

struct ipapi *ipapi_free(struct ipapi *c);

#endif
