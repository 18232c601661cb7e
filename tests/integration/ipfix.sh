#!/usr/bin/env bash
# tests/integration/ipfix.sh: wlite-ipfix against real collectors (issue 13,
# "IPFIX against a real collector", and item 4).
#
# 1. Every capture of the dev corpus (746) is replayed by a capd at --speed max
#    and exported by wlite-ipfix (from capd's --publish-flows socket) over UDP
#    to Debian's nfcapd on 127.0.0.1; `nfdump -r` must then list, capture by
#    capture (each is an observation domain), the same flows, packets and bytes
#    in both directions as `wlite-capd --read FILE --flows`, flow by flow and in
#    total, with no sequence failure. capds run in batches of 32 at once, each
#    batch with one wlite-ipfix: about 70 s for the corpus.
# 2. softflowd -r exports the same captures to a second nfcapd: the two
#    exporters' flow counts and totals, side by side in the log (informational).
# 3. In a network namespace of its own, tshark's IPFIX (cflow) decoder reads
#    what wlite-ipfix sends: over UDP (--mtu, templates at start and on
#    schedule, sequence numbers, the values of each record; wlite-ipfix runs
#    as nobody in the group wlite) and over TCP on port 4739 (templates first on
#    every connection, two sensors as two observation domains, sequence
#    numbers, values, a collector restart: reconnection, templates again,
#    numbering from 0).
# 4. SIGTERM sends what is pending; an unreachable collector is counted; the
#    delta state is bounded (evictions counted); --help and bad flags.
#
# Only 127.0.0.1 and a namespace this script makes. Output: TAP; exits 1 if
# anything failed. Needs root. Environment: WLITE_CAPD, WLITE_BUILD
# (wlite-ipfix is $WLITE_BUILD/tools/wlite-ipfix), WLITE_SHARED.
# wlite-test-timeout: 900
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${WLITE_SHARED:-$ROOT/../shared}"
BUILD="${WLITE_BUILD:-$ROOT/build}"
CAPD_SRC="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
IPFIX_SRC="$BUILD/tools/wlite-ipfix"
CORPUS="$SHARED/pcap-corpus/dev"
LIB="$HERE/lib"
BATCH=32 # capds replaying at once, one wlite-ipfix for them

PLAN=22

# shellcheck source=tests/integration/lib/tap.sh
source "$HERE/lib/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (capd drops to wlite, network namespaces)"
	exit 0
fi
for bin in "$CAPD_SRC" "$IPFIX_SRC"; do
	if [[ ! -x "$bin" ]]; then
		echo "Bail out! $bin is not built (ninja -C $BUILD)"
		exit 1
	fi
