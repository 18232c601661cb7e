#!/usr/bin/env bash
# tests/integration/history.sh: webd's SQLite history end to end.
#
# capd replays captures (--read only: nothing is captured on any interface)
# into webd, which runs as the wlite user with its history in a private
# mktemp -d directory. Covered: the history API (every page of a cursor
# walk exactly once and in order; ip=, proto=, q= filters; rates, dns;
# export.pcap read back by tshark; 4xx on bad parameters), persistence
# across a restart, flows (/api/history/flows against `wlite-capd --read
# FILE --flows`: every field of every flow, filters, sorts and pages; a
# flow's PCAP from history once the ring has lost its packets, and after a
# restart, against tshark's own filter of the capture), retention by size
# and of raw bytes (in steps), a kill -9
# in the middle of the bench capture (integrity_check, packets lost), a full
# disk (a 2 MB tmpfs: history pauses, the live API goes on, writing resumes
# after a remount to 64 MB) and a corrupt file moved aside at start-up.
#
# Output: TAP on stdout; exits 1 if anything failed. Needs root (setpriv,
# mount), sqlite3, tshark/editcap, curl, python3.
#
# Environment: WLITE_CAPD, WLITE_WEBD, WLITE_BUILD (the bench capture is
# $WLITE_BUILD/bench/bench.pcap, decompressed from WLITE_SHARED if missing).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${WLITE_SHARED:-$ROOT/../shared}"
BUILD="${WLITE_BUILD:-$ROOT/build}"
CAPD="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
WEBD="${WLITE_WEBD:-$BUILD/webd/wlite-webd}"
BENCH="$BUILD/bench/bench.pcap"
PORT=18431

# shellcheck source=tests/integration/lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (setpriv, mount)"
	exit 0
fi
for tool in sqlite3 tshark editcap curl python3 zstd; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP no $tool"; exit 0; }
done
for bin in "$CAPD" "$WEBD"; do
	[[ -x "$bin" ]] || { echo "1..0 # SKIP $bin not built"; exit 0; }
done
id wlite >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin wlite

