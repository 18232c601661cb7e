/* SPDX-License-Identifier: BSD-2-Clause */
#include "http/wsproto.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN 24            /* base64 of 16 bytes */

/* ---- The handshake --------------------------------------------------------------- */

/* Whether a comma-separated header value lists token (case-insensitive). */
static bool lists_token(const char *value, const char *token)
{
	size_t tlen = strlen(token);

	for (const char *p = value; p && *p;) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(p, token, tlen) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static bool key_ok(const char *key)
{
	unsigned char raw[WS_KEY_LEN];

	/* 24 characters decode to 18 bytes, the last two being the "==" padding. */
	return key && strlen(key) == WS_KEY_LEN && strcmp(key + 22, "==") == 0 &&
	       EVP_DecodeBlock(raw, (const unsigned char *)key, WS_KEY_LEN) == 18;
}

int wsproto_handshake_check(const char *upgrade, const char *connection, const char *version, const char *key,
			    char *accept, const char **why)
{
	unsigned char digest[SHA_DIGEST_LENGTH];
	char joined[WS_KEY_LEN + sizeof(WS_GUID)];

	if (!upgrade || !lists_token(upgrade, "websocket") || !connection || !lists_token(connection, "upgrade")) {
		*why = "expected Upgrade: websocket and Connection: Upgrade";
		return -EINVAL;
	}
	if (!version || strcmp(version, "13") != 0) {
		*why = "Sec-WebSocket-Version must be 13";
		return -EINVAL;
	}
	if (!key_ok(key)) {
		*why = "Sec-WebSocket-Key must be 16 bytes in base64";
		return -EINVAL;
	}
	snprintf(joined, sizeof(joined), "%s%s", key, WS_GUID);
	SHA1((const unsigned char *)joined, strlen(joined), digest);
	EVP_EncodeBlock((unsigned char *)accept, digest, sizeof(digest));
	return 0;
}

/* ---- Frames ---------------------------------------------------------------------- */

static bool opcode_known(uint8_t op)
{
	return op == WS_CONTINUATION || op == WS_TEXT || op == WS_BINARY || op == WS_CLOSE || op == WS_PING ||
	       op == WS_PONG;
}

int wsproto_parse_header(const uint8_t *buf, size_t len, struct ws_frame *f)
{
	size_t need = 2;
	uint8_t short_len;

	if (len < 2)
		return 0;
	f->fin = buf[0] & 0x80;
	f->opcode = buf[0] & 0x0f;
	short_len = buf[1] & 0x7f;
	/* No extension was negotiated, and a client must mask (RFC 6455 5.1, 5.2). */
	if ((buf[0] & 0x70) || !opcode_known(f->opcode) || !(buf[1] & 0x80))
		return -EPROTO;
	if ((f->opcode & 0x8) && (!f->fin || short_len > WS_CONTROL_MAX))
		return -EPROTO;
	need += short_len == 126 ? 2 : short_len == 127 ? 8 : 0;
	if (len < need + 4)
		return 0;
	if (short_len < 126) {
		f->len = short_len;
	} else if (short_len == 126) {
		f->len = (uint64_t)buf[2] << 8 | buf[3];
		if (f->len < 126)
			return -EPROTO;
	} else {
		f->len = 0;
		for (int i = 0; i < 8; i++)
			f->len = f->len << 8 | buf[2 + i];
		if (f->len >> 63 || f->len <= 0xffff)
			return -EPROTO;
	}
	memcpy(f->mask, buf + need, 4);
	f->head_len = need + 4;
	return (int)f->head_len;
}

void wsproto_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		data[i] ^= mask[(offset + i) & 3];
}

size_t wsproto_server_header(uint8_t opcode, uint64_t len, uint8_t out[10])
{
	out[0] = (uint8_t)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

int wsproto_message_check(const struct ws_message *m, const struct ws_frame *f)
{
	uint64_t before = f->opcode == WS_CONTINUATION ? m->size : 0;

	if (f->opcode & 0x8)
		return 0; /* control frames may come between fragments */
	if ((f->opcode == WS_CONTINUATION) != m->open)
		return -EPROTO;
	if (f->len > WS_MESSAGE_MAX || before + f->len > WS_MESSAGE_MAX)
		return -EMSGSIZE;
	return 0;
}

void wsproto_message_commit(struct ws_message *m, const struct ws_frame *f)
{
	if (f->opcode & 0x8)
		return;
	m->size = (f->opcode == WS_CONTINUATION ? m->size : 0) + f->len;
	m->open = !f->fin;
}

