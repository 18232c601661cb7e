#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/integration/webd_robust.py: wlite-webd against misbehaving input.

Driven by tests/integration/webd_robust.sh (TAP numbering, time limits,
last-resort clean-up), like webd_checks.py, whose helpers it uses. Each
scenario starts its own wlite-capd (--read replays only) and wlite-webd (as
the wlite user, on a free 127.0.0.1 port).

  time     a pcapng with if_tsresol=0 whose timestamps are absurd (seconds
           near INT64_MAX, past year 9999, before 1970): webd counts and
           drops them (sensors[].bad_timestamps), /api/rates.csv stays one
           hour of lines, and no worker spins after its client has gone
  rcvmax   more sensors that are fake tcp:// publishers on 127.0.0.1 (raw
           SP protocol): a message of exactly WL_WIRE_MESSAGE_MAX is read
           (and counted as a bad batch); one byte more, or a 4 TiB
           announcement, is never read nor allocated; webd keeps serving
           and the good sensor's packets all arrive
  buffers  /api/stats shows the receive buffer webd asked for and the one
           the kernel gave (net.core.rmem_max), and webd warns exactly when
           it got less
  status   bad requests to every kind of handler get the status they
           should, and each handler returns the status it sent (civetweb
           keeps it; webd --verbose logs it per request)

