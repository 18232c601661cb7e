#!/usr/bin/python3
"""Writes the encapsulation test captures (issue 14) into a directory.

    /usr/bin/python3 tests/captures/encap/gen.py tests/captures/encap

Needs Debian's python3-scapy (2.5); the headers scapy 2.5 lacks (FabricPath,
E-tag, TRILL, LISP, CAPWAP, L2TPv3, radiotap flags) are built by hand here.
The captures are committed, so the test itself needs only tshark; run this
again after changing it and commit what it writes. Every frame is checked
against tshark by check.py (run by meson test as "encap-tshark").

One capture per link type (a pcap has one):
  eth.pcap       Ethernet: data-centre shims, tunnels, IPsec
  radiotap.pcap  802.11 behind radiotap (127): management, control, data
  wlan.pcap      802.11 without radiotap (105)
  chdlc.pcap     Cisco HDLC (104)
  ppphdlc.pcap   PPP in HDLC-like framing (50), with a Cisco HDLC frame
  ppp.pcap       PPP (9)
  sll.pcap       Linux cooked v1 (113) with other ARPHRD types
  sll2.pcap      Linux cooked v2 (276)
"""
import struct
import sys

from scapy.all import (AH, ARP, DNS, DNSQR, ESP, GRE, ICMP, IP, TCP, UDP, Dot1Q, Dot11, Dot11Auth,
                       Dot11AssoReq, Dot11AssoResp, Dot11Beacon, Dot11Deauth, Dot11Disas, Dot11Elt,
                       Dot11ProbeReq, Dot11ProbeResp, Dot11QoS, Ether, IPv6, LLC, Raw, SNAP, wrpcap)
from scapy.contrib.gtp import GTP_U_Header, GTPEchoRequest, GTPPDUSessionContainer
from scapy.layers.l2tp import L2TP
from scapy.layers.ppp import HDLC, PPP, PPP_LCP_Configure

A_MAC, B_MAC = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
C_MAC, D_MAC = "02:00:00:00:00:1a", "02:00:00:00:00:1b"
AP_MAC = "02:00:00:00:00:ap".replace("ap", "0c")
OUT_A, OUT_B = "192.0.2.1", "198.51.100.2"
IN_A, IN_B = "10.1.0.1", "10.2.0.2"
IN6_A, IN6_B = "2001:db8:1::1", "2001:db8:2::2"

T0 = 1700000000.0


def stamp(frames):
    """Deterministic timestamps, a millisecond apart."""
    out = []
    for i, f in enumerate(frames):
        f = Raw(bytes(f))  # the file's link type says what the bytes are
        f.time = T0 + i / 1000.0
        out.append(f)
    return out


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def inner_udp_dns(src=IN_A, dst=IN_B, name="inner.example"):
    return IP(src=src, dst=dst) / UDP(sport=33333, dport=53) / DNS(rd=1, qd=DNSQR(qname=name))


def inner_tcp(src=IN_A, dst=IN_B, flags="S"):
    return IP(src=src, dst=dst) / TCP(sport=40000, dport=443, flags=flags, seq=1000)


def inner6_udp():
    return IPv6(src=IN6_A, dst=IN6_B) / UDP(sport=5000, dport=6000) / Raw(b"v6 payload")


def outer_udp(dport, payload, sport=50000):
    return Ether(src=A_MAC, dst=B_MAC) / IP(src=OUT_A, dst=OUT_B) / UDP(sport=sport, dport=dport) / payload


# ---- Layer 2 shims -------------------------------------------------------------

def fabricpath(inner, tagged=False):
    """Outer DA/SA are hierarchical MACs (switch id 0x123, sub-switch 0, LID 7)."""
    hdr = bytes([0x02, 0x01, 0x23, 0x00, 0x00, 0x07]) + bytes([0x02, 0x04, 0x56, 0x00, 0x00, 0x09])
    if tagged:
        hdr += struct.pack("!HH", 0x8100, 100)
    hdr += struct.pack("!HH", 0x8903, (5 << 6) | 32)  # FTag 5, TTL 32
    return hdr + bytes(inner) + b"\xde\xad\xbe\xef"  # the FabricPath FCS