done
[[ -d "$CORPUS" ]] || { echo "Bail out! no corpus at $CORPUS"; exit 1; }
missing=()
command -v nfcapd >/dev/null || missing+=(nfdump)
command -v softflowd >/dev/null || missing+=(softflowd)
command -v tshark >/dev/null || missing+=(tshark)
if ((${#missing[@]})); then
	# shellcheck source=scripts/lib.sh
	WL_PROG="tests/integration/ipfix.sh" source "$ROOT/scripts/lib.sh"
	wl_install_packages "${missing[@]}" >/dev/null 2>&1 || { echo "Bail out! cannot install ${missing[*]}"; exit 1; }
fi
for tool in nfcapd nfdump softflowd softflowctl tshark python3 setpriv ip timeout; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool is missing"; exit 1; }
done
if ! id -u wlite >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin wlite || {
		echo "Bail out! cannot create the user wlite"
		exit 1
	}
fi

NS="wlipfx$$"
PIDS=()
RUN=""
CLEANED=0
# shellcheck disable=SC2317 # called by the traps
cleanup() {
	local pid
	((CLEANED)) && return
	CLEANED=1
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
	for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	[[ -n "$RUN" && -d "$RUN" ]] && rm -rf "$RUN"
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"
T_START=$SECONDS

# The whole run stays under 12 minutes: past that the rest is reported as not run.
python3 -c 'import os, sys, time; time.sleep(720); os.kill(int(sys.argv[1]), 15)' "$$" &
PIDS+=("$!")

# capd drops to wlite: the group wlite must be able to enter and write here.
RUN="$(mktemp -d /tmp/wlite-ipfix-test.XXXXXX)"
chgrp wlite "$RUN" && chmod 2770 "$RUN"
mkdir -p "$RUN/bin" "$RUN/nf" "$RUN/sf" "$RUN/replay" "$RUN/nf-deltas"
cp "$CAPD_SRC" "$RUN/bin/wlite-capd" && cp "$IPFIX_SRC" "$RUN/bin/wlite-ipfix"
chmod 755 "$RUN/bin" "$RUN/bin/"*
chgrp wlite "$RUN/replay" && chmod 2770 "$RUN/replay"
CAPD="$RUN/bin/wlite-capd"
IPFIX="$RUN/bin/wlite-ipfix"
: >"$RUN/empty.conf"
chmod 644 "$RUN/empty.conf"

free_udp_port() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS <= end)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# start_nfcapd DIR PORT: nfcapd on 127.0.0.1:PORT writing into DIR; sets NFCAPD_PID.
start_nfcapd() {
	nfcapd -b 127.0.0.1 -p "$2" -w "$1" -t 3600 -B 8000000 -P "$1.pid" >"$1.log" 2>&1 &
	NFCAPD_PID=$!
	PIDS+=("$NFCAPD_PID")
	wait_for 5 grep -q 'Startup nfcapd' "$1.log"
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ------------------------------------------------ 1. the corpus into nfcapd

t0=$SECONDS
out="$(python3 "$LIB/ipfix_corpus.py" expected "$CAPD" "$CORPUS" "$RUN/expected.json" 2>&1)" || why "$out"
echo "# capd --read FILE --flows over the corpus: $out ($((SECONDS - t0)) s)"
report "capd --read FILE --flows for every capture of the corpus"

NF_PORT="$(free_udp_port)"
start_nfcapd "$RUN/nf" "$NF_PORT" || why "nfcapd did not start: $(cat "$RUN/nf.log")"
t0=$SECONDS
out="$(python3 "$LIB/ipfix_corpus.py" replay "$CAPD" "$IPFIX" "$CORPUS" "$RUN/replay" "127.0.0.1:$NF_PORT" \
	"$BATCH" 1000 "$RUN/replay.json" 2>&1)" || why "$out"
echo "# replay: $out"
stop_pid "$NFCAPD_PID"
REPLAY_S=$((SECONDS - t0))
check_json() { # check_json FILE EXPR: EXPR over the JSON in FILE as r; prints r's summary when false
	python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); ok = eval(sys.argv[2]); ok or print(json.dumps(r)[:1500]); sys.exit(0 if ok else 1)' "$1" "$2"
}
out="$(check_json "$RUN/replay.json" 'not r["problems"] and len(r["captures"]) >= 700')" || why "$out"
report "every capture replayed through capd's --publish-flows and wlite-ipfix to nfcapd ($REPLAY_S s)"

out="$(check_json "$RUN/replay.json" 'r["ipfix"]["gaps"] == 0 and r["ipfix"]["missed"] == 0 and r["ipfix"]["not_sent"] == 0 and r["ipfix"]["malformed"] == 0 and r["ipfix"]["records"] == r["ipfix"]["reports"] > 0')" || why "$out"
report "wlite-ipfix: every flow report received and sent, no gap, nothing unsent"

t0=$SECONDS
out="$(python3 "$LIB/ipfix_corpus.py" compare "$RUN/expected.json" "$RUN/nf" "$RUN/compare.json" 2>&1)" || why "$out"
echo "# nfdump against --flows ($((SECONDS - t0)) s): $out"
out="$(check_json "$RUN/compare.json" 'r["flows_exported"] == r["flows_expected"] > 3000 and r["captures"] >= 700')" || why "$out"
report "nfdump lists as many flows as --flows (one final record per flow, capture by capture)"

out="$(check_json "$RUN/compare.json" 'not r["mismatched_captures"]')" || why "$out"
report "nfdump's flows are --flows' flows: addresses, ports, VLAN, start, end, packets and bytes both ways"

out="$(check_json "$RUN/compare.json" 'r["totals_nfdump"] == r["totals_expected"] and r["active_records"] > 0')" || why "$out"
report "totals: packets and bytes each way equal, the active-timeout deltas included"

out="$(check_json "$RUN/compare.json" 'r["sequence_failures"] == 0')" || why "$out"
nfdump -E "$(find "$RUN/nf" -name 'nfcapd.2*' | head -n 1)" 2>/dev/null | grep -c 'SysID' |
	sed 's/^/# exporters (observation domains) nfdump lists: /'
report "nfcapd counts no sequence failure in any observation domain"

# ------------------------------------------------ 2. softflowd, side by side

SF_PORT="$(free_udp_port)"
start_nfcapd "$RUN/sf" "$SF_PORT" || why "nfcapd did not start: $(cat "$RUN/sf.log")"
t0=$SECONDS
python3 "$LIB/ipfix_corpus.py" softflowd "$CORPUS" "$SF_PORT" "$RUN" "$RUN/softflowd.json" || why "softflowd run failed"
stop_pid "$NFCAPD_PID"
wl="$(python3 "$LIB/ipfix_corpus.py" summarize "$RUN/nf")"
sf="$(python3 "$LIB/ipfix_corpus.py" summarize "$RUN/sf")"
python3 - "$wl" "$sf" "$RUN/compare.json" "$RUN/softflowd.json" "$((SECONDS - t0))" <<'PY' || why "no softflowd figures"
import json, sys
wl, sf, cmp, sfd = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
print("# %d captures exported by each (softflowd -r -v 10 -b took %s s)" % (sfd["captures"], sys.argv[5]))
if sfd["stuck"]:
    print("# softflowd hung on %d and was killed: %s" % (len(sfd["stuck"]), " ".join(p.rsplit("/", 1)[1] for p in sfd["stuck"])))
print("# %-30s %14s %14s" % ("", "wlite-ipfix", "softflowd"))
print("# %-30s %14d %14s" % ("flows (final records)", cmp["flows_exported"], "-"))
print("# %-30s %14d %14d" % ("IPFIX records", wl["flows"], sf["flows"]))
print("# %-30s %14d %14d" % ("  of them IP flows", wl["ip_flows"], sf["ip_flows"]))
print("# %-30s %14d %14d" % ("packets (both ways)", wl["packets"], sf["packets"]))
print("# %-30s %14d %14d" % ("bytes (both ways)", wl["bytes"], sf["bytes"]))
print("# wlite counts every frame (ARP, LLDP... too) and bytes on the wire; softflowd IPv4/IPv6")
print("# only and IP bytes (no link header); its idle timeouts (tcp 3600 s, udp 300 s) also differ.")
sys.exit(0 if sf["flows"] > 0 else 1)
PY
report "softflowd -r exported the same captures to a second nfcapd (figures above, informational)"

# ------------------------------------------------ 3. tshark's decoder, in a namespace

if ! ip netns add "$NS" || ! ip -n "$NS" link set lo up; then why "cannot make the namespace $NS"; fi
cat >"$RUN/sink.py" <<'PY'
# sink.py udp|tcp PORT FILE: a collector that only receives (tshark reads the wire);
# FILE.ready exists once it listens.
import socket, sys
kind, port, out = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "ab")
if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    open(sys.argv[3] + ".ready", "w").close()
    while True:
        out.write(s.recv(65536)); out.flush()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(4)
open(sys.argv[3] + ".ready", "w").close()
while True:
    c, _ = s.accept()
    while True:
        d = c.recv(65536)
        if not d:
            break
        out.write(d); out.flush()
    c.close()
PY

# start_sink udp|tcp FILE: the receiving collector on 127.0.0.1:4739 in the namespace; sets SINK.
start_sink() {
	rm -f "$2.ready"
	ip netns exec "$NS" python3 "$RUN/sink.py" "$1" 4739 "$2" &
	SINK=$!
	PIDS+=("$SINK")
	wait_for 10 test -e "$2.ready"
}

# start_tshark PCAP FILTER: captures the namespace's loopback; sets TSHARK_PID.
start_tshark() {
	ip netns exec "$NS" tshark -n -i lo -f "$2" -w "$1" </dev/null >/dev/null 2>"$1.err" &
	TSHARK_PID=$!
	PIDS+=("$TSHARK_PID")
	wait_for 20 grep -q 'Capturing on' "$1.err"
}

# replay NAME FILE ADDR [capd flags...]: capd replays FILE at full speed, publishing flows on ADDR; waits for its end.
replay() {
	local name="$1" file="$2" addr="$3"
	shift 3
	: >"$RUN/$name.capd.err"
	"$CAPD" --config "$RUN/empty.conf" --read "$CORPUS/$file" --speed max --start-delay 800 \
		--publish "ipc://$RUN/replay/$name-p.sock" --publish-flows "$addr" \
		--control "ipc://$RUN/replay/$name-c.sock" "$@" 2>"$RUN/$name.capd.err" &
	local pid=$!
	PIDS+=("$pid")
	wait_for 30 grep -q 'finished reading' "$RUN/$name.capd.err" || why "capd did not finish $file: $(cat "$RUN/$name.capd.err")"
	sleep 0.3
	stop_pid "$pid"
}

flows_of() { # flows_of FILE OUT [capd flags...]
	local file="$1" out="$2"
	shift 2
	"$CAPD" --config "$RUN/empty.conf" --read "$CORPUS/$file" --flows "$@" >"$out"
}

# --- UDP: MTU, templates on schedule, sequence, values; unprivileged

MANY=zeek-igmp__igmp-many-groups.pcap # 450 flows: many datagrams at a small MTU
flows_of "$MANY" "$RUN/many.json"
start_sink udp "$RUN/udp.bin" || why "the collector sink did not start"
start_tshark "$RUN/udp.pcap" "udp port 4739" || why "tshark did not start: $(cat "$RUN/udp.pcap.err")"
ip netns exec "$NS" setpriv --reuid=nobody --regid=wlite --clear-groups \
	"$IPFIX" --config "$RUN/empty.conf" --connect "ipc://$RUN/replay/u.sock" --collector 127.0.0.1:4739 \
	--mtu 576 --template-interval 1 --domain 42 2>"$RUN/udp.ipfix.err" &
PIDS+=("$!")
UDP_IPFIX=$!
replay u "$MANY" "ipc://$RUN/replay/u.sock"
sleep 2.5 # template refreshes with nothing else to send
stop_pid "$UDP_IPFIX"
sleep 0.5
stop_pid "$TSHARK_PID"
stop_pid "$SINK"
grep -q 'not sent: 0 records' "$RUN/udp.ipfix.err" || why "wlite-ipfix (as nobody): $(tail -n 2 "$RUN/udp.ipfix.err")"
out="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/udp.pcap" 4739 udp-mtu 576)" || why "$out"
echo "$out" | grep '^#'
report "UDP, --mtu 576: no datagram is longer, IP header included (wlite-ipfix runs as nobody, group wlite)"

out="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/udp.pcap" 4739 templates 1)" || why "$out"
report "UDP: the templates come first and again every --template-interval (1 s), 7 templates, reverse elements PEN 29305"

