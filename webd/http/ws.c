/* SPDX-License-Identifier: BSD-2-Clause */
#include "http/ws.h"

#include "http/guard.h"
#include "http/http.h"
#include "http/wsproto.h"
#include "live/feed.h"
#include "webd.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <civetweb.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define WS_POLL_MS 250           /* how soon the reader notices the end */
#define WS_WRITE_TIMEOUT_MS 5000 /* a client that reads nothing for this long is gone */
#define WS_FEED_WAIT_MS 1000

/* ---- A session ------------------------------------------------------------------- */

struct ws_session {
	struct webd *w;
	int fd;
	pthread_mutex_t write_lock;
	bool close_sent; /* under write_lock: nothing may follow a close frame */
	atomic_bool closing;
	struct feed_client *feed;
	char flows[FEED_FLOWS_QUERY_MAX]; /* the flow query asked for at the handshake */
};

static bool send_all(int fd, const struct iovec *iov_in, int iovcnt)
{
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };

	memcpy(iov, iov_in, sizeof(*iov) * (size_t)iovcnt);
	while (mh.msg_iovlen) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		if (poll(&p, 1, WS_WRITE_TIMEOUT_MS) <= 0)
			return false;
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return false;
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
			n -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= (size_t)n;
		}
	}
	return true;
}

static bool ws_send(struct ws_session *s, uint8_t opcode, const void *data, size_t len)
{
	uint8_t head[10];
	struct iovec iov[2] = { { head, wsproto_server_header(opcode, len, head) }, { (void *)data, len } };
	bool ok = false;

	pthread_mutex_lock(&s->write_lock);
	if (!s->close_sent) {
		ok = send_all(s->fd, iov, len ? 2 : 1);
		s->close_sent = opcode == WS_CLOSE || !ok;
	}
	pthread_mutex_unlock(&s->write_lock);
	return ok;
}

static void ws_send_close(struct ws_session *s, unsigned code)
{
	uint8_t body[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	ws_send(s, WS_CLOSE, body, sizeof(body));
}

/* The writer thread: feed updates out, until the client or the feed goes. */
static void *ws_writer(void *arg)
{
	struct ws_session *s = arg;
	bool gone = false;

	while (!gone && !atomic_load(&s->closing)) {
		struct feed_msg *m = feed_next(s->w->feed, s->feed, WS_FEED_WAIT_MS, &gone);
		bool ok = true;

		if (m) {
			ok = ws_send(s, WS_TEXT, m->data, m->len);
			feed_release(s->w->feed, m);
		}
		if (!ok)
			break;
	}
	/* Dropped for being slow, or shutting down: say goodbye properly. */
	if (gone)
		ws_send_close(s, WS_CLOSE_GOING_AWAY);
	atomic_store(&s->closing, true);
	return NULL;
}

/* Tells the client what was wrong with its message, as {"type":"error","error":...}. */
static bool ws_send_error(struct ws_session *s, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	char *text;
	bool ok;

	cJSON_AddStringToObject(o, "type", "error");
	cJSON_AddStringToObject(o, "error", why);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	ok = !text || ws_send(s, WS_TEXT, text, strlen(text));
	cJSON_free(text);
	return ok;
}

/*
 * A client's message: {"flows":"QUERY"} sets its flow query ("" or null
 * stops flow updates). Anything else gets an error message; the session
 * goes on.
 */
static bool on_message(struct ws_session *s, const char *data, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(data, len);
	const cJSON *flows = cJSON_GetObjectItemCaseSensitive(o, "flows");
	char err[256];
	bool ok = true;

	if (!cJSON_IsObject(o) || !(cJSON_IsString(flows) || cJSON_IsNull(flows)))
		ok = ws_send_error(s, "a message is {\"flows\":\"QUERY\"}");
	else if (feed_set_flows(s->w, s->feed, cJSON_IsString(flows) ? flows->valuestring : "", err, sizeof(err)) < 0)
		ok = ws_send_error(s, err);
	cJSON_Delete(o);
	return ok;
}

/*
 * Acts on one complete client frame. Returns false when the session ends.
 * Pings are answered; a text message in one frame may set the flow query;
 * other data (fragmented or binary) is ignored.
 */
static bool on_frame(struct ws_session *s, const struct ws_frame *f, uint8_t *payload)
{
	wsproto_unmask(payload, (size_t)f->len, f->mask, 0);
	if (f->opcode == WS_TEXT && f->fin)
		return on_message(s, (const char *)payload, (size_t)f->len);
	if (f->opcode == WS_PING)
		return ws_send(s, WS_PONG, payload, (size_t)f->len);
	if (f->opcode == WS_CLOSE) {
		/* Echo the close, as the handshake expects; 1005 (no code) is never sent. */
		if (f->len >= 2)
			ws_send(s, WS_CLOSE, payload, 2);
		else
			ws_send_close(s, WS_CLOSE_NORMAL);
		return false;
	}
	return true;
}

/* Handles the complete frames at the start of buf; returns bytes used, or -1 to end. */
static long consume_frames(struct ws_session *s, struct ws_message *msg, uint8_t *buf, size_t have)
{
	size_t used = 0;

	for (;;) {
		struct ws_frame f;
		int h = wsproto_parse_header(buf + used, have - used, &f);
		int r = h > 0 ? wsproto_message_check(msg, &f) : 0;

		if (h < 0 || r < 0) {
			ws_send_close(s, r == -EMSGSIZE ? WS_CLOSE_TOO_BIG : WS_CLOSE_PROTOCOL);
			return -1;
		}
		if (h == 0 || have - used - (size_t)h < f.len)
			return (long)used; /* the rest has not arrived */
		wsproto_message_commit(msg, &f);
		if (!on_frame(s, &f, buf + used + h))
			return -1;
		used += (size_t)h + (size_t)f.len;
	}
}

/* A fragment's size is checked before its payload is waited for, so this buffer suffices. */
static void ws_read_loop(struct ws_session *s)
{
	uint8_t buf[WS_MESSAGE_MAX + 14 + 2 * (WS_CONTROL_MAX + 6)];
	struct ws_message msg = { 0 };
	size_t have = 0;

	while (!atomic_load(&s->closing)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		ssize_t n;
		long used;

		if (poll(&p, 1, WS_POLL_MS) <= 0)
			continue;
		n = recv(s->fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		used = consume_frames(s, &msg, buf, have);
		if (used < 0)
			break;
		memmove(buf, buf + used, have - (size_t)used);
		have -= (size_t)used;
	}
}

/* ---- Serving /ws ----------------------------------------------------------------- */

/* Our own connection: it cannot close while this worker serves it. */
static int connection_fd(struct webd *w, const struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	return guard_find_socket(ri->remote_addr, (uint16_t)ri->remote_port, w->guard.listen_port);
}

static bool send_handshake(int fd, const char *accept)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 101 Switching Protocols\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\n\r\n",
			 accept);
	struct iovec iov = { head, (size_t)n };

	return send_all(fd, &iov, 1);
}

