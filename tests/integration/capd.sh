#!/usr/bin/env bash
# tests/integration/capd.sh: wlite-capd and wlite-tap end to end.
#
# Everything runs in two network namespaces this script creates (A captures,
# B sends), joined by veth pairs with 10.77.x addresses; nothing touches the
# host's interfaces. The sockets live in a private mktemp -d directory.
# Covered: live capture (ICMP, UDP, TCP, DNS) and its decoded fields, BPF
# filters (-f, control channel, bad ones), set_interface, pause/resume,
# loopback skipping, the privilege drop (from root and from setpriv),
# subscribers joining, leaving and stalling, --read replay against
# --read --json on the corpus, --speed 1, --loop, SIGTERM and SIGHUP.
#
# Output: TAP on stdout ("1..N", "ok K - ...", "not ok K - ..." plus "# "
# diagnostics); exits 1 if anything failed. Needs root.
#
# Environment: WLITE_CAPD, WLITE_BUILD (wlite-tap is $WLITE_BUILD/tools/wlite-tap),
# WLITE_SHARED (default: the repository's sibling ../shared).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${WLITE_SHARED:-$(dirname "$0")/../../../shared}"
BUILD="${WLITE_BUILD:-$ROOT/build}"
CAPD_SRC="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
TAP_SRC="$BUILD/tools/wlite-tap"
CORPUS="$SHARED/pcap-corpus/dev"

# Replayed by --read and compared with --read --json, byte for byte: DNS,
# TLS/DTLS, HTTP, VLAN/QinQ/MPLS, IPv6, tunnels (GENEVE, GRE, VXLAN, Teredo,
# 4in4, MPLS over UDP), DHCP, SLL/SLL2/raw/NULL link types, pcapng,
# nanosecond timestamps, big-endian and malformed captures.
REPLAY_FILES=(
	dns_udp.pcap dns_tcp.pcap zeek-dns-https.pcap zeek-dns__naptr.pcap zeek-dnssec__nsec3param.pcap
	zeek-tls__tls1.2.pcap zeek-tls__tls13-ech.pcap zeek-tls__ecdhe.pcap zeek-tls__dtls1_0.pcap
	zeek-http__get.pcap ipv4_tcp_http_xml.pcap zeek-http__byteranges.pcap
	802.1ad_QinQ.pcap zeek-mixed-vlan-mpls.pcap zeek-mpls-in-vlan.pcap
	icmpv6.pcap ipv6-routing-header.pcap zeek-ftp__ipv6.pcap
	geneve.pcap various_gre.pcap bigtcp-ipv4-vxlan-ipv6.pcap mpls-over-udp.pcap
	zeek-tunnels__Teredo.pcap zeek-tunnels__4in4.pcap
	zeek-dhcp__dhcp.pcap dhcpv6-ia-na.pcap
	zeek-linux_dlt_sll2.pcap zeek-linuxsll-arp.pcap LINKTYPE_RAW_ipv4.pcap icmpv6-RFC2894-RR.pcap
	OSPFv2_Capture_FINAL.pcapng timestamp_invalid_nano.pcap pptp.pcap arp-oobr.pcap
)
# NULL link type, every packet 127.0.0.1 <-> 127.0.0.1. Replayed without
# --include-loopback capd publishes none of them while --json prints all, so
# it is compared with --include-loopback (and kept out of the list above).
LOOPBACK_FILE=quic_handshake.pcap
TIMING_FILE=geneve.pcap           # 39 packets over 2.0 s
LOOP_FILE=dns_tcp.pcap            # 11 packets

