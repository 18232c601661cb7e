#!/usr/bin/env python3
"""reference_flows: a stand-in for `wlite-capd --read FILE --flows`, built from
tshark's own per-frame output (flow_oracle.py's tshark run and cache).

Python 3 standard library only.  It exists to test flow_score.py without wlite:
scored against the oracle it must give 100% / 100% / 100%, and the perturbation
options below must make exactly the perturbed conversation disagree.

It prints flow-v1-shaped NDJSON, in order of first packet, with the keys the
scorer reads (id, l3, ipproto, a, b, a_port, b_port, outer, first, last,
a_packets, a_bytes, b_packets, b_bytes, end, tcp{...}).  It builds flows the
way a flow engine would, NOT the way the oracle aggregates, so that the scorer's
summing is exercised:
  * key: ipproto, the two endpoints (ports for TCP/UDP when tshark read them),
    tcp.stream for TCP (a new stream on reused ports is a new flow), and the
    outer address pair for tunnelled frames (keyed by their innermost IP
    header; ICMP errors by their own, outermost, header);
  * side a = the sender of the flow's first packet;
  * a flow idle for longer than the timeout (TCP 300 s, others 60 s, capture
    clock) ends ("idle") and the next packet starts a new flow;
  * tcp.rtt_ms: the first tcp.analysis.initial_rtt of the stream x 1000, on the
    stream's first flow that sees it; retransmissions, out-of-order, dup ACKs,
    zero windows per side from tshark's flags, resets from the RST flag.
Frames without a readable IP header (ARP, LLDP, ...) are left out (wlite keys
them by MAC pair; the scorer ignores non-IP flows).
"""

import argparse
import decimal
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True    # no __pycache__ in the shared checkout
import flow_oracle as fo  # noqa: E402

IDLE_TCP = decimal.Decimal(300)
IDLE_OTHER = decimal.Decimal(60)
TH_RST = 0x04


def frame_time(text):
    try:
        return decimal.Decimal(text)
    except (decimal.InvalidOperation, TypeError):
        return decimal.Decimal(0)


def pick_layer(frame):
    """(layer, outer layer or None) a flow engine would key the frame by."""
    layers = [ly for ly in frame.layers if fo.layer_usable(ly)]
    if not layers:
        return None, None
    if frame.icmp_error and not frame.tunnel:
        return layers[0], None
    inner = layers[-1]
    return inner, (layers[0] if len(layers) > 1 else None)


class Flow:
    def __init__(self, fid, layer, outer, frame):
        self.id = fid
        self.layer, self.outer = layer, outer
        known = layer.ports_known
        self.a = (layer.src, layer.sport if known else None)
        self.b = (layer.dst, layer.dport if known else None)
        self.first_frame = frame.number
        self.first = self.last = frame_time(frame.time)
        self.packets, self.bytes = [0, 0], [0, 0]
        self.tcp = None
        if layer.proto == 6:
            self.tcp = {"retransmissions": [0, 0], "out_of_order": [0, 0],
                        "dup_acks": [0, 0], "zero_windows": [0, 0], "resets": 0}
        self.rtt_ms = None
        self.end = "eof"

    def add(self, frame, layer):
        side = 0 if (layer.src, layer.sport if layer.ports_known else None) == self.a else 1
        self.packets[side] += 1
        self.bytes[side] += frame.length
        self.last = max(self.last, frame_time(frame.time))
        if self.tcp is None:
            return
        for name, flag in (("retransmissions", frame.retrans), ("out_of_order", frame.ooo),
                           ("dup_acks", frame.dupack), ("zero_windows", frame.zerowin)):
            self.tcp[name][side] += flag
        if frame.tcp_flags is not None and frame.tcp_flags & TH_RST:
            self.tcp["resets"] += 1

    def record(self):
        ly = self.layer
        rec = {"id": self.id, "l3": "ipv4" if ly.src.version == 4 else "ipv6",
               "ipproto": ly.proto, "a": str(self.a[0]), "b": str(self.b[0])}
        if ly.proto in fo.PORT_PROTOS and self.a[1] is not None:
            rec["a_port"], rec["b_port"] = self.a[1], self.b[1]
        if self.outer is not None:
            rec["outer"] = {"a": str(self.outer.src), "b": str(self.outer.dst)}
        rec.update({"first": float(round(self.first, 6)), "last": float(round(self.last, 6)),
                    "a_packets": self.packets[0], "a_bytes": self.bytes[0],
                    "b_packets": self.packets[1], "b_bytes": self.bytes[1], "end": self.end})
        if self.tcp is not None:
            t = self.tcp
            rec["tcp"] = {"state": "closed" if t["resets"] else "established",
                          "a_retransmissions": t["retransmissions"][0],
                          "b_retransmissions": t["retransmissions"][1],
                          "a_out_of_order": t["out_of_order"][0],
                          "b_out_of_order": t["out_of_order"][1],
                          "a_dup_acks": t["dup_acks"][0], "b_dup_acks": t["dup_acks"][1],
                          "a_zero_windows": t["zero_windows"][0],
                          "b_zero_windows": t["zero_windows"][1],
                          "resets": t["resets"]}
            if self.rtt_ms is not None:
                rec["tcp"]["rtt_ms"] = self.rtt_ms
        return rec


