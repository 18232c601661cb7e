#!/usr/bin/env bash
# tests/integration/webd.sh: wlite-webd end to end, against real capd replays.
#
# Every daemon here is real: wlite-capd replays captures (--read only, never
# a live interface) from the shared corpus or generated ones, and wlite-webd
# runs as the wlite user on a free 127.0.0.1 port; the nanomsg sockets live in
# a private mktemp -d directory (group wlite, mode 2770). All traffic stays on
# 127.0.0.1, including a fake ip-api server. The checks themselves are in
# webd_checks.py (Python 3, standard library only), one scenario a run:
#
#   main    every REST endpoint against capd --json, the pcap's own bytes and
#           tshark (zeek-wikipedia.pcap: DNS, HTTP, ARP, IPv6); the live feed
#           over SSE and WebSocket; exports; bad requests, Origin checks,
#           security headers, http_rejected
#   token   --token: Bearer, ?token=, cookie, on the API, SSE, WebSocket, POST
#   alerts  a generated flood capture: one alert per episode, cleared after,
#           none inside the cooldown, a second one after it
#   ipapi   --ip-api against a fake server: batching, no private addresses,
#           countries shown, then the server down: back-off, still serving
#   slow    a stalled SSE client is dropped while a reading one keeps getting
#           updates during a --speed max replay of a busy capture, no gaps
#
# and from webd_flows.py (flows, feed, active, bounded: conversations and
# endpoints against capd --flows and tshark, flow updates on the feed),
# and from webd_security.py (a hostile client: gate, ws, slowloris, exports,
# secrets) and webd_robust.py (misbehaving input: time, rcvmax, buffers;
# status: the status each handler sent agrees with what it returned),
# on the same harness;
#
# and here: refusing root, a bad flag and a bad configuration key.
#
# Output: TAP on stdout ("1..N", "ok K - ...", "not ok K - ..." plus "# "
# diagnostics); exits 1 if anything failed. Needs root (to become wlite).
# Takes about a minute; every scenario has a time limit, the whole well under
# four minutes. On failure the daemons' logs are kept and their path printed.
#
# Environment: WLITE_WEBD, WLITE_CAPD, WLITE_BUILD, WLITE_GEO_COUNTRY (the
# country .mmdb; default: build/geo's, if installed), WLITE_SHARED (default:
# the repository's sibling ../shared).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${WLITE_SHARED:-$(dirname "$0")/../../../shared}"
BUILD="${WLITE_BUILD:-$ROOT/build}"
WEBD="${WLITE_WEBD:-$BUILD/webd/wlite-webd}"
CAPD="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
CORPUS="$SHARED/pcap-corpus/dev"
GEO_DEFAULT="$BUILD/geo/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"
GEO="${WLITE_GEO_COUNTRY:-}"
if [[ -z "$GEO" && -f "$GEO_DEFAULT" ]]; then GEO="$GEO_DEFAULT"; fi
CHECKS="$HERE/webd_checks.py"
# The hostile-client scenarios (webd_security.py) and the misbehaving-input
# ones (webd_robust.py: absurd timestamps, oversized messages, short kernel
# buffers) use the same harness.
SECURITY="$HERE/webd_security.py"
ROBUST="$HERE/webd_robust.py"
# Conversations and endpoints against capd --flows (webd_flows.py).
FLOWS="$HERE/webd_flows.py"

# Scenarios and their time limits (s); the sum stays well under 6 minutes.
SCENARIOS=(main token alerts ipapi slow gate ws slowloris exports secrets time rcvmax buffers status
	flows feed active bounded)
declare -A LIMIT=([main]=60 [token]=25 [alerts]=45 [ipapi]=45 [slow]=45
	[gate]=45 [ws]=40 [slowloris]=30 [exports]=90 [secrets]=30 [time]=40 [rcvmax]=60 [buffers]=25 [status]=40
	[flows]=90 [feed]=60 [active]=40 [bounded]=40)
declare -A CHECKS_OF=([gate]="$SECURITY" [ws]="$SECURITY" [slowloris]="$SECURITY" [exports]="$SECURITY"
	[secrets]="$SECURITY" [time]="$ROBUST" [rcvmax]="$ROBUST" [buffers]="$ROBUST" [status]="$ROBUST"
	[flows]="$FLOWS" [feed]="$FLOWS" [active]="$FLOWS" [bounded]="$FLOWS")