out="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/udp.pcap" 4739 sequence)" || why "$out"
report "UDP: each message's sequence number is the count of data records sent before it"

out="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/udp.pcap" 4739 values "42=$RUN/many.json")" || why "$out"
report "UDP: tshark decodes every flow of the capture with capd's values (observation domain 42)"

# --- TCP on 4739: two sensors, templates first, sequence, values, a collector restart

AFS=afs.pcap                      # UDP and ICMP flows long enough for active-timeout deltas
WIKI=zeek-wikipedia.pcap          # IPv4, IPv6, TCP with handshakes, non-IP frames
DNS=dns_udp.pcap
flows_of "$AFS" "$RUN/afs.json"
flows_of "$WIKI" "$RUN/wiki.json"
flows_of "$DNS" "$RUN/dns.json"
: >"$RUN/tcp.bin"
start_sink tcp "$RUN/tcp.bin" || why "the collector sink did not start"
start_tshark "$RUN/tcp.pcap" "tcp port 4739" || why "tshark did not start: $(cat "$RUN/tcp.pcap.err")"
ip netns exec "$NS" "$IPFIX" --config "$RUN/empty.conf" --transport tcp --collector 127.0.0.1:4739 --domain 7 \
	--connect "afs=ipc://$RUN/replay/t1.sock" --connect "wiki=ipc://$RUN/replay/t2.sock" 2>"$RUN/tcp.ipfix.err" &
