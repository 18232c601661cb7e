#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/integration/webd_security.py: webd against a hostile client.

The scenarios of webd.sh (same output, same environment: see webd_checks.py)
that attack webd the way an audit did: DNS rebinding (Host and Origin pairs
a rebinding page sends), WebSocket handshakes that fail and frames too big,
connections that never finish their headers, exports that never read, HEAD,
static files that are not the dashboard's, and the token.

Usage: webd_security.py [--count] SCENARIO
Scenarios: gate ws slowloris exports secrets
"""

import os
import re
import shutil
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webd_checks as wc  # noqa: E402 - the shared harness
from webd_checks import (WS, Checks, Daemons, get_json, header_problems, log, read_http_head,  # noqa: E402
                         request, stop_all, udp_frame, wait_for, write_pcap, ws_frame)

CHECKS = {
    "gate": [
        "gate: a rebinding page's Host is refused (421) on every path, before any handler",
        "gate: the Host/Origin pair a rebinding page sends is refused on reads, the feed and POST",
        "gate: a foreign Origin is refused (403) on GET, SSE, WebSocket and POST with a good Host",
        "gate: the listen address, 127.0.0.1 and localhost (with the port) are answered",
        "gate: --allow-host NAME is answered as Host and allowed as http(s) Origin; others still are not",
        "gate: HEAD on API paths sends the headers and no body",
        "gate: only the dashboard's files are served (no README, package.json, lock, dotfiles, symlinks)",
        "gate: directories get a 404 with the security headers, never a redirect (//css included)",
    ],
    "ws": [
        "ws: 40 handshakes with a 70-byte Sec-WebSocket-Key are refused (400) and leak no feed slot",
        "ws: after them the live feed still has room (SSE 200, WebSocket 101 with updates)",
        "ws: a 2 MiB frame (sent, not only declared) is refused with close 1009, without the memory",
        "ws: ping gets pong, close gets its close echoed, an unmasked frame gets 1002",
        "ws: the feed slot comes back when a WebSocket ends, on every path",
    ],
    "slowloris": [
        "slowloris: with 60 half-open connections /api/stats still answers within a second",
        "slowloris: the stalled connections were cut and counted, the webd stays up",
    ],
    "exports": [
        "exports: the ring is filled (64 MB of packets)",
        "exports: 8 exports that never read add less than 48 MiB of peak RSS",
        "exports: a PCAP export read to the end holds every packet of the ring in order",
    ],
    "secrets": [
        "token: --token-file works and the token is not in /proc/PID/cmdline",
        "token: a token file readable by every user is refused at start-up",
        "token: a ?token= with a NUL after decoding is refused, not cut short",
        "token: --token on the command line logs a warning",
    ],
}

CORPUS_FILE = "zeek-wikipedia.pcap"


def corpus(name=CORPUS_FILE):
    return os.path.join(wc.CORPUS, name)


def raw_request(port, text, timeout=5):
    """Sends raw bytes; returns (status, headers, body bytes read until close or timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(text.encode("latin-1") if isinstance(text, str) else text)
        st, hdrs = read_http_head(s)
        body = b""
        s.settimeout(1.0)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
        except OSError:
            pass
        return st, hdrs, body
    finally:
        s.close()


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


API_READS = ["/api/stats", "/api/packets?limit=5", "/api/export.pcap", "/api/export.csv", "/api/rates.csv",
             "/api/dns", "/api/hosts", "/api/names", "/api/alerts", "/api/packet/1", "/api/history/range"]


# ---------------------------------------------------------------------- gate

def make_webroot():
    """The real dashboard plus what a web root may also hold that must never be served."""
    src = os.path.join(os.environ.get("WLITE_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")), "web")
    root = os.path.join(wc.WORK, "webroot-gate")
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(src, root, symlinks=True, ignore=shutil.ignore_patterns("node_modules"))
    os.makedirs(os.path.join(root, "node_modules", "chart.js", "dist"), exist_ok=True)
    with open(os.path.join(root, "node_modules", "chart.js", "dist", "chart.umd.js"), "w") as f:
        f.write("/* chart */\n")
    for name, text in ((".env", "SECRET=1\n"), ("README.md", "readme\n"), ("package.json", "{}\n"),
                       ("package-lock.json", "{}\n"), ("node_modules/chart.js/package.json", "{}\n"),
                       ("js/.hidden.js", "x\n")):
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
    os.symlink("/etc/passwd", os.path.join(root, "js", "passwd.js"))
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for fn in filenames:
            p = os.path.join(dirpath, fn)
            if not os.path.islink(p):
                os.chmod(p, 0o644)
    return root