checks_of() { printf '%s\n' "${CHECKS_OF[$1]:-$CHECKS}"; }
FIXED_CHECKS=5 # the checks in this file; keep in step with the report calls

# ------------------------------------------------------------------ TAP

# shellcheck source=tests/integration/lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"
# shellcheck source=tests/integration/lib/scenarios.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/scenarios.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (to run webd as the wlite user)"
	exit 0
fi
missing=""
for f in "$WEBD" "$CAPD"; do [[ -x "$f" ]] || missing+=" $f"; done
for c in python3 setpriv tshark curl; do command -v "$c" >/dev/null 2>&1 || missing+=" $c"; done
[[ -f "$CORPUS/zeek-wikipedia.pcap" ]] || missing+=" $CORPUS/zeek-wikipedia.pcap (set WLITE_SHARED)"
if [[ -n "$missing" ]]; then
	echo "1..1"
	echo "not ok 1 - webd integration test prerequisites"
	echo "# missing:$missing"
	exit 1
fi
if ! getent passwd wlite >/dev/null; then
	useradd --system --no-create-home --shell /usr/sbin/nologin wlite || {
		echo "1..1"
		echo "not ok 1 - cannot create the wlite user"
		exit 1
	}
fi

# ------------------------------------------------------------- clean-up

WORK="$(mktemp -d /tmp/wlite-webd-test.XXXXXX)"
chgrp wlite "$WORK" && chmod 2770 "$WORK"
trap scenarios_cleanup EXIT
trap 'exit 130' INT TERM

PLANNED=0
for f in "$CHECKS" "$SECURITY" "$ROBUST" "$FLOWS"; do
	if ! n="$(python3 "$f" --count all)"; then
		echo "1..1"
		echo "not ok 1 - $f --count failed"
		exit 1
	fi
	PLANNED=$((PLANNED + n))
done
echo "1..$((FIXED_CHECKS + PLANNED))"

# ------------------------------------------- start-up refusals (no server)

AS_WLITE=(setpriv --reuid wlite --regid wlite --init-groups --)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BASE_ARGS=(--capd "ipc://$WORK/none-pub.sock" --control "ipc://$WORK/none-ctl.sock" --ip-api off)

# run_refused NAME CMD...: runs CMD (which must refuse to start) with a
# time limit; sets RC and ERR (its stderr).
run_refused() {
	local out="$WORK/$1.err"
	shift
	RC=0
	timeout -k 2 10 "$@" >"$WORK/refused.out" 2>"$out" </dev/null || RC=$?
	ERR="$(cat "$out")"
}

port="$(free_port)"
run_refused root "$WEBD" "${BASE_ARGS[@]}" --listen "127.0.0.1:$port"
if ((RC == 0 || RC == 124 || RC == 137)); then why "exit status $RC (0: ran; 124: still running after 10 s)"; fi
lines="$(grep -c . <<<"$ERR")"
((lines == 1)) || why "expected one line on stderr, got $lines: $ERR"
if ! grep -qi 'root' <<<"$ERR" || ! grep -q -- '--allow-root' <<<"$ERR"; then
	why "the message does not say root / --allow-root: $ERR"
fi
report "webd refuses to run as root without --allow-root (non-zero, one clear line)"

run_refused flag "${AS_WLITE[@]}" "$WEBD" "${BASE_ARGS[@]}" --listen "127.0.0.1:$port" --no-such-flag
((RC != 0 && RC != 124 && RC != 137)) || why "exit status $RC"
grep -q -- '--no-such-flag' <<<"$ERR" || why "the message does not name the flag: $ERR"
run_refused value "${AS_WLITE[@]}" "$WEBD" "${BASE_ARGS[@]}" --listen "127.0.0.1:$port" --alert-window 0
((RC != 0 && RC != 124 && RC != 137)) || why "--alert-window 0: exit status $RC"
grep -q 'alert-window' <<<"$ERR" || why "--alert-window 0: the message does not name the option: $ERR"
report "a bad flag or value exits non-zero naming it"