PIDS+=("$!")
TCP_IPFIX=$!
replay t1 "$AFS" "ipc://$RUN/replay/t1.sock"
replay t2 "$WIKI" "ipc://$RUN/replay/t2.sock"
# The collector goes away and comes back: wlite-ipfix makes a new connection.
stop_pid "$SINK"
start_sink tcp "$RUN/tcp.bin" || why "the collector sink did not start"
connections_ge() { (($(grep -c 'connected to the collector' "$RUN/tcp.ipfix.err") >= $1)); }
wait_for 10 connections_ge 2 || why "no second connection within 10 s"
sleep 0.5
replay t3 "$DNS" "ipc://$RUN/replay/t1.sock"
stop_pid "$TCP_IPFIX"
sleep 0.5
stop_pid "$TSHARK_PID"
stop_pid "$SINK"
sed 's/^/# /' "$RUN/tcp.ipfix.err" | grep -v 'flow reports start over'
n_conn="$(grep -c 'connected to the collector' "$RUN/tcp.ipfix.err")"
((n_conn == 2)) || why "wlite-ipfix connected $n_conn times, want 2 (the collector restarted once)"
grep -q 'lost the connection to the collector' "$RUN/tcp.ipfix.err" || why "no word of the lost connection"
out="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/tcp.pcap" 4739 streams 2)" || why "$out"
report "TCP: after the collector restarts, wlite-ipfix connects again (two connections on the wire)"

