/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Dropping privileges once the capture is open and the sockets are bound.
 * From root: switch to the unprivileged user, keeping only CAP_NET_RAW and
 * CAP_NET_ADMIN (to reopen captures on set_interface), and only for a live
 * capture: reading a file needs no capability at all. Started unprivileged
 * with those capabilities (systemd's AmbientCapabilities), the same end state
 * is reached by dropping everything else. Either way no new privileges can be
 * gained afterwards (PR_SET_NO_NEW_PRIVS).
 *
 * The bounding set (what a process could ever regain, e.g. through a file
 * capability) is cleared of everything else too, which takes CAP_SETPCAP:
 * root has it; in the ambient mode capd does not, and the unit's
 * CapabilityBoundingSet= clears it instead.
 */
#include "capd.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

static const cap_value_t kept_caps[] = { CAP_NET_RAW, CAP_NET_ADMIN };
#define N_KEPT (sizeof(kept_caps) / sizeof(kept_caps[0]))

int capd_resolve_user(const char *user, const char *group, uid_t *ret_uid, gid_t *ret_gid,
		      char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr;

	if (!pw) {
		snprintf(err, errlen, "no such user '%s' (create it, or pick one with --user)", user);
		return -ENOENT;
	}
	*ret_uid = pw->pw_uid;
	*ret_gid = pw->pw_gid;
	if (group && group[0]) {
		gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "no such group '%s'", group);
			return -ENOENT;
		}
		*ret_gid = gr->gr_gid;
	}
	if (*ret_uid == 0) {
		snprintf(err, errlen, "refusing to run as root: --user '%s' has uid 0", user);
		return -EPERM;
	}
	return 0;
}

static bool is_kept(cap_value_t cap, bool capture_caps)
{
	for (size_t i = 0; capture_caps && i < N_KEPT; i++)
		if (kept_caps[i] == cap)
			return true;
	return false;
}

/* Whether cap is in our effective set. */
static bool have_effective(cap_value_t cap)
{
	cap_t now = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (now)
		cap_get_flag(now, cap, CAP_EFFECTIVE, &v);
	cap_free(now);
	return v == CAP_SET;
}

/*
 * Clears the bounding set of every capability not kept, when we may (with
 * CAP_SETPCAP); the running kernel's last capability ends the walk.
 */
static int clear_bounding_set(bool capture_caps, char *err, size_t errlen)
{
	if (!have_effective(CAP_SETPCAP))
		return 0; /* the ambient mode: the unit's CapabilityBoundingSet= does it */
	for (cap_value_t cap = 0; prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) >= 0; cap++) {
		if (is_kept(cap, capture_caps))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0) {
			snprintf(err, errlen, "cannot clear capability %d from the bounding set: %s", (int)cap,
				 strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Leaves exactly the kept capabilities permitted and effective, if we hold them. */
static int keep_only_capture_caps(bool capture_caps, char *err, size_t errlen)
{
	cap_t now = cap_get_proc(), want = cap_init();
	cap_value_t have[N_KEPT];
	int n = 0, r = 0;

	if (!now || !want) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; capture_caps && i < N_KEPT; i++) {
		cap_flag_value_t v = CAP_CLEAR;

		cap_get_flag(now, kept_caps[i], CAP_PERMITTED, &v);
		if (v == CAP_SET)
			have[n++] = kept_caps[i];
	}
	if (n && (cap_set_flag(want, CAP_PERMITTED, n, have, CAP_SET) < 0 ||
		  cap_set_flag(want, CAP_EFFECTIVE, n, have, CAP_SET) < 0))
		r = -errno;
	if (r == 0 && cap_set_proc(want) < 0)
		r = -errno;
out:
	if (r < 0)
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(-r));
	cap_free(now);
	cap_free(want);
	return r;
}

static int switch_user(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	/* KEEPCAPS: the permitted set survives setresuid, so the two kept
	 * capabilities can be made effective again afterwards. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(1, &gid) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		snprintf(err, errlen, "cannot switch to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
			 strerror(errno));
		return -errno;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}

int capd_drop_privileges(uid_t uid, gid_t gid, bool capture_caps, char *err, size_t errlen)
{
	int r;

	if ((r = clear_bounding_set(capture_caps, err, errlen)) < 0)
		return r;
	if (geteuid() == 0 && (r = switch_user(uid, gid, err, errlen)) < 0)
		return r;
	if ((r = keep_only_capture_caps(capture_caps, err, errlen)) < 0)
		return r;
	/* Nothing inherited by children we never start, and no way back up. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	if (geteuid() == 0 || getuid() == 0) {
		snprintf(err, errlen, "still root after dropping privileges");
		return -EPERM;
	}
	return 0;
}
