#!/usr/bin/env bash
# tests/integration/flows.sh: capd's flow engine on live traffic (issue 11).
#
# Two network namespaces this script creates (A captures and serves, B is the
# client), joined by one veth pair with 10.78.1.x addresses and a VXLAN
# tunnel over it (10.78.42.x inside); nothing touches the host's interfaces.
# Offloads are off on every device (ethtool -K), so that the capture sees
# wire-sized segments, and neighbours are static, so that no ARP gets in.
#
# wlite-capd captures live on A's veth and wlite-tap --topic flow prints its
# reports. The same tap writes the packets capd published to a pcap (-w), and
# tshark's reading of it is the oracle for frames, bytes, retransmissions
# (tcp.analysis.retransmission) and the handshake RTT (tcp.analysis.initial_rtt);
# tcpdump captures the same veth at the same time, to show that those packets
# are what was on the wire. Covered: a TCP transfer through nftables
# dropping 1 in 10 segments each way; DNS; a burst of UDP; ICMP echo keyed by
# identifier; TCP inside VXLAN keyed by its inner headers with the outer
# endpoints; active reports; idle reports from the sweep; --no-flows; the
# table full (--max-flows) and the flows still open when capd stops; capd's
# stats; the live reports against --read PCAP --flows of the same capture.
#
# Output: TAP on stdout; exits 1 if anything failed. Needs root. About 45 s.
# Debian packages it installs if missing: nftables ethtool tshark tcpdump
# iputils-ping nanomsg-utils (all in scripts/lib.sh's WL_PACKAGES).
#
# Environment: WLITE_CAPD, WLITE_BUILD (wlite-tap is $WLITE_BUILD/tools/wlite-tap).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${WLITE_BUILD:-$ROOT/build}"
CAPD_SRC="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
TAP_SRC="$BUILD/tools/wlite-tap"
PLAN=19

# shellcheck source=tests/integration/lib/tap.sh
source "$HERE/lib/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (network namespaces, capture, nftables)"
	exit 0
fi
for bin in "$CAPD_SRC" "$TAP_SRC"; do
	if [[ ! -x "$bin" ]]; then
		echo "Bail out! $bin is not built (ninja -C $BUILD)"
		exit 1
	fi
done
if ! ip netns list >/dev/null 2>&1; then
	echo "1..0 # SKIP ip netns does not work here"
	exit 0
