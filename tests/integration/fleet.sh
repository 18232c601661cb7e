#!/usr/bin/env bash
# tests/integration/fleet.sh: a fleet of sensors feeding one central webd
# over TLS with mutual authentication (issue 13, items 2 and 3).
#
# Four network namespaces this script creates: three sensors (s1, s2, s3),
# each joined to the central one by a veth pair of its own (10.79.N.1 on the
# sensor, 10.79.N.2 in the centre); nothing touches the host's interfaces.
# Each sensor runs a capd replaying a different dev-corpus capture with
# --publish-flows tcp://127.0.0.1:5601, and stunnel (Debian's stunnel4, as
# the user wlite) listening on 10.79.N.1:5602 with the shipped configuration
# (systemd/wlite-stunnel-sensor.conf, only its paths and addresses changed):
# TLS 1.2+, a client certificate of the fleet's CA required, checkHost. The
# central namespace runs stunnel as a client (systemd/wlite-stunnel-
# central.conf, a section per sensor on 127.0.0.1:570N) and webd as wlite
# with --capd sN=tcp://127.0.0.1:570N, history off. The certificates come
# from scripts/wlite-certs.
#
# Checked: every sensor's flows arrive through its tunnel with the values of
# `wlite-capd --read FILE --flows`; webd's per-sensor health (up, drops,
# gaps, clock skew, url); no packet crosses a tunnel (webd counts none, and
# each sensor's veth carries about what capd's flows socket sent, far below
# the bytes of packets capd read; numbers in the log); the tunnel is the only
# listener on a non-loopback address in a sensor (ss -ltn); a capd killed
# (SIGKILL) shows down, and webd tries the tunnel once a second meanwhile;
# then up once it is started again, and its second run's flows are new
# entries with their own values (nothing added to the first run's, no gap
# counted); the sensor's
# stunnel refuses a client with no certificate, with a certificate of
# another CA, and with a sensor's certificate (wrong purpose), while the
# central host's certificate gets capd's stream; the central stunnel refuses
# a "sensor" whose certificate is from another CA; the two units pass
# systemd-analyze verify and security (exposure <= 2.0).
#
# Output: TAP on stdout; exits 1 if anything failed. Needs root. About 75 s.
# Debian packages it installs if missing: stunnel4 openssl iproute2
# nanomsg-utils (all in scripts/lib.sh's WL_PACKAGES).
# Environment: WLITE_CAPD, WLITE_WEBD, WLITE_BUILD, WLITE_SHARED.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${WLITE_SHARED:-$ROOT/../shared}"
BUILD="${WLITE_BUILD:-$ROOT/build}"
CAPD_SRC="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
WEBD_SRC="${WLITE_WEBD:-$BUILD/webd/wlite-webd}"
CORPUS="$SHARED/pcap-corpus/dev"
# Three captures with a few dozen flows and far more packet bytes than flow
# reports: 19 flows in 520 KB, 20 in 123 KB, 26 in 120 KB.
CAPTURES=(afs.pcap zeek-ssh__ssh.client-side-half-duplex.pcap of13_ericsson.pcapng)
SENSORS=(s1 s2 s3)
WEBD_PORT=18080
PLAN=17

# shellcheck source=tests/integration/lib/tap.sh
source "$HERE/lib/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (network namespaces; capd drops to wlite)"
	exit 0
fi
for bin in "$CAPD_SRC" "$WEBD_SRC"; do
	if [[ ! -x "$bin" ]]; then
		echo "Bail out! $bin is not built (ninja -C $BUILD)"
		exit 1
	fi
done
for c in "${CAPTURES[@]}"; do
	[[ -f "$CORPUS/$c" ]] || { echo "Bail out! the corpus is missing ($CORPUS/$c)"; exit 1; }
done
if ! ip netns list >/dev/null 2>&1; then
	echo "1..0 # SKIP ip netns does not work here"
	exit 0
fi
if ! command -v stunnel4 >/dev/null || ! command -v openssl >/dev/null || ! command -v ss >/dev/null ||
	! command -v nanocat >/dev/null; then
	# Debian's stunnel4 enables stunnel.target, which starts one stunnel per
	# /etc/stunnel/*.conf: there are none, and this test writes none there.
	# shellcheck source=scripts/lib.sh
	WL_PROG="tests/integration/fleet.sh" source "$ROOT/scripts/lib.sh"
	wl_install_packages stunnel4 openssl iproute2 nanomsg-utils >/dev/null 2>&1 || {
		echo "Bail out! cannot install stunnel4, openssl, iproute2 or nanomsg-utils"
		exit 1
	}