WORK="$(mktemp -d /tmp/wlite-history.XXXXXX)"
chgrp wlite "$WORK"
chmod 2770 "$WORK"
WEBD_PID=""
CAPD_PID=""
TMPFS=""
cleanup() {
	[[ -n "$CAPD_PID" ]] && kill "$CAPD_PID" 2>/dev/null
	[[ -n "$WEBD_PID" ]] && kill "$WEBD_PID" 2>/dev/null
	wait 2>/dev/null
	[[ -n "$TMPFS" ]] && umount "$TMPFS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

if [[ ! -s "$BENCH" ]]; then
	mkdir -p "$(dirname "$BENCH")"
	zstd -q -d -f "$SHARED/pcap-corpus/bench.pcap.zst" -o "$BENCH.tmp" && mv -f "$BENCH.tmp" "$BENCH"
fi
SMALL="$WORK/small.pcap" # the bench capture's first 3000 packets: DNS, TLS, HTTP, 76 s
editcap -r "$BENCH" "$SMALL" 1-3000 >/dev/null 2>&1

echo "1..19"

# ------------------------------------------------------------------ helpers

api() { curl -s --max-time 10 "http://127.0.0.1:$PORT$1"; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT$1"; }
# hist FIELD: a field of /api/stats' history object
hist() { api /api/stats | python3 -c "import json,sys; print(json.load(sys.stdin)['history'].get('$1', ''))" 2>/dev/null; }

# start_webd DB [flags...]: webd as wlite, subscribed to this test's capd
start_webd() {
	local db="$1"
	shift
	setpriv --reuid wlite --regid wlite --init-groups -- "$WEBD" --listen "127.0.0.1:$PORT" \
		--capd "ipc://$WORK/pub.sock" --control "ipc://$WORK/ctl.sock" --ip-api off \
		--web-root /nonexistent --history "$db" "$@" </dev/null >/dev/null 2>>"$WORK/webd.log" &
	WEBD_PID=$!
	for _ in $(seq 1 100); do
		api /api/stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	why "webd did not start: $(tail -3 "$WORK/webd.log")"
	return 1
}

stop_webd() {
	[[ -n "$WEBD_PID" ]] || return 0
	kill "$WEBD_PID" 2>/dev/null
	wait "$WEBD_PID" 2>/dev/null
	WEBD_PID=""
}

# replay FILE: capd replays at full speed; returns when webd has all of it
# (or the count stops moving). capd keeps running after the file: stop it.
replay() {
	local before last=-1 now
	before="$(api /api/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')"
	"$CAPD" --read "$1" --speed max --include-loopback --start-delay 300 \
		--publish "ipc://$WORK/pub.sock" --control "ipc://$WORK/ctl.sock" 2>>"$WORK/capd.log" &
	CAPD_PID=$!
	sleep 0.5
	for _ in $(seq 1 120); do
		sleep 0.5
		now="$(api /api/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')"
		[[ "$now" == "$last" && "$now" != "$before" ]] && break
		last="$now"
	done
	kill "$CAPD_PID" 2>/dev/null
	wait "$CAPD_PID" 2>/dev/null
	CAPD_PID=""
}

# drained: waits until the history queue is empty
drained() {
	for _ in $(seq 1 100); do
		[[ "$(hist queued)" == "0" ]] && return 0
		sleep 0.1
	done
	return 1
}

db_count() { sqlite3 "$1" "SELECT count(*) FROM $2" 2>/dev/null; }

# -------------------------------------------------------- API and persistence

DB="$WORK/api/history.db"
mkdir -p "$WORK/api" && chown wlite:wlite "$WORK/api"
start_webd "$DB" && replay "$SMALL" && drained
STORED="$(hist stored)"
LIVE="$(api /api/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')"
[[ "$STORED" == "$LIVE" && "$STORED" -gt 2000 ]] || why "stored $STORED of $LIVE packets"
report "history stores every packet webd ingests ($STORED)"

# Every page of a cursor walk, in (ts, id) order, each packet exactly once.
walk() {
	python3 - "http://127.0.0.1:$PORT/api/history/packets" "$1" <<'PY'
import json, sys, urllib.request
base, extra = sys.argv[1], sys.argv[2]
seen, keys, cursor, pages = [], [], None, 0
while True:
    url = base + "?limit=97" + extra + ("&cursor=" + cursor if cursor else "")
    r = json.load(urllib.request.urlopen(url, timeout=10))
    pages += 1
    seen += [p["id"] for p in r["packets"]]
    keys += [(round(p["ts"] * 1e6), p["id"]) for p in r["packets"]]
    cursor = r["next_cursor"]
    if not cursor:
        break
ok = keys == sorted(keys) and len(set(seen)) == len(seen)
print(len(seen), pages, "ordered" if ok else "DISORDER")
PY
}
read -r COUNT PAGES ORDER <<<"$(walk "")"
[[ "$COUNT" == "$STORED" && "$ORDER" == ordered ]] || why "walked $COUNT packets in $PAGES pages ($ORDER), expected $STORED"
report "packets: the cursor walk returns every packet once, in order ($COUNT in $PAGES pages)"

# Filters against the same database read directly.
IP="$(sqlite3 "$DB" "SELECT hex(src) FROM packets GROUP BY src ORDER BY count(*) DESC LIMIT 1")"
IPTXT="$(python3 -c "import ipaddress,sys; print(ipaddress.ip_address(bytes.fromhex('$IP')))")"
WANT_IP="$(sqlite3 "$DB" "SELECT count(*) FROM packets WHERE src = x'$IP' OR dst = x'$IP'")"
read -r GOT_IP _ ORDER_IP <<<"$(walk "&ip=$IPTXT")"
WANT_DNS="$(sqlite3 "$DB" "SELECT count(*) FROM packets WHERE proto = (SELECT proto FROM packets WHERE qname IS NOT NULL LIMIT 1)")"
read -r GOT_DNS _ _ <<<"$(walk "&proto=DNS")"
QNAME="$(sqlite3 "$DB" "SELECT qname FROM packets WHERE qname IS NOT NULL LIMIT 1")"
WANT_Q="$(sqlite3 "$DB" "SELECT count(*) FROM packets WHERE info LIKE '%$QNAME%' OR qname LIKE '%$QNAME%' OR name LIKE '%$QNAME%'")"
read -r GOT_Q _ _ <<<"$(walk "&q=$QNAME")"
[[ "$GOT_IP" == "$WANT_IP" && "$ORDER_IP" == ordered ]] || why "ip=$IPTXT: $GOT_IP, expected $WANT_IP ($ORDER_IP)"
[[ "$GOT_DNS" == "$WANT_DNS" && "$GOT_DNS" -gt 0 ]] || why "proto=DNS: $GOT_DNS, expected $WANT_DNS"
[[ "$GOT_Q" -ge "$WANT_Q" && "$GOT_Q" -gt 0 ]] || why "q=$QNAME: $GOT_Q, expected at least $WANT_Q"
report "packets: ip= ($GOT_IP), proto=DNS ($GOT_DNS) and q=$QNAME ($GOT_Q) filters"

FROM="$(sqlite3 "$DB" "SELECT min(ts) / 1000000 FROM packets")"
RATES="$(api "/api/history/rates?from=$FROM&to=$((FROM + 3600))&step=10" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["rates"]; print(len(r), sum(x["packets"] for x in r))')"
DNSN="$(api "/api/history/dns?limit=5" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["queries"]))')"
read -r RPOINTS RPACKETS <<<"$RATES"
# The last second may still be open when the replay ends.
((RPOINTS > 1 && RPACKETS > STORED * 9 / 10)) || why "rates: $RATES"
[[ "$DNSN" == 5 ]] || why "dns: $DNSN rows"
report "rates ($RPOINTS steps, $RPACKETS packets) and dns"

api "/api/history/export.pcap?from=$FROM&to=$((FROM + 3600))" >"$WORK/export.pcap"
PCAPN="$(tshark -r "$WORK/export.pcap" 2>/dev/null | wc -l)"
PCAPIP="$(curl -s "http://127.0.0.1:$PORT/api/history/export.pcap?ip=$IPTXT" | tshark -r - 2>/dev/null | wc -l)"
[[ "$PCAPN" == "$STORED" ]] || why "export.pcap: tshark read $PCAPN packets, expected $STORED"
[[ "$PCAPIP" == "$WANT_IP" ]] || why "export.pcap?ip=: $PCAPIP, expected $WANT_IP"
report "export.pcap is read by tshark ($PCAPN packets; ip= $PCAPIP)"

BAD=""
for q in "packets?from=abc" "packets?from=10&to=5" "packets?cursor=xyz" "packets?ip=999.1.1.1" \
	"packets?limit=0" "packets?proto=NOPE" "packets?foreign=1" "rates?step=0" "dns?to=-1" "nothing"; do
	s="$(status_of "/api/history/$q")"
	[[ "$s" == 400 || ("$q" == nothing && "$s" == 404) ]] || BAD+="$q: $s; "
done
[[ -z "$BAD" ]] || why "$BAD"
report "bad parameters are refused with 4xx"

stop_webd
start_webd "$DB"
AGAIN="$(api "/api/history/packets?limit=10000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packets"]))')"
[[ "$AGAIN" == "$STORED" ]] || why "after a restart the API returns $AGAIN packets, expected $STORED"
[[ "$(sqlite3 "$DB" 'PRAGMA user_version')" == 5 ]] || why "schema version is not 5"
stop_webd
report "history survives a restart ($AGAIN packets)"

# ------------------------------------------------------------------ flows
#
# A ring of 100 packets: it has lost most of the capture's packets, so a
# flow's PCAP must come from history.

DB="$WORK/flows/history.db"
mkdir -p "$WORK/flows" && chown wlite:wlite "$WORK/flows"
"$CAPD" --read "$SMALL" --flows >"$WORK/capd-flows.jsonl" 2>>"$WORK/capd.log"
start_webd "$DB" --ring-packets 100 && replay "$SMALL" && drained
# Reports arrive when flows end, and capd ends the rest when it stops: wait for the writer.
for _ in $(seq 1 50); do
	[[ "$(hist queued)" == 0 && "$(hist stored_flows)" -gt 0 ]] && break
	sleep 0.1
done

# flows_check MODE: compares /api/history/flows with capd's --flows output (flows.py, below).
flows_check() { python3 "$WORK/flows.py" "http://127.0.0.1:$PORT" "$WORK/capd-flows.jsonl" "$@"; }
cat >"$WORK/flows.py" <<'PY'
import json, sys, urllib.request, urllib.parse
base, capd_file, mode = sys.argv[1], sys.argv[2], sys.argv[3]

def key(f):
    return (f["l3"], f.get("ipproto"), f["a"], f["b"], f.get("a_port"), f.get("b_port"),
            json.dumps(f.get("vlan")), json.dumps(f.get("outer")), f["first"])

# capd's last report of each flow is its final one.
want = {}
for line in open(capd_file):
    f = json.loads(line)
    want[key(f)] = f

def get(qs):
    return json.load(urllib.request.urlopen(base + "/api/history/flows?" + qs, timeout=20))

WEBD_KEYS = {"id", "sensor", "active", "duration", "rate_bps", "heard"}
def v1(f):
    return {k: v for k, v in f.items() if k not in WEBD_KEYS and not (k[:2] in ("a_", "b_") and
            k[2:] in ("country", "scope", "name", "asn"))}

def every_field():
    r = get("limit=10000")
    got = {key(f): f for f in r["flows"]}
    bad = [k for k in want if k not in got or v1(got[k]) != v1(want[k])]
    extra = [k for k in got if k not in want]
    for k in bad[:3]:
        print("# capd:    %s\n# history: %s" % (json.dumps(want[k]), json.dumps(got.get(k))))
    ok = not bad and not extra and r["total"] == len(want) and r["total_exact"]
    print("%s %d %d %d %d" % ("same" if ok else "DIFFERENT", len(want), len(got), len(bad), len(extra)))

def tcp(f, k, default=None):
    return f.get("tcp", {}).get(k, default)

def sort_value(f, sort):
    b = f["a_bytes"] + f["b_bytes"]
    secs = f["last"] - f["first"]
    return {"bytes": b, "packets": f["a_packets"] + f["b_packets"], "last": f["last"],
            "duration": secs, "rtt": tcp(f, "rtt_ms"),
            "retransmissions": (tcp(f, "a_retransmissions") + tcp(f, "b_retransmissions")) if "tcp" in f else None,
            }[sort]

def pages(qs, sort, order):
    """Every page of limit=7: each flow once, in the order asked, flows without the value last."""
    seen, values, offset = [], [], 0
    while True:
        r = get("%s&sort=%s&order=%s&limit=7&offset=%d" % (qs, sort, order, offset))
        seen += [key(f) for f in r["flows"]]
        values += [sort_value(f, sort) for f in r["flows"]]
        offset += 7
        if len(r["flows"]) < 7:
            return seen, values, r

def ordered(values, order):
    have = [v for v in values if v is not None]
    if values[:len(have)] != have:
        return False # a flow without the value before one with it
    return have == sorted(have, reverse=(order == "desc"))

def filters():
    flows = list(want.values())
    ips = {}
    for f in flows:
        for side in "ab":
            ips[f[side]] = ips.get(f[side], 0) + 1
    busy = max((ip for ip in ips if "." in ip or ":" in ip and len(ip) > 17), key=lambda ip: ips[ip])
    named = next(f["name"] for f in flows if f.get("name"))
    word = named.split(".")[-2][:5].upper()
    t0 = min(f["first"] for f in flows)
    cases = [
        ("", lambda f: True),
        ("proto=tcp", lambda f: f.get("ipproto") == 6),
        ("proto=udp&port=53", lambda f: f.get("ipproto") == 17 and 53 in (f.get("a_port"), f.get("b_port"))),
        ("addr=" + busy, lambda f: busy in (f["a"], f["b"])),
        ("app=DNS", lambda f: f.get("app") == "DNS"),
        ("name=" + urllib.parse.quote(word), lambda f: word.lower() in f.get("name", "").lower()),
        ("state=established", lambda f: tcp(f, "state") == "established"),
        ("state=ended", lambda f: f["end"] != "active"),
        ("min_bytes=10000", lambda f: f["a_bytes"] + f["b_bytes"] >= 10000),
        ("from=%d&to=%d" % (t0 + 20, t0 + 40), lambda f: f["last"] >= t0 + 20 and f["first"] <= t0 + 40),
        ("proto=6&min_bytes=2000&from=%d" % (t0 + 10), lambda f: f.get("ipproto") == 6 and
            f["a_bytes"] + f["b_bytes"] >= 2000 and f["last"] >= t0 + 10),
    ]
    bad = []
    for qs, match in cases:
        expect = {key(f) for f in flows if match(f)}
        for sort, order in (("bytes", "desc"), ("packets", "asc"), ("last", "desc"), ("rtt", "asc"),
                            ("duration", "desc"), ("retransmissions", "desc")):
            seen, values, r = pages(qs, sort, order)
            if set(seen) != expect or len(seen) != len(expect) or not ordered(values, order) or \
               r["total"] != len(expect) or not r["total_exact"]:
                bad.append("%s sort=%s %s: %d flows (%d distinct, total %d), expected %d; ordered: %s" % (
                    qs, sort, order, len(seen), len(set(seen)), r["total"], len(expect), ordered(values, order)))
    print("\n".join("# " + b for b in bad))
    print("%s %d" % ("agree" if not bad else "DISAGREE", len(cases)))

def biggest_tcp():
    """The TCP flow with most packets, its id in history and tshark's filter for it."""
    f = max((f for f in want.values() if f.get("ipproto") == 6 and f["l3"] == "ipv4"),
            key=lambda f: f["a_packets"] + f["b_packets"])
    hist = get("addr=%s&port=%d&limit=100" % (f["a"], f["b_port"]))["flows"]
    h = next(x for x in hist if key(x) == key(f))
    print(h["id"], "ip.addr==%s && ip.addr==%s && tcp.port==%d && tcp.port==%d && !icmp" % (
        f["a"], f["b"], f["a_port"], f["b_port"]))

def newest():
    """The TCP flow that began last (the ring still has all of it), its id and tshark's filter."""
    f = max((f for f in want.values() if f.get("ipproto") == 6 and f["l3"] == "ipv4"), key=lambda f: f["first"])
    h = next(x for x in get("addr=%s&limit=1000" % f["a"])["flows"] if key(x) == key(f))
    print(h["id"], "ip.addr==%s && ip.addr==%s && tcp.port==%d && tcp.port==%d && !icmp" % (
        f["a"], f["b"], f["a_port"], f["b_port"]))

{"every_field": every_field, "filters": filters, "biggest_tcp": biggest_tcp, "newest": newest}[mode]()
PY

read -r SAME NWANT NGOT NBAD NEXTRA <<<"$(flows_check every_field | tee "$WORK/flows-check.txt" | tail -n 1)"
grep '^#' "$WORK/flows-check.txt"
[[ "$SAME" == same && "$NWANT" -gt 100 ]] ||
	why "capd --flows has $NWANT flows, history $NGOT; $NBAD differ, $NEXTRA not in capd's"
read -r STORED_FLOWS FLOWS_LOST <<<"$(api /api/stats | python3 -c 'import json,sys; h=json.load(sys.stdin)["history"]; print(h["stored_flows"], h["flows_not_stored"])')"
((STORED_FLOWS >= NWANT && FLOWS_LOST == 0)) || why "stored_flows $STORED_FLOWS, flows_not_stored $FLOWS_LOST"
report "flows: /api/history/flows has every flow of capd --flows, every field equal ($NGOT flows, $STORED_FLOWS reports stored)"

flows_check filters >"$WORK/flows-filters.txt"
grep '^#' "$WORK/flows-filters.txt"
read -r AGREE NCASES <<<"$(tail -n 1 "$WORK/flows-filters.txt")"
[[ "$AGREE" == agree ]] || why "filters, sorts and pages disagree with capd's flows"
report "flows: $NCASES filters x 6 sorts, every page of 7, against capd's flows"

# pcap_fields FILE [FILTER]: the identity of each frame, for comparing two captures
pcap_fields() {
	tshark -n -r "$1" ${2:+-Y "$2"} -T fields -e frame.time_epoch -e frame.len -e ip.src -e tcp.srcport \
		-e tcp.seq_raw -e tcp.ack_raw </dev/null 2>/dev/null
}

# flow_pcap ID FILTER NAME: fetches the flow's PCAP; prints its source and whether tshark agrees
flow_pcap() {
	local source
	curl -s --max-time 20 -D "$WORK/$3.hdr" -o "$WORK/$3.pcap" "http://127.0.0.1:$PORT/api/flow/capd/$1/export.pcap"
	source="$(tr -d '\r' <"$WORK/$3.hdr" | sed -n 's/^X-Wlite-Source: //p')"
	pcap_fields "$WORK/$3.pcap" >"$WORK/$3.got"
	pcap_fields "$SMALL" "$2" >"$WORK/$3.want"
	if [[ -s "$WORK/$3.want" ]] && cmp -s "$WORK/$3.got" "$WORK/$3.want"; then
		echo "${source:-ring} same $(wc -l <"$WORK/$3.got")"
	else
		echo "${source:-ring} DIFFERENT $(wc -l <"$WORK/$3.got") $(wc -l <"$WORK/$3.want")"
	fi
}

read -r BIG_ID BIG_FILTER <<<"$(flows_check biggest_tcp)"
COMPLETE="$(api "/api/flow/capd/$BIG_ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets_complete"])')"
read -r SRC SAME N1 N2 <<<"$(flow_pcap "$BIG_ID" "$BIG_FILTER" big)"
[[ "$COMPLETE" == False ]] || why "the ring of 100 packets still has all of flow $BIG_ID"
[[ "$SRC" == history && "$SAME" == same && "$N1" -gt 100 ]] ||
	why "flow $BIG_ID ($BIG_FILTER): source $SRC, $SAME: $N1 packets, tshark ${N2:-$N1}"
report "flows: the PCAP of a flow the ring has lost comes from history, exactly tshark's $N1 packets of it"

read -r NEW_ID NEW_FILTER <<<"$(flows_check newest)"
COMPLETE="$(api "/api/flow/capd/$NEW_ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets_complete"])')"
read -r SRC SAME N1 N2 <<<"$(flow_pcap "$NEW_ID" "$NEW_FILTER" new)"
[[ "$COMPLETE" == True ]] || why "the ring does not have all of flow $NEW_ID, the last to begin"
[[ "$SRC" == ring && "$SAME" == same ]] || why "flow $NEW_ID ($NEW_FILTER): source $SRC, $SAME: $N1 packets, tshark ${N2:-$N1}"
report "flows: the PCAP of a flow the ring still holds comes from the ring ($N1 packets)"

api "/api/history/flows?limit=10000&sort=last" >"$WORK/flows-before.json"
stop_webd
start_webd "$DB" --ring-packets 100
api "/api/history/flows?limit=10000&sort=last" >"$WORK/flows-after.json"
LIVE_FLOWS="$(api /api/flows | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
cmp -s "$WORK/flows-before.json" "$WORK/flows-after.json" || why "/api/history/flows changed across the restart"
[[ "$(sqlite3 "$DB" 'SELECT count(*) FROM flows')" == "$NWANT" ]] || why "the flows table does not hold $NWANT rows"
[[ "$LIVE_FLOWS" == 0 ]] || why "the new webd's live table has $LIVE_FLOWS flows"
read -r SRC SAME N1 N2 <<<"$(flow_pcap "$BIG_ID" "$BIG_FILTER" again)"
[[ "$SRC" == history && "$SAME" == same ]] || why "after the restart, flow $BIG_ID: source $SRC, $SAME: $N1 packets, tshark ${N2:-$N1}"
report "flows survive a restart; a flow no longer in the live table still has its PCAP from history ($N1 packets)"

BAD=""
for q in "flows?sort=nope" "flows?limit=0" "flows?addr=999.1.1.1" "flows?sensor=nosuch" "flows?from=x" "flows?state=odd"; do
	s="$(status_of "/api/history/$q")"
	[[ "$s" == 400 ]] || BAD+="$q: $s; "
done
[[ "$(status_of "/api/flow/capd/123456789/export.pcap")" == 404 ]] || BAD+="unknown flow's PCAP: not 404"
[[ -z "$BAD" ]] || why "$BAD"
report "flows: bad parameters are refused with 400, an unknown flow's PCAP with 404"
stop_webd

# -------------------------------------------------------------- retention

DB="$WORK/ret/history.db"
mkdir -p "$WORK/ret" && chown wlite:wlite "$WORK/ret"
start_webd "$DB" --history-max-mb 20 --history-raw-hours 1 --history-queue 1200000
replay "$BENCH"
drained
# Retention runs between batches, in steps: give it time to catch up with the burst.
for _ in $(seq 1 120); do
	USED="$(sqlite3 "$DB" "SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count)")"
	RAWOLD="$(sqlite3 "$DB" "SELECT count(*) FROM raw WHERE ts < (SELECT max(ts) FROM packets) - 3600000000")"
	((USED * 4096 <= 20 * 1048576 && RAWOLD == 0)) && break
	sleep 0.5
done
read -r PRUNED PRUNED_RAW STORED_R <<<"$(api /api/stats | python3 -c 'import json,sys; h=json.load(sys.stdin)["history"]; print(h["pruned"], h["pruned_raw"], h["stored"])')"
USED="$(sqlite3 "$DB" "SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count)")"
USED_MB=$((USED * 4096 / 1048576))
LEFT="$(db_count "$DB" packets)"
RAWOLD="$(sqlite3 "$DB" "SELECT count(*) FROM raw WHERE ts < (SELECT max(ts) FROM packets) - 3600000000")"
((PRUNED > 0 && LEFT < STORED_R)) || why "size: pruned $PRUNED, $LEFT of $STORED_R rows left"
((USED_MB <= 21)) || why "size: $USED_MB MB in use, limit 20"
((RAWOLD == 0)) || why "raw bytes older than the window: $RAWOLD"
report "retention: oldest rows removed in steps (pruned $PRUNED, $LEFT left, $USED_MB MB); raw bytes past 1 h gone ($PRUNED_RAW)"
stop_webd