# Checks outside the corpus list; keep in step with the report calls below.
FIXED_CHECKS=48
PLAN=$((FIXED_CHECKS + ${#REPLAY_FILES[@]}))

# ------------------------------------------------------------------ TAP

# shellcheck source=tests/integration/lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

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
if ! ip netns list >/dev/null 2>&1; then
	echo "1..0 # SKIP ip netns does not work here"
	exit 0
fi
missing=()
command -v ping >/dev/null || missing+=(iputils-ping)
command -v nanocat >/dev/null || missing+=(nanomsg-utils)
command -v setpriv >/dev/null || missing+=(util-linux)
if ((${#missing[@]})); then
	# shellcheck source=scripts/lib.sh
	WL_PROG="tests/integration/capd.sh" source "$ROOT/scripts/lib.sh"
	if ! wl_install_packages "${missing[@]}" >/dev/null 2>&1; then
		echo "Bail out! cannot install ${missing[*]}"
		exit 1
	fi
fi
for tool in python3 ping nanocat setpriv timeout; do
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

# ------------------------------------------------------- set-up, clean-up

ID="wlt$$"
NS_A="${ID}a" NS_B="${ID}b"
VA="${ID}a0" VB="${ID}b0"   # first pair:  10.77.1.1 (A) - 10.77.1.2 (B)
VA2="${ID}a1" VB2="${ID}b1" # second pair: 10.77.2.1 (A) - 10.77.2.2 (B)
IP_A=10.77.1.1 IP_B=10.77.1.2 IP_A2=10.77.2.1 IP_B2=10.77.2.2
PIDS=()
RUN=""
CLEANED=0

# shellcheck disable=SC2317 # called by the traps
cleanup() {
	local pid ns
	((CLEANED)) && return
	CLEANED=1
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
	for ns in "$NS_A" "$NS_B"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	# Veths not moved yet (a failure half-way through the set-up).
	for ns in "$VA" "$VB" "$VA2" "$VB2"; do ip link del "$ns" 2>/dev/null; done
	[[ -n "$RUN" && -d "$RUN" ]] && rm -rf "$RUN"
	# Whatever did not get to report counts as failed.
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"

# The whole run stays under 6 minutes (scripts/test allows 10): past 300 s
# the rest is reported as not run. About 2 minutes on a quiet machine.
python3 -c 'import os, sys, time; time.sleep(300); os.kill(int(sys.argv[1]), 15)' "$$" &
PIDS+=("$!")

# Sockets and logs: capd drops to wlite, so the group wlite must write here.
RUN="$(mktemp -d /tmp/wlite-capd-test.XXXXXX)"
chgrp wlite "$RUN" && chmod 2770 "$RUN"
mkdir -p "$RUN/bin" "$RUN/replay"
# Copies: a rebuild while the test runs must not pull the binary away.
cp "$CAPD_SRC" "$RUN/bin/wlite-capd" && cp "$TAP_SRC" "$RUN/bin/wlite-tap"
chmod 755 "$RUN/bin" "$RUN/bin/"*
CAPD="$RUN/bin/wlite-capd"
TAP="$RUN/bin/wlite-tap"
# Every capd gets this config unless a test says otherwise, so that an
# /etc/wlite/wlite.conf on the machine cannot change what is tested.
: >"$RUN/empty.conf"
chmod 644 "$RUN/empty.conf"
CONF="$RUN/empty.conf"

setup_net() {
	ip netns add "$NS_A" && ip netns add "$NS_B" &&
		ip link add "$VA" type veth peer name "$VB" &&
		ip link add "$VA2" type veth peer name "$VB2" &&
		ip link set "$VA" netns "$NS_A" && ip link set "$VA2" netns "$NS_A" &&
		ip link set "$VB" netns "$NS_B" && ip link set "$VB2" netns "$NS_B" || return 1
	local ns dev
	for dev in "$NS_A:$VA" "$NS_A:$VA2" "$NS_B:$VB" "$NS_B:$VB2"; do
		ns="${dev%%:*}" dev="${dev#*:}"
		# No IPv6 on the veths: no DAD or MLD chatter in the captures.
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" || return 1
	done
	ip -n "$NS_A" addr add "$IP_A/24" dev "$VA" && ip -n "$NS_B" addr add "$IP_B/24" dev "$VB" &&
		ip -n "$NS_A" addr add "$IP_A2/24" dev "$VA2" && ip -n "$NS_B" addr add "$IP_B2/24" dev "$VB2" &&
		ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up &&
		ip -n "$NS_A" link set "$VA" up && ip -n "$NS_A" link set "$VA2" up &&
		ip -n "$NS_B" link set "$VB" up && ip -n "$NS_B" link set "$VB2" up
}

# ------------------------------------------------------------ python helpers

# tapq.py: reads wlite-tap's JSON lines. Packets are the lines without an
# "event" key; a line still being written (no newline yet) is ignored.
cat >"$RUN/tapq.py" <<'PY'
import json, sys, time

def load(path):
    pkts, events, bad = [], [], []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            data = fh.read()
    except FileNotFoundError:
        data = ""
    for line in data.split("\n")[:-1]:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        if not isinstance(obj, dict):
            bad.append(line)
        elif "event" in obj:
            events.append(obj)
        else:
            pkts.append(obj)
    return pkts, events, bad

def consecutive(pkts, first=None):
    """None if the seqs of pkts go up by exactly one (from first, if given), else why not."""
    seqs = [p.get("seq") for p in pkts]
    if not seqs:
        return "no packets"
    if first is not None and seqs[0] != first:
        return "first seq is %r, not %r" % (seqs[0], first)
    for a, b in zip(seqs, seqs[1:]):
        if not isinstance(a, int) or b != a + 1:
            return "seq %r is followed by %r" % (a, b)
    return None

def env(path, args):
    pkts, events, bad = load(path)
    return {
        "pkts": pkts, "events": events, "bad": bad, "args": args,
        "stats": [e for e in events if e.get("event") == "stats"],
        "status": [e for e in events if e.get("event") == "status"],
        "consecutive": consecutive,
        "icmp_echo": lambda p, t: p.get("ipproto") == 1 and p.get("proto") == "ICMP"
            and ("Echo (ping) " + t) in p.get("info", ""),
    }

def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "wait":  # wait FILE TIMEOUT EXPR ARGS...: until EXPR holds
        timeout, expr, args = float(sys.argv[3]), sys.argv[4], sys.argv[5:]
        end = time.monotonic() + timeout
        while True:
            e = env(path, args)
            try:
                if eval(expr, e):
                    return 0
            except Exception:
                pass
            if time.monotonic() > end:
                print("timed out after %gs waiting for: %s (%d packets, %d events so far)"
                      % (timeout, expr, len(e["pkts"]), len(e["events"])))
                return 1
            time.sleep(0.05)
    if cmd == "eval":  # eval FILE EXPR ARGS...: prints EXPR's value
        print(eval(sys.argv[3], env(path, sys.argv[4:])))
        return 0
    if cmd == "check":  # check FILE CODE ARGS...: CODE calls need(cond, why)
        e = env(path, sys.argv[4:])
        fails = []
        e["need"] = lambda cond, msg: cond or fails.append(msg)
        if e["bad"]:
            fails.append("unparseable lines in %s: %r" % (path, e["bad"][:3]))
        try:
            exec(sys.argv[3], e)
        except Exception as ex:
            fails.append("check raised %r" % ex)
        for f in fails:
            print(f)
        return 1 if fails else 0
    if cmd == "json":  # json - EXPR ARGS...: EXPR over the JSON on stdin, as exit status
        text = sys.stdin.read()
        try:
            r = json.loads(text)
            ok = eval(sys.argv[3], {"r": r, "args": sys.argv[4:]})
        except Exception:
            ok = False
        if not ok:
            print("reply %s does not satisfy: %s" % (text.strip() or "(none)", sys.argv[3]))
        return 0 if ok else 1
    if cmd == "timing":  # timing FILE N TIMEOUT: seconds from the first to the Nth packet line
        n, timeout = int(sys.argv[3]), float(sys.argv[4])
        end = time.monotonic() + timeout
        first = None
        while time.monotonic() < end:
            k = len(load(path)[0])
            now = time.monotonic()
            if k >= 1 and first is None:
                first = now
            if k >= n:
                print("%.3f" % (now - first))
                return 0
            time.sleep(0.005)
        print("timeout")
        return 1
    print("unknown command " + cmd)
    return 2

sys.exit(main())
PY

# net.py: the traffic. Every command exits by itself (timeouts).
cat >"$RUN/net.py" <<'PY'
import select, socket, struct, sys, time

def touch(path):
    open(path, "w").close()

def udp(src, sport, dst, dport, count, size, rate=0.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, sport))
    payload = (b"wlite-udp-" * (size // 10 + 1))[:size]
    t0, sent, errors = time.monotonic(), 0, 0
    while sent < count:
        if rate:
            d = t0 + sent / rate - time.monotonic()
            if d > 0:
                time.sleep(d)
        for _ in range(min(50 if rate else 1, count - sent)):
            try:
                s.sendto(payload, (dst, dport))
                sent += 1
            except OSError:
                errors += 1
                time.sleep(0.001)
    if errors:
        print("udp: %d send errors (retried)" % errors, file=sys.stderr)

def sink(ports, idle):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("0.0.0.0", p))
        socks.append(s)
    while True:
        r, _, _ = select.select(socks, [], [], idle)
        if not r:
            return
        for s in r:
            try:
                while True:
                    s.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                pass

def tcp_server(addr, port, ready):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(20)
    touch(ready)
    c, _ = s.accept()
    c.settimeout(10)
    data = b""
    while True:  # read to the client's FIN: nothing unread, so no RST
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.sendall(b"pong:" + data)
    c.close()

def tcp_client(src, sport, dst, port):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((src, sport))
    c.settimeout(10)
    c.connect((dst, port))
    c.sendall(b"wlite-hello")
    c.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.close()
    if data != b"pong:wlite-hello":
        sys.exit("tcp: unexpected reply %r" % data)

def dns_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"

def dns_server(addr, name, answer, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    s.settimeout(20)
    touch(ready)
    q, peer = s.recvfrom(512)
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    end = 12 + len(dns_name(name)) + 4
    if q[12:end - 4] != dns_name(name):
        sys.exit("dns: unexpected question %r" % q)
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + socket.inet_aton(answer)
    s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q[12:end] + rr, peer)

def dns_client(src, sport, dst, name, want):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, sport))
    s.settimeout(10)
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack("!HH", 1, 1)
    s.sendto(q, (dst, 53))
    r = s.recv(512)
    if socket.inet_aton(want) not in r[-4:]:
        sys.exit("dns: unexpected answer %r" % r)

cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "udp":
    udp(a[0], int(a[1]), a[2], int(a[3]), int(a[4]), int(a[5]), float(a[6]) if len(a) > 6 else 0.0)
elif cmd == "sink":
    sink([int(p) for p in a[1:]], float(a[0]))
elif cmd == "tcp-server":
    tcp_server(a[0], int(a[1]), a[2])
elif cmd == "tcp-client":
    tcp_client(a[0], int(a[1]), a[2], int(a[3]))
elif cmd == "dns-server":
    dns_server(a[0], a[1], a[2], a[3])
elif cmd == "dns-client":
    dns_client(a[0], int(a[1]), a[2], a[3], a[4])
else:
    sys.exit("unknown command " + cmd)
PY

tapq() { python3 "$RUN/tapq.py" "$@"; }
inA() { ip netns exec "$NS_A" timeout 60 "$@"; }
inB() { ip netns exec "$NS_B" timeout 60 "$@"; }
net_b() { inB python3 "$RUN/net.py" "$@"; }
# ping_b COUNT SIZE DEST: pings from B, 5 a second.
ping_b() { inB ping -n -q -c "$1" -i 0.2 -W 2 -s "$2" "$3" >/dev/null 2>&1; }
# udp_b COUNT SIZE [DEST [DPORT [SPORT]]]: UDP datagrams from B (to A's sink).
udp_b() { net_b udp "${5:-${IP_B}}" "${6:-4444}" "${3:-$IP_A}" "${4:-5555}" "$1" "$2"; }

# ctl NAME JSON: one request on capd NAME's control channel; prints the reply.
ctl() {
	timeout 5 nanocat --req --connect "ipc://$RUN/$1-ctl.sock" --data "$2" --ascii 2>>"$RUN/nanocat.err"
}
# ctl_check NAME JSON EXPR ARGS...: the reply r satisfies EXPR (else prints why).
ctl_check() {
	local reply
	reply="$(ctl "$1" "$2")"
	tapq json - "$3" "${@:4}" <<<"$reply"
}
# wait_status NAME EXPR SECONDS ARGS...: polls {"cmd":"status"} until r satisfies EXPR.
wait_status() {
	local end=$((SECONDS + $3)) out
	while true; do
		out="$(ctl_check "$1" '{"cmd":"status"}' "$2" "${@:4}")" && return 0
		if ((SECONDS >= end)); then
			echo "$out"
			return 1
		fi
		sleep 0.2
	done
}

# start_capd NAME NS ARGS...: starts capd in namespace NS, publishing on
# RUN/NAME-pub.sock, and waits until it answers on its control channel.
# Sets CPID. PREFIX (an array) goes before the binary (setpriv).
PREFIX=()
CPID=""
start_capd() {
	local name="$1" ns="$2" end
	shift 2
	ip netns exec "$ns" "${PREFIX[@]}" "$CAPD" --config "$CONF" --publish "ipc://$RUN/$name-pub.sock" \
		--control "ipc://$RUN/$name-ctl.sock" "$@" >"$RUN/$name.out" 2>"$RUN/$name.err" &
	CPID=$!
	PIDS+=("$CPID")
	end=$((SECONDS + 15))
	while ((SECONDS < end)); do
		if ! kill -0 "$CPID" 2>/dev/null; then
			why "capd $name exited at start: $(tail -n 5 "$RUN/$name.err")"
			return 1
		fi
		if ctl_check "$name" '{"cmd":"status"}' 'r.get("ok") is True' >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	why "capd $name does not answer on its control channel: $(tail -n 5 "$RUN/$name.err")"
	return 1
}

# start_tap NAME CAPD ARGS...: a wlite-tap on capd CAPD's socket, output in
# RUN/NAME.tap and RUN/NAME.taperr. Sets TPID.
start_tap() {
	local name="$1" capd="$2"
	shift 2
	ip netns exec "$NS_A" "$TAP" -c "ipc://$RUN/$capd-pub.sock" "$@" >"$RUN/$name.tap" 2>"$RUN/$name.taperr" &
	TPID=$!
	PIDS+=("$TPID")
}
# tap_ready NAME: the tap has received a status or stats event, so it is connected.
tap_ready() {
	local out
	out="$(tapq wait "$RUN/$1.tap" 15 'len(events) > 0')" || why "tap $1 never got an event: $out"
}

# stop_pid PID [SIGNAL]: signals PID, waits up to 10 s (then SIGKILL); sets RC.
stop_pid() {
	local pid="$1" i
	RC=255
	# Never 0 or 1: "kill 0" would hit this script's whole process group.
	[[ "$pid" =~ ^[0-9]+$ ]] && ((pid > 1)) || return
	kill -CONT "$pid" 2>/dev/null
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	RC=$?
} 2>/dev/null # not bash's "Killed" job notice

# npk TAP: how many packets TAP's output holds now.
npk() { tapq eval "$RUN/$1.tap" 'len(pkts)'; }

# tcheck NAME CODE ARGS...: runs a tapq check on tap NAME; failures go to why.
tcheck() {
	local name="$1" out
	shift
	out="$(tapq check "$RUN/$name.tap" "$@")" || why "$out"
}
# twait NAME SECONDS EXPR ARGS...: waits on tap NAME; a timeout goes to why.
twait() {
	local name="$1" out
	shift
	out="$(tapq wait "$RUN/$name.tap" "$@")" || {
		why "$out"
		return 1
	}
}

# proc_field PID FIELD: the value of FIELD in /proc/PID/status.
proc_field() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status" 2>/dev/null; }
# check_privs PID [CAPS [BND]]: uid/gid wlite, CapEff and CapPrm exactly CAPS
# (default net_admin|net_raw), CapBnd exactly BND when given, NoNewPrivs.
check_privs() {
	local pid="$1" caps="${2:-0000000000003000}" bnd="${3:-}" uid gid want_uid want_gid v
	want_uid="$(id -u wlite)" want_gid="$(id -g wlite)"
	uid="$(proc_field "$pid" Uid)" gid="$(proc_field "$pid" Gid)"
	[[ -n "$uid" ]] || {
		why "cannot read /proc/$pid/status (capd not running?)"
		return
	}
	for v in $uid; do [[ "$v" == "$want_uid" ]] || why "Uid is '$uid', want $want_uid (wlite) four times"; done
	for v in $gid; do [[ "$v" == "$want_gid" ]] || why "Gid is '$gid', want $want_gid (wlite) four times"; done
	v="$(proc_field "$pid" CapEff)"
	[[ "$v" == "$caps" ]] || why "CapEff is $v, want $caps (3000: net_admin|net_raw)"
	v="$(proc_field "$pid" CapPrm)"
	[[ "$v" == "$caps" ]] || why "CapPrm is $v, want $caps"
	v="$(proc_field "$pid" CapBnd)"
	[[ -z "$bnd" || "$v" == "$bnd" ]] || why "CapBnd is $v, want $bnd"
	v="$(proc_field "$pid" CapAmb)"
	[[ -z "$v" || "$v" == 0000000000000000 ]] || why "CapAmb is $v, want 0"
	v="$(proc_field "$pid" NoNewPrivs)"
	[[ "$v" == 1 ]] || why "NoNewPrivs is '$v', want 1"
}

if ! setup_net 2>"$RUN/setup.err"; then
	echo "Bail out! cannot set up the network namespaces: $(head -c 300 "$RUN/setup.err")"
	exit 1
fi
# A UDP sink in A, so that datagrams to 5555 and 9999 draw no ICMP errors.
ip netns exec "$NS_A" timeout 300 python3 "$RUN/net.py" sink 120 5555 9999 &
PIDS+=("$!")

# =================================================== 1. live capture, fields

C=live
if start_capd "$C" "$NS_A" -i "$VA"; then
	if ! wait_status "$C" "r['status']['interface'] == args[0] and r['status']['filter'] == '' and r['status']['source'] == 'interface'" 5 "$VA" >/dev/null; then
		why "status: $(ctl "$C" '{"cmd":"status"}')"
	fi
fi
LIVE_PID="$CPID"
start_tap t1 "$C"
T1_PID=$TPID
tap_ready t1
report "capd starts on a veth in its namespace and answers status over the control channel"

ping_b 3 56 "$IP_A" || why "ping from B failed"
udp_b 5 20 || why "UDP sender failed"
rm -f "$RUN/tcp.ready" "$RUN/dns.ready"
inA python3 "$RUN/net.py" tcp-server "$IP_A" 7777 "$RUN/tcp.ready" 2>"$RUN/tcp-server.err" &
SRV=$!
PIDS+=("$SRV")
for ((i = 0; i < 100; i++)); do [[ -e "$RUN/tcp.ready" ]] && break; sleep 0.05; done
net_b tcp-client "$IP_B" 40777 "$IP_A" 7777 2>"$RUN/tcp-client.err" || why "TCP client failed: $(cat "$RUN/tcp-client.err")"
wait "$SRV" || why "TCP server failed: $(cat "$RUN/tcp-server.err")"
inA python3 "$RUN/net.py" dns-server "$IP_A" wlite-test.example 10.9.8.7 "$RUN/dns.ready" 2>"$RUN/dns-server.err" &
SRV=$!
PIDS+=("$SRV")
for ((i = 0; i < 100; i++)); do [[ -e "$RUN/dns.ready" ]] && break; sleep 0.05; done
net_b dns-client "$IP_B" 40053 "$IP_A" wlite-test.example 10.9.8.7 2>"$RUN/dns-client.err" || why "DNS client failed: $(cat "$RUN/dns-client.err")"
wait "$SRV" || why "DNS server failed: $(cat "$RUN/dns-server.err")"
TRAFFIC_WHY="$WHY"
WHY=""
# Everything sent so far has arrived once the DNS answer is there (capture order).
twait t1 15 'any(p.get("sport") == 53 and p.get("dport") == 40053 for p in pkts)'
LIVE_WAIT_WHY="$WHY"

WHY="$TRAFFIC_WHY$LIVE_WAIT_WHY"
tcheck t1 '
req = [p for p in pkts if icmp_echo(p, "request")]
rep = [p for p in pkts if icmp_echo(p, "reply")]
need(len(req) == 3 and len(rep) == 3, "want 3 echo requests and 3 replies, got %d and %d" % (len(req), len(rep)))
for p in req:
    need((p.get("l3"), p.get("src"), p.get("dst"), p.get("len")) == ("ipv4", args[1], args[0], 98), "request: %r" % p)
for p in rep:
    need((p.get("l3"), p.get("src"), p.get("dst"), p.get("len")) == ("ipv4", args[0], args[1], 98), "reply: %r" % p)
' "$IP_A" "$IP_B"
report "live: ICMP echo requests and replies arrive with l3, src, dst, ipproto, proto, len"

WHY="$TRAFFIC_WHY$LIVE_WAIT_WHY"
tcheck t1 '
u = [p for p in pkts if p.get("ipproto") == 17 and p.get("dport") == 5555]
need(len(u) == 5, "want 5 UDP datagrams to port 5555, got %d" % len(u))
for p in u:
    need((p.get("l3"), p.get("src"), p.get("dst"), p.get("sport"), p.get("proto"), p.get("len"), p.get("caplen"))
         == ("ipv4", args[1], args[0], 4444, "UDP", 62, 62), "UDP: %r" % p)
' "$IP_A" "$IP_B"
report "live: UDP datagrams arrive with src, dst, ipproto 17, sport/dport, proto UDP, len"

WHY="$TRAFFIC_WHY$LIVE_WAIT_WHY"
tcheck t1 '
A, B = args[0], args[1]
t = [p for p in pkts if p.get("ipproto") == 6]
c2s = [p for p in t if (p.get("src"), p.get("sport"), p.get("dst"), p.get("dport")) == (B, 40777, A, 7777)]
s2c = [p for p in t if (p.get("src"), p.get("sport"), p.get("dst"), p.get("dport")) == (A, 7777, B, 40777)]
need(len(c2s) + len(s2c) == len(t) and t, "TCP packets outside the one connection (or none): %r" % t[:3])
need(all(p.get("proto") == "TCP" and p.get("l3") == "ipv4" for p in t), "proto/l3 not TCP/ipv4: %r" % [p for p in t if p.get("proto") != "TCP"][:2])
f = lambda ps: [p.get("tcp_flags", -1) for p in ps]
need(f(c2s)[:1] == [0x02], "first client packet is not a bare SYN: flags %r" % f(c2s))
need(f(s2c)[:1] == [0x12], "first server packet is not SYN-ACK: flags %r" % f(s2c))
need(0x10 in f(c2s), "no bare ACK from the client: flags %r" % f(c2s))
need(any(x & 0x01 for x in f(c2s)) and any(x & 0x01 for x in f(s2c)), "FIN missing in a direction: %r / %r" % (f(c2s), f(s2c)))
need(not any(x & 0x04 for x in f(t)), "unexpected RST: %r" % f(t))
need(any(x & 0x08 for x in f(c2s)) and any(x & 0x08 for x in f(s2c)), "no PSH (data) in a direction: %r / %r" % (f(c2s), f(s2c)))
' "$IP_A" "$IP_B"
report "live: one TCP connection shows SYN, SYN-ACK, ACK, data and FIN both ways in tcp_flags, right ports"

WHY="$TRAFFIC_WHY$LIVE_WAIT_WHY"
tcheck t1 '
A, B = args[0], args[1]
d = [p for p in pkts if p.get("ipproto") == 17 and 53 in (p.get("sport"), p.get("dport"))]
q = [p for p in d if (p.get("src"), p.get("sport"), p.get("dst"), p.get("dport")) == (B, 40053, A, 53)]
r = [p for p in d if (p.get("src"), p.get("sport"), p.get("dst"), p.get("dport")) == (A, 53, B, 40053)]
need(len(q) == 1 and len(r) == 1 and len(d) == 2, "want one query and one answer, got %r" % d)
for p in q:
    dns = p.get("dns", {})
    need(p.get("proto") == "DNS", "query proto is %r" % p.get("proto"))
    need((dns.get("id"), dns.get("response"), dns.get("qname"), dns.get("qtype"), dns.get("rcode")) == (0x1234, False, "wlite-test.example", 1, 0), "query dns: %r" % dns)
for p in r:
    dns = p.get("dns", {})
    need(p.get("proto") == "DNS", "answer proto is %r" % p.get("proto"))
    need((dns.get("id"), dns.get("response"), dns.get("qname"), dns.get("rcode")) == (0x1234, True, "wlite-test.example", 0), "answer dns: %r" % dns)
    an = [a for a in dns.get("answers", []) if a.get("section") == "an"]
    need(an == [{"section": "an", "name": "wlite-test.example", "type": 1, "ttl": 300, "data": "10.9.8.7"}], "answers: %r" % dns.get("answers"))
' "$IP_A" "$IP_B"
report "live: DNS query and answer decoded (proto DNS, id, qname, qtype, answer data 10.9.8.7, ttl)"

WHY="$TRAFFIC_WHY$LIVE_WAIT_WHY"
tcheck t1 '
known = lambda p: p.get("l3") == "arp" or p.get("ipproto") in (1, 6) or (p.get("ipproto") == 17 and (p.get("dport") in (5555, 53) or p.get("sport") == 53))
other = [p for p in pkts if not known(p)]
need(not other, "unexpected packets: %r" % other[:3])
need(all("eth" in p and p.get("caplen") == p.get("len") for p in pkts), "a packet without eth or cut short: %r" % [p for p in pkts if "eth" not in p][:2])
'
report "live: nothing but the traffic sent (and ARP) is published, every packet whole"

WHY="$TRAFFIC_WHY"
# The stats event after the last packet counts exactly what the tap holds.
twait t1 10 'stats and pkts and stats[-1].get("seq") == pkts[-1].get("seq") and stats[-1].get("packets") == len(pkts)'
tcheck t1 '
r = consecutive(pkts, 1)
need(r is None, "seq not consecutive from 1: %s" % r)
need(len(set(p["seq"] for p in pkts)) == len(pkts), "duplicate seq")
s = stats[-1] if stats else {}
need(s.get("pcap", {}).get("drop") == 0, "pcap drops: %r" % s.get("pcap"))
need(s.get("published", {}).get("refused_packets") == 0, "refused packets: %r" % s.get("published"))
'
grep -q "gap" "$RUN/t1.taperr" && why "tap reported a gap: $(grep gap "$RUN/t1.taperr")"
report "live: seq numbers consecutive from 1, no gaps, stats packets == packets received, no drops"

# ===================================================== 7a. dropped privileges

check_privs "$LIVE_PID" 0000000000003000 0000000000003000
report "privileges: capd started as root runs as wlite with CapEff/CapPrm/CapBnd 0x3000 and NoNewPrivs 1"

for s in pub ctl; do
	v="$(stat -c '%G %a' "$RUN/$C-$s.sock" 2>&1)"
	[[ "$v" == "wlite 660" ]] || why "$C-$s.sock is '$v', want 'wlite 660'"
done
report "privileges: the ipc sockets are group wlite, mode 660"

# ============================================ 10a. SIGTERM, final counts

LIVE_COUNT="$(npk t1)"
stop_pid "$LIVE_PID" TERM
((RC == 0)) || why "capd exited $RC on SIGTERM"
grep -Eq "^wlite-capd: $LIVE_COUNT packets published \(0 refused by the socket\), [0-9]+ bytes; kernel: [0-9]+ received, 0 dropped" "$RUN/$C.err" ||
	why "no final count of $LIVE_COUNT packets on stderr: $(tail -n 2 "$RUN/$C.err")"
[[ -e "$RUN/$C-pub.sock" || -e "$RUN/$C-ctl.sock" ]] && why "socket files left behind"
report "SIGTERM: capd exits 0, prints its final counts ($LIVE_COUNT packets) and removes its sockets"
stop_pid "$T1_PID"

# ================================================= 3a. bad filter at start-up

ip netns exec "$NS_A" timeout 20 "$CAPD" --config "$CONF" -i "$VA" -f "tcp port" --publish "ipc://$RUN/bad-pub.sock" \
	--control "ipc://$RUN/bad-ctl.sock" >"$RUN/bad.out" 2>"$RUN/bad.err"
RC=$?
((RC != 0 && RC != 124)) || why "exit status $RC, want non-zero (and no hang)"
[[ "$(wc -l <"$RUN/bad.err")" == 1 ]] || why "want exactly one line on stderr, got: $(cat "$RUN/bad.err")"
grep -q "tcp port" "$RUN/bad.err" || why "stderr does not name the filter: $(cat "$RUN/bad.err")"
grep -qi "syntax error" "$RUN/bad.err" || why "stderr lacks libpcap's reason: $(cat "$RUN/bad.err")"
[[ -s "$RUN/bad.out" ]] && why "stdout not empty: $(head -c 200 "$RUN/bad.out")"
report "bad -f filter: non-zero exit ($RC), one stderr line naming the filter and libpcap's reason"

# ================================ 2, 3b, 5, 4: filter, control, pause, interface

C=ctl
start_capd "$C" "$NS_A" -i "$VA" -f icmp
CTL_PID="$CPID"
start_tap t2 "$C"
T2_PID=$TPID
tap_ready t2
# UDP first, then pings: once the pings are in, the UDP would have been too.
udp_b 3 30
ping_b 2 56 "$IP_A"
twait t2 10 'sum(icmp_echo(p, "reply") for p in pkts) >= 2'
tcheck t2 'need(pkts and all(p.get("ipproto") == 1 for p in pkts), "non-ICMP packets through -f icmp: %r" % [p for p in pkts if p.get("ipproto") != 1][:3])'
out="$(wait_status "$C" 'r["status"]["filter"] == "icmp"' 2)" || why "$out"
report "-f icmp: only ICMP gets through (UDP sent first is not published); status shows the filter"

M="$(npk t2)"
reply="$(ctl "$C" '{"cmd":"set_filter","filter":"tcp port"}')"
out="$(tapq json - 'r.get("ok") is False and "tcp port" in r.get("error", "") and "syntax error" in r.get("error", "") and "\n" not in r["error"]' <<<"$reply")" || why "$out"
report "set_filter with a bad filter: {\"ok\":false,\"error\":...} with the filter and libpcap's text"

out="$(wait_status "$C" 'r["status"]["filter"] == "icmp"' 2)" || why "$out"
udp_b 3 31
ping_b 2 57 "$IP_A"
twait t2 10 'sum(icmp_echo(p, "reply") for p in pkts[int(args[0]):]) >= 2' "$M"
tcheck t2 'need(all(p.get("ipproto") == 1 for p in pkts[int(args[0]):]), "non-ICMP after the refused filter: %r" % [p for p in pkts if p.get("ipproto") != 1][:3])' "$M"
kill -0 "$CTL_PID" 2>/dev/null || why "capd died"
report "after the refused filter capture goes on with the old one (status icmp, ICMP in, UDP out)"

M="$(npk t2)"
out="$(ctl_check "$C" '{"cmd":"set_filter","filter":"udp port 5555"}' 'r.get("ok") is True and r["status"]["filter"] == "udp port 5555"')" || why "$out"
ping_b 2 58 "$IP_A"
udp_b 3 32
twait t2 10 'sum(p.get("dport") == 5555 for p in pkts[int(args[0]):]) >= 3' "$M"
tcheck t2 '
new = pkts[int(args[0]):]
need(all(p.get("ipproto") == 17 and p.get("dport") == 5555 and p.get("len") == 74 for p in new), "packets the new filter should drop: %r" % [p for p in new if p.get("ipproto") != 17][:3])
' "$M"
out="$(wait_status "$C" 'r["status"]["filter"] == "udp port 5555"' 2)" || why "$out"
report "set_filter with a good filter takes effect at once (pings sent after it are not published)"

# -- pause / resume
M="$(npk t2)"
out="$(ctl_check "$C" '{"cmd":"pause"}' 'r.get("ok") is True and r["status"]["paused"] is True')" || why "$out"
out="$(wait_status "$C" 'r["status"]["paused"] is True' 2)" || why "$out"
report "pause: the reply and status say paused true"

udp_b 5 41
ping_b 1 56 "$IP_A"
sleep 1.2 # longer than the 100 ms delivery timeout and the 1 s flush tick
tcheck t2 'need(len(pkts) == int(args[0]), "packets published while paused: %r" % pkts[int(args[0]):][:3])' "$M"
report "pause: datagrams sent while paused never reach the subscriber"

out="$(ctl_check "$C" '{"cmd":"resume"}' 'r.get("ok") is True and r["status"]["paused"] is False')" || why "$out"
out="$(wait_status "$C" 'r["status"]["paused"] is False and r["status"]["filter"] == "udp port 5555"' 2)" || why "$out"
udp_b 3 42
twait t2 10 'sum(p.get("len") == 84 for p in pkts[int(args[0]):]) >= 3' "$M"
tcheck t2 '
new = pkts[int(args[0]):]
need(not any(p.get("len") == 83 for p in new), "datagrams sent while paused came through after resume")
need(consecutive(pkts) is None, "seq: %s" % consecutive(pkts))
' "$M"
report "resume: status paused false, the filter is kept, packets flow again with no seq gap"

# -- set_interface
M="$(npk t2)"
out="$(ctl_check "$C" "{\"cmd\":\"set_interface\",\"interface\":\"$VA2\"}" 'r.get("ok") is True and r["status"]["interface"] == args[0]' "$VA2")" || why "$out"
udp_b 3 51 # on the old interface: not published any more
udp_b 3 52 "$IP_A2" 5555 "$IP_B2"
twait t2 10 'sum(p.get("len") == 94 for p in pkts[int(args[0]):]) >= 3' "$M"
tcheck t2 '
new = pkts[int(args[0]):]
need(all((p.get("src"), p.get("dst"), p.get("dport"), p.get("len")) == (args[2], args[1], 5555, 94) for p in new), "want only the 3 datagrams on the new interface, got %r" % new[:4])
need(consecutive(pkts) is None, "seq: %s" % consecutive(pkts))
' "$M" "$IP_A2" "$IP_B2"
out="$(wait_status "$C" 'r["status"]["interface"] == args[0] and r["status"]["filter"] == "udp port 5555"' 2 "$VA2")" || why "$out"
report "set_interface to a second veth: its packets arrive (the old one's do not), filter and seq carry on"

out="$(ctl_check "$C" '{"cmd":"set_interface","interface":"wltnosuch0"}' 'r.get("ok") is False and "wltnosuch0" in r.get("error", "") and "no such interface" in r["error"]')" || why "$out"
out="$(wait_status "$C" 'r["status"]["interface"] == args[0]' 2 "$VA2")" || why "$out"
M="$(npk t2)"
udp_b 2 53 "$IP_A2" 5555 "$IP_B2"
twait t2 10 'len(pkts) >= int(args[0]) + 2' "$M"
report "set_interface to an unknown interface is refused with a clear error; capture stays put"

stop_pid "$CTL_PID"
((RC == 0)) || why "capd exited $RC on SIGTERM"
grep -q "gap" "$RUN/t2.taperr" && why "tap reported a gap: $(grep gap "$RUN/t2.taperr")"
report "control session: no gaps at the subscriber and a clean exit"
stop_pid "$T2_PID"

# ========================================================= 6. loopback

# lo inside namespace A only. 127.0.0.1 pings first, then pings to A's own
# 10.77.1.1 (also over lo, but not loopback addresses) as the marker.
loopback_run() {
	local name="$1"
	shift
	start_capd "$name" "$NS_A" -i lo "$@" || return 1
	LO_PID=$CPID
	start_tap "$name" "$name"
	LO_TAP=$TPID
	tap_ready "$name"
	inA ping -n -q -c 3 -i 0.2 -s 56 127.0.0.1 >/dev/null 2>&1 || why "ping 127.0.0.1 failed"
	inA ping -n -q -c 2 -i 0.2 -s 60 "$IP_A" >/dev/null 2>&1 || why "ping $IP_A failed"
	twait "$name" 10 'sum(p.get("src") == args[0] and p.get("len") == 102 for p in pkts) >= 4' "$IP_A"
}
loopback_run lo_default
twait lo_default 5 'stats and stats[-1].get("loopback_skipped", 0) >= 6'
tcheck lo_default 'need(not any(str(p.get("src", "")).startswith("127.") for p in pkts), "127.0.0.1 packets published: %r" % [p for p in pkts if str(p.get("src", "")).startswith("127.")][:2])'
stop_pid "$LO_PID"
stop_pid "$LO_TAP"
report "loopback: 127.0.0.1 traffic on lo is left out by default (counted as loopback_skipped)"

loopback_run lo_include --include-loopback
tcheck lo_include '
lo = [p for p in pkts if p.get("src") == "127.0.0.1" and p.get("dst") == "127.0.0.1"]
need(sum(icmp_echo(p, "request") for p in lo) == 3 and sum(icmp_echo(p, "reply") for p in lo) == 3, "want 3+3 echo packets 127.0.0.1 <-> 127.0.0.1, got %r" % lo[:6])
need(consecutive(pkts) is None, "seq: %s" % consecutive(pkts))
'
stop_pid "$LO_PID"
stop_pid "$LO_TAP"
report "loopback: with --include-loopback the 127.0.0.1 pings are published"

# =============================================== 7b. started unprivileged

C=setpriv
# shellcheck disable=SC2054 # the commas belong to setpriv's capability lists
PREFIX=(setpriv --reuid wlite --regid wlite --init-groups --inh-caps +net_raw,+net_admin
	--ambient-caps +net_raw,+net_admin --)
start_capd "$C" "$NS_A" -i "$VA"
SP_PID="$CPID"
PREFIX=()
# Without CAP_SETPCAP it cannot touch the bounding set: the unit's
# CapabilityBoundingSet= does (setpriv here leaves ours as it is).
check_privs "$SP_PID" 0000000000003000 "$(proc_field $$ CapBnd)"
report "privileges: capd started by setpriv as wlite with ambient caps ends with CapEff 0x3000, NoNewPrivs 1"

start_tap sp "$C"
SP_TAP=$TPID
tap_ready sp
ping_b 3 56 "$IP_A" || why "ping failed"
twait sp 10 'sum(icmp_echo(p, "reply") for p in pkts) >= 3'
tcheck sp '
e = [p for p in pkts if p.get("ipproto") == 1]
need(len(e) == 6 and all((p.get("l3"), p.get("proto"), p.get("len")) == ("ipv4", "ICMP", 98) and {p.get("src"), p.get("dst")} == {args[0], args[1]} for p in e), "echo packets: %r" % e[:6])
need(consecutive(pkts, 1) is None, "seq: %s" % consecutive(pkts, 1))
' "$IP_A" "$IP_B"
out="$(ctl_check "$C" "{\"cmd\":\"set_interface\",\"interface\":\"$VA2\"}" 'r.get("ok") is True')" || why "set_interface (needs CAP_NET_RAW kept): $out"
stop_pid "$SP_PID"
((RC == 0)) || why "exit status $RC on SIGTERM"
stop_pid "$SP_TAP"
report "privileges: the unprivileged capd captures the same way, reopens on set_interface, exits 0"

# ================================================ 8. subscribers come and go

C=subs
start_capd "$C" "$NS_A" -i "$VA" -f "udp port 9999"
SUBS_PID="$CPID"
start_tap s1 "$C"
S1=$TPID
tap_ready s1
# 20000 datagrams at 4000/s; a second subscriber joins and is killed, a
# third joins and leaves with SIGTERM, while they flow.
net_b udp "$IP_B" 9998 "$IP_A" 9999 20000 40 4000 2>"$RUN/flood1.err" &
FLOOD=$!
PIDS+=("$FLOOD")
twait s1 10 'len(pkts) >= 1000'
start_tap s2 "$C"
S2=$TPID
twait s2 10 'len(pkts) >= 300'
stop_pid "$S2" KILL
start_tap s3 "$C"
S3=$TPID
twait s3 10 'len(pkts) >= 300'
stop_pid "$S3" TERM
wait "$FLOOD" || why "sender failed: $(cat "$RUN/flood1.err")"
twait s1 20 'len(pkts) >= 20000'
tcheck s1 '
need(len(pkts) == 20000, "first subscriber has %d packets, want 20000" % len(pkts))
need(consecutive(pkts) is None, "first subscriber: %s" % consecutive(pkts))
'
tcheck s2 'need(consecutive(pkts) is None, "second subscriber: %s" % consecutive(pkts))'
tcheck s3 'need(consecutive(pkts) is None, "third subscriber: %s" % consecutive(pkts))'
grep -q gap "$RUN/s1.taperr" && why "first subscriber reported: $(grep gap "$RUN/s1.taperr")"
report "subscribers joining and leaving (SIGKILL, SIGTERM) mid-stream: the first one sees all 20000, no gaps"

# A stalled subscriber: SIGSTOP while 80000 datagrams of 1000 bytes (80 MB)
# go by at 25000/s.
start_tap r1 "$C" -q
R1=$TPID
start_tap st "$C" -q
ST=$TPID
start_tap stats "$C" -t stats
STATS_TAP=$TPID
tap_ready stats
sleep 0.3
kill -STOP "$ST"
# Counts before: published packets and kernel drops (whatever capd could not
# keep up with is in pcap.drop, not in the published count).
P0="$(tapq eval "$RUN/stats.tap" 'stats[-1]["packets"]')"
D0="$(tapq eval "$RUN/stats.tap" 'stats[-1]["pcap"]["drop"]')"
net_b udp "$IP_B" 9998 "$IP_A" 9999 80000 1000 25000 2>"$RUN/flood2.err" || why "sender failed: $(cat "$RUN/flood2.err")"
twait stats 15 'stats[-1]["packets"] + stats[-1]["pcap"]["drop"] >= int(args[0]) + int(args[1]) + 80000' "$P0" "$D0"
tcheck stats '
p0, d0 = int(args[0]), int(args[1])
got, drop = stats[-1]["packets"] - p0, stats[-1]["pcap"]["drop"] - d0
during = [s["packets"] for s in stats if p0 < s["packets"] < p0 + got]
need(got + drop == 80000, "capd counted %d packets and %d kernel drops, want 80000 in all" % (got, drop))
need(drop * 100 <= 80000, "pcap dropped %d of 80000" % drop)
need(len(during) >= 1, "no stats event while the stream went by: %r" % [s["packets"] for s in stats])
' "$P0" "$D0"
kill -0 "$ST" 2>/dev/null || why "the stopped tap is gone"
grep -q "^State:.*stopped" "/proc/$ST/status" 2>/dev/null || why "the tap was not stopped: $(grep State "/proc/$ST/status" 2>&1)"
report "stalled subscriber: capd keeps capturing while it is stopped (count grows, all 80000 counted, pcap.drop <= 1%)"

kill -CONT "$ST"
sleep 0.5
# Gaps show when a later packet arrives: a few more after the resume.
net_b udp "$IP_B" 9998 "$IP_A" 9999 20 40 2>/dev/null
twait stats 10 'stats[-1]["packets"] + stats[-1]["pcap"]["drop"] >= int(args[0]) + int(args[1]) + 80020' "$P0" "$D0"
PUBLISHED=$(($(tapq eval "$RUN/stats.tap" 'stats[-1]["packets"]') - P0))
sleep 1.5
stop_pid "$ST" INT
stop_pid "$R1" INT
grep -Eq "gap of [0-9]+ packet\(s\)" "$RUN/st.taperr" || why "no gap reported by the stalled tap: $(cat "$RUN/st.taperr")"
grep -Eq " packets received, [1-9][0-9]* gaps, [1-9][0-9]* packets missed" "$RUN/st.taperr" || why "stalled tap's summary: $(tail -n 1 "$RUN/st.taperr")"
report "stalled subscriber, once resumed, reports the loss as gaps on stderr"

grep -Eq ": $PUBLISHED packets received, 0 gaps, 0 packets missed" "$RUN/r1.taperr" || why "reading subscriber (want $PUBLISHED packets): $(cat "$RUN/r1.taperr")"
grep -q "gap of" "$RUN/r1.taperr" && why "reading subscriber reported a gap"
report "a reading subscriber alongside the stalled one gets all $PUBLISHED packets published, no gaps"

stop_pid "$STATS_TAP"
stop_pid "$S1"
stop_pid "$SUBS_PID"
((RC == 0)) || why "capd exited $RC on SIGTERM"
grep -Eq "packets published \(0 refused by the socket\)" "$RUN/$C.err" || why "final counts: $(tail -n 1 "$RUN/$C.err")"
report "subscribers: capd exits 0 after the stall with nothing refused by the socket"

# ================================================ 10b. SIGHUP and --config

C=hup
printf '[capd]\nfilter = icmp\n' >"$RUN/hup.conf"
chmod 644 "$RUN/hup.conf"
CONF="$RUN/hup.conf"
start_capd "$C" "$NS_A" -i "$VA"
HUP_PID="$CPID"
CONF="$RUN/empty.conf"
out="$(wait_status "$C" 'r["status"]["filter"] == "icmp"' 3)" || why "$out"
report "--config: the [capd] filter from the file is applied at start"

start_tap hup "$C"
HUP_TAP=$TPID
tap_ready hup
printf '[capd]\n# changed\nfilter = udp port 5555\n' >"$RUN/hup.conf.new"
chmod 644 "$RUN/hup.conf.new"
mv "$RUN/hup.conf.new" "$RUN/hup.conf"
[[ -n "$HUP_PID" ]] && kill -HUP "$HUP_PID"
out="$(wait_status "$C" 'r["status"]["filter"] == "udp port 5555"' 5)" || why "$out"
ping_b 2 56 "$IP_A"
udp_b 3 33
twait hup 10 'sum(p.get("dport") == 5555 for p in pkts) >= 3'
tcheck hup 'need(all(p.get("dport") == 5555 and p.get("ipproto") == 17 for p in pkts), "packets the reloaded filter drops: %r" % [p for p in pkts if p.get("ipproto") != 17][:3])'
grep -q "configuration reloaded" "$RUN/$C.err" || why "no 'configuration reloaded' on stderr"
kill -0 "$HUP_PID" 2>/dev/null || why "capd died on SIGHUP"
report "SIGHUP: the changed config file's filter is applied (status and traffic), capd keeps running"

printf '[capd]\nfilter = icmp\nno_such_key = 1\n' >"$RUN/hup.conf.new"
chmod 644 "$RUN/hup.conf.new"
mv "$RUN/hup.conf.new" "$RUN/hup.conf"
[[ -n "$HUP_PID" ]] && kill -HUP "$HUP_PID"
for ((i = 0; i < 50; i++)); do grep -q "reload refused" "$RUN/$C.err" && break; sleep 0.1; done
grep -q "reload refused.*no_such_key" "$RUN/$C.err" || why "no 'reload refused' naming the bad key: $(tail -n 2 "$RUN/$C.err")"
out="$(wait_status "$C" 'r["status"]["filter"] == "udp port 5555"' 2)" || why "$out"
M="$(npk hup)"
udp_b 2 34
twait hup 10 'len(pkts) >= int(args[0]) + 2' "$M"
stop_pid "$HUP_PID"
((RC == 0)) || why "capd exited $RC on SIGTERM"
stop_pid "$HUP_TAP"
report "SIGHUP with a broken config file: refused on stderr, the running filter stays, capture goes on"

# ============================================================ 9. --read replay

# The packet lines of a tap's output as --read --json prints them: live
# packets also carry the id of their flow, which --json has no table for.
tap_packets() {
	grep -v '^{"event":' "$1" | sed -E 's/,"flow":[0-9]+//'
}

# replay_one IDX FILE [CAPD ARGS...]: replays FILE at max speed to a tap and
# compares the packets with --read FILE --json. Writes RUN/replay/IDX.why
# (empty when identical).
replay_one() {
	local idx="$1" file="$2" dir="$RUN/replay" delay tp cp out
	shift 2
	local why_file="$dir/$idx.why" exp="$dir/$idx.exp" got="$dir/$idx.got"
	: >"$why_file"
	if [[ ! -f "$file" ]]; then
		echo "no such file $file (set WLITE_SHARED)" >"$why_file"
		return
	fi
	if ! ip netns exec "$NS_A" timeout 30 "$CAPD" --config "$CONF" --read "$file" --json "$@" >"$exp" 2>"$dir/$idx.json.err"; then
		echo "--json failed: $(head -n 3 "$dir/$idx.json.err")" >"$why_file"
		return
	fi
	if [[ ! -s "$exp" ]]; then
		echo "--json printed no packets" >"$why_file"
		return
	fi
	# 500 ms as asked; a tap that missed the start on a loaded machine gets one retry with more.
	for delay in 500 3000; do
		ip netns exec "$NS_A" timeout 40 "$TAP" -c "ipc://$dir/$idx-pub.sock" -t pkt -t status >"$dir/$idx.tap" 2>"$dir/$idx.taperr" &
		tp=$!
		ip netns exec "$NS_A" timeout 40 "$CAPD" --config "$CONF" --read "$file" --speed max --start-delay "$delay" \
			--publish "ipc://$dir/$idx-pub.sock" --control "ipc://$dir/$idx-ctl.sock" "$@" 2>"$dir/$idx.capd.err" &
		cp=$!
		out="$(tapq wait "$dir/$idx.tap" 30 'any(e.get("finished") for e in status)')"
		kill -TERM "$cp" "$tp" 2>/dev/null
		wait "$cp" "$tp" 2>/dev/null
		# Live packets carry the id of their flow, which --json has no table
		# for; every packet with addresses must have one (flows.sh and
		# webd_flows check which flow), and the rest must be identical.
		local unflowed
		unflowed="$(grep -v '^{"event":' "$dir/$idx.tap" | grep '"src":' | grep -vc '"flow":[1-9]')"
		tap_packets "$dir/$idx.tap" >"$got"
		if cmp -s "$exp" "$got" && [[ "$unflowed" == 0 ]]; then
			: >"$why_file"
			return
		fi
		{
			[[ -n "$out" ]] && echo "$out"
			[[ "$unflowed" != 0 ]] && echo "$unflowed packets with addresses but no flow id"
			echo "$(wc -l <"$got") packets from the tap, $(wc -l <"$exp") from --json (start-delay $delay)"
			diff "$exp" "$got" | head -n 6 | cut -c 1-400
		} >"$why_file"
		# Retry only if the tap missed the beginning; a wrong packet is a failure.
		[[ -s "$got" && "$(head -c 9 "$got")" == '{"seq":1,' ]] && return
	done
}

i=0
running=()
for f in "${REPLAY_FILES[@]}"; do
	replay_one "$i" "$CORPUS/$f" &
	running+=("$!")
	i=$((i + 1))
	if ((${#running[@]} >= 3)); then
		wait "${running[0]}"
		running=("${running[@]:1}")
	fi
done
wait "${running[@]}" 2>/dev/null
i=0
for f in "${REPLAY_FILES[@]}"; do
	[[ -s "$RUN/replay/$i.why" ]] && why "$(cat "$RUN/replay/$i.why")"
	report "--read $f --speed max: the tap prints exactly what --read --json prints ($(wc -l <"$RUN/replay/$i.exp" 2>/dev/null || echo 0) packets)"
	i=$((i + 1))
done

replay_one lo "$CORPUS/$LOOPBACK_FILE" --include-loopback
[[ -s "$RUN/replay/lo.why" ]] && why "$(cat "$RUN/replay/lo.why")"
report "--read $LOOPBACK_FILE --include-loopback (all 127.0.0.1): the tap prints exactly what --json prints"

# --speed 1: the packets come over about the time the capture spans.
C=speed
exp="$RUN/replay/speed.exp"
ip netns exec "$NS_A" timeout 30 "$CAPD" --config "$CONF" --read "$CORPUS/$TIMING_FILE" --json >"$exp" 2>/dev/null
SPAN="$(python3 -c 'import json,sys; t=[json.loads(l)["ts"] for l in open(sys.argv[1])]; print("%.3f" % (max(t)-min(t)) if t else "0")' "$exp" 2>/dev/null || echo 0)"
NPK="$(wc -l <"$exp")"
start_tap speed "$C" -t pkt
SPEED_TAP=$TPID
ip netns exec "$NS_A" timeout 40 "$CAPD" --config "$CONF" --read "$CORPUS/$TIMING_FILE" --speed 1 --start-delay 1000 \
	--publish "ipc://$RUN/$C-pub.sock" --control "ipc://$RUN/$C-ctl.sock" 2>"$RUN/$C.err" &
SPEED_PID=$!
PIDS+=("$SPEED_PID")
TOOK="$(tapq timing "$RUN/speed.tap" "$NPK" 30)"
if [[ "$TOOK" == timeout ]] || ! python3 -c 'import sys; took, span = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if span >= 1 and span * 0.9 - 0.05 <= took <= span + 1.5 else 1)' "$TOOK" "$SPAN"; then
	why "first to last packet took ${TOOK}s; the capture spans ${SPAN}s ($NPK packets)"
fi
tap_packets "$RUN/speed.tap" | cmp -s - "$exp" || why "packets differ from --json"
stop_pid "$SPEED_PID"
stop_pid "$SPEED_TAP"
report "--read $TIMING_FILE --speed 1: first to last packet took ${TOOK}s for a ${SPAN}s capture"

# --loop: the file goes out again and again, seq still going up.
C=loop
exp="$RUN/replay/loop.exp"
ip netns exec "$NS_A" timeout 30 "$CAPD" --config "$CONF" --read "$CORPUS/$LOOP_FILE" --json >"$exp" 2>/dev/null
NPK="$(wc -l <"$exp")"
start_tap loop "$C" -t pkt -n $((3 * NPK))
LOOP_TAP=$TPID
ip netns exec "$NS_A" timeout 40 "$CAPD" --config "$CONF" --read "$CORPUS/$LOOP_FILE" --loop --speed max --start-delay 1500 \
	--publish "ipc://$RUN/$C-pub.sock" --control "ipc://$RUN/$C-ctl.sock" 2>"$RUN/$C.err" &
LOOP_PID=$!
PIDS+=("$LOOP_PID")
twait loop 20 'len(pkts) >= 3 * int(args[0])' "$NPK"
stop_pid "$LOOP_PID"
stop_pid "$LOOP_TAP"
tcheck loop '
import json
n = int(args[0])
exp = [json.loads(l) for l in open(args[1])]
need(len(pkts) == 3 * n, "got %d packets, want %d" % (len(pkts), 3 * n))
need(consecutive(pkts, 1) is None, "seq: %s" % consecutive(pkts, 1))
# Live packets carry their flow id, which --json has no flow table for.
strip = lambda p: {k: v for k, v in p.items() if k not in ("seq", "flow")}
for k, p in enumerate(pkts):
    if strip(p) != strip(exp[k % n]):
        need(False, "packet %d (pass %d) differs from the file: %r" % (k + 1, k // n + 1, p))
        break
' "$NPK" "$exp"
report "--read $LOOP_FILE --loop: the file is published three times over with seq 1..$((3 * NPK))"

# ====================================================== 11. hardening (issue 10)

# -- Log injection: a filter text with a newline and "<0>" stays in one line.
# JOURNAL_STREAM makes capd prefix each line with journald's "<N>" priority,
# as under systemd, so a forged line would read as an emergency.
C=loginj
PREFIX=(env JOURNAL_STREAM=8:1)
start_capd "$C" "$NS_A" -i "$VA"
LOG_PID="$CPID"
PREFIX=()
out="$(ctl_check "$C" '{"cmd":"set_filter","filter":"x\n<0>forged\r\n<3>again"}' 'r.get("ok") is False and "forged" in r.get("error", "")')" || why "$out"
stop_pid "$LOG_PID"
bad="$(grep -Evn '^<[3-7]>wlite-capd: ' "$RUN/$C.err")" && why "lines without capd's own prefix: $bad"
n="$(grep -c 'forged' "$RUN/$C.err")"
((n == 1)) || why "want the filter text in exactly one line, found it in $n: $(grep -n forged "$RUN/$C.err")"
grep -qF 'forged\x0d\x0a<3>again' "$RUN/$C.err" || why "the controls are not shown as \\xHH: $(grep forged "$RUN/$C.err")"
report "log injection: a set_filter text with CR/LF and <0> is logged as one escaped line"

# -- Socket files (item 14). capd binds as root, then used to chmod/chown the
# path, which follows a symlink: in a directory the wlite group can write, a
# member swapping the socket for a symlink between the two steps got any
# file's mode and group changed. The sockets now get their mode and group
# from the umask and effective gid at bind time. Each check runs in a
# directory laid out as before (root:wlite 2770) with a root-only target.
SOCK_DIR="$RUN/sockdir"
mkdir -p "$SOCK_DIR" && chgrp wlite "$SOCK_DIR" && chmod 2770 "$SOCK_DIR"
TARGET="$RUN/target"
echo "root only" >"$TARGET" && chown root:root "$TARGET" && chmod 600 "$TARGET"
TARGET_STAT="$(stat -c '%a %U:%G' "$TARGET")"
target_untouched() {
	local v
	v="$(stat -c '%a %U:%G' "$TARGET")"
	[[ "$v" == "$TARGET_STAT" ]] || why "the target file changed from '$TARGET_STAT' to '$v'"
	chmod 600 "$TARGET" && chown root:root "$TARGET"
}
# child_of PID: the process strace started.
child_of() { pgrep -P "$1" | head -n 1; }
# as_member CMD...: runs CMD as an unprivileged member of the group wlite.
as_member() { setpriv --reuid=nobody --regid=wlite --clear-groups -- "$@"; }
STRACE_CALLS=chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown

# (a) Live, as root, under strace: no chmod/chown-family call at all.
C=nochmod
PREFIX=(strace -f -qq -o "$RUN/$C.strace" -e trace="$STRACE_CALLS")
start_capd "$C" "$NS_A" -i "$VA"
PREFIX=()
if [[ -n "$CPID" ]]; then
	stop_pid "$(child_of "$CPID")"
	wait "$CPID" 2>/dev/null
fi
calls="$(grep -Ev '^[0-9]+ +\+\+\+ exited|^[0-9]+ +--- SIG' "$RUN/$C.strace" 2>&1)"
[[ -z "$calls" ]] || why "capd called: $(head -n 4 <<<"$calls")"
[[ -s "$RUN/$C.strace" ]] || why "no strace output (did capd run under strace?)"
report "socket files: capd started as root binds its sockets with no chmod/chown-family call (strace)"

# (b) The race, made deterministic from outside: strace holds every bind(2)
# 1.5 s after it returns, and a group member swaps the fresh publish socket
# for a symlink to the target meanwhile.
C=race
strace -f -qq -o /dev/null -e trace=bind -e inject=bind:delay_exit=1500000 \
	"$CAPD" --config "$CONF" --read "$CORPUS/$LOOP_FILE" --loop --speed 1 \
	--publish "ipc://$SOCK_DIR/$C-pub.sock" --control "ipc://$SOCK_DIR/$C-ctl.sock" 2>"$RUN/$C.err" &
RACE_ST=$!
PIDS+=("$RACE_ST")
for ((i = 0; i < 300; i++)); do [[ -S "$SOCK_DIR/$C-pub.sock" ]] && break; sleep 0.01; done
if [[ -S "$SOCK_DIR/$C-pub.sock" ]]; then
	# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
	as_member sh -c 'ln -s "$1" "$2.new" && mv -Tf "$2.new" "$2"' sh "$TARGET" "$SOCK_DIR/$C-pub.sock" ||
		why "the group member could not swap the socket"
else
	why "the publish socket never appeared"
fi
for ((i = 0; i < 80; i++)); do kill -0 "$(child_of "$RACE_ST")" 2>/dev/null || break; sleep 0.1; done
child="$(child_of "$RACE_ST")"
[[ -n "$child" ]] && stop_pid "$child"
wait "$RACE_ST" 2>/dev/null
target_untouched
grep -q "pub.sock is not the socket just bound" "$RUN/$C.err" || why "capd did not refuse the swapped socket: $(head -n 3 "$RUN/$C.err")"
report "socket files: a symlink swapped in right after bind(2) changes no file, and capd refuses it"

# (c) A symlink already at the control socket's path: refused, left alone.
C=presym
ln -s "$TARGET" "$SOCK_DIR/$C-ctl.sock"
timeout 10 "$CAPD" --config "$CONF" --read "$CORPUS/$LOOP_FILE" --loop \
	--publish "ipc://$SOCK_DIR/$C-pub.sock" --control "ipc://$SOCK_DIR/$C-ctl.sock" 2>"$RUN/$C.err"
rc=$?
((rc == 1)) || why "capd exited $rc, want 1"
grep -q "$C-ctl.sock exists and is a symbolic link, not a socket; refusing" "$RUN/$C.err" || why "message: $(cat "$RUN/$C.err")"
[[ -L "$SOCK_DIR/$C-ctl.sock" ]] || why "the symlink was removed"
target_untouched
report "socket files: a symlink already at a socket path is refused with a clear message, target untouched"

# (d) wlite-tap's logs, opened by root in the same directory: a symlink or a
# hard link at the --csv path is refused, the target is neither truncated
# nor changed; a new log file is 0640 (packet bytes are not for everyone).
ln -s "$TARGET" "$SOCK_DIR/sym.csv"
ln "$TARGET" "$SOCK_DIR/hard.csv"
for f in sym hard; do
	timeout 5 "$TAP" -c "ipc://$SOCK_DIR/none.sock" -n 1 -q --csv "$SOCK_DIR/$f.csv" 2>"$RUN/tap-$f.err"
	rc=$?
	((rc == 2)) || why "wlite-tap --csv $f.csv exited $rc, want 2 (refused)"
	grep -q "cannot write $SOCK_DIR/$f.csv" "$RUN/tap-$f.err" || why "$f: $(cat "$RUN/tap-$f.err")"
done
[[ "$(cat "$TARGET")" == "root only" ]] || why "the target's content changed: '$(head -c 80 "$TARGET")'"
target_untouched
rm -f "$SOCK_DIR/hard.csv"
(umask 022 && timeout 1 "$TAP" -c "ipc://$SOCK_DIR/none.sock" -n 1 -q --csv "$SOCK_DIR/new.csv" 2>/dev/null)
v="$(stat -c '%a' "$SOCK_DIR/new.csv" 2>&1)"
[[ "$v" == 640 ]] || why "a new --csv file has mode $v, want 640"
report "wlite-tap: --csv refuses a symlink and a hard link (target untouched); a new log file is 0640"

# -- Control over tcp:// (item 18): the channel has no authentication, so an
# address other than ipc:// needs --control-insecure-tcp (or the config key).
C=tcpctl
TCP_CTL="tcp://127.0.0.1:5977"
ip netns exec "$NS_A" timeout 10 "$CAPD" --config "$CONF" --read "$CORPUS/$LOOP_FILE" --loop \
	--publish "ipc://$RUN/$C-pub.sock" --control "$TCP_CTL" >/dev/null 2>"$RUN/$C.err"
rc=$?
((rc == 2)) || why "capd with --control $TCP_CTL exited $rc, want 2"
grep -q "refusing the control address $TCP_CTL: the control channel has no authentication.*--control-insecure-tcp" "$RUN/$C.err" ||
	why "message: $(cat "$RUN/$C.err")"
for how in flag key; do
	args=(--config "$CONF" --control-insecure-tcp)
	if [[ "$how" == key ]]; then
		printf '[capd]\ncontrol = %s\ncontrol-insecure-tcp = yes\n' "$TCP_CTL" >"$RUN/$C.conf"
		chmod 644 "$RUN/$C.conf"
		args=(--config "$RUN/$C.conf")
	fi
	ip netns exec "$NS_A" timeout 20 "$CAPD" "${args[@]}" --read "$CORPUS/$LOOP_FILE" --loop \
		--publish "ipc://$RUN/$C-pub.sock" --control "$TCP_CTL" >/dev/null 2>"$RUN/$C-$how.err" &
	TCP_PID=$!
	PIDS+=("$TCP_PID")
	ok=""
	end=$((SECONDS + 8))
	while ((SECONDS < end)) && kill -0 "$TCP_PID" 2>/dev/null; do
		reply="$(ip netns exec "$NS_A" timeout 1 nanocat --req --connect "$TCP_CTL" --data '{"cmd":"status"}' --ascii 2>/dev/null)"
		[[ "$reply" == *'"ok":true'* ]] && ok=1 && break
		sleep 0.1
	done
	[[ -n "$ok" ]] || why "with the $how, capd does not answer on $TCP_CTL: $(tail -n 2 "$RUN/$C-$how.err")"
	stop_pid "$TCP_PID"
done
report "control: a tcp:// address is refused with a clear reason unless --control-insecure-tcp (flag or key) is given"

# -- Standard input and named pipes (item 19), for --json and for publishing.
C=stdin
for f in "$LOOP_FILE" OSPFv2_Capture_FINAL.pcapng; do
	"$CAPD" --config "$CONF" --read "$CORPUS/$f" --json >"$RUN/$C.exp" 2>/dev/null
	[[ -s "$RUN/$C.exp" ]] || why "$f: --read FILE --json printed nothing"
	# shellcheck disable=SC2002 # a pipe on purpose: a redirect would be a regular file
	cat "$CORPUS/$f" | timeout 20 "$CAPD" --config "$CONF" --read - --json >"$RUN/$C.got" 2>"$RUN/$C.err" ||
		why "$f: cat | --read - --json failed: $(head -n 2 "$RUN/$C.err")"
	cmp -s "$RUN/$C.exp" "$RUN/$C.got" || why "$f: --read - --json differs from --read FILE --json"
	rm -f "$RUN/$C.fifo" && mkfifo "$RUN/$C.fifo"
	(cat "$CORPUS/$f" >"$RUN/$C.fifo" &)
	timeout 20 "$CAPD" --config "$CONF" --read "$RUN/$C.fifo" --json >"$RUN/$C.got" 2>"$RUN/$C.err" ||
		why "$f: --read FIFO --json failed: $(head -n 2 "$RUN/$C.err")"
	cmp -s "$RUN/$C.exp" "$RUN/$C.got" || why "$f: --read FIFO --json differs from --read FILE --json"
done
# shellcheck disable=SC2002 # a pipe on purpose
cat "$CORPUS/$LOOP_FILE" | timeout 10 "$CAPD" --config "$CONF" --read - --loop --publish "ipc://$RUN/$C-pub.sock" \
	--control "ipc://$RUN/$C-ctl.sock" 2>"$RUN/$C.err"
grep -q -- "--loop needs a file that can be read again; - is a pipe" "$RUN/$C.err" || why "--read - --loop: $(cat "$RUN/$C.err")"
report "--read - and --read FIFO --json print exactly what --read FILE --json prints (pcap, pcapng); --loop on a pipe is refused"

# Publishing from a pipe whose writer pauses between two packets: the
# packets before the pause are published, the control channel answers
# meanwhile (capd waits for the pipe in its event loop, not in libpcap),
# and the whole stream equals --read FILE --json.
cat >"$RUN/slow-writer.py" <<'PY'
import os, struct, sys, time
data = open(sys.argv[1], "rb").read()
off = 24
for _ in range(int(sys.argv[2])):  # whole records: 16-byte header and caplen bytes
    off += 16 + struct.unpack("<I", data[off + 8:off + 12])[0]
out = sys.stdout.buffer
out.write(data[:off]); out.flush()
end = time.monotonic() + 30
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.05)
out.write(data[off:]); out.flush()
PY
rm -f "$RUN/$C.go"
exp="$RUN/$C-pub.exp"
"$CAPD" --config "$CONF" --read "$CORPUS/$LOOP_FILE" --json >"$exp" 2>/dev/null
start_tap "$C" "$C" -t pkt -t status
STDIN_TAP=$TPID
python3 "$RUN/slow-writer.py" "$CORPUS/$LOOP_FILE" 4 "$RUN/$C.go" |
	"$CAPD" --config "$CONF" --read - --speed max --start-delay 1000 \
		--publish "ipc://$RUN/$C-pub.sock" --control "ipc://$RUN/$C-ctl.sock" 2>"$RUN/$C-pub.err" &
STDIN_PID=$!
PIDS+=("$STDIN_PID")
twait "$C" 15 'len(pkts) == 4'
# The writer goes on only once this reply is in: capd answered while idle.
out="$(ctl_check "$C" '{"cmd":"status"}' 'r.get("ok") is True and r["status"]["file"] == "-" and r["status"]["finished"] is False')" || why "status while the pipe is idle: $out"
touch "$RUN/$C.go"
twait "$C" 15 'any(e.get("finished") for e in status)'
tap_packets "$RUN/$C.tap" | cmp -s - "$exp" || why "the published packets differ from --read FILE --json"
stop_pid "$STDIN_PID"
stop_pid "$STDIN_TAP"
report "--read - publishing: packets flow as the pipe delivers them, control answers while it is idle, all equal --json"

# -- Capabilities when reading a file (item 16): none at all, and started as
# root the bounding set is empty too.
C=capread
start_capd "$C" "$NS_A" --read "$CORPUS/$LOOP_FILE" --loop --speed 1
CR_PID="$CPID"
check_privs "$CR_PID" 0000000000000000 0000000000000000
stop_pid "$CR_PID"
report "privileges: --read as root runs as wlite with CapEff/CapPrm/CapBnd 0 and NoNewPrivs 1"

# --json writes 428 kB to a FIFO that nobody reads: once the pipe is full,
# capd waits in write(2), after the drop, long enough to be looked at.
rm -f "$RUN/$C.fifo" && mkfifo "$RUN/$C.fifo"
exec 7<>"$RUN/$C.fifo" # held open, never read
"$CAPD" --config "$CONF" --read "$CORPUS/arp-oobr.pcap" --json >"$RUN/$C.fifo" 2>"$RUN/$C.err" &
CJ_PID=$!
PIDS+=("$CJ_PID")
want_uid="$(id -u wlite)"
for ((i = 0; i < 100; i++)); do
	[[ "$(proc_field "$CJ_PID" Uid)" == "$want_uid"* ]] && break
	sleep 0.05
done
check_privs "$CJ_PID" 0000000000000000 0000000000000000
stop_pid "$CJ_PID"
exec 7>&-
report "privileges: --read --json as root runs as wlite with CapEff/CapPrm/CapBnd 0 and NoNewPrivs 1"

C=capreadsp
# shellcheck disable=SC2054 # the commas belong to setpriv's capability lists
PREFIX=(setpriv --reuid wlite --regid wlite --init-groups --inh-caps +net_raw,+net_admin
	--ambient-caps +net_raw,+net_admin --)
start_capd "$C" "$NS_A" --read "$CORPUS/$LOOP_FILE" --loop --speed 1
PREFIX=()
check_privs "$CPID" 0000000000000000
stop_pid "$CPID"
report "privileges: --read started by setpriv with ambient caps drops both (CapEff/CapPrm 0)"

# -- The publish socket's send buffer: capd asks nanomsg for 32 MiB; the kernel
# grants at most net.core.wmem_max. stats carry both, and capd warns once,
# naming the sysctl, when it got less. (The sysctl is global: the test takes
# it as it finds it and checks the branch that applies.)
C=sndbuf
start_capd "$C" "$NS_A" --read "$CORPUS/$LOOP_FILE" --loop --speed 1
SB_PID="$CPID"
start_tap "$C" "$C" -t stats
SB_TAP=$TPID
WMEM_MAX="$(cat /proc/sys/net/core/wmem_max)"
SB_WANT=$((WMEM_MAX < 33554432 ? WMEM_MAX : 33554432))
twait "$C" 10 'stats' && tcheck "$C" '
sb = stats[-1].get("sndbuf", {})
need(sb.get("asked") == 33554432, "sndbuf.asked is %r, want 33554432" % sb.get("asked"))
need(sb.get("effective") == int(args[0]), "sndbuf.effective is %r, want %s (net.core.wmem_max is %s)" % (sb.get("effective"), args[0], args[1]))
' "$SB_WANT" "$WMEM_MAX"
stop_pid "$SB_PID"
stop_pid "$SB_TAP"
n="$(grep -c 'net.core.wmem_max' "$RUN/$C.err")"
if ((WMEM_MAX < 33554432)); then
	((n == 1)) || why "net.core.wmem_max is $WMEM_MAX: want one warning naming it, got $n: $(cat "$RUN/$C.err")"
else
	((n == 0)) || why "net.core.wmem_max is $WMEM_MAX: want no warning, got: $(grep wmem_max "$RUN/$C.err")"
fi
report "stats: sndbuf {asked 32 MiB, effective min(asked, net.core.wmem_max = $WMEM_MAX)}; one warning only if smaller"

exit $((FAILS > 0))