out="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/tcp.pcap" 4739 templates)" || why "$out"
report "TCP: every connection and domain starts with the 7 templates (tshark decodes them)"

out="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/tcp.pcap" 4739 sequence)" || why "$out"
report "TCP: sequence numbers count data records per connection and domain, from 0 after the reconnection"

out="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/tcp.pcap" 4739 values "7=$RUN/afs.json,$RUN/dns.json" "8=$RUN/wiki.json")" || why "$out"
echo "$out" | grep '^#'
report "TCP: both sensors' records decode with capd's values (domains 7 and 8, three captures, deltas summed, end reasons, TCP flags)"

# The dns capture went out on the second connection only.
python3 "$LIB/ipfix_tshark.py" messages "$RUN/tcp.pcap" 4739 >"$RUN/tcp.msgs.json" || why "tshark failed"
out="$(python3 - "$RUN/tcp.msgs.json" "$RUN/dns.json" <<'PY'
import json, sys
msgs, dns = json.load(open(sys.argv[1])), [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
streams = sorted({m["stream"] for m in msgs})
second = [m for m in msgs if m["stream"] == streams[-1] and m.get("od_id") == 7]
recs = sum(len(m["records"]) for m in second)
if recs != len(dns) or not second or second[0]["sequence"] != 0 or not second[0]["templates"]:
    print("second connection, domain 7: %d records (want %d), first message %r" % (recs, len(dns), second[:1]))
    sys.exit(1)
PY
)" || why "$out"
out2="$(python3 "$LIB/ipfix_tshark.py" check "$RUN/tcp.pcap" 4739 sequence)" || why "$out2"
report "TCP: a capture replayed after the reconnection arrives on the new connection, templates first, sequence from 0"