# ------------------------------------------------------------------- crash

DB="$WORK/crash/history.db"
mkdir -p "$WORK/crash" && chown wlite:wlite "$WORK/crash"
start_webd "$DB"
"$CAPD" --read "$BENCH" --speed max --include-loopback --start-delay 300 \
	--publish "ipc://$WORK/pub.sock" --control "ipc://$WORK/ctl.sock" 2>>"$WORK/capd.log" &
CAPD_PID=$!
ACKED=0
for _ in $(seq 1 100); do
	ACKED="$(hist stored)"
	((ACKED > 100000)) && break
	sleep 0.05
done
ACKED="$(hist stored)"
kill -9 "$WEBD_PID"
wait "$WEBD_PID" 2>/dev/null
WEBD_PID=""
kill "$CAPD_PID" 2>/dev/null
wait "$CAPD_PID" 2>/dev/null
CAPD_PID=""
start_webd "$DB"
stop_webd
CHECK="$(sqlite3 "$DB" 'PRAGMA integrity_check')"
HAVE="$(db_count "$DB" packets)"
LOST=$((ACKED > HAVE ? ACKED - HAVE : 0))
echo "# crash: webd acknowledged $ACKED packets committed before kill -9; $HAVE in the database; $LOST lost"
[[ "$CHECK" == ok ]] || why "integrity_check: $CHECK"
((ACKED > 0 && LOST == 0)) || why "lost $LOST of $ACKED committed packets"
report "kill -9 while ingesting: integrity ok, no committed packet lost ($HAVE >= $ACKED)"

