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

Usage: webd_robust.py [--count] SCENARIO
Scenarios: time
Environment: as webd_checks.py (WLW_WORK, WLW_WEBD, WLW_CAPD, ...).
Standard library only.
"""

import json
import os
import signal
import socket
import struct
import sys
import time
import traceback

import webd_checks as wc
from webd_checks import Daemons, get_json, log, request, udp_frame, wait_for

CHECKS = {
    "time": [
        "time: webd and capd start, the absurd pcapng is replayed",
        "time: impossible timestamps are counted (sensors[0].bad_timestamps) and dropped, the others kept",
        "time: /api/rates.csv is one hour of lines, near the capture's own time",
        "time: no worker spins after a /api/rates.csv client leaves",
        "time: /api/packets, /api/export.csv and the history answer, with possible times only",
    ],
}

T0 = 1700000000
INT64_MAX = (1 << 63) - 1



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
# past year 9999, and 2^63, which libpcap hands over as a negative time_t.
ABSURD = [INT64_MAX - 1, 1 << 62, 10 ** 12, 1 << 63, INT64_MAX]
GOOD = [T0, T0 + 1, T0 + 2, T0 + 3]


def time_capture(path):
    """Good and absurd times interleaved; the last packet is absurd (the clock's worst case)."""
    order = [GOOD[0], GOOD[1], ABSURD[0], GOOD[2], ABSURD[1], ABSURD[2], GOOD[3], ABSURD[3], ABSURD[4]]
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
        if stats["packets"] != len(GOOD):
            p.append("packets = %r, expected the %d with possible times" % (stats["packets"], len(GOOD)))
        if s0["packets"] != total or s0["gaps"] != 0:
            p.append("sensors[0]: packets %r (received, expected %d), gaps %r" % (s0["packets"], total, s0["gaps"]))
        return p
    c.check("time: impossible timestamps are counted (sensors[0].bad_timestamps) and dropped, the others kept",
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
        hr = wait_for(lambda: get_json(port, "/api/history/packets?limit=100"), 10)
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


SCENARIOS = {"time": scenario_time}


def main():
    """[--count] SCENARIO (or --count all), as webd_checks.py's main."""
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--count":
        names = list(CHECKS) if args[1] == "all" else [args[1]]
        print(sum(len(CHECKS[x]) for x in names))
        return 0
    if len(args) != 1 or args[0] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    name = args[0]
    signal.signal(signal.SIGTERM, wc.on_term)
    c = wc.Checks(CHECKS[name])
    reason = "the scenario ended early"
    try:
        SCENARIOS[name](c)
    except BaseException as e:  # noqa: BLE001 - report, then clean up
        reason = "%s: %r" % (name, e)
        log(traceback.format_exc())
    finally:
        try:
            wc.stop_all()
        finally:
            c.finish(reason)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
