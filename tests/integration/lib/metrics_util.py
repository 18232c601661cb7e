#!/usr/bin/env python3
"""Helpers of tests/integration/metrics.sh (Python 3, standard library only).

Each subcommand prints what it found as "# " diagnostics (and values on
stdout where said) and exits 0 when its check holds, 1 when it does not:

  stats WEBPORT TOKEN
      one line per sensor of /api/stats: name, packets, capd's flows.created,
      whether capd finished (tab-separated; names hold no tab)
  value WEBPORT TOKEN METRIC SENSOR
      the value of METRIC{sensor="SENSOR"} in webd's own /metrics, parsed
      here (escapes included); "" (exit 1) when absent
  scrapes PROMPORT JOB N
      Prometheus has scraped JOB at least N times, the last one up
  equal PROMPORT JOB WEBPORT TOKEN
      wlite_packets_total{job=JOB} in Prometheus equals /api/stats, sensor
      by sensor, and no sensor is missing
  present PROMPORT JOB WEBPORT TOKEN METRIC...
      every METRIC has a series for every sensor of /api/stats
  no-resets PROMPORT JOB RANGE
      no wlite_*_total counter of JOB went down within RANGE (PromQL's
      resets()), and there are such counters
  sse PORT NAME CAFILE TOKEN
      the live feed (SSE) over TLS at NAME (SNI, verified against CAFILE)
      on 127.0.0.1:PORT: updates arrive as they are sent
  ws PORT NAME CAFILE TOKEN ORIGIN
      the WebSocket over TLS: handshake with Origin, then an update
"""
import base64
import http.client
import json
import os
import re
import socket
import ssl
import sys
import time
import urllib.parse


def diag(*a):
    print("#", *a, flush=True)


def webd_get(port, token, path):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    try:
        c.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError("GET %s: %d %s" % (path, r.status, body[:200]))
        return body
    finally:
        c.close()


def api_sensors(port, token):
    return json.loads(webd_get(port, token, "/api/stats"))["sensors"]


def prom_query(port, query):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    try:
        c.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": query}))
        r = c.getresponse()
        doc = json.loads(r.read())
    finally:
        c.close()
    if doc.get("status") != "success":
        raise RuntimeError("query %s: %s" % (query, doc))
    return doc["data"]["result"]


