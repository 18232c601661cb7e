#!/usr/bin/env bash
# tests/integration/config.sh: how wlite-capd and wlite-webd treat bad
# configuration and a hostile environment.
#
# For both daemons: an unknown key and a bad value in --config FILE stop the
# daemon with a non-zero exit and exactly one line, "...FILE:LINE: reason";
# a missing --config file stops it naming the file. Then:
#   - webd without its geolocation database starts anyway, warns once, and
#     /api/stats says geo.local_database false; a SIGHUP with a now-broken
#     file is refused with one line and webd keeps serving;
#   - capd (--read, no capture) stops with one clear line when it cannot make
#     its sockets: a missing folder, or one it may not write to;
#   - webd run as root without --allow-root refuses, with one line.
# webd runs as the user wlite (setpriv), listening on a free port of
# 127.0.0.1. Nothing captures; nothing is sent anywhere.
#
# Output: TAP on stdout; exits 1 if anything failed. Needs root (setpriv).
# Environment: WLITE_CAPD, WLITE_WEBD, WLITE_BUILD.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${WLITE_BUILD:-$ROOT/build}"
CAPD_SRC="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
WEBD_SRC="${WLITE_WEBD:-$BUILD/webd/wlite-webd}"

PLAN=12
# shellcheck source=tests/integration/lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (setpriv to the user wlite)"
	exit 0
fi
for bin in "$CAPD_SRC" "$WEBD_SRC"; do
	if [[ ! -x "$bin" ]]; then
		echo "Bail out! $bin is not built (ninja -C $BUILD)"
		exit 1
	fi
done
for tool in python3 setpriv timeout curl; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing"
		exit 1
	fi
done
if ! id -u wlite >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin wlite || {
		echo "Bail out! cannot create the user wlite"
		exit 1
	}
fi

