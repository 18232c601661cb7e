#!/usr/bin/env python3
"""Compares wlite-capd --json with tshark on the encapsulation captures.

    check.py --capd build/capd/wlite-capd --oracle ../shared/pcap-corpus/oracle.lua \\
             tests/captures/encap [more captures or directories...]

For every frame of every capture, against tshark 4.0 run on the same file:

- the outer fields exactly as the corpus gate scores them (tshark with the
  corpus's oracle.lua): eth.src/dst, vlan, src, dst, ipproto, sport, dport,
  tcp_flags, and whether the frame is malformed;
- the tunnelled IP header (the schema's "inner"): the second IP layer
  tshark dissected, its addresses and protocol, and the ports of the TCP or
  UDP header right after it;
- the first DNS question, wherever it sits;
- the protocol column, names mapped where wlite's differ on purpose;
- the Info column, for the protocols whose summary follows tshark's (802.11,
  GTP, L2TP, SLARP, IPsec...): wlite's must start with tshark's. An SSID
  tshark shows in hex (not printable) must appear escaped in wlite's.

Prints each disagreement and a count per capture; exits 1 on any, 2 when a
tool fails. tshark runs with stdin closed, -n, and an empty profile.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# tshark's Protocol column -> wlite's proto, where the names differ.
PROTO_NAMES = {
    "VxLAN": {"VXLAN", "VXLAN-GPE"},
    "Netlink route": {"Netlink"},
    "capwap.data": {"CAPWAP-Data"},
    "PPP LCP": {"PPP"},
    "": {"SLL"},
    "SSL": {"TLS"}, "SSLv3": {"TLS"}, "TLSv1": {"TLS"}, "TLSv1.1": {"TLS"}, "TLSv1.2": {"TLS"},
    "TLSv1.3": {"TLS"},
}

# Protocols whose Info wlite writes as tshark does (wlite may add to the end).
INFO_PROTOS = {"802.11", "GTP", "GTPv2", "L2TP", "L2TPv3", "SLARP", "ESP", "AH", "UDPENCAP",
               "CAPWAP-Data", "FabricPath", "TRILL", "LWAPP"}

ORACLE_FIELDS = ["frame.number", "eth.src", "eth.dst", "oracle.ip_src", "oracle.ip_dst",
                 "oracle.ip_proto", "oracle.src_port", "oracle.dst_port", "oracle.tcp_flags",
                 "oracle.malformed", "vlan.id", "dns.qry.name", "_ws.col.Protocol", "_ws.col.Info"]


def run(cmd, env=None):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, check=False)
    if r.returncode != 0:
        sys.stderr.write(f"{cmd[0]} failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}\n")
        sys.exit(2)
    return r.stdout.decode("utf-8", errors="replace")


# L2TPv3 data carries what its control connection negotiated; tshark learns
# it from a whole control exchange, wlite guesses Ethernet from the bytes.
# The captures' L2TPv3 sessions are Ethernet pseudowires: tell tshark so.
TSHARK_DECODE_AS = ["-d", "l2tp.pw_type==0,eth"]
# Frame by frame, as the corpus's oracle runs: no reassembly.
TSHARK_PREFS = ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
                "-o", "tcp.desegment_tcp_streams:FALSE"]


def tshark_env(profile):
    env = dict(os.environ)
    env["WIRESHARK_CONFIG_DIR"] = profile
    return env


def tshark_fields(path, oracle, env):
    out = run(["tshark", "-n", "-r", path] + TSHARK_PREFS + TSHARK_DECODE_AS + ["-X", "lua_script:" + oracle, "-T", "fields",
               "-E", "separator=\t", "-E", "occurrence=f"] + sum([["-e", f] for f in ORACLE_FIELDS], []),
              env)
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(ORACLE_FIELDS) - len(cols))
        row = dict(zip(ORACLE_FIELDS, cols))
        rows[int(row["frame.number"])] = row
    return rows


def pairs(items):
    return items  # keep duplicate keys (two "ip" layers) in order


def tshark_layers(path, env):
    """Each frame's top-level layers, in order, with duplicates."""
    out = run(["tshark", "-n", "-r", path] + TSHARK_PREFS + TSHARK_DECODE_AS + ["-T", "json"], env)
    frames = json.loads(out, object_pairs_hook=pairs)
    result = []
    for frame in frames:
        source = dict(frame)["_source"]
        result.append(dict(source)["layers"])
    return result


def field(layer, name):
    for k, v in layer:
        if k == name:
            return v if isinstance(v, str) else None
    return None


def inner_of(layers):
    """The second IP layer and the TCP/UDP layer right after it, as wlite's "inner"."""
    ips = [i for i, (k, _) in enumerate(layers) if k in ("ip", "ipv6")]
    if len(ips) < 2:
        return None
    i = ips[1]
    kind, layer = layers[i]
    v4 = kind == "ip"
    inner = {"l3": "ipv4" if v4 else "ipv6",
             "src": field(layer, "ip.src" if v4 else "ipv6.src"),
             "dst": field(layer, "ip.dst" if v4 else "ipv6.dst"),
             "ipproto": field(layer, "ip.proto" if v4 else "ipv6.nxt")}
    if i + 1 < len(layers) and layers[i + 1][0] in ("tcp", "udp"):
        name, l4 = layers[i + 1]
        inner["sport"] = field(l4, name + ".srcport")
        inner["dport"] = field(l4, name + ".dstport")
    return {k: v for k, v in inner.items() if v is not None}


