#!/usr/bin/env python3
"""QUIC checks of tests/integration/quic.sh: wlite's packets against tshark's.

  quic_check.py compare PCAP JSONL [TSHARK_ARG...]
      JSONL holds wlite's packets of PCAP, one per frame in order (capd
      --read --json, or what wlite-tap printed of a live capture whose
      packets it also wrote to PCAP). tshark (4.0 decrypts Initials itself)
      reads PCAP; per frame, both must agree on: QUIC or not, the SNI, the
      ALPN list, and for QUIC frames the version, DCID, SCID and packet type
      of the first packet, the number of packets, and the Info column (ours
      is cut at 159 bytes). Where wlite knows more than tshark, the frame is
      counted and shown, not failed: a short header's DCID when tshark never
      learnt the connection's CID length, and a coalesced packet after the
      first ones that tshark took for padding. Prints a summary line and
      every disagreement; exit status 1 on any.
  quic_check.py same LIVE_JSONL READ_JSONL
      The live capture's packets and capd --read of the tap's pcap: the same
      QUIC fields on every packet.
  quic_check.py expect JSONL FRAME KEY=VALUE...
      Frame FRAME (1-based) has these values (sni, version, info, proto,
      packet_type, dcid, scid, alpn as a,b).
  quic_check.py sni JSONL
      Prints "frame sni" for every packet with an SNI.
  quic_check.py write-pcap OUT HEX...
      Writes each hex datagram as an IPv4/UDP frame (link type 228) from
      192.0.2.1:50000+i to 198.51.100.2:443, or back when prefixed "<".
"""
import json
import struct
import subprocess
import sys

FIELDS = ("frame.number", "frame.protocols", "tls.handshake.extensions_server_name",
          "tls.handshake.extensions_alpn_str", "quic.version", "quic.dcid", "quic.scid",
          "quic.header_form", "quic.long.packet_type", "quic.long.packet_type_v2", "_ws.col.Info",
          "quic.packet_length")
INFO_MAX = 159  # WL_INFO_MAX - 1
V1_TYPES = {0: "Initial", 1: "0-RTT", 2: "Handshake", 3: "Retry"}
V2_TYPES = {0: "Retry", 1: "Initial", 2: "0-RTT", 3: "Handshake"}


def tshark_rows(pcap, extra):
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|",
           "-E", "separator=\t"] + extra
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, check=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        cols = line.split("\t")
        rows.append(dict(zip(FIELDS, cols + [""] * (len(FIELDS) - len(cols)))))
    return rows


def first(v):
    return v.split("|")[0] if v else ""


def tshark_view(row):
    """What tshark says of one frame, in the terms of wlite's schema."""
    protos = row["frame.protocols"].split(":")
    t = {"quic": "quic" in protos, "sni": first(row["tls.handshake.extensions_server_name"]),
         "alpn": row["tls.handshake.extensions_alpn_str"].split("|") if row["tls.handshake.extensions_alpn_str"] else [],
         "info": row["_ws.col.Info"]}
    if not t["quic"]:
        return t
    form = first(row["quic.header_form"])
    version = first(row["quic.version"])
    t["version"] = int(version, 16) if version else None
    if form == "0":
        t["packet_type"] = "1-RTT"
    elif t["version"] == 0:
        t["packet_type"] = "Version Negotiation"
    elif row["quic.long.packet_type_v2"]:
        t["packet_type"] = V2_TYPES[int(first(row["quic.long.packet_type_v2"]))]
    elif row["quic.long.packet_type"]:
        t["packet_type"] = V1_TYPES[int(first(row["quic.long.packet_type"]))]
    t["dcid"] = first(row["quic.dcid"]).replace(":", "")
    t["scid"] = first(row["quic.scid"]).replace(":", "")
    t["packets"] = len(row["quic.packet_length"].split("|")) if row["quic.packet_length"] else 1
    return t


def wlite_view(p):
    q = p.get("quic") or {}
    return {"quic": p.get("proto") == "QUIC", "sni": p.get("sni", ""), "alpn": p.get("alpn", []),
            "info": p.get("info", ""), "version": q.get("version"), "packet_type": q.get("packet_type"),
            "dcid": q.get("dcid"), "scid": q.get("scid"), "packets": q.get("packets", 1)}


def knows_more(t, w):
    """Why wlite's frame may say more than tshark's, or None."""
    if w["packets"] > t["packets"]:
        return f"a coalesced packet tshark took for padding ({w['packets']} packets, tshark {t['packets']})"
    rest = w["info"][len(t["info"]):]
    if (t["info"] == "Protected Payload (KP0)" and rest.startswith(", DCID=") and "," not in rest[2:]
            and (w["packets"] > 1 or not t["dcid"])):
        return "a short header's DCID: tshark did not learn the connection's CID length"
    return None


def info_agrees(t, w):
    ours = w["info"].encode()
    return t["info"] == w["info"] or (len(ours) >= INFO_MAX - 3 and t["info"].encode().startswith(ours))


