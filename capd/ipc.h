/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Binding and closing capd's nanomsg sockets. For an ipc:// address the
 * socket file is part of the security design (who may subscribe, who may
 * send control requests), and capd binds it as root: nothing here calls a
 * function that follows a symlink at that path.
 */
#ifndef CAPD_IPC_H
#define CAPD_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The mode of capd's socket files: the group may connect, others may not. */
#define CAPD_IPC_MODE 0660

/*
 * nn_bind(sock, addr). For ipc:// the socket file is created with mode 0660
 * and group gid (unless gid is (gid_t)-1) by the umask and the effective
 * gid in force during the bind, so that no chmod or chown on its path is
 * needed afterwards: in a directory someone else can write, such a call
 * could be redirected by a symlink swapped in after the bind. Anything but
 * a socket already at the path (a symlink, a file) is refused, and so is a
 * file that is not, after the bind, a socket of ours with that mode and
 * group. Returns 0 or a negative errno; err gets one line naming what.
 * On failure, close sock with nn_close, not capd_close_bound: the path is
 * not ours to unlink (nn_close removes it only if the bind itself was done).
 */
int capd_bind(int sock, const char *addr, gid_t gid, const char *what, char *err, size_t errlen);

/*
 * Whether the directory of an ipc:// address can be written by a user other
 * than its owner: then that user could remove or replace capd's socket.
 */
bool capd_ipc_dir_shared(const char *addr);

/* Closes a socket bound on addr without letting nanomsg abort on the ipc file. */
void capd_close_bound(int sock, const char *addr);

#endif