def ours(capd, path):
    rows = {}
    for line in run([capd, "--read", path, "--json"]).splitlines():
        obj = json.loads(line)
        rows[obj["seq"]] = obj
    return rows


def escaped_ssid(hexdigits):
    """wlite's text for SSID bytes: printable ASCII as is, the rest \\xHH."""
    out = []
    for b in bytes.fromhex(hexdigits):
        out.append(chr(b) if 0x20 <= b <= 0x7e and b not in (0x22, 0x5c) else f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def info_agrees(mine, theirs):
    """wlite's summary may say less (tshark's AVPs) or more (ESP's sequence number)."""
    if "SSID=" in theirs and not theirs.split("SSID=", 1)[1].startswith(('"', "Wildcard")):
        head, hexdigits = theirs.split("SSID=", 1)
        theirs = head + "SSID=" + escaped_ssid(hexdigits.split(",")[0])
    theirs = theirs.split("[Malformed Packet", 1)[0]  # tshark's own verdict, compared apart
    return mine.startswith(theirs) or theirs.startswith(mine + ", ")


def compare_outer(mine, t, bad):
    def expect(name, got, want):
        if (got or "") != (want or ""):
            bad.append(f"{name}: wlite {got!r}, tshark {want!r}")

    eth = mine.get("eth", {})
    expect("eth.src", eth.get("src"), t["eth.src"])
    expect("eth.dst", eth.get("dst"), t["eth.dst"])
    expect("vlan", str(mine["vlan"][0]) if mine.get("vlan") else "", t["vlan.id"])
    expect("src", mine.get("src"), t["oracle.ip_src"])
    expect("dst", mine.get("dst"), t["oracle.ip_dst"])
    expect("ipproto", str(mine.get("ipproto", "")), t["oracle.ip_proto"])
    expect("sport", str(mine.get("sport", "")), t["oracle.src_port"])
    expect("dport", str(mine.get("dport", "")), t["oracle.dst_port"])
    flags = mine.get("tcp_flags")
    expect("tcp_flags", f"0x{flags:04x}" if flags is not None else "", t["oracle.tcp_flags"])
    # tshark does not call a frame cut by the snap length malformed.
    expect("malformed", "1" if mine.get("malformed") == "invalid" else "0", t["oracle.malformed"])
    qname = mine.get("dns", {}).get("qname", "")
    expect("dns.qname", qname, t["dns.qry.name"])


def compare_frame(mine, t, layers, bad):
    compare_outer(mine, t, bad)
    want_inner = inner_of(layers)
    got_inner = {k: str(v) for k, v in mine.get("inner", {}).items()}
    if (want_inner or {}) != got_inner:
        bad.append(f"inner: wlite {got_inner}, tshark {want_inner}")
    col = t["_ws.col.Protocol"]
    if col.startswith("GTP <") and col.endswith(">"):
        col = col[5:-1]
    if mine["proto"] != col and mine["proto"] not in PROTO_NAMES.get(col, ()):
        bad.append(f"proto: wlite {mine['proto']!r}, tshark {col!r}")
    elif mine["proto"] in INFO_PROTOS and not info_agrees(mine.get("info", ""), t["_ws.col.Info"]):
        bad.append(f"info: wlite {mine.get('info')!r}, tshark {t['_ws.col.Info']!r}")


def check_capture(capd, oracle, path, env):
    mine = ours(capd, path)
    theirs = tshark_fields(path, oracle, env)
    layers = tshark_layers(path, env)
    failures = 0
    if len(mine) != len(theirs):
        print(f"{path}: wlite printed {len(mine)} frames, tshark {len(theirs)}")
        failures += 1
    for n in sorted(theirs):
        bad = []
        if n not in mine:
            bad.append("no row from wlite")
        else:
            compare_frame(mine[n], theirs[n], layers[n - 1], bad)
        for b in bad:
            print(f"{os.path.basename(path)} frame {n} ({theirs[n]['_ws.col.Protocol']}): {b}")
        failures += bool(bad)
    print(f"{path}: {len(theirs) - failures} of {len(theirs)} frames agree")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--capd", required=True)
    ap.add_argument("--oracle", required=True, help="the corpus's oracle.lua")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    profile = tempfile.TemporaryDirectory(prefix="encap-tshark-")
    env = tshark_env(profile.name)
    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith((".pcap", ".pcapng")))
        else:
            files.append(p)
    if not files:
        sys.exit("no captures")
    with profile:
        failures = sum(check_capture(args.capd, args.oracle, f, env) for f in files)
    print(f"{failures} frames disagree" if failures else "every frame agrees")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
