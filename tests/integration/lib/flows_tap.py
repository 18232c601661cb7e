#!/usr/bin/env python3
"""Checks for tests/integration/flows.sh over wlite-tap's output.

wlite-tap prints one JSON object a line: events have an "event" key, flow
reports (flow schema v1) an "id" and an "end", packets neither. A line still
being written (no newline yet) is ignored.

  wait FILE TIMEOUT EXPR ARGS...   until EXPR holds (prints why not on timeout)
  waittime FILE TIMEOUT EXPR ARGS...
                                   the same, and prints the seconds it took
  check FILE CODE ARGS...          runs CODE, which calls need(cond, why)
  frames PCAP_TSV                  (library use only; see load_frames)

In EXPR and CODE: flows (every report, in order), final (the reports that
end a flow), active, pkts, events, stats, status, lines (every object, in
order), args, find(reports, **kw), usec(t), load_frames(tsv), and, when the environment names FLOWS_FRAMES (tshark's fields of the same
capture, written by flows.sh), frames and conv(...), the oracle.
"""
import json
import os
import sys
import time


def load(path):
    flows, pkts, events, bad, lines = [], [], [], [], []
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
            continue
        lines.append(obj)
        if "event" in obj:
            events.append(obj)
        elif "id" in obj and "end" in obj:
            flows.append(obj)
        else:
            pkts.append(obj)
    return flows, pkts, events, bad, lines


# tshark -T fields, in this order (flows.sh asks for them with -E occurrence=a
# -E aggregator=, so that tunnelled frames show every header).
FIELDS = ["frame.number", "frame.time_epoch", "frame.len", "ip.src", "ip.dst", "ip.proto",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "tcp.analysis.retransmission", "tcp.analysis.initial_rtt", "icmp.ident", "icmp.type"]


def load_frames(path):
    """One dict a frame: the innermost IP header and its ports, as the oracle keys them."""
    frames = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            v = dict(zip(FIELDS, line.rstrip("\n").split("\t")))
            vals = lambda k: [x for x in v.get(k, "").split(",") if x]
            src, dst, proto = vals("ip.src"), vals("ip.dst"), vals("ip.proto")
            f = {"n": int(v["frame.number"]), "t": float(v["frame.time_epoch"]),
                 "len": int(v["frame.len"]), "tunnelled": len(src) > 1,
                 "src": src[-1] if src else None, "dst": dst[-1] if dst else None,
                 "proto": int(proto[-1]) if proto else None,
                 "outer": (src[0], dst[0]) if len(src) > 1 else None,
                 "sport": None, "dport": None,
                 "retrans": bool(vals("tcp.analysis.retransmission")),
                 "initial_rtt": float(vals("tcp.analysis.initial_rtt")[0]) if vals("tcp.analysis.initial_rtt") else None,
                 "icmp_id": int(vals("icmp.ident")[0]) if vals("icmp.ident") else None}
            ports = {6: ("tcp.srcport", "tcp.dstport"), 17: ("udp.srcport", "udp.dstport")}.get(f["proto"])
            if ports and vals(ports[0]) and vals(ports[1]):
                f["sport"], f["dport"] = int(vals(ports[0])[-1]), int(vals(ports[1])[-1])
            frames.append(f)
    return frames


def conv(frames, proto, a, a_port, b, b_port, icmp_id=None):
    """The oracle's view of one conversation: frames and bytes per direction, retransmissions, RTT."""
    r = {"a_packets": 0, "a_bytes": 0, "b_packets": 0, "b_bytes": 0,
         "a_retransmissions": 0, "b_retransmissions": 0, "rtt_ms": None, "outer": set(),
         "first": None, "last": None}
    for f in frames:
        if f["proto"] != proto or (icmp_id is not None and f["icmp_id"] != icmp_id):
            continue
        if (f["src"], f["sport"], f["dst"], f["dport"]) == (a, a_port, b, b_port):
            side = "a"
        elif (f["src"], f["sport"], f["dst"], f["dport"]) == (b, b_port, a, a_port):
            side = "b"
        else:
            continue
        r[side + "_packets"] += 1
        r[side + "_bytes"] += f["len"]
        r[side + "_retransmissions"] += f["retrans"]
        if r["rtt_ms"] is None and f["initial_rtt"] is not None:
            r["rtt_ms"] = f["initial_rtt"] * 1000.0
        if f["outer"]:
            r["outer"].add(f["outer"])
        r["first"] = f["t"] if r["first"] is None else r["first"]
        r["last"] = f["t"]
    return r


def find(reports, **kw):
    return [f for f in reports if all(f.get(k) == v for k, v in kw.items())]


def env(path, args):
    flows, pkts, events, bad, lines = load(path)
    e = {
        "flows": flows, "pkts": pkts, "events": events, "bad": bad, "args": args, "lines": lines,
        "final": [f for f in flows if f.get("end") != "active"],
        "active": [f for f in flows if f.get("end") == "active"],
        "stats": [x for x in events if x.get("event") == "stats"],
        "status": [x for x in events if x.get("event") == "status"],
        "find": find, "usec": lambda t: round(t * 1e6),
    }
    tsv = os.environ.get("FLOWS_FRAMES")
    if tsv:
        frames = load_frames(tsv)
        e["frames"] = frames
        e["conv"] = lambda *a, **kw: conv(frames, *a, **kw)
    e["load_frames"] = load_frames
    return e


def wait(path, timeout, expr, args):
    start = time.monotonic()
    while True:
        e = env(path, args)
        try:
            if eval(expr, e):
                return time.monotonic() - start
        except Exception:
            pass
        if time.monotonic() - start > timeout:
            print("timed out after %gs waiting for: %s (%d flow reports, %d packets, %d events so far)"
                  % (timeout, expr, len(e["flows"]), len(e["pkts"]), len(e["events"])))
            return None
        time.sleep(0.05)


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd in ("wait", "waittime"):
        took = wait(path, float(sys.argv[3]), sys.argv[4], sys.argv[5:])
        if took is None:
            return 1
        if cmd == "waittime":
            print("%.3f" % took)
        return 0
    if cmd == "check":
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
    print("unknown command " + cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main())
