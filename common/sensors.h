/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How many capds (sensors) one subscriber follows at once: webd's --capd
 * and wlite-tap's --connect, and so the sensors webd's state and history
 * keep apart. One limit for all of them: webd numbers its sensors in a
 * uint8_t (its ring, its history rows), so it must stay below 256.
 */
#ifndef WL_SENSORS_H
#define WL_SENSORS_H

#define WL_SENSORS_MAX 16

#endif
