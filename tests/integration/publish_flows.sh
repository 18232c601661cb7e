#!/usr/bin/env bash
# tests/integration/publish_flows.sh: capd's --publish-flows, the second
# publish socket that carries flow reports, stats and status but no packet
# (issue 13, item 1).
#
# capd replays a capture at full speed with both sockets; subscribers on
# each (wlite-tap, and nanocat subscribed to every topic) must see:
#   - on the flows-only socket: flow, stats and status, never a pkt message;
#   - the same flow reports on both sockets (same seq numbers), and the same
#     flows as `wlite-capd --read FILE --flows`;
#   - capd's stats counting the second socket's reports and refusals.
# Then: a tcp:// address, the configuration key, the socket file's mode and
# group, the refusals (a symbolic link at the path, the address of another
# socket, --no-flows), and a capd that fails to start leaving the sockets of
# the capd already running on the same addresses alone.
#
# Only ipc sockets in a private directory and 127.0.0.1 are used.
# Output: TAP; exits 1 if anything failed. Needs root (capd drops to wlite).
# Environment: WLITE_CAPD, WLITE_BUILD, WLITE_SHARED.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${WLITE_SHARED:-$ROOT/../shared}"
BUILD="${WLITE_BUILD:-$ROOT/build}"
CAPD_SRC="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
TAP_SRC="$BUILD/tools/wlite-tap"
CORPUS="$SHARED/pcap-corpus/dev"
# TCP and DNS, 38 flows over 1,000 packets; and one with no flow to speak of.
CAPTURE="$CORPUS/zeek-wikipedia.pcap"
LOOP_CAPTURE="$CORPUS/dns_udp.pcap"

PLAN=13

# shellcheck source=tests/integration/lib/tap.sh
source "$HERE/lib/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (capd drops to the user wlite)"
	exit 0
fi
for bin in "$CAPD_SRC" "$TAP_SRC"; do
	if [[ ! -x "$bin" ]]; then
		echo "Bail out! $bin is not built (ninja -C $BUILD)"
		exit 1
	fi
done
if [[ ! -f "$CAPTURE" || ! -f "$LOOP_CAPTURE" ]]; then
	echo "Bail out! the corpus is missing ($CAPTURE)"
	exit 1
fi
if ! command -v nanocat >/dev/null; then
	# shellcheck source=scripts/lib.sh
	WL_PROG="tests/integration/publish_flows.sh" source "$ROOT/scripts/lib.sh"
	wl_install_packages nanomsg-utils >/dev/null 2>&1 || { echo "Bail out! cannot install nanomsg-utils"; exit 1; }
fi
if ! id -u wlite >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin wlite || {
		echo "Bail out! cannot create the user wlite"
		exit 1
	}
fi

PIDS=()
RUN=""
CLEANED=0
# shellcheck disable=SC2317 # called by the traps
cleanup() {
	local pid
	((CLEANED)) && return
	CLEANED=1
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	[[ -n "$RUN" && -d "$RUN" ]] && rm -rf "$RUN"
	tap_pad_plan
}
tap_traps

echo "1..$PLAN"

# capd drops to wlite: the group wlite must be able to enter and write here.
RUN="$(mktemp -d /tmp/wlite-pubflows-test.XXXXXX)"
chgrp wlite "$RUN" && chmod 2770 "$RUN"
mkdir -p "$RUN/bin"
cp "$CAPD_SRC" "$RUN/bin/wlite-capd" && cp "$TAP_SRC" "$RUN/bin/wlite-tap"
chmod 755 "$RUN/bin" "$RUN/bin/"*
CAPD="$RUN/bin/wlite-capd"
TAP="$RUN/bin/wlite-tap"
: >"$RUN/empty.conf"
chmod 644 "$RUN/empty.conf"

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
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

# pyq.py: reads wlite-tap's JSON lines and nanocat's quoted messages.
cat >"$RUN/pyq.py" <<'PY'
import json, re, sys

def tap_lines(path):
    out = {"flows": [], "pkts": [], "stats": [], "status": [], "bad": []}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh.read().split("\n")[:-1]:
            try:
                o = json.loads(line)
            except ValueError:
                out["bad"].append(line)
                continue
            ev = o.get("event")
            if ev in ("stats", "status"):
                out[ev].append(o)
            elif "end" in o and "a_packets" in o:
                out["flows"].append(o)
            else:
                out["pkts"].append(o)
    return out