fi
missing=()
command -v nft >/dev/null || missing+=(nftables)
command -v ethtool >/dev/null || missing+=(ethtool)
command -v tshark >/dev/null || missing+=(tshark)
command -v tcpdump >/dev/null || missing+=(tcpdump)
command -v ping >/dev/null || missing+=(iputils-ping)
command -v nanocat >/dev/null || missing+=(nanomsg-utils)
if ((${#missing[@]})); then
	# shellcheck source=scripts/lib.sh
	WL_PROG="tests/integration/flows.sh" source "$ROOT/scripts/lib.sh"
	if ! wl_install_packages "${missing[@]}" >/dev/null 2>&1; then
		echo "Bail out! cannot install ${missing[*]}"
		exit 1
	fi
fi
for tool in python3 nft ethtool tshark tcpdump ping nanocat timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is missing"
		exit 1
	fi
done
# The interpreter itself, not a version manager's shim that costs half a
# second a call (the checks call it some forty times).
PY="$(python3 -c 'import sys; print(sys.executable)')" || PY=python3
if ! id -u wlite >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin wlite || {
		echo "Bail out! cannot create the user wlite"
		exit 1
	}
fi

# ------------------------------------------------------- set-up, clean-up

ID="wlf$$"
NS_A="${ID}a" NS_B="${ID}b"
VA="${ID}a0" VB="${ID}b0"
IP_A=10.78.1.1 IP_B=10.78.1.2
IN_A=10.78.42.1 IN_B=10.78.42.2 # inside the VXLAN tunnel (VNI 42)
PIDS=()
RUN=""
CLEANED=0

# shellcheck disable=SC2317 # called by the traps
cleanup() {
	local pid ns
	((CLEANED)) && return
	CLEANED=1
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for ns in "$NS_A" "$NS_B"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	# Deleting a namespace deletes its veth end, its VXLAN device and its nftables.
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	ip link del "$VA" 2>/dev/null # not moved yet (a failure half-way through the set-up)
	[[ -n "$RUN" && -d "$RUN" ]] && rm -rf "$RUN"
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"

# The whole run stays under 4 minutes: past 200 s the rest is reported as
# not run. About 45 s on a quiet machine.
"$PY" -c 'import os, sys, time; time.sleep(200); os.kill(int(sys.argv[1]), 15)' "$$" &
PIDS+=("$!")

# Sockets and logs: capd drops to wlite, so the group wlite must write here.
RUN="$(mktemp -d /tmp/wlite-flows-test.XXXXXX)"
chgrp wlite "$RUN" && chmod 2770 "$RUN"
mkdir -p "$RUN/bin"
# Copies: a rebuild while the test runs must not pull a file away.
cp "$CAPD_SRC" "$RUN/bin/wlite-capd" && cp "$TAP_SRC" "$RUN/bin/wlite-tap"
cp "$HERE/lib/flows_net.py" "$HERE/lib/flows_tap.py" "$RUN/bin/"
chmod 755 "$RUN/bin" "$RUN/bin/"*
CAPD="$RUN/bin/wlite-capd"
TAP="$RUN/bin/wlite-tap"
: >"$RUN/empty.conf" # no /etc/wlite/wlite.conf can change what is tested
chmod 644 "$RUN/empty.conf"
CONF="$RUN/empty.conf"

# mac NS DEV: the device's MAC address.
mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }

setup_net() {
	local ns dev
	ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
	for ns in "$NS_A" "$NS_B"; do
		# No IPv6 anywhere, the VXLAN device included: no DAD or MLD in the capture.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || return 1
		ip -n "$ns" link set lo up || return 1
	done
	ip link add "$VA" type veth peer name "$VB" &&
		ip link set "$VA" netns "$NS_A" && ip link set "$VB" netns "$NS_B" &&
		ip -n "$NS_A" addr add "$IP_A/24" dev "$VA" && ip -n "$NS_B" addr add "$IP_B/24" dev "$VB" || return 1
	ip -n "$NS_A" link add vx42 type vxlan id 42 local "$IP_A" remote "$IP_B" dstport 4789 dev "$VA" &&
		ip -n "$NS_B" link add vx42 type vxlan id 42 local "$IP_B" remote "$IP_A" dstport 4789 dev "$VB" &&
		ip -n "$NS_A" addr add "$IN_A/24" dev vx42 && ip -n "$NS_B" addr add "$IN_B/24" dev vx42 || return 1
	# Segmentation and receive offloads off: veths otherwise carry (and the
	# capture sees) GSO frames of up to 64 KB; the VXLAN devices too.
	for dev in "$NS_A:$VA" "$NS_B:$VB" "$NS_A:vx42" "$NS_B:vx42"; do
		ns="${dev%%:*}" dev="${dev#*:}"
		ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || return 1
		ip -n "$ns" link set "$dev" up || return 1
	done
	# Static neighbours: no ARP on the veth or inside the tunnel.
	ip -n "$NS_A" neigh replace "$IP_B" lladdr "$(mac "$NS_B" "$VB")" dev "$VA" nud permanent &&
		ip -n "$NS_B" neigh replace "$IP_A" lladdr "$(mac "$NS_A" "$VA")" dev "$VB" nud permanent &&
		ip -n "$NS_A" neigh replace "$IN_B" lladdr "$(mac "$NS_B" vx42)" dev vx42 nud permanent &&
		ip -n "$NS_B" neigh replace "$IN_A" lladdr "$(mac "$NS_A" vx42)" dev vx42 nud permanent
}

# ------------------------------------------------------------------ helpers

fq() { "$PY" "$RUN/bin/flows_tap.py" "$@"; }
inA() { ip netns exec "$NS_A" timeout 60 "$@"; }
inB() { ip netns exec "$NS_B" timeout 60 "$@"; }
net_a() { inA "$PY" "$RUN/bin/flows_net.py" "$@"; }
net_b() { inB "$PY" "$RUN/bin/flows_net.py" "$@"; }

# ctl NAME JSON: one request on capd NAME's control channel; prints the reply.
ctl() { timeout 5 nanocat --req --connect "ipc://$RUN/$1-ctl.sock" --data "$2" --ascii 2>>"$RUN/nanocat.err"; }

# start_capd NAME ARGS...: capd capturing in A, publishing on RUN/NAME-pub.sock;
# waits until it answers on its control channel. Sets CPID.
CPID=""
start_capd() {
	local name="$1" end
	shift
	ip netns exec "$NS_A" "$CAPD" --config "$CONF" --publish "ipc://$RUN/$name-pub.sock" \
		--control "ipc://$RUN/$name-ctl.sock" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err" &
	CPID=$!
	PIDS+=("$CPID")
	end=$((SECONDS + 15))
	while ((SECONDS < end)); do
		if ! kill -0 "$CPID" 2>/dev/null; then
			why "capd $name exited at start: $(tail -n 5 "$RUN/$name.err")"
			return 1
		fi
		[[ "$(ctl "$name" '{"cmd":"status"}')" == *'"ok":true'* ]] && return 0
		sleep 0.1
	done
	why "capd $name does not answer on its control channel: $(tail -n 5 "$RUN/$name.err")"
	return 1
}

# start_tap NAME ARGS...: wlite-tap on capd NAME's socket, output in RUN/NAME.tap;
# waits for its first event (then it is connected). Sets TPID.
TPID=""
start_tap() {
	local name="$1" out
	shift
	ip netns exec "$NS_A" "$TAP" -c "ipc://$RUN/$name-pub.sock" "$@" >"$RUN/$name.tap" 2>"$RUN/$name.taperr" &
	TPID=$!
	PIDS+=("$TPID")
	out="$(fq wait "$RUN/$name.tap" 15 'len(events) > 0')" || why "tap on $name never got an event: $out"
}

# stop_pid PID [SIGNAL]: signals PID, waits up to 10 s (then SIGKILL); sets RC.
stop_pid() {
	local pid="$1" i
	RC=255
	[[ "$pid" =~ ^[0-9]+$ ]] && ((pid > 1)) || return
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	RC=$?
} 2>/dev/null

# fcheck NAME CODE ARGS...: a flows_tap check on tap NAME; failures go to why.
fcheck() {
	local name="$1" out
	shift
	out="$(fq check "$RUN/$name.tap" "$@")" || why "$out"
}
# fwait NAME SECONDS EXPR ARGS...: waits on tap NAME; a timeout goes to why.
fwait() {
	local name="$1" out
	shift
	out="$(fq wait "$RUN/$name.tap" "$@")" || {
		why "$out"
		return 1
	}
}
# wait_file PATH: up to 5 s for a server's "ready" file.
wait_file() {
	local i
	for ((i = 0; i < 100; i++)); do [[ -e "$1" ]] && return 0; sleep 0.05; done
	why "$1 never appeared"
	return 1
}

if ! setup_net 2>"$RUN/setup.err"; then
	echo "Bail out! cannot set up the network namespaces: $(head -c 300 "$RUN/setup.err")"
	exit 1
fi
# A UDP sink in A: datagrams to 5555 draw no ICMP errors (which would be flows too).
ip netns exec "$NS_A" timeout 200 "$PY" "$RUN/bin/flows_net.py" sink 120 5555 &
PIDS+=("$!")

# ============================================ main capture: checks 1 to 13

# Idle timeouts short enough to see DNS, UDP and ICMP end within the test;
# closed TCP waits 3 s for late segments (a FIN retransmitted after a drop).
MAIN_OPTS=(-i "$VA" --flow-idle-udp 2 --flow-idle-icmp 2 --flow-idle-tcp-closed 3)
ip netns exec "$NS_A" tcpdump -i "$VA" -n -U -s 0 -B 16384 -Z root -w "$RUN/main.pcap" 2>"$RUN/tcpdump.err" &
TD_PID=$!
PIDS+=("$TD_PID")
for ((i = 0; i < 100; i++)); do grep -q "listening on" "$RUN/tcpdump.err" && break; sleep 0.05; done
grep -q "listening on" "$RUN/tcpdump.err" || why "tcpdump does not capture: $(cat "$RUN/tcpdump.err")"
start_capd main "${MAIN_OPTS[@]}"
MAIN_PID="$CPID"
# The tap also writes the packets capd published (-w): tshark reads them
# with capd's own timestamps, on which tshark's analysis depends (it tells
# out-of-order from retransmitted by the time since the last segment, and
# two capture sockets stamp one frame a few microseconds apart).
start_tap main -t flow -t stats -t status -t pkt -w "$RUN/main-tap.pcap" --flows-csv "$RUN/main-flows.csv"
MAIN_TAP="$TPID"
report "set-up: capd captures live on the test's veth, tcpdump beside it, wlite-tap -t flow connected"

# -- 1. TCP through drops. nftables drops 1 in 10 segments of the connection
# that arrive in A (client to server) and in B (server to client), SYNs
# excepted so that the handshake RTT stays a sub-millisecond one. The capture
# in A sees both directions before A's rule drops anything, so every
# retransmission is on the wire it reads.
nft_drop() { # nft_drop NS MATCH
	ip netns exec "$1" nft add table inet wlflows &&
		ip netns exec "$1" nft add chain inet wlflows input '{ type filter hook input priority 0; }' &&
		ip netns exec "$1" nft add rule inet wlflows input "$2" 'tcp flags & syn == 0' numgen random mod 10 == 0 counter drop
}
nft_dropped() { ip netns exec "$1" nft list table inet wlflows | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
if ! { nft_drop "$NS_A" "tcp dport 5201" && nft_drop "$NS_B" "tcp sport 5201"; } 2>"$RUN/nft.err"; then
	why "nftables: $(cat "$RUN/nft.err")"
fi
UP=1000000 DOWN=300000
rm -f "$RUN/bulk.ready"
net_a bulk-server "$IP_A" 5201 "$DOWN" "$RUN/bulk.ready" >"$RUN/bulk-server.out" 2>"$RUN/bulk-server.err" &
SRV=$!
PIDS+=("$SRV")
wait_file "$RUN/bulk.ready"
net_b bulk-client "$IP_B" 40201 "$IP_A" 5201 "$UP" "$DOWN" 2>"$RUN/bulk-client.err" ||
	why "TCP client failed: $(cat "$RUN/bulk-client.err")"
wait "$SRV" || why "TCP server failed: $(cat "$RUN/bulk-server.err")"
[[ "$(cat "$RUN/bulk-server.out")" == "$UP" ]] || why "the server read $(cat "$RUN/bulk-server.out") bytes, want $UP"
DROP_A="$(nft_dropped "$NS_A")" DROP_B="$(nft_dropped "$NS_B")"
((${DROP_A:-0} > 0 && ${DROP_B:-0} > 0)) || why "nftables dropped ${DROP_A:-?} segments in A and ${DROP_B:-?} in B, want some in both"
report "TCP: $UP bytes up and $DOWN down arrive through nftables dropping 1 in 10 (dropped: $DROP_A in A, $DROP_B in B)"

# -- 2. DNS, then N datagrams of S bytes.
DNS_NAME=flows-test.wlite.example
rm -f "$RUN/dns.ready"
net_a dns-server "$IP_A" "$DNS_NAME" 10.9.8.7 "$RUN/dns.ready" 2>"$RUN/dns-server.err" &
SRV=$!
PIDS+=("$SRV")
wait_file "$RUN/dns.ready"
net_b dns-client "$IP_B" 40053 "$IP_A" "$DNS_NAME" 10.9.8.7 2>"$RUN/dns-client.err" || why "DNS client failed: $(cat "$RUN/dns-client.err")"
wait "$SRV" || why "DNS server failed: $(cat "$RUN/dns-server.err")"
UDP_N=25 UDP_S=300
net_b udp "$IP_B" 4444 "$IP_A" 5555 "$UDP_N" "$UDP_S" || why "UDP sender failed"

# -- 3. Two pings at once: two echo identifiers, so two flows.
inB ping -n -q -c 3 -i 0.2 -W 2 "$IP_A" >/dev/null 2>&1 &
P1=$!
inB ping -n -q -c 3 -i 0.2 -W 2 "$IP_A" >/dev/null 2>&1 &
P2=$!
wait "$P1" || why "ping 1 failed"
wait "$P2" || why "ping 2 failed"

# -- 4. TCP inside the VXLAN tunnel.
rm -f "$RUN/vx.ready"
net_a bulk-server "$IN_A" 7000 2000 "$RUN/vx.ready" >"$RUN/vx-server.out" 2>"$RUN/vx-server.err" &
SRV=$!
PIDS+=("$SRV")
wait_file "$RUN/vx.ready"
net_b bulk-client "$IN_B" 41000 "$IN_A" 7000 3000 2000 2>"$RUN/vx-client.err" || why "TCP over VXLAN failed: $(cat "$RUN/vx-client.err")"
wait "$SRV" || why "TCP server over VXLAN failed: $(cat "$RUN/vx-server.err")"
TRAFFIC_WHY="$WHY"
WHY=""

# Every flow above ends by itself: FIN + 3 s, or idle 2 s (+ the 1 s sweep).
fwait main 20 'find(final, ipproto=6, a_port=40201) and find(final, ipproto=17, a_port=40053) and find(final, ipproto=17, a_port=4444) and len(find(final, ipproto=1)) >= 2 and find(final, ipproto=6, a_port=41000)'
fwait main 5 'stats and stats[-1].get("flows", {}).get("reports") == len(flows)'
WAIT_WHY="$WHY"
WHY=""
stop_pid "$TD_PID" INT
grep -q "^0 packets dropped by kernel" "$RUN/tcpdump.err" || TD_WHY="tcpdump: $(tail -n 3 "$RUN/tcpdump.err")"
stop_pid "$MAIN_TAP" # writes out its pcap
# The oracle: tshark's reading of the packets, every header of every frame.
FIELDS=(frame.number frame.time_epoch frame.len ip.src ip.dst ip.proto tcp.srcport tcp.dstport
	udp.srcport udp.dstport tcp.analysis.retransmission tcp.analysis.initial_rtt icmp.ident icmp.type)
for p in main-tap main; do
	tshark -n -r "$RUN/$p.pcap" -T fields -E occurrence=a -E aggregator=, "${FIELDS[@]/#/-e}" \
		</dev/null >"$RUN/$p.tsv" 2>"$RUN/tshark.err" || WAIT_WHY+="tshark on $p.pcap failed: $(tail -n 3 "$RUN/tshark.err")"$'\n'
done
export FLOWS_FRAMES="$RUN/main-tap.tsv"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
A, B = args[0], args[1]
fl = find(final, ipproto=6, a_port=40201)
need(len(fl) == 1, "want one final report of the TCP connection, got %r" % fl)
f = fl[0] if fl else {}
o = conv(6, B, 40201, A, 5201)
need((f.get("l3"), f.get("a"), f.get("b"), f.get("a_port"), f.get("b_port")) == ("ipv4", B, A, 40201, 5201), "endpoints: %r" % f)
need(f.get("end") == "fin" and f.get("tcp", {}).get("state") == "closed", "end %r, state %r: want fin, closed" % (f.get("end"), f.get("tcp", {}).get("state")))
for k in ("a_packets", "a_bytes", "b_packets", "b_bytes"):
    need(f.get(k) == o[k], "%s is %r, tshark counts %r on the same veth" % (k, f.get(k), o[k]))
need(o["a_bytes"] > int(args[2]) and o["b_bytes"] > int(args[3]), "tshark saw less than the payload: %r" % o)
need(not find(active, ipproto=6, a_port=40201), "active reports without an active timeout")
' "$IP_A" "$IP_B" "$UP" "$DOWN"
report "TCP: one flow, a = client, end fin, state closed; packets and bytes per direction = tshark on the same veth"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
A, B = args[0], args[1]
fl = find(final, ipproto=6, a_port=40201)
t = fl[0].get("tcp", {}) if fl else {}
o = conv(6, B, 40201, A, 5201)
need(o["a_retransmissions"] > 0 and o["b_retransmissions"] > 0, "tshark sees no retransmission in a direction: %r" % o)
for k in ("a_retransmissions", "b_retransmissions"):
    need(t.get(k) == o[k], "%s is %r, tshark flags %r frames tcp.analysis.retransmission" % (k, t.get(k), o[k]))
' "$IP_A" "$IP_B"
report "TCP: retransmissions caused by the drops counted per direction, = tshark's tcp.analysis.retransmission"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
A, B = args[0], args[1]
fl = find(final, ipproto=6, a_port=40201)
t = fl[0].get("tcp", {}) if fl else {}
o = conv(6, B, 40201, A, 5201)
rtt = t.get("rtt_ms")
need(isinstance(rtt, (int, float)) and 0 < rtt < 200, "rtt_ms is %r, want 0 < rtt < 200 on a veth" % rtt)
need(o["rtt_ms"] is not None and rtt is not None and abs(rtt - o["rtt_ms"]) <= 0.01, "rtt_ms %r, tshark initial_rtt %r ms" % (rtt, o["rtt_ms"]))
for side in "ab":
    need(t.get(side + "_flags", 0) & 0x13 == 0x13, "%s_flags %r lack SYN, ACK or FIN" % (side, t.get(side + "_flags")))
    need(not t.get(side + "_flags", 0) & 0x04, "%s_flags %r has RST" % (side, t.get(side + "_flags")))
need(t.get("resets") == 0, "resets %r" % t.get("resets"))
' "$IP_A" "$IP_B"
report "TCP: rtt_ms present, plausible (< 200 ms) and = tshark's initial_rtt within 0.01 ms; SYN, ACK, FIN both sides, no RST"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
A, B, name = args[0], args[1], args[2]
fl = find(final, ipproto=17, a_port=40053)
need(len(fl) == 1, "want one DNS flow, got %r" % fl)
f = fl[0] if fl else {}
q = 42 + 12 + (len(name) + 2) + 4   # Ethernet, IPv4, UDP; DNS header, name, type and class
want = {"a": B, "b": A, "b_port": 53, "app": "DNS", "name": name, "end": "idle",
        "a_packets": 1, "a_bytes": q, "b_packets": 1, "b_bytes": q + 16}
for k, v in want.items():
    need(f.get(k) == v, "DNS flow: %s is %r, want %r" % (k, f.get(k), v))
o = conv(17, B, 40053, A, 53)
need((o["a_bytes"], o["b_bytes"]) == (q, q + 16), "tshark: %r" % o)
' "$IP_A" "$IP_B" "$DNS_NAME"
report "DNS: one flow, app DNS, name = the query name, 1 + 1 packets with the query's and answer's bytes, end idle"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
A, B, n, size = args[0], args[1], int(args[2]), int(args[3])
fl = find(final, ipproto=17, a_port=4444)
need(len(fl) == 1, "want one UDP flow from port 4444, got %r" % fl)
f = fl[0] if fl else {}
want = {"a": B, "b": A, "b_port": 5555, "end": "idle", "a_packets": n, "a_bytes": n * (size + 42), "b_packets": 0, "b_bytes": 0}
for k, v in want.items():
    need(f.get(k) == v, "UDP flow: %s is %r, want %r" % (k, f.get(k), v))
o = conv(17, B, 4444, A, 5555)
need((o["a_packets"], o["a_bytes"]) == (n, n * (size + 42)), "tshark: %r" % o)
' "$IP_A" "$IP_B" "$UDP_N" "$UDP_S"
report "UDP: $UDP_N datagrams of $UDP_S bytes: a_packets = $UDP_N, a_bytes = $UDP_N x ($UDP_S + 42), nothing back"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
A, B = args[0], args[1]
ids = sorted(set(x["icmp_id"] for x in frames if x["proto"] == 1))
need(len(ids) == 2, "tshark sees echo identifiers %r, want two" % ids)
fl = find(final, ipproto=1)
need(len(fl) == 2, "want two ICMP flows (one per identifier), got %r" % fl)
for i in ids:
    mine = [f for f in fl if f.get("icmp", {}).get("id") == i]
    need(len(mine) == 1, "identifier %d: %d flows" % (i, len(mine)))
    for f in mine:
        o = conv(1, B, None, A, None, icmp_id=i)
        need((f.get("a"), f.get("b")) == (B, A), "echo id %d: a %r, b %r" % (i, f.get("a"), f.get("b")))
        for k in ("a_packets", "b_packets", "a_bytes", "b_bytes"):
            v = 3 if k.endswith("packets") else 3 * 98
            need(f.get(k) == v == o[k], "echo id %d: %s is %r, want %r (tshark %r)" % (i, k, f.get(k), v, o[k]))
        need(f.get("icmp", {}).get("type") == 8 and "a_port" not in f, "icmp %r, ports %r" % (f.get("icmp"), f.get("a_port")))
' "$IP_A" "$IP_B"
report "ICMP: two pings of 3 at once give two flows keyed by echo identifier (icmp.id), 3 packets each way"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
A, B, IA, IB = args[0], args[1], args[2], args[3]
fl = find(final, ipproto=6, a_port=41000)
need(len(fl) == 1, "want one flow of the TCP connection inside VXLAN, got %r" % fl)
f = fl[0] if fl else {}
want = {"a": IB, "b": IA, "b_port": 7000, "outer": {"a": B, "b": A}, "end": "fin"}
for k, v in want.items():
    need(f.get(k) == v, "VXLAN flow: %s is %r, want %r" % (k, f.get(k), v))
o = conv(6, IB, 41000, IA, 7000)
need(o["outer"] == {(B, A), (A, B)}, "tshark does not see the connection tunnelled: %r" % o)
for k in ("a_packets", "a_bytes", "b_packets", "b_bytes"):
    need(f.get(k) == o[k], "%s is %r, tshark counts %r" % (k, f.get(k), o[k]))
need(not [x for x in flows if 4789 in (x.get("a_port"), x.get("b_port"))], "a flow keyed by the outer UDP header: %r" % [x for x in flows if 4789 in (x.get("a_port"), x.get("b_port"))])
' "$IP_A" "$IP_B" "$IN_A" "$IN_B"
report "VXLAN: the tunnelled TCP flow is keyed by inner addresses and ports, outer {a,b} = the tunnel endpoints, counts = tshark"

WHY="$TRAFFIC_WHY$WAIT_WHY${TD_WHY:-}"
fcheck main '
from collections import Counter
s = stats[-1] if stats else {}
need(s.get("pcap", {}).get("drop") == 0, "capd pcap drops: %r" % s.get("pcap"))
ours, theirs = load_frames(args[0]), load_frames(args[1])
c = lambda fr: Counter((x["src"], x["dst"], x["sport"], x["dport"], x["len"]) for x in fr)
need(c(ours) == c(theirs), "capd published %d frames, tcpdump captured %d; differing: %r" % (len(ours), len(theirs), list(((c(ours) - c(theirs)) + (c(theirs) - c(ours))).items())[:4]))
need(len(ours) > 1000, "only %d frames" % len(ours))
' "$RUN/main-tap.tsv" "$RUN/main.tsv"
grep -q "gap of" "$RUN/main.taperr" && why "wlite-tap saw a gap: $(grep 'gap of' "$RUN/main.taperr")"
report "nothing lost: capd published the very frames tcpdump captured beside it, no drops, no gap in the reports"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
s = stats[-1].get("flows") if stats else None
need(isinstance(s, dict), "stats carry no flows object: %r" % (stats[-1] if stats else None))
s = s or {}
for k in ("active", "created", "ended", "evicted", "reports"):
    need(isinstance(s.get(k), int), "stats.flows.%s is %r" % (k, s.get(k)))
if all(isinstance(s.get(k), int) for k in ("active", "created", "ended", "evicted", "reports")):
    need(s["created"] == s["active"] + s["ended"], "created %d != active %d + ended %d" % (s["created"], s["active"], s["ended"]))
    need(s["ended"] == len(final), "ended %d, but %d final reports arrived" % (s["ended"], len(final)))
    need(s["reports"] == len(flows), "reports %d, but %d arrived" % (s["reports"], len(flows)))
    need(s["created"] >= 6 and s["evicted"] == 0, "created %d (want >= 6), evicted %d (want 0)" % (s["created"], s["evicted"]))
need(status and status[-1].get("flows") is True, "status does not say flows: %r" % (status[-1:] or None))
'
report "stats: flows {active, created, ended, evicted, reports} agree with the reports received; status flows true"

# The same capture read back with --flows must give the same flows.
ip netns exec "$NS_A" "$CAPD" --config "$CONF" --read "$RUN/main-tap.pcap" --flows "${MAIN_OPTS[@]:2}" \
	>"$RUN/offline.ndjson" 2>"$RUN/offline.err" || why "--read --flows failed: $(tail -n 3 "$RUN/offline.err")"
WHY+="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
import json
off = [json.loads(l) for l in open(args[0]) if l.strip()]
def key(f):
    return (f.get("ipproto"), f.get("a"), f.get("b"), f.get("a_port"), f.get("b_port"), f.get("icmp", {}).get("id"))
def counters(f):
    return {k: f.get(k) for k in ("a_packets", "a_bytes", "b_packets", "b_bytes", "app", "name", "outer", "tcp", "icmp", "l3")}
live = {key(f): f for f in final}
offl = {key(f): f for f in off}
need(len(live) == len(final) and len(offl) == len(off), "two flows with one key")
need(sorted(map(str, live)) == sorted(map(str, offl)), "flows live %r, from the file %r" % (sorted(map(str, live)), sorted(map(str, offl))))
for k in set(live) & set(offl):
    need(counters(live[k]) == counters(offl[k]), "%r: live %r, --flows %r" % (k, counters(live[k]), counters(offl[k])))
    need((live[k]["first"], live[k]["last"]) == (offl[k]["first"], offl[k]["last"]), "%r: times differ" % (k,))
' "$RUN/offline.ndjson"
report "--read of the published packets with --flows gives the same flows, counters and times as the live reports"

WHY="$TRAFFIC_WHY$WAIT_WHY"
fcheck main '
import csv
rows = list(csv.DictReader(open(args[0], newline="")))
need(len(rows) == len(flows) and len(flows) >= 6, "%d CSV rows, %d JSON reports" % (len(rows), len(flows)))
text = lambda v: "" if v is None else "%.3f" % v if isinstance(v, float) else str(v)
for r, f in zip(rows, flows):
    t = f.get("tcp", {})
    want = {"id": f["id"], "end": f["end"], "a": f["a"], "b": f["b"], "a_port": f.get("a_port"), "b_port": f.get("b_port"),
            "first": "%.6f" % f["first"], "last": "%.6f" % f["last"], "app": f.get("app"), "name": f.get("name"),
            "tcp_state": t.get("state"), "rtt_ms": t.get("rtt_ms"),
            "a_retransmissions": t.get("a_retransmissions"), "b_retransmissions": t.get("b_retransmissions")}
    for k in ("a_packets", "a_bytes", "b_packets", "b_bytes"):
        want[k] = f[k]
    got = {k: r.get(k) for k in want}
    want = {k: text(v) for k, v in want.items()}
    need(got == want, "CSV row %r, JSON report %r" % (got, want))
' "$RUN/main-flows.csv"
report "wlite-tap --flows-csv writes one row per report, with the JSON report's ids, endpoints, counters and TCP figures"
stop_pid "$MAIN_PID"
unset FLOWS_FRAMES

# ============================================ active and idle reports

start_capd act -i "$VA" --flow-active-timeout 2 --flow-idle-udp 2
ACT_PID="$CPID"
start_tap act -t flow -t pkt -t stats
ACT_TAP="$TPID"
ACT_S=100
SENT="$(net_b udp-stream "$IP_B" 4600 "$IP_A" 5555 50 7 "$ACT_S")" || why "UDP stream failed"
IDLE_AFTER="$(fq waittime "$RUN/act.tap" 10 'find(final, a_port=4600)')" || why "no final report: $IDLE_AFTER"
fcheck act '
sent, size = int(args[0]), int(args[1])
fin = find(final, a_port=4600)
act = find(active, a_port=4600)
need(len(fin) == 1, "want one final report, got %r" % fin)
f = fin[0] if fin else {}
need(len(act) >= 2, "want active reports every 2 s of a 7 s stream, got %d" % len(act))
if f:
    due = (usec(f["last"]) - usec(f["first"])) // 2000000
    need(len(act) == due, "%d active reports; the flow lasted %.3f s, so want %d" % (len(act), f["last"] - f["first"], due))
need(all(r.get("id") == f.get("id") and r.get("first") == f.get("first") for r in act), "ids or first differ: %r" % [(r.get("id"), r.get("first")) for r in act + fin])
seq = act + fin
for x, y in zip(seq, seq[1:]):
    need(x["a_packets"] < y["a_packets"] and x["last"] < y["last"], "counters not growing: %r then %r" % (x, y))
need(all(r.get("a_bytes") == r.get("a_packets", -1) * (size + 42) for r in seq), "a_bytes != a_packets x %d" % (size + 42))
need(flows.index(fin[0]) > max(flows.index(r) for r in act) if fin and act else True, "the final report came before an active one")
' "$SENT" "$ACT_S"
report "active: with --flow-active-timeout 2, a 7 s UDP stream gets end active reports, same id, growing cumulative counters"

fcheck act '
sent, size = int(args[0]), int(args[1])
fin = find(final, a_port=4600)
f = fin[0] if fin else {}
want = {"a": args[3], "b": args[2], "b_port": 5555, "end": "idle", "a_packets": sent, "a_bytes": sent * (size + 42), "b_packets": 0}
for k, v in want.items():
    need(f.get(k) == v, "final report: %s is %r, want %r" % (k, f.get(k), v))
' "$SENT" "$ACT_S" "$IP_A" "$IP_B"
report "active: then one final report (end idle) with everything the sender sent ($SENT datagrams)"

fcheck act '
took = float(args[0]) if args[0] else -1
need(0 <= took <= 5.0, "the idle report came %s s after the sender stopped, want 2-3 s (timeout 2 s, sweep every 1 s)" % args[0])
fin = find(final, a_port=4600)
last = fin[0]["last"] if fin else 0
# The sweep that ends the flow flushes its report just before the stats event of its tick.
after = [x for x in lines[lines.index(fin[0]) + 1:] if x.get("event") == "stats"] if fin else []
swept = after[0]["ts"] if after else None
need(swept is not None and 2.0 < swept - last <= 3.5, "swept at %r, %r s after the last datagram: want 2 < t <= 3.5" % (swept, swept - last if swept else None))
late = [p for p in pkts if p.get("ts", 0) > last]
need(not late, "packets after the flow stopped: %r (the report must not need one)" % late[:3])
mine = [p for p in pkts if p.get("sport") == 4600]
need(mine and abs(mine[-1].get("ts", 0) - last) < 1e-6, "last %r is not the last datagram seen %r" % (last, mine[-1:]))
' "${IDLE_AFTER:-}"
report "idle: with --flow-idle-udp 2 the stopped stream is reported idle by the next sweeps (2-3.5 s after its last datagram), no packet needed"
stop_pid "$ACT_PID"
stop_pid "$ACT_TAP"

# ===================================================== --no-flows

start_capd noflows -i "$VA" --no-flows --flow-idle-udp 2
NF_PID="$CPID"
start_tap noflows
NF_TAP="$TPID"
net_b udp "$IP_B" 4700 "$IP_A" 5555 10 50 || why "UDP sender failed"
inB ping -n -q -c 2 -i 0.2 -W 2 "$IP_A" >/dev/null 2>&1 || why "ping failed"
fwait noflows 10 'len([p for p in pkts if p.get("sport") == 4700]) == 10 and len([p for p in pkts if p.get("ipproto") == 1]) == 4'
# Longer than the idle timeout and a sweep; then stopping capd would report
# whatever a flow table still held.
sleep 3.5
stop_pid "$NF_PID"
sleep 0.5
stop_pid "$NF_TAP"
fcheck noflows '
need(not flows, "%d flow reports with --no-flows: %r" % (len(flows), flows[:2]))
need(len([p for p in pkts if p.get("sport") == 4700]) == 10, "UDP packets published: %d, want 10" % len([p for p in pkts if p.get("sport") == 4700]))
need(stats and not [s for s in stats if "flows" in s], "stats carry flows: %r" % [s.get("flows") for s in stats][:2])
need(status and status[-1].get("flows") is False, "status flows is %r, want false" % (status[-1].get("flows") if status else None))
'
report "--no-flows: packets still published, no flow report (not even at stop), no flows in stats, status flows false"

# ============================================= the table full, and stop

start_capd evict -i "$VA" --max-flows 16
EV_PID="$CPID"
start_tap evict -t flow -t stats
EV_TAP="$TPID"
EV_N=40
net_b udp-many "$IP_B" 21000 "$EV_N" "$IP_A" 5555 20 || why "UDP sender failed"
fwait evict 10 'len(find(flows, end="evicted")) >= 24 and stats and stats[-1].get("flows", {}).get("evicted") == len(find(flows, end="evicted"))'
fcheck evict '
n = int(args[0])
ev = find(flows, end="evicted")
s = stats[-1].get("flows", {}) if stats else {}
need(len(ev) == n - 16, "%d evicted reports, want %d (%d flows, room for 16)" % (len(ev), n - 16, n))
need(s.get("evicted") == len(ev), "stats evicted %r, reports %d" % (s.get("evicted"), len(ev)))
need(s.get("active") == 16 and s.get("created") == n, "stats active %r (want 16), created %r (want %d)" % (s.get("active"), s.get("created"), n))
need([f.get("a_port") for f in ev] == list(range(21000, 21000 + len(ev))), "not the oldest first: %r" % [f.get("a_port") for f in ev])
need(all(f.get("a_packets") == 1 and f.get("a_bytes") == 62 for f in ev), "counters: %r" % ev[:2])
' "$EV_N"
report "eviction: --max-flows 16 and $EV_N UDP flows: the oldest $((EV_N - 16)) reported evicted, in order; stats count them"

stop_pid "$EV_PID"
((RC == 0)) || why "capd exited $RC on SIGTERM"
fwait evict 5 'len(flows) >= int(args[0])' "$EV_N"
stop_pid "$EV_TAP"
fcheck evict '
n = int(args[0])
eof = find(flows, end="eof")
need(sorted(f.get("a_port") for f in eof) == list(range(21000 + n - 16, 21000 + n)), "eof reports for ports %r" % sorted(f.get("a_port") for f in eof))
ports = sorted(f.get("a_port") for f in flows)
need(ports == list(range(21000, 21000 + n)), "every flow reported once: %r" % ports)
' "$EV_N"
report "stop: SIGTERM reports the 16 flows still open as eof; each of the $EV_N flows was reported exactly once"

exit $((FAILS > 0))