# --- SIGTERM while stopped: the reports waiting in the socket still go out

start_sink udp "$RUN/udp2.bin" || why "the collector sink did not start"
ip netns exec "$NS" "$IPFIX" --config "$RUN/empty.conf" --connect "ipc://$RUN/replay/s.sock" \
	--collector 127.0.0.1:4739 2>"$RUN/stop.ipfix.err" &
PIDS+=("$!")
STOP_IPFIX=$!
# capd waits 3 s before its first packet: time for wlite-ipfix to connect, then be stopped.
: >"$RUN/s.capd.err"
"$CAPD" --config "$RUN/empty.conf" --read "$CORPUS/$AFS" --speed max --start-delay 3000 \
	--publish "ipc://$RUN/replay/s-p.sock" --publish-flows "ipc://$RUN/replay/s.sock" \
	--control "ipc://$RUN/replay/s-c.sock" 2>"$RUN/s.capd.err" &
PIDS+=("$!")
STOP_CAPD=$!
wait_for 5 test -S "$RUN/replay/s.sock" || why "capd did not bind"
sleep 1
kill -STOP "$STOP_IPFIX"
wait_for 30 grep -q 'finished reading' "$RUN/s.capd.err" || why "capd did not finish: $(cat "$RUN/s.capd.err")"
sleep 0.3
kill -TERM "$STOP_IPFIX"
kill -CONT "$STOP_IPFIX"
wait "$STOP_IPFIX" 2>/dev/null
stop_pid "$STOP_CAPD"
stop_pid "$SINK"
n_afs_reports="$(python3 -c 'import re, sys; print(re.search(r"(\d+) flow reports received", open(sys.argv[1]).read()).group(1))' "$RUN/stop.ipfix.err" 2>/dev/null)"
if ! grep -q "sent to 127.0.0.1:4739 over UDP: ${n_afs_reports:-x} records" "$RUN/stop.ipfix.err" ||
	((${n_afs_reports:-0} < $(wc -l <"$RUN/afs.json"))); then
	why "after SIGTERM while stopped: $(tail -n 1 "$RUN/stop.ipfix.err")"
fi
report "SIGTERM: reports capd sent while wlite-ipfix was stopped are received and sent before it exits"

# --- an unreachable collector: what could not be sent is counted

dead_port="$(free_udp_port)"
ip netns exec "$NS" "$IPFIX" --config "$RUN/empty.conf" --connect "ipc://$RUN/replay/d.sock" \
	--collector "127.0.0.1:$dead_port" 2>"$RUN/dead.ipfix.err" &
PIDS+=("$!")
DEAD_IPFIX=$!
ip netns exec "$NS" "$IPFIX" --config "$RUN/empty.conf" --connect "ipc://$RUN/replay/d.sock" \
	--collector "127.0.0.1:$dead_port" --transport tcp 2>"$RUN/deadtcp.ipfix.err" &
PIDS+=("$!")
DEADTCP_IPFIX=$!
sleep 0.5
replay d "$MANY" "ipc://$RUN/replay/d.sock"
stop_pid "$DEAD_IPFIX"
stop_pid "$DEADTCP_IPFIX"
n_many="$(wc -l <"$RUN/many.json")"
python3 - "$RUN/dead.ipfix.err" "$RUN/deadtcp.ipfix.err" "$n_many" <<'PY' || why "$(tail -n 3 "$RUN/dead.ipfix.err" "$RUN/deadtcp.ipfix.err")"
import re, sys
n = int(sys.argv[3])
pat = re.compile(r"(\d+) flow reports received.*: (\d+) records in \d+ messages.*not sent: (\d+) records.*"
                 r"\(ICMP port unreachable\): (\d+) times")
