/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for capd/quic_initial.c against RFC 9001 Appendix A (v1) and
 * RFC 9369 Appendix A (v2): the secrets and keys from the client's DCID,
 * the RFCs' protected client and server Initials opened to their
 * plaintexts, tampering caught, and packet number recovery (RFC 9000 A.3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic.h"
#include "quic_initial.h"
#include "quic_vectors.h"

#include <errno.h>

static const uint8_t RFC_DCID[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

static size_t unhex(const char *hex, uint8_t *out, size_t room)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= room);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t b[64];

	assert_int_equal(unhex(want, b, sizeof(b)), len);
	assert_memory_equal(got, b, len);
}

static int setup(void **state)
{
	int err;

	*state = quic_initial_new(&err);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	quic_initial_free(*state);
	return 0;
}

struct key_vector {
	uint32_t version;
	const char *initial, *client, *server;
	const char *key[2], *iv[2], *hp[2]; /* client, server */
};

static const struct key_vector KEYS[] = {
	{ WL_QUIC_VERSION_1, "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44",
	  "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
	  "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
	  { "1f369613dd76d5467730efcbe3b1a22d", "cf3a5331653c364c88f0f379b6067e37" },
	  { "fa044b2f42a3fd3b46fb255c", "0ac1493ca1905853b0bba03e" },
	  { "9f50449e04a0e810283a1e9933adedd2", "c206b8d9b9f0f37644430b490eeaa314" } },
	{ WL_QUIC_VERSION_2, "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba",
	  "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
	  "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
	  { "8b1a0bc121284290a29e0971b5cd045d", "82db637861d55e1d011f19ea71d5d2a7" },
	  { "91f73e2351d8fa91660e909f", "dd13c276499c0249d3310652" },
	  { "45b95e15235d6f45a6b19cbcb0294ba9", "edf6d05c83121201b436e16877593c3a" } },
};

/* RFC 9001 A.1 and RFC 9369 A.1. */
static void test_keys(void **state)
{
	struct quic_initial *q = *state;

	for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
		const struct key_vector *v = &KEYS[i];
		uint8_t initial[32], client[32], server[32];

		assert_int_equal(quic_initial_secrets(q, v->version, RFC_DCID, 8, initial, client, server), 0);
		assert_hex(initial, 32, v->initial);
		assert_hex(client, 32, v->client);
		assert_hex(server, 32, v->server);
		for (int side = 0; side < 2; side++) {
			struct quic_keys k;

			assert_int_equal(quic_initial_keys(q, v->version, RFC_DCID, 8, side, &k), 0);
			assert_hex(k.key, 16, v->key[side]);
			assert_hex(k.iv, 12, v->iv[side]);
			assert_hex(k.hp, 16, v->hp[side]);
		}
	}
}

static void test_versions(void **state)
{
	struct quic_initial *q = *state;
	struct quic_keys k;

	assert_true(quic_initial_supported(WL_QUIC_VERSION_1));
	assert_true(quic_initial_supported(WL_QUIC_VERSION_2));
	assert_true(quic_initial_supported(0xff00001d));
	assert_true(quic_initial_supported(0xff000017));
	assert_false(quic_initial_supported(0x51303530)); /* Google Q050: its own salt */
	assert_false(quic_initial_supported(0x0a0a0a0a)); /* GREASE */
	assert_false(quic_initial_supported(0x709a50c4)); /* the v2 draft tshark 4.0 does not know */
	assert_int_equal(quic_initial_keys(q, 0x51303530, RFC_DCID, 8, false, &k), -EPROTONOSUPPORT);
	/* An empty DCID (a client breaking RFC 9000 7.2) still derives keys, as tshark tries. */
	assert_int_equal(quic_initial_keys(q, WL_QUIC_VERSION_1, RFC_DCID, 0, false, &k), 0);
}

struct open_case {
	const char *packet;
	uint32_t version;
	bool server;
	uint64_t pn;
	size_t pn_len;
	size_t pn_off;
	const char *frames; /* the plaintext, then zeros to payload_len */
	size_t payload_len;
};