def etag(next_type, payload):
    # E-PCP 3, ingress E-CID base 0x012, GRP 1, E-CID base 0x345, ext 0x01/0x02
    tag = struct.pack("!HHBB", (3 << 13) | 0x012, (1 << 12) | 0x345, 0x01, 0x02)
    return struct.pack("!6s6sH", mac(B_MAC), mac(A_MAC), 0x893F) + tag + struct.pack("!H", next_type) + bytes(payload)


def trill(inner, options=b""):
    flags = (0 << 14) | (len(options) // 4) << 6 | 20  # version 0, hop count 20
    return (struct.pack("!6s6sH", mac(B_MAC), mac(A_MAC), 0x22F3) +
            struct.pack("!HHH", flags, 0x0101, 0x0202) + options + bytes(inner))


def nsh(next_proto, payload, md_type=1, spi=42, si=254):
    if md_type == 1:
        ctx, words = b"\x00" * 16, 6
    else:
        ctx = struct.pack("!HBB", 0x0101, 0x01, 1) + b"\xaa\xbb\xcc\xdd"  # one variable context header
        words = 2 + len(ctx) // 4
    base = (0 << 14) | (63 << 6) | words
    return struct.pack("!HBB", base, md_type, next_proto) + struct.pack("!I", spi << 8 | si) + ctx + bytes(payload)


def vxlan_gpe(next_proto, payload, vni=4242):
    return struct.pack("!BHB", 0x0C, 0, next_proto) + struct.pack("!I", vni << 8) + bytes(payload)


# ---- Tunnels -------------------------------------------------------------------

def gtpv1_create_pdp():
    """A Create PDP context request with fixed IEs (scapy's defaults are random)."""
    ies = (b"\x02" + bytes.fromhex("21436587092143f5") +  # IMSI
           b"\x0e\x05" + b"\x0f\xfc" +                   # recovery, selection mode
           b"\x10" + struct.pack("!I", 0x11111111) +       # TEID data I
           b"\x14\x05")                                   # NSAPI
    rest = struct.pack("!HBB", 7, 0, 0) + ies           # sequence, N-PDU, no extension
    return struct.pack("!BBHI", 0x32, 16, len(rest), 0) + rest


def gtpv2(msg_type, ies, teid=None, seq=0x10):
    """GTPv2-C: version 2, T flag when there is a TEID."""
    flags = 0x40 | (0x08 if teid is not None else 0)
    rest = (struct.pack("!I", teid) if teid is not None else b"") + struct.pack("!I", seq << 8) + ies
    return struct.pack("!BBH", flags, msg_type, len(rest)) + rest


def ah(next_header, spi, seq, payload, icv_len=12):
    """Length in 4-byte words minus 2: 12 bytes of header and the ICV."""
    words = (12 + icv_len) // 4 - 2
    return struct.pack("!BBHII", next_header, words, 0, spi, seq) + b"\x11" * icv_len + bytes(payload)


def ike_header():
    """An IKEv2 IKE_SA_INIT header without payloads, behind the non-ESP marker."""
    return b"\x00" * 4 + struct.pack("!8s8sBBBBII", b"\x01" * 8, b"\x00" * 8, 0, 0x20, 34, 0x08, 0, 28)


def lisp(inner, flags=0x88, nonce=0x123456, iid=77):
    return struct.pack("!B", flags) + nonce.to_bytes(3, "big") + struct.pack("!I", iid << 8) + bytes(inner)


def l2tpv3_ip_data(session, payload):
    return struct.pack("!I", session) + bytes(payload)


def l2tpv3_ip_control(ccid, msg_type, pw_type=None):
    avps = struct.pack("!HHHH", 0x8008, 0, 0, msg_type)  # Message Type AVP
    if pw_type is not None:
        avps += struct.pack("!HHHH", 0x8008, 0, 68, pw_type)  # Pseudowire Type AVP
        avps += struct.pack("!HHHI", 0x800A, 0, 63, 0x11223344)  # Local Session ID
    length = 12 + len(avps)
    return struct.pack("!IHHIHH", 0, 0xC803, length, ccid, 1, 0) + avps


def l2tpv3_udp_data(session, payload):
    return struct.pack("!HH", 0x0003, 0) + struct.pack("!I", session) + bytes(payload)


def capwap_data(payload, native, wbid=1, keepalive=False, fragment=False, radio_mac=False):
    flags = (0x100 if native else 0) | (0x80 if fragment else 0) | (0x08 if keepalive else 0)
    opt = b""
    if radio_mac:
        flags |= 0x10
        opt = b"\x06" + mac(AP_MAC) + b"\x00"  # length, MAC, padding to 4 bytes
    hlen = (8 + len(opt)) // 4
    word = (hlen << 19) | (1 << 14) | (wbid << 9) | flags
    return b"\x00" + word.to_bytes(3, "big") + struct.pack("!HH", 7, 0) + opt + bytes(payload)


def swap_fc(frame):
    b = bytes(frame)
    return b[1:2] + b[0:1] + b[2:]


def eth_frames():
    f = []
    eth_in = Ether(src=C_MAC, dst=D_MAC) / inner_udp_dns()
    # FabricPath, plain and behind an 802.1Q tag (tshark takes both by their ethertype).
    f.append(fabricpath(eth_in))
    f.append(fabricpath(Ether(src=C_MAC, dst=D_MAC) / inner_tcp(), tagged=True))
    # E-tag carrying IPv4, and carrying an 802.1Q tag then IPv6.
    f.append(etag(0x0800, inner_tcp(src=OUT_A, dst=OUT_B, flags="SA")))
    f.append(etag(0x8100, struct.pack("!HH", 7, 0x86DD) + bytes(inner6_udp())))
    # TRILL with and without options.
    f.append(trill(eth_in))
    f.append(trill(Ether(src=C_MAC, dst=D_MAC) / inner_tcp(), options=b"\x00" * 8))
    # NSH over Ethernet: MD type 1 carrying IPv4, MD type 2 carrying Ethernet, IPv6.
    f.append(Ether(src=A_MAC, dst=B_MAC, type=0x894F) / Raw(nsh(1, inner_tcp(src=OUT_A, dst=OUT_B))))
    f.append(Ether(src=A_MAC, dst=B_MAC, type=0x894F) / Raw(nsh(3, eth_in, md_type=2)))
    f.append(Ether(src=A_MAC, dst=B_MAC, type=0x894F) / Raw(nsh(2, inner6_udp())))
    # VXLAN-GPE: IPv4, Ethernet, NSH then IPv4, IPv6.
    f.append(outer_udp(4790, Raw(vxlan_gpe(1, inner_udp_dns()))))
    f.append(outer_udp(4790, Raw(vxlan_gpe(3, eth_in))))
    f.append(outer_udp(4790, Raw(vxlan_gpe(4, nsh(1, inner_tcp())))))
    f.append(outer_udp(4790, Raw(vxlan_gpe(2, inner6_udp()))))
    # GTP-U: a T-PDU with IPv4, one behind a PDU session container, one with IPv6, an echo.
    f.append(outer_udp(2152, GTP_U_Header(teid=0x1234, gtp_type=255) / inner_udp_dns(), sport=2152))
    f.append(outer_udp(2152, GTP_U_Header(teid=0x1235, gtp_type=255, E=1, S=1, seq=99, next_ex=0x85) /
                       GTPPDUSessionContainer(type=0, QFI=9) / inner_tcp(), sport=2152))
    f.append(outer_udp(2152, GTP_U_Header(teid=0x1236, gtp_type=255) / inner6_udp(), sport=2152))
    f.append(outer_udp(2152, GTP_U_Header(teid=0, gtp_type=1, S=1, seq=5) / GTPEchoRequest(), sport=2152))
    # GTP-C: v1 Create PDP context request, v2 Create Session Request and Echo Request.
    f.append(outer_udp(2123, Raw(gtpv1_create_pdp()), sport=2123))
    imsi = struct.pack("!BHB", 1, 8, 0) + bytes.fromhex("21436587092143f5")  # IMSI IE
    f.append(outer_udp(2123, Raw(gtpv2(32, imsi, teid=0)), sport=2123))
    f.append(outer_udp(2123, Raw(gtpv2(1, struct.pack("!BHBB", 3, 1, 0, 5))), sport=2123))  # Recovery IE
    # L2TPv2: SCCRQ, ZLB, data with PPP (address and control) carrying IPv4, and compressed.
    sccrq = struct.pack("!HHHHHHHH", 0xC802, 20, 0, 0, 0, 0, 0x8008, 0) + struct.pack("!HH", 0, 1)
    f.append(outer_udp(1701, Raw(sccrq), sport=1701))
    f.append(outer_udp(1701, Raw(struct.pack("!HHHHHH", 0xC802, 12, 7, 0, 1, 1)), sport=1701))
    f.append(outer_udp(1701, L2TP(tunnel_id=7, session_id=9) / Raw(b"\xff\x03\x00\x21" + bytes(inner_udp_dns())),
                       sport=1701))
    f.append(outer_udp(1701, Raw(struct.pack("!HHH", 0x0002, 7, 9) + b"\x21" + bytes(inner_tcp())), sport=1701))
    # L2TPv3 over IP: an ICRQ naming an Ethernet pseudowire, a data packet with Ethernet, over UDP.
    f.append(Ether(src=A_MAC, dst=B_MAC) / IP(src=OUT_A, dst=OUT_B, proto=115) / Raw(l2tpv3_ip_control(0x55, 10, 5)))
    f.append(Ether(src=A_MAC, dst=B_MAC) / IP(src=OUT_A, dst=OUT_B, proto=115) / Raw(l2tpv3_ip_data(0x11223344, eth_in)))
    f.append(outer_udp(1701, Raw(l2tpv3_udp_data(0x11223344, eth_in)), sport=1701))
    # LISP data: IPv4 with nonce and instance id, IPv6 with locator status bits.
    f.append(outer_udp(4341, Raw(lisp(inner_udp_dns())), sport=4341))
    f.append(outer_udp(4341, Raw(lisp(inner6_udp(), flags=0x40, nonce=0, iid=0)), sport=4341))
    # MPLS over UDP and over GRE; NVGRE (GRE key, transparent Ethernet bridging); GRE seq.
    mpls = struct.pack("!I", (1000 << 12) | (1 << 8) | 64)
    f.append(outer_udp(6635, Raw(mpls + bytes(inner_udp_dns())), sport=6635))
    f.append(Ether(src=A_MAC, dst=B_MAC) / IP(src=OUT_A, dst=OUT_B) / GRE(proto=0x8847) / Raw(mpls + bytes(inner_tcp())))
    f.append(Ether(src=A_MAC, dst=B_MAC) / IP(src=OUT_A, dst=OUT_B) / GRE(key_present=1, key=(5000 << 8) | 7, proto=0x6558) / eth_in)
    f.append(Ether(src=A_MAC, dst=B_MAC) / IP(src=OUT_A, dst=OUT_B) /
             GRE(key_present=1, seqnum_present=1, key=99, seqence_number=1234, proto=0x0800) / inner_tcp())
    # CAPWAP data: an 802.3 frame, an 802.11 data frame (frame control swapped, as Cisco's),
    # a keep-alive, a fragment, a header with the radio MAC.
    dot11 = (Dot11(type=2, subtype=0, FCfield="to-DS", addr1=AP_MAC, addr2=C_MAC, addr3=D_MAC, SC=0x120) /
             LLC() / SNAP() / inner_udp_dns())
    f.append(outer_udp(5247, Raw(capwap_data(eth_in, native=False)), sport=5247))
    f.append(outer_udp(5247, Raw(capwap_data(swap_fc(dot11), native=True)), sport=5247))
    session_id = struct.pack("!HHH", 22, 35, 16) + b"\x5a" * 16  # elements' length, Session ID element
    f.append(outer_udp(5247, Raw(capwap_data(session_id, native=False, keepalive=True)), sport=5247))
    f.append(outer_udp(5247, Raw(capwap_data(eth_in, native=False, fragment=True)), sport=5247))
    f.append(outer_udp(5247, Raw(capwap_data(swap_fc(dot11), native=True, radio_mac=True)), sport=5247))
    # IPsec: ESP, AH then TCP (IPv4) and UDP (IPv6), ESP in UDP, a NAT keep-alive, IKE on 4500.
    f.append(Ether(src=A_MAC, dst=B_MAC) / IP(src=OUT_A, dst=OUT_B) / ESP(spi=0xC0FFEE, seq=17) / Raw(b"\x99" * 40))
    f.append(Ether(src=A_MAC, dst=B_MAC) / IP(src=OUT_A, dst=OUT_B, proto=51) /
             Raw(ah(6, 0x1001, 3, TCP(sport=40000, dport=22, flags="S"))))
    udp6 = IPv6(src=IN6_A, dst=IN6_B) / UDP(sport=5000, dport=53) / DNS(rd=1, qd=DNSQR(qname="ah.example"))
    udp6 = IPv6(bytes(udp6))  # with the UDP checksum and length filled in
    f.append(Ether(src=A_MAC, dst=B_MAC, type=0x86DD) / IPv6(src=IN6_A, dst=IN6_B, nh=51) /
             Raw(ah(17, 0x1002, 4, bytes(udp6[UDP]))))
    f.append(outer_udp(4500, Raw(struct.pack("!II", 0xABCD, 9) + b"\x55" * 32), sport=4500))
    f.append(outer_udp(4500, Raw(b"\xff"), sport=4500))
    f.append(outer_udp(4500, Raw(ike_header()), sport=4500))
    return f


# ---- 802.11 ---------------------------------------------------------------------

HOSTILE_SSID = b'<script>alert("x")</script>\\\x00\x07\xff'


def radiotap(frame, fcs=False, datapad=False, tsft=True):
    """Version 0, TSFT (8-aligned) then Flags, then Rate."""
    flags = (0x10 if fcs else 0) | (0x20 if datapad else 0)
    if tsft:
        fields = struct.pack("<Q", 123456789) + struct.pack("<BB", flags, 2)
        present = 0x1 | 0x2 | 0x4
    else:
        fields = struct.pack("<BB", flags, 2)
        present = 0x2 | 0x4
    hdr_len = 8 + len(fields)
    body = bytes(frame)
    if fcs:
        body += b"\x12\x34\x56\x78"
    return struct.pack("<BBHI", 0, 0, hdr_len, present) + fields + body


def beacon(ssid, seq=100):
    return (Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=AP_MAC, addr3=AP_MAC, SC=seq << 4) /
            Dot11Beacon(beacon_interval=100, cap=0x0411) / Dot11Elt(ID=0, info=ssid) /
            Dot11Elt(ID=1, info=b"\x82\x84\x8b\x96"))


