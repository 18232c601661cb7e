/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How many capds (sensors) one subscriber follows at once: webd's --capd
 * and wlite-tap's --connect, and so the sensors webd's state and history
 * keep apart. One limit for all of them: webd numbers its sensors 0 to 255
 * in a uint8_t (its ring, its flows, its history rows), so it cannot grow
 * past 256 without widening those.
 */
#ifndef WL_SENSORS_H
#define WL_SENSORS_H

#define WL_SENSORS_MAX 256

/* A sensor index is a uint8_t: every one is below WL_SENSORS_MAX, so arrays of it need no check. */
_Static_assert(WL_SENSORS_MAX <= 256, "sensor indexes are uint8_t");

#endif
