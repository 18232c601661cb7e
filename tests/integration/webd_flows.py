#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/integration/webd_flows.py: webd's flows against capd's own.

The scenarios of webd.sh (same output, same environment: see webd_checks.py)
for conversations and endpoints. The reference is `wlite-capd --read FILE
--flows` over the same file (its last report of each flow), and tshark for
which frames a flow holds:

  flows     a capture merged from seven dev-corpus files, replayed by capd at
            full speed: /api/flows holds every flow with capd's counters and
            TCP analysis; each filter, sort and page agrees with a model of
            the reference; CSV and endpoints add up; a flow's detail and its
            PCAP hold exactly its frames; packets carry their flow; errors
  feed      flow updates on the live feed during a looped full-speed replay:
            SSE and WebSocket, coalesced (at most ten a second, none once
            the table is still), the same page as /api/flows, a new query
            over the WebSocket, bad queries refused
  active    a long flow with --flow-active-timeout 1 replayed at capture
            speed: one entry, updated in place, active then ended
  bounded   --flows 50 over a capture of more: the ended flows made room,
            counted

Usage: webd_flows.py [--count] SCENARIO
Scenarios: flows feed active bounded
"""

import csv
import io
import ipaddress
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webd_checks as wc  # noqa: E402 - the shared harness
from webd_checks import (SSE, WS, Daemons, get_json, read_pcap, request, udp_frame, wait_for,  # noqa: E402
                         write_pcap, ws_frame)

CHECKS = {
    "flows": [
        "flows: every flow of capd --flows is in /api/flows with the same counters and TCP analysis",
        "flows: filters (addr, port, proto, app, name, state, min_bytes, from/to, sensor) match a model",
        "flows: every sort, both orders, and pages agree with a model; total is the match count",
        "flows: /api/flows/export.csv has a row per flow with the same counters",
        "flows: /api/endpoints: per-address totals, flows and peers add up from the flows; each sort",
        "flows: /api/flow/SENSOR/ID holds the flow, its points and exactly its frames (tshark)",
        "flows: /api/flow/SENSOR/ID/export.pcap holds exactly the flow's frames, byte for byte",
        "flows: packets carry their flow's id; /api/packets?flow=ID is the flow's packets",
        "flows: unknown flows and sensors 404, bad parameters 400 naming them",
    ],
    "feed": [
        "feed: SSE ?flows= gets flows messages equal to /api/flows for the same query",
        "feed: flows messages are coalesced: at most 10 a second during a replay",
        "feed: WebSocket ?flows= gets them; a {\"flows\":...} message changes the query; bad ones get an error",
        "feed: a bad flows= query is refused (400) on SSE and WebSocket",
    ],
    "active": [
        "active: a long flow's active-timeout reports update one entry in place (counters grow)",
        "active: the flow ends (eof) with the reference's counters, still one entry",
    ],
    "bounded": [
        "bounded: --flows 50 holds 50 flows; the evictions are counted and the newest are kept",
    ],
}

MERGED_FROM = ["zeek-wikipedia.pcap", "zeek-krb__kinit.pcap", "zeek-var-services-std-ports.pcap",
               "zeek-ssh__ssh.client-side-half-duplex.pcap", "afs.pcap", "zeek-smtp.pcap", "zeek-ncp.pcap"]
SORTS = ["bytes", "packets", "duration", "rate", "retransmissions", "rtt", "last"]
WEBD_ARGS = ("--ip-api", "off", "--history", "off")


def log(*a):
    wc.log(*a)


# ------------------------------------------------------------------ reference

def capd_reports(path, *extra):
    """capd --read PATH --flows: every report, in the order capd publishes them."""
    out = subprocess.run([wc.CAPD, "--read", path, "--flows"] + list(extra), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=True)
    return [json.loads(line) for line in out.stdout.decode().splitlines() if line.strip()]


def capd_flows(path, *extra):
    """The last report of each flow, in order of id."""
    last = {}
    for r in capd_reports(path, *extra):
        last[r["id"]] = r
    return [last[k] for k in sorted(last)]


def model_table(reports, size):
    """webd's bounded table, modelled: which flow ids stay, and how many were evicted."""
    ended, active = {}, {}  # id -> None, in eviction order (dicts keep insertion order)
    evicted = 0
    for r in reports:
        i = r["id"]
        known = i in ended or i in active
        ended.pop(i, None)
        active.pop(i, None)
        if not known and len(ended) + len(active) >= size:
            victim = ended if ended else active
            victim.pop(next(iter(victim)))
            evicted += 1
        (active if r["end"] == "active" else ended)[i] = None
    return set(ended) | set(active), evicted


