/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The /ws live feed, with the WebSocket protocol (RFC 6455, wsproto.c) done
 * by webd rather than by civetweb: civetweb 1.15 allocates whatever length
 * a client's frame header declares (up to about 2 GiB) before any handler
 * can refuse it, and takes a feed slot before its handshake can fail. Here a frame header is
 * checked before a byte of its payload is read, client messages are capped
 * at WS_MESSAGE_MAX (the dashboard sends none; a client may send pings),
 * and the feed slot is taken only once the handshake has been sent.
 */
#ifndef WEBD_WS_H
#define WEBD_WS_H

struct webd;
struct mg_connection;

/* Serves /ws on this connection (headers read). Returns the HTTP status sent. */
int ws_serve(struct webd *w, struct mg_connection *conn);

#endif