# --------------------------------------------------------------- full disk

TMPFS="$WORK/tmpfs"
mkdir -p "$TMPFS"
mount -t tmpfs -o "size=2m,mode=0770,uid=$(id -u wlite),gid=$(id -g wlite)" tmpfs "$TMPFS"
start_webd "$TMPFS/history.db"
replay "$SMALL"
replay "$SMALL"
sleep 1
PAUSED="$(hist paused)"
REASON="$(hist reason)"
NOTSTORED="$(hist not_stored)"
LIVE_ROWS="$(api "/api/packets?limit=5" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packets"]))')"
FLOWS_NOTSTORED="$(hist flows_not_stored)"
echo "# disk full: paused=$PAUSED reason='$REASON' not_stored=$NOTSTORED flows_not_stored=$FLOWS_NOTSTORED"
[[ "$PAUSED" == True && -n "$REASON" && "$NOTSTORED" -gt 0 ]] || why "paused=$PAUSED reason=$REASON not_stored=$NOTSTORED"
[[ "$FLOWS_NOTSTORED" -gt 0 ]] || why "flow reports not stored while paused: $FLOWS_NOTSTORED"
[[ "$LIVE_ROWS" == 5 ]] || why "live /api/packets returned $LIVE_ROWS rows"
grep -q "history paused" "$WORK/webd.log" || why "no 'history paused' in the log"
report "disk full: history pauses with a reason and a count, the live API goes on"