RUN=""
WEBD_PID=""
CLEANED=0
# shellcheck disable=SC2317 # called by the traps
cleanup() {
	((CLEANED)) && return
	CLEANED=1
	trap - EXIT INT TERM HUP
	if [[ -n "$WEBD_PID" ]]; then
		kill -TERM "$WEBD_PID" 2>/dev/null
		wait "$WEBD_PID" 2>/dev/null
	fi
	[[ -n "$RUN" && -d "$RUN" ]] && rm -rf "$RUN"
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"

# A folder everyone may read (webd runs as wlite), with copies of the
# binaries so that a rebuild meanwhile does not pull them away.
RUN="$(mktemp -d /tmp/wlite-config-test.XXXXXX)"
chmod 755 "$RUN"
mkdir -p "$RUN/bin" "$RUN/conf"
if ! cp "$CAPD_SRC" "$RUN/bin/wlite-capd" || ! cp "$WEBD_SRC" "$RUN/bin/wlite-webd"; then
	echo "Bail out! cannot copy the binaries"
	exit 1
fi
chmod 755 "$RUN/bin" "$RUN/bin/"* "$RUN/conf"
CAPD="$RUN/bin/wlite-capd"
WEBD="$RUN/bin/wlite-webd"
# An empty capture (pcap header only): --read mode, nothing captured.
python3 -c 'import struct, sys; open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' \
	"$RUN/empty.pcap"
chmod 644 "$RUN/empty.pcap"

# conf NAME LINES...: writes $RUN/conf/NAME, readable by everyone; prints its path.
conf() {
	local f="$RUN/conf/$1"
	shift
	printf '%s\n' "$@" >"$f"
	chmod 644 "$f"
	printf '%s\n' "$f"
}
EMPTY="$(conf empty.conf '# nothing')"
# webd subscribes in $RUN, never in /run/wlite.
WSOCKS=(--capd "ipc://$RUN/capd.sock" --control "ipc://$RUN/capd-ctl.sock")

# An array, not a function: timeout and & must exec it (webd keeps its PID).
AS_WLITE=(setpriv --reuid=wlite --regid=wlite --init-groups)

# run_bad DESC PATTERN CMD...: CMD must exit 1-125 (no crash, no timeout)
# with nothing on stdout and exactly one line on stderr matching the
# extended regular expression PATTERN.
run_bad() {
	local desc="$1" pattern="$2" rc=0 out err
	shift 2
	out="$(timeout --kill-after=5 10 "$@" 2>"$RUN/stderr")" || rc=$?
	err="$(cat "$RUN/stderr")"
	if ((rc == 0)); then
		why "exited 0"
	elif ((rc > 125)); then
		why "exited $rc (a crash or the timeout)"
	fi
	[[ -z "$out" ]] || why "printed on stdout: $(head -c 300 <<<"$out")"
	if [[ "$(grep -c '' <<<"$err")" != 1 || -z "$err" ]]; then
		why "want exactly one line on stderr, got:"$'\n'"${err:-(nothing)}"
	elif ! grep -Eq -- "$pattern" <<<"$err"; then
		why "the line does not match /$pattern/: $err"
	fi
	echo "# $desc: exit $rc: $err"
	report "$desc"
}

# ------------------------------------------------------ bad configuration

f="$(conf capd-unknown.conf '# line 1' '[capd]' 'snaplen = 2048' 'no-such-key = 1')"
run_bad "capd: an unknown key stops it with FILE:LINE" "^wlite-capd: $f:4: .*no-such-key" \
	"$CAPD" --config "$f" --read "$RUN/empty.pcap" --json

f="$(conf capd-value.conf '[capd]' '' 'snaplen = lots')"
run_bad "capd: a bad value stops it with FILE:LINE" "^wlite-capd: $f:3: .*snaplen.*lots" \
	"$CAPD" --config "$f" --read "$RUN/empty.pcap" --json

f="$(conf webd-unknown.conf '[capd]' 'interface = wl0' '[webd]' 'no-such-key = 1')"
run_bad "webd: an unknown key stops it with FILE:LINE" "^wlite-webd: $f:4: .*no-such-key" \
	"${AS_WLITE[@]}" "$WEBD" --config "$f"

f="$(conf webd-value.conf '[webd]' 'listen = 127.0.0.1:8080' 'ring-packets = -5')"
run_bad "webd: a bad value stops it with FILE:LINE" "^wlite-webd: $f:3: .*ring-packets.*-5" \
	"${AS_WLITE[@]}" "$WEBD" --config "$f"

run_bad "capd: a missing --config file stops it, naming the file" "^wlite-capd: .*$RUN/conf/missing\.conf" \
	"$CAPD" --config "$RUN/conf/missing.conf" --read "$RUN/empty.pcap" --json

run_bad "webd: a missing --config file stops it, naming the file" "^wlite-webd: .*$RUN/conf/missing\.conf" \
	"${AS_WLITE[@]}" "$WEBD" --config "$RUN/conf/missing.conf"

# -------------------------------------------- webd without a geo database

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
MMDB="$RUN/no-such-country.mmdb"
# Both sections, as in the shipped /etc/wlite/wlite.conf: webd reads [webd] only.
WCONF="$(conf webd-geo.conf '[capd]' 'interface = wl0' 'snaplen = 2048' '' '[webd]' \
	"listen = 127.0.0.1:$PORT" "geo-country = $MMDB" 'ip-api = off' 'ring-packets = 1000')"
"${AS_WLITE[@]}" "$WEBD" --config "$WCONF" "${WSOCKS[@]}" >"$RUN/webd.out" 2>"$RUN/webd.err" &
WEBD_PID=$!

STATS=""
get_stats() { STATS="$(curl -sf -m 3 "http://127.0.0.1:$PORT/api/stats" 2>/dev/null)" && [[ -n "$STATS" ]]; }
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
}
jget() { python3 -c 'import json, sys; print(json.dumps(eval(sys.argv[2], {"d": json.loads(sys.argv[1])})))' "$STATS" "$1" 2>/dev/null; }

if ! wait_for 10 get_stats; then
	why "no answer from http://127.0.0.1:$PORT/api/stats in 10 s"
	why "$(cat "$RUN/webd.err")"
else
	geo="$(jget 'd["geo"]["local_database"]')"
	[[ "$geo" == false ]] || why "geo.local_database is '$geo', want false"
	# More requests must not warn again.
	for _ in 1 2 3; do curl -sf -m 3 -o /dev/null "http://127.0.0.1:$PORT/api/stats"; done
	curl -sf -m 3 -o /dev/null "http://127.0.0.1:$PORT/api/hosts" 2>/dev/null
	sleep 0.5
	warned="$(grep -c -F "$MMDB" "$RUN/webd.err")"
	[[ "$warned" == 1 ]] || why "want one warning naming $MMDB, got $warned:"$'\n'"$(cat "$RUN/webd.err")"
	echo "# $(grep -F "$MMDB" "$RUN/webd.err" | head -n 1)"
fi
kill -0 "$WEBD_PID" 2>/dev/null || why "webd is not running"
report "webd without its geo database starts, warns once, geo.local_database false"

# SIGHUP with a broken file: refused in one line, the old settings stay.
printf '%s\n' '[webd]' "listen = 127.0.0.1:$PORT" 'alert-window = never' >"$WCONF"
lines_before="$(grep -c '' "$RUN/webd.err")"
kill -HUP "$WEBD_PID" 2>/dev/null
sleep 1
new="$(tail -n +"$((lines_before + 1))" "$RUN/webd.err")"
if ! kill -0 "$WEBD_PID" 2>/dev/null; then
	why "webd exited on SIGHUP with a bad file:"$'\n'"$new"
elif ! get_stats; then
	why "webd stopped answering after the refused reload"
fi
if [[ "$(grep -c '' <<<"$new")" != 1 ]] || ! grep -Eq "refused.*$WCONF:3: .*alert-window" <<<"$new"; then
	why "want one line refusing the reload with $WCONF:3, got:"$'\n'"${new:-(nothing)}"
fi
echo "# ${new:-(nothing)}"
report "webd: a reload with a bad value is refused with FILE:LINE and webd keeps serving"

kill -TERM "$WEBD_PID" 2>/dev/null
rc=0
wait "$WEBD_PID" || rc=$?
WEBD_PID=""
((rc == 0)) || why "webd exited $rc on SIGTERM"
report "webd stops cleanly on SIGTERM"

# --------------------------------------------- capd without its runtime dir

run_bad "capd: a missing socket folder stops it with one line naming it" "/nonexistent-dir/" \
	"$CAPD" --config "$EMPTY" --read "$RUN/empty.pcap" --start-delay 0 \
	--publish ipc:///nonexistent-dir/capd.sock --control ipc:///nonexistent-dir/capd-ctl.sock

mkdir -p "$RUN/readonly"
chmod 555 "$RUN/readonly"
run_bad "capd: a socket folder it may not write stops it with one line naming it" \
	"$RUN/readonly/.*(ermission|denied|EACCES)" \
	"${AS_WLITE[@]}" "$CAPD" --config "$EMPTY" --read "$RUN/empty.pcap" --start-delay 0 \
	--publish "ipc://$RUN/readonly/capd.sock" --control "ipc://$RUN/readonly/capd-ctl.sock"

# ------------------------------------------------------------ webd as root

run_bad "webd as root without --allow-root refuses, in one line" "root.*--allow-root" \
	"$WEBD" --config "$EMPTY" --listen "127.0.0.1:$PORT" "${WSOCKS[@]}"

((FAILS == 0))