conf="$WORK/bad.conf"
printf '[capd]\nfilter = udp\n[webd]\nbogus = 1\n' >"$conf"
chgrp wlite "$conf" && chmod 640 "$conf"
run_refused config "${AS_WLITE[@]}" "$WEBD" "${BASE_ARGS[@]}" --listen "127.0.0.1:$port" --config "$conf"
((RC != 0 && RC != 124 && RC != 137)) || why "exit status $RC"
grep -qF "$conf:4" <<<"$ERR" || why "the message does not name $conf:4: $ERR"
grep -q 'bogus' <<<"$ERR" || why "the message does not name the key: $ERR"
report "a bad configuration key exits non-zero naming the file and line"

printf '[webd]\n\nlisten = 127.0.0.1:%s\nalert-packets = lots\n' "$port" >"$conf"
run_refused config2 "${AS_WLITE[@]}" "$WEBD" "${BASE_ARGS[@]}" --config "$conf"
((RC != 0 && RC != 124 && RC != 137)) || why "exit status $RC"
grep -qF "$conf:4" <<<"$ERR" || why "the message does not name $conf:4: $ERR"
report "a bad configuration value exits non-zero naming the file and line"

# A central webd follows up to 256 sensors (common/sensors.h), under the
# usual soft limit of 1024 open files, which it raises for them.
many=()
for i in $(seq 1 257); do many+=(--capd "s$i=tcp://127.0.0.1:$((20000 + i))"); done
run_refused many "${AS_WLITE[@]}" "$WEBD" "${many[@]}" --control "ipc://$WORK/none-ctl.sock" --ip-api off \
	--history off --listen "127.0.0.1:$port"
((RC != 0 && RC != 124 && RC != 137)) || why "257 sensors: exit status $RC"
grep -q 'at most 256' <<<"$ERR" || why "257 sensors: the message does not give the limit: $ERR"
port="$(free_port)"
"${AS_WLITE[@]}" bash -c 'ulimit -S -n 1024 && exec "$@"' _ "$WEBD" "${many[@]:0:512}" \
	--control "ipc://$WORK/none-ctl.sock" --ip-api off --history off --listen "127.0.0.1:$port" \
	>"$WORK/many.out" 2>"$WORK/many.err" </dev/null &
many_pid=$!
echo "$many_pid" >>"$WORK/pids"
n=""
for _ in $(seq 1 50); do
	n="$(curl -s "http://127.0.0.1:$port/api/stats" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sensors"]))' 2>/dev/null)"
	[[ -n "$n" ]] && break
	sleep 0.2
done
[[ "$n" == 256 ]] || why "256 sensors: /api/stats lists ${n:-nothing}: $(tail -n 3 "$WORK/many.err")"
soft="$(awk '/Max open files/ {print $4}' "/proc/$many_pid/limits" 2>/dev/null)"
((${soft:-0} > 1024)) || why "the open-file limit stayed at ${soft:-?}"
kill -TERM "$many_pid" 2>/dev/null
wait "$many_pid" 2>/dev/null
report "256 sensors start (the open-file limit raised past 1024), 257 are refused naming the limit"

# -------------------------------------------------------------- scenarios

export WLW_WORK="$WORK" WLW_WEBD="$WEBD" WLW_CAPD="$CAPD" WLW_CORPUS="$CORPUS"
export WLW_GEO_COUNTRY="$GEO" WLW_BENCH="$BUILD/bench/bench.pcap"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

# The slow-client scenario runs in a network namespace of its own (loopback
# only) with small TCP send buffers, net.ipv4.tcp_wmem being per namespace:
# a stalled client's socket then fills with a few updates instead of 4 MiB.
# Where namespaces are not available it runs here, with bigger updates.
SMALL_WMEM="4096 16384 65536"
# shellcheck disable=SC2016 # expanded by the inner shell
IN_NETNS=(unshare --net -- bash -c 'ip link set lo up && echo "$1" >/proc/sys/net/ipv4/tcp_wmem && shift && exec "$@"'
	_ "$SMALL_WMEM")
if "${IN_NETNS[@]}" true 2>/dev/null; then NETNS=1; else NETNS=0; fi

for scen in "${SCENARIOS[@]}"; do
	wrap=()
	if [[ "$scen" == slow ]] && ((NETNS)); then wrap=("${IN_NETNS[@]}"); fi
	WLW_NETNS=$((${#wrap[@]} > 0)) run_scenario "$scen" "$(checks_of "$scen")" "${LIMIT[$scen]}" "${wrap[@]}"
done

((FAILS == 0)) || exit 1
exit 0