def wlan_frames():
    """Frames for the radiotap capture; the plain 802.11 capture takes some of them."""
    data_llc = (Dot11(type=2, subtype=0, FCfield="from-DS", addr1=C_MAC, addr2=AP_MAC, addr3=D_MAC, SC=0x230) /
                LLC() / SNAP() / inner_udp_dns(name="wlan.example"))
    qos = (Dot11(type=2, subtype=8, FCfield="to-DS", addr1=AP_MAC, addr2=C_MAC, addr3=D_MAC, SC=0x240) /
           Dot11QoS(TID=5) / LLC() / SNAP() / inner_tcp())
    protected = Dot11(type=2, subtype=8, FCfield="to-DS+protected", addr1=AP_MAC, addr2=C_MAC, addr3=D_MAC,
                      SC=0x250) / Dot11QoS() / Raw(b"\x01\x00\x00\x20\x00\x00\x00\x00" + b"\xee" * 40)
    null = Dot11(type=2, subtype=4, FCfield="to-DS+pw-mgt", addr1=AP_MAC, addr2=C_MAC, addr3=AP_MAC, SC=0x260)
    amsdu_sub = bytes(LLC() / SNAP() / inner_tcp(flags="A"))
    amsdu = (Dot11(type=2, subtype=8, FCfield="from-DS", addr1=C_MAC, addr2=AP_MAC, addr3=D_MAC, SC=0x270) /
             Dot11QoS(A_MSDU_Present=1) / Raw(mac(C_MAC) + mac(D_MAC) + struct.pack("!H", len(amsdu_sub)) + amsdu_sub))
    wds = (Dot11(type=2, subtype=0, FCfield="to-DS+from-DS", addr1=AP_MAC, addr2=B_MAC, addr3=D_MAC, addr4=C_MAC,
                 SC=0x280) / LLC() / SNAP() / IPv6(src=IN6_A, dst=IN6_B) / UDP(sport=5000, dport=6000))
    arp = (Dot11(type=2, subtype=0, FCfield="to-DS", addr1=AP_MAC, addr2=C_MAC, addr3="ff:ff:ff:ff:ff:ff", SC=0x290) /
           LLC() / SNAP() / ARP(hwsrc=C_MAC, psrc=IN_A, pdst=IN_B))
    return [
        beacon(b"wlite-lab"),
        beacon(HOSTILE_SSID, seq=101),
        Dot11(type=0, subtype=4, addr1="ff:ff:ff:ff:ff:ff", addr2=C_MAC, addr3="ff:ff:ff:ff:ff:ff", SC=0x10) /
        Dot11ProbeReq() / Dot11Elt(ID=0, info=b""),
        Dot11(type=0, subtype=5, addr1=C_MAC, addr2=AP_MAC, addr3=AP_MAC, SC=0x20) /
        Dot11ProbeResp(beacon_interval=200) / Dot11Elt(ID=0, info=b"wlite-lab"),
        Dot11(type=0, subtype=11, addr1=AP_MAC, addr2=C_MAC, addr3=AP_MAC, SC=0x30) / Dot11Auth(seqnum=1),
        Dot11(type=0, subtype=0, addr1=AP_MAC, addr2=C_MAC, addr3=AP_MAC, SC=0x40) /
        Dot11AssoReq(cap=0x0411, listen_interval=10) / Dot11Elt(ID=0, info=b"wlite-lab"),
        Dot11(type=0, subtype=1, addr1=C_MAC, addr2=AP_MAC, addr3=AP_MAC, SC=0x50) / Dot11AssoResp(AID=1) /
        Dot11Elt(ID=1, info=b"\x82\x84\x8b\x96"),
        Dot11(type=0, subtype=12, addr1=C_MAC, addr2=AP_MAC, addr3=AP_MAC, SC=0x60) / Dot11Deauth(reason=7),
        Dot11(type=0, subtype=10, addr1=C_MAC, addr2=AP_MAC, addr3=AP_MAC, SC=0x70) / Dot11Disas(reason=8),
        Dot11(type=1, subtype=11, addr1=AP_MAC, addr2=C_MAC, ID=500),  # RTS
        Dot11(type=1, subtype=12, addr1=C_MAC, ID=400),                # CTS
        Dot11(type=1, subtype=13, addr1=C_MAC),                        # ACK
        data_llc, qos, protected, null, amsdu, wds, arp,
    ]


