#!/usr/bin/env bash
# tests/integration/boot.sh: wlite-capd and wlite-webd as real systemd
# services, in a Debian 12 container booted with systemd-nspawn.
#
#   1. A minimal Debian root (debootstrap --variant=minbase plus the runtime
#      libraries, iproute2, ping and curl) is made once and cached under
#      $WLITE_BOOT_CACHE (default /var/cache/wlite-test/debootstrap-root);
#      each run boots a throwaway copy of it.
#   2. The project is built in its own build directory ($WLITE_BOOT_BUILD,
#      default build-boot/, --prefix=/usr --sysconfdir=/etc), installed into
#      the copy with `meson install --destdir`, with the geolocation database,
#      and /etc/wlite/wlite.conf says: capture on wl0, no ip-api.
#   3. The copy boots with --private-network: the container has only its own
#      lo. Inside it a veth pair wl0 (10.88.0.1) - wl1 (10.88.0.2, in a
#      network namespace "peer") carries a ping; nothing leaves the container.
#   4. Checked: sysusers and tmpfiles ran at boot; both units start (Type=
#      notify: they reached READY=1); /api/stats answers and its packet count
#      grows; capd runs as wlite with CapEff 0x3000, webd as a dynamic user
#      with no capabilities; reload; restarting capd while webd keeps serving
#      and reconnects; a clean stop; no errors in their journal; poweroff.
#
# Output: TAP on stdout; exits 1 if anything failed. Needs root. The first
# run makes the cache (about 45 s and 260 MB, from the Debian mirror in the
# host's apt sources); later runs take about a minute.
# scripts/test gives this script longer than the default timeout:
# wlite-test-timeout: 1200
#
# Environment: WLITE_BOOT_CACHE (cache folder), WLITE_BOOT_BUILD (build
# directory), WLITE_DEBIAN_MIRROR (overrides the mirror), WLITE_BOOT_KEEP=1
# (keep the root copy and its logs for debugging, in /var/tmp/wlite-boot.*).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
# shellcheck source=scripts/lib.sh
WL_PROG="tests/integration/boot.sh" source "$SRC/scripts/lib.sh"

SUITE=bookworm
CACHE="${WLITE_BOOT_CACHE:-/var/cache/wlite-test}"
PRISTINE="$CACHE/debootstrap-root"
BB="${WLITE_BOOT_BUILD:-$SRC/build-boot}"
# systemd itself, what the test runs inside (ip, ping, curl) and the runtime
# libraries of both daemons (Debian 12 names). The packages of whatever else
# the built binaries link to are added (runtime_packages), so that a new
# dependency remakes the cache instead of failing.
BASE_INCLUDE="systemd,systemd-sysv,dbus,iproute2,iputils-ping,curl,libpcap0.8,libevent-2.1-7,libnanomsg5,libcjson1,libmaxminddb0,libcivetweb1,libcap2,libsystemd0"
INCLUDE=""
STAMP=""
# The whole script, cache and build included, stays under this many seconds;
# past it the rest is reported as not run (scripts/test allows 1200).
BUDGET=1080

# ------------------------------------------------------------------ TAP

PLAN=18
# shellcheck source=tests/integration/lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"
# ok_or_stop DESC: reports; if the check failed, the rest cannot run.
ok_or_stop() {
	local failed=0
	[[ -n "$WHY" ]] && failed=1
	report "$1"
	if ((failed)); then
		echo "# stopping: the remaining checks depend on this one"
		exit 1
	fi
}

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (debootstrap, systemd-nspawn)"
	exit 0
fi
missing=()
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})) && ! wl_install_packages "${missing[@]}" >&2; then
	echo "Bail out! cannot install ${missing[*]}"
	exit 1
fi
for tool in systemd-nspawn debootstrap nsenter setsid meson python3 flock timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing"
		exit 1
	fi
done

# ------------------------------------------------------- set-up, clean-up