def disagreements(n, t, w):
    bad = []
    for key in ("quic", "sni", "alpn"):
        if t[key] != w[key]:
            bad.append(f"frame {n} {key}: wlite {w[key]!r}, tshark {t[key]!r}")
    if not (t["quic"] and w["quic"]):
        return bad
    if not info_agrees(t, w):
        bad.append(f"frame {n} info: wlite {w['info']!r}, tshark {t['info']!r}")
    if w["packets"] != t["packets"]:
        bad.append(f"frame {n} packets: wlite {w['packets']}, tshark {t['packets']}")
    if t.get("packet_type") and t["packet_type"] != w["packet_type"]:
        bad.append(f"frame {n} packet type: wlite {w['packet_type']!r}, tshark {t['packet_type']!r}")
    if t["version"] != w["version"]:
        bad.append(f"frame {n} version: wlite {w['version']!r}, tshark {t['version']!r}")
    # tshark leaves an empty CID out, and then its first value may be a later packet's.
    for key in ("dcid", "scid"):
        if w[key] and w[key] != t[key]:
            bad.append(f"frame {n} {key}: wlite {w[key]!r}, tshark {t[key]!r}")
        if w[key] is None and t[key] and key == "dcid" and w["packet_type"] == "1-RTT":
            bad.append(f"frame {n} dcid: wlite unknown, tshark {t[key]!r}")
    return bad


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip() and not line.startswith('{"event"')]


def cmd_compare(pcap, jsonl, extra):
    rows = tshark_rows(pcap, extra)
    pkts = [p for p in load_jsonl(jsonl) if "seq" in p]
    if len(rows) != len(pkts):
        print(f"{pcap}: tshark has {len(rows)} frames, wlite {len(pkts)}")
        return 1
    bad, more, quic, snis = [], [], 0, 0
    for i, (row, p) in enumerate(zip(rows, pkts), 1):
        t, w = tshark_view(row), wlite_view(p)
        quic += w["quic"]
        snis += bool(w["sni"])
        found = disagreements(i, t, w)
        why = knows_more(t, w) if found and t["quic"] and w["quic"] else None
        if why and all(" info:" in f or " dcid:" in f or " packets:" in f for f in found):
            more.append(f"frame {i}: {why}")
        else:
            bad += found
    print(f"{pcap.rsplit('/', 1)[-1]}: {len(rows)} frames, {quic} QUIC, {snis} with an SNI, "
          f"{len(bad)} disagreements with tshark, {len(more)} where wlite knows more")
    for b in bad[:20] + more[:10]:
        print("  " + b)
    return 1 if bad else 0


def same_fields(p):
    return {k: p.get(k) for k in ("proto", "info", "sni", "alpn", "ja3", "ja4", "quic", "len", "ts")}


def cmd_same(live, read):
    a, b = [p for p in load_jsonl(live) if "seq" in p], [p for p in load_jsonl(read) if "seq" in p]
    if len(a) != len(b):
        print(f"live {len(a)} packets, --read {len(b)}")
        return 1
    bad = [(i, x, y) for i, (x, y) in enumerate(zip(map(same_fields, a), map(same_fields, b)), 1) if x != y]
    print(f"{len(a)} packets, {len(bad)} differ between live and --read")
    for i, x, y in bad[:5]:
        print(f"  packet {i}: live {x}\n  --read {y}")
    return 1 if bad else 0


def cmd_expect(jsonl, frame, pairs):
    p = [p for p in load_jsonl(jsonl) if "seq" in p][int(frame) - 1]
    w = wlite_view(p)
    w["proto"] = p.get("proto")
    bad = []
    for pair in pairs:
        key, want = pair.split("=", 1)
        got = w.get(key)
        if key == "version":
            want = int(want, 0)
        elif key == "alpn":
            want = want.split(",")
        if got != want:
            bad.append(f"frame {frame} {key}: {got!r}, want {want!r}")
    print("\n".join(bad) if bad else f"frame {frame}: as expected")
    return 1 if bad else 0


def cmd_sni(jsonl):
    for i, p in enumerate((p for p in load_jsonl(jsonl) if "seq" in p), 1):
        if p.get("sni"):
            print(i, p["sni"])
    return 0


def cmd_write_pcap(out, hexes):
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 228))
        for i, h in enumerate(hexes):
            back = h.startswith("<")
            payload = bytes.fromhex(h.lstrip("<"))
            a, b = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2])
            src, dst = (b, a) if back else (a, b)
            ports = (443, 50000 + i // 2) if back else (50000 + i // 2, 443)
            udp = struct.pack(">HHHH", *ports, 8 + len(payload), 0) + payload
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst) + udp
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(ip), len(ip)) + ip)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "compare":
        return cmd_compare(argv[1], argv[2], argv[3:])
    if len(argv) == 3 and argv[0] == "same":
        return cmd_same(argv[1], argv[2])
    if len(argv) >= 3 and argv[0] == "expect":
        return cmd_expect(argv[1], argv[2], argv[3:])
    if len(argv) == 2 and argv[0] == "sni":
        return cmd_sni(argv[1])
    if len(argv) >= 2 and argv[0] == "write-pcap":
        return cmd_write_pcap(argv[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