fails = []
for path, proto in ((sys.argv[1], "udp"), (sys.argv[2], "tcp")):
    got, sent, lost, refused = map(int, pat.search(open(path).read()).groups())
    print("# %s: %d reports, %d records sent, %d not sent, %d refusals" % (proto, got, sent, lost, refused))
    if got != n or sent + lost != n:
        fails.append("%s: %d reports, %d sent, %d not sent, for %d flows" % (proto, got, sent, lost, n))
    # UDP hands every datagram to the kernel; the collector's refusals are counted.
    if proto == "udp" and refused == 0:
        fails.append("udp: no refusal counted")
    if proto == "tcp" and lost != n:
        fails.append("tcp: %d of %d records counted as not sent" % (lost, n))
for f in fails:
    print(f)
sys.exit(1 if fails else 0)
PY
grep -q 'refuses datagrams (ICMP port unreachable)' "$RUN/dead.ipfix.err" || why "UDP: no word of the refusals"
grep -q 'cannot connect to the collector' "$RUN/deadtcp.ipfix.err" || why "TCP: no word of the refused connection"
report "no collector listening: UDP counts and logs the refusals, TCP the records it could not send"

ip netns del "$NS" 2>/dev/null

# ------------------------------------------------ 4. the delta state, bounded

# 64 UDP flows at once, each a packet every 0.4 s for 6 s: with an active
# timeout of 1 s capd reports each about 5 times.
python3 - "$RUN/many-long.pcap" <<'PY'
import struct, sys
def frame(i, t):
    payload = b"wlite" * 4
    udp = struct.pack("!HHHH", 10000 + i, 9999, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, bytes([10, 99, 0, 1]), bytes([10, 99, 1, i])) + udp
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip
    return struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(eth), len(eth)) + eth
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for k in range(15):
        for i in range(64):
            f.write(frame(i, 1700000000 + k * 0.4 + i * 0.001))
PY
cp "$RUN/many-long.pcap" "$RUN/replay/many-long.pcap" && chmod 644 "$RUN/replay/many-long.pcap"
"$CAPD" --config "$RUN/empty.conf" --read "$RUN/many-long.pcap" --flows >"$RUN/many-long.json"
DELTA_PORT="$(free_udp_port)"
start_nfcapd "$RUN/nf-deltas" "$DELTA_PORT" || why "nfcapd did not start"
for max in 1000000 16; do
	"$IPFIX" --config "$RUN/empty.conf" --connect "ipc://$RUN/replay/m$max.sock" --max-flows "$max" \
		--collector "127.0.0.1:$DELTA_PORT" --domain "$((max == 16 ? 200 : 100))" 2>"$RUN/m$max.ipfix.err" &
	PIDS+=("$!")
	pid=$!
	: >"$RUN/m$max.capd.err"
	"$CAPD" --config "$RUN/empty.conf" --read "$RUN/replay/many-long.pcap" --speed max --start-delay 800 \
		--flow-active-timeout 1 --publish "ipc://$RUN/replay/m$max-p.sock" \
		--publish-flows "ipc://$RUN/replay/m$max.sock" --control "ipc://$RUN/replay/m$max-c.sock" 2>"$RUN/m$max.capd.err" &
	PIDS+=("$!")
	cpid=$!
	wait_for 20 grep -q 'finished reading' "$RUN/m$max.capd.err" || why "capd did not finish: $(cat "$RUN/m$max.capd.err")"
	sleep 0.3
	stop_pid "$cpid"
	stop_pid "$pid"
