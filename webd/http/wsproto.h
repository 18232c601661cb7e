/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The WebSocket protocol (RFC 6455) as far as webd's /ws needs it: the
 * handshake's checks, client frame headers, unmasking, server frame headers
 * and the size of a client message. Pure functions, for the unit tests and
 * the fuzzer; ws.c serves the connection with them.
 */
#ifndef WEBD_WSPROTO_H
#define WEBD_WSPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_MESSAGE_MAX 1024 /* bytes of one client message, all fragments */
#define WS_CONTROL_MAX 125  /* RFC 6455 5.5 */
#define WS_ACCEPT_LEN 28    /* base64 of a SHA-1 */

enum ws_opcode {
	WS_CONTINUATION = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xa,
};

/* Close codes (RFC 6455 7.4.1). */
enum {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_TRY_LATER = 1013,
};

struct ws_frame {
	bool fin;
	uint8_t opcode;
	uint8_t mask[4];
	uint64_t len;    /* payload length as declared */
	size_t head_len; /* bytes of the frame header */
};

/*
 * Checks the upgrade request's headers (any may be NULL) and computes the
 * Sec-WebSocket-Accept value into accept (WS_ACCEPT_LEN + 1 bytes).
 * Returns 0, or -EINVAL with the reason in why.
 */
int wsproto_handshake_check(const char *upgrade, const char *connection, const char *version, const char *key,
			    char *accept, const char **why);

/*
 * Parses a client frame header from buf. Returns the header's length, 0 if
 * more bytes are needed, or -EPROTO for a frame a client may not send
 * (unmasked, reserved bits or opcodes, a fragmented or long control frame,
 * a non-minimal length).
 */
int wsproto_parse_header(const uint8_t *buf, size_t len, struct ws_frame *f);

/* Unmasks payload bytes in place; offset is where they start in the payload. */
void wsproto_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);

/* Writes a server frame header (unmasked, FIN set) into out[10]; returns its length. */
size_t wsproto_server_header(uint8_t opcode, uint64_t len, uint8_t out[10]);

/* One client message across its fragments. */
struct ws_message {
	bool open;
	uint64_t size;
};

/*
 * Whether frame f may come next: 0 while the message stays within
 * WS_MESSAGE_MAX, -EMSGSIZE past it, -EPROTO for a continuation without a
 * start or a new message inside one. Checked on the header alone, before
 * any payload is waited for.
 */
int wsproto_message_check(const struct ws_message *m, const struct ws_frame *f);
/* Counts a complete frame that wsproto_message_check() accepted. */
void wsproto_message_commit(struct ws_message *m, const struct ws_frame *f);

#endif
