#!/usr/bin/env bash
# tests/integration/history.sh: webd's SQLite history end to end.
#
# capd replays captures (--read only: nothing is captured on any interface)
# into webd, which runs as the wlite user with its history in a private
# mktemp -d directory. Covered: the history API (every page of a cursor
# walk exactly once and in order; ip=, proto=, q= filters; rates, dns;
# export.pcap read back by tshark; 4xx on bad parameters), persistence
# across a restart, retention by size and of raw bytes (in steps), a kill -9
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

echo "1..13"

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
[[ "$(sqlite3 "$DB" 'PRAGMA user_version')" == 1 ]] || why "schema version is not 1"
stop_webd
report "history survives a restart ($AGAIN packets)"

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
echo "# disk full: paused=$PAUSED reason='$REASON' not_stored=$NOTSTORED"
[[ "$PAUSED" == True && -n "$REASON" && "$NOTSTORED" -gt 0 ]] || why "paused=$PAUSED reason=$REASON not_stored=$NOTSTORED"
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