def topics(path):
    """Topic counts of nanocat --quoted output: one "topic\\x00..." line a message."""
    counts = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = re.match(r'"([a-z]*)\\x00', line)
            key = m.group(1) if m else "?"
            counts[key] = counts.get(key, 0) + 1
    return counts

def strip_id(flows):
    return sorted(json.dumps({k: v for k, v in f.items() if k not in ("id", "sensor")}, sort_keys=True)
                  for f in flows)

cmd = sys.argv[1]
if cmd == "finished":  # the last status says the file was read to its end
    st = tap_lines(sys.argv[2])["status"]
    sys.exit(0 if st and st[-1].get("finished") else 1)
if cmd == "stats-after-finish":  # a stats event came after the finished status
    t = tap_lines(sys.argv[2])
    sys.exit(0 if t["status"] and t["status"][-1].get("finished") and len(t["stats"]) >= 2 else 1)
if cmd == "nflows":
    print(len(tap_lines(sys.argv[2])["flows"]))
    sys.exit(0)
if cmd == "compare":  # compare MAIN FLOWSONLY RAW EXPECTED: the checks of the first replay
    main, fo, raw, exp = tap_lines(sys.argv[2]), tap_lines(sys.argv[3]), topics(sys.argv[4]), sys.argv[5]
    expected = [json.loads(l) for l in open(exp) if l.strip()]
    what = sys.argv[6]
    fails = []
    need = lambda c, m: c or fails.append(m)
    if what == "topics":
        need(raw.get("pkt", 0) == 0, "the flows-only socket sent %d pkt message(s)" % raw.get("pkt", 0))
        for t in ("flow", "stats", "status"):
            need(raw.get(t, 0) > 0, "no %s message on the flows-only socket (got %r)" % (t, raw))
        need(set(raw) <= {"flow", "stats", "status"}, "unexpected topics %r" % raw)
        need(not fo["pkts"], "wlite-tap on the flows-only socket printed %d packets" % len(fo["pkts"]))
        need(len(main["pkts"]) > 0, "no packets on the main socket")
    elif what == "same":
        a, b = strip_id(main["flows"]), strip_id(fo["flows"])
        need(len(main["flows"]) == len(fo["flows"]),
             "%d flow reports on the main socket, %d on the flows-only one" % (len(main["flows"]), len(fo["flows"])))
        need(a == b, "the reports differ between the two sockets")
        need([f["id"] for f in main["flows"]] == [f["id"] for f in fo["flows"]], "ids or order differ")
        need(strip_id(fo["flows"]) == strip_id(expected),
             "the flows-only socket's %d reports are not the %d flows of --read --flows" % (len(fo["flows"]), len(expected)))
    elif what == "stats":
        st = fo["stats"][-1] if fo["stats"] else {}
        pf, fl = st.get("publish_flows", {}), st.get("flows", {})
        need(pf.get("reports") == fl.get("reports") == len(fo["flows"]),
             "stats: publish_flows.reports %r, flows.reports %r, received %d" % (pf.get("reports"), fl.get("reports"), len(fo["flows"])))
        need(pf.get("refused_reports") == 0 and pf.get("refused_messages") == 0, "refusals: %r" % pf)
        need(pf.get("messages", 0) >= raw.get("flow", 0) + raw.get("stats", 0) + raw.get("status", 0) - 2,
             "stats say %r messages, nanocat got %r" % (pf.get("messages"), raw))
        need(pf.get("sndbuf", {}).get("asked") == 16 * 1024 * 1024, "sndbuf %r" % pf.get("sndbuf"))
        need(main["stats"] and "publish_flows" in main["stats"][-1], "the main socket's stats lack publish_flows")
    for f in fails:
        print(f)
    sys.exit(1 if fails else 0)
sys.exit(2)
PY

# ------------------------------------------------ one replay, both sockets

P="ipc://$RUN/p.sock" F="ipc://$RUN/f.sock" C="ipc://$RUN/c.sock"
"$CAPD" --read "$CAPTURE" --flows >"$RUN/expected.jsonl" 2>"$RUN/expected.err"