Usage: webd_robust.py [--count] SCENARIO
Scenarios: time rcvmax buffers status
Environment: as webd_checks.py (WLW_WORK, WLW_WEBD, WLW_CAPD, ...).
Standard library only.
"""

import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback

import webd_checks as wc
from webd_checks import Daemons, get_json, log, request, udp_frame, wait_for, write_pcap

CHECKS = {
    "time": [
        "time: webd and capd start, the absurd pcapng is replayed",
        "time: impossible timestamps are counted (sensors[0].bad_timestamps, bad_flow_timestamps) and dropped,"
        " the others kept",
        "time: /api/rates.csv is one hour of lines, near the capture's own time",
        "time: no worker spins after a /api/rates.csv client leaves",
        "time: /api/packets, /api/export.csv and the history answer, with possible times only",
    ],
    "rcvmax": [
        "rcvmax: webd subscribes to a good capd and to fake tcp:// publishers",
        "rcvmax: a message of exactly WL_WIRE_MESSAGE_MAX is read (a bad batch), the connection kept",
        "rcvmax: a 4 TiB announcement is never read and allocates nothing, webd keeps serving",
        "rcvmax: /api/stats answered within a second throughout",
        "rcvmax: the good sensor's packets all arrived, no gaps",
        "rcvmax: one byte more is never read, webd keeps serving",
    ],
    "buffers": [
        "buffers: /api/stats shows the receive buffer asked for and the one the kernel gave",
        "buffers: webd warns, naming net.core.rmem_max, exactly when it got less than it asked",
    ],
    "status": [
        "status: bad requests to the API, exports, history and files get the status they should",
        "status: every handler returns the status it sent (logged with --verbose)",
    ],
}

T0 = 1700000000
INT64_MAX = (1 << 63) - 1

# Must match common/wlite-wire.h: topic room + batch header + batch bytes + one
# record of the largest snap length (caplen + the summary room).
WL_WIRE_MESSAGE_MAX = 8 + 16 + 512 * 1024 + 262144 + 24 * 1024


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------- scenario: time


def pcapng(path, packets):
    """Ethernet pcapng, one interface with if_tsresol=0 (whole seconds): (seconds, frame)."""
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    tsresol = struct.pack("<HHB", 9, 1, 0) + b"\0" * 3  # if_tsresol = 10^-0
    out += block(1, struct.pack("<HHI", 1, 0, 65535) + tsresol + struct.pack("<HH", 0, 0))
    for sec, frame in packets:
        out += block(6, struct.pack("<IIIII", 0, sec >> 32, sec & 0xFFFFFFFF, len(frame), len(frame)) + frame)
    with open(path, "wb") as f:
        f.write(out)
    os.chmod(path, 0o644)


# (seconds in the file, what capd makes of them): seconds near INT64_MAX,
# past year 9999, and 2^63, which libpcap hands over as a negative time_t;
# and the year 3000, possible as a number but not for a capture made today
# (the history would prune everything older than it).
ABSURD = [INT64_MAX - 1, 1 << 62, 10 ** 12, 1 << 63, INT64_MAX, 32503680000]
GOOD = [T0, T0 + 1, T0 + 2, T0 + 3]


def time_capture(path):
    """Good and absurd times interleaved; the last packet is absurd (the clock's worst case)."""
    order = [GOOD[0], GOOD[1], ABSURD[0], GOOD[2], ABSURD[5], ABSURD[1], ABSURD[2], GOOD[3], ABSURD[3], ABSURD[4]]
    pkts = [(sec, udp_frame("10.30.0.%d" % (i + 1), "10.30.0.200", 4000 + i, 53, b"t" * 20))
            for i, sec in enumerate(order)]
    pcapng(path, pkts)
    return len(order)


def read_capped(port, path, limit, timeout):
    """GET path on a raw socket, reading at most limit bytes: (bytes, complete?, seconds)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.monotonic()
    data = b""
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % (path.encode(), port))
        while len(data) < limit and time.monotonic() - t0 < timeout:
            chunk = s.recv(65536)
            if not chunk:
                return data, True, time.monotonic() - t0
            data += chunk
            if data.endswith(b"\r\n0\r\n\r\n"):
                return data, True, time.monotonic() - t0
    except socket.timeout:
        pass
    finally:
        s.close()
    return data, False, time.monotonic() - t0


def dechunk(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        n = int(size_line.split(b";")[0], 16)
        if n == 0:
            break
        out += rest[:n]
        body = rest[n + 2:]
    return head, out


def scenario_time(c):
    path = os.path.join(wc.WORK, "absurd-times.pcapng")
    total = time_capture(path)
    d = Daemons("time")
    hist = os.path.join(d.dir, "history.db")
    d.start_webd("--ip-api", "off", "--history", hist)
    port = d.port
    d.start_capd(path, "--speed", "max")
    stats = wait_for(lambda: (lambda s: s if (s["sensors"][0].get("capd_status") or {}).get("finished")
                              and s["sensors"][0]["packets"] >= total else None)(get_json(port, "/api/stats")),
                     15)
    c.report("time: webd and capd start, the absurd pcapng is replayed", bool(stats),
             "sensors[0].packets never reached %d: %s" % (total, d.tail("webd.log")))
    stats = stats or get_json(port, "/api/stats")
    s0 = stats["sensors"][0]

    def counted():
        p = []
        if s0.get("bad_timestamps") != len(ABSURD):
            p.append("sensors[0].bad_timestamps = %r, expected %d" % (s0.get("bad_timestamps"), len(ABSURD)))
        if s0.get("bad_flow_timestamps") != len(ABSURD):
            p.append("sensors[0].bad_flow_timestamps = %r, expected %d (one flow per absurd packet)"
                     % (s0.get("bad_flow_timestamps"), len(ABSURD)))
        if stats["packets"] != len(GOOD):
            p.append("packets = %r, expected the %d with possible times" % (stats["packets"], len(GOOD)))
        if s0["packets"] != total or s0["gaps"] != 0:
            p.append("sensors[0]: packets %r (received, expected %d), gaps %r" % (s0["packets"], total, s0["gaps"]))
        return p
    c.check("time: impossible timestamps are counted (sensors[0].bad_timestamps, bad_flow_timestamps) and dropped,"
            " the others kept",
            counted)

    def rates():
        raw, complete, took = read_capped(port, "/api/rates.csv", 4 << 20, 10)
        if not complete:
            return ["/api/rates.csv: %d bytes in %.1f s and still going" % (len(raw), took)]
        _, body = dechunk(raw)
        lines = body.decode().splitlines()
        p = []
        if len(lines) != 3601 or lines[0] != "second,packets,bytes":
            p.append("%d lines (expected a header and 3600 seconds): %r" % (len(lines), lines[:2]))
        secs = [int(line.split(",")[0]) for line in lines[1:]]
        if secs and not (T0 <= secs[-1] <= T0 + 3 + 60):
            p.append("the last second is %d, not near the capture's %d..%d" % (secs[-1], T0, T0 + 3))
        if sum(int(line.split(",")[1]) for line in lines[1:]) != len(GOOD):
            p.append("the seconds count %d packets, expected %d" %
                     (sum(int(line.split(",")[1]) for line in lines[1:]), len(GOOD)))
        return p
    c.check("time: /api/rates.csv is one hour of lines, near the capture's own time", rates)

    def no_spin():
        # A client that reads a little and goes away; then webd should be idle.
        read_capped(port, "/api/rates.csv", 2048, 3)
        time.sleep(0.5)
        before = cpu_seconds(d.webd.pid)
        time.sleep(3)
        used = cpu_seconds(d.webd.pid) - before
        return ["webd used %.2f s of CPU in 3 s after the client left" % used] if used > 0.5 else []
    c.check("time: no worker spins after a /api/rates.csv client leaves", no_spin)

    def others():
        p = []
        rows = get_json(port, "/api/packets?limit=100")["packets"]
        bad = [r["ts"] for r in rows if not (T0 <= r["ts"] < T0 + 4)]
        if len(rows) != len(GOOD) or bad:
            p.append("/api/packets: %d rows, times outside the capture's: %r" % (len(rows), bad))
        st, _, body = request(port, "GET", "/api/export.csv", timeout=10)
        if st != 200 or len(body.splitlines()) != len(GOOD) + 1:
            p.append("/api/export.csv: status %d, %d lines" % (st, len(body.splitlines())))
        hr = wait_for(lambda: (lambda h: h if h.get("packets") else None)(get_json(port, "/api/history/packets?limit=100")), 10) or get_json(port, "/api/history/packets?limit=100")
        if not hr or len(hr.get("packets", [])) != len(GOOD):
            p.append("/api/history/packets: %r" % (json.dumps(hr)[:300],))
        st, _, body = request(port, "GET", "/api/history/rates?step=60", timeout=10)
        if st != 200:
            p.append("/api/history/rates: status %d %r" % (st, body[:200]))
        if d.webd.poll() is not None:
            p.append("webd exited (%r): %s" % (d.webd.returncode, d.tail("webd.log")))
        return p
    c.check("time: /api/packets, /api/export.csv and the history answer, with possible times only", others)
    d.stop()


# ----------------------------------------------------------- scenario: rcvmax

NN_PUB, NN_SUB = 0x20, 0x21


class FakePublisher(threading.Thread):
    """A tcp:// NN_PUB peer that sends whatever the scenario tells it to.

    Each accepted connection is handshaken (SP header both ways) and kept in
    self.conns; events are (time, text) in self.events.
    """

    def __init__(self):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.conns = []
        self.events = []
        self.stopping = False
        self.lock = threading.Lock()

    def run(self):
        self.srv.settimeout(0.2)
        while not self.stopping:
            try:
                s, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                s.settimeout(5)
                s.sendall(b"\0SP\0" + struct.pack(">HH", NN_PUB, 0))
                peer = wc.recv_exact(s, 8)
                ok = peer[:4] == b"\0SP\0" and struct.unpack(">H", peer[4:6])[0] == NN_SUB
            except OSError as e:
                self.events.append((time.monotonic(), "handshake failed: %r" % (e,)))
                s.close()
                continue
            with self.lock:
                self.conns.append(s)
            self.events.append((time.monotonic(), "connection %d%s" % (len(self.conns), "" if ok else " (bad peer)")))

    def wait_conns(self, n, timeout):
        return wait_for(lambda: len(self.conns) >= n, timeout)

    @staticmethod
    def send_message(s, announced, body):
        """A message header announcing `announced` bytes, then body (may be shorter).

        False if the header could not be sent (s was closed already); the body
        may be cut short by webd closing s once it has read the header.
        """
        try:
            s.sendall(struct.pack(">Q", announced))
        except OSError:
            return False
        try:
            s.sendall(body)
        except OSError:
            pass
        return True

    @staticmethod
    def closed_by_peer(s, within):
        """True once the peer closes s (reads until EOF or reset), False after `within` s."""
        deadline = time.monotonic() + within
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                if not s.recv(65536):
                    return True
            except socket.timeout:
                continue
            except OSError:
                return True
        return False

    def stop(self):
        self.stopping = True
        self.srv.close()
        for s in self.conns:
            s.close()


def rcvmax_capture(path):
    """2000 UDP packets over 8 s: the good sensor's traffic goes on while the fake misbehaves."""
    pkts = [(T0 + i * 0.004, udp_frame("10.31.0.1", "10.31.0.2", 1000, 2000 + i % 100, b"g" * 40))
            for i in range(2000)]
    write_pcap(path, pkts)
    return len(pkts)


class StatsWatch(threading.Thread):
    """Asks /api/stats every 0.2 s; keeps the slowest answer and any failure."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.slowest = 0.0
        self.failures = []
        self.last = None
        self.stopping = False

    def run(self):
        while not self.stopping:
            t = time.monotonic()
            try:
                st, _, body = request(self.port, "GET", "/api/stats", timeout=3, json_end=True)
                if st == 200:
                    self.last = json.loads(body)
                else:
                    self.failures.append("status %d" % st)
            except (OSError, ValueError, wc.http.client.HTTPException) as e:
                self.failures.append(repr(e))
            self.slowest = max(self.slowest, time.monotonic() - t)
            time.sleep(0.2)


def sensor(stats, name):
    return next((x for x in stats["sensors"] if x["name"] == name), None)


def settled(f, announced, body):
    """Sends the message on f's newest connection once it has stayed open a while; (socket, count) or None.

    nanomsg sometimes closes its first connection to a tcp:// peer right after
    the SP header and connects again (100 ms later): that one stays.
    """
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        n = len(f.conns)
        time.sleep(0.5)
        if len(f.conns) != n:
            continue
        if FakePublisher.send_message(f.conns[-1], announced, body):
            return f.conns[-1], n
        f.wait_conns(n + 1, 2)
    return None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def refused(d, f, name, announced, body):
    """A message announcing `announced` bytes: never read, nothing allocated for it, webd serving.

    nanomsg then drops the connection and connects again (usually at once;
    the drop itself is nanomsg's business, so it is logged, not required).
    """
    before = rss_kib(d.webd.pid)
    sent = settled(f, announced, body)
    if not sent:
        return ["no connection from webd stayed open to take the message"]
    s, n = sent
    log("%s: connection %s by webd after the announcement" %
        (name, "closed" if FakePublisher.closed_by_peer(s, 3) else "not closed"))
    p = []
    st = get_json(d.port, "/api/stats")
    if sensor(st, name)["bad_batches"]:
        p.append("bad_batches = %d: the oversized message was read" % sensor(st, name)["bad_batches"])
    grown = rss_kib(d.webd.pid) - before
    if grown > 64 * 1024:
        p.append("webd's RSS grew by %d MiB" % (grown // 1024))
    if d.webd.poll() is not None:
        p.append("webd exited with status %r: %s" % (d.webd.returncode, d.tail("webd.log")))
    return p


def scenario_rcvmax(c):
    """Fake publishers, each misbehaving once.

    After nanomsg (1.1.5) drops a connection for an oversized message, it
    sometimes drops its reconnections at once, again and again, to that peer
    and now and then to another tcp:// peer of the same process (seen with
    and without sanitizers; strace shows them closed right after the SP
    header). So each drop gets a webd of its own, and no fake is used twice.
    """
    path = os.path.join(wc.WORK, "rcvmax.pcap")
    count = rcvmax_capture(path)
    fakes = {name: FakePublisher() for name in ("exact", "huge")}
    extra = []
    for name, f in fakes.items():
        f.start()
        extra += ["--capd", "%s=tcp://127.0.0.1:%d" % (name, f.port)]
    d = Daemons("rcvmax")
    d.start_webd("--ip-api", "off", "--history", "off", *extra)
    port = d.port
    watch = StatsWatch(port)
    watch.start()
    up = all(f.wait_conns(1, 10) for f in fakes.values())
    c.report("rcvmax: webd subscribes to a good capd and to fake tcp:// publishers", up,
             "webd did not connect to every fake publisher: %s" % d.tail("webd.log"))
    if not up:
        return
    d.start_capd(path, "--speed", "1")
    time.sleep(1.0)

    def exact():
        body = b"pkt\0" + b"\x57\x4c" + b"\0" * (WL_WIRE_MESSAGE_MAX - 6)
        sent = settled(fakes["exact"], len(body), body)
        if not sent:
            return ["no connection from webd stayed open to take the message"]
        s = sent[0]
        got = wait_for(lambda: sensor(get_json(port, "/api/stats"), "exact")["bad_batches"] >= 1, 10)
        p = [] if got else ["sensors[exact].bad_batches never reached 1"]
        if FakePublisher.closed_by_peer(s, 1.0):
            p.append("webd dropped the connection after a message of exactly %d bytes" % WL_WIRE_MESSAGE_MAX)
        return p
    c.check("rcvmax: a message of exactly WL_WIRE_MESSAGE_MAX is read (a bad batch), the connection kept", exact)
    # Announce 4 TiB and send the start of it: nanomsg must not try to allocate it.
    c.check("rcvmax: a 4 TiB announcement is never read and allocates nothing, webd keeps serving",
            lambda: refused(d, fakes["huge"], "huge", 4 << 40, b"pkt\0" + b"\0" * (1 << 20)))

    final = wait_for(lambda: (lambda s: s if (sensor(s, "capd").get("capd_status") or {}).get("finished")
                              and sensor(s, "capd")["packets"] >= count else None)(get_json(port, "/api/stats")),
                     20)
    watch.stopping = True
    watch.join(5)

    def answered():
        p = ["slowest answer %.2f s" % watch.slowest] if watch.slowest > 1.0 else []
        if watch.failures:
            p.append("%d failed: %r" % (len(watch.failures), watch.failures[:5]))
        return p
    c.check("rcvmax: /api/stats answered within a second throughout", answered)

    def good():
        g = sensor(final or get_json(port, "/api/stats"), "capd")
        if g["packets"] != count or g["gaps"] != 0 or g["missed"] != 0:
            return ["good sensor: packets %d of %d, gaps %d, missed %d" % (g["packets"], count, g["gaps"], g["missed"])]
        return []
    c.check("rcvmax: the good sensor's packets all arrived, no gaps", good)
    d.stop()

    over = FakePublisher()
    over.start()
    fakes["over"] = over
    d2 = Daemons("rcvmax-over")
    d2.start_webd("--ip-api", "off", "--history", "off", "--capd", "over=tcp://127.0.0.1:%d" % over.port)
    body = b"pkt\0" + b"\0" * (WL_WIRE_MESSAGE_MAX - 3)
    c.check("rcvmax: one byte more is never read, webd keeps serving",
            lambda: refused(d2, over, "over", len(body), body) if over.wait_conns(1, 10)
            else ["webd never connected to the fake publisher"])
    d2.stop()
    for name, f in fakes.items():
        log("fake publisher %s: %d connections" % (name, len(f.conns)))
        f.stop()


# ---------------------------------------------------------- scenario: buffers

RCVBUF_ASKED = 32 * 1024 * 1024  # webd/live/ingest.c


def scenario_buffers(c):
    with open("/proc/sys/net/core/rmem_max") as f:
        rmem_max = int(f.read())
    d = Daemons("buffers")
    d.start_webd("--ip-api", "off", "--history", "off")
    s0 = get_json(d.port, "/api/stats")["sensors"][0]
    want_got = min(RCVBUF_ASKED, rmem_max)

    def shown():
        p = []
        if s0.get("rcvbuf_asked") != RCVBUF_ASKED:
            p.append("rcvbuf_asked = %r, expected %d" % (s0.get("rcvbuf_asked"), RCVBUF_ASKED))
        if s0.get("rcvbuf") != want_got:
            p.append("rcvbuf = %r, expected %d (net.core.rmem_max is %d)" % (s0.get("rcvbuf"), want_got, rmem_max))
        return p
    c.check("buffers: /api/stats shows the receive buffer asked for and the one the kernel gave", shown)

    def warned():
        time.sleep(0.5)
        lines = [x for x in d.tail("webd.log", 200).splitlines() if "net.core.rmem_max" in x]
        if rmem_max < RCVBUF_ASKED:
            return [] if len(lines) == 1 else ["net.core.rmem_max is %d: expected one warning naming it, got %r" %
                                               (rmem_max, lines)]
        return ["net.core.rmem_max is %d, enough: expected no warning, got %r" % (rmem_max, lines)] if lines else []
    c.check("buffers: webd warns, naming net.core.rmem_max, exactly when it got less than it asked", warned)
    d.stop()


# ----------------------------------------------------------- scenario: status

# (method, path, body, the status it must get): a path of each handler,
# mostly refused, since the refusals are where a handler could return one
# status after sending another.
STATUS_REQUESTS = [
    ("GET", "/api/stats", None, 200),
    ("GET", "/api/packets?proto=NOPE", None, 400),
    ("GET", "/api/packets?limit=0", None, 400),
    ("GET", "/api/packets?limit=5", None, 200),
    ("GET", "/api/packets?q=" + "a" * 3000, None, 414),
    ("GET", "/api/packet/abc", None, 400),
    ("GET", "/api/packet/123456", None, 404),
    ("GET", "/api/dns?limit=0", None, 400),
    ("GET", "/api/hosts?limit=x", None, 400),
    ("GET", "/api/names?limit=5", None, 200),
    ("GET", "/api/alerts", None, 200),
    ("GET", "/api/export.csv?proto=NOPE", None, 400),
    ("GET", "/api/export.pcap?limit=0", None, 400),
    ("GET", "/api/rates.csv", None, 200),
    ("GET", "/api/history/packets?from=abc", None, 400),
    ("GET", "/api/history/packets?ip=nope", None, 400),
    ("GET", "/api/history/dns?cursor=x", None, 400),
    ("GET", "/api/history/rates?step=0", None, 400),
    ("GET", "/api/history/rates?from=10&to=5", None, 400),
    ("GET", "/api/history/packets?limit=5", None, 200),
    ("GET", "/api/history/nope", None, 404),
    ("GET", "/api/nope", None, 404),
    ("PUT", "/api/stats", None, 405),
    ("GET", "/api/capture", None, 405),
    ("POST", "/api/capture", b"{}", 400),
    ("GET", "/no-such-file.txt", None, 404),
]
STATUS_LINE = re.compile(r"http (\d+): (\S+) (\S+)\s*$", re.M)


def scenario_status(c):
    d = Daemons("status")
    d.start_webd("--ip-api", "off", "--history", os.path.join(d.dir, "history.db"), "--verbose")
    answered = []  # (method, path, want, got, the log's line)

    def logged():
        return STATUS_LINE.findall(d.tail("webd.log", 1 << 20))

    for method, path, body, want in STATUS_REQUESTS:
        before = len(logged())
        st, _, _ = request(d.port, method, path, body=body,
                           headers={"Content-Type": "application/json"} if body else None)
        line = wait_for(lambda: logged()[before:], 3)
        answered.append((method, path, want, st, line[0] if line else None))

    def right_status():
        return ["%s %s: answered %d, expected %d" % (m, p[:60], got, want)
                for m, p, want, got, _ in answered if got != want]
    c.check("status: bad requests to the API, exports, history and files get the status they should", right_status)

    def returned_as_sent():
        p = []
        for m, path, _, got, line in answered:
            if not line:
                p.append("%s %s: no log line (answered %d)" % (m, path[:60], got))
            elif (line[1], line[2]) != (m, path.split("?")[0]):
                p.append("%s %s: the log line is for %s %s" % (m, path[:60], line[1], line[2]))
            elif int(line[0]) != got:
                p.append("%s %s: sent %d, the handler returned %s" % (m, path[:60], got, line[0]))
        return p
    c.check("status: every handler returns the status it sent (logged with --verbose)", returned_as_sent)
    d.stop()


SCENARIOS = {"time": scenario_time, "rcvmax": scenario_rcvmax, "buffers": scenario_buffers,
             "status": scenario_status}


def main():
    return wc.run_scenarios(sys.argv[1:], CHECKS, SCENARIOS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
