#!/usr/bin/env bash
# tests/integration/units.sh: the systemd units, sysusers.d and tmpfiles.d
# entries as meson installs them, checked offline (no systemd needed as PID 1).
#
# The build directory is installed with `meson install --destdir` into a
# temporary root, and everything is checked inside that root (--root=), so
# that the paths the units name (ExecStart=, --config) are the installed ones:
#   - systemd-analyze verify on each unit: it must print nothing at all
#     (typos in keys or values only warn and still exit 0);
#   - systemd-analyze security --offline=yes: the overall exposure level must
#     be at most 4.0 for wlite-capd and 2.0 for wlite-webd and wlite-ipfix
#     (printed as "# ");
#   - the configuration file each unit passes with --config is installed;
#   - systemd-sysusers and systemd-tmpfiles accept wlite's entries and make
#     the user wlite and /run/wlite (0750 wlite:wlite) in the root.
# So that verify can resolve the dependencies every service gets
# (sysinit.target, ...) and ExecReload='s /bin/sh, the host's
# /usr/lib/systemd/system and sh are copied into the root.
#
# Output: TAP on stdout; exits 1 if anything failed.
# Environment: WLITE_BUILD (default: the repository's build/).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${WLITE_BUILD:-$ROOT/build}"

readonly UNITS=(wlite-capd.service wlite-webd.service wlite-ipfix.service)
declare -A MAX_EXPOSURE=([wlite-capd.service]=4.0 [wlite-webd.service]=2.0 [wlite-ipfix.service]=2.0)

# shellcheck source=tests/integration/lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