static const struct open_case OPEN[] = {
	{ RFC9001_CLIENT_INITIAL, WL_QUIC_VERSION_1, false, 2, 4, 18, RFC_CLIENT_FRAMES, 1162 },
	{ RFC9001_SERVER_INITIAL, WL_QUIC_VERSION_1, true, 1, 2, 18, RFC_SERVER_PAYLOAD, 99 },
	{ RFC9369_CLIENT_INITIAL, WL_QUIC_VERSION_2, false, 2, 4, 18, RFC_CLIENT_FRAMES, 1162 },
	{ RFC9369_SERVER_INITIAL, WL_QUIC_VERSION_2, true, 1, 2, 18, RFC_SERVER_PAYLOAD, 99 },
};

/* The RFCs' packets open to their plaintexts; the header walker finds their packet numbers. */
static void test_open_rfc_packets(void **state)
{
	struct quic_initial *q = *state;
	static uint8_t pkt[1300], out[1300], want[1300];

	for (size_t i = 0; i < sizeof(OPEN) / sizeof(OPEN[0]); i++) {
		const struct open_case *c = &OPEN[i];
		size_t len = unhex(c->packet, pkt, sizeof(pkt));
		struct wl_quic_walk w;
		struct wl_quic_header h;
		struct quic_opened o;
		struct quic_keys k;
		size_t at;

		wl_quic_walk_init(&w, pkt, len, false);
		assert_int_equal(wl_quic_next(&w, &h, &at), 1);
		assert_int_equal(h.type, WL_QUIC_INITIAL);
		assert_int_equal(h.version, c->version);
		assert_int_equal(h.pn_off, c->pn_off);
		assert_int_equal(h.len, len);
		assert_int_equal(wl_quic_next(&w, &h, &at), 0);

		assert_int_equal(quic_initial_keys(q, c->version, RFC_DCID, 8, c->server, &k), 0);
		assert_int_equal(quic_initial_open(q, &k, pkt, len, c->pn_off, -1, out, &o), 0);
		assert_int_equal(o.pn, c->pn);
		assert_int_equal(o.pn_len, c->pn_len);
		assert_int_equal(o.payload_len, c->payload_len);
		memset(want, 0, sizeof(want));
		unhex(c->frames, want, sizeof(want));
		assert_memory_equal(out, want, c->payload_len);
	}
}

/* A bit flipped in the payload, or in a header byte only the AEAD covers, fails; so do the other side's keys. */
static void test_tampered(void **state)
{
	struct quic_initial *q = *state;
	static uint8_t orig[1300], pkt[1300], out[1300];
	size_t len = unhex(RFC9001_CLIENT_INITIAL, orig, sizeof(orig));
	struct quic_opened o;
	struct quic_keys k, server;

	assert_int_equal(quic_initial_keys(q, WL_QUIC_VERSION_1, RFC_DCID, 8, false, &k), 0);
	assert_int_equal(quic_initial_keys(q, WL_QUIC_VERSION_1, RFC_DCID, 8, true, &server), 0);
	memcpy(pkt, orig, len);
	pkt[len - 40] ^= 1;
	assert_int_equal(quic_initial_open(q, &k, pkt, len, 18, -1, out, &o), -EBADMSG);
	memcpy(pkt, orig, len);
	pkt[7] ^= 1; /* in the DCID */
	assert_int_equal(quic_initial_open(q, &k, pkt, len, 18, -1, out, &o), -EBADMSG);
	memcpy(pkt, orig, len);
	assert_int_equal(quic_initial_open(q, &server, pkt, len, 18, -1, out, &o), -EBADMSG);
	/* Too short for a sample, or for a tag: refused before any cipher runs. */
	memcpy(pkt, orig, len);
	assert_int_equal(quic_initial_open(q, &k, pkt, 18 + 19, 18, -1, out, &o), -EBADMSG);
	assert_int_equal(quic_initial_open(q, &k, pkt, 18, 18, -1, out, &o), -EBADMSG);
}

/* RFC 9000 A.3's example, and the edges of the window. */
static void test_packet_numbers(void **state)
{
	assert_int_equal(quic_decode_pn(0xa82f30ea, 0x9b32, 2), 0xa82f9b32);
	assert_int_equal(quic_decode_pn(-1, 2, 4), 2);
	assert_int_equal(quic_decode_pn(-1, 0xff, 1), 0xff);
	assert_int_equal(quic_decode_pn(0xff, 0x01, 1), 0x101);
	assert_int_equal(quic_decode_pn(0x1fe, 0xff, 1), 0x1ff);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_open_rfc_packets),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_packet_numbers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
