#!/usr/bin/env bash
# tests/integration/quic.sh: QUIC (issue 14) against tshark, which decrypts
# Initial packets itself (tshark 4.0).
#
# 1. The dev corpus's QUIC captures: wlite-capd --read --json against tshark
#    frame by frame (lib/quic_check.py compare): QUIC or not, SNI, ALPN, and
#    of the first packet its version, DCID, SCID and type, the packets
#    coalesced, and Info. gquic.pcap is Google QUIC Q046, which tshark calls
#    GQUIC and wlite leaves as UDP (its header is not IETF QUIC's); both say
#    "not QUIC". zeek-quic__quicdoq.pcap is DNS over QUIC on UDP 853, which
#    tshark 4.0 decodes as DTLS by port: it is compared with tshark told
#    -d udp.port==853,quic.
# 2. RFC 9001's and RFC 9369's own protected Initials (v1 and v2, client and
#    server) in a capture written here: example.com and the RFCs' values, and
#    tshark agrees.
# 3. Real handshakes: Debian's ngtcp2 server and client (gtlsserver,
#    gtlsclient) in two network namespaces this script creates, joined by a
#    veth pair with 10.79.1.x addresses (nothing touches the host's
#    interfaces). wlite-capd captures live on the server's veth; wlite-tap
#    prints what it publishes and writes the same packets to a pcap, which
#    tshark reads. Connections: QUIC v1 and draft-29 on port 443, v1 to a
#    server that sends a Retry (-V), and v1 on port 4433 (short headers off
#    443, which wlite follows as tshark follows the conversation). Each
#    client asks for a name of its own, mapped in the client namespace's
#    /etc/netns/NS/hosts (ngtcp2's client sends "localhost" for an address).
#    Then: the live packets against tshark, the live packets against
#    capd --read of the same pcap, and capd's "quic" stats.
#    (ngtcp2's "v2draft" version 0x709a50c4 is one tshark 4.0 does not know,
#    so v2 is checked with the RFC's packets in 2.)
#
# Output: TAP. Needs root. About 30 s. Packages: tshark ngtcp2-client
# ngtcp2-server openssl iproute2 nanomsg-utils (scripts/lib.sh's list).
# Environment: WLITE_CAPD, WLITE_BUILD (wlite-tap is $WLITE_BUILD/tools/wlite-tap), WLITE_SHARED.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${WLITE_BUILD:-$ROOT/build}"
CAPD_SRC="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
TAP_SRC="$BUILD/tools/wlite-tap"
CORPUS="${WLITE_SHARED:-$ROOT/../shared}/pcap-corpus/dev"
CAPTURES=(quic_handshake.pcap quic_retry.pcap gquic.pcap
	zeek-quic__383379789-decrypt-crash.pcap zeek-quic__chromium-115.0.5790.110-api-cirrus-com.pcap
	zeek-quic__quic-39264-rand.pcap zeek-quic__quic-decrypt-fail-google-de-51833.pcap
	zeek-quic__quic-multiple-initial-fragmented-crypto-only-initial.pcap zeek-quic__quicdoq.pcap
	zeek-quic__quicv2-echo-443.pcap zeek-quic__quicv2-http3-443.pcap zeek-quic__vector-max-size-crash.pcap)