def key_of(f):
    """What tells two flows apart across runs (capd's ids are not kept: webd's are random-prefixed)."""
    return (f.get("l3"), f.get("ipproto"), f.get("a"), f.get("b"), f.get("a_port"), f.get("b_port"),
            f.get("icmp_type"), f.get("icmp_id"), json.dumps(f.get("vlan")), f["first"])


def schema_part(api_flow, ref):
    """The API flow's values of the keys capd's report has (but the id)."""
    return {k: api_flow.get(k, "(missing)") for k in ref if k != "id"}


def is_ip(f):
    return f.get("l3") in ("ipv4", "ipv6")


def total_bytes(f):
    return f["a_bytes"] + f["b_bytes"]


def sort_value(f, by):
    secs = f["last"] - f["first"]
    tcp = f.get("tcp")
    if by == "bytes":
        return total_bytes(f)
    if by == "packets":
        return f["a_packets"] + f["b_packets"]
    if by == "duration":
        return secs
    if by == "rate":
        return total_bytes(f) * 8 / (secs if secs > 0.001 else 0.001)
    if by == "retransmissions":
        return tcp["a_retransmissions"] + tcp["b_retransmissions"] if tcp else None
    if by == "rtt":
        return tcp.get("rtt_ms") if tcp else None
    return f["last"]


def model_order(flows, by, ascending):
    """Values in the order the API must give them: flows without the value last, either way."""
    have = [sort_value(f, by) for f in flows if sort_value(f, by) is not None]
    none = [None] * (len(flows) - len(have))
    return sorted(have, reverse=not ascending) + none


def close(x, y):
    if x is None or y is None:
        return x is y
    return abs(x - y) <= 1e-6 * max(1.0, abs(x), abs(y))


# ------------------------------------------------------------------ helpers

