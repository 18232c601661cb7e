# tests/integration/lib/ipfix_tshark.py: wlite-ipfix's messages as tshark's IPFIX
# (cflow) decoder reads them, checked against what capd --flows says.
#
#   messages PCAP PORT                  the decoded messages, as JSON (for a look)
#   check PCAP PORT KIND ARGS...        prints what is wrong; exit status 1 if anything
#     KIND udp-mtu MTU                  no datagram longer than MTU (IP header included)
#     KIND templates INTERVAL           templates first in every stream; with INTERVAL
#                                       (UDP), again about every INTERVAL seconds
#     KIND sequence                     each header's sequence number is the count of
#                                       data records before it (per stream and domain)
#     KIND values DOMAIN=FLOWS.json[,FLOWS.json]...  per flow: the records' deltas add up to the
#                                       flow's counters, times, end reason, flags, VLAN
#     KIND streams N                    exactly N TCP connections, each with its templates
# Library of the integration test ipfix.sh.
import collections
import ipaddress
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

PEN_REVERSE = 29305
# What template 256 (IPv4 with ports) must say, element by element: (id, length, enterprise).
T256 = [(148, 8, 0), (152, 8, 0), (153, 8, 0), (2, 8, 0), (1, 8, 0), (2, 8, PEN_REVERSE), (1, 8, PEN_REVERSE),
        (136, 1, 0), (239, 1, 0), (58, 2, 0), (245, 2, 0), (8, 4, 0), (12, 4, 0), (4, 1, 0), (7, 2, 0), (11, 2, 0),
        (6, 2, 0), (6, 2, PEN_REVERSE)]
END_CODES = {"idle": 1, "active": 2, "fin": 3, "rst": 3, "eof": 4, "evicted": 5}


def record(elem):
    r = collections.defaultdict(list)
    for f in elem.iter("field"):
        name = f.get("name")
        if not name or name.startswith("cflow.tcpflags."):
            continue
        if name in ("cflow.abstimestart", "cflow.abstimeend", "cflow.srcmac", "cflow.dstmac", "cflow.tcpflags"):
            r[name].append(f.get("value"))
        else:
            r[name].append(f.get("show"))
    return dict(r)


def template(elem):
    fl = []
    for f in elem:
        if f.tag == "field" and not f.get("name") and f.get("show", "").startswith("Field ("):
            d = {g.get("name"): g.get("show") for g in f}
            fl.append((int(d["cflow.template_ipfix_field_type"]), int(d["cflow.template_field_length"]),
                       int(d.get("cflow.template_ipfix_field_pen", 0))))
    tid = next(int(g.get("show")) for g in elem if g.get("name") == "cflow.template_id")
    return tid, fl


def messages(pcap, port):
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-d", "tcp.port==%s,cflow" % port, "-d",
                          "udp.port==%s,cflow" % port, "-T", "pdml", "-Y", "cflow"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    msgs = []
    for pkt in ET.fromstring(out).iter("packet"):
        protos = {p.get("name"): p for p in pkt.iter("proto")}
        info = {f.get("name"): f.get("show") for p in ("frame", "ip", "tcp", "udp") if p in protos
                for f in protos[p].iter("field") if f.get("name")}
        for cf in (p for p in pkt.iter("proto") if p.get("name") == "cflow"):
            m = {"frame": int(info["frame.number"]), "time": float(info["frame.time_relative"]),
                 "ip_len": int(info.get("ip.len", 0)), "stream": "tcp%s" % info["tcp.stream"] if "tcp.stream" in info
                 else "udp", "templates": {}, "records": []}
            for f in cf:
                name = f.get("name")
                if name in ("cflow.version", "cflow.len", "cflow.sequence", "cflow.od_id"):
                    m[name.split(".")[1]] = int(f.get("show"))
                elif not name and f.get("show", "").startswith("Set "):
                    sid = next(int(g.get("show")) for g in f if g.get("name") == "cflow.flowset_id")
                    for g in f:
                        if g.get("name"):
                            continue
                        if sid == 2 and g.get("show", "").startswith("Template"):
                            tid, fl = template(g)
                            m["templates"][tid] = fl
                        elif sid >= 256 and g.get("show", "").startswith("Flow "):
                            rec = record(g)
                            rec["set"] = sid
                            m["records"].append(rec)
            msgs.append(m)
    return msgs


