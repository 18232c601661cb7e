# SPDX-License-Identifier: BSD-2-Clause
"""tests/integration/tls.sh: capd's TLS fields against tshark 4.0's, as TAP.

For every capture of the dev corpus that holds TLS over TCP, and for the
hand-built captures of tls_hellos.py (hellos split over segments):

  * tshark's tls.handshake.ja3, ja3s, extensions_server_name and, for
    ClientHellos, extensions_alpn_str, frame by frame, with TCP reassembly
    off (the corpus oracle's setting: each frame decoded on its own) and on
    (-o tcp.desegment_tcp_streams:TRUE -o tls.desegment_ssl_records:TRUE);
  * `wlite-capd --read FILE --json`: each frame must carry what tshark
    without reassembly shows, and where that shows nothing but tshark with
    reassembly shows a hello (the frame that completes a hello record that
    spans segments), what tshark with reassembly shows;
  * the JA4 of the hand-built ClientHello against tls_hellos.py's own
    computation after FoxIO's specification;
  * `wlite-capd --read FILE --flows`: a TLS flow keeps the JA4 of its first
    ClientHello and the JA3S of its first ServerHello.

QUIC (UDP) frames are left out: tshark computes JA3 for QUIC ClientHellos
too, and QUIC is not decoded here. Usage:
    tls_check.py CAPD CORPUS_DIR WORK_DIR
"""
import concurrent.futures
import glob
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tls_hellos  # noqa: E402

FIELDS = ("ja3", "ja3s", "sni", "alpn")
TSHARK_FIELDS = ("frame.number", "frame.protocols", "tls.handshake.type", "tls.handshake.ja3",
                 "tls.handshake.ja3s", "tls.handshake.extensions_server_name",
                 "tls.handshake.extensions_alpn_str")
REASSEMBLY = {False: ["-o", "tcp.desegment_tcp_streams:FALSE"],
              True: ["-o", "tcp.desegment_tcp_streams:TRUE", "-o", "tls.desegment_ssl_records:TRUE"]}


def tshark(path, reassembly):
    """{frame: {field: value}} for the TCP frames of path that carry any TLS field."""
    cmd = ["tshark", "-n", "-r", path, *REASSEMBLY[reassembly], "-Y", "tcp", "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True).stdout
    frames = {}
    for line in out.splitlines():
        col = line.split("\t")
        if len(col) < len(TSHARK_FIELDS):
            continue
        first = lambda v: v.split("|")[0] if v else None  # noqa: E731
        types = col[2].split("|") if col[2] else []
        chain = col[1].split(":")
        row = {"tunnel": sum(1 for p in chain if p in ("ip", "ipv6")) > 1,
               "ja3": first(col[3]), "ja3s": first(col[4]), "sni": first(col[5]),
               "alpn": col[6].replace("|", ",") if "1" in types and col[6] else None}
        frames[int(col[0])] = row
    return frames


def conn_key(a, a_port, b, b_port):
    """A TCP connection, whichever way round."""
    return tuple(sorted([(a, a_port), (b, b_port)], key=str))


def capd_json(capd, path):
    out = subprocess.run([capd, "--read", path, "--json"], stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, check=True).stdout
    frames = {}
    for line in out.splitlines():
        o = json.loads(line)
        alpn = o.get("alpn")
        layer = o.get("inner") or o
        frames[o["seq"]] = {"ja3": o.get("ja3"), "ja3s": o.get("ja3s"), "sni": o.get("sni"),
                            "alpn": ",".join(alpn) if alpn else None, "ja4": o.get("ja4"),
                            "inner": "inner" in o,
                            "conn": conn_key(layer.get("src"), layer.get("sport"), layer.get("dst"),
                                             layer.get("dport"))}
    return frames


def expected(off, on, reassembled):
    """Per frame and field: tshark without reassembly, else (a completed hello) with it."""
    exp = {}
    for n in set(off) | set(on):
        a, b = off.get(n, {}), on.get(n, {})
        whole_here = any(a.get(f) for f in ("ja3", "ja3s"))
        src = a if whole_here or not any(b.get(f) for f in ("ja3", "ja3s")) else b
        if src is b:
            reassembled.add(n)
        exp[n] = {f: src.get(f) for f in FIELDS}
    return exp


def compare(exp, ours, tcp_frames, label, tally, problems, skipped=None):
    for n in sorted(set(exp) | {k for k, v in ours.items() if any(v.get(f) for f in FIELDS)}):
        if n not in tcp_frames:
            continue  # UDP (QUIC) or no TCP at all
        if tcp_frames[n].get("tunnel") and not ours.get(n, {}).get("inner"):
            if skipped is not None and any(exp.get(n, {}).get(f) for f in FIELDS):
                skipped.append("%s frame %d" % (label, n))
            continue  # inside a tunnel capd does not decode: nothing to compare
        want, got = exp.get(n, {}), ours.get(n, {})
        for f in FIELDS:
            w, g = want.get(f), got.get(f)
            if w is None and g is None:
                continue
            if f == "alpn" and w and g and len(g.split(",")) == 8:
                w = ",".join(w.split(",")[:8])  # capd keeps 8 names
            tally[f][1] += 1
            if w == g:
                tally[f][0] += 1
            else:
                problems[f].append("%s frame %d: tshark %r, capd %r" % (label, n, w, g))


def flows_keep_fingerprints(capd, path, ours):
    """Each TCP flow's ja4 / ja3s is the first one the packets of its connection carried."""
    out = subprocess.run([capd, "--read", path, "--flows"], stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, check=True).stdout
    first = {}
    for n in sorted(ours):
        o = ours[n]
        for k in ("ja4", "ja3s"):
            if o.get(k):
                first.setdefault((o["conn"], k), o[k])
    bad, seen = [], 0
    for line in out.splitlines():
        f = json.loads(line)
        if f.get("ipproto") != 6:
            continue
        conn = conn_key(f.get("a"), f.get("a_port"), f.get("b"), f.get("b_port"))
        for k in ("ja4", "ja3s"):
            want = first.get((conn, k))
            if want or f.get(k):
                seen += 1
                if f.get(k) != want:
                    bad.append("%s flow %d: %s %r, its first packet's %r" % (os.path.basename(path), f["id"], k,
                                                                             f.get(k), want))
    return seen, bad


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def point(self, ok, desc, notes=()):
        self.n += 1
        self.failed += 0 if ok else 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, desc))
        for note in list(notes)[:8]:
            print("# " + note)
        sys.stdout.flush()