/* From the handshake on: the feed slot is taken here and given back on every path. */
static void ws_session_run(struct ws_session *s)
{
	pthread_t writer;

	char err[256];

	s->feed = feed_attach(s->w->feed);
	if (!s->feed) {
		ws_send_close(s, WS_CLOSE_TRY_LATER);
		return;
	}
	feed_set_flows(s->w, s->feed, s->flows, err, sizeof(err)); /* checked before the handshake */
	if (pthread_create(&writer, NULL, ws_writer, s) != 0) {
		ws_send_close(s, WS_CLOSE_TRY_LATER);
	} else {
		ws_read_loop(s);
		atomic_store(&s->closing, true);
		pthread_join(writer, NULL);
	}
	feed_detach(s->w->feed, s->feed);
}

int ws_serve(struct webd *w, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct ws_session s = { .w = w };
	char accept[WS_ACCEPT_LEN + 1];
	const char *why = "";
	int status;

	if ((status = http_authorize(w, conn)) != 0)
		return status;
	if ((status = http_feed_flows_param(w, conn, s.flows, sizeof(s.flows))) != 0)
		return status;
	if (strcmp(ri->request_method, "GET") != 0) {
		http_send_error(w, conn, 405, "a WebSocket opens with GET");
		return 405;
	}
	if (wsproto_handshake_check(mg_get_header(conn, "Upgrade"), mg_get_header(conn, "Connection"),
				    mg_get_header(conn, "Sec-WebSocket-Version"), mg_get_header(conn, "Sec-WebSocket-Key"),
				    accept, &why) < 0) {
		http_send_error(w, conn, 400, "%s", why);
		return 400;
	}
	s.fd = connection_fd(w, conn);
	if (s.fd < 0) {
		http_send_error(w, conn, 500, "cannot find this connection's socket");
		return 500;
	}
	if (!send_handshake(s.fd, accept))
		return 101;
	pthread_mutex_init(&s.write_lock, NULL);
	ws_session_run(&s);
	pthread_mutex_destroy(&s.write_lock);
	/* civetweb must not read on after the WebSocket: the connection ends here. */
	shutdown(s.fd, SHUT_RDWR);
	return 101;
}