"$TAP" -c "$P" >"$RUN/main.jsonl" 2>"$RUN/main.err" &
PIDS+=("$!")
TAP_MAIN=$!
"$TAP" -c "$F" >"$RUN/fo.jsonl" 2>"$RUN/fo.err" &
PIDS+=("$!")
TAP_FO=$!
nanocat --sub --connect "$F" --quoted >"$RUN/raw.txt" 2>/dev/null &
PIDS+=("$!")
NANOCAT=$!
"$CAPD" --config "$RUN/empty.conf" --read "$CAPTURE" --speed max --start-delay 1500 \
	--publish "$P" --publish-flows "$F" --control "$C" 2>"$RUN/capd.err" &
PIDS+=("$!")
CAPD_PID=$!

wait_for 5 test -S "$RUN/f.sock" || why "no socket at $RUN/f.sock: $(cat "$RUN/capd.err")"
got="$(stat -c '%A %G' "$RUN/f.sock" 2>/dev/null)"
[[ "$got" == "srw-rw---- wlite" ]] || why "the flows-only socket is '$got', want 'srw-rw---- wlite' (as the main one)"
report "--publish-flows binds an ipc socket with mode 0660 and the group wlite"

if ! wait_for 20 python3 "$RUN/pyq.py" stats-after-finish "$RUN/fo.jsonl"; then
	why "no finished status and stats after it on the flows-only socket within 20 s"
	why "$(tail -n 3 "$RUN/capd.err")"
fi
# Let the last stats reach the main socket's tap too.
sleep 1.2
kill -TERM "$CAPD_PID" 2>/dev/null
wait "$CAPD_PID" 2>/dev/null
sleep 0.3
kill -TERM "$TAP_MAIN" "$TAP_FO" "$NANOCAT" 2>/dev/null
wait "$TAP_MAIN" "$TAP_FO" "$NANOCAT" 2>/dev/null
report "capd replays the capture to its end with both sockets"

out="$(python3 "$RUN/pyq.py" compare "$RUN/main.jsonl" "$RUN/fo.jsonl" "$RUN/raw.txt" "$RUN/expected.jsonl" topics)" || why "$out"
grep -q ' 0 packets received' "$RUN/fo.err" || why "wlite-tap on the flows-only socket: $(grep 'packets received' "$RUN/fo.err")"
report "the flows-only socket carries flow, stats and status, and no pkt message"

out="$(python3 "$RUN/pyq.py" compare "$RUN/main.jsonl" "$RUN/fo.jsonl" "$RUN/raw.txt" "$RUN/expected.jsonl" same)" || why "$out"
grep -q ' 0 gaps, 0 reports missed' "$RUN/fo.err" || why "flow report gaps on the flows-only socket: $(grep 'flow reports' "$RUN/fo.err")"
report "both sockets carry the same flow reports, which are the flows of --read --flows"

out="$(python3 "$RUN/pyq.py" compare "$RUN/main.jsonl" "$RUN/fo.jsonl" "$RUN/raw.txt" "$RUN/expected.jsonl" stats)" || why "$out"
report "capd's stats count the flows-only socket's reports and messages, none refused, 16 MiB asked"

grep -q 'flows-only socket: [0-9]* flow reports published (0 refused)' "$RUN/capd.err" ||
	why "no final count of the flows-only socket in capd's log: $(tail -n 2 "$RUN/capd.err")"
[[ ! -e "$RUN/f.sock" ]] || why "the flows-only socket file is left behind after capd stopped"
report "on SIGTERM capd logs the flows-only socket's counts and removes its socket file"

# ------------------------------------------------ tcp:// and the config key

port="$(free_port)"
n_expected="$(wc -l <"$RUN/expected.jsonl")"
printf '[capd]\npublish-flows = tcp://127.0.0.1:%s\n' "$port" >"$RUN/tcp.conf"
chmod 644 "$RUN/tcp.conf"
"$TAP" -t flow -c "tcp://127.0.0.1:$port" >"$RUN/tcp.jsonl" 2>"$RUN/tcp.err" &
PIDS+=("$!")
TAP_TCP=$!
"$CAPD" --config "$RUN/tcp.conf" --read "$CAPTURE" --speed max --start-delay 1500 \
	--publish "ipc://$RUN/p2.sock" --control "ipc://$RUN/c2.sock" 2>"$RUN/capd2.err" &
PIDS+=("$!")
CAPD_PID=$!
have_flows() { (($(python3 "$RUN/pyq.py" nflows "$1" 2>/dev/null || echo 0) >= $2)); }
wait_for 20 have_flows "$RUN/tcp.jsonl" "$n_expected" ||
	why "$(python3 "$RUN/pyq.py" nflows "$RUN/tcp.jsonl") of $n_expected flow reports over tcp://127.0.0.1:$port within 20 s: $(tail -n 2 "$RUN/capd2.err")"