def check_mtu(msgs, mtu):
    bad = [m for m in msgs if m["stream"] == "udp" and m["ip_len"] > mtu]
    return ["frame %d: a datagram of %d bytes, over the MTU %d" % (m["frame"], m["ip_len"], mtu) for m in bad[:5]] + \
        ([] if any(m["records"] for m in msgs) else ["no data record at all"])


def by_stream(msgs):
    s = collections.OrderedDict()
    for m in msgs:
        s.setdefault((m["stream"], m.get("od_id")), []).append(m)
    return s


def check_templates(msgs, interval):
    why = []
    for (stream, dom), ms in by_stream(msgs).items():
        if not ms[0]["templates"] or ms[0]["records"]:
            why.append("%s domain %s: the first message is not a template message" % (stream, dom))
        got = {}
        for m in ms:
            got.update(m["templates"])
        if sorted(got) != list(range(256, 263)):
            why.append("%s domain %s: templates %r, want 256..262" % (stream, dom, sorted(got)))
        if got.get(256) != T256:
            why.append("%s domain %s: template 256 is %r, want %r" % (stream, dom, got.get(256), T256))
        for tid, fl in got.items():
            rev = [f for f in fl if f[2] == PEN_REVERSE]
            if sorted((f[0], f[1]) for f in rev) != [(1, 8), (2, 8)] + ([(6, 2)] if tid in (256, 257) else []):
                why.append("template %d: reverse elements %r" % (tid, rev))
        if interval:
            times = [m["time"] for m in ms if m["templates"]]
            span = ms[-1]["time"] - ms[0]["time"]
            gaps = [b - a for a, b in zip(times, times[1:])]
            if len(times) < 1 + int(span / interval) - 1:
                why.append("%s domain %s: %d template messages over %.1f s, interval %s" % (stream, dom, len(times), span,
                                                                                          interval))
            if any(g > interval + 1.0 for g in gaps):
                why.append("%s domain %s: templates %.2f s apart, interval %s" % (stream, dom, max(gaps), interval))
    return why


def check_sequence(msgs):
    why = []
    for (stream, dom), ms in by_stream(msgs).items():
        count = 0
        for m in ms:
            if m["sequence"] != count % (1 << 32):
                why.append("%s domain %s frame %d: sequence %d, want %d (data records before it)"
                           % (stream, dom, m["frame"], m["sequence"], count))
            count += len(m["records"])
    return why[:5]


def ms_of(hexval):
    return int(hexval, 16)


def rec_key(r):
    if "cflow.srcaddr" in r or "cflow.srcaddrv6" in r:
        src = r.get("cflow.srcaddr", r.get("cflow.srcaddrv6"))[0]
        dst = r.get("cflow.dstaddr", r.get("cflow.dstaddrv6"))[0]
        return ("ip", int(r["cflow.protocol"][0]), str(ipaddress.ip_address(src)), str(ipaddress.ip_address(dst)),
                int(r.get("cflow.srcport", [0])[0]), int(r.get("cflow.dstport", [0])[0]),
                ms_of(r["cflow.abstimestart"][0]))
    mac = lambda h: ":".join(h[i:i + 2] for i in range(0, 12, 2))
    return ("mac", 0, mac(r["cflow.srcmac"][0]), mac(r["cflow.dstmac"][0]), 0, 0, ms_of(r["cflow.abstimestart"][0]))


def flow_key(f):
    first = max(int(round(f["first"] * 1e6)), 0) // 1000
    if f.get("l3") in ("ipv4", "ipv6"):
        return ("ip", f["ipproto"], str(ipaddress.ip_address(f["a"])), str(ipaddress.ip_address(f["b"])),
                f.get("a_port", 0), f.get("b_port", 0), first)
    return ("mac", 0, f["a"], f["b"], 0, 0, first)