def flow_key(frame, layer, outer):
    ports = (layer.sport, layer.dport) if layer.ports_known else (None, None)
    ends = frozenset(((layer.src, ports[0]), (layer.dst, ports[1])))
    stream = frame.stream if layer.proto == 6 else None
    outer_pair = frozenset((outer.src, outer.dst)) if outer is not None else None
    return (layer.proto, ends, stream, outer_pair)


def build_flows(frames):
    """Flow records (dicts) of a capture's frames, in order of first packet."""
    open_flows, done, rtt_given, next_id = {}, [], set(), 1
    for f in frames:
        layer, outer = pick_layer(f)
        if layer is None:
            continue
        key = flow_key(f, layer, outer)
        flow = open_flows.get(key)
        now = frame_time(f.time)
        idle = IDLE_TCP if layer.proto == 6 else IDLE_OTHER
        if flow is not None and now - flow.last > idle:
            flow.end = "idle"
            done.append(flow)
            flow = None
        if flow is None:
            flow = open_flows[key] = Flow(next_id, layer, outer, f)
            next_id += 1
        flow.add(f, layer)
        stream_id = (key[1], f.stream)
        if flow.tcp is not None and f.irtt and stream_id not in rtt_given:
            rtt = fo.irtt_ms(f.irtt)
            if rtt is not None:
                flow.rtt_ms = rtt
                rtt_given.add(stream_id)
    done.extend(open_flows.values())
    done.sort(key=lambda fl: fl.first_frame)
    return [fl.record() for fl in done]


# ------------------------------------------------------------ perturbations

def perturb(records, spec):
    """FIELD:INDEX:DELTA, FIELD a top-level key or tcp.KEY: adds DELTA to it."""
    try:
        field, index, delta = spec.split(":")
        index = int(index)
        delta = float(delta) if "." in delta else int(delta)
    except ValueError:
        raise SystemExit(f"reference_flows: bad --perturb {spec!r} (FIELD:INDEX:DELTA)")
    obj = records[index]
    if field.startswith("tcp."):
        obj, field = obj.setdefault("tcp", {}), field[4:]
    obj[field] = obj.get(field, 0) + delta


def swap_sides(rec):
    """The same flow told from the other side."""
    out = dict(rec)
    out["a"], out["b"] = rec["b"], rec["a"]
    for x, y in (("a_port", "b_port"), ("a_packets", "b_packets"), ("a_bytes", "b_bytes")):
        if x in rec:
            out[x], out[y] = rec[y], rec[x]
    if "tcp" in rec:
        tcp = dict(rec["tcp"])
        for name in ("retransmissions", "out_of_order", "dup_acks", "zero_windows"):
            tcp["a_" + name], tcp["b_" + name] = rec["tcp"]["b_" + name], rec["tcp"]["a_" + name]
        out["tcp"] = tcp
    return out


