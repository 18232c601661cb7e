/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Requests to capd's control channel (NN_REQ). HTTP threads call this one
 * at a time; a capd that does not answer within the timeout is reported as
 * such, and the socket is made afresh so that a late reply cannot be taken
 * for the next request's.
 */
#include "http/control.h"

#include "webd.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROL_TIMEOUT_MS 3000
#define CONTROL_REPLY_MAX (256 * 1024)

static int open_socket(struct webd *w)
{
	int timeout = CONTROL_TIMEOUT_MS, maxsize = CONTROL_REPLY_MAX;
	int sock = nn_socket(AF_SP, NN_REQ);

	if (sock < 0)
		return -1;
	nn_setsockopt(sock, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout, sizeof(timeout));
	nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout));
	nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof(maxsize));
	if (nn_connect(sock, w->opt.control) < 0) {
		nn_close(sock);
		return -1;
	}
	return sock;
}

char *control_request(struct webd *w, const char *json, char *err, size_t errlen)
{
	char *reply = NULL, *msg = NULL;
	int n;

	pthread_mutex_lock(&w->ctl_lock);
	if (w->ctl_sock < 0)
		w->ctl_sock = open_socket(w);
	if (w->ctl_sock < 0) {
		snprintf(err, errlen, "cannot reach capd's control channel at %s: %s", w->opt.control,
			 nn_strerror(nn_errno()));
		goto out;
	}
	if (nn_send(w->ctl_sock, json, strlen(json), 0) < 0 ||
	    (n = nn_recv(w->ctl_sock, &msg, NN_MSG, 0)) < 0) {
		snprintf(err, errlen, "capd did not answer on %s: %s", w->opt.control, nn_strerror(nn_errno()));
		nn_close(w->ctl_sock);
		w->ctl_sock = -1;
		goto out;
	}
	reply = malloc((size_t)n + 1);
	if (reply) {
		memcpy(reply, msg, (size_t)n);
		reply[n] = '\0';
	} else {
		snprintf(err, errlen, "out of memory");
	}
	nn_freemsg(msg);
out:
	pthread_mutex_unlock(&w->ctl_lock);
	return reply;
}