NAME="wlite-boot-$$"
WORK=""
NSPAWN=""
LEADER=""
PIDS=()
CG_DIRS=()
CLEANED=0

# Where nspawn gets its own cgroup: a hybrid hierarchy (systemd + unified,
# as on the project's machines) or a pure cgroup v2 one.
if [[ -d /sys/fs/cgroup/unified || -d /sys/fs/cgroup/systemd ]]; then
	for h in systemd unified; do
		[[ -d /sys/fs/cgroup/$h ]] && CG_DIRS+=("/sys/fs/cgroup/$h/$NAME")
	done
elif [[ -f /sys/fs/cgroup/cgroup.procs ]]; then
	CG_DIRS+=("/sys/fs/cgroup/$NAME")
fi

alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

# shellcheck disable=SC2317 # called by the traps
cleanup() {
	local pid d i
	((CLEANED)) && return
	CLEANED=1
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	if alive "$NSPAWN"; then
		# SIGTERM asks nspawn to shut the container down; then no mercy.
		kill -TERM "$NSPAWN" 2>/dev/null
		for ((i = 0; i < 50; i++)); do alive "$NSPAWN" || break; sleep 0.2; done
		if alive "$NSPAWN"; then
			echo "# the container did not stop in 10 s; killing it"
			alive "$LEADER" && kill -KILL "$LEADER" 2>/dev/null
			kill -KILL "$NSPAWN" 2>/dev/null
		fi
		wait "$NSPAWN" 2>/dev/null
	fi
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	# nspawn leaves its (empty) cgroups and propagation folder behind.
	for d in "${CG_DIRS[@]}"; do
		[[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		[[ -d "$d" ]] && echo "# could not remove $d"
	done
	rmdir "/run/systemd/nspawn/propagate/$NAME" /run/systemd/nspawn/propagate \
		/run/systemd/nspawn/locks /run/systemd/nspawn 2>/dev/null
	if [[ -n "$WORK" && -d "$WORK" ]]; then
		if [[ "${WLITE_BOOT_KEEP:-}" == 1 ]]; then
			echo "# kept $WORK"
		else
			# Nothing may be mounted there any more; never cross into a mount.
			findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r | xargs -r umount -l 2>/dev/null
			rm -rf --one-file-system "$WORK"
		fi
	fi
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"
START=$SECONDS

# The watchdog: a TERM after BUDGET seconds (every step below is bounded
# too, so the trap runs soon after).
# Its output goes nowhere: scripts/test's tee must not wait for it.
(
	sleep "$BUDGET" &
	sleeper=$!
	trap 'kill "$sleeper"; exit 0' TERM
	wait "$sleeper" && kill -TERM "$$"
) </dev/null >/dev/null 2>&1 &
PIDS+=("$!")

WORK="$(mktemp -d /var/tmp/wlite-boot.XXXXXX)"
LOGS="$WORK/logs"
mkdir -p "$LOGS"
# log_tail FILE: the end of a log, for a diagnostic.
log_tail() { tail -n "${2:-15}" "$1" 2>/dev/null; }

# ------------------------------------------ 1. build with --prefix=/usr

t0=$SECONDS
# The geolocation database comes from npm into build/geo (scripts/lib.sh);
# meson's install rule looks for it in the build directory, when configuring.
if wl_install_geo_db >"$LOGS/geo.log" 2>&1; then
	mkdir -p "$BB"
	[[ -e "$BB/geo" && ! -L "$BB/geo" ]] || ln -sfn "$WL_GEO_DIR" "$BB/geo"
else
	echo "# could not install the geolocation database (see the geo check below)"
fi
if ! wl_meson_setup "$BB" --prefix=/usr --sysconfdir=/etc -Dtests=disabled -Dwerror=false \
	>"$LOGS/setup.log" 2>&1; then
	why "meson setup $BB failed:"$'\n'"$(log_tail "$LOGS/setup.log")"
elif ! timeout 400 meson compile -C "$BB" -j "$WL_JOBS" >"$LOGS/compile.log" 2>&1; then
	why "compiling $BB failed:"$'\n'"$(log_tail "$LOGS/compile.log")"
elif ! grep -q '^ExecStart=/usr/bin/wlite-capd --config /etc/wlite/wlite.conf$' "$BB/systemd/wlite-capd.service"; then
	why "$BB/systemd/wlite-capd.service does not start /usr/bin/wlite-capd --config /etc/wlite/wlite.conf:"
	why "$(grep '^ExecStart' "$BB/systemd/wlite-capd.service")"
fi
ok_or_stop "$BB is built with --prefix=/usr --sysconfdir=/etc ($((SECONDS - t0)) s)"

# ------------------------------------------------- 2. the cached root

# The Debian mirror of the host's apt sources (one-line or deb822 format)
# that serves the suite itself, not -security or -updates.
debian_mirror() {
	local m
	if [[ -n "${WLITE_DEBIAN_MIRROR:-}" ]]; then
		echo "$WLITE_DEBIAN_MIRROR"
		return
	fi
	m="$(awk -v s="$SUITE" '$1 == "deb" {
		for (i = 2; i < NF; i++) if ($i ~ /^[a-z+]+:\/\//) { if ($(i + 1) == s) print $i; break }
	}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)"
	if [[ -z "$m" ]]; then
		m="$(awk -v s="$SUITE" 'BEGIN { RS = ""; FS = "\n" } {
		deb = 0; suite = 0; uri = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
			if ($i ~ /^Suites:/) { n = split($i, w, /[ \t]+/); for (j = 2; j <= n; j++) if (w[j] == s) suite = 1 }
			if ($i ~ /^URIs:/) { split($i, w, /[ \t]+/); uri = w[2] }
		}
		if (deb && suite && uri != "") print uri
	}' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)"
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

make_cache() {
	local mirror tmp rc=0
	mkdir -p "$CACHE" || return 1
	# One run at a time makes or copies the cache.
	exec 9>"$CACHE/lock"
	if ! timeout 600 flock 9; then
		why "another run holds $CACHE/lock"
		return 1
	fi
	if [[ -d "$PRISTINE" && "$(cat "$PRISTINE.stamp" 2>/dev/null)" == "$STAMP" ]]; then
		echo "# using the cached root $PRISTINE"
		return 0
	fi
	mirror="$(debian_mirror)"
	echo "# making $PRISTINE with debootstrap from $mirror (once; about a minute)"
	rm -rf --one-file-system "$PRISTINE" "$PRISTINE.stamp" "$CACHE"/debootstrap-root.tmp.*
	tmp="$CACHE/debootstrap-root.tmp.$$"
	timeout 480 debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$mirror" \
		>"$LOGS/debootstrap.log" 2>&1 || rc=$?
	if ((rc != 0)); then
		why "debootstrap exited $rc:"$'\n'"$(log_tail "$LOGS/debootstrap.log")"
		rm -rf --one-file-system "$tmp"
		return 1
	fi
	# Apt's downloaded .debs are not needed in every copy.
	rm -f "$tmp"/var/cache/apt/archives/*.deb
	mv "$tmp" "$PRISTINE" && echo "$STAMP" >"$PRISTINE.stamp"
}
# runtime_packages BINARY...: the Debian packages of the host's libraries
# the binaries load, one a line.
runtime_packages() {
	local lib real pkg
	ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u |
		while IFS= read -r lib; do
			real="$(readlink -f "$lib")"
			pkg="$(dpkg -S "$real" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null)"
			if [[ -n "$pkg" ]]; then
				echo "${pkg%%[:,]*}"
			else
				echo "# no Debian package has $lib: the container will lack it" >&2
			fi
		done
}
INCLUDE="$({
	tr , '\n' <<<"$BASE_INCLUDE"
	runtime_packages "$BB/capd/wlite-capd" "$BB/webd/wlite-webd"
} | sort -u | paste -sd ,)"
STAMP="$SUITE minbase $INCLUDE"
t0=$SECONDS
make_cache
ok_or_stop "a Debian $SUITE minbase root is cached in $PRISTINE ($((SECONDS - t0)) s)"

# ----------------------------------------- 3. install into a throwaway copy

t0=$SECONDS
R="$WORK/root"
# Still under make_cache's lock (fd 9): no other run replaces the cache meanwhile.
copied=0
timeout 120 cp -a --reflink=auto "$PRISTINE" "$R" 2>"$LOGS/copy.log" && copied=1
exec 9>&-
if ((!copied)); then
	why "copying $PRISTINE failed:"$'\n'"$(log_tail "$LOGS/copy.log")"
elif ! timeout 120 meson install -C "$BB" --no-rebuild --destdir "$R" >"$LOGS/install.log" 2>&1; then
	why "meson install --destdir failed:"$'\n'"$(log_tail "$LOGS/install.log")"
else
	for f in /usr/bin/wlite-capd /usr/bin/wlite-webd /usr/lib/systemd/system/wlite-capd.service \
		/usr/lib/systemd/system/wlite-webd.service /usr/lib/sysusers.d/wlite.conf \
		/usr/lib/tmpfiles.d/wlite.conf /usr/share/wlite/web/index.html; do
		[[ -e "$R$f" ]] || why "$f is not installed"
	done
	for f in /usr/bin/wlite-capd /usr/bin/wlite-webd; do
		out="$(chroot "$R" ldd "$f" 2>&1 | grep 'not found')" && why "$f lacks libraries in the root: $out"
	done
	mkdir -p "$R/etc/wlite"
	cat >"$R/etc/wlite/wlite.conf" <<-'EOF'
		# Written by tests/integration/boot.sh.
		[capd]
		interface = wl0

		[webd]
		# Nothing may leave the container.
		ip-api = off
	EOF
fi
ok_or_stop "installed into a copy of the root, with /etc/wlite/wlite.conf ($((SECONDS - t0)) s)"

# --------------------------------------------------------------- 4. boot

# in_ct [-t SECONDS] CMD...: runs CMD inside the container, bounded.
in_ct() {
	local t=30
	if [[ "$1" == -t ]]; then
		t="$2"
		shift 2
	fi
	timeout --kill-after=5 "$t" nsenter -t "$LEADER" -a "$@"
}
# wait_for SECONDS CMD...: polls CMD every 0.5 s until it succeeds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		((SECONDS >= end)) && return 1
		sleep 0.5
	done
}

t0=$SECONDS
(
	for d in "${CG_DIRS[@]}"; do
		mkdir -p "$d" && echo "$BASHPID" >"$d/cgroup.procs"
	done
	exec setsid systemd-nspawn -D "$R" --boot --private-network --console=pipe -M "$NAME" \
		--register=no --keep-unit
) </dev/null >"$LOGS/nspawn.log" 2>&1 &
NSPAWN=$!
# The container's PID 1 is the child of nspawn that runs systemd (nspawn's
# first child is a helper that forks it and exits).
find_leader() {
	local pid
	LEADER=""
	for pid in $(pgrep -P "$NSPAWN"); do
		if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == systemd ]]; then
			LEADER="$pid"
			return 0
		fi
	done
	return 1
}
booted() {
	local state
	state="$(in_ct -t 10 systemctl is-system-running --wait 2>/dev/null)"
	[[ "$state" == running || "$state" == degraded ]]
}
state=""
if ! wait_for 20 find_leader; then
	why "systemd-nspawn started no container:"$'\n'"$(log_tail "$LOGS/nspawn.log")"
elif ! wait_for 60 booted; then
	why "the container's systemd did not finish booting in 60 s: $(in_ct -t 5 systemctl is-system-running 2>&1)"
	why "$(in_ct -t 10 systemctl --failed --no-legend 2>&1)"
else
	state="$(in_ct -t 10 systemctl is-system-running 2>&1)"
	if [[ "$state" != running ]]; then
		why "the system is $state; failed units:"$'\n'"$(in_ct -t 10 systemctl --failed --no-legend 2>&1)"
	fi
fi
# Not fatal when merely degraded: the wlite checks can still run.
if [[ -z "$state" ]] || ! alive "$NSPAWN"; then
	ok_or_stop "the container boots (systemd-nspawn --boot --private-network)"
fi
report "the container boots to 'running' ($((SECONDS - t0)) s)"

# sysusers.d and tmpfiles.d ran at boot.
pw="$(in_ct getent passwd wlite)"
WLITE_UID="$(cut -d: -f3 <<<"$pw")"
WLITE_GID="$(in_ct getent group wlite | cut -d: -f3)"
[[ -n "$WLITE_UID" && -n "$WLITE_GID" ]] || why "no user or group wlite in the container: '$pw'"
got="$(in_ct stat -c '%a %U %G' /run/wlite 2>&1)"
[[ "$got" == "750 wlite wlite" ]] || why "/run/wlite before capd starts: '$got', want '750 wlite wlite'"
report "systemd-sysusers and systemd-tmpfiles made the user wlite ($WLITE_UID) and /run/wlite at boot"

# The test network, all inside the container: wl0 here, wl1 in netns peer.
net_up() {
	in_ct ip link add wl0 type veth peer name wl1 &&
		in_ct ip netns add peer &&
		in_ct ip link set wl1 netns peer &&
		in_ct ip addr add 10.88.0.1/24 dev wl0 &&
		in_ct ip link set wl0 up &&
		in_ct ip -n peer addr add 10.88.0.2/24 dev wl1 &&
		in_ct ip -n peer link set lo up &&
		in_ct ip -n peer link set wl1 up
}
if ! out="$(net_up 2>&1)"; then
	why "setting up wl0/wl1 failed: $out"
elif ! out="$(in_ct ip netns exec peer ping -c 2 -W 2 10.88.0.1 2>&1)"; then
	why "no ping over the veth: $out"
elif ! out="$(in_ct systemd-run --quiet --unit=wlite-test-ping \
	ip netns exec peer ping -q -i 0.2 10.88.0.1 2>&1)"; then
	why "cannot start the pinger: $out"
fi
ok_or_stop "a veth pair with 10.88.0.0/24 inside the container carries a ping (5/s)"

# ------------------------------------------------------ 5. the services

show() { in_ct -t 10 systemctl show -p "$2" --value "$1" 2>/dev/null; }
both_active() {
	[[ "$(show wlite-capd ActiveState)" == active && "$(show wlite-webd ActiveState)" == active ]]
}
journal() { in_ct -t 15 journalctl --no-pager -o cat "$@" 2>&1; }
unit_diag() {
	local u
	for u in wlite-capd wlite-webd; do
		why "$u: $(show "$u" ActiveState)/$(show "$u" SubState), result $(show "$u" Result)"
	done
	why "$(journal -n 15 -u wlite-capd -u wlite-webd)"
}

t0=$SECONDS
if ! out="$(in_ct -t 60 systemctl start wlite-capd wlite-webd 2>&1)"; then
	why "systemctl start failed: $out"
	unit_diag
elif ! both_active; then
	why "not both active after systemctl start"
	unit_diag
fi
CAPD_PID="$(show wlite-capd MainPID)"
WEBD_PID="$(show wlite-webd MainPID)"
report "systemctl start wlite-capd wlite-webd: both active, READY=1 sent ($((SECONDS - t0)) s)"

STATS=""
get_stats() {
	STATS="$(in_ct -t 10 curl -sf -m 5 http://127.0.0.1:8080/api/stats 2>/dev/null)" &&
		[[ "$(jget 'type(d["packets"]).__name__')" == int ]]
}
# jget EXPR: evaluates a Python expression over the JSON in STATS as d.
jget() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
try:
    print(json.dumps(eval(sys.argv[2])).strip("\""))
except Exception:
    print("?")' "$STATS" "$1" 2>/dev/null
}
# grows_by N SECONDS: the stats packet count grows by at least N within
# SECONDS. Leaves the last answer in STATS.
GROWN=""
grows_by() {
	local base="" now="" end=$((SECONDS + $2))
	get_stats && base="$(jget 'd["packets"]')"
	while ((SECONDS < end)); do
		sleep 0.5
		get_stats || continue
		now="$(jget 'd["packets"]')"
		if [[ -z "$base" ]]; then
			base="$now"
			continue
		fi
		if ((now >= base + $1)); then
			GROWN="$base -> $now"
			return 0
		fi
	done
	GROWN="${base:-?} -> ${now:-?}"
	return 1
}

if ! wait_for 20 get_stats; then
	why "no JSON from http://127.0.0.1:8080/api/stats in 20 s: '$(in_ct -t 10 curl -sS -m 5 http://127.0.0.1:8080/api/stats 2>&1 | head -c 300)'"
	unit_diag
fi
code="$(in_ct -t 10 curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:8080/ 2>&1)"
[[ "$code" == 200 ]] || why "GET / (the dashboard) answered '$code', not 200"
report "the dashboard and /api/stats answer on 127.0.0.1:8080"

if ! grows_by 10 20; then
	why "the packet count did not grow by 10 in 20 s: $GROWN"
	why "$(head -c 600 <<<"$STATS")"
fi
# capd's status (a message every second) names the interface it captures on.
capd_iface() { get_stats && [[ "$(jget 'd["sensors"][0]["capd_status"]["interface"]')" == wl0 ]]; }
if ! wait_for 10 capd_iface; then
	why "capd's status does not say interface wl0 (from /etc/wlite/wlite.conf) in 10 s:"
	why "$(jget 'd["sensors"]' | head -c 800)"
fi
report "packets flow from capd on wl0 to webd: $GROWN"

geo="$(jget 'd["geo"]["local_database"]')"
[[ "$geo" == true ]] || why "geo.local_database is '$geo': the installed .mmdb was not opened"
report "webd opened the installed geolocation database"

# proc_field PID FIELD: Uid, Gid, Groups and CapEff from /proc/PID/status in the container.
# shellcheck disable=SC2016 # awk's own $1
proc_field() { in_ct -t 10 awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status" 2>/dev/null; }

uid="$(proc_field "$CAPD_PID" Uid)"
cap="$(proc_field "$CAPD_PID" CapEff)"
[[ "$uid" == "$WLITE_UID $WLITE_UID $WLITE_UID $WLITE_UID" ]] || why "capd ($CAPD_PID) Uid: '$uid', want wlite ($WLITE_UID) everywhere"
[[ "$cap" == 0000000000003000 ]] || why "capd CapEff: '$cap', want 0000000000003000 (CAP_NET_ADMIN CAP_NET_RAW)"
report "capd runs as wlite ($uid) with CapEff 0x${cap:-?}"

uid="$(proc_field "$WEBD_PID" Uid)"
cap="$(proc_field "$WEBD_PID" CapEff)"
groups="$(proc_field "$WEBD_PID" Groups)"
read -r u1 _ <<<"$uid"
# DynamicUser= takes uids from 61184-65519.
if ! [[ "$uid" == "$u1 $u1 $u1 $u1" && "$u1" =~ ^[0-9]+$ ]] || ((u1 < 61184 || u1 > 65519)); then
	why "webd ($WEBD_PID) Uid: '$uid', want one dynamic uid (61184-65519)"
fi
[[ "$cap" == 0000000000000000 ]] || why "webd CapEff: '$cap', want 0"
[[ " $groups " == *" $WLITE_GID "* ]] || why "webd Groups: '$groups', without wlite ($WLITE_GID)"
report "webd runs as dynamic user $u1, in group wlite, with CapEff 0x${cap:-?}"

# -------------------------------------------------------------- 6. reload

reloaded_both() {
	[[ "$(journal -u wlite-capd | grep -c 'configuration reloaded')" -ge 1 &&
		"$(journal -u wlite-webd | grep -c 'configuration reloaded')" -ge 1 ]]
}
if ! out="$(in_ct -t 30 systemctl reload wlite-capd wlite-webd 2>&1)"; then
	why "systemctl reload failed: $out"
	unit_diag
elif ! wait_for 10 both_active; then
	why "not both active after the reload"
	unit_diag
elif ! wait_for 10 reloaded_both; then
	why "no 'configuration reloaded' from both in their journal:"$'\n'"$(journal -n 10 -u wlite-capd -u wlite-webd)"
fi
[[ "$(show wlite-capd MainPID)" == "$CAPD_PID" && "$(show wlite-webd MainPID)" == "$WEBD_PID" ]] ||
	why "a main process changed on reload"
report "systemctl reload wlite-capd wlite-webd: both re-read the configuration and stay active"

# ------------------------------------------------------ 7. restart capd

if ! out="$(in_ct -t 30 systemctl restart wlite-capd 2>&1)"; then
	why "systemctl restart wlite-capd failed: $out"
	unit_diag
elif ! wait_for 10 both_active; then
	why "not both active after restarting capd"
	unit_diag
fi
new="$(show wlite-capd MainPID)"
[[ -n "$new" && "$new" != 0 && "$new" != "$CAPD_PID" ]] || why "capd's MainPID is '$new' (was $CAPD_PID)"
[[ "$(show wlite-webd MainPID)" == "$WEBD_PID" ]] || why "webd was restarted too"
get_stats || why "webd stopped answering /api/stats"
report "restarting capd leaves webd ($WEBD_PID) running and serving"

if ! grows_by 10 20; then
	why "after capd's restart the packet count did not grow by 10 in 20 s: $GROWN"
	why "$(journal -n 10 -u wlite-capd -u wlite-webd)"
fi
report "webd reconnects to the new capd: $GROWN"

# --------------------------------------------------------------- 8. stop

if ! out="$(in_ct -t 60 systemctl stop wlite-capd wlite-webd 2>&1)"; then
	why "systemctl stop failed: $out"
fi
for u in wlite-capd wlite-webd; do
	st="$(show "$u" ActiveState) $(show "$u" Result) $(show "$u" ExecMainStatus)"
	[[ "$st" == "inactive success 0" ]] || why "$u after stop: '$st', want 'inactive success 0' (state, result, exit status)"
done
report "systemctl stop: both inactive, result success, exit status 0"

errs="$(journal -p warning -u wlite-capd -u wlite-webd)"
[[ -z "$errs" ]] || why "warnings or errors in the units' journal:"$'\n'"$errs"
report "no warnings or errors from either unit in the journal"

# ------------------------------------------------------------ 9. poweroff

in_ct -t 20 systemctl poweroff >/dev/null 2>&1
rc=""
for ((i = 0; i < 100; i++)); do alive "$NSPAWN" || break; sleep 0.3; done
if alive "$NSPAWN"; then
	why "the container was still running 30 s after systemctl poweroff"
else
	wait "$NSPAWN"
	rc=$?
	((rc == 0)) || why "systemd-nspawn exited $rc:"$'\n'"$(log_tail "$LOGS/nspawn.log")"
	NSPAWN=""
fi
report "systemctl poweroff shuts the container down (nspawn exit ${rc:-?}; $((SECONDS - START)) s in all)"

((FAILS == 0))
