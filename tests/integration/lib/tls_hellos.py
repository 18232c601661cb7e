# SPDX-License-Identifier: BSD-2-Clause
"""Hand-built TLS handshakes for tests/integration/tls.sh, written with scapy.

A Chrome-like ClientHello with a post-quantum key share (X25519Kyber768,
1,216 bytes: about 1.5 KB in all, more than one segment) and GREASE values,
split over TCP segments; ServerHellos, one of them in a record with a long
Certificate spread over several segments. Each capture comes with the JA4 its
ClientHello must give, computed here from the lists the builder used, after
FoxIO's specification: an implementation independent of the C one.

Run with Debian's /usr/bin/python3 (scapy from python3-scapy).
"""
import hashlib
import struct

from scapy.all import IP, IPv6, TCP, Ether, Raw, wrpcap  # noqa: E402

GREASE = (0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A)
CIPHERS = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
           0x009C, 0x009D, 0x002F, 0x0035]
SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
SNI = b"pq.example.test"
ALPN = [b"h2", b"http/1.1"]


def u8(v):
    return struct.pack("!B", v)


def u16(v):
    return struct.pack("!H", v)


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def ext(t, data):
    return u16(t) + vec16(data)


def client_hello_extensions():
    """(type, data) in the order sent: Chrome's extension order shuffled once."""
    key_share = vec16(u16(GREASE[1]) + vec16(b"\x00")
                      + u16(0x6399) + vec16(bytes(range(256)) * 4 + bytes(192))
                      + u16(0x001D) + vec16(bytes(range(32))))
    return [
        (GREASE[0], b""),
        (0x0033, key_share),
        (0x0000, vec16(u8(0) + vec16(SNI))),
        (0x0017, b""),
        (0x002B, vec8(u16(GREASE[2]) + u16(0x0304) + u16(0x0303))),
        (0x0010, vec16(b"".join(vec8(a) for a in ALPN))),
        (0x000D, vec16(b"".join(u16(s) for s in SIGALGS))),
        (0x000A, vec16(u16(GREASE[3]) + u16(0x6399) + u16(0x001D) + u16(0x0017) + u16(0x0018))),
        (0xFF01, b"\x00"),
        (0x0005, b"\x01\x00\x00\x00\x00"),
        (0x000B, b"\x01\x00"),
        (0x0023, b""),
        (0x0012, b""),
        (0x002D, b"\x01\x01"),
        (0x001B, b"\x00\x02\x00\x02"),
        (0x4469, vec16(vec8(b"h2"))),
        (GREASE[4], b"\x00"),
    ]


def client_hello_record():
    exts = client_hello_extensions()
    body = (u16(0x0303) + bytes(range(32)) + vec8(bytes(range(100, 132)))
            + vec16(b"".join(u16(c) for c in [GREASE[0]] + CIPHERS))
            + vec8(b"\x00") + vec16(b"".join(ext(t, d) for t, d in exts)))
    msg = u8(1) + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + vec16(msg)


def expected_ja4():
    """FoxIO's JA4 of client_hello_record(), from the lists the builder used."""
    exts = [t for t, _ in client_hello_extensions() if t not in GREASE]
    a = "t13d%02d%02d%s" % (min(len(CIPHERS), 99), min(len(exts), 99), "h2")
    b = ",".join("%04x" % c for c in sorted(CIPHERS))
    c = ",".join("%04x" % e for e in sorted(exts) if e not in (0x0000, 0x0010))
    c += "_" + ",".join("%04x" % s for s in SIGALGS)
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()[:12]  # noqa: E731
    return "%s_%s_%s" % (a, h(b), h(c))


def server_hello_record(certificate=0):
    """A TLS 1.3 ServerHello; with certificate, a Certificate message of that many bytes in the same record."""
    body = (u16(0x0303) + bytes(32) + vec8(bytes(range(100, 132))) + u16(0x1301) + b"\x00"
            + vec16(ext(0x002B, u16(0x0304)) + ext(0x0033, u16(0x001D) + vec16(bytes(32)))))
    msgs = u8(2) + struct.pack("!I", len(body))[1:] + body
    if certificate:
        msgs += u8(11) + struct.pack("!I", certificate)[1:] + bytes(certificate)
    return b"\x16\x03\x03" + vec16(msgs)


class Conn:
    """One TCP connection's frames, client 40000 -> server 443, in the order given."""

    def __init__(self, v6=False):
        self.frames = []
        self.t = 1700000000.0
        self.seq = {True: 1000, False: 5000}
        if v6:
            self.ip = {True: lambda: IPv6(src="2001:db8::1", dst="2001:db8::2"),
                       False: lambda: IPv6(src="2001:db8::2", dst="2001:db8::1")}
        else:
            self.ip = {True: lambda: IP(src="10.0.0.1", dst="10.0.0.2"),
                       False: lambda: IP(src="10.0.0.2", dst="10.0.0.1")}

    def send(self, client, payload=b"", flags="PA", seq=None):
        s = self.seq[client] if seq is None else seq
        tcp = TCP(sport=40000 if client else 443, dport=443 if client else 40000, flags=flags, seq=s,
                  ack=self.seq[not client], window=65535)
        p = Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b") / self.ip[client]() / tcp
        if payload:
            p = p / Raw(payload)
        p.time = self.t
        self.t += 0.001
        self.frames.append(p)
        if seq is None:
            self.seq[client] = s + len(payload) + (1 if "S" in flags else 0)

    def handshake(self):
        self.send(True, flags="S")
        self.send(False, flags="SA")
        self.send(True, flags="A")

    def write(self, path):
        wrpcap(path, self.frames)


def split(data, sizes):
    out, at = [], 0
    for n in sizes:
        out.append(data[at:at + n])
        at += n
    out.append(data[at:])
    return [p for p in out if p]


def build(outdir):
    """Writes the captures; returns {name: (path, JA4 of its ClientHello)}."""
    ch, ja4 = client_hello_record(), expected_ja4()
    made = {}

    c = Conn()
    c.handshake()
    for part in split(ch, [1000]):
        c.send(True, part)
    c.send(False, server_hello_record())
    made["two-segments"] = c

    # IPv6, three segments, the middle one sent twice.
    c = Conn(v6=True)
    c.handshake()
    a, b, rest = split(ch, [700, 600])
    start = c.seq[True]
    c.send(True, a)
    c.send(True, b)
    c.send(True, b, seq=start + len(a))
    c.send(True, rest)
    c.send(False, server_hello_record())
    made["three-segments-v6"] = c

    # The ServerHello in one record with a 4,000-byte Certificate, over three segments.
    c = Conn()
    c.handshake()
    c.send(True, ch)
    for part in split(server_hello_record(4000), [1400, 1400]):
        c.send(False, part)
    made["server-record"] = c

    out = {}
    for name, conn in made.items():
        path = "%s/%s.pcap" % (outdir, name)
        conn.write(path)
        out[name] = (path, ja4)
    return out