PLAN=$((${#CAPTURES[@]} + 6))

# shellcheck source=tests/integration/lib/tap.sh
source "$HERE/lib/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (network namespaces, capture)"
	exit 0
fi
for bin in "$CAPD_SRC" "$TAP_SRC"; do
	if [[ ! -x "$bin" ]]; then
		echo "Bail out! $bin is not built (ninja -C $BUILD)"
		exit 1
	fi
done
missing=()
command -v tshark >/dev/null || missing+=(tshark)
command -v gtlsclient >/dev/null || missing+=(ngtcp2-client)
command -v gtlsserver >/dev/null || missing+=(ngtcp2-server)
command -v openssl >/dev/null || missing+=(openssl)
command -v nanocat >/dev/null || missing+=(nanomsg-utils)
if ((${#missing[@]})); then
	# shellcheck source=scripts/lib.sh
	WL_PROG="tests/integration/quic.sh" source "$ROOT/scripts/lib.sh"
	if ! wl_install_packages "${missing[@]}" >/dev/null 2>&1; then
		echo "Bail out! cannot install ${missing[*]}"
		exit 1
	fi
fi
# The interpreter itself, not a version manager's shim that costs half a second a call.
PY="$(python3 -c 'import sys; print(sys.executable)')" || PY=python3
if ! id -u wlite >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin wlite || {
		echo "Bail out! cannot create the user wlite"
		exit 1
	}
fi

ID="wlq$$"
NS_S="${ID}s" NS_C="${ID}c"
VS="${ID}s0" VC="${ID}c0"
IP_S=10.79.1.1 IP_R=10.79.1.3 IP_C=10.79.1.2 # R: the server that sends a Retry
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
	for ns in "$NS_S" "$NS_C"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	ip link del "$VS" 2>/dev/null
	rm -rf "/etc/netns/$NS_C"
	# WLITE_TEST_KEEP=DIR keeps the captures and logs for a look afterwards.
	[[ -n "${WLITE_TEST_KEEP:-}" && -n "$RUN" ]] && mkdir -p "$WLITE_TEST_KEEP" && cp -r "$RUN/." "$WLITE_TEST_KEEP/"
	[[ -n "$RUN" && -d "$RUN" ]] && rm -rf "$RUN"
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"
"$PY" -c 'import os, sys, time; time.sleep(240); os.kill(int(sys.argv[1]), 15)' "$$" &
PIDS+=("$!")

RUN="$(mktemp -d /tmp/wlite-quic-test.XXXXXX)"
chgrp wlite "$RUN" && chmod 2770 "$RUN"
mkdir -p "$RUN/bin" "$RUN/htdocs"
cp "$CAPD_SRC" "$RUN/bin/wlite-capd" && cp "$TAP_SRC" "$RUN/bin/wlite-tap" && cp "$HERE/lib/quic_check.py" "$RUN/bin/"
chmod 755 "$RUN/bin" "$RUN/bin/"*
CAPD="$RUN/bin/wlite-capd"
TAP="$RUN/bin/wlite-tap"
: >"$RUN/empty.conf"
chmod 644 "$RUN/empty.conf"
qc() { "$PY" "$RUN/bin/quic_check.py" "$@"; }
# check CMD...: a quic_check.py run whose output becomes the diagnostics; failures go to why.
check() {
	local out
	out="$(qc "$@" 2>&1)" || why "$out"
	[[ -z "$WHY" && -n "$out" ]] && diag "$out"
}
read_json() { "$CAPD" --config "$RUN/empty.conf" --read "$1" --json >"$2" 2>"$2.err"; }

# ============================================ 1. the dev corpus against tshark

for cap in "${CAPTURES[@]}"; do
	extra=()
	[[ "$cap" == *quicdoq* ]] && extra=(-d udp.port==853,quic)
	if [[ ! -f "$CORPUS/$cap" ]]; then
		why "no $CORPUS/$cap"
	elif ! read_json "$CORPUS/$cap" "$RUN/corpus.json"; then
		why "capd --read failed: $(tail -n 3 "$RUN/corpus.json.err")"
	else
		check compare "$CORPUS/$cap" "$RUN/corpus.json" "${extra[@]}"
	fi
	report "corpus: $cap agrees with tshark${extra[*]:+ (${extra[*]})}"
done

# ============================================ 2. the RFCs' own packets

# RFC 9001 A.2, A.3 and RFC 9369 A.2, A.3: tests/unit/quic_vectors.h holds them as hex.
mapfile -t VECTORS < <("$PY" - "$ROOT/tests/unit/quic_vectors.h" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
for name in ("RFC9001_CLIENT_INITIAL", "RFC9001_SERVER_INITIAL", "RFC9369_CLIENT_INITIAL", "RFC9369_SERVER_INITIAL"):
    body = text.split(f"static const char {name}[] =", 1)[1].split(";", 1)[0]
    print(("<" if "SERVER" in name else "") + "".join(re.findall(r'"([0-9a-f]+)"', body)))
EOF
)
# One capture each: both versions' examples use the same DCID, and tshark
# finds a connection by it.
rfc_capture() { # rfc_capture NAME VERSION CLIENT_HEX SERVER_HEX
	local name="$1" version="$2"
	qc write-pcap "$RUN/$name.pcap" "$3" "$4"
	if ! read_json "$RUN/$name.pcap" "$RUN/$name.json"; then
		why "capd --read failed: $(tail -n 3 "$RUN/$name.json.err")"
		return
	fi
	check expect "$RUN/$name.json" 1 sni=example.com "version=$version" alpn=alpn packet_type=Initial \
		dcid=8394c8f03e515708 "info=Initial, DCID=8394c8f03e515708, PKN: 2, CRYPTO, PADDING"
	check expect "$RUN/$name.json" 2 "version=$version" packet_type=Initial scid=f067a5502a4262b5 \
		"info=Initial, SCID=f067a5502a4262b5, PKN: 1, ACK, CRYPTO"
	check compare "$RUN/$name.pcap" "$RUN/$name.json"
}
if ((${#VECTORS[@]} != 4)); then
	why "could not read the vectors of tests/unit/quic_vectors.h"
else
	rfc_capture rfc9001 1 "${VECTORS[0]}" "${VECTORS[1]}"
	rfc_capture rfc9369 0x6b3343cf "${VECTORS[2]}" "${VECTORS[3]}"
fi
report "RFC 9001 and RFC 9369 Initials (v1, v2): example.com, the RFCs' packet numbers and frames, tshark agrees"

# ============================================ 3. real handshakes in namespaces

setup_net() {
	local ns
	ip netns add "$NS_S" && ip netns add "$NS_C" || return 1
	for ns in "$NS_S" "$NS_C"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || return 1
		ip -n "$ns" link set lo up || return 1
	done
	ip link add "$VS" type veth peer name "$VC" &&
		ip link set "$VS" netns "$NS_S" && ip link set "$VC" netns "$NS_C" &&
		ip -n "$NS_S" addr add "$IP_S/24" dev "$VS" && ip -n "$NS_S" addr add "$IP_R/24" dev "$VS" &&
		ip -n "$NS_C" addr add "$IP_C/24" dev "$VC" &&
		ip -n "$NS_S" link set "$VS" up && ip -n "$NS_C" link set "$VC" up || return 1
	ip -n "$NS_S" neigh replace "$IP_C" lladdr "$(ip netns exec "$NS_C" cat "/sys/class/net/$VC/address")" dev "$VS" nud permanent &&
		ip -n "$NS_C" neigh replace "$IP_S" lladdr "$(ip netns exec "$NS_S" cat "/sys/class/net/$VS/address")" dev "$VC" nud permanent &&
		ip -n "$NS_C" neigh replace "$IP_R" lladdr "$(ip netns exec "$NS_S" cat "/sys/class/net/$VS/address")" dev "$VC" nud permanent
}

ctl() { timeout 5 nanocat --req --connect "ipc://$RUN/ctl.sock" --data "$1" --ascii 2>/dev/null; }

# server ADDR PORT [ARGS]: an ngtcp2 server in the server namespace.
server() {
	local addr="$1" port="$2"
	shift 2
	ip netns exec "$NS_S" gtlsserver -q -d "$RUN/htdocs" "$@" "$addr" "$port" "$RUN/key.pem" "$RUN/cert.pem" \
		>"$RUN/server-$addr-$port.log" 2>&1 &
	PIDS+=("$!")
}
# client NAME PORT [ARGS]: one request to NAME (mapped to an address in /etc/netns), then exit.
client() {
	local name="$1" port="$2"
	shift 2
	ip netns exec "$NS_C" timeout 15 gtlsclient -q --exit-on-all-streams-close "$@" "$name" "$port" \
		"https://$name:$port/index.html" >"$RUN/client-$name.log" 2>&1 ||
		why "gtlsclient to $name:$port ($*) failed: $(tail -n 3 "$RUN/client-$name.log")"
}

NAME_V1=v1.quic-test.wlite.example NAME_D29=d29.quic-test.wlite.example
NAME_RETRY=retry.quic-test.wlite.example NAME_PORT=port.quic-test.wlite.example
if ! setup_net 2>"$RUN/setup.err"; then
	why "cannot set up the namespaces: $(head -c 300 "$RUN/setup.err")"
fi
mkdir -p "/etc/netns/$NS_C" &&
	printf '%s %s %s %s\n%s %s\n' "$IP_S" "$NAME_V1" "$NAME_D29" "$NAME_PORT" "$IP_R" "$NAME_RETRY" >"/etc/netns/$NS_C/hosts"
echo "hello from the test" >"$RUN/htdocs/index.html"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=quic-test.wlite.example \
	-keyout "$RUN/key.pem" -out "$RUN/cert.pem" >/dev/null 2>&1 || why "openssl could not make a certificate"
chmod 644 "$RUN/key.pem"

ip netns exec "$NS_S" "$CAPD" --config "$RUN/empty.conf" -i "$VS" -f udp --immediate \
	--publish "ipc://$RUN/pub.sock" --control "ipc://$RUN/ctl.sock" >"$RUN/capd.out" 2>"$RUN/capd.err" &
CAPD_PID=$!
PIDS+=("$CAPD_PID")
for ((i = 0; i < 150; i++)); do
	[[ "$(ctl '{"cmd":"status"}')" == *'"ok":true'* ]] && break
	sleep 0.1
done
ip netns exec "$NS_S" "$TAP" -c "ipc://$RUN/pub.sock" -t pkt -t stats -w "$RUN/live.pcap" >"$RUN/live.tap" 2>"$RUN/tap.err" &
TAP_PID=$!
PIDS+=("$TAP_PID")
for ((i = 0; i < 150; i++)); do grep -q '"event":"stats"' "$RUN/live.tap" 2>/dev/null && break; sleep 0.1; done
grep -q '"event":"stats"' "$RUN/live.tap" || why "wlite-tap heard nothing from capd: $(tail -n 3 "$RUN/capd.err" "$RUN/tap.err")"
server "$IP_S" 443
server "$IP_S" 4433
server "$IP_R" 443 -V
sleep 0.5
report "set-up: ngtcp2 servers on $IP_S:443, $IP_S:4433 and $IP_R:443 (Retry), capd capturing their veth, wlite-tap writing a pcap"

client "$NAME_V1" 443
client "$NAME_D29" 443 -v 0xff00001d
client "$NAME_RETRY" 443
client "$NAME_PORT" 4433
sleep 1.5 # the last packets through capd, the tap and a stats message
stop() { kill -TERM "$1" 2>/dev/null && for ((i = 0; i < 50; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; }
stop "$TAP_PID"
stop "$CAPD_PID"
grep -v '"event"' "$RUN/live.tap" >"$RUN/live.json"
check compare "$RUN/live.pcap" "$RUN/live.json"
SNIS="$(qc sni "$RUN/live.json")"
for name in "$NAME_V1" "$NAME_D29" "$NAME_RETRY" "$NAME_PORT"; do
	n="$(grep -c " $name\$" <<<"$SNIS")"
	[[ "$n" == 1 ]] || why "$name: SNI on $n frames, want exactly one (the one that completes its ClientHello)"
done
report "live: v1, draft-29, Retry and port 4433 handshakes agree with tshark on every frame, each SNI on one frame"

VERSIONS="$("$PY" -c '
import json, sys
seen = set()
for line in open(sys.argv[1]):
    q = json.loads(line).get("quic") or {}
    if "version" in q: seen.add(hex(q["version"]))
print(" ".join(sorted(seen)))' "$RUN/live.json")"
[[ "$VERSIONS" == *0x1* && "$VERSIONS" == *0xff00001d* ]] || why "versions seen: $VERSIONS, want 0x1 and 0xff00001d"
PORT_SHORT="$("$PY" -c '
import json, sys
print(sum(1 for line in open(sys.argv[1]) if (p := json.loads(line)).get("proto") == "QUIC"
          and 4433 in (p.get("sport"), p.get("dport")) and (p.get("quic") or {}).get("packet_type") == "1-RTT"))' "$RUN/live.json")"
((PORT_SHORT > 0)) || why "no 1-RTT packet on port 4433 was QUIC"
report "live: QUIC v1 (0x1) and draft-29 (0xff00001d) seen; $PORT_SHORT short headers on port 4433 followed as QUIC"

if read_json "$RUN/live.pcap" "$RUN/read.json"; then
	check same "$RUN/live.json" "$RUN/read.json"
else
	why "capd --read of the tap's pcap failed: $(tail -n 3 "$RUN/read.json.err")"
fi
report "capd --read --json of the same packets gives what capd published live (sni, alpn, ja4, quic, info)"

STATS="$(grep '"event":"stats"' "$RUN/live.tap" | tail -n 1)"
out="$("$PY" -c '
import json, sys
q = json.loads(sys.argv[1]).get("quic", {})
bad = []
if q.get("decrypted", 0) < 8: bad.append("fewer than 8 Initials decrypted")
if q.get("failed", 1) != 0: bad.append("Initials failed to decrypt")
if q.get("hellos") != 4: bad.append("ClientHellos decoded: want 4")
if q.get("retries") != 1: bad.append("Retries that gave keys: want 1")
print(json.dumps(q)); sys.exit(1 if bad else 0)' "$STATS" 2>&1)" || why "stats quic: $out"
[[ -z "$WHY" ]] && diag "stats quic: $out"
report "capd's stats: every Initial decrypted, 4 ClientHellos, 1 Retry"