done
stop_pid "$NFCAPD_PID"
rc=0
python3 - "$RUN/many-long.json" "$RUN/nf-deltas" "$RUN/m1000000.ipfix.err" "$RUN/m16.ipfix.err" "$LIB" <<'PY' >"$RUN/deltas.out" 2>&1 || rc=$?
import json, re, sys
sys.path.insert(0, sys.argv[5])
import ipfix_corpus as ic
flows = [json.loads(l) for l in open(sys.argv[1])]
recs = ic.nfdump_records(sys.argv[2])
ex = {s: d for (f, s), (d, _) in ic.nfdump_exporters(sys.argv[2]).items()}
want = [sum(f[k] for f in flows) for k in ("a_packets", "a_bytes", "b_packets", "b_bytes")]
fails = []
for dom, log in ((100, sys.argv[3]), (200, sys.argv[4])):
    mine = [r for r in recs if ex.get(ic.first_number(r["export sysid"])) == dom]
    got = [sum(ic.first_number(r[k]) for r in mine) for k in ("in packets", "in bytes", "out packets", "out bytes")]
    finals = sum(1 for r in mine if ic.first_number(r["end reason"]) != 2)
    text = open(log).read()
    m = re.search(r"deltas: (\d+) flows remembered, (\d+) evicted", text)
    kept, evicted = int(m.group(1)), int(m.group(2))
    print("# domain %d: %d records (%d final) for %d flows; packets, bytes a, b: %r (capd: %r); %d evicted"
          % (dom, len(mine), finals, len(flows), got, want, evicted))
    if finals != len(flows) or len(mine) <= len(flows):
        fails.append("domain %d: %d final records of %d records for %d flows" % (dom, finals, len(mine), len(flows)))
    if dom == 100 and (got != want or evicted != 0):
        fails.append("default --max-flows: totals %r, want %r; %d evicted" % (got, want, evicted))
    if dom == 200 and not (evicted > 0 and kept <= 16 and got[0] > want[0]):
        fails.append("--max-flows 16: %d evicted, %d kept, packets %d vs %d" % (evicted, kept, got[0], want[0]))
for f in fails:
    print(f)
sys.exit(1 if fails else 0)
PY
((rc == 0)) || why "$(grep -v '^#' "$RUN/deltas.out")"
grep '^#' "$RUN/deltas.out"
report "deltas: 64 flows with 5 active reports each add up exactly; with --max-flows 16 the state stays at 16, evictions counted (and the evicted flows' next records carry their whole counters, as documented)"

# ------------------------------------------------ 5. --help and bad flags

help="$("$IPFIX" --help)"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS 'INFORMATION ELEMENTS' SIGNALS 'EXIT STATUS' EXAMPLES; do
	grep -q "^$section\$" <<<"$help" || why "--help has no $section section"
done
for flag in --connect --collector --transport --domain --template-interval --mtu --max-flows; do
	grep -q -- "$flag" <<<"$help" || why "--help does not describe $flag"
done
report "--help is a manual page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS, ..., every flag"

while IFS='|' read -r args want; do
	rc=0
	# shellcheck disable=SC2086 # the arguments are split on purpose
	msg="$("$IPFIX" --config "$RUN/empty.conf" $args 2>&1 >/dev/null)" || rc=$?
	if ((rc != 2)) || ! grep -q -- "$want" <<<"$msg"; then
		why "wlite-ipfix $args: exit $rc, '$msg' (want 2 and '$want')"
	fi
done <<'EOF'
--transport sctp|transport must be udp or tcp
--collector nowhere|collector must be HOST:PORT
--collector ::1:4739|goes in brackets
--collector 127.0.0.1:70000|collector must be HOST:PORT
--mtu 100|mtu (bytes) must be a whole number from 256
--domain 4294967296|domain must be a whole number
--domain 4294967295 --connect a=ipc:///x --connect b=ipc:///y|leaves no room
--template-interval 0|template-interval
--max-flows 1|max-flows
--connect =ipc:///x|sensor name
--nonsense|unknown option
EOF
report "bad flags: exit status 2 and a message naming the problem"

echo "# ipfix.sh took $((SECONDS - T_START)) s"
((FAILS == 0))
