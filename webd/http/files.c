/* SPDX-License-Identifier: BSD-2-Clause */
#include "http/files.h"

#include "http/gate.h"
#include "http/http.h"
#include "webd.h"

#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int files_open_root(const char *dir, int *ret_fd)
{
	int fd = dir[0] ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	*ret_fd = fd;
	return fd < 0 ? -errno : 0;
}

/* Without the dashboard's files, / says where they were looked for. */
static int missing_web_root(struct webd *w, struct mg_connection *conn)
{
	char body[768];

	snprintf(body, sizeof(body),
		 "wlite-webd is running, but the dashboard's files were not found in '%s'.\n"
		 "Start it with --web-root DIR. The API is under /api/.\n",
		 w->opt.web_root);
	http_send(conn, 200, "text/plain; charset=utf-8", body, strlen(body));
	return 200;
}

static void send_head(struct mg_connection *conn, int status, const char *type, const struct stat *st,
		      const char *etag)
{
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\n"
		  "Content-Type: %s\r\n"
		  "Content-Length: %lld\r\n"
		  /* Revalidated on every load: an upgrade shows at once, and costs a 304 otherwise. */
		  "Cache-Control: no-cache\r\n"
		  "ETag: %s\r\n" WEBD_SECURITY_HEADERS "\r\n",
		  status, mg_get_response_code_text(conn, status), type,
		  status == 200 ? (long long)st->st_size : 0LL, etag);
}

static void send_body(struct mg_connection *conn, int fd)
{
	char buf[16384];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (mg_write(conn, buf, (size_t)n) <= 0)
			return;
}

static int send_file(struct webd *w, struct mg_connection *conn, const char *rel)
{
	const char *inm = mg_get_header(conn, "If-None-Match");
	bool head = strcmp(mg_get_request_info(conn)->request_method, "HEAD") == 0;
	int fd = openat(w->web_root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char etag[64];
	int status = 200;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		http_send_error(w, conn, 404, "not found");
		return 404;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st.st_mtim.tv_nsec);
	if (inm && strcmp(inm, etag) == 0)
		status = 304;
	send_head(conn, status, gate_static_type(rel), &st, etag);
	if (status == 200 && !head)
		send_body(conn, fd);
	close(fd);
	return status;
}

int files_serve(struct webd *w, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char rel[128];

	if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
		http_send_error(w, conn, 405, "method not allowed");
		return 405;
	}
	if (!gate_static_file(ri->local_uri, rel, sizeof(rel))) {
		http_send_error(w, conn, 404, "not found");
		return 404;
	}
	if (w->web_root_fd < 0 && strcmp(rel, "index.html") == 0)
		return missing_web_root(w, conn);
	return send_file(w, conn, rel); /* no root: openat() fails, and that is a 404 */
}