fi
if ! id -u wlite >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin wlite || {
		echo "Bail out! cannot create the user wlite"
		exit 1
	}
fi
PY="$(python3 -c 'import sys; print(sys.executable)')" || PY=python3
AS_WLITE=(setpriv --reuid wlite --regid wlite --init-groups --)

# ------------------------------------------------------- set-up, clean-up

ID="wlfl$$"
NS_C="${ID}c"
PIDS=()
RUN=""
CLEANED=0
declare -A CAPD_PID=()

ns_of() { echo "${ID}$1"; }       # ns_of s1: the namespace of sensor s1
num_of() { echo "${1#s}"; }       # num_of s2: 2
ip_of() { echo "10.79.$(num_of "$1").1"; }

# shellcheck disable=SC2317 # called by the traps
cleanup() {
	local pid ns s
	((CLEANED)) && return
	CLEANED=1
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for ns in "$NS_C" "${SENSORS[@]/#/$ID}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for s in "${SENSORS[@]}"; do
		ip netns del "$(ns_of "$s")" 2>/dev/null
		ip link del "${ID}$s" 2>/dev/null # not moved yet (a failure half-way through the set-up)
	done
	ip netns del "$NS_C" 2>/dev/null
	[[ -n "$RUN" && -d "$RUN" ]] && rm -rf "$RUN"
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"

# The whole run stays under 4 minutes: past 220 s the rest is reported as not run.
"$PY" -c 'import os, sys, time; time.sleep(220); os.kill(int(sys.argv[1]), 15)' "$$" &
PIDS+=("$!")

# capd drops to wlite, and stunnel and webd run as wlite: the group wlite
# must reach the sockets, the captures and the keys.
RUN="$(mktemp -d /tmp/wlite-fleet-test.XXXXXX)"
chgrp wlite "$RUN" && chmod 2770 "$RUN"
mkdir -p "$RUN/bin" "$RUN/cap"
cp "$CAPD_SRC" "$RUN/bin/wlite-capd" && cp "$WEBD_SRC" "$RUN/bin/wlite-webd"
cp "$HERE/lib/fleet_check.py" "$RUN/bin/"
chmod 755 "$RUN/bin" "$RUN/bin/"*
for c in "${CAPTURES[@]}"; do cp "$CORPUS/$c" "$RUN/cap/"; done
chmod 755 "$RUN/cap" && chmod 644 "$RUN/cap/"*
CAPD="$RUN/bin/wlite-capd"
WEBD="$RUN/bin/wlite-webd"
: >"$RUN/empty.conf" # no /etc/wlite/wlite.conf can change what is tested
chmod 644 "$RUN/empty.conf"

setup_net() {
	local s ns n
	ip netns add "$NS_C" && ip -n "$NS_C" link set lo up || return 1
	for s in "${SENSORS[@]}"; do
		ns="$(ns_of "$s")" n="$(num_of "$s")"
		ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
		ip link add "${ID}$s" type veth peer name "${ID}c$n" &&
			ip link set "${ID}$s" netns "$ns" && ip link set "${ID}c$n" netns "$NS_C" &&
			ip -n "$ns" addr add "10.79.$n.1/24" dev "${ID}$s" &&
			ip -n "$NS_C" addr add "10.79.$n.2/24" dev "${ID}c$n" &&
			ip -n "$ns" link set "${ID}$s" up && ip -n "$NS_C" link set "${ID}c$n" up || return 1
	done
}

# ------------------------------------------------------------------ helpers

inC() { ip netns exec "$NS_C" "$@"; }
fc() { inC timeout 60 "$PY" "$RUN/bin/fleet_check.py" "$@"; }
# fwait SECONDS EXPR: polls webd's /api/stats; a timeout goes to why.
fwait() {
	local out
	out="$(fc wait "$WEBD_PORT" "$@")" || { why "$out"; return 1; }
}
fshow() { fc show "$WEBD_PORT" "$@"; }
# tx_bytes SENSOR: bytes the sensor's veth has sent (towards the central host).
tx_bytes() { ip netns exec "$(ns_of "$1")" cat "/sys/class/net/${ID}$1/statistics/tx_bytes"; }

# wait_listen NS ADDR:PORT: up to 10 s for a TCP listener.
wait_listen() {
	local i
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$1" ss -Hltn "sport = :${2##*:}" | grep -qF "$2" && return 0
		sleep 0.1
	done
	why "nothing listens on $2 in $1"
	return 1
}

# stop_pid PID [SIGNAL]: signals PID, waits up to 10 s (then SIGKILL).
stop_pid() {
	local pid="$1" i
	[[ "$pid" =~ ^[0-9]+$ ]] && ((pid > 1)) || return
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
} 2>/dev/null

# Certificates: the fleet's CA, a sensor certificate each (with its address),
# the central host's; and another CA with a "central" certificate of its own.
make_certs() {
	local s
	"$ROOT/scripts/wlite-certs" --dir "$RUN/ca" ca &&
		"$ROOT/scripts/wlite-certs" --dir "$RUN/ca" central central &&
		"$ROOT/scripts/wlite-certs" --dir "$RUN/other" ca &&
		"$ROOT/scripts/wlite-certs" --dir "$RUN/other" central central &&
		"$ROOT/scripts/wlite-certs" --dir "$RUN/other" sensor s1 10.79.1.1 || return 1
	# The fleet's own CA, a sensor (serverAuth) certificate for the central name.
	mkdir -p "$RUN/ca2" && cp -p "$RUN/ca/ca.key" "$RUN/ca/ca.pem" "$RUN/ca2/" &&
		"$ROOT/scripts/wlite-certs" --dir "$RUN/ca2" sensor central || return 1
	for s in "${SENSORS[@]}"; do
		"$ROOT/scripts/wlite-certs" --dir "$RUN/ca" sensor "$s" "$(ip_of "$s")" || return 1
	done
	[[ "$(stat -c %a "$RUN/ca/ca.key") $(stat -c %a "$RUN/ca/s1.key") $(stat -c %a "$RUN/ca/s1.pem")" == "600 600 644" ]] ||
		{ echo "key modes: $(stat -c '%n %a' "$RUN/ca/"*)"; return 1; }
}

# host_tls HOST CADIR NAME: what a host gets (host.pem, host.key, ca.pem), for the user wlite.
host_tls() {
	local d="$RUN/tls/$1"
	mkdir -p "$d"
	cp "$2/$3.pem" "$d/host.pem" && cp "$2/$3.key" "$d/host.key" && cp "$2/ca.pem" "$d/ca.pem" &&
		chown -R wlite:wlite "$d" && chmod 700 "$d" && chmod 600 "$d/host.key"
}

# The shipped configurations, with the test's paths and addresses.
render_sensor() { # render_sensor SENSOR TLSHOST
	sed -e "s|/run/credentials/wlite-stunnel-sensor.service|$RUN/tls/$2|" \
		-e "s|^accept = .*|accept = $(ip_of "$1"):5602|" \
		-e "s|^connect = .*|connect = 127.0.0.1:5601|" \
		"$ROOT/systemd/wlite-stunnel-sensor.conf"
}
render_central() { # render_central TLSHOST ACCEPT_BASE [SENSOR...]: a section per sensor
	local tls="$1" base="$2" s
	shift 2
	sed -e "s|/run/credentials/wlite-stunnel-central.service|$RUN/tls/$tls|" -e '/^; webd: --capd/,$d' \
		"$ROOT/systemd/wlite-stunnel-central.conf"
	for s in "$@"; do
		printf '[%s]\naccept = 127.0.0.1:%d\nconnect = %s:5602\ncheckHost = %s\n' \
			"$s" $((base + $(num_of "$s"))) "$(ip_of "$s")" "$s"
	done
}

# start_stunnel NS NAME CONF: stunnel as wlite in NS; sets SPID.
start_stunnel() {
	ip netns exec "$1" "${AS_WLITE[@]}" stunnel4 "$3" >"$RUN/$2.stunnel.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
}

# start_capd SENSOR: capd replays the sensor's capture at full speed after
# 3 s (time for the tunnel to carry webd's connection), flows-only on 127.0.0.1:5601.
start_capd() {
	local s="$1" n
	n="$(num_of "$s")"
	ip netns exec "$(ns_of "$s")" "$CAPD" --config "$RUN/empty.conf" --read "$RUN/cap/${CAPTURES[n - 1]}" \
		--speed max --start-delay 3000 --publish "ipc://$RUN/$s-pub.sock" --control "ipc://$RUN/$s-ctl.sock" \
		--publish-flows tcp://127.0.0.1:5601 >>"$RUN/$s.capd.out" 2>>"$RUN/$s.capd.err" &
	CAPD_PID[$s]=$!
	PIDS+=("$!")
}

# tls_probe NAME CERTDIR|- : a TLS client in the central namespace to s1's
# stunnel (checking s1's certificate), with the certificate and key of
# CERTDIR/NAME (or none: -); prints the first bytes it received, as hex.
tls_probe() {
	local cert=()
	[[ "$2" != - ]] && cert=(-cert "$2/$1.pem" -key "$2/$1.key")
	# stdin stays open 3 s: long enough to read what capd says first.
	{ sleep 3; } | inC timeout 10 openssl s_client -connect 10.79.1.1:5602 -CAfile "$RUN/ca/ca.pem" \
		-verify_return_error -verify_hostname s1 "${cert[@]}" -quiet 2>>"$RUN/probe.err" | head -c 8 | od -An -tx1 | tr -d ' \n'
}

# =================================================================== set-up

if ! setup_net 2>"$RUN/setup.err"; then
	echo "Bail out! cannot set up the network namespaces: $(head -c 300 "$RUN/setup.err")"
	exit 1
fi
make_certs >"$RUN/certs.log" 2>&1 || why "wlite-certs failed: $(tail -n 5 "$RUN/certs.log")"
for s in "${SENSORS[@]}"; do
	host_tls "$s" "$RUN/ca" "$s" || why "cannot copy $s's certificate"
	render_sensor "$s" "$s" >"$RUN/$s.stunnel.conf"
	start_stunnel "$(ns_of "$s")" "$s" "$RUN/$s.stunnel.conf"
done
host_tls central "$RUN/ca" central || why "cannot copy the central certificate"
render_central central 5700 "${SENSORS[@]}" >"$RUN/central.stunnel.conf"
start_stunnel "$NS_C" central "$RUN/central.stunnel.conf"
for s in "${SENSORS[@]}"; do
	wait_listen "$(ns_of "$s")" "$(ip_of "$s"):5602"
	wait_listen "$NS_C" "127.0.0.1:$((5700 + $(num_of "$s")))"
done

# The references, before anything runs: capd --read FILE --flows.
for s in "${SENSORS[@]}"; do
	n="$(num_of "$s")"
	"$CAPD" --config "$RUN/empty.conf" --read "$RUN/cap/${CAPTURES[n - 1]}" --flows >"$RUN/$s.ref" 2>"$RUN/$s.ref.err" ||
		why "capd --read ${CAPTURES[n - 1]} --flows failed: $(tail -n 3 "$RUN/$s.ref.err")"
done

WEBD_ARGS=(--config "$RUN/empty.conf" --listen "127.0.0.1:$WEBD_PORT" --history off --ip-api off
	--control "ipc://$RUN/none-ctl.sock" --sensor-url "s1=https://10.79.1.1:8443/")
for s in "${SENSORS[@]}"; do WEBD_ARGS+=(--capd "$s=tcp://127.0.0.1:$((5700 + $(num_of "$s")))"); done
inC "${AS_WLITE[@]}" "$WEBD" "${WEBD_ARGS[@]}" >"$RUN/webd.out" 2>"$RUN/webd.err" &
WEBD_PID=$!
PIDS+=("$WEBD_PID")
fwait 10 'len(sensors) == 3'

# What crosses each tunnel, from capd's start (its 3 s delay) until the flows
# are in: the sensor's veth counter, and everything capd's flows socket sends
# (a nanocat on the sensor's loopback, subscribed to every topic, writes it
# as is). The veth counter starts once capd listens, so that webd's attempts
# while nothing did (a TLS handshake each, below) are not counted.
declare -A TX0=() TX=() PAYLOAD_PID=()
for s in "${SENSORS[@]}"; do start_capd "$s"; done
for s in "${SENSORS[@]}"; do
	wait_listen "$(ns_of "$s")" 127.0.0.1:5601
	ip netns exec "$(ns_of "$s")" nanocat --sub --connect tcp://127.0.0.1:5601 --raw >"$RUN/$s.payload" 2>/dev/null &
	PAYLOAD_PID[$s]=$!
	PIDS+=("$!")
done
sleep 0.3 # nanocat connected
for s in "${SENSORS[@]}"; do TX0[$s]="$(tx_bytes "$s")"; done
fwait 15 'all(h["up"] for h in health.values())'
report "set-up: 3 sensors (capd + stunnel), the central stunnel and webd; every sensor up in /api/stats through its tunnel"

# ============================================================ flows arrive

# Flows (distinct ids) and reports of each reference.
declare -A NFLOWS=() NREPORTS=()
REF_FLOWS=0
for s in "${SENSORS[@]}"; do
	NFLOWS[$s]="$("$PY" -c 'import json,sys; print(len({json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()}))' "$RUN/$s.ref")"
	NREPORTS[$s]="$(grep -c . "$RUN/$s.ref")"
	REF_FLOWS=$((REF_FLOWS + NFLOWS[$s]))
done
fwait 30 "stats['flows']['held'] == $REF_FLOWS and stats['flows']['active'] == 0 and all(s['capd_status'].get('finished') for s in sensors.values())"
for s in "${SENSORS[@]}"; do
	TX[$s]=$(($(tx_bytes "$s") - TX0[$s]))
	stop_pid "${PAYLOAD_PID[$s]}"
done
for s in "${SENSORS[@]}"; do
	out="$(fc flows "$WEBD_PORT" "$s" "$RUN/$s.ref" 1)" || why "$out"
	echo "# ${out%%$'\n'*}"
	report "$s: every flow of capd --read ${CAPTURES[$(num_of "$s") - 1]} --flows is in webd's /api/flows?sensor=$s with the same values"
done

# =========================================================== health, bytes

out="$(fshow '[(k, h) for k, h in sorted(health.items())]')"
echo "# health: $out"
out="$(fc wait "$WEBD_PORT" 5 '
all(h["up"] and h["stats_age"] < 3 and h.get("kernel_drops") == 0 and h.get("interface_drops") == 0
    and h.get("flow_evictions") == 0 and h["gaps"] == 0 and h["flow_gaps"] == 0 and h["flow_reports_missed"] == 0
    and h["clock_skew_ms"] is not None and -1000 < h["clock_skew_ms"] <= 5 for h in health.values())
and sensors["s1"].get("url") == "https://10.79.1.1:8443/" and "url" not in sensors["s2"]')" || why "$out"
report "health: up, stats_age < 3 s, no drops, evictions or gaps, clock skew within (-1000, 5] ms on one clock, s1's url"

# What crossed each tunnel: webd counts no packet; the sensor's veth sent
# about what capd's flows socket did (its flow reports, stats and status),
# plus TLS (a handshake with certificates, ~5 KB, and 22 bytes a record) and
# TCP/IP; and less than half of the bytes of packets capd read, which
# packet records (each longer than its captured bytes) would exceed.
for s in "${SENSORS[@]}"; do
	tx="${TX[$s]}" payload="$(stat -c %s "$RUN/$s.payload")"
	read -r pkts pbytes reports <<<"$(fshow "(sensors['$s']['packets'], sensors['$s']['capd_stats']['bytes'], sensors['$s']['flow_reports'])" | tr -d '(),')"
	echo "# $s: veth sent $tx bytes; capd's flows socket sent $payload bytes ($reports flow reports, stats, status); capd read $pbytes bytes of packets; webd got $pkts packets"
	[[ "$pkts" == 0 ]] || why "$s: webd received $pkts packets through the tunnel"
	((payload > 0 && tx >= payload && tx <= payload * 2 + 16384)) ||
		why "$s: the veth sent $tx bytes, not near the $payload bytes of flow reports and events (at most twice, plus 16 KB)"
	((tx * 2 < ${pbytes:-0})) || why "$s: the veth sent $tx bytes, not under half of the $pbytes bytes of packets"
done
report "no packet records cross the tunnels: webd counts 0 packets, each veth carries about the flows socket's bytes, under half the packet bytes"

# The only listener on an address other than loopback, in a sensor: stunnel.
for s in "${SENSORS[@]}"; do
	out="$(ip netns exec "$(ns_of "$s")" ss -Hltnp)"
	outside="$(awk '$4 !~ /^127\./ && $4 !~ /^\[::1\]/' <<<"$out")"
	[[ "$(wc -l <<<"$outside")" == 1 && "$outside" == *"$(ip_of "$s"):5602"*'"stunnel4"'* ]] ||
		why "$s: listeners not on loopback:"$'\n'"$outside"
	grep -q '127.0.0.1:5601 .*"wlite-capd"' <<<"$out" || why "$s: capd's flows socket is not on 127.0.0.1:5601:"$'\n'"$out"
done
report "in each sensor the only non-loopback listener is stunnel's TLS port; capd's flows socket is on 127.0.0.1"

# ============================================================ kill, restart

REPORTS_RUN1="$(fshow "sensors['s2']['flow_reports']")"
stop_pid "${CAPD_PID[s2]}" KILL
fwait 10 'not health["s2"]["up"] and health["s1"]["up"] and health["s3"]["up"]'
report "s2's capd killed (SIGKILL): s2 shows down (stats_age past 3 s), s1 and s3 stay up"

# Meanwhile webd tries again through the tunnel: each try is a TLS handshake
# that s2's stunnel accepts, then closes (and logs) when capd refuses it.
# nanomsg's default, every 100 ms, made ten a second; webd asks for one.
refused() { grep -c "connect 127.0.0.1:5601: Connection refused" "$RUN/s2.stunnel.log"; }
r0="$(refused)"
sleep 5
tries=$(($(refused) - r0))
echo "# while s2's capd is down: $tries tries through the tunnel in 5 s"
((tries >= 2 && tries <= 10)) || why "$tries tries through the tunnel in 5 s while capd is down, want 2 to 10 (one a second)"
report "while s2's capd is down, webd tries the tunnel about once a second (a TLS handshake each), not ten times"

start_capd s2
fwait 15 'health["s2"]["up"]'
fwait 30 "stats['flows']['held'] == $((REF_FLOWS + NFLOWS[s2])) and stats['flows']['active'] == 0"
report "s2's capd started again: s2 shows up"

out="$(fc flows "$WEBD_PORT" s2 "$RUN/s2.ref" 2)" || why "$out"
echo "# ${out%%$'\n'*}"
REPORTS_RUN2_WANT=$((REPORTS_RUN1 + NREPORTS[s2]))
out="$(fc wait "$WEBD_PORT" 5 "sensors['s2']['flow_reports'] == $REPORTS_RUN2_WANT and health['s2']['flow_gaps'] == 0 and health['s2']['flow_reports_missed'] == 0 and sensors['s2']['packets'] == 0")" ||
	why "$out (want $REPORTS_RUN2_WANT reports: $REPORTS_RUN1 + one run's)"
for s in s1 s3; do
	out="$(fc flows "$WEBD_PORT" "$s" "$RUN/$s.ref" 1)" || why "$out"
done
report "no double counting: s2's second run is a second set of entries (new ids), each with capd --flows' values, reports $REPORTS_RUN1 + one run's, no gap; s1 and s3 unchanged"

# ======================================================= who may connect

PROBE="$(tls_probe central "$RUN/ca")"
# nanomsg's greeting: \0 S P \0, then the protocol (PUB, 0x0020).
[[ "$PROBE" == 0053500000200000 ]] || why "with the central certificate, got '$PROBE' (want capd's SP header 0053500000200000): $(tail -n 3 "$RUN/probe.err")"
report "the central host's certificate passes s1's stunnel: capd's nanomsg greeting arrives"

# probe_refused LABEL NAME CERTDIR|- WHAT: s1's stunnel must give nothing, and say why.
probe_refused() {
	local before after got
	before="$(grep -c . "$RUN/s1.stunnel.log")"
	got="$(tls_probe "$2" "$3")"
	[[ -z "$got" ]] || why "$1: received '$got'"
	sleep 0.3
	after="$(tail -n +"$((before + 1))" "$RUN/s1.stunnel.log")"
	grep -qiE "$4" <<<"$after" || why "$1: s1's stunnel did not log a refusal matching '$4':"$'\n'"$after"
	echo "# $1: s1's stunnel says: $(grep -iE "$4" <<<"$after" | head -n 1)"
}
probe_refused "no certificate" - - "peer did not return a certificate|certificate required"
report "a client with no certificate gets nothing from s1's stunnel"
probe_refused "another CA" central "$RUN/other" "unable to get local issuer|certificate verify failed|Rejected by CERT"
report "a client with a certificate of another CA gets nothing from s1's stunnel"
probe_refused "a sensor's certificate" central "$RUN/ca2" "unsuitable certificate purpose"
report "a client with a sensor certificate of the fleet's CA, made for the name central (serverAuth only), gets nothing from s1's stunnel"

# A rogue "sensor": a stunnel server with a certificate of another CA made
# for s1, on a fourth veth address. The central stunnel must refuse it.
ip -n "$NS_C" addr add 10.79.9.2/24 dev lo 2>/dev/null
mkdir -p "$RUN/tls/rogue"
host_tls rogue "$RUN/other" s1
render_sensor s1 rogue | sed -e 's|^accept = .*|accept = 10.79.9.2:5602|' -e 's|^connect = .*|connect = 127.0.0.1:5609|' >"$RUN/rogue.stunnel.conf"
start_stunnel "$NS_C" rogue "$RUN/rogue.stunnel.conf"
render_central central 5800 >"$RUN/central2.stunnel.conf"
printf '[s1]\naccept = 127.0.0.1:5801\nconnect = 10.79.9.2:5602\ncheckHost = s1\n' >>"$RUN/central2.stunnel.conf"
# The rogue end would serve this: a byte that must not come through.
inC "$PY" -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 5609)); s.listen(4); s.settimeout(15)
try:
    while True:
        c, _ = s.accept(); c.sendall(b"ROGUE"); c.close()