def radiotap_frames():
    frames = wlan_frames()
    out = [radiotap(fr, fcs=(i % 3 == 0), tsft=(i % 2 == 0)) for i, fr in enumerate(frames)]
    # A padded header: QoS data (26 bytes) padded to 28 before LLC.
    qos = bytes(Dot11(type=2, subtype=8, FCfield="to-DS", addr1=AP_MAC, addr2=C_MAC, addr3=D_MAC, SC=0x300) /
                Dot11QoS(TID=1))
    out.append(radiotap(qos + b"\x00\x00" + bytes(LLC() / SNAP() / inner_udp_dns()), datapad=True))
    return out


# ---- Serial links and cooked captures -------------------------------------------

def chdlc_frames():
    slarp_keepalive = struct.pack("!HH", 0x8F00, 0x8035) + struct.pack("!IIIH", 2, 10, 9, 0xFFFF) + b"\x00\x00\x00\x00"
    slarp_request = struct.pack("!HH", 0x8F00, 0x8035) + struct.pack("!III", 0, 0xC0000201, 0xFFFFFFFC) + b"\xff" * 6
    return [
        struct.pack("!HH", 0x0F00, 0x0800) + bytes(inner_tcp(src=OUT_A, dst=OUT_B)),
        struct.pack("!HH", 0x0F00, 0x86DD) + bytes(inner6_udp()),
        slarp_keepalive,
        slarp_request,
        struct.pack("!HH", 0x0F00, 0x8847) + struct.pack("!I", (16 << 12) | (1 << 8) | 64) + bytes(inner_udp_dns()),
    ]