PLAN=$((1 + 4 * ${#UNITS[@]} + 3))

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles meson; do
	if ! command -v "$tool" >/dev/null; then
		echo "1..0 # SKIP $tool is not installed"
		exit 0
	fi
done
if [[ ! -f "$BUILD/build.ninja" ]]; then
	echo "Bail out! $BUILD is not a configured build directory"
	exit 1
fi

TMP=""
CLEANED=0
# shellcheck disable=SC2317 # called by the traps
cleanup() {
	((CLEANED)) && return
	CLEANED=1
	trap - EXIT INT TERM HUP
	[[ -n "$TMP" && -d "$TMP" ]] && rm -rf "$TMP"
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"

TMP="$(mktemp -d /tmp/wlite-units-test.XXXXXX)"
DEST="$TMP/root"

# ------------------------------------------------------------ the root

out="$(meson install -C "$BUILD" --no-rebuild --destdir "$DEST" 2>&1)" || why "meson install --destdir failed:"$'\n'"$out"
# What verify needs besides our files: the host's unit directory (for the
# default dependencies) and /bin/sh (ExecReload=). Debian 12 is merged-/usr,
# so /bin is usr/bin.
mkdir -p "$DEST/usr/lib/systemd" "$DEST/usr/bin" "$DEST/etc"
cp -a /usr/lib/systemd/system "$DEST/usr/lib/systemd/" 2>/dev/null || why "cannot copy /usr/lib/systemd/system"
sh_real="$(readlink -f /bin/sh)"
cp -a "$sh_real" "$DEST/usr/bin/" 2>/dev/null || why "cannot copy $sh_real"
[[ -e "$DEST/usr/bin/sh" ]] || ln -s "$(basename "$sh_real")" "$DEST/usr/bin/sh"
[[ -e "$DEST/bin" ]] || ln -s usr/bin "$DEST/bin"
[[ -e "$DEST/sbin" ]] || ln -s usr/sbin "$DEST/sbin"
# sysusers wants these to exist (empty is fine) so that it does not copy the host's.
for f in passwd group shadow gshadow; do [[ -e "$DEST/etc/$f" ]] || : >"$DEST/etc/$f"; done
for u in "${UNITS[@]}"; do
	found="$(find "$DEST" -path '*/systemd/system/'"$u" -print -quit 2>/dev/null)"
	[[ -n "$found" ]] || why "$u was not installed under $DEST"
done
report "meson install --destdir installs every unit into a temporary root"

# ------------------------------------------------------------ per unit

exposure() {
	# Prints the number after "Overall exposure level for UNIT:".
	sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9.]*\).*/\1/p' <<<"$1" | head -n 1
}

for u in "${UNITS[@]}"; do
	path="$(find "$DEST" -path '*/systemd/system/'"$u" -print -quit 2>/dev/null)"
	rel="/${path#"$DEST"/}"

	rc=0
	out="$(systemd-analyze verify --root="$DEST" "$u" 2>&1)" || rc=$?
	((rc == 0)) || why "systemd-analyze verify exited $rc"
	[[ -z "$out" ]] || why "systemd-analyze verify printed (any output is a failure):"$'\n'"$out"
	report "systemd-analyze verify $u prints nothing"

	# systemd-analyze security quotes the unit file first; a problem in it
	# makes the score meaningless, so the command must succeed.
	rc=0
	out="$(systemd-analyze security --offline=yes --root="$DEST" "$u" 2>&1)" || rc=$?
	score="$(exposure "$out")"
	max="${MAX_EXPOSURE[$u]}"
	if ((rc != 0)); then
		why "systemd-analyze security exited $rc:"$'\n'"$(tail -n 5 <<<"$out")"
	elif [[ -z "$score" ]]; then
		why "no 'Overall exposure level' line in:"$'\n'"$(tail -n 5 <<<"$out")"
	elif ! awk -v s="$score" -v m="$max" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
		why "exposure $score is above $max; what costs most:"
		why "$(grep '✗' <<<"$out")"
	fi
	echo "# $u: overall exposure level ${score:-?} (must be <= $max)"
	report "systemd-analyze security $u: exposure ${score:-?} <= $max"

	# The file the unit passes with --config is where meson installs it.
	conf="$(sed -n 's/^ExecStart=.*--config[ =]\([^ ]*\).*/\1/p' "$path" 2>/dev/null)"
	if [[ -z "$conf" ]]; then
		why "$rel: no ExecStart= with --config"
	elif [[ ! -f "$DEST$conf" ]]; then
		why "$rel passes --config $conf, which meson does not install"
	fi
	report "$u: its --config file ${conf:-?} is installed"

	# The binary it starts is installed and executable (verify checks this
	# too, but say so plainly).
	bin="$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$path" 2>/dev/null)"
	if [[ -z "$bin" || ! -x "$DEST$bin" ]]; then
		why "$rel starts '${bin:-?}', which is not an installed executable"
	fi
	report "$u: ExecStart= ${bin:-?} is installed"
done

# ---------------------------------------------- the configuration file

# It can hold the access token: not readable by every user.
conf_file="$DEST/usr/local/etc/wlite/wlite.conf"
[[ -f "$conf_file" ]] || conf_file="$(find "$DEST" -path '*/etc/wlite/wlite.conf' -print -quit)"
if [[ -z "$conf_file" ]]; then
	why "no etc/wlite/wlite.conf installed"
else
	mode_group="$(stat -c '%a %G' "$conf_file")"
	[[ "$mode_group" == "640 wlite" ]] || why "$conf_file is '$mode_group', expected '640 wlite'"
fi
report "wlite.conf is installed 0640, group wlite (it may hold the token)"

# ------------------------------------------------- sysusers and tmpfiles

sysusers="$(find "$DEST" -path '*/sysusers.d/wlite.conf' -print -quit)"
tmpfiles="$(find "$DEST" -path '*/tmpfiles.d/wlite.conf' -print -quit)"
if [[ -z "$sysusers" ]]; then
	why "no sysusers.d/wlite.conf installed"
else
	rc=0
	out="$(systemd-sysusers --root="$DEST" "$sysusers" 2>&1)" || rc=$?
	((rc == 0)) || why "systemd-sysusers exited $rc:"$'\n'"$out"
	grep -v '^Creating ' <<<"$out" | grep -q . && why "systemd-sysusers warned:"$'\n'"$out"
	grep -q '^wlite:' "$DEST/etc/passwd" || why "no user wlite in the root's /etc/passwd"
	grep -q '^wlite:' "$DEST/etc/group" || why "no group wlite in the root's /etc/group"
fi
report "systemd-sysusers creates the user and group wlite"

if [[ -z "$tmpfiles" ]]; then
	why "no tmpfiles.d/wlite.conf installed"
else
	rc=0
	out="$(systemd-tmpfiles --root="$DEST" --create "$tmpfiles" 2>&1)" || rc=$?
	((rc == 0)) || why "systemd-tmpfiles exited $rc:"$'\n'"$out"
	[[ -z "$out" ]] || why "systemd-tmpfiles printed:"$'\n'"$out"
	want_uid="$(awk -F: '$1 == "wlite" { print $3 }' "$DEST/etc/passwd")"
	want_gid="$(awk -F: '$1 == "wlite" { print $3 }' "$DEST/etc/group")"
	got="$(stat -c '%a %u %g' "$DEST/run/wlite" 2>/dev/null)"
	[[ "$got" == "750 $want_uid $want_gid" ]] ||
		why "/run/wlite is '${got:-missing}' (mode uid gid), want '750 $want_uid $want_gid'"
	if [[ -n "$conf_file" ]]; then
		got="$(stat -c '%a %u %g' "$conf_file" 2>/dev/null)"
		[[ "$got" == "640 0 $want_gid" ]] ||
			why "$conf_file is '${got:-missing}' after tmpfiles, want '640 0 $want_gid' (root, the root's wlite)"
	fi
fi
report "systemd-tmpfiles makes /run/wlite 0750 wlite:wlite and wlite.conf 0640 root:wlite"

((FAILS == 0))