except OSError:
    pass' &
PIDS+=("$!")
start_stunnel "$NS_C" central2 "$RUN/central2.stunnel.conf"
wait_listen "$NS_C" 10.79.9.2:5602 && wait_listen "$NS_C" 127.0.0.1:5801
got="$(inC timeout 5 "$PY" -c 'import socket; s=socket.create_connection(("127.0.0.1", 5801)); s.settimeout(3)
try:
    print(s.recv(100))
except OSError as e:
    print(e)')"
[[ "$got" != *ROGUE* ]] || why "the central stunnel passed on a rogue sensor's bytes: $got"
grep -qiE "unable to get local issuer|certificate verify failed|Rejected by CERT" "$RUN/central2.stunnel.log" ||
	why "the central stunnel logged no refusal: $(tail -n 5 "$RUN/central2.stunnel.log")"
report "the central stunnel refuses a sensor whose certificate is from another CA (nothing reaches the local end)"

# ================================================================ the units

DEST="$RUN/root"
if out="$(meson install -C "$BUILD" --no-rebuild --destdir "$DEST" 2>&1)"; then
	mkdir -p "$DEST/usr/lib/systemd" "$DEST/usr/bin" "$DEST/etc"
	cp -a /usr/lib/systemd/system "$DEST/usr/lib/systemd/" 2>/dev/null
	cp "$(command -v stunnel4)" "$DEST/usr/bin/stunnel4"
	[[ -e "$DEST/bin" ]] || ln -s usr/bin "$DEST/bin"
	for f in passwd group shadow gshadow; do [[ -e "$DEST/etc/$f" ]] || : >"$DEST/etc/$f"; done
else
	why "meson install --destdir failed: $(tail -n 5 <<<"$out")"
fi
for u in wlite-stunnel-sensor.service wlite-stunnel-central.service; do
	out="$(systemd-analyze verify --root="$DEST" "$u" 2>&1)" || why "verify $u failed"
	[[ -z "$out" ]] || why "systemd-analyze verify $u printed:"$'\n'"$out"
	score="$(systemd-analyze security --offline=yes --root="$DEST" "$u" 2>&1 |
		sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9.]*\).*/\1/p')"
	awk -v s="${score:-99}" 'BEGIN { exit !(s + 0 <= 2.0) }' || why "$u: exposure ${score:-?} above 2.0"
	conf="$(sed -n 's|^ExecStart=/usr/bin/stunnel4 ||p' "$(find "$DEST" -path "*/systemd/system/$u" -print -quit)")"
	[[ -n "$conf" && -f "$DEST$conf" ]] || why "$u: its configuration '$conf' is not installed"
	echo "# $u: exposure ${score:-?}, configuration $conf"
done
report "wlite-stunnel-sensor.service and wlite-stunnel-central.service: verify prints nothing, exposure <= 2.0, configuration installed"

((FAILS == 0))