mount -o remount,size=64m "$TMPFS"
BEFORE="$(hist stored)"
sleep 4 # a retry every 3 s
replay "$SMALL"
drained
sleep 1
[[ "$(hist paused)" == False && "$(hist stored)" -gt "$BEFORE" ]] ||
	why "after the remount: paused=$(hist paused) stored $(hist stored) (was $BEFORE)"
grep -q "history resumed" "$WORK/webd.log" || why "no 'history resumed' in the log"
report "space back: history resumes by itself"
stop_webd
umount "$TMPFS" && TMPFS=""

# ----------------------------------------------------------------- corrupt

DB="$WORK/corrupt/history.db"
mkdir -p "$WORK/corrupt" && chown wlite:wlite "$WORK/corrupt"
head -c 100000 /dev/urandom >"$DB"
chown wlite:wlite "$DB"
start_webd "$DB"
MOVED="$(ls "$WORK/corrupt" | grep -c 'history.db.corrupt-')"
grep -q "is corrupt.*moved aside" "$WORK/webd.log" || why "no log line about the corrupt file"
((MOVED == 1)) || why "the corrupt file was not moved aside: $(ls "$WORK/corrupt")"
replay "$SMALL"
drained
[[ "$(db_count "$DB" packets)" -gt 0 ]] || why "the new database holds no packets"
stop_webd
report "a corrupt database is moved aside, logged, and a new one works"

grep -q "quick_check\|not a database" "$WORK/webd.log" || why "the log does not say why"
report "the log line gives the reason"

exit $((FAILS > 0))
