#!/usr/bin/env bash
# tests/integration/metrics.sh: webd's /metrics for real (issue 13, item 5).
#
# Real daemons only, all on 127.0.0.1: two capds replaying captures from the
# corpus (--read, never a live interface), wlite-webd as the wlite user with a
# token, Debian's nginx as the TLS front with contrib/tls/nginx-wlite.conf
# (a CA and a certificate for wlite.test made here by openssl), and Debian's
# prometheus with its own configuration (the scrape job of
# contrib/tls/prometheus-wlite.yml through the front, and one straight to
# webd), its own storage, on free ports: never 80, 443 or 9090, and nothing
# of the packages' own services is used or touched. Prometheus resolves
# wlite.test through an /etc/hosts of its own (a private mount namespace).
#
#   - /metrics: 401 without the token or with a wrong one, 200 with it, the
#     0.0.4 Content-Type; `promtool check metrics` finds nothing; every
#     family of the README's table and no other; label values escaped
#   - Prometheus scrapes it (two scrapes at least), and wlite_packets_total
#     of each sensor equals /api/stats, directly and through the front; the
#     drop and gap counters are there for every sensor
#   - capd restarted twice (once mid-replay): the exported flow counter is
#     exactly what the three runs counted, and Prometheus saw no wlite
#     counter go down (resets() over the whole run)
#   - through the front over TLS: /metrics (token), the dashboard, the API,
#     the SSE feed as it is sent, the WebSocket with an https Origin; another
#     Host or Origin is still refused by webd
#
# Output: TAP. Needs root (webd runs as wlite, capd drops to it, nginx binds
# and reads its key as root). About a minute. On failure the logs are kept.
#
# Environment: WLITE_WEBD, WLITE_CAPD, WLITE_BUILD, WLITE_SHARED.
# shellcheck disable=SC2317 # functions called through wait_until and the EXIT trap
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${WLITE_SHARED:-$ROOT/../shared}"
BUILD="${WLITE_BUILD:-$ROOT/build}"
WEBD="${WLITE_WEBD:-$BUILD/webd/wlite-webd}"
CAPD="${WLITE_CAPD:-$BUILD/capd/wlite-capd}"
CORPUS="$SHARED/pcap-corpus/dev"
UTIL="$HERE/lib/metrics_util.py"
NGINX_SITE="$ROOT/contrib/tls/nginx-wlite.conf"
PROM_JOB="$ROOT/contrib/tls/prometheus-wlite.yml"
F1="$CORPUS/zeek-wikipedia.pcap"           # 136 packets, 38 flows
F2="$CORPUS/zeek-tunnels__gre-within-gre.pcap" # 628 packets
ALPHA="alpha"
BETA='beta "β" \ lab' # a quote, a backslash and UTF-8: escaped in the exposition

# shellcheck source=tests/integration/lib/tap.sh
source "$HERE/lib/tap.sh"

if [[ $EUID -ne 0 ]]; then
	echo "1..0 # SKIP needs root (webd runs as wlite; nginx reads its key as root)"
	exit 0
fi
missing=""
for f in "$WEBD" "$CAPD"; do [[ -x "$f" ]] || missing+=" $f"; done
for c in python3 setpriv unshare mount curl openssl nginx prometheus promtool; do
	command -v "$c" >/dev/null 2>&1 || missing+=" $c"
done
for f in "$F1" "$F2" "$NGINX_SITE" "$PROM_JOB"; do [[ -f "$f" ]] || missing+=" $f"; done
if [[ -n "$missing" ]]; then
	echo "1..1"
	echo "not ok 1 - metrics test prerequisites (scripts/lib.sh installs prometheus and nginx)"
	echo "# missing:$missing"
	exit 1
fi
getent passwd wlite >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin wlite

echo "1..18"

# ------------------------------------------------------------- clean-up