def ppphdlc_frames():
    return [
        b"\xff\x03\x00\x21" + bytes(inner_udp_dns(src=OUT_A, dst=OUT_B)),
        b"\xff\x03\x00\x57" + bytes(inner6_udp()),
        b"\x00\x21" + bytes(inner_tcp(src=OUT_A, dst=OUT_B)),          # address and control compressed
        struct.pack("!HH", 0x0F00, 0x0800) + bytes(inner_tcp(src=OUT_B, dst=OUT_A, flags="SA")),  # Cisco HDLC
        b"\xff\x03" + bytes(PPP(proto=0xC021) / PPP_LCP_Configure(code=1, id=1)),
    ]


def ppp_frames():
    return [
        b"\xff\x03\x00\x21" + bytes(inner_tcp(src=OUT_A, dst=OUT_B)),
        b"\x21" + bytes(inner_udp_dns(src=OUT_A, dst=OUT_B)),            # protocol field compressed
        b"\x00\x57" + bytes(inner6_udp()),
    ]


def sll(hatype, protocol, payload, addr=C_MAC):
    a = mac(addr) + b"\x00\x00"
    return struct.pack("!HHH", 0, hatype, 6) + a + struct.pack("!H", protocol) + bytes(payload)


def sll2(hatype, protocol, payload, addr=C_MAC):
    return (struct.pack("!HHIHBB", protocol, 0, 3, hatype, 0, 6) + mac(addr) + b"\x00\x00" + bytes(payload))


