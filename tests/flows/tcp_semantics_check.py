#!/usr/bin/env python3
"""tcp_semantics_check: the TCP-analysis rules documented at the top of
flow_oracle.py, checked against the installed tshark on hand-made captures.

Python 3 standard library only.  Prints TAP; exit 0 when tshark behaves as
documented.  The scenarios double as test vectors for wlite's flow engine
(each frame: direction, seq, ack, flags, window, payload length, time, and
the tcp.analysis flags tshark 4.0.17 sets on it).
"""

import os
import struct
import subprocess
import sys
import tempfile

T0 = 1000.0
CLIENT = ("10.0.0.1", 40000)
SERVER = ("10.0.0.2", 80)
FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}
# What is asked of tshark per frame, and the short names used below.
ASKED = (("tcp.analysis.retransmission", "RT"), ("tcp.analysis.fast_retransmission", "FAST"),
         ("tcp.analysis.spurious_retransmission", "SPUR"), ("tcp.analysis.out_of_order", "OOO"),
         ("tcp.analysis.duplicate_ack", "DUP"), ("tcp.analysis.zero_window", "ZW"),
         ("tcp.analysis.keep_alive", "KA"), ("tcp.analysis.zero_window_probe", "ZWP"),
         ("tcp.analysis.lost_segment", "LOST"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def segment(to_server, seq, ack, flags, window, length):
    (src, sport), (dst, dport) = (CLIENT, SERVER) if to_server else (SERVER, CLIENT)
    bits = sum(FLAG_BITS[c] for c in flags)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, bits, window, 0, 0) + b"x" * length
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp


def write_pcap(path, frames):
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for when, data in frames:
            sec = int(when)
            usec = int(round((when - sec) * 1e6))
            fh.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)


def c2s(t, seq, ack, flags, length=0, window=1000):
    return (t, True, seq, ack, flags, window, length)


def s2c(t, seq, ack, flags, length=0, window=1000):
    return (t, False, seq, ack, flags, window, length)