grep -q "flows only on tcp://127.0.0.1:$port" "$RUN/capd2.err" || why "capd does not say it publishes flows on tcp: $(head -n 2 "$RUN/capd2.err")"
report "publish-flows = tcp://127.0.0.1:PORT in the configuration file: a remote-style subscriber gets every flow"
kill -TERM "$CAPD_PID" "$TAP_TCP" 2>/dev/null
wait "$CAPD_PID" "$TAP_TCP" 2>/dev/null

# ------------------------------------------------ refusals

rc=0
out="$("$CAPD" --config "$RUN/empty.conf" --read "$CAPTURE" --publish "ipc://$RUN/x.sock" \
	--publish-flows "ipc://$RUN/x.sock" --control "ipc://$RUN/xc.sock" 2>&1)" || rc=$?
((rc == 2)) || why "exit status $rc, want 2"
grep -q 'must differ from --publish' <<<"$out" || why "message: $out"
report "--publish-flows on the --publish address is refused with a usage error"

rc=0
out="$("$CAPD" --config "$RUN/empty.conf" --read "$CAPTURE" --no-flows --publish "ipc://$RUN/x.sock" \
	--publish-flows "ipc://$RUN/y.sock" --control "ipc://$RUN/xc.sock" 2>&1)" || rc=$?
((rc == 2)) || why "exit status $rc, want 2"
grep -q 'needs flows' <<<"$out" || why "message: $out"
report "--publish-flows with --no-flows is refused with a usage error"

echo "keep me" >"$RUN/target"
chmod 640 "$RUN/target"
ln -s "$RUN/target" "$RUN/link.sock"
rc=0
out="$("$CAPD" --config "$RUN/empty.conf" --read "$CAPTURE" --publish "ipc://$RUN/x.sock" \
	--publish-flows "ipc://$RUN/link.sock" --control "ipc://$RUN/xc.sock" 2>&1)" || rc=$?
((rc == 1)) || why "exit status $rc, want 1"
grep -q 'is a symbolic link, not a socket; refusing' <<<"$out" || why "message: $out"
[[ -L "$RUN/link.sock" && "$(cat "$RUN/target")" == "keep me" && "$(stat -c %a "$RUN/target")" == 640 ]] ||
	why "the symbolic link or its target changed"
[[ ! -e "$RUN/x.sock" ]] || why "the main socket was left behind after the refusal"
report "a symbolic link at the --publish-flows path is refused and left alone"

# ------------------------------------------------ a failed start leaves the running capd's sockets

"$CAPD" --config "$RUN/empty.conf" --read "$LOOP_CAPTURE" --loop --speed 1 --start-delay 0 \
	--publish "ipc://$RUN/r.sock" --publish-flows "ipc://$RUN/rf.sock" --control "ipc://$RUN/rc.sock" \
	2>"$RUN/capd3.err" &
PIDS+=("$!")
CAPD_PID=$!
wait_for 5 test -S "$RUN/rf.sock" || why "the running capd did not bind: $(cat "$RUN/capd3.err")"
rc=0
out="$("$CAPD" --config "$RUN/empty.conf" -i wlt-no-such0 --publish "ipc://$RUN/r.sock" \
	--publish-flows "ipc://$RUN/rf.sock" --control "ipc://$RUN/rc2.sock" 2>&1)" || rc=$?
((rc == 1)) || why "the second capd exited $rc, want 1 ($out)"
for s in r.sock rf.sock; do
	[[ -S "$RUN/$s" ]] || why "the running capd's $s is gone after another capd failed to start"
done
report "a capd that fails to start (no such interface) leaves the running capd's socket files"

timeout 4 nanocat --sub --connect "ipc://$RUN/rf.sock" --subscribe status --quoted >"$RUN/after.txt" 2>/dev/null
grep -q '^"status' "$RUN/after.txt" || why "no status from the running capd's flows-only socket afterwards"
report "...and a new subscriber still reaches the running capd's flows-only socket"
kill -TERM "$CAPD_PID" 2>/dev/null
wait "$CAPD_PID" 2>/dev/null

# ------------------------------------------------ --help

"$CAPD" --help | grep -q -- '--publish-flows ADDR' || why "--help does not list --publish-flows"
report "--help lists --publish-flows"

((FAILS == 0))