# ---- The exposition, read back ------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse_exposition(text):
    """(name, {label: value}, value) for every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("not a sample line: %r" % line)
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(2) or "")}
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def cmd_stats(port, token):
    for s in api_sensors(port, token):
        capd = s.get("capd_stats", {})
        created = capd.get("flows", {}).get("created", "")
        finished = s.get("capd_status", {}).get("finished", False)
        print("%s\t%d\t%s\t%s" % (s["name"], s["packets"], created, "finished" if finished else "running"))
    return 0


def cmd_value(port, token, metric, sensor):
    text = webd_get(port, token, "/metrics").decode("utf-8")
    for name, labels, value in parse_exposition(text):
        if name == metric and labels.get("sensor") == sensor:
            print("%d" % value if value == int(value) else value)
            return 0
    return 1


def cmd_scrapes(port, job, n):
    got = prom_query(port, 'count_over_time(up{job="%s"}[10m])' % job)
    up = prom_query(port, 'up{job="%s"}' % job)
    count = int(float(got[0]["value"][1])) if got else 0
    last = up[0]["value"][1] if up else "none"
    diag("job %s: %d scrapes, up %s" % (job, count, last))
    return 0 if count >= int(n) and last == "1" else 1


def by_sensor(result):
    return {r["metric"].get("sensor"): r["value"][1] for r in result}


def cmd_equal(port, job, webport, token):
    prom = by_sensor(prom_query(port, 'wlite_packets_total{job="%s"}' % job))
    bad = 0
    for s in api_sensors(webport, token):
        got = prom.get(s["name"])
        diag("job %s, sensor %r: Prometheus %s, /api/stats %d" % (job, s["name"], got, s["packets"]))
        if got is None or int(float(got)) != s["packets"] or s["packets"] == 0:
            bad += 1
    return 1 if bad else 0


def cmd_present(port, job, webport, token, metrics):
    names = [s["name"] for s in api_sensors(webport, token)]
    bad = 0
    for m in metrics:
        have = by_sensor(prom_query(port, '%s{job="%s"}' % (m, job)))
        missing = [n for n in names if n not in have]
        if missing:
            diag("%s: no series for %r" % (m, missing))
            bad += 1
        else:
            diag("%s: %s" % (m, ", ".join("%r=%s" % (n, have[n]) for n in names)))
    return 1 if bad else 0


def prom_names(port):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    try:
        c.request("GET", "/api/v1/label/__name__/values")
        return json.loads(c.getresponse().read())["data"]
    finally:
        c.close()


def cmd_no_resets(port, job, rng):
    # One counter at a time: resets() drops the name, and two counters of
    # the same labels would collide in one vector.
    names = [n for n in prom_names(port) if re.fullmatch(r"wlite_.+_total", n)]
    series = went_down = 0
    for name in names:
        for r in prom_query(port, 'resets(%s{job="%s"}[%s])' % (name, job, rng)):
            series += 1
            if float(r["value"][1]) > 0:
                went_down += 1
                diag("went down: %s %s (%s times)" % (name, r["metric"], r["value"][1]))
    diag("job %s: %d series of %d counters over %s, %d with a reset" % (job, series, len(names), rng, went_down))
    return 0 if series > 0 and not went_down else 1


# ---- Through the TLS front ------------------------------------------------------------

def tls_connect(port, name, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=name)


def read_head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def dechunk_prefix(raw):
    """The data of the complete chunks at the start of a chunked body (a stream cut anywhere)."""
    out = b""
    while True:
        size_line, sep, rest = raw.partition(b"\r\n")
        try:
            n = int(size_line.split(b";")[0], 16)
        except ValueError:
            return out
        if not sep or n == 0 or len(rest) < n + 2:
            return out
        out += rest[:n]
        raw = rest[n + 2:]


def cmd_sse(port, name, cafile, token):
    s = tls_connect(port, name, cafile)
    s.sendall(("GET /api/stream HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
               "Accept: text/event-stream\r\n\r\n" % (name, port, token)).encode())
    t0 = time.monotonic()
    head, buf = read_head(s)
    status = head.split("\r\n")[0]
    diag("SSE over TLS: %s (%s)" % (status, s.version()))
    if " 200 " not in status or "text/event-stream" not in head:
        diag(head)
        return 1
    # An update longer than a chunk (4 KiB) is split by chunk size lines: count and parse the data.
    chunked = "transfer-encoding: chunked" in head.lower()
    data = (lambda: dechunk_prefix(buf)) if chunked else (lambda: buf)
    arrivals = [time.monotonic() - t0] * data().count(b"event: update")  # when each update came
    s.settimeout(1)
    while len(arrivals) < 10 and time.monotonic() - t0 < 6:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        buf += chunk
        now = time.monotonic() - t0
        arrivals += [now] * (data().count(b"event: update") - len(arrivals))
    s.close()
    if not arrivals:
        diag("no update in 6 s")
        return 1
    diag("%d updates, the first after %.2f s, spread over %.2f s" % (
        len(arrivals), arrivals[0], arrivals[-1] - arrivals[0]))
    m = re.search(rb"event: update\r?\ndata: (\{.*?\})\r?\n\r?\n", data())
    try:
        update = json.loads(m.group(1)) if m else {}
    except ValueError:
        update = {}
    if update.get("type") != "update" or "summary" not in update:
        diag("the first update is not webd's JSON: %r" % data()[:200])
        return 1
    # Ten a second, each as webd sends it: a proxy that buffered would deliver
    # them late and in lumps, not spread over most of a second.
    return 0 if len(arrivals) >= 10 and arrivals[0] < 2 and arrivals[-1] - arrivals[0] > 0.4 else 1


def cmd_ws(port, name, cafile, token, origin):
    s = tls_connect(port, name, cafile)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n"
               "Cookie: wlite_token=%s\r\n\r\n" % (name, port, key, origin, token)).encode())
    head, buf = read_head(s)
    status = head.split("\r\n")[0]
    diag("WebSocket over TLS, Origin %s: %s" % (origin, status))
    if " 101 " not in status:
        diag(head)
        return 1
    s.settimeout(5)
    while len(buf) < 2 or len(buf) < frame_len(buf):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    if len(buf) < 2 or buf[0] & 0x0f != 1:
        diag("no text frame: %r" % buf[:40])
        return 1
    payload = buf[frame_header(buf):frame_len(buf)]
    update = json.loads(payload)
    diag("first frame: %d bytes of JSON: %s" % (len(payload), ", ".join(sorted(update)[:6])))
    return 0 if update.get("type") == "update" and "summary" in update else 1


def frame_header(b):
    n = b[1] & 0x7f
    return 2 if n < 126 else 4 if n == 126 else 10


def frame_len(b):
    n = b[1] & 0x7f
    if n == 126:
        n = int.from_bytes(b[2:4], "big") if len(b) >= 4 else 1 << 30
    elif n == 127:
        n = int.from_bytes(b[2:10], "big") if len(b) >= 10 else 1 << 30
    return frame_header(b) + n


def main(argv):
    cmds = {
        "stats": (cmd_stats, 2), "value": (cmd_value, 4), "scrapes": (cmd_scrapes, 3),
        "equal": (cmd_equal, 4), "no-resets": (cmd_no_resets, 3), "sse": (cmd_sse, 4), "ws": (cmd_ws, 5),
    }
    if len(argv) >= 6 and argv[1] == "present":
        return cmd_present(argv[2], argv[3], argv[4], argv[5], argv[6:])
    if len(argv) < 2 or argv[1] not in cmds or len(argv) != 2 + cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    try:
        return cmds[argv[1]][0](*argv[2:])
    except (OSError, ValueError, KeyError, IndexError, RuntimeError, http.client.HTTPException) as e:
        diag("%s: %s: %s" % (argv[1], type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
