/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target for the v1 wire reader (common/wire.c): what every
 * subscriber runs on whatever arrives on the socket.
 *
 * Input: a "pkt" batch, topic already stripped (the batch header first). Each
 * record read is checked for what consumers rely on (bounded counts, strings
 * terminated inside their arrays, raw bytes inside the message) and written
 * as v1 JSON, as wlite-tap does.
 *
 * Seeds (corpus/wire/) are batches of real packets, written by
 *     test-wire --write-seeds tests/fuzz/corpus/wire
 * They start with the magic "WL", so fuzz_main.c never takes them for
 * captures; and wl_fuzz_link_index() refuses every link type, so the driver
 * feeds this target no pcap packets.
 */
#include "fuzz_checks.h"
#include "packet-json.h"
#include "wlite-wire.h"

#include <errno.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int wl_fuzz_link_index(int linktype);

int wl_fuzz_link_index(int linktype)
{
	return -1;
}

#define CHECK_STR(arr) CHECK(memchr((arr), '\0', sizeof(arr)) != NULL)

static void check_record(const struct wl_wire_record *rec, const uint8_t *data, size_t size)
{
	const struct wl_packet *pkt = &rec->pkt;

	CHECK(rec->raw_len == pkt->caplen);
	CHECK(rec->raw >= data && rec->raw_len <= size - (size_t)(rec->raw - data));
	CHECK(rec->linktype >= 0 && rec->linktype <= 0xffff);
	CHECK(pkt->proto < WL_P__MAX);
	CHECK(pkt->malformed <= WL_INVALID);
	CHECK(pkt->ts_usec < 1000000);
	CHECK(pkt->n_vlan <= WL_VLAN_MAX);
	CHECK(pkt->n_layers <= WL_LAYERS_MAX);
	CHECK(pkt->outer.l3 <= WL_L3_OTHER);
	CHECK(pkt->outer.src.family == pkt->outer.dst.family);
	CHECK_STR(pkt->info);
	if (pkt->has & WL_PKT_INNER) {
		CHECK(pkt->inner.l3 <= WL_L3_OTHER);
		CHECK(pkt->inner.src.family == pkt->inner.dst.family);
	}
	if (pkt->has & WL_PKT_SNI)
		CHECK_STR(pkt->sni);
	if (pkt->has & WL_PKT_HTTP) {
		CHECK_STR(pkt->http.method);
		CHECK_STR(pkt->http.host);
		CHECK_STR(pkt->http.path);
	}
	if (pkt->has & WL_PKT_DHCP)
		CHECK_STR(pkt->dhcp.hostname);
	if (pkt->has & WL_PKT_ALPN) {
		CHECK(pkt->tls.n_alpn >= 1 && pkt->tls.n_alpn <= WL_ALPN_MAX);
		for (unsigned i = 0; i < pkt->tls.n_alpn; i++)
			CHECK_STR(pkt->tls.alpn[i]);
	}
	if (pkt->has & WL_PKT_JA3)
		CHECK_STR(pkt->tls.ja3);
	if (pkt->has & WL_PKT_JA3S)
		CHECK_STR(pkt->tls.ja3s);
	if (pkt->has & WL_PKT_JA4)
		CHECK_STR(pkt->tls.ja4);
	if (pkt->has & WL_PKT_DNS) {
		CHECK_STR(pkt->dns.qname);
		CHECK(pkt->dns.n_answers <= WL_DNS_MAX_ANSWERS);
		for (unsigned i = 0; i < pkt->dns.n_answers; i++) {
			CHECK(pkt->dns.answers[i].section <= WL_DNS_AR);
			CHECK_STR(pkt->dns.answers[i].name);
			CHECK_STR(pkt->dns.answers[i].data);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Static: both are large, and a subscriber reuses them as these do. */
	static struct wl_wire_record rec;
	static char json[WL_JSON_PACKET_MAX];
	struct wl_wire_reader r;
	int ret;

	ret = wl_wire_reader_init(&r, data, size);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -EPROTO);
	if (ret < 0)
		return 0;
	/*
	 * Poisoned, not zeroed: the reader must set whatever it marks valid, and
	 * stale zeros would hide a string it left unterminated.
	 */
	memset(&rec, 0xa5, sizeof(rec));
	while ((ret = wl_wire_next(&r, &rec)) == 1) {
		check_record(&rec, data, size);

		long n = wl_json_packet(&rec.pkt, json, sizeof(json));

		/* The smallest object has seq, ts, len, caplen, proto and info. */
		CHECK(n > 60 && (size_t)n <= sizeof(json));
		CHECK(json[0] == '{' && json[n - 2] == '}' && json[n - 1] == '\n');
		CHECK(memchr(json, '\n', (size_t)n - 1) == NULL);
	}
	CHECK(ret == 0 || ret == -EBADMSG);
	return 0;
}
