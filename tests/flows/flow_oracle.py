#!/usr/bin/env python3
"""flow_oracle: tshark's view of a capture's conversations, for scoring wlite's flows.

Python 3 standard library only.  Used as a module by flow_score.py and
reference_flows.py, and as a command that prints (and optionally writes as JSON)
the oracle of a corpus directory.

THE ORACLE (issue 11, "How it is checked")
-----------------------------------------
tshark is run ONCE per capture (`tshark -n -r FILE -T fields -E occurrence=a ...`,
stdin closed, an empty WIRESHARK_CONFIG_DIR so that only default preferences
apply, plus -o ip.defragment:FALSE -o ipv6.defragment:FALSE so that every
frame is seen on its own, as a per-packet sniffer sees it).  Per frame it gives
frame.len, every ip.src/ip.dst/ipv6.src/ipv6.dst occurrence, the transport ports,
the fragment fields, the ICMP types, tcp.stream and the tcp.analysis.* flags.
The fields are lined up with the IP layers by walking frame.protocols.

* A frame belongs to the conversation of its IP header: transport
  (TCP 6 / UDP 17 by ipproto, with ports; any other ipproto by address pair
  only) and the UNORDERED pair of endpoints (address, port).  ipproto is
  ip.proto for IPv4; for IPv6 the Next Header chain is followed through
  Hop-by-Hop (0), Routing (43), Fragment (44) and Destination Options (60),
  as the packet schema does.  A TCP/UDP frame that tshark does not dissect
  a TCP/UDP header in at all (e.g. an empty payload) is keyed with no ports.
  Addresses are the header's own (ipv6.src/dst), not the Home Address option
  or the Routing header's final destination that tshark's -z conv uses.
* Direction = which endpoint sent the frame.  Endpoints are ordered (A < B by
  IP version, address bytes, port); index 0 counts A->B, index 1 B->A.  When
  both endpoints are the same, everything counts as A->B.
* Frames and bytes (frame.len, the on-wire length) per direction.
* Left out (the whole conversation, every frame of it): conversations touched
  by a frame that
    - is a tunnel frame: more than one IP header, or a tunnel protocol in
      frame.protocols (TUNNEL_ITEMS: VXLAN carrying ARP has one IP header but
      is still a tunnel frame, which wlite keys by its inner headers);
    - is an IP fragment (IPv4 MF set or offset > 0; IPv6 Fragment header);
    - is an ICMP error (ICMP types 3, 4, 5, 11, 12; ICMPv6 types 1, 2, 3, 4);
    - is unreadable: tshark lists an IP or TCP/UDP header in frame.protocols
      but gives no addresses or ports for it (cut or broken headers), so the
      fields cannot be lined up with the layers.
  "Touched" = every conversation key that any IP header of that frame gives
  (outer and inner, the quoted header of an ICMP error too).  When a TCP/UDP
  layer's ports are unknown (a non-first fragment) every conversation of that
  protocol between its two addresses is left out; for an unreadable frame,
  every conversation of any protocol between them.
* Frames with no IP header, or whose IP addresses tshark could not read, are
  not part of any conversation.
* TCP conversations also get, per direction, the number of frames where
  tshark sets tcp.analysis.retransmission (informational: out_of_order,
  duplicate_ack, zero_window), and an initial RTT.
  RTT choice (a conversation can hold several tcp.stream, e.g. port reuse):
  a stream's iRTT is the first tcp.analysis.initial_rtt tshark shows in it;
  the conversation's rtt_ms is the iRTT of its FIRST stream that has one
  (streams ordered by their first frame), x 1000.  The scorer takes wlite's
  rtt_ms the same way: from the earliest flow (by `first`) that has one.
  All streams' iRTTs are kept in `rtts_ms` for the details.

TSHARK 4.0 TCP ANALYSIS SEMANTICS (what wlite's counters must reproduce)
-----------------------------------------------------------------------
Sources: Wireshark's epan/dissectors/packet-tcp.c -- tcp_analyze_sequence_number(),
tcp_sequence_number_analysis_print_retransmission(), the ts_mru_syn/ts_first_rtt
code in dissect_tcp() and tcp_print_sequence_number_analysis() -- read in the
search library's 3.6/4.0-era copy (the one with the tcp_fastrt_precedence loop,
the spurious check first and "+1 for SYN/FIN" in the out-of-order test); the
newer copy at github.com/bubbasnmp/SYN-bit-wireshark@9c30e81a7fd8 (same path)
adds an out-of-order rule for "a segment ending exactly at nextseq after a pure
ACK raised it" (Wireshark issue 17214) that tshark 4.0.17 does NOT apply
[verified].  Also the User's Guide, "TCP Analysis" (#ChAdvTCPAnalysis in
github.com/wireshark/wireshark doc/wsug_src/wsug_advanced.adoc @043daf62b28f,
which is newer than 4.0: its SACK conditions for dup ACKs / window updates and
"more than 2 MSS jumped over" for fast retransmissions are not in 4.0's code).
Every rule below marked [verified] was checked against tshark 4.0.17 on
hand-made captures; the others are read from the code.

State is kept per tcp.stream and per direction ("fwd" = the sender of the
segment being analysed, "rev" = the other direction), on the RAW (absolute)
sequence numbers, compared modulo 2^32 (LT_SEQ/GT_SEQ: signed 32-bit
difference).  Analysis runs once per frame, in file order.  Terms:
  seglen   TCP payload length (SYN and FIN do not add to it).
  nextseq  "next expected sequence number" of a direction: after each segment
           it becomes seq + seglen (+1 if SYN or FIN is set: each occupies one
           sequence number), but only if that is greater than the stored value
           (or nothing is stored yet: a stored 0 means "unknown").  Every
           segment updates it, pure ACKs too (seq + 0), EXCEPT a zero-window
           probe; keep-alives never raise it.  nextseqtime is the capture
           time of the segment that last raised it.
  lastack  the ACK number of the direction's latest segment (updated by every
           segment), lastacktime that segment's capture time; window = the
           direction's latest window value.
Per segment, in this order:
  1. Zero-window probe: seglen == 1 and seq == fwd.nextseq and rev.window == 0.
     Skips the keep-alive/window/dup-ACK checks (2-6) and does not move nextseq.
  2. Zero window (tcp.analysis.zero_window): window field == 0 and none of
     SYN/FIN/RST.  Counted on every such segment, pure ACKs included [verified].
  3. Lost segment: fwd.nextseq known and seq > fwd.nextseq and not RST.
  4. Keep-alive: seglen 0 or 1 and seq == fwd.nextseq - 1 and none of
     SYN/FIN/RST [verified].
  5. Keep-alive ACK / zero-window-probe ACK: seglen 0, same window (non-zero /
     zero), seq == fwd.nextseq, ack == fwd.lastack, rev's last segment was a
     keep-alive / zero-window probe.  These supersede the dup-ACK check.
  6. Duplicate ACK (tcp.analysis.duplicate_ack): seglen == 0 and window != 0
     and window == fwd.window (unchanged) and seq == fwd.nextseq and
     ack == fwd.lastack and none of SYN/FIN/RST [verified: window 0 is never a
     dup ACK; a segment with data is never one].  fwd.dupacknum counts them;
     it is reset whenever the ACK number changes (and after an "ACKed unseen
     segment" in the other direction the count restarts).  tshark prints the
     field twice per frame ("1,1"): count frames, not occurrences.
  7. Retransmission family, only for segments with seglen > 0 or SYN or FIN:
     seq_not_advanced = fwd.nextseq != 0 and seq < fwd.nextseq; but a segment
     with seglen > 1 and seq == fwd.nextseq - 1 is not "not advanced" (data
     after a dropped zero-window probe byte).  Keep-alives (4) stop here.
     a. SPURIOUS: seglen > 0 and rev.lastack != 0 and seq + seglen <= rev.lastack
        (all of it already ACKed) -> tcp.analysis.spurious_retransmission.
        Checked FIRST in 4.0 [verified: a segment that is also out-of-order by
        rule c is reported spurious, not out-of-order].
     b. FAST RETRANSMISSION (tcp.fastrt_supersedes_ooo, default TRUE, puts it
        before c): seq_not_advanced and rev.dupacknum >= 2 and
        rev.lastack == seq and (now - rev.lastacktime) < 20 ms.
     c. OUT-OF-ORDER: seq_not_advanced and (now - fwd.nextseqtime) < threshold
        and fwd.nextseq != seq + seglen (+1 if SYN or FIN).  threshold = the
        stream's iRTT if it is known (non-zero) yet, else 3 ms.  The time
        difference is unsigned: a segment stamped EARLIER than nextseqtime is
        never out-of-order, it is a plain retransmission [verified].
        Example [verified]: a FIN sent again 1 ms later is a retransmission,
        not out-of-order, thanks to the +1.
     d. RETRANSMISSION: otherwise, if seq_not_advanced.
     tcp.analysis.retransmission is present for a, b AND d (tshark adds the
     "retransmission" expert item with the spurious and fast ones)
     [verified]; not for c (out-of-order) nor keep-alives; a zero-window
     probe (seq == nextseq) is not "not advanced", so only rule a can flag it.
     SYN and SYN/ACK sent again, and FIN sent again, are retransmissions
     [verified].  A pure ACK or RST without data is never one.
  iRTT (tcp.analysis.initial_rtt): ts_mru_syn = capture time of the most
  recent SYN WITHOUT ACK of the stream (a retransmitted SYN moves it).  The
  first later segment of the stream, in EITHER direction, with ACK set and SYN
  clear (data, FIN or RST allowed) sets iRTT = its time - ts_mru_syn, once.
  [verified: SYN retransmitted 1 s later then ACK 30 ms after it -> 30 ms;
  a server pure ACK before the client's ACK sets it; without any SYN/ACK in
  the capture the client's first ACK still sets it; an ACK with the SAME
  timestamp as the SYN gives 0, which means "not set", and the next such
  segment sets it.]  tshark only displays it on frames that have analysis
  data, from that segment on; a new SYN with a different ISN after the stream
  ended starts a new tcp.stream with its own iRTT (port reuse) [verified].
"""