# (name, frames, {frame number: set of flags expected}, {frame number: iRTT in ms})
# Frames not listed in the expectations must carry none of the ASKED flags.
SCENARIOS = (
    ("SYN sent again, RTO retransmission, FIN sent again; iRTT from the LAST SYN",
     (c2s(0.000, 100, 0, "S"), c2s(1.000, 100, 0, "S"), s2c(1.010, 500, 101, "SA"),
      c2s(1.030, 101, 501, "A"), c2s(1.040, 101, 501, "PA", 100),
      c2s(1.500, 101, 501, "PA", 100), s2c(1.510, 501, 201, "A"),
      c2s(1.520, 201, 501, "FA"), c2s(1.900, 201, 501, "FA"), s2c(1.910, 501, 202, "FA"),
      c2s(1.920, 202, 502, "A")),
     {2: {"RT"}, 6: {"RT"}, 9: {"RT"}}, {4: 30.0}),
    ("spurious is checked before out-of-order; a hole filled within 3 ms is out-of-order",
     (c2s(0.1000, 1, 1, "A", 100), c2s(0.1001, 101, 1, "A", 100), s2c(0.1010, 1, 201, "A"),
      c2s(0.1020, 1, 1, "A", 100), c2s(0.1025, 301, 1, "A", 100),
      c2s(0.1030, 201, 1, "A", 100), c2s(0.2000, 201, 1, "A", 100)),
     {4: {"RT", "SPUR"}, 5: {"LOST"}, 6: {"OOO"}, 7: {"RT"}}, {}),
    ("keep-alives, zero window, zero-window probe, dup ACKs, fast retransmission",
     (c2s(0.0, 1, 1, "A", 100), s2c(0.01, 1, 101, "A"), c2s(5.0, 100, 1, "A", 0),
      s2c(5.01, 1, 101, "A"), c2s(9.0, 100, 1, "A", 1), s2c(9.01, 1, 101, "A", 0, 0),
      c2s(9.5, 101, 1, "A", 1), s2c(9.51, 1, 101, "A", 0, 0), s2c(10.0, 1, 101, "A"),
      c2s(10.1, 101, 1, "A", 100), c2s(10.11, 201, 1, "A", 100),
      c2s(10.12, 301, 1, "A", 100), s2c(10.13, 1, 201, "A"), s2c(10.14, 1, 201, "A"),
      s2c(10.15, 1, 201, "A"), c2s(10.155, 201, 1, "A", 100),
      s2c(10.16, 1, 201, "A", 0, 999), s2c(10.17, 1, 201, "RA", 0, 999)),
     {3: {"KA"}, 5: {"KA"}, 6: {"ZW"}, 7: {"ZWP"}, 8: {"ZW"}, 14: {"DUP"}, 15: {"DUP"},
      16: {"RT", "FAST"}}, {}),
    ("a FIN sent again 1 ms later is a retransmission (+1 for FIN), old data 2 ms "
     "later is out-of-order",
     (c2s(0.0, 1, 1, "A", 100), c2s(0.010, 101, 1, "FA"), c2s(0.011, 101, 1, "FA"),
      c2s(0.012, 1, 1, "A", 100)),
     {3: {"RT"}, 4: {"OOO"}}, {}),
    ("the server's pure ACK before the client's sets the iRTT",
     (c2s(0.0, 100, 0, "S"), s2c(0.010, 500, 101, "SA"), s2c(0.015, 501, 101, "A"),
      c2s(0.020, 101, 501, "A")),
     {3: {"DUP"}}, {3: 15.0}),
    ("no SYN/ACK captured: the first ACK (with data) still sets the iRTT",
     (c2s(0.0, 100, 0, "S"), c2s(0.025, 101, 501, "PA", 10), s2c(0.030, 501, 111, "A")),
     {}, {2: 25.0}),
    ("an ACK with the SYN's timestamp gives 0 = unset; the next one sets it",
     (c2s(0.0, 100, 0, "S"), s2c(0.0, 500, 101, "SA"), c2s(0.0, 101, 501, "A"),
      c2s(0.040, 101, 501, "PA", 10), s2c(0.050, 501, 111, "A")),
     {}, {4: 40.0}),
    ("SYN/ACK sent again is a retransmission; a new SYN after RST is a new stream "
     "with its own iRTT",
     (c2s(0.0, 100, 0, "S"), s2c(0.010, 500, 101, "SA"), s2c(1.010, 500, 101, "SA"),
      c2s(1.020, 101, 501, "A"), c2s(1.030, 101, 501, "RA"), c2s(5.0, 9000, 0, "S"),
      s2c(5.002, 7000, 9001, "SA"), c2s(5.005, 9001, 7001, "A"),
      c2s(5.006, 9001, 7001, "PA", 50)),
     {3: {"RT"}}, {4: 1020.0, 8: 5.0}),
    ("a segment stamped before nextseqtime is a retransmission, never out-of-order",
     (c2s(0.0, 1, 1, "A", 100), c2s(0.010, 101, 1, "A", 100), c2s(0.005, 1, 1, "A", 100)),
     {3: {"RT"}}, {}),
    ("window 0 is never a dup ACK; data is never a dup ACK; same seq/ack/window is",
     (c2s(0.0, 1, 1, "A", 100), s2c(0.01, 1, 101, "A", 0, 0), s2c(0.02, 1, 101, "A", 0, 0),
      s2c(0.03, 1, 101, "A", 0, 10), s2c(0.04, 1, 101, "A", 0, 10),
      s2c(0.05, 1, 101, "PA", 5, 10), s2c(0.06, 6, 101, "A", 0, 10)),
     {2: {"ZW"}, 3: {"ZW"}, 5: {"DUP"}, 7: {"DUP"}}, {}),
    ("4.0 has no issue-17214 rule: data ending at a nextseq a pure ACK raised is a "
     "retransmission",
     (c2s(0.0, 1, 1, "A", 100), c2s(0.010, 201, 1, "A"), c2s(0.011, 101, 1, "A", 100)),
     {2: {"LOST"}, 3: {"RT"}}, {}),
)


