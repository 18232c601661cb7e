/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The dashboard's files, served by webd itself rather than by civetweb's
 * document root: only the files gate_static_file() names (never README.md,
 * package.json, lock files, dotfiles or directories, whatever the web root
 * holds), no directory redirects, no symbolic link at the last step, and
 * the same security headers as every other answer.
 */
#ifndef WEBD_FILES_H
#define WEBD_FILES_H

struct webd;
struct mg_connection;

/* Opens the web root; -1 in *ret_fd (and a warning to log) when it is missing. */
int files_open_root(const char *dir, int *ret_fd);

/* Answers a request for a path outside /api/ and /ws. Returns the status sent. */
int files_serve(struct webd *w, struct mg_connection *conn);

#endif