import argparse
import concurrent.futures
import decimal
import gzip
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

DEFAULT_CORPUS = "/work/shared/pcap-corpus/dev"
DEFAULT_CACHE = os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "wlite", "flow-oracle")

# Bump when FIELDS, OPTIONS or the way the cached text is produced changes.
CACHE_FORMAT = 1

FIELDS = (
    "frame.number", "frame.time_epoch", "frame.len", "frame.protocols",
    "ip.src", "ip.dst", "ip.proto", "ip.flags.mf", "ip.frag_offset",
    "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hopopts.nxt", "ipv6.routing.nxt",
    "ipv6.dstopts.nxt", "ipv6.fraghdr.nxt",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
    "icmp.type", "icmpv6.type",
    "tcp.stream", "tcp.flags",
    "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order",
    "tcp.analysis.duplicate_ack", "tcp.analysis.zero_window",
    "tcp.analysis.initial_rtt",
)
COL = {name: i for i, name in enumerate(FIELDS)}
OPTIONS = (
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.analyze_sequence_numbers:TRUE",
)

# frame.protocols items that mean "this frame is tunnelled"
TUNNEL_ITEMS = frozenset((
    "gre", "erspan", "vxlan", "geneve", "teredo", "ipip", "l2tp", "gtp",
    "gtpprime", "lisp", "ayiya", "nsh", "udpencap", "lwapp", "capwap", "eoip",
))
ICMP_ERRORS = frozenset((3, 4, 5, 11, 12))
ICMPV6_ERRORS = frozenset((1, 2, 3, 4))
PORT_PROTOS = {6: "tcp", 17: "udp"}
IPV6_EXT = {"ipv6.hopopts": "ipv6.hopopts.nxt", "ipv6.routing": "ipv6.routing.nxt",
            "ipv6.dstopts": "ipv6.dstopts.nxt", "ipv6.fraghdr": "ipv6.fraghdr.nxt"}