def sll_frames():
    eth_in = Ether(src=C_MAC, dst=D_MAC) / inner_udp_dns()
    data = (Dot11(type=2, subtype=0, FCfield="to-DS", addr1=AP_MAC, addr2=C_MAC, addr3=D_MAC, SC=0x100) /
            LLC() / SNAP() / inner_tcp())
    netlink = struct.pack("<IHHIIi", 20, 3, 0, 1, 0, 0)  # NLMSG_DONE
    return [
        sll(803, 0x0003, radiotap(data)),                          # monitor interface: radiotap
        sll(803, 0x0003, radiotap(beacon(b"sll-ssid"), fcs=True)),
        sll(1, 0x0003, eth_in),                                    # a whole Ethernet frame
        sll(512, 0x0007, b"\xff\x03\x00\x21" + bytes(inner_tcp())),  # PPP device
        sll(778, 0x0800, inner_udp_dns()),                         # a GRE device
        sll(824, 0x0000, netlink),                                 # netlink
        sll(1, 0x0800, inner_tcp()),                               # the ordinary case still works
    ]


def sll2_frames():
    data = (Dot11(type=2, subtype=8, FCfield="from-DS", addr1=C_MAC, addr2=AP_MAC, addr3=D_MAC, SC=0x110) /
            Dot11QoS() / LLC() / SNAP() / inner_udp_dns())
    return [
        sll2(803, 0x0003, radiotap(data, fcs=True)),
        sll2(1, 0x0003, Ether(src=C_MAC, dst=D_MAC) / inner_tcp()),
        sll2(824, 0x0000, struct.pack("<IHHII", 16, 3, 0, 2, 0)),
    ]


def main(out):
    wrpcap(f"{out}/eth.pcap", stamp(eth_frames()), linktype=1)
    wrpcap(f"{out}/radiotap.pcap", stamp(radiotap_frames()), linktype=127)
    wrpcap(f"{out}/wlan.pcap", stamp([bytes(f) for f in wlan_frames()]), linktype=105)
    wrpcap(f"{out}/chdlc.pcap", stamp(chdlc_frames()), linktype=104)
    wrpcap(f"{out}/ppphdlc.pcap", stamp(ppphdlc_frames()), linktype=50)
    wrpcap(f"{out}/ppp.pcap", stamp(ppp_frames()), linktype=9)
    wrpcap(f"{out}/sll.pcap", stamp(sll_frames()), linktype=113)
    wrpcap(f"{out}/sll2.pcap", stamp(sll2_frames()), linktype=276)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
