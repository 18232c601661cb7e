/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control channel: an NN_REP socket answering a fixed set of JSON
 * requests, each checked before anything is done. Anything else gets an
 * error reply; nothing a client sends can stop the daemon.
 *
 *   {"cmd":"pause"}  {"cmd":"resume"}  {"cmd":"status"}  {"cmd":"list_interfaces"}
 *   {"cmd":"set_filter","filter":"tcp port 443"}
 *   {"cmd":"set_interface","interface":"eth1"}
 *
 * Replies: {"ok":true,...} or {"ok":false,"error":"one line"}.
 */
#include "capd.h"

#include "ipc.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROL_REQUEST_MAX 4096

typedef cJSON *(*command_fn)(struct capd *d, const cJSON *req, char *err, size_t errlen);

static cJSON *ok_reply(void)
{
	cJSON *reply = cJSON_CreateObject();

	cJSON_AddBoolToObject(reply, "ok", true);
	return reply;
}

static cJSON *error_reply(const char *why)
{
	cJSON *reply = cJSON_CreateObject();

	cJSON_AddBoolToObject(reply, "ok", false);
	cJSON_AddStringToObject(reply, "error", why);
	return reply;
}

static cJSON *with_status(struct capd *d, cJSON *reply)
{
	char *status = capd_status_json(d);
	cJSON *parsed = status ? cJSON_Parse(status) : NULL;

	free(status);
	if (parsed)
		cJSON_AddItemToObject(reply, "status", parsed);
	return reply;
}

static cJSON *cmd_pause(struct capd *d, const cJSON *req, char *err, size_t errlen)
{
	return capd_pause(d, err, errlen) < 0 ? NULL : with_status(d, ok_reply());
}

static cJSON *cmd_resume(struct capd *d, const cJSON *req, char *err, size_t errlen)
{
	return capd_resume(d, err, errlen) < 0 ? NULL : with_status(d, ok_reply());
}

static cJSON *cmd_status(struct capd *d, const cJSON *req, char *err, size_t errlen)
{
	return with_status(d, ok_reply());
}

static const char *string_arg(const cJSON *req, const char *name, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);

	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "'%s' must be a string", name);
		return NULL;
	}
	return v->valuestring;
}

static cJSON *cmd_set_filter(struct capd *d, const cJSON *req, char *err, size_t errlen)
{
	const char *filter = string_arg(req, "filter", err, errlen);

	if (!filter || capd_set_filter(d, filter, err, errlen) < 0)
		return NULL;
	return with_status(d, ok_reply());
}

static cJSON *cmd_set_interface(struct capd *d, const cJSON *req, char *err, size_t errlen)
{
	const char *iface = string_arg(req, "interface", err, errlen);

	if (!iface || capd_set_interface(d, iface, err, errlen) < 0)
		return NULL;
	return with_status(d, ok_reply());
}

static cJSON *cmd_list_interfaces(struct capd *d, const cJSON *req, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_if_t *all, *dev;
	cJSON *reply, *list;

	if (pcap_findalldevs(&all, errbuf) < 0) {
		snprintf(err, errlen, "cannot list interfaces: %s", errbuf);
		return NULL;
	}
	reply = ok_reply();
	list = cJSON_AddArrayToObject(reply, "interfaces");
	for (dev = all; dev; dev = dev->next) {
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "name", dev->name);
		if (dev->description)
			cJSON_AddStringToObject(item, "description", dev->description);
		cJSON_AddBoolToObject(item, "up", (dev->flags & PCAP_IF_UP) != 0);
		cJSON_AddBoolToObject(item, "running", (dev->flags & PCAP_IF_RUNNING) != 0);
		cJSON_AddBoolToObject(item, "loopback", (dev->flags & PCAP_IF_LOOPBACK) != 0);
		cJSON_AddBoolToObject(item, "current", d->cap.live && strcmp(dev->name, d->cap.source) == 0);
		cJSON_AddItemToArray(list, item);
	}
	pcap_freealldevs(all);
	return reply;
}