def merged_capture(d):
    path = os.path.join(d.dir, "merged.pcap")
    srcs = [os.path.join(wc.CORPUS, f) for f in MERGED_FROM]
    subprocess.run(["mergecap", "-F", "pcap", "-w", path] + srcs, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(path, 0o644)
    return path


def all_flows(port, query=""):
    got = get_json(port, "/api/flows?limit=10000" + ("&" + query if query else ""))
    return got


def replay_done(d, n_flows):
    """Waits for capd to finish and webd to hold n_flows flows, all ended."""
    def done():
        s = get_json(d.port, "/api/stats")
        f = s.get("flows", {})
        return f.get("held") == n_flows and f.get("active") == 0
    return wait_for(done, 60)


def tshark_frames(path, dfilter):
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", dfilter, "-T", "fields", "-e", "frame.number"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=True)
    return [int(x) for x in out.stdout.decode().split()]


def conv_filter(f):
    """tshark's display filter for one IP flow's frames (both directions)."""
    ipf = "ip" if f["l3"] == "ipv4" else "ipv6"
    t = {6: "tcp", 17: "udp"}.get(f["ipproto"])
    flt = "%s.addr==%s && %s.addr==%s" % (ipf, f["a"], ipf, f["b"])
    if t:
        flt += " && %s.port==%d && %s.port==%d" % (t, f["a_port"], t, f["b_port"])
    flt += " && frame.time_epoch >= %.6f && frame.time_epoch <= %.6f" % (f["first"], f["last"])
    # The outer header only: a tunnelled frame, or an ICMP error quoting one
    # of the flow's packets, has the addresses inside and is not this flow's.
    return flt + " && !(ip.proto == 4 || ip.proto == 41 || gre || vxlan || icmp || icmpv6)"


# ------------------------------------------------------------------ flows

def scenario_flows(c):
    d = Daemons("flows")
    path = merged_capture(d)
    ref = capd_flows(path)
    log("reference: %d flows from %s" % (len(ref), ", ".join(MERGED_FROM)))
    d.start_webd(*WEBD_ARGS)
    port = d.port
    d.start_capd(path, "--speed", "max")
    if not replay_done(d, len(ref)):
        log("flows held: %r" % get_json(port, "/api/stats").get("flows"))
    got = all_flows(port)
    api = {key_of(f): f for f in got["flows"]}
    sensor = got["flows"][0]["sensor"] if got["flows"] else "capd"

    def same_counters():
        p = []
        if got["total"] != len(ref):
            p.append("total %d, capd --flows has %d" % (got["total"], len(ref)))
        for r in ref:
            a = api.get(key_of(r))
            if a is None:
                p.append("missing: %r" % (key_of(r),))
            elif schema_part(a, r) != {k: v for k, v in r.items() if k != "id"}:
                diff = {k: (r[k], a.get(k)) for k in r if k != "id" and a.get(k) != r[k]}
                p.append("differs: %r: %r" % (key_of(r), diff))
            if len(p) > 5:
                break
        return p
    c.check(CHECKS["flows"][0], same_counters)

    def matches(query, pred):
        want = sorted(key_of(r) for r in ref if pred(r))
        res = all_flows(port, query)
        have = sorted(key_of(f) for f in res["flows"])
        if have != want or res["total"] != len(want):
            return ["%s: %d flows (total %d), the model has %d" % (query, len(have), res["total"], len(want))]
        return []

    def filters():
        tcp = max((r for r in ref if r.get("ipproto") == 6), key=total_bytes)
        mid = sorted(r["first"] for r in ref)[len(ref) // 2]
        named = next(r for r in ref if r.get("name"))
        sub = named["name"][1:4].upper()
        p = []
        checks = [
            ("addr=" + tcp["a"], lambda r: tcp["a"] in (r.get("a"), r.get("b")) and is_ip(r)),
            ("port=%d" % tcp["b_port"], lambda r: tcp["b_port"] in (r.get("a_port"), r.get("b_port"))),
            ("proto=udp", lambda r: r.get("ipproto") == 17),
            ("proto=6", lambda r: r.get("ipproto") == 6),
            ("app=DNS", lambda r: r.get("app") == "DNS"),
            ("name=" + urllib.parse.quote(sub), lambda r: sub.lower() in r.get("name", "").lower()),
            ("state=ended", lambda r: True),
            ("state=active", lambda r: False),
            ("state=established", lambda r: r.get("tcp", {}).get("state") == "established"),
            ("min_bytes=5000", lambda r: total_bytes(r) >= 5000),
            ("from=%.6f" % mid, lambda r: r["last"] >= mid - 1e-6),
            ("to=%.6f" % mid, lambda r: r["first"] <= mid + 1e-6),
            ("sensor=" + sensor, lambda r: True),
            ("proto=tcp&min_bytes=1000&to=%.6f" % mid,
             lambda r: r.get("ipproto") == 6 and total_bytes(r) >= 1000 and r["first"] <= mid + 1e-6),
        ]
        for q, pred in checks:
            p += matches(q, pred)
        return p
    c.check(CHECKS["flows"][1], filters)

    def sorts():
        p = []
        for by in SORTS:
            for order in ("desc", "asc"):
                res = all_flows(port, "sort=%s&order=%s" % (by, order))
                vals = [sort_value(f, by) for f in res["flows"]]
                want = model_order(ref, by, order == "asc")
                if len(vals) != len(want) or not all(close(x, y) for x, y in zip(vals, want)):
                    p.append("sort=%s&order=%s: %r... want %r..." % (by, order, vals[:5], want[:5]))
                    continue
                # Pages of 7 put together are the whole list, in the same order.
                pages, off = [], 0
                while True:
                    pg = get_json(port, "/api/flows?sort=%s&order=%s&limit=7&offset=%d" % (by, order, off))
                    if pg["total"] != len(ref):
                        p.append("sort=%s page at %d: total %d" % (by, off, pg["total"]))
                        break
                    if not pg["flows"]:
                        break
                    pages += pg["flows"]
                    off += 7
                if [f["id"] for f in pages] != [f["id"] for f in res["flows"]]:
                    p.append("sort=%s&order=%s: the pages differ from the whole list" % (by, order))
        top = get_json(port, "/api/flows?limit=3")
        if len(top["flows"]) != 3 or top["sort"] != "bytes" or top["order"] != "desc":
            p.append("defaults: %r" % {k: top[k] for k in ("sort", "order", "limit")})
        return p
    c.check(CHECKS["flows"][2], sorts)

    def csv_export():
        st, hdrs, body = request(port, "GET", "/api/flows/export.csv?limit=10000")
        if st != 200:
            return ["status %d" % st]
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        p = []
        if len(rows) != len(ref):
            p.append("%d rows, %d flows" % (len(rows), len(ref)))
        by_id = {f["id"]: f for f in got["flows"]}
        idcol = next((k for k in (rows[0] if rows else {}) if k.lower() in ("id", "flow")), None)
        if idcol is None:
            return p + ["no id column: %r" % list(rows[0]) if rows else "no rows"]
        for row in rows:
            f = by_id.get(int(row[idcol]))
            if f is None:
                p.append("row for an unknown flow %s" % row[idcol])
                break
            nums = [int(v) for k, v in row.items() if k and "bytes" in k and v]
            if sorted(nums) != sorted([f["a_bytes"], f["b_bytes"]]):
                p.append("flow %s: bytes %r, the API says %r" % (row[idcol], nums, [f["a_bytes"], f["b_bytes"]]))
                break
        return p
    c.check(CHECKS["flows"][3], csv_export)

    def endpoints():
        model = {}
        for r in ref:
            if not is_ip(r):
                continue
            for side, other in (("a", "b"), ("b", "a")):
                e = model.setdefault(r[side], {"bytes_out": 0, "bytes_in": 0, "packets_out": 0,
                                               "packets_in": 0, "flows": 0, "peers": set()})
                e["bytes_out"] += r[side + "_bytes"]
                e["bytes_in"] += r[other + "_bytes"]
                e["packets_out"] += r[side + "_packets"]
                e["packets_in"] += r[other + "_packets"]
                e["flows"] += 1
                if r[other] != r[side]:
                    e["peers"].add(r[other])
                if r["a"] == r["b"]:
                    break
        res = get_json(port, "/api/endpoints?limit=10000")
        p = []
        have = {e["addr"]: e for e in res["endpoints"] if _is_ip_text(e["addr"])}
        if set(have) != set(model):
            p.append("addresses: %d, model %d (e.g. %r)" % (len(have), len(model),
                                                            sorted(set(have) ^ set(model))[:3]))
        for a, m in model.items():
            e = have.get(a)
            if not e:
                continue
            want = dict(m, peers=len(m["peers"]))
            diff = {k: (want[k], e.get(k)) for k in want if e.get(k) != want[k]}
            if diff:
                p.append("%s: %r" % (a, diff))
                break
        for by in ("packets", "flows", "peers"):
            st, _, body = request(port, "GET", "/api/endpoints?limit=10000&sort=" + by)
            if st != 200:
                p.append("sort=%s: %d %r" % (by, st, body[:100]))
                continue
            key = (lambda e: e["packets_in"] + e["packets_out"]) if by == "packets" else (lambda e: e[by])
            vals = [key(e) for e in json.loads(body)["endpoints"]]
            if vals != sorted(vals, reverse=True) or len(vals) != len(res["endpoints"]):
                p.append("sort=%s: not in order, or %d endpoints of %d" % (by, len(vals), len(res["endpoints"])))
        top = res["endpoints"][0] if res["endpoints"] else {}
        if top and top["bytes_in"] + top["bytes_out"] != max(e["bytes_in"] + e["bytes_out"]
                                                             for e in res["endpoints"]):
            p.append("not sorted by bytes")
        return p
    c.check(CHECKS["flows"][4], endpoints)

    # The flows a detail is checked on: the biggest TCP and UDP ones.
    picks = [max((f for f in got["flows"] if f.get("ipproto") == proto and "a_port" in f), key=total_bytes)
             for proto in (6, 17)]
    _, frames = read_pcap(path)

    def detail():
        p = []
        for f in picks:
            det = get_json(port, "/api/flow/%s/%d" % (sensor, f["id"]))
            want = tshark_frames(path, conv_filter(f))
            lens = [frames[n - 1][2] for n in want]
            pk = det.get("packets", [])
            if det.get("flow") != f:
                p.append("flow %d: the detail's flow differs from /api/flows' own" % f["id"])
            if len(pk) != f["a_packets"] + f["b_packets"] or len(pk) != len(want):
                p.append("flow %d: %d packets, counters say %d, tshark %d" % (
                    f["id"], len(pk), f["a_packets"] + f["b_packets"], len(want)))
            elif [x["len"] for x in pk] != lens:
                p.append("flow %d: packet lengths differ from tshark's frames" % f["id"])
            if not det.get("packets_complete") or det.get("packets_more") != 0:
                p.append("flow %d: complete %r more %r" % (f["id"], det.get("packets_complete"),
                                                           det.get("packets_more")))
            if not isinstance(det.get("points"), list) or not det["points"]:
                p.append("flow %d: no points" % f["id"])
        return p
    c.check(CHECKS["flows"][5], detail)

    def flow_pcap():
        p = []
        for f in picks:
            out = os.path.join(d.dir, "flow-%d.pcap" % f["id"])
            st, hdrs, body = request(port, "GET", "/api/flow/%s/%d/export.pcap" % (sensor, f["id"]), timeout=60)
            if st != 200:
                p.append("flow %d: status %d" % (f["id"], st))
                continue
            with open(out, "wb") as fh:
                fh.write(body)
            want = [frames[n - 1][3] for n in tshark_frames(path, conv_filter(f))]
            _, have = read_pcap(out)
            if [x[3] for x in have] != want:
                p.append("flow %d: %d frames exported, tshark finds %d in the capture (or bytes differ)" % (
                    f["id"], len(have), len(want)))
            n = tshark_frames(out, "frame")
            if len(n) != len(want):
                p.append("flow %d: tshark reads %d frames of the export" % (f["id"], len(n)))
        return p
    c.check(CHECKS["flows"][6], flow_pcap)

    def packets_flow():
        p = []
        for f in picks:
            rows = get_json(port, "/api/packets?limit=10000&flow=%d" % f["id"])["packets"]
            if len(rows) != f["a_packets"] + f["b_packets"]:
                p.append("flow=%d: %d packets, the flow has %d" % (f["id"], len(rows), f["a_packets"] + f["b_packets"]))
            if any(r.get("flow") != f["id"] for r in rows):
                p.append("flow=%d: a row with another flow" % f["id"])
        every = get_json(port, "/api/packets?limit=10000")["packets"]
        ids = {f["id"] for f in got["flows"]}
        stray = [r["seq"] for r in every if "flow" in r and r["flow"] not in ids]
        if stray:
            p.append("%d packets name a flow webd does not have (e.g. seq %d)" % (len(stray), stray[0]))
        with_ip = [r for r in every if r.get("l3") in ("ipv4", "ipv6")]
        if any("flow" not in r for r in with_ip):
            p.append("IP packets without a flow id")
        return p
    c.check(CHECKS["flows"][7], packets_flow)

    def errors():
        p = []
        for path_, want in (("/api/flow/%s/1" % sensor, 404), ("/api/flow/nosuch/%d" % picks[0]["id"], 404),
                            ("/api/flow/%s/x" % sensor, 404), ("/api/flow/%s/1/export.pcap" % sensor, 404),
                            ("/api/flows?sort=size", 400), ("/api/flows?limit=0", 400),
                            ("/api/flows?addr=1.2.3", 400), ("/api/flows?state=sleepy", 400),
                            ("/api/flows?sensor=nosuch", 400), ("/api/endpoints?sort=size", 400)):
            st, _, body = request(port, "GET", path_)
            if st != want:
                p.append("%s: %d, want %d" % (path_, st, want))
            elif want == 400:
                key = path_.split("?")[1].split("=")[0]
                if key not in body.decode(errors="replace"):
                    p.append("%s: the error does not name %s: %r" % (path_, key, body[:120]))
        return p
    c.check(CHECKS["flows"][8], errors)
    d.stop()


def _is_ip_text(a):
    try:
        ipaddress.ip_address(a)
        return True
    except ValueError:
        return False


# ------------------------------------------------------------------ feed

def scenario_feed(c):
    d = Daemons("feedflows")
    path = merged_capture(d)
    d.start_webd(*WEBD_ARGS)
    port = d.port
    query = "sort=packets&limit=5"
    sse = SSE(port, "/api/stream?flows=" + urllib.parse.quote(query, safe=""))
    sse.start()
    sse.connected.wait(10)
    ws = WS(port, "/ws?flows=" + urllib.parse.quote("sort=bytes&limit=3", safe=""))
    ws.open()
    ws.start()
    # A replay looped at full speed: the table changes all the time.
    t0 = time.monotonic()
    d.start_capd(path, "--speed", "max", "--loop")
    time.sleep(3.0)
    t1 = time.monotonic()
    wc.stop(d.capd)
    # Then the table settles: the last message must be the page as it stands.
    wait_for(lambda: get_json(port, "/api/stats")["flows"]["active"] == 0, 10)
    time.sleep(0.5)
    settled = len(sse.flows)
    time.sleep(1.0)

    def sse_equal():
        p = []
        if sse.status != 200 or not sse.flows:
            return ["status %r, %d flows messages (%r)" % (sse.status, len(sse.flows), sse.error)]
        last = sse.flows[-1][1]
        want = get_json(port, "/api/flows?" + query)
        if last.get("type") != "flows" or last.get("query") != query:
            p.append("type/query: %r/%r" % (last.get("type"), last.get("query")))
        if [f["id"] for f in last["flows"]] != [f["id"] for f in want["flows"]] or last["total"] != want["total"]:
            p.append("last message %r, /api/flows %r" % ([f["id"] for f in last["flows"]],
                                                         [f["id"] for f in want["flows"]]))
        if last["flows"] and last["flows"][0] != want["flows"][0]:
            p.append("the first flow differs from /api/flows' own")
        return p
    c.check(CHECKS["feed"][0], sse_equal)

    def coalesced():
        times = [t for t, _ in sse.flows if t0 <= t <= t1]
        stats = get_json(port, "/api/stats")
        p = []
        worst = 0
        for i, t in enumerate(times):
            worst = max(worst, sum(1 for u in times[i:] if u < t + 1.0))
        if worst > 11:
            p.append("%d flows messages within one second" % worst)
        if len(times) < 6:
            p.append("only %d flows messages in %.1f s of a changing table" % (len(times), t1 - t0))
        reports = stats["flows"]["reports"]
        if len(times) * 20 >= reports:
            p.append("%d messages for %d reports: not coalesced" % (len(times), reports))
        if len(sse.flows) != settled:
            p.append("%d messages after the table settled" % (len(sse.flows) - settled))
        if stats["feed"].get("flow_clients") != 2:
            p.append("flow_clients %r, want 2" % stats["feed"].get("flow_clients"))
        log("feed: %d flows messages over %.1f s of replay, %d reports, at most %d in a second"
            % (len(times), t1 - t0, reports, worst))
        return p
    c.check(CHECKS["feed"][1], coalesced)

    def ws_flows():
        p = []
        if ws.status != 101 or not ws.flows:
            return ["status %r, %d flows messages (%r)" % (ws.status, len(ws.flows), ws.error)]
        if len(ws.flows[-1][1]["flows"]) != 3:
            p.append("limit=3 gave %d flows" % len(ws.flows[-1][1]["flows"]))
        n = len(ws.flows)
        ws.s.sendall(ws_frame(0x1, json.dumps({"flows": "sort=rtt&limit=2"}).encode()))
        if not wait_for(lambda: any(m.get("query") == "sort=rtt&limit=2" for _, m in ws.flows[n:]), 5):
            p.append("no answer to a new query")
        else:
            m = next(m for _, m in ws.flows[n:] if m.get("query") == "sort=rtt&limit=2")
            want = get_json(port, "/api/flows?sort=rtt&limit=2")
            if [f["id"] for f in m["flows"]] != [f["id"] for f in want["flows"]]:
                p.append("sort=rtt page differs from /api/flows")
        for bad in ({"flows": "sort=size"}, {"nope": 1}, "not json"):
            n = len(ws.flows)
            text = bad if isinstance(bad, str) else json.dumps(bad)
            ws.s.sendall(ws_frame(0x1, text.encode()))
            if not wait_for(lambda: any(m.get("type") == "error" for _, m in ws.flows[n:]), 5):
                p.append("no error for %r" % text)
        if ws.ended:
            p.append("the session ended after a bad message (close %r)" % ws.close_code)
        n = len(ws.updates)
        if not wait_for(lambda: len(ws.updates) > n, 5):
            p.append("updates stopped")
        return p
    c.check(CHECKS["feed"][2], ws_flows)
    sse.close()
    ws.close()

    def refused():
        p = []
        for q in ("sort%3Dsize", "limit%3D501", "x" * 600):
            st, _, body = request(port, "GET", "/api/stream?flows=" + q)
            if st != 400 or b"flows" not in body:
                p.append("SSE flows=%s: %d %r" % (q[:20], st, body[:100]))
            w = WS(port, "/ws?flows=" + q)
            if w.open() != 400:
                p.append("WebSocket flows=%s: %r" % (q[:20], w.status))
        return p
    c.check(CHECKS["feed"][3], refused)
    d.stop()


# ------------------------------------------------------------------ active

def scenario_active(c):
    d = Daemons("active")
    path = os.path.join(d.dir, "long.pcap")
    t = 1700000000
    # One UDP flow, a packet every 100 ms for 4 s.
    write_pcap(path, [(t + i / 10, udp_frame("10.9.0.1", "10.9.0.2", 4000, 5000)) for i in range(40)])
    ref = capd_flows(path, "--flow-active-timeout", "1")
    d.start_webd(*WEBD_ARGS)
    port = d.port
    d.start_capd(path, "--speed", "1", "--flow-active-timeout", "1")
    seen = []

    def sample():
        f = get_json(port, "/api/flows?limit=100")
        seen.append((f["total"], [(x["id"], x["active"], x["a_packets"]) for x in f["flows"]]))
        return not get_json(port, "/api/stats")["flows"]["active"] and f["total"] == 1 and not f["flows"][0]["active"]
    wait_for(sample, 15, step=0.3)

    def in_place():
        p = []
        live = [s for s in seen if s[1] and s[1][0][1]]
        if any(total > 1 for total, _ in seen):
            p.append("more than one entry: %r" % [s for s in seen if s[0] > 1][:2])
        counts = [s[1][0][2] for s in live]
        if len(set(counts)) < 2:
            p.append("active reports seen: %r (want growing counters while active)" % counts)
        if counts != sorted(counts):
            p.append("counters went down: %r" % counts)
        if len({s[1][0][0] for s in seen if s[1]}) != 1:
            p.append("the flow changed id")
        return p
    c.check(CHECKS["active"][0], in_place)

    def ended():
        f = get_json(port, "/api/flows")["flows"]
        r = ref[-1]
        if len(f) != 1 or len(ref) != 1:
            return ["%d flows, reference %d" % (len(f), len(ref))]
        diff = {k: (r[k], f[0].get(k)) for k in r if k != "id" and f[0].get(k) != r[k]}
        return ["differs from capd --flows: %r" % diff] if diff or f[0]["active"] else []
    c.check(CHECKS["active"][1], ended)
    d.stop()


# ------------------------------------------------------------------ bounded

def scenario_bounded(c):
    d = Daemons("bounded")
    path = os.path.join(wc.CORPUS, "zeek-krb__kinit.pcap")
    reports = capd_reports(path)
    ref = capd_flows(path)
    keep_ids, evictions = model_table(reports, 50)
    keep = {key_of(r) for r in ref if r["id"] in keep_ids}
    d.start_webd("--flows", "50", *WEBD_ARGS)
    port = d.port
    d.start_capd(path, "--speed", "max")
    wait_for(lambda: get_json(port, "/api/stats")["flows"]["reports"] >= len(reports), 30)

    def bounded():
        s = get_json(port, "/api/stats")["flows"]
        res = get_json(port, "/api/flows?limit=1000&sort=last")
        p = []
        if s["held"] != 50 or s["max"] != 50 or res["total"] != 50:
            p.append("held %r max %r total %r" % (s["held"], s["max"], res["total"]))
        if s["evicted_ended"] + s["evicted_active"] != evictions:
            p.append("evicted %r + %r, the model %d" % (s["evicted_ended"], s["evicted_active"], evictions))
        # Ended flows make room first, the one that ended longest ago first.
        have = {key_of(f) for f in res["flows"]}
        if have != keep:
            p.append("%d of the flows kept are not the model's" % len(have - keep))
        return p
    c.check(CHECKS["bounded"][0], bounded)
    d.stop()


SCENARIOS = {"flows": scenario_flows, "feed": scenario_feed, "active": scenario_active, "bounded": scenario_bounded}


def main():
    return wc.run_scenarios(sys.argv[1:], CHECKS, SCENARIOS, __doc__)


if __name__ == "__main__":
    sys.exit(main())