WORK="$(mktemp -d /tmp/wlite-metrics-test.XXXXXX)"
chmod 0711 "$WORK" # wlite, nobody and www-data reach their own corners only
PIDS=()
KEEP=0

# stop_pid PID: SIGTERM, SIGKILL after 10 s; reaps it (its exit status in
# STOP_RC) and forgets it, so that no later kill can reach a reused pid.
stop_pid() {
	local pid="$1" st i
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		st="$(ps -o stat= -p "$pid" 2>/dev/null)"
		[[ -z "$st" || "$st" == Z* ]] && break
		sleep 0.1
	done
	[[ -z "$st" || "$st" == Z* ]] || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	STOP_RC=$?
	for i in "${!PIDS[@]}"; do [[ "${PIDS[i]}" == "$pid" ]] && unset 'PIDS[i]'; done
	PIDS=("${PIDS[@]}")
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
	if ((KEEP || FAILS)); then
		echo "# logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_until SECONDS CMD...: polls CMD every 0.2 s; its status.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# ---------------------------------------------------------- the daemons

SOCK="$WORK/sock" # root:wlite 0750, as scripts/run makes /run/wlite
mkdir "$SOCK" && chown root:wlite "$SOCK" && chmod 0750 "$SOCK"
TOKEN="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
printf '%s\n' "$TOKEN" >"$WORK/token"
chown root:wlite "$WORK/token" && chmod 0640 "$WORK/token"
mkdir "$WORK/history" && chown wlite:wlite "$WORK/history"

# start_capd ID FILE [FLAGS...]: a replay publishing on $SOCK/ID.sock; sets CAPD_PID.
start_capd() {
	local id="$1" file="$2"
	shift 2
	"$CAPD" --read "$file" --publish "ipc://$SOCK/$id.sock" --control "ipc://$SOCK/$id-ctl.sock" \
		--start-delay 500 "$@" >>"$WORK/capd-$id.log" 2>&1 </dev/null &
	CAPD_PID=$!
	PIDS+=("$CAPD_PID")
}

WPORT="$(free_port)"
setpriv --reuid wlite --regid wlite --init-groups -- "$WEBD" \
	--capd "$ALPHA=ipc://$SOCK/a.sock" --capd "$BETA=ipc://$SOCK/b.sock" --control "ipc://$SOCK/a-ctl.sock" \
	--listen "127.0.0.1:$WPORT" --token-file "$WORK/token" --allow-host wlite.test --ip-api off \
	--history "$WORK/history/history.db" --web-root "$ROOT/web" >"$WORK/webd.log" 2>&1 </dev/null &
WEBD_PID=$!
PIDS+=("$WEBD_PID")
AUTH=(-H "Authorization: Bearer $TOKEN")
webd_up() { curl -sf "${AUTH[@]}" -o /dev/null "http://127.0.0.1:$WPORT/api/stats"; }
wait_until 20 webd_up || why "webd did not answer on 127.0.0.1:$WPORT: $(tail -5 "$WORK/webd.log")"

# sensor_line NAME: the helper's line for a sensor: name, packets, capd's flows created, finished.
sensor_line() { python3 "$UTIL" stats "$WPORT" "$TOKEN" | N="$1" awk -F'\t' '$1 == ENVIRON["N"]'; }
finished() { [[ "$(sensor_line "$1" | cut -f4)" == finished ]]; }
# replayed NAME PACKETS: capd finished and webd has every packet.
replayed() { [[ "$(sensor_line "$1" | cut -f2,4)" == "$2"$'\t'finished ]]; }

start_capd a "$F1" --speed max
ALPHA_RUN1=$CAPD_PID
start_capd b "$F2" --speed max
wait_until 30 replayed "$ALPHA" 136 || why "alpha: $(sensor_line "$ALPHA")"
wait_until 30 replayed "$BETA" 628 || why "beta: $(sensor_line "$BETA")"
N1="$(sensor_line "$ALPHA" | cut -f3)"
report "webd and two capds replaying captures ($ALPHA: 136 packets, $N1 flows; '$BETA': 628 packets)"

# ------------------------------------------------------ /metrics itself

URL="http://127.0.0.1:$WPORT/metrics"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
c="$(code "$URL")"
[[ "$c" == 401 ]] || why "no token: $c"
c="$(code -H "Authorization: Bearer wrong-$TOKEN" "$URL")"
[[ "$c" == 401 ]] || why "a wrong bearer token: $c"
c="$(code -H "Authorization: Basic $(printf 'x:%s' "$TOKEN" | base64)" "$URL")"
[[ "$c" == 401 ]] || why "the token as Basic credentials: $c"
c="$(code "$URL?token=nope")"
[[ "$c" == 401 ]] || why "a wrong ?token=: $c"
c="$(code -X POST "${AUTH[@]}" "$URL")"
[[ "$c" == 405 ]] || why "POST: $c"
got="$(curl -s "${AUTH[@]}" -o "$WORK/metrics.txt" -w '%{http_code} %{content_type}' "$URL")"
[[ "$got" == "200 text/plain; version=0.0.4; charset=utf-8" ]] || why "with the token: $got"
got="$(curl -s -I "${AUTH[@]}" "$URL" | tr -d '\r' | grep -ci '^content-length: [1-9]')"
[[ "$got" == 1 ]] || why "HEAD: no Content-Length"
report "/metrics: 401 without the token or with a wrong one (bearer, basic, ?token=), 200 with it, text/plain version=0.0.4"

out="$(promtool check metrics <"$WORK/metrics.txt" 2>&1)"
rc=$?
((rc == 0)) || why "promtool check metrics: exit $rc"
[[ -z "$out" ]] || why "promtool: $out"
report "promtool check metrics passes on the exposition ($(grep -c '^# TYPE' "$WORK/metrics.txt") families, $(grep -vc '^#' "$WORK/metrics.txt") samples)"

# The README's table of metrics (name and type) against the exposition's TYPE lines, both ways.
# shellcheck disable=SC2016 # the backquotes are Markdown's
grep -E '^\| `(wlite|process)_[a-z_]+` \| (counter|gauge) \|' "$ROOT/README.md" |
	sed -E 's/^\| `([a-z_]+)` \| ([a-z]+) \|.*/\1 \2/' | sort >"$WORK/readme-families"
grep '^# TYPE ' "$WORK/metrics.txt" | cut -d' ' -f3,4 | sort >"$WORK/families"
[[ -s "$WORK/readme-families" ]] || why "no metric table in README.md"
d="$(diff "$WORK/readme-families" "$WORK/families")" || why "README (<) and /metrics (>) differ: $d"
report "every family of the README's metric table is exposed with its type, and no other ($(wc -l <"$WORK/families"))"

v_alpha="$(python3 "$UTIL" value "$WPORT" "$TOKEN" wlite_packets_total "$ALPHA")"
v_beta="$(python3 "$UTIL" value "$WPORT" "$TOKEN" wlite_packets_total "$BETA")"
[[ "$v_alpha" == 136 ]] || why "wlite_packets_total{sensor=\"alpha\"}: '$v_alpha', want 136"
[[ "$v_beta" == 628 ]] || why "wlite_packets_total for '$BETA': '$v_beta', want 628 (label escaping?)"
grep -qF 'wlite_packets_total{sensor="beta \"β\" \\ lab"} 628' "$WORK/metrics.txt" ||
	why "the escaped line is not there: $(grep '^wlite_packets_total' "$WORK/metrics.txt")"
v="$(python3 "$UTIL" value "$WPORT" "$TOKEN" wlite_flows_created_total "$ALPHA")"
[[ "$v" == "$N1" ]] || why "wlite_flows_created_total{alpha}: '$v', capd says $N1"
report "per sensor: packets equal /api/stats, flows created equal capd's, and a name with a quote, a backslash and UTF-8 reads back"

# webd's own figures under the standard names, against /proc.
m() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/metrics.txt"; }
started="$(m process_start_time_seconds)"
now="$(date +%s)"
age="$(ps -o etimes= -p "$WEBD_PID" | tr -d ' ')"
python3 -c "import sys; sys.exit(0 if abs($now - $age - $started) <= 3 else 1)" ||
	why "process_start_time_seconds $started, ps says $((now - age))"
rss="$(m process_resident_memory_bytes)"
want_rss=$(($(awk '/^VmRSS/ { print $2 }' "/proc/$WEBD_PID/status") * 1024))
python3 -c "import sys; sys.exit(0 if 0.8 * $want_rss <= $rss <= 1.2 * $want_rss else 1)" ||
	why "process_resident_memory_bytes $rss, /proc says $want_rss"
fds="$(m process_open_fds)"
want_fds="$(find "/proc/$WEBD_PID/fd" -mindepth 1 | wc -l)"
((fds > 5 && fds >= want_fds - 3 && fds <= want_fds + 3)) || why "process_open_fds $fds, /proc says $want_fds"
[[ "$(m process_cpu_seconds_total)" =~ ^[0-9.e+-]+$ ]] || why "process_cpu_seconds_total: $(m process_cpu_seconds_total)"
report "process figures: start time, resident memory and open descriptors agree with /proc ($rss bytes, $fds fds)"

# ------------------------------------------------------- the TLS front

TLS="$WORK/tls" # root only: nginx's master reads the key
mkdir -m 0700 "$TLS"
(
	cd "$TLS" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
		-days 2 -subj "/CN=wlite test CA" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout wlite.key -out wlite.csr \
			-subj "/CN=wlite.test" &&
		printf 'subjectAltName=DNS:wlite.test\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >ext &&
		openssl x509 -req -in wlite.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out wlite.crt \
			-extfile ext
) >"$WORK/openssl.log" 2>&1 || why "openssl: $(tail -3 "$WORK/openssl.log")"
cp "$TLS/ca.crt" "$WORK/ca.crt" && chmod 0644 "$WORK/ca.crt"

NGX="$WORK/nginx"
NPORT="$(free_port)"
mkdir -p "$NGX/tmp" && chown www-data "$NGX/tmp"
# The shipped site, with what its CHANGE comments name changed (each exactly once).
subst() { # FILE OLD NEW: replaces the one line holding OLD
	local n
	n="$(grep -cF -- "$2" "$1")"
	((n == 1)) || why "$1: '$2' found $n times, not once"
	python3 -c 'import sys; p,a,b=sys.argv[1:]; s=open(p).read(); open(p,"w").write(s.replace(a,b))' "$1" "$2" "$3"
}
cp "$NGINX_SITE" "$NGX/wlite.conf"
subst "$NGX/wlite.conf" "listen 443 ssl;" "listen 127.0.0.1:$NPORT ssl;"
subst "$NGX/wlite.conf" "listen [::]:443 ssl;" ""
subst "$NGX/wlite.conf" "server 127.0.0.1:8080;" "server 127.0.0.1:$WPORT;"
subst "$NGX/wlite.conf" "server_name wlite.example.org;" "server_name wlite.test;"
subst "$NGX/wlite.conf" "/etc/wlite/tls/wlite.crt" "$TLS/wlite.crt"
subst "$NGX/wlite.conf" "/etc/wlite/tls/wlite.key" "$TLS/wlite.key"
cat >"$NGX/nginx.conf" <<EOF
# The test's own nginx: its files in $NGX, the shipped site included.
user www-data;
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/error.log info;
events { worker_connections 256; }
http {
    access_log $NGX/access.log;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    # As Debian's /etc/nginx/nginx.conf says for every server.
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    include $NGX/wlite.conf;
}
EOF
NGINX_ARGS=(-e "$NGX/error.log" -p "$NGX/" -c "$NGX/nginx.conf")
nginx -t "${NGINX_ARGS[@]}" >"$NGX/t.log" 2>&1 || why "nginx -t: $(tail -3 "$NGX/t.log")"
nginx "${NGINX_ARGS[@]}" -g 'daemon off;' </dev/null >>"$NGX/error.log" 2>&1 &
PIDS+=($!)
HTTPS=(--cacert "$WORK/ca.crt" --resolve "wlite.test:$NPORT:127.0.0.1")
FRONT="https://wlite.test:$NPORT"
front_up() { [[ "$(code "${HTTPS[@]}" "$FRONT/metrics")" == 401 ]]; }
wait_until 10 front_up || why "the front does not answer: $(tail -3 "$NGX/error.log")"
report "nginx runs contrib/tls/nginx-wlite.conf on 127.0.0.1:$NPORT (TLS for wlite.test, webd behind it)"

# ------------------------------------------------------------ Prometheus

PROM="$WORK/prom" # nobody's: Prometheus runs unprivileged
PPORT="$(free_port)"
mkdir -m 0700 "$PROM" "$PROM/data"
printf '%s\n' "$TOKEN" >"$PROM/wlite.token"
cp "$WORK/ca.crt" "$PROM/wlite-ca.crt"
printf '127.0.0.1 localhost\n127.0.0.1 wlite.test\n' >"$WORK/hosts" && chmod 0644 "$WORK/hosts"
cp "$PROM_JOB" "$PROM/job.yml"
subst "$PROM/job.yml" "scrape_interval: 15s" "scrape_interval: 1s"
subst "$PROM/job.yml" "/etc/prometheus/wlite.token" "$PROM/wlite.token"
subst "$PROM/job.yml" "/etc/prometheus/wlite-ca.crt" "$PROM/wlite-ca.crt"
subst "$PROM/job.yml" "'wlite.example.org:443'" "'wlite.test:$NPORT'"
{
	printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n'
	grep -v '^#' "$PROM/job.yml"
	cat <<EOF
  # Straight to webd, the token given in the configuration.
  - job_name: direct
    metrics_path: /metrics
    authorization:
      credentials: $TOKEN
    static_configs:
      - targets: ['127.0.0.1:$WPORT']
EOF
} >"$PROM/prometheus.yml"
chown -R nobody:nogroup "$PROM"
out="$(promtool check config "$PROM/prometheus.yml" 2>&1)" || why "promtool check config: $out"
# shellcheck disable=SC2016 # expanded by the inner shell
unshare -m -- sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' _ "$WORK/hosts" \
	setpriv --reuid nobody --regid nogroup --clear-groups -- \
	prometheus --config.file="$PROM/prometheus.yml" --storage.tsdb.path="$PROM/data" \
	--web.listen-address="127.0.0.1:$PPORT" --storage.tsdb.retention.time=1d \
	</dev/null >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
prom_ready() { curl -sf "http://127.0.0.1:$PPORT/-/ready"; }
wait_until 30 prom_ready || why "Prometheus is not ready: $(tail -3 "$WORK/prometheus.log")"
t0=$SECONDS
wait_until 45 python3 "$UTIL" scrapes "$PPORT" direct 2 || why "$(python3 "$UTIL" scrapes "$PPORT" direct 2)"
wait_until 30 python3 "$UTIL" scrapes "$PPORT" wlite 2 || why "$(python3 "$UTIL" scrapes "$PPORT" wlite 2)"
diag "$(python3 "$UTIL" scrapes "$PPORT" direct 2; python3 "$UTIL" scrapes "$PPORT" wlite 2)"
report "Prometheus (promtool-checked configuration) scraped webd twice straight and through the TLS front, in $((SECONDS - t0)) s"

out="$(python3 "$UTIL" equal "$PPORT" direct "$WPORT" "$TOKEN")" || why "mismatch"
diag "$out"
out2="$(python3 "$UTIL" equal "$PPORT" wlite "$WPORT" "$TOKEN")" || why "through the front: mismatch"
diag "$out2"
report "Prometheus's wlite_packets_total equals /api/stats for each sensor (bearer token; credentials_file over TLS)"

out="$(python3 "$UTIL" present "$PPORT" direct "$WPORT" "$TOKEN" wlite_kernel_drops_total \
	wlite_interface_drops_total wlite_ipc_gaps_total wlite_ipc_missed_packets_total \
	wlite_publish_refused_packets_total wlite_flows_evicted_total wlite_flow_reports_missed_total)" ||
	why "missing series"
diag "$out"
report "kernel drops, interface drops, IPC gaps and missed packets, publish refusals, flow evictions: a series per sensor"

# ------------------------------------------------- capd restarts mid-run

created() { sensor_line "$ALPHA" | cut -f3; }
stop_pid "$ALPHA_RUN1"
start_capd a "$F1" --speed 20 --loop # 0.3 s a pass: counting the whole time
more_than() { local c; c="$(created)"; [[ -n "$c" && "$c" -gt "$1" ]]; }
# Well past run 1's count, so that the next restart makes capd's own count go down.
wait_until 30 more_than $((3 * N1)) || why "the looping capd did not count flows: $(sensor_line "$ALPHA")"
wait_until 20 python3 "$UTIL" scrapes "$PPORT" direct 8 || why "too few scrapes"
stop_pid "$CAPD_PID" # mid-replay
sleep 1
L2="$(created)" # the last stats of run 2: what webd has of it
start_capd a "$F1" --speed max
wait_until 30 finished "$ALPHA" || why "the third run did not finish: $(sensor_line "$ALPHA")"
N3="$(created)"
want=$((N1 + L2 + N3))
got="$(python3 "$UTIL" value "$WPORT" "$TOKEN" wlite_flows_created_total "$ALPHA")"
[[ "$got" == "$want" ]] || why "wlite_flows_created_total{alpha} $got, want $N1 + $L2 + $N3 = $want"
((L2 > N3)) || why "capd's own count did not go down ($L2 then $N3): the check proves nothing"
r="$(python3 "$UTIL" value "$WPORT" "$TOKEN" wlite_sensor_restarts_total "$ALPHA")"
[[ "$r" == 2 ]] || why "wlite_sensor_restarts_total{alpha} $r, want 2"
report "capd restarted twice, once mid-replay: flows created $N1 + $L2 + $N3 = $got though capd's own count fell to $N3; 2 restarts"

wait_until 20 python3 "$UTIL" equal "$PPORT" direct "$WPORT" "$TOKEN" || why "Prometheus did not catch up"
out="$(python3 "$UTIL" no-resets "$PPORT" direct 10m)" || why "a counter went down"
diag "$out"
out="$(python3 "$UTIL" equal "$PPORT" direct "$WPORT" "$TOKEN")" || why "packets: $out"
report "Prometheus saw no wlite counter go down across the restarts (resets() over 10 minutes), and the packets still equal /api/stats"

# ---------------------------------------------------- through the front

got="$(curl -s "${HTTPS[@]}" -H "Authorization: Bearer $TOKEN" -o "$WORK/metrics-tls.txt" \
	-w '%{http_code} %{content_type} %{ssl_verify_result}' "$FRONT/metrics")"
[[ "$got" == "200 text/plain; version=0.0.4; charset=utf-8 0" ]] || why "with the token: $got"
c="$(code "${HTTPS[@]}" -H "Authorization: Bearer wrong" "$FRONT/metrics")"
[[ "$c" == 401 ]] || why "a wrong token through the front: $c"
grep '^# TYPE ' "$WORK/metrics-tls.txt" | cut -d' ' -f3,4 | sort | diff -q - "$WORK/families" >/dev/null ||
	why "other families through the front"
report "/metrics over https (certificate verified): 200 with the token, 401 with a wrong one, the same families"

got="$(curl -s "${HTTPS[@]}" -o "$WORK/index.html" -w '%{http_code} %{content_type}' "$FRONT/")"
[[ "$got" == "200 text/html"* ]] || why "GET /: $got"
grep -qi '<html' "$WORK/index.html" || why "GET /: not the dashboard's HTML"
got="$(curl -s "${HTTPS[@]}" "${AUTH[@]}" -o "$WORK/stats-tls.json" -w '%{http_code}' "$FRONT/api/stats")"
[[ "$got" == 200 ]] || why "GET /api/stats: $got"
grep -q '"sensors"' "$WORK/stats-tls.json" || why "GET /api/stats: not webd's stats"
hsts="$(curl -s -I "${HTTPS[@]}" "$FRONT/" | tr -d '\r' | grep -ci '^strict-transport-security:')"
[[ "$hsts" == 1 ]] || why "no Strict-Transport-Security"
report "the dashboard and the API over https, with HSTS"

out="$(python3 "$UTIL" sse "$NPORT" wlite.test "$WORK/ca.crt" "$TOKEN")" || why "SSE through the front"
diag "$out"
report "the live feed (SSE) through the front: updates arrive one by one as webd sends them"

out="$(python3 "$UTIL" ws "$NPORT" wlite.test "$WORK/ca.crt" "$TOKEN" "https://wlite.test:$NPORT")" ||
	why "WebSocket through the front"
diag "$out"
report "the WebSocket through the front, with the browser's https Origin"

c="$(code "${HTTPS[@]}" "${AUTH[@]}" -H "Host: evil.test" "$FRONT/api/stats")"
[[ "$c" == 421 ]] || why "Host: evil.test through the front: $c"
c="$(code "${HTTPS[@]}" "${AUTH[@]}" -H "Origin: https://evil.test" "$FRONT/api/stats")"
[[ "$c" == 403 ]] || why "Origin: https://evil.test through the front: $c"
c="$(code "${HTTPS[@]}" "${AUTH[@]}" -H "Origin: https://wlite.test:$NPORT" "$FRONT/api/stats")"
[[ "$c" == 200 ]] || why "Origin: https://wlite.test:$NPORT: $c"
for v in 1_2 1_3; do
	out="$(timeout 10 openssl s_client -connect "127.0.0.1:$NPORT" -servername wlite.test -CAfile "$WORK/ca.crt" \
		-verify_return_error "-tls$v" </dev/null 2>&1)"
	grep -q "Verify return code: 0 (ok)" <<<"$out" || why "TLS ${v/_/.}: $(grep -m1 -iE 'error|alert' <<<"$out")"
done
# A client willing to speak TLS 1.0 or 1.1 with any cipher: the front refuses the
# version itself ("protocol version"), whatever Debian's http-wide ssl_protocols says.
for v in 1 1_1; do
	out="$(timeout 10 openssl s_client -connect "127.0.0.1:$NPORT" -servername wlite.test "-tls$v" \
		-cipher 'DEFAULT@SECLEVEL=0' </dev/null 2>&1)"
	grep -q "alert protocol version" <<<"$out" ||
		why "TLS ${v/_/.}: not refused for its version: $(grep -m1 -iE 'error|alert|Protocol|Cipher is' <<<"$out")"
done
report "webd still refuses another Host (421) or Origin (403) behind the front; TLS 1.2 and 1.3 with the chain verified, 1.0 and 1.1 refused"

stop_pid "$WEBD_PID"
((STOP_RC == 0)) || why "webd's exit status: $STOP_RC"
bad="$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK/webd.log")" && why "$bad"
report "webd stops on SIGTERM with status 0, and nothing from the sanitizers in its log"

((FAILS == 0)) || exit 1
exit 0