def split_record(rec):
    """Two flows whose counters add up to rec's.  The second starts at rec's
    last packet and, like a new connection on reused ports, has an rtt 1 ms
    larger: the scorer must take the earlier flow's."""
    first, second = dict(rec), dict(rec)
    for name in ("a_packets", "a_bytes", "b_packets", "b_bytes"):
        first[name] = rec[name] // 2
        second[name] = rec[name] - first[name]
    if "tcp" in rec:
        t1, t2 = dict(rec["tcp"]), dict(rec["tcp"])
        for name, v in rec["tcp"].items():
            if isinstance(v, int) and name != "resets":
                t1[name] = v // 2
                t2[name] = v - t1[name]
        if "rtt_ms" in t2:
            t2["rtt_ms"] = t2["rtt_ms"] + 1.0
        first["tcp"], second["tcp"] = t1, t2
    second["id"] = rec["id"] + 1000000
    second["first"] = rec["last"]
    return [first, second]


def parser():
    ap = argparse.ArgumentParser(prog="reference_flows.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--cache", default=fo.DEFAULT_CACHE, help="flow_oracle's tshark cache")
    ap.add_argument("--perturb", action="append", default=[], metavar="FIELD:INDEX:DELTA",
                    help="add DELTA to FIELD (a_bytes, tcp.rtt_ms, ...) of flow INDEX")
    ap.add_argument("--swap-counts", type=int, action="append", default=[], metavar="INDEX",
                    help="exchange the a and b counters of flow INDEX (a direction error)")
    ap.add_argument("--swap-sides", action="store_true",
                    help="print every flow seen from its other side (must not matter)")
    ap.add_argument("--split", action="store_true",
                    help="print every flow as two flows (must not matter)")
    ap.add_argument("--add-noise", action="store_true",
                    help="also print a MAC-pair flow and an IP flow the capture does not have")
    ap.add_argument("--crash", action="store_true", help="print half, then die of SIGSEGV")
    ap.add_argument("--hang", type=float, metavar="S", help="sleep S seconds before printing")
    return ap


def records_for(capture, runner, args):
    """The capture's flow records, with args' perturbations applied."""
    _, text = runner.text(capture)
    records = build_flows(fo.parse_frames(text)[0])
    for spec in args.perturb:
        perturb(records, spec)
    for i in args.swap_counts:
        sw = swap_sides(records[i])
        for k in ("a", "b", "a_port", "b_port"):
            if k in records[i]:
                sw[k] = records[i][k]
        records[i] = sw
    if args.swap_sides:
        records = [swap_sides(r) for r in records]
    if args.split:
        records = [part for r in records for part in split_record(r)]
    if args.add_noise:
        records.append({"id": 900001, "l3": "arp", "ipproto": 0, "a": "02:00:00:00:00:01",
                        "b": "ff:ff:ff:ff:ff:ff", "a_packets": 1, "a_bytes": 60,
                        "b_packets": 0, "b_bytes": 0, "end": "eof"})
        records.append({"id": 900002, "l3": "ipv4", "ipproto": 17, "a": "192.0.2.1",
                        "b": "192.0.2.2", "a_port": 9, "b_port": 9, "a_packets": 1,
                        "a_bytes": 60, "b_packets": 0, "b_bytes": 0, "end": "eof"})
    return records


def ndjson(records):
    return "".join(fo.json.dumps(r, separators=(",", ":")) + "\n" for r in records)


def main(argv=None):
    args = parser().parse_args(argv)
    runner = fo.TsharkRunner(args.cache)
    try:
        records = records_for(args.capture, runner, args)
    finally:
        runner.close()
    if args.hang:
        time.sleep(args.hang)
    if args.crash:
        sys.stdout.write(ndjson(records[:len(records) // 2]))
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGSEGV)
    sys.stdout.write(ndjson(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