def scenario_gate(c):
    d = Daemons("gate")
    d.start_webd("--ip-api", "off", "--web-root", make_webroot(), "--history", "off")
    d.start_capd(corpus(), "--speed", "max")
    port = d.port
    wait_for(lambda: get_json(port, "/api/stats")["packets"] > 0, 10)
    evil = "evil.example:%d" % port

    def refused_everywhere(headers, want, paths=None, methods=("GET",)):
        p = []
        for path in paths or (API_READS + ["/", "/index.html", "/js/main.js", "/api/stream", "/ws"]):
            for m in methods:
                st, h, body = request(port, m, path, headers=headers, timeout=5)
                if st != want:
                    p.append("%s %s with %r: %d, expected %d" % (m, path, headers, st, want))
                elif path in ("/api/export.pcap", "/api/packets?limit=5") and b"\xd4\xc3\xb2\xa1" in body[:4]:
                    p.append("%s: pcap bytes came back" % path)
                p += header_problems(h, "%s %s (%d)" % (m, path, st))
        return p

    c.check(CHECKS["gate"][0], lambda: refused_everywhere({"Host": evil}, 421)
            + refused_everywhere({"Host": "evil.example"}, 421, ["/api/stats", "/"])
            + refused_everywhere({"Host": "127.0.0.1:%d.evil.example" % port}, 421, ["/api/stats"])
            + no_host_refused(port))

    def rebinding_pair():
        h = {"Host": evil, "Origin": "http://" + evil}
        p = refused_everywhere(h, 421)
        st, _, body = request(port, "POST", "/api/capture", body=b'{"action":"pause"}',
                              headers=dict(h, **{"Content-Type": "application/json"}))
        if st != 421:
            p.append("POST /api/capture from the rebinding pair: %d %r" % (st, body[:100]))
        ws = WS(port, origin="http://" + evil)
        ws_st = ws_open_with_host(ws, evil)
        if ws_st != 421:
            p.append("WebSocket from the rebinding pair: %r" % ws_st)
        paused = get_json(port, "/api/stats")["sensors"][0].get("capd_status", {}).get("paused")
        if paused:
            p.append("capd was paused by the rebinding page")
        return p
    c.check(CHECKS["gate"][1], rebinding_pair)

    def foreign_origin():
        o = {"Origin": "http://evil.example"}
        p = refused_everywhere(o, 403, ["/api/stats", "/api/packets", "/api/export.pcap", "/api/stream"])
        st, _, _ = request(port, "POST", "/api/capture", body=b'{"action":"resume"}',
                           headers={"Origin": "http://evil.example", "Content-Type": "application/json"})
        if st != 403:
            p.append("POST with a foreign Origin: %d" % st)
        ws = WS(port, origin="http://evil.example")
        if ws.open() != 403:
            p.append("WebSocket with a foreign Origin: %r" % ws.status)
        for o2 in ("null", "file://", "http://127.0.0.1:%d.evil.example" % port, "http://127.0.0.1:1"):
            st, _, _ = request(port, "GET", "/api/stats", headers={"Origin": o2})
            if st != 403:
                p.append("Origin %r: %d" % (o2, st))
        return p
    c.check(CHECKS["gate"][2], foreign_origin)

    def own_names():
        p = []
        for host in ("127.0.0.1:%d" % port, "localhost:%d" % port, "LOCALHOST:%d" % port):
            for path in ("/api/stats", "/"):
                st, _, _ = request(port, "GET", path, headers={"Host": host, "Origin": "http://" + host})
                if st != 200:
                    p.append("Host %s %s: %d" % (host, path, st))
        ws = WS(port)
        if ws.open() != 101:
            p.append("WebSocket with the own Origin: %r" % ws.status)
        ws.start()
        ws.close()
        return p
    c.check(CHECKS["gate"][3], own_names)

    def allow_host():
        d2 = Daemons("gate-allow")
        d2.start_webd("--ip-api", "off", "--history", "off", "--allow-host", "wlite.example",
                      "--allow-host", "other.example:9443")
        p2 = d2.port
        p = []
        for host, origin, want in (("wlite.example", "https://wlite.example", 200),
                                   ("wlite.example:%d" % p2, "http://wlite.example:%d" % p2, 200),
                                   ("other.example:9443", "https://other.example:9443", 200),
                                   ("other.example", None, 421),
                                   ("evil.example", None, 421),
                                   ("127.0.0.1:%d" % p2, "https://wlite.example", 200),
                                   ("127.0.0.1:%d" % p2, "https://evil.example", 403)):
            h = {"Host": host}
            if origin:
                h["Origin"] = origin
            st, _, _ = request(p2, "GET", "/api/stats", headers=h)
            if st != want:
                p.append("Host %s Origin %s: %d, expected %d" % (host, origin, st, want))
        wc.stop(d2.webd)
        return p
    c.check(CHECKS["gate"][4], allow_host)

    def head():
        p = []
        for path in ("/api/stats", "/api/packets?limit=5", "/api/export.csv", "/api/export.pcap",
                     "/api/rates.csv", "/api/dns", "/api/nosuch", "/", "/js/main.js"):
            st, h, body = raw_request(port, "HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                                      % (path, port))
            if st not in (200, 404):
                p.append("HEAD %s: %d" % (path, st))
            if body:
                p.append("HEAD %s: %d body bytes: %r" % (path, len(body), body[:60]))
            if not h.get("content-length") and not h.get("transfer-encoding"):
                p.append("HEAD %s: neither Content-Length nor Transfer-Encoding" % path)
        return p
    c.check(CHECKS["gate"][5], head)

    def only_dashboard():
        p = []
        for path in ("/", "/index.html", "/favicon.svg", "/css/app.css", "/js/main.js",
                     "/node_modules/chart.js/dist/chart.umd.js"):
            st, h, _ = request(port, "GET", path)
            if st != 200:
                p.append("%s: %d" % (path, st))
            p += header_problems(h, path)
        for path in ("/README.md", "/package.json", "/package-lock.json", "/.env", "/js/.hidden.js",
                     "/js/passwd.js", "/node_modules/chart.js/package.json", "/%2e%65nv", "/js/../README.md",
                     "/index.html/", "/web/README.md"):
            st, h, body = request(port, "GET", path)
            if st != 404:
                p.append("%s: %d %r" % (path, st, body[:60]))
            if b"root:" in body or b"SECRET" in body:
                p.append("%s: leaked %r" % (path, body[:60]))
            p += header_problems(h, path)
        return p
    c.check(CHECKS["gate"][6], only_dashboard)

    def directories():
        p = []
        for path in ("/css", "/css/", "//css", "//css/", "/js", "/node_modules", "//evil.example/"):
            st, h, body = raw_request(port, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                                      % (path, port))
            if st != 404:
                p.append("%s: %d %r" % (path, st, h.get("location")))
            if h.get("location"):
                p.append("%s: redirects to %r" % (path, h["location"]))
            p += header_problems(h, path)
        return p
    c.check(CHECKS["gate"][7], directories)
    d.stop()


def no_host_refused(port):
    st, _, _ = raw_request(port, "GET /api/stats HTTP/1.0\r\n\r\n")
    return [] if st == 421 else ["a request without Host: %d" % st]


def ws_open_with_host(ws, host):
    """Opens ws with a given Host header (the WS helper always sends 127.0.0.1)."""
    s = socket.create_connection(("127.0.0.1", ws.port), timeout=10)
    req = ("GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n"
           % (host, ws.origin))
    s.sendall(req.encode())
    st, _ = read_http_head(s)
    s.close()
    return st


# ------------------------------------------------------------------------ ws

def ws_handshake(port, key, origin=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (port, key))
    if origin:
        req += "Origin: http://127.0.0.1:%d\r\n" % port
    s.sendall((req + "\r\n").encode())
    st, _ = read_http_head(s)
    return s, st


def read_frames_until_close(s, timeout=5):
    """Returns (close code or None, frames seen as (opcode, payload))."""
    s.settimeout(timeout)
    frames = []
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 2:
                n = buf[1] & 0x7F
                off = 2
                if n == 126:
                    if len(buf) < 4:
                        break
                    n, off = struct.unpack("!H", buf[2:4])[0], 4
                elif n == 127:
                    if len(buf) < 10:
                        break
                    n, off = struct.unpack("!Q", buf[2:10])[0], 10
                if len(buf) < off + n:
                    break
                op, payload = buf[0] & 0x0F, buf[off:off + n]
                buf = buf[off + n:]
                frames.append((op, payload))
                if op == 0x8:
                    return (struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005), frames
    except OSError:
        pass
    return None, frames


def scenario_ws(c):
    d = Daemons("ws")
    max_clients = 4
    d.start_webd("--ip-api", "off", "--history", "off", "--max-clients", str(max_clients))
    d.start_capd(corpus(), "--speed", "1", "--loop")
    port = d.port

    def feed_clients():
        return get_json(port, "/api/stats")["feed"]["clients"]

    def bad_keys():
        p = []
        statuses = []
        for i in range(40):
            s, st = ws_handshake(port, "A" * 70)
            s.close()
            statuses.append(st)
        if set(statuses) != {400}:
            p.append("statuses of the 40 handshakes: %r" % sorted(set(statuses)))
        time.sleep(0.3)
        if feed_clients() != 0:
            p.append("feed clients after the failed handshakes: %d" % feed_clients())
        return p
    c.check(CHECKS["ws"][0], bad_keys)

    def still_room():
        p = []
        sse = wc.SSE(port)
        sse.start()
        if not wait_for(lambda: sse.updates, 5):
            p.append("SSE: status %r, no update" % sse.status)
        sse.close()
        ws = WS(port)
        ws.open()
        ws.start()
        if ws.status != 101 or not wait_for(lambda: ws.updates, 5):
            p.append("WebSocket: status %r, updates %d" % (ws.status, len(ws.updates)))
        ws.close()
        return p
    c.check(CHECKS["ws"][1], still_room)

    def too_big():
        p = []
        base = vm_hwm_kib(d.webd.pid)
        s, st = ws_handshake(port, "dGhlIHNhbXBsZSBub25jZQ==")
        if st != 101:
            return ["handshake: %d" % st]
        size = 2 * 1024 * 1024
        head = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", size) + b"\x01\x02\x03\x04"
        sent = 0
        try:
            s.sendall(head)
            block = b"\x55" * 65536
            while sent < size:
                s.sendall(block)
                sent += len(block)
        except OSError:
            pass  # the server closes as soon as it has read the header: that is the point
        code, _ = read_frames_until_close(s)
        s.close()
        grown = vm_hwm_kib(d.webd.pid) - base
        if code != 1009:
            p.append("close code %r (expected 1009), %d bytes sent" % (code, sent))
        if grown > 1024:
            p.append("peak RSS grew by %d KiB" % grown)
        # A declared 2 GiB frame, header only: the same answer.
        s, st = ws_handshake(port, "dGhlIHNhbXBsZSBub25jZQ==")
        s.sendall(bytes([0x81, 0xFF]) + struct.pack("!Q", 0x7FFF0000) + b"abcd" + b"x" * 4096)
        code, _ = read_frames_until_close(s)
        s.close()
        if code != 1009:
            p.append("declared 2 GiB: close code %r" % code)
        return p
    c.check(CHECKS["ws"][2], too_big)

    def control():
        p = []
        # The sessions above give their feed slot back after their socket
        # closes; with --max-clients 4 a new one could find none (1013).
        wait_for(lambda: feed_clients() == 0, 5)
        s, st = ws_handshake(port, "dGhlIHNhbXBsZSBub25jZQ==")
        s.sendall(ws_frame(0x9, b"hello"))
        s.sendall(ws_frame(0x8, struct.pack("!H", 1000) + b"bye"))
        code, frames = read_frames_until_close(s)
        s.close()
        if (0xA, b"hello") not in frames:
            p.append("no pong with the ping's payload: %r" % [f[0] for f in frames])
        if code != 1000:
            p.append("close echo: %r" % code)
        wait_for(lambda: feed_clients() == 0, 5)
        s, st = ws_handshake(port, "dGhlIHNhbXBsZSBub25jZQ==")
        s.sendall(bytes([0x81, 0x05]) + b"hello")  # unmasked: clients must mask
        code, _ = read_frames_until_close(s)
        s.close()
        if code != 1002:
            p.append("unmasked frame: close %r" % code)
        return p
    c.check(CHECKS["ws"][3], control)

    def slots_back():
        p = []
        wait_for(lambda: feed_clients() == 0, 5)
        socks = []
        for i in range(max_clients):
            s, st = ws_handshake(port, "dGhlIHNhbXBsZSBub25jZQ==")
            socks.append(s)
        full = wait_for(lambda: feed_clients() == max_clients, 5)
        s, st = ws_handshake(port, "dGhlIHNhbXBsZSBub25jZQ==")
        code, _ = read_frames_until_close(s, 5)
        s.close()
        if not full or code != 1013:
            p.append("one over max-clients: close %r (expected 1013 try later), clients %d" % (code, feed_clients()))
        socks[0].close()  # dropped without a close frame
        socks[1].sendall(ws_frame(0x8, struct.pack("!H", 1000)))
        socks[2].sendall(bytes([0x81, 0x05]) + b"hello")
        if not wait_for(lambda: feed_clients() == 1, 5):
            p.append("after 3 of %d ended: %d feed clients" % (max_clients, feed_clients()))
        for s in socks:
            s.close()
        if not wait_for(lambda: feed_clients() == 0, 5):
            p.append("after all ended: %d feed clients" % feed_clients())
        return p
    c.check(CHECKS["ws"][4], slots_back)
    d.stop()


# ----------------------------------------------------------------- slowloris

def scenario_slowloris(c):
    d = Daemons("slowloris")
    d.start_webd("--ip-api", "off", "--history", "off")
    port = d.port
    half = []
    for _ in range(60):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(("GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port).encode())
        half.append(s)
    worst = [0.0]

    def answers():
        p = []
        t_end = time.monotonic() + 6.0  # past civetweb's header deadline
        n = 0
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            try:
                st, _, _ = request(port, "GET", "/api/stats", timeout=10)
            except OSError as e:
                st = repr(e)
            dt = time.monotonic() - t0
            worst[0] = max(worst[0], dt)
            n += 1
            if st != 200:
                p.append("/api/stats: %r" % st)
            # Keep the attack going: a new stalled connection now and then.
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"GET / HTTP/1.1\r\n")
            half.append(s)
            time.sleep(0.25)
        if worst[0] > 1.0:
            p.append("slowest /api/stats of %d: %.2f s" % (n, worst[0]))
        log("slowloris: %d requests, slowest %.3f s" % (n, worst[0]))
        return p
    c.check(CHECKS["slowloris"][0], answers)

    def counted():
        s = get_json(port, "/api/stats")
        h = s.get("http", {})
        p = []
        if h.get("cut_half_open", 0) < 40:
            p.append("cut_half_open %r (expected most of the 60+ stalled ones)" % h.get("cut_half_open"))
        if d.webd.poll() is not None:
            p.append("webd exited")
        return p
    c.check(CHECKS["slowloris"][1], counted)
    for s in half:
        s.close()
    d.stop()


# ------------------------------------------------------------------- exports

def big_capture(path, n, size=1400):
    pkts = []
    payload = b"\xab" * (size - 42)
    for i in range(n):
        pkts.append((1700000000 + i * 1e-4, udp_frame("10.1.%d.%d" % (i // 250 % 250, i % 250 + 1), "10.2.0.1",
                                                       40000 + i % 1000, 9999, payload)))
    write_pcap(path, pkts)


def scenario_exports(c):
    path = os.path.join(wc.WORK, "big.pcap")
    n = 56000  # about 78 MB of records for a 64 MB ring
    big_capture(path, n)
    d = Daemons("exports")
    d.start_webd("--ip-api", "off", "--history", "off", "--ring-mb", "64", "--ring-packets", "1000000")
    port = d.port
    d.start_capd(path, "--speed", "1")  # 5.6 s: paced, so that no kernel buffer size is tested here
    st = {}

    def filled():
        s = wait_for(lambda: (lambda x: x if x["packets"] >= n else None)(get_json(port, "/api/stats")), 60, 0.5)
        st.update(s or get_json(port, "/api/stats"))
        ring = st.get("ring", {})
        p = []
        if st.get("packets") != n:
            p.append("packets %r of %d" % (st.get("packets"), n))
        if ring.get("bytes", 0) < 60 * 1024 * 1024:
            p.append("ring holds %r" % ring)
        return p
    c.check(CHECKS["exports"][0], filled)

    def stalled():
        base = vm_hwm_kib(d.webd.pid)
        socks = []
        for i in range(8):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", port))
            s.sendall(("GET /api/export.%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                       % ("pcap" if i % 2 else "csv", port)).encode())
            socks.append(s)
        time.sleep(4)
        grown = vm_hwm_kib(d.webd.pid) - base
        log("exports: peak RSS %d KiB before, +%d KiB with 8 stalled exports" % (base, grown))
        t0 = time.monotonic()
        get_json(port, "/api/stats")
        slow = time.monotonic() - t0
        for s in socks:
            s.close()
        p = []
        if grown > 48 * 1024:
            p.append("peak RSS grew by %d KiB with 8 stalled exports" % grown)
        if slow > 1.0:
            p.append("/api/stats took %.1f s meanwhile" % slow)
        return p
    c.check(CHECKS["exports"][1], stalled)

    def whole():
        s, hdrs, body = request(port, "GET", "/api/export.pcap", timeout=60)
        p = []
        if s != 200:
            return ["status %d" % s]
        count, last_seq, off = 0, -1, 24
        ordered = True
        while off + 16 <= len(body):
            incl = struct.unpack("<I", body[off + 8:off + 12])[0]
            frame = body[off + 16:off + 16 + incl]
            src_last = frame[26:30]
            seq = (src_last[2] * 250 + src_last[3] - 1)
            if seq < last_seq and not (last_seq >= 62000 and seq < 100):
                ordered = False
            last_seq = seq
            count += 1
            off += 16 + incl
        ring = get_json(port, "/api/stats")["ring"]
        if count != ring["packets"]:
            p.append("%d packets in the export, the ring holds %r" % (count, ring))
        if off != len(body):
            p.append("trailing bytes: %d of %d" % (len(body) - off, len(body)))
        if not ordered:
            p.append("packets out of order")
        return p
    c.check(CHECKS["exports"][2], whole)
    d.stop()


# --------------------------------------------------------------------- token

def scenario_secrets(c):
    token = "t0k3n-" + os.urandom(8).hex()
    tf = os.path.join(wc.WORK, "webd-token.txt")
    with open(tf, "w") as f:
        f.write(token + "\n")
    os.chown(tf, __import__("pwd").getpwnam("wlite").pw_uid, -1)
    os.chmod(tf, 0o600)
    d = Daemons("token-file")
    d.start_webd("--ip-api", "off", "--history", "off", "--token-file", tf, wait=False)
    port = d.port
    up = wait_for(lambda: request(port, "GET", "/api/stats", headers={"Authorization": "Bearer " + token},
                                  timeout=2)[0] == 200, 15)

    def token_file():
        p = []
        if not up:
            return ["webd did not answer with the token from the file: " + d.tail("webd.log")]
        if request(port, "GET", "/api/stats")[0] != 401:
            p.append("no token: not 401")
        with open("/proc/%d/cmdline" % d.webd.pid, "rb") as f:
            if token.encode() in f.read():
                p.append("the token is in /proc/PID/cmdline")
        for child in os.listdir("/proc"):
            if child.isdigit():
                try:
                    with open("/proc/%s/cmdline" % child, "rb") as f:
                        if token.encode() in f.read():
                            p.append("the token is in /proc/%s/cmdline" % child)
                except OSError:
                    pass
        return p
    c.check(CHECKS["secrets"][0], token_file)

    def world_readable():
        os.chmod(tf, 0o644)
        rc, err = run_briefly(["--token-file", tf])
        os.chmod(tf, 0o600)
        p = []
        if rc == 0 or rc is None:
            p.append("webd started with a world-readable token file (rc %r)" % rc)
        if "token-file" not in err or "every user" not in err:
            p.append("message: %r" % err[-300:])
        return p
    c.check(CHECKS["secrets"][1], world_readable)

    def nul_token():
        p = []
        for q in ("?token=%s%%00junk" % token, "?token=%s%%00" % token):
            st, _, _ = request(port, "GET", "/api/stats" + q)
            if st == 200:
                p.append("%s was accepted" % q)
            elif st not in (400, 401):
                p.append("%s: %d" % (q, st))
        if request(port, "GET", "/api/stats?token=" + token)[0] != 200:
            p.append("the plain token is no longer accepted")
        return p
    c.check(CHECKS["secrets"][2], nul_token)
    d.stop()

    def argv_warning():
        rc, err = run_briefly(["--token", "abc"], seconds=1.5)
        return [] if re.search(r"--token.*(ps|command line)", err) else ["no warning: %r" % err[-300:]]
    c.check(CHECKS["secrets"][3], argv_warning)


def run_briefly(extra, seconds=3.0):
    """Starts webd with extra flags for a moment; (exit status or None if still running, its stderr)."""
    d = Daemons("brief")
    d.start_webd("--ip-api", "off", "--history", "off", *extra, wait=False)
    try:
        d.webd.wait(seconds)
    except Exception:  # noqa: BLE001 - still running
        pass
    rc = d.webd.poll()
    wc.stop(d.webd)
    return rc, d.tail("webd.log", 20)


SCENARIOS = {"gate": scenario_gate, "ws": scenario_ws, "slowloris": scenario_slowloris,
             "exports": scenario_exports, "secrets": scenario_secrets}


def main():
    return wc.run_scenarios(sys.argv[1:], CHECKS, SCENARIOS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