IPV6_EXT_NUMBERS = frozenset((0, 43, 44, 60))
CAPTURE_EXTS = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz")


class OracleError(Exception):
    pass


# ------------------------------------------------------------ tshark + cache

def tshark_version(cache_dir=None):
    """tshark's version line; remembered in cache_dir next to the identity of
    the tshark binary (path, size, mtime), so that a cached run starts no tshark."""
    exe = shutil.which("tshark")
    if exe is None:
        raise OracleError("tshark is not installed (Debian: apt-get install tshark)")
    st = os.stat(exe)
    ident = [os.path.realpath(exe), st.st_size, st.st_mtime_ns]
    memo = os.path.join(cache_dir, "tshark-version.json") if cache_dir else None
    if memo:
        try:
            with open(memo, encoding="utf-8") as fh:
                got = json.load(fh)
            if got.get("ident") == ident and got.get("version", "").startswith("TShark"):
                return got["version"]
        except (OSError, ValueError, AttributeError):
            pass
    version = ask_tshark_version()
    if memo:
        os.makedirs(cache_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"ident": ident, "version": version}, fh)
        os.replace(tmp, memo)
    return version


def ask_tshark_version():
    try:
        out = subprocess.run(["tshark", "--version"], stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OracleError(f"cannot run tshark: {exc}") from exc
    first = out.stdout.splitlines()[0] if out.stdout else ""
    if not first.startswith("TShark"):
        raise OracleError(f"unexpected `tshark --version` output: {out.stdout[:200]!r}")
    return first.strip()


def tshark_argv(capture):
    argv = ["tshark", "-n", "-r", capture, *OPTIONS, "-T", "fields",
            "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,",
            "-E", "quote=n", "-E", "header=n"]
    for f in FIELDS:
        argv += ["-e", f]
    return argv


def signature(version):
    """What the cached text depends on, besides the capture itself."""
    text = json.dumps([CACHE_FORMAT, version, FIELDS, OPTIONS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(cache_dir, capture):
    full = os.path.abspath(capture)
    tag = hashlib.sha256(full.encode()).hexdigest()[:12]
    base = "".join(c if c.isalnum() or c in "._-" else "_" for c in os.path.basename(full))
    return os.path.join(cache_dir, f"{base[:80]}.{tag}.tsv.gz")


def file_key(capture, sig):
    st = os.stat(capture)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sig": sig}


def read_cache(path, key):
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as fh:
            head = json.loads(fh.readline())
            if head.get("key") != key:
                return None
            return head, fh.read()
    except (OSError, ValueError, EOFError):
        return None


def write_cache(path, head, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb",
                                                        compresslevel=3) as gz:
            gz.write((json.dumps(head) + "\n").encode())
            gz.write(text.encode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def run_tshark(capture, profile_dir, timeout):
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=profile_dir)
    start = time.monotonic()
    try:
        proc = subprocess.run(tshark_argv(capture), stdin=subprocess.DEVNULL,
                              capture_output=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OracleError(f"tshark timed out after {timeout}s on {capture}") from exc
    except OSError as exc:
        raise OracleError(f"cannot run tshark: {exc}") from exc
    stderr = proc.stderr.decode("utf-8", "replace")
    # tshark warns about running as root on every run; that is not a problem.
    notes = [ln for ln in stderr.splitlines()
             if ln.strip() and "could be dangerous" not in ln]
    head = {"rc": proc.returncode, "stderr": "\n".join(notes)[-2000:],
            "seconds": round(time.monotonic() - start, 3)}
    return head, proc.stdout.decode("utf-8", "replace")


class TsharkRunner:
    """Runs tshark once per capture, with an on-disk cache keyed by the
    capture's size and mtime, the tshark version and the field list."""

    def __init__(self, cache_dir=None, timeout=600.0):
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.version = tshark_version(cache_dir)
        self.sig = signature(self.version)
        self.profile = None
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def close(self):
        if self.profile:
            try:
                os.rmdir(self.profile)
            except OSError:
                pass

    def text(self, capture):
        """(head, tshark stdout text) for capture."""
        key = file_key(capture, self.sig)
        path = cache_path(self.cache_dir, capture) if self.cache_dir else None
        if path:
            got = read_cache(path, key)
            if got is not None:
                with self.lock:
                    self.hits += 1
                return got
        with self.lock:
            self.misses += 1
            if self.profile is None:
                # an empty configuration directory: tshark's default preferences only
                self.profile = tempfile.mkdtemp(prefix="flow-oracle-profile-")
        head, text = run_tshark(capture, self.profile, self.timeout)
        head["key"] = key
        head["file"] = os.path.abspath(capture)
        if path:
            write_cache(path, head, text)
        return head, text


# ------------------------------------------------------------ per-frame parsing

def split_values(text):
    return text.split(",") if text else []


def to_int(text, default=None):
    try:
        return int(text, 0) if text.startswith("0x") else int(text)
    except (ValueError, AttributeError):
        return default


def parse_addr(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class Layer:
    """One IP header of a frame, with what tshark says directly after it."""
    __slots__ = ("src", "dst", "proto", "fragment", "sport", "dport", "ports_known")

    def __init__(self, src, dst, proto):
        self.src, self.dst, self.proto = src, dst, proto
        self.fragment = False
        self.sport = self.dport = None
        self.ports_known = False


class Frame:
    __slots__ = ("number", "time", "length", "layers", "tunnel", "fragment",
                 "icmp_error", "aligned", "ip_headers", "stream", "tcp_flags",
                 "retrans", "fast", "spurious", "ooo", "dupack", "zerowin", "irtt")


def _take(lists, name, counters):
    """Next unused occurrence of field `name` (None when exhausted)."""
    i = counters.get(name, 0)
    counters[name] = i + 1
    vals = lists[name]
    return vals[i] if i < len(vals) else None


def _ipv6_layer(lists, counters, chain, pos):
    """Builds the IPv6 layer at chain[pos]; follows its extension headers."""
    src = parse_addr(_take(lists, "ipv6.src", counters) or "")
    dst = parse_addr(_take(lists, "ipv6.dst", counters) or "")
    nxt = to_int(_take(lists, "ipv6.nxt", counters) or "")
    layer = Layer(src, dst, nxt)
    j = pos + 1
    while j < len(chain) and chain[j] in IPV6_EXT:
        item = chain[j]
        value = to_int(_take(lists, IPV6_EXT[item], counters) or "")
        if item == "ipv6.fraghdr":
            layer.fragment = True
        if layer.proto in IPV6_EXT_NUMBERS and value is not None:
            layer.proto = value
        j += 1
    return layer


def _ipv4_layer(lists, counters):
    src = parse_addr(_take(lists, "ip.src", counters) or "")
    dst = parse_addr(_take(lists, "ip.dst", counters) or "")
    layer = Layer(src, dst, to_int(_take(lists, "ip.proto", counters) or ""))
    mf = _take(lists, "ip.flags.mf", counters)
    off = to_int(_take(lists, "ip.frag_offset", counters) or "", 0)
    layer.fragment = mf in ("1", "True") or (off or 0) > 0
    return layer


def _attach_ports(layers, lists, counters, transport):
    sport = _take(lists, transport + ".srcport", counters)
    dport = _take(lists, transport + ".dstport", counters)
    if not layers or layers[-1].ports_known:
        return
    layer = layers[-1]
    layer.sport, layer.dport = to_int(sport or ""), to_int(dport or "")
    layer.ports_known = layer.sport is not None and layer.dport is not None


def walk_layers(lists, chain):
    """IP layers of a frame in dissection order, and whether every field
    occurrence was used exactly once (alignment check)."""
    counters, layers, icmp_types = {}, [], []
    for pos, item in enumerate(chain):
        if item == "ip":
            layers.append(_ipv4_layer(lists, counters))
        elif item == "ipv6":
            layers.append(_ipv6_layer(lists, counters, chain, pos))
        elif item == "tcp":
            _attach_ports(layers, lists, counters, "tcp")
        elif item in ("udp", "udplite"):
            _attach_ports(layers, lists, counters, "udp")
        elif item == "icmp":
            icmp_types.append(("icmp", to_int(_take(lists, "icmp.type", counters) or "")))
        elif item == "icmpv6":
            icmp_types.append(("icmpv6", to_int(_take(lists, "icmpv6.type", counters) or "")))
    aligned = all(counters.get(name, 0) == len(lists[name]) for name in (
        "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "udp.srcport"))
    return layers, icmp_types, aligned


def parse_frame(line):
    cols = line.split("\t")
    if len(cols) != len(FIELDS):
        return None
    lists = {name: split_values(cols[COL[name]]) for name in FIELDS}
    f = Frame()
    f.number = to_int(cols[COL["frame.number"]])
    f.time = cols[COL["frame.time_epoch"]]
    f.length = to_int(cols[COL["frame.len"]], 0)
    chain = cols[COL["frame.protocols"]].split(":") if cols[COL["frame.protocols"]] else []
    f.layers, icmp_types, f.aligned = walk_layers(lists, chain)
    # Occurrences the chain walk did not see (ICMP types of a protocol tshark
    # did not list) still count: any error type marks the frame.
    all_icmp = [("icmp", to_int(v)) for v in lists["icmp.type"]] + \
               [("icmpv6", to_int(v)) for v in lists["icmpv6.type"]] + icmp_types
    f.icmp_error = any((k == "icmp" and t in ICMP_ERRORS) or (k == "icmpv6" and t in ICMPV6_ERRORS)
                       for k, t in all_icmp)
    f.ip_headers = max(len(f.layers), len(lists["ip.src"]) + len(lists["ipv6.src"]))
    f.tunnel = f.ip_headers > 1 or any(item in TUNNEL_ITEMS for item in chain)
    f.fragment = any(layer.fragment for layer in f.layers) or bool(lists["ipv6.fraghdr.nxt"])
    stream = lists["tcp.stream"]
    f.stream = to_int(stream[0]) if stream else None
    flags = lists["tcp.flags"]
    f.tcp_flags = to_int(flags[0]) if flags else None
    f.retrans = bool(lists["tcp.analysis.retransmission"])
    f.fast = bool(lists["tcp.analysis.fast_retransmission"])
    f.spurious = bool(lists["tcp.analysis.spurious_retransmission"])
    f.ooo = bool(lists["tcp.analysis.out_of_order"])
    f.dupack = bool(lists["tcp.analysis.duplicate_ack"])
    f.zerowin = bool(lists["tcp.analysis.zero_window"])
    irtt = lists["tcp.analysis.initial_rtt"]
    f.irtt = irtt[0] if irtt else None
    return f


def parse_frames(text):
    """Frames of tshark's output; lines that do not parse are counted."""
    frames, bad = [], 0
    for line in text.split("\n"):
        if not line:
            continue
        f = parse_frame(line)
        if f is None or f.number is None:
            bad += 1
            continue
        frames.append(f)
    return frames, bad


# ------------------------------------------------------------ conversations

def endpoint_sort_key(ep):
    addr, port = ep
    return (addr.version, addr.packed, -1 if port is None else port)


def conv_key(proto, src, sport, dst, dport):
    """(key, direction): key = (proto, A, B) with endpoints (addr, port), A <= B;
    direction 0 when src is A."""
    if proto not in PORT_PROTOS:
        sport = dport = None
    a, b = (src, sport), (dst, dport)
    if endpoint_sort_key(a) <= endpoint_sort_key(b):
        return (proto, a, b), 0
    return (proto, b, a), 1


def endpoint_text(ep):
    addr, port = ep
    text = f"[{addr}]" if addr.version == 6 else str(addr)
    return text if port is None else f"{text}:{port}"


def key_text(key):
    proto, a, b = key
    name = PORT_PROTOS.get(proto, f"ip{proto}")
    return f"{name} {endpoint_text(a)} {endpoint_text(b)}"


def pair_key(proto, src, dst):
    return (proto, frozenset((src, dst)))


def layer_usable(layer):
    return layer.src is not None and layer.dst is not None and layer.proto is not None


class Exclusions:
    """Conversation keys left out, with the reasons, exact or by address pair."""

    def __init__(self):
        self.exact = {}
        self.pairs = {}

    def touch(self, frame, reason):
        for layer in frame.layers:
            if layer.src is None or layer.dst is None:
                continue
            if not frame.aligned or layer.proto is None:
                # fields not lined up with the layers: any protocol between them
                self.pairs.setdefault(pair_key("*", layer.src, layer.dst), set()).add(reason)
            elif layer.proto in PORT_PROTOS and not layer.ports_known:
                self.pairs.setdefault(pair_key(layer.proto, layer.src, layer.dst),
                                      set()).add(reason)
            else:
                key, _ = frame_conv_key(layer)
                self.exact.setdefault(key, set()).add(reason)

    def reasons(self, key):
        proto, a, b = key
        found = set(self.exact.get(key, ()))
        pair = frozenset((a[0], b[0]))
        found |= self.pairs.get((proto, pair), set())
        found |= self.pairs.get(("*", pair), set())
        return found


def frame_reason(frame):
    reasons = []
    if not frame.aligned:
        reasons.append("unreadable")
    if frame.tunnel:
        reasons.append("tunnel")
    if frame.fragment:
        reasons.append("fragment")
    if frame.icmp_error:
        reasons.append("icmp-error")
    return reasons


def new_conv(key):
    proto, a, b = key
    conv = {"key": key_text(key), "ipproto": proto,
            "a": str(a[0]), "b": str(b[0]),
            "frames": [0, 0], "bytes": [0, 0], "first_frame": None}
    if a[1] is not None:
        conv["a_port"], conv["b_port"] = a[1], b[1]
    if proto == 6:
        conv["tcp"] = {"retransmissions": [0, 0], "out_of_order": [0, 0],
                       "dup_acks": [0, 0], "zero_windows": [0, 0],
                       "streams": {}}
    return conv


def add_tcp(conv, frame, direction):
    tcp = conv["tcp"]
    for name, flag in (("retransmissions", frame.retrans), ("out_of_order", frame.ooo),
                       ("dup_acks", frame.dupack), ("zero_windows", frame.zerowin)):
        if flag:
            tcp[name][direction] += 1
    if frame.stream is None:
        return
    st = tcp["streams"].setdefault(frame.stream, {"first_frame": frame.number, "irtt": None})
    if st["irtt"] is None and frame.irtt:
        st["irtt"] = frame.irtt


def irtt_ms(text):
    try:
        return float(decimal.Decimal(text) * 1000)
    except (decimal.InvalidOperation, ValueError):
        return None


def finish_tcp(conv):
    tcp = conv["tcp"]
    streams = sorted(tcp.pop("streams").items(), key=lambda kv: kv[1]["first_frame"])
    tcp["streams"] = len(streams)
    rtts = [irtt_ms(st["irtt"]) for _, st in streams if st["irtt"]]
    rtts = [r for r in rtts if r is not None]
    if rtts:
        tcp["rtt_ms"] = rtts[0]
        tcp["rtts_ms"] = rtts


def single_layer(frame):
    """The frame's only IP layer when it is an ordinary (non-tunnel) IP frame."""
    if frame.tunnel or len(frame.layers) != 1:
        return None
    layer = frame.layers[0]
    return layer if layer_usable(layer) else None


def frame_conv_key(layer):
    sport, dport = (layer.sport, layer.dport) if layer.ports_known else (None, None)
    return conv_key(layer.proto, layer.src, sport, layer.dst, dport)


def conversations(frames):
    """The oracle of one capture: (kept conversations, excluded summary, stats)."""
    convs, excl = {}, Exclusions()
    stats = {"frames": len(frames), "ip_frames": 0, "excluding_frames": 0,
             "unaligned_frames": 0, "no_port_frames": 0}
    for f in frames:
        reasons = frame_reason(f)
        if reasons:
            stats["excluding_frames"] += 1
            for r in reasons:
                excl.touch(f, r)
        if not f.aligned:
            stats["unaligned_frames"] += 1
        layer = single_layer(f)
        if layer is None:
            continue
        stats["ip_frames"] += 1
        if layer.proto in PORT_PROTOS and not layer.ports_known and not reasons:
            stats["no_port_frames"] += 1
        key, direction = frame_conv_key(layer)
        conv = convs.get(key)
        if conv is None:
            conv = convs[key] = new_conv(key)
            conv["first_frame"] = f.number
        conv["frames"][direction] += 1
        conv["bytes"][direction] += f.length
        if "tcp" in conv:
            add_tcp(conv, f, direction)
    kept, excluded = [], {}
    for key, conv in convs.items():
        if "tcp" in conv:
            finish_tcp(conv)
        why = excl.reasons(key)
        if why:
            for r in why:
                excluded[r] = excluded.get(r, 0) + 1
            continue
        kept.append(conv)
    kept.sort(key=lambda c: c["first_frame"])
    stats["conversations_seen"] = len(convs)
    stats["excluded"] = excluded
    stats["excluded_conversations"] = len(convs) - len(kept)
    return kept, excl, stats


# ------------------------------------------------------------ corpus level

def collect_captures(paths):
    """Capture files: a directory means each file with a NAME.expected.csv
    oracle beside it, or a capture extension; a file is taken as given."""
    found = []
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                full = os.path.join(p, name)
                if name.startswith(".") or name.endswith((".csv", ".md", ".json", ".txt")):
                    continue
                if not os.path.isfile(full):
                    continue
                if os.path.isfile(full + ".expected.csv") or name.endswith(CAPTURE_EXTS):
                    found.append(full)
        elif os.path.isfile(p):
            found.append(p)
        else:
            raise OracleError(f"no such file or directory: {p}")
    if not found:
        raise OracleError("no captures found")
    return found


def file_oracle(runner, capture):
    """The oracle of one capture as a JSON-able dict (conversations plus the
    Exclusions object under '_excl' for in-process users)."""
    head, text = runner.text(capture)
    frames, bad = parse_frames(text)
    kept, excl, stats = conversations(frames)
    stats["unparsed_lines"] = bad
    res = {"file": capture, "name": os.path.basename(capture),
           "tshark_rc": head.get("rc"), "tshark_seconds": head.get("seconds"),
           "stats": stats, "conversations": kept, "_excl": excl}
    if head.get("stderr"):
        res["tshark_stderr"] = head["stderr"]
    return res


def corpus_oracle(captures, runner, jobs=2):
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda c: file_oracle(runner, c), captures))


def totals(results):
    t = {"files": len(results), "frames": 0, "conversations": 0, "tcp": 0, "udp": 0,
         "other": 0, "tcp_with_retransmissions": 0, "tcp_with_rtt": 0,
         "tcp_with_several_rtts": 0, "excluded_conversations": 0, "excluded": {},
         "tshark_errors": 0, "unaligned_frames": 0, "no_port_frames": 0}
    for r in results:
        st = r["stats"]
        t["frames"] += st["frames"]
        t["excluded_conversations"] += st["excluded_conversations"]
        t["unaligned_frames"] += st["unaligned_frames"]
        t["no_port_frames"] += st["no_port_frames"]
        for k, v in st["excluded"].items():
            t["excluded"][k] = t["excluded"].get(k, 0) + v
        if r["tshark_rc"]:
            t["tshark_errors"] += 1
        for c in r["conversations"]:
            t["conversations"] += 1
            t[PORT_PROTOS.get(c["ipproto"], "other")] += 1
            tcp = c.get("tcp")
            if tcp:
                t["tcp_with_retransmissions"] += any(tcp["retransmissions"])
                t["tcp_with_rtt"] += "rtt_ms" in tcp
                t["tcp_with_several_rtts"] += len(tcp.get("rtts_ms", ())) > 1
    return t


# ------------------------------------------------------------ cross-check

CONV_LINE = re.compile(
    r"^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+) (bytes|kB|MB|GB)\s+(\d+)\s+(\d+) (bytes|kB|MB|GB)\s")
UNIT = {"bytes": 1, "kB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3}


def split_endpoint(text, with_port):
    if not with_port:
        return parse_addr(text), None
    addr, _, port = text.rpartition(":")
    return parse_addr(addr), to_int(port)


def byte_range(count, unit):
    """The byte counts tshark's rounded "N kB" can stand for (floor or round)."""
    scale = UNIT[unit]
    if scale == 1:
        return count, count
    return max(0, count * scale - scale // 2), (count + 1) * scale - 1


def conv_tables(capture, profile):
    """tshark's own -z conv,tcp / conv,udp / conv,ip tables: {(table, A, B): (->, <-)}
    where each side is (frames, fewest bytes, most bytes)."""
    argv = ["tshark", "-n", "-r", capture, *OPTIONS, "-q",
            "-z", "conv,tcp", "-z", "conv,udp", "-z", "conv,ip"]
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=profile)
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                         check=False, timeout=600).stdout.decode("utf-8", "replace")
    rows, table = {}, None
    for line in out.splitlines():
        for name in ("TCP", "UDP", "IPv4", "IPv6"):
            if line.startswith(name + " Conversations"):
                table = name
        m = CONV_LINE.match(line)
        if not m or table is None:
            continue
        with_port = table in ("TCP", "UDP")
        a = split_endpoint(m.group(1), with_port)
        b = split_endpoint(m.group(2), with_port)
        back = (int(m.group(3)), *byte_range(int(m.group(4)), m.group(5)))
        fwd = (int(m.group(6)), *byte_range(int(m.group(7)), m.group(8)))
        if a[0] is None or b[0] is None:
            continue
        if endpoint_sort_key(b) < endpoint_sort_key(a):
            a, b, fwd, back = b, a, back, fwd
        key = ({"IPv4": "IP", "IPv6": "IP"}.get(table, table), a, b)
        old = rows.get(key)
        if old:   # several rows of one pair (port reuse): add them up
            fwd = tuple(x + y for x, y in zip(old[0], fwd))
            back = tuple(x + y for x, y in zip(old[1], back))
        rows[key] = (fwd, back)
    return rows


def touched_pairs(excl):
    pairs = set()
    for proto, a, b in excl.exact:
        pairs.add(frozenset((a[0], b[0])))
    for _, pair in excl.pairs:
        pairs.add(pair)
    return pairs


def cross_check_file(result, profile):
    """Compares a file's oracle with tshark's conversation tables.  TCP/UDP:
    every kept conversation must be a row with the same frames (bytes as far
    as tshark's rounded units tell).  IP: address pairs no excluded frame
    touches, summed over all protocols.  Returns a list of disagreements."""
    rows = conv_tables(result["file"], profile)
    ours, problems = {}, []
    for c in result["conversations"]:
        a, b = parse_addr(c["a"]), parse_addr(c["b"])
        ours.setdefault(("IP", frozenset((a, b))), []).append(c)
        table = PORT_PROTOS.get(c["ipproto"], "").upper()
        if not table or "a_port" not in c:
            continue
        ea, eb = (a, c["a_port"]), (b, c["b_port"])
        got, flip = rows.get((table, ea, eb)), False
        if got is None:
            problems.append(f"{c['key']}: no row in tshark's conv,{table.lower()}")
            continue
        check_sides(c, got, flip, problems)
    skip = touched_pairs(result["_excl"])
    for (table, a, b), got in rows.items():
        pair = frozenset((a[0], b[0]))
        if table != "IP" or pair in skip:
            continue
        convs = ours.get(("IP", pair), [])
        frames = [0, 0]
        for c in convs:
            d = 0 if parse_addr(c["a"]) == a[0] else 1
            frames[d] += c["frames"][0]
            frames[1 - d] += c["frames"][1]
        if a[0] == b[0]:
            frames = [sum(frames), 0]
            got = ((got[0][0] + got[1][0], 0, 0), (0, 0, 0))
        if frames != [got[0][0], got[1][0]]:
            problems.append(f"ip {a[0]} {b[0]}: frames {frames} vs conv,ip "
                            f"[{got[0][0]}, {got[1][0]}]")
    return problems


def check_sides(conv, got, flip, problems):
    fwd, back = (got[1], got[0]) if flip else got
    for d, side in enumerate((fwd, back)):
        if conv["frames"][d] != side[0] or not side[1] <= conv["bytes"][d] <= side[2]:
            problems.append(f"{conv['key']}: frames {conv['frames']} bytes {conv['bytes']} "
                            f"vs tshark -> {fwd} <- {back}")
            return


def run_cross_check(results, runner, jobs):
    profile = tempfile.mkdtemp(prefix="flow-oracle-profile-")
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            found = list(pool.map(lambda r: cross_check_file(r, profile), results))
    finally:
        os.rmdir(profile)
    bad = 0
    for r, problems in zip(results, found):
        for p in problems:
            bad += 1
            print(f"  cross-check {r['name']}: {p}")
    print(f"  cross-check against tshark's conversation tables: {bad} disagreements")
    return bad


def public(result):
    return {k: v for k, v in result.items() if not k.startswith("_")}


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="flow_oracle.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="tshark's conversations of each capture, as issue 11 defines "
                    "the flow oracle (see the top of this file).")
    ap.add_argument("paths", nargs="*", default=[DEFAULT_CORPUS],
                    help=f"capture files or corpus directories ({DEFAULT_CORPUS})")
    ap.add_argument("--cache", default=DEFAULT_CACHE, metavar="DIR",
                    help=f"tshark output cache directory ({DEFAULT_CACHE})")
    ap.add_argument("--no-cache", action="store_true", help="always run tshark")
    ap.add_argument("--jobs", type=int, default=2, help="tshark runs in parallel (2)")
    ap.add_argument("--json", metavar="FILE", help="write the oracle as JSON")
    ap.add_argument("--list", action="store_true", help="print every conversation")
    ap.add_argument("--cross-check", action="store_true",
                    help="also run tshark -z conv,tcp/udp/ip on every capture and check "
                         "the oracle against those tables (slow: a second tshark run). "
                         "Expected differences: tshark's tables use the IPv6 Routing "
                         "header's final destination / Home Address, and skip frames "
                         "whose TCP/UDP dissection threw (cut or malformed headers)")
    args = ap.parse_args(argv)
    try:
        captures = collect_captures(args.paths)
        runner = TsharkRunner(None if args.no_cache else args.cache)
        start = time.monotonic()
        try:
            results = corpus_oracle(captures, runner, max(1, args.jobs))
        finally:
            runner.close()
        took = time.monotonic() - start
    except OracleError as exc:
        sys.stderr.write(f"flow_oracle: error: {exc}\n")
        return 2
    t = totals(results)
    if args.list:
        for r in results:
            for c in r["conversations"]:
                tcp = c.get("tcp", {})
                extra = ""
                if tcp:
                    extra = f" retrans {tcp['retransmissions']} rtt_ms {tcp.get('rtt_ms', '-')}"
                print(f"{r['name']}: {c['key']} frames {c['frames']} bytes {c['bytes']}{extra}")
    print(f"flow_oracle: {runner.version}")
    print(f"  files {t['files']}, frames {t['frames']}, tshark runs {runner.misses}, "
          f"cache hits {runner.hits}, {took:.1f} s")
    print(f"  conversations {t['conversations']} (tcp {t['tcp']}, udp {t['udp']}, "
          f"other {t['other']}); left out {t['excluded_conversations']} "
          f"{json.dumps(t['excluded'], sort_keys=True)}")
    print(f"  tcp with retransmissions {t['tcp_with_retransmissions']}, with an initial rtt "
          f"{t['tcp_with_rtt']} ({t['tcp_with_several_rtts']} with several)")
    print(f"  tshark non-zero exits {t['tshark_errors']}, frames whose fields could not be "
          f"lined up {t['unaligned_frames']}, tcp/udp frames without ports {t['no_port_frames']}")
    if args.cross_check:
        bad = run_cross_check(results, runner, max(1, args.jobs))
        if bad:
            return 1
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"schema": 1, "tshark": runner.version, "totals": t,
                       "files": [public(r) for r in results]}, fh, indent=1)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
