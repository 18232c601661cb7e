/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef WEBD_CONTROL_H
#define WEBD_CONTROL_H

#include <stddef.h>

struct webd;

/* Asks capd; returns capd's reply as malloc'ed JSON text, or NULL with err. */
char *control_request(struct webd *w, const char *json, char *err, size_t errlen);

#endif