def corpus_captures(corpus):
    """The captures whose oracle shows TLS (the corpus README's frame.protocols column)."""
    out = []
    for csv in sorted(glob.glob(os.path.join(corpus, "*.expected.csv"))):
        with open(csv, encoding="utf-8", errors="replace") as f:
            if ":tls" in f.read():
                out.append(csv[:-len(".expected.csv")])
    return out


def main():
    capd, corpus, work = sys.argv[1:4]
    tap = Tap()
    print("1..7")
    tally = {f: [0, 0] for f in FIELDS}
    problems = {f: [] for f in FIELDS}
    flows_seen, flows_bad, files = 0, [], 0
    completed = [0, []]  # frames where only tshark with reassembly shows a hello, and those that differ
    skipped = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda p: (p, tshark(p, False), tshark(p, True), capd_json(capd, p)),
                        corpus_captures(corpus))
        runs = list(runs)
    for path, off, on, ours in runs:
        if not any(any(v.get(f) for f in FIELDS) for v in list(off.values()) + list(on.values())):
            continue  # TLS over UDP only (QUIC, DTLS)
        files += 1
        reassembled = set()
        exp = expected(off, on, reassembled)
        compare(exp, ours, off, os.path.basename(path), tally, problems, skipped)
        for n in reassembled:
            completed[0] += 1
            if off.get(n, {}).get("tunnel") and not ours.get(n, {}).get("inner"):
                continue
            if any(exp[n].get(f) != ours.get(n, {}).get(f) for f in ("ja3", "ja3s", "sni")):
                completed[1].append("%s frame %d" % (os.path.basename(path), n))
        seen, bad = flows_keep_fingerprints(capd, path, ours)
        flows_seen += seen
        flows_bad += bad
    for f in FIELDS:
        agree, total = tally[f]
        tap.point(total > 0 and agree == total,
                  "dev corpus, %d captures with TLS over TCP: %s agrees with tshark on %d of %d frames%s"
                  % (files, f, agree, total,
                     " (%d frames inside tunnels capd does not decode left out)" % len(skipped) if skipped else ""),
                  problems[f])
    hand_bad, hand_frames = [], 0
    for name, (path, ja4) in sorted(tls_hellos.build(work).items()):
        on = tshark(path, True)
        ours = capd_json(capd, path)
        hand = {f: [0, 0] for f in FIELDS}
        probs = {f: [] for f in FIELDS}
        # Every frame as tshark with reassembly shows it: the split hellos complete where it says.
        compare({n: {f: v.get(f) for f in FIELDS} for n, v in on.items()}, ours, on, name, hand, probs)
        hand_frames += sum(t for _, t in hand.values())
        hand_bad += [p for f in FIELDS for p in probs[f]]
        ja4s = [o["ja4"] for o in ours.values() if o.get("ja4")]
        if ja4s != [ja4]:
            hand_bad.append("%s: capd's JA4 %r, FoxIO's definition gives %r" % (name, ja4s, ja4))
        if sum(1 for n, v in on.items() if v.get("ja3")) != 1:
            hand_bad.append("%s: tshark does not see one whole ClientHello" % name)
        seen, bad = flows_keep_fingerprints(capd, path, ours)
        flows_seen += seen
        flows_bad += bad
    tap.point(not hand_bad and hand_frames > 0,
              "hand-built hellos over 2 and 3 segments (a retransmission, IPv6, a long server record): "
              "%d field values as tshark with reassembly, JA4 as computed from FoxIO's definition" % hand_frames,
              hand_bad)
    tap.point(flows_seen > 0 and not flows_bad,
              "--flows: %d JA4 and JA3S values kept by their flows, each its first packet's" % flows_seen, flows_bad)
    tap.point(completed[0] > 0 and not completed[1],
              "dev corpus: the %d frames that complete hello records spanning segments carry what tshark "
              "shows there with reassembly on (and without it, nothing)" % completed[0], completed[1])
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