static const struct {
	const char *name;
	command_fn run;
} commands[] = {
	{ "pause", cmd_pause },
	{ "resume", cmd_resume },
	{ "status", cmd_status },
	{ "set_filter", cmd_set_filter },
	{ "set_interface", cmd_set_interface },
	{ "list_interfaces", cmd_list_interfaces },
};

/* Parses and runs one request; always returns a reply. */
static cJSON *handle_request(struct capd *d, const char *text, size_t len)
{
	char err[CAPD_ERR_MAX] = "";
	cJSON *req, *reply = NULL;
	const cJSON *cmd;

	if (len > CONTROL_REQUEST_MAX)
		return error_reply("request too large");
	req = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(req)) {
		cJSON_Delete(req);
		return error_reply("request is not a JSON object");
	}
	cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	if (!cJSON_IsString(cmd)) {
		cJSON_Delete(req);
		return error_reply("missing 'cmd'");
	}
	snprintf(err, sizeof(err), "unknown command '%.64s'", cmd->valuestring);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd->valuestring) != 0)
			continue;
		err[0] = '\0';
		reply = commands[i].run(d, req, err, sizeof(err));
		wl_info("control: %s%s%s", commands[i].name, reply ? "" : " refused: ", reply ? "" : err);
		break;
	}
	cJSON_Delete(req);
	return reply ? reply : error_reply(err);
}

static void send_reply(int sock, cJSON *reply)
{
	char *text = cJSON_PrintUnformatted(reply);

	cJSON_Delete(reply);
	if (!text)
		return;
	if (nn_send(sock, text, strlen(text), NN_DONTWAIT) < 0)
		wl_warn("control: reply not sent: %s", nn_strerror(nn_errno()));
	free(text);
}

static void on_control_readable(evutil_socket_t fd, short what, void *arg)
{
	struct capd *d = arg;
	char *msg = NULL;
	int n;

	/* REP: one request, one reply, until the socket has nothing more. */
	while ((n = nn_recv(d->ctl_sock, &msg, NN_MSG, NN_DONTWAIT)) >= 0) {
		send_reply(d->ctl_sock, handle_request(d, msg, (size_t)n));
		nn_freemsg(msg);
	}
}

int capd_control_bind(struct capd *d, char *err, size_t errlen)
{
	int maxsize = CONTROL_REQUEST_MAX * 2, r;

	d->ctl_sock = nn_socket(AF_SP, NN_REP);
	if (d->ctl_sock < 0 ||
	    nn_setsockopt(d->ctl_sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize)) < 0) {
		snprintf(err, errlen, "cannot create control socket: %s", nn_strerror(nn_errno()));
		return -EIO;
	}
	if ((r = capd_bind(d->ctl_sock, d->opt.control, d->gid, "listen for control", err, errlen)) < 0) {
		/* Not ours to unlink: whatever is at the path stays (see capd_bind). */
		nn_close(d->ctl_sock);
		d->ctl_sock = -1;
	}
	return r;
}

int capd_control_register(struct capd *d, char *err, size_t errlen)
{
	int fd;
	size_t fdlen = sizeof(fd);

	if (nn_getsockopt(d->ctl_sock, NN_SOL_SOCKET, NN_RCVFD, &fd, &fdlen) < 0) {
		snprintf(err, errlen, "cannot poll control socket: %s", nn_strerror(nn_errno()));
		return -EIO;
	}
	d->ev_control = event_new(d->base, fd, EV_READ | EV_PERSIST, on_control_readable, d);
	if (!d->ev_control || event_add(d->ev_control, NULL) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void capd_control_close(struct capd *d)
{
	if (d->ev_control)
		event_free(d->ev_control);
	d->ev_control = NULL;
	capd_close_bound(d->ctl_sock, d->opt.control);
	d->ctl_sock = -1;
}
