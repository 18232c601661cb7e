#!/usr/bin/env python3
"""Traffic for tests/integration/flows.sh, run inside its network namespaces.

Every command exits by itself (socket timeouts), checks what it received and
exits non-zero (with the reason on stderr) if the exchange went wrong, so
that the test can tell "the network failed" from "the flow report is wrong".

  sink IDLE PORT...                        UDP sink; exits after IDLE s of silence
  udp SRC SPORT DST DPORT COUNT SIZE       COUNT datagrams of SIZE bytes
  udp-stream SRC SPORT DST DPORT RATE SECONDS SIZE
                                           RATE datagrams/s for SECONDS; prints how many
  udp-many SRC SPORT0 COUNT DST DPORT SIZE one datagram from each of COUNT source ports
  bulk-server ADDR PORT DOWN READY         reads to EOF, sends DOWN bytes, closes; prints bytes read
  bulk-client SRC SPORT DST PORT UP DOWN   sends UP bytes, half-closes, wants DOWN bytes back
  dns-server ADDR NAME ANSWER READY        answers one A query for NAME
  dns-client SRC SPORT DST NAME ANSWER     asks for NAME, wants ANSWER
"""
import select
import socket
import struct
import sys
import time


def touch(path):
    open(path, "w", encoding="ascii").close()


def udp_socket(src, sport):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, sport))
    return s


def send_all(s, payload, dst):
    """sendto, retried on a full queue: every datagram must leave once."""
    for _ in range(1000):
        try:
            s.sendto(payload, dst)
            return
        except OSError:
            time.sleep(0.001)
    sys.exit("udp: cannot send to %r" % (dst,))


def payload_of(size):
    return (b"wlite-flow-" * (size // 11 + 1))[:size]


def udp(src, sport, dst, dport, count, size):
    s = udp_socket(src, sport)
    for _ in range(count):
        send_all(s, payload_of(size), (dst, dport))


def udp_stream(src, sport, dst, dport, rate, seconds, size):
    s = udp_socket(src, sport)
    t0, sent = time.monotonic(), 0
    while True:
        due = t0 + sent / rate
        if due - t0 >= seconds:
            break
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        send_all(s, payload_of(size), (dst, dport))
        sent += 1
    print(sent)


def udp_many(src, sport0, count, dst, dport, size):
    for i in range(count):
        s = udp_socket(src, sport0 + i)
        send_all(s, payload_of(size), (dst, dport))
        s.close()


def sink(idle, ports):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("0.0.0.0", p))
        socks.append(s)
    while True:
        ready, _, _ = select.select(socks, [], [], idle)
        if not ready:
            return
        for s in ready:
            try:
                while True:
                    s.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                pass


def read_to_eof(c):
    n = 0
    while True:
        chunk = c.recv(65536)
        if not chunk:
            return n
        n += len(chunk)


def bulk_server(addr, port, down, ready):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(30)
    touch(ready)
    c, _ = s.accept()
    c.settimeout(30)
    n = read_to_eof(c)  # everything read before closing: a FIN, never a RST
    c.sendall(payload_of(down))
    c.close()
    print(n)


def bulk_client(src, sport, dst, port, up, down):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((src, sport))
    c.settimeout(30)
    c.connect((dst, port))
    c.sendall(payload_of(up))
    c.shutdown(socket.SHUT_WR)
    n = read_to_eof(c)
    c.close()
    if n != down:
        sys.exit("tcp: got %d bytes back, want %d" % (n, down))


def dns_name(name):
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"


def dns_server(addr, name, answer, ready):
    s = udp_socket(addr, 53)
    s.settimeout(30)
    touch(ready)
    q, peer = s.recvfrom(512)
    end = 12 + len(dns_name(name)) + 4
    if q[12:end - 4] != dns_name(name):
        sys.exit("dns: unexpected question %r" % q)
    qid = struct.unpack("!H", q[:2])[0]
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + socket.inet_aton(answer)
    s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q[12:end] + rr, peer)


def dns_client(src, sport, dst, name, want):
    s = udp_socket(src, sport)
    s.settimeout(10)
    q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack("!HH", 1, 1)
    s.sendto(q, (dst, 53))
    r = s.recv(512)
    if r[-4:] != socket.inet_aton(want):
        sys.exit("dns: unexpected answer %r" % r)


def main(cmd, a):
    if cmd == "sink":
        sink(float(a[0]), [int(p) for p in a[1:]])
    elif cmd == "udp":
        udp(a[0], int(a[1]), a[2], int(a[3]), int(a[4]), int(a[5]))
    elif cmd == "udp-stream":
        udp_stream(a[0], int(a[1]), a[2], int(a[3]), float(a[4]), float(a[5]), int(a[6]))
    elif cmd == "udp-many":
        udp_many(a[0], int(a[1]), int(a[2]), a[3], int(a[4]), int(a[5]))
    elif cmd == "bulk-server":
        bulk_server(a[0], int(a[1]), int(a[2]), a[3])
    elif cmd == "bulk-client":
        bulk_client(a[0], int(a[1]), a[2], int(a[3]), int(a[4]), int(a[5]))
    elif cmd == "dns-server":
        dns_server(a[0], a[1], a[2], a[3])
    elif cmd == "dns-client":
        dns_client(a[0], int(a[1]), a[2], a[3], a[4])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