def tshark_flags(path, profile):
    argv = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=/t",
            "-E", "occurrence=a", "-e", "frame.number", "-e", "tcp.stream",
            "-e", "tcp.analysis.initial_rtt"]
    for field, _ in ASKED:
        argv += ["-e", field]
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False,
                         env=dict(os.environ, WIRESHARK_CONFIG_DIR=profile)).stdout.decode()
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        flags = {short for (_, short), v in zip(ASKED, cols[3:]) if v}
        rows[int(cols[0])] = (flags, cols[2])
    return rows


def check(name, frames, want_flags, want_rtt, tmp, profile):
    """Returns a list of differences between tshark and the expectation."""
    path = os.path.join(tmp, "case.pcap")
    write_pcap(path, [(T0 + f[0], segment(*f[1:])) for f in frames])
    rows = tshark_flags(path, profile)
    problems = []
    if len(rows) != len(frames):
        return [f"tshark gave {len(rows)} frames, not {len(frames)}"]
    for n, (flags, rtt) in sorted(rows.items()):
        want = want_flags.get(n, set())
        if flags != want:
            problems.append(f"frame {n}: flags {sorted(flags)}, expected {sorted(want)}")
        if n in want_rtt:
            got = float(rtt) * 1000 if rtt else None
            if got is None or abs(got - want_rtt[n]) > 1e-6:
                problems.append(f"frame {n}: iRTT {got} ms, expected {want_rtt[n]}")
    return problems


# What wlite's flows count per direction (c2s, s2c) for each tshark flag.
WLITE_COUNTERS = (("RT", "retransmissions"), ("OOO", "out_of_order"), ("DUP", "dup_acks"),
                  ("ZW", "zero_windows"))


def check_wlite(capd, frames, want_flags, want_rtt, tmp):
    """The same capture through `capd --read --flows`: the counts tshark's flags add up to."""
    import json
    path = os.path.join(tmp, "case.pcap")
    run = subprocess.run([capd, "--read", path, "--flows"], stdin=subprocess.DEVNULL,
                         capture_output=True, check=False)
    if run.returncode != 0:
        return [f"capd exited {run.returncode}: {run.stderr.decode()[-200:]}"]
    got = {c: [0, 0] for _, c in WLITE_COUNTERS}
    rtts = set()
    for line in run.stdout.decode().splitlines():
        f = json.loads(line)
        tcp = f.get("tcp", {})
        c2s_is_a = (f["a"], f.get("a_port")) == CLIENT
        for _, c in WLITE_COUNTERS:
            got[c][0] += tcp.get(("a_" if c2s_is_a else "b_") + c, 0)
            got[c][1] += tcp.get(("b_" if c2s_is_a else "a_") + c, 0)
        if "rtt_ms" in tcp:
            rtts.add(round(tcp["rtt_ms"], 3))
    want = {c: [0, 0] for _, c in WLITE_COUNTERS}
    for n, flags in want_flags.items():
        for short, c in WLITE_COUNTERS:
            if short in flags:
                want[c][0 if frames[n - 1][1] else 1] += 1
    problems = [f"wlite {c} [c2s, s2c] {got[c]}, tshark {want[c]}" for _, c in WLITE_COUNTERS if got[c] != want[c]]
    if rtts != {round(v, 3) for v in want_rtt.values()}:
        problems.append(f"wlite rtt_ms {sorted(rtts)}, tshark {sorted(set(want_rtt.values()))}")
    return problems


def main():
    """Usage: tcp_semantics_check.py [--capd PATH]: with capd, its flows are checked too."""
    capd = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--capd" else None
    failed = 0
    with tempfile.TemporaryDirectory(prefix="tcp-semantics-") as tmp:
        profile = os.path.join(tmp, "profile")
        os.mkdir(profile)
        for n, (name, frames, want_flags, want_rtt) in enumerate(SCENARIOS, 1):
            problems = check(name, frames, want_flags, want_rtt, tmp, profile)
            if capd and not problems:
                problems = check_wlite(capd, frames, want_flags, want_rtt, tmp)
            failed += bool(problems)
            print(f"{'not ok' if problems else 'ok'} {n} - {name}")
            for p in problems:
                print(f"# {p}")
    print(f"1..{len(SCENARIOS)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