def check_values(msgs, specs):
    why = []
    for spec in specs:
        dom, path = spec.split("=", 1)
        flows = [json.loads(l) for p in path.split(",") for l in open(p) if l.strip()]
        recs = [r for m in msgs if m.get("od_id") == int(dom) for r in m["records"]]
        by_id = collections.OrderedDict()
        for r in recs:
            by_id.setdefault(r["cflow.flow_id"][0], []).append(r)
        got = {}
        for fid, rs in by_id.items():
            pk = [int(r["cflow.packets"][i]) for r in rs for i in (0, 1)]
            oc = [int(r["cflow.octets"][i]) for r in rs for i in (0, 1)]
            last = rs[-1]
            keys = {rec_key(r) for r in rs}
            ends = [int(r["cflow.flow_end_reason"][0]) for r in rs]
            if len(keys) != 1 or any(e != 2 for e in ends[:-1]) or ends[-1] == 2:
                why.append("flow id %s: its records disagree (keys %r, end reasons %r)" % (fid, keys, ends))
                continue
            flags = last.get("cflow.tcpflags", ["0", "0"])
            got[keys.pop()] = {
                "packets": [sum(pk[0::2]), sum(pk[1::2])], "octets": [sum(oc[0::2]), sum(oc[1::2])],
                "last": ms_of(last["cflow.abstimeend"][0]), "end": ends[-1],
                "flags": [int(flags[0], 16), int(flags[1], 16)], "vlan": int(last["cflow.vlanid"][0]),
                "biflow": int(last["cflow.biflow_direction"][0]), "records": len(rs)}
        want = {}
        for f in flows:
            t = f.get("tcp", {})
            want[flow_key(f)] = {
                "packets": [f["a_packets"], f["b_packets"]], "octets": [f["a_bytes"], f["b_bytes"]],
                "last": max(int(round(f["last"] * 1e6)), 0) // 1000, "end": END_CODES[f["end"]],
                "flags": [t.get("a_flags", 0), t.get("b_flags", 0)], "vlan": (f.get("vlan") or [0])[0],
                "biflow": 1 if (t.get("a_flags", 0) & 2 and t.get("b_flags", 0) & 2) else 0}
        if len(want) != len(flows):
            why.append("domain %s: two flows of %s share a key; the check cannot tell them apart" % (dom, path))
        for k in sorted(set(want) | set(got), key=str):
            w, g = want.get(k), got.get(k)
            if g is not None:
                g = {kk: vv for kk, vv in g.items() if kk != "records"}
            if w != g:
                why.append("domain %s flow %r: capd says %r, the IPFIX records %r" % (dom, k, w, g))
        if not recs:
            why.append("domain %s: no record" % dom)
    return why[:8]


def check_streams(msgs, n):
    streams = [s for (s, _), ms in by_stream(msgs).items() if s != "udp"]
    return [] if len(set(streams)) == n else ["%d TCP connections, want %d" % (len(set(streams)), n)]


def main():
    cmd, pcap, port = sys.argv[1:4]
    msgs = messages(pcap, port)
    if cmd == "messages":
        json.dump(msgs, sys.stdout, indent=1)
        return 0
    kind, args = sys.argv[4], sys.argv[5:]
    if kind == "udp-mtu":
        why = check_mtu(msgs, int(args[0]))
    elif kind == "templates":
        why = check_templates(msgs, float(args[0]) if args else 0)
    elif kind == "sequence":
        why = check_sequence(msgs)
    elif kind == "values":
        why = check_values(msgs, args)
    elif kind == "streams":
        why = check_streams(msgs, int(args[0]))
    else:
        why = ["unknown check " + kind]
    if not msgs:
        why.append("tshark decoded no IPFIX message in %s" % pcap)
    for w in why:
        print(w)
    print("# %d messages, %d data records, %d template messages" % (
        len(msgs), sum(len(m["records"]) for m in msgs), sum(1 for m in msgs if m["templates"])))
    return 1 if why else 0


if __name__ == "__main__":
    sys.exit(main())
