/* SPDX-License-Identifier: BSD-2-Clause */
#include "ipc.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IPC_PREFIX "ipc://"
/* bind(2) gives a socket file 0777 & ~umask: this umask leaves 0660. */
#define IPC_UMASK (0777 & ~CAPD_IPC_MODE)
#define WHY_MAX 1024

static const char *ipc_path(const char *addr)
{
	size_t n = strlen(IPC_PREFIX);

	return strncmp(addr, IPC_PREFIX, n) == 0 ? addr + n : NULL;
}

/*
 * Before the bind: nothing, or a socket, at the path. nanomsg replaces a
 * stale socket (it tries to connect, then unlinks it: unlink removes a
 * symlink, never its target). Anything else is refused rather than removed.
 */
static int check_before(const char *path, char *why, size_t whylen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISSOCK(st.st_mode))
		return 0;
	snprintf(why, whylen, "%s exists and is %s, not a socket; refusing to replace it", path,
		 S_ISLNK(st.st_mode) ? "a symbolic link" : "some other file");
	return -EEXIST;
}

/* After the bind: the path must be the socket we just made, as we meant it. */
static int check_after(const char *path, gid_t gid, char *why, size_t whylen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		snprintf(why, whylen, "%s is gone after the bind: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != CAPD_IPC_MODE || (gid != (gid_t)-1 && st.st_gid != gid)) {
		snprintf(why, whylen,
			 "%s is not the socket just bound (found type/mode %o, owner %u, group %u; "
			 "want a socket, mode %o, owner %u, group %d): replaced after the bind, "
			 "or a setgid directory of another group; refusing it",
			 path, (unsigned)st.st_mode, (unsigned)st.st_uid, (unsigned)st.st_gid,
			 CAPD_IPC_MODE, (unsigned)geteuid(), gid == (gid_t)-1 ? -1 : (int)gid);
		return -EPERM;
	}
	return 0;
}

/*
 * The umask and the effective gid are per process, not per thread, and they
 * stay changed for the one nn_bind call only. That is safe because nothing
 * else creates a file meanwhile: capd binds during start-up, before the
 * event loop; libpcap and libevent have no threads of their own, and
 * nanomsg's worker thread (started by nn_socket) only moves messages and
 * accepts connections on sockets already bound. nanomsg's ipc bind itself
 * runs in the calling thread (nn_bind reports its errors synchronously;
 * strace -f shows bind(2) there). glibc's setegid changes every thread.
 */
static int bind_as(int sock, const char *addr, gid_t gid)
{
	gid_t saved = getegid();
	mode_t old_mask;
	int r;

	/* Root takes on the group; unprivileged, gid is already ours. */
	if (gid != (gid_t)-1 && gid != saved && setegid(gid) < 0)
		return -errno;
	old_mask = umask(IPC_UMASK);
	r = nn_bind(sock, addr) < 0 ? -nn_errno() : 0;
	umask(old_mask);
	if (getegid() != saved && setegid(saved) < 0 && r == 0)
		r = -errno;
	return r;
}

int capd_bind(int sock, const char *addr, gid_t gid, const char *what, char *err, size_t errlen)
{
	const char *path = ipc_path(addr);
	char why[WHY_MAX] = "";
	int r;

	if (!path) {
		if (nn_bind(sock, addr) >= 0)
			return 0;
		r = -nn_errno();
		snprintf(err, errlen, "cannot %s on %s: %s", what, addr, nn_strerror(-r));
		return r;
	}
	if ((r = check_before(path, why, sizeof(why))) < 0 || (r = bind_as(sock, addr, gid)) < 0 ||
	    (r = check_after(path, gid, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "cannot %s on %s: %s", what, addr, why[0] ? why : nn_strerror(-r));
		return r;
	}
	return 0;
}

bool capd_ipc_dir_shared(const char *addr)
{
	const char *path = ipc_path(addr), *slash;
	char dir[4096];
	struct stat st;

	if (!path || !(slash = strrchr(path, '/')))
		return false;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir[0] ? dir : "/", &st) < 0)
		return false;
	/* The sticky bit (as on /tmp) stops others from removing our files. */
	return (st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX);
}

void capd_close_bound(int sock, const char *addr)
{
	const char *path = ipc_path(addr);

	if (sock < 0)
		return;
	/*
	 * nanomsg unlinks an ipc socket file on close and aborts the process if
	 * that fails, as it does after the privilege drop when the directory is
	 * not ours. Remove it first; if we cannot, let exit() close the socket.
	 * unlink does not follow a symlink: at worst it removes one swapped in.
	 */
	if (path && unlink(path) < 0 && errno != ENOENT)
		return;
	nn_close(sock);
}
