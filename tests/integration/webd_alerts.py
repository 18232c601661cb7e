#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tests/integration/webd_alerts.py: webd's live rates and its alerts from flows.

Driven by tests/integration/webd_alerts.sh (TAP numbering, time limits,
clean-up), on the harness of webd_checks.py (its Daemons, HTTP helpers and
pcap writer): real wlite-capd replays (--read only) and wlite-webd as the
wlite user on 127.0.0.1, sockets in a private directory.

Scenarios:
  rates   a steady capture of 1,000 packets/s replayed at --speed 10: the
          headline rate (pps_5s, bps_5s, pps) is within a factor of two of
          what /api/stats counts arriving over a measured interval (before
          the live rates followed webd's clock it read a tenth of it), the
          capture clock's rates are the capture's own, and each says its
          clock
  flows   a crafted capture (scans, SYN floods, a lossy TCP flow, each
          episode again inside the cooldown and after it) replayed once into
          two webds at a time: one gets packets and flows (--publish), the
          other flow reports only (--publish-flows, as a sensor on another
          host); each raises exactly the alerts expected, once per episode,
          none inside the cooldown, all cleared by the end
  quiet   the dev-corpus captures with the most flows (every one with 10 or
          more IP flows), and the two with flows over the retransmission
          threshold, replayed one after another at the default limits: no
          scan or SYN flood alert, and retransmission alerts exactly for the
          pairs capd --read --flows shows over the threshold

Usage: webd_alerts.py [--count] SCENARIO
Environment: as webd_checks.py (WLW_WORK, WLW_WEBD, WLW_CAPD, WLW_CORPUS).
Standard library only.
"""

import grp
import ipaddress
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webd_checks as wc  # noqa: E402 - the shared harness
from webd_checks import Daemons, csum, get_json, log, run_scenarios, udp_frame, wait_for, write_pcap  # noqa: E402

CHECKS = {
    "rates": [
        "rates: webd and capd start, the replay at --speed 10 reaches webd",
        "rates: pps_5s is within a factor of 2 of the packets /api/stats counted arriving per second",
        "rates: bps_5s and pps follow the arrival rate too",
        "rates: capture_rates is the capture's own rate (a tenth of it), and each figure names its clock",
    ],
    "flows": [
        "flows: webd (packets) and webd (flow reports only) get the whole capture",
        "flows, packets: one port_scan per episode (2), none inside the cooldown, only the scanner",
        "flows, packets: one host_scan for the sweep",
        "flows, packets: one syn_flood per flood (2), none inside the cooldown, for the target",
        "flows, packets: one retransmissions alert for the lossy pair, peak = capd's ratio, not the clean pair",
        "flows, packets: no other alert; all cleared by the end",
        "flows, packets: the port scans alerted at their first packets (started in the scan)",
        "flows, reports only: one port_scan per episode (2), none inside the cooldown, only the scanner",
        "flows, reports only: one host_scan for the sweep",
        "flows, reports only: one syn_flood per flood (2), none inside the cooldown, for the target",
        "flows, reports only: one retransmissions alert for the lossy pair, peak = capd's ratio, not the clean pair",
        "flows, reports only: no other alert; all cleared by the end",
        "flows: /api/alerts echoes every kind's limits (flags, configuration file); /api/stats the table's figures",
        "flows: /api/history/alerts stores each alert raised and cleared, with its kind, peer and flow id",
    ],
    "quiet": [
        "quiet: every capture replayed whole into one webd",
        "quiet: no scan or SYN flood alert at the default limits",
        "quiet: retransmission alerts exactly for the pairs over the threshold in capd --flows",
        "quiet: the alert table evicted nothing",
    ],
}

T0 = 1700000000

# ----------------------------------------------------------------- frames


def tcp_frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """Ethernet + IPv4 + TCP, checksums right."""
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0,
                      0) + payload
    pseudo = a.packed + b.packed + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, a.packed, b.packed)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp


SYN, RST, PSH, ACK, FIN = 0x02, 0x04, 0x08, 0x10, 0x01

# ------------------------------------------------------------------ rates

RATE_PPS, RATE_SECONDS, RATE_SPEED = 1000, 120, 10


def scenario_rates(c):
    path = os.path.join(wc.WORK, "steady.pcap")
    frame = udp_frame("10.5.0.1", "10.5.0.2", 5000, 6000, b"x" * 58)  # 100 bytes on the wire
    write_pcap(path, [(T0 + i / RATE_PPS, frame) for i in range(RATE_PPS * RATE_SECONDS)])
    d = Daemons("rates")
    d.start_webd("--ip-api", "off")
    port = d.port
    d.start_capd(path, "--speed", str(RATE_SPEED))
    started = wait_for(lambda: get_json(port, "/api/stats")["packets"] > 0, 10)
    # A full five-second window of the replay, then a measured interval inside it.
    time.sleep(6.5)
    t1, s1 = time.monotonic(), get_json(port, "/api/stats")
    time.sleep(4)
    t2, s2 = time.monotonic(), get_json(port, "/api/stats")
    arrived = (s2["packets"] - s1["packets"]) / (t2 - t1)
    arrived_bytes = (s2["bytes"] - s1["bytes"]) / (t2 - t1)
    log("arrived %.0f packets/s; pps_5s %r pps %r bps_5s %r; capture_rates %s" %
        (arrived, s2.get("pps_5s"), s2.get("pps"), s2.get("bps_5s"), json.dumps(s2.get("capture_rates"))))
    running = s2["sensors"][0].get("capd_status", {}).get("finished") is not True

    def replayed():
        p = []
        if not started:
            p.append("no packet reached webd")
        if not running:
            p.append("the replay ended before the measurement did: %r packets" % s2["packets"])
        if arrived < RATE_PPS * RATE_SPEED / 3:
            p.append("only %.0f packets/s arrived (the replay should bring about %d)" % (arrived, RATE_PPS * RATE_SPEED))
        return p
    c.check("rates: webd and capd start, the replay at --speed 10 reaches webd", replayed)

    def within(name, value, want):
        if not isinstance(value, (int, float)) or not want / 2 <= value <= want * 2:
            return ["%s %r, but %.0f arrived per second" % (name, value, want)]
        return []
    c.check("rates: pps_5s is within a factor of 2 of the packets /api/stats counted arriving per second",
            lambda: within("pps_5s", s2.get("pps_5s"), arrived))
    c.check("rates: bps_5s and pps follow the arrival rate too",
            lambda: within("bps_5s", s2.get("bps_5s"), arrived_bytes * 8) + within("pps", s2.get("pps"), arrived))

    def labelled():
        p = []
        cap, live = s2.get("capture_rates") or {}, s2.get("rates") or {}
        if s2.get("rates_clock") != "arrival" or live.get("clock") != "arrival" or cap.get("clock") != "capture":
            p.append("clocks: rates_clock %r, rates.clock %r, capture_rates.clock %r" %
                     (s2.get("rates_clock"), live.get("clock"), cap.get("clock")))
        if live.get("pps_5s") != s2.get("pps_5s"):
            p.append("rates.pps_5s %r differs from pps_5s %r" % (live.get("pps_5s"), s2.get("pps_5s")))
        p += within("capture_rates.pps_5s", cap.get("pps_5s"), RATE_PPS)
        if not T0 <= cap.get("now", 0) <= T0 + RATE_SECONDS or abs(live.get("now", 0) - time.time()) > 5:
            p.append("capture_rates.now %r (the capture is at %d..%d), rates.now %r (now is %d)" %
                     (cap.get("now"), T0, T0 + RATE_SECONDS, live.get("now"), time.time()))
        return p
    c.check("rates: capture_rates is the capture's own rate (a tenth of it), and each figure names its clock",
            labelled)
    d.stop()


# ------------------------------------------------------------------ flows

SCANNER, TARGET, SWEEPER, VICTIM = "10.1.0.5", "10.1.0.9", "10.1.0.6", "10.1.0.20"
LOSSY, CLEAN = ("10.1.0.30", "10.1.0.31"), ("10.1.0.32", "10.1.0.33")
PORT_SCANS = [(10, "first"), (40, "inside the cooldown"), (120, "after it")]  # capture seconds
SYN_FLOODS = [(150, "first"), (170, "inside the cooldown"), (260, "after it")]
SWEEP_AT, TCP_AT, END = 25, 300, 340
WINDOW, COOLDOWN, IDLE = 10, 30, 5
FLOW_WEBD_ARGS = ["--ip-api", "off", "--alert-packets", "1000", "--flow-alert-window", str(WINDOW),
                  "--alert-cooldown", str(COOLDOWN)]
CAPD_IDLE_ARGS = ["--flow-idle-tcp-syn", str(IDLE), "--flow-idle-tcp-closed", str(IDLE), "--flow-idle-udp", "2"]


def port_scan(pkts, t0, first_port):
    """300 SYNs to one host's ports, each answered by a RST: not half-open."""
    for k in range(300):
        t, p = T0 + t0 + k * 0.003, first_port + k
        pkts.append((t, tcp_frame(SCANNER, TARGET, 45000, p, 7000, 0, SYN)))
        pkts.append((t + 0.0005, tcp_frame(TARGET, SCANNER, p, 45000, 0, 7001, RST | ACK)))


def sweep(pkts, t0):
    """SYNs to port 22 of 250 hosts, unanswered (one half-open flow each)."""
    for h in range(250):
        pkts.append((T0 + t0 + h * 0.003, tcp_frame(SWEEPER, "10.2.0.%d" % (h + 1), 46000, 22, 9000, 0, SYN)))


def syn_flood(pkts, t0):
    """300 SYNs from spoofed sources to one port, never answered."""
    for k in range(300):
        src = "10.3.%d.%d" % (k // 250, k % 250 + 1)
        pkts.append((T0 + t0 + k * 0.003, tcp_frame(src, VICTIM, 1024 + k, 80, 100 + k, 0, SYN)))


def conversation(pkts, t0, pair, sport, retransmit_every):
    """A TCP connection sending 60 segments of 100 bytes, every other one ACKed; every
    retransmit_every-th one sent again 100 ms later (a retransmission by tshark's rules)."""
    a, b = pair
    t, seq, peer = T0 + t0, 1000, 5000
    pkts.append((t, tcp_frame(a, b, sport, 5001, seq, 0, SYN)))
    pkts.append((t + 0.005, tcp_frame(b, a, 5001, sport, peer, seq + 1, SYN | ACK)))
    pkts.append((t + 0.010, tcp_frame(a, b, sport, 5001, seq + 1, peer + 1, ACK)))
    seq, t = seq + 1, t + 0.02
    for i in range(60):
        pkts.append((t, tcp_frame(a, b, sport, 5001, seq, peer + 1, PSH | ACK, b"d" * 100)))
        seq += 100
        if i % 2:
            pkts.append((t + 0.005, tcp_frame(b, a, 5001, sport, peer + 1, seq, ACK)))
        if retransmit_every and i % retransmit_every == retransmit_every - 1:
            pkts.append((t + 0.1, tcp_frame(a, b, sport, 5001, seq - 100, peer + 1, PSH | ACK, b"d" * 100)))
            t += 0.1
        t += 0.02
    pkts.append((t, tcp_frame(a, b, sport, 5001, seq, peer + 1, FIN | ACK)))
    pkts.append((t + 0.005, tcp_frame(b, a, 5001, sport, peer + 1, seq + 1, FIN | ACK)))
    pkts.append((t + 0.010, tcp_frame(a, b, sport, 5001, seq + 1, peer + 2, ACK)))


def flows_capture(path):
    pkts = []
    # Background: a new small UDP flow every half second, so that flow reports keep coming.
    for i in range(2 * END):
        pkts.append((T0 + i * 0.5 + 0.25, udp_frame("10.9.0.1", "10.9.0.2", 20000 + i, 7000)))
    for k, (t0, _) in enumerate(PORT_SCANS):
        port_scan(pkts, t0, 1 + 1000 * k)
    sweep(pkts, SWEEP_AT)
    for t0, _ in SYN_FLOODS:
        syn_flood(pkts, t0)
    conversation(pkts, TCP_AT, LOSSY, 40000, 3)
    conversation(pkts, TCP_AT, CLEAN, 40001, 0)
    write_pcap(path, pkts)
    return len(pkts)


def capd_flows(path):
    """capd --read FILE --flows: the flows, as capd's own oracle for the ratio."""
    out = subprocess.run([wc.CAPD, "--read", path, "--flows"] + CAPD_IDLE_ARGS, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def over_threshold(flows, percent=10, min_packets=50):
    """{(a, b): [ratio in hundredths of a percent, ...]} of the TCP flows over the threshold."""
    out = {}
    for f in flows:
        t = f.get("tcp")
        packets = f["a_packets"] + f["b_packets"]
        if not t or packets < min_packets:
            continue
        re = t["a_retransmissions"] + t["b_retransmissions"]
        if re * 100 > packets * percent:
            out.setdefault((f["a"], f["b"]), []).append(min(10000, re * 10000 // packets) / 100)
    return out


def by_kind(alerts, kind):
    return sorted((a for a in alerts if a.get("kind") == kind), key=lambda a: a["id"])


def episode_problems(alerts, kind, ip, episodes, earliest, latest):
    """Exactly one alert for the first and the last episode, none for the one inside the cooldown."""
    got = by_kind(alerts, kind)
    p = []
    if len(got) != 2 or any(a["ip"] != ip for a in got):
        return ["%d %s alerts, expected 2 for %s: %s" % (len(got), kind, ip, json.dumps(got)[:700])]
    for a, (t0, what) in zip(got, (episodes[0], episodes[2])):
        if not T0 + t0 + earliest <= a["started"] <= T0 + t0 + latest:
            p.append("the %s episode (at %d) alerted at %r, expected %d..%d" %
                     (what, T0 + t0, a["started"], T0 + t0 + earliest, T0 + t0 + latest))
    if got[1]["started"] - got[0].get("cleared", 1 << 40) < COOLDOWN:
        p.append("the second alert came %r s after the first cleared (cooldown %d)" %
                 (got[1]["started"] - got[0].get("cleared", 0), COOLDOWN))
    return p


def check_mode(c, label, info, lossy_ratio, packets_mode):
    alerts = info["alerts"]
    # From packets a scan alerts at its first packets; from reports, when capd reports its flows
    # (an idle timeout later, on a clock that lags the capture by as much).
    scan_late = 2 if packets_mode else IDLE + 15
    c.check("flows, %s: one port_scan per episode (2), none inside the cooldown, only the scanner" % label,
            lambda: episode_problems(alerts, "port_scan", SCANNER, PORT_SCANS, 0, scan_late))

    def host_scan():
        got = by_kind(alerts, "host_scan")
        if len(got) != 1 or got[0]["ip"] != SWEEPER or not 200 <= got[0]["peak"] <= 300:
            return ["host_scan alerts: %s (expected one for %s, peak about 250)" % (json.dumps(got)[:600], SWEEPER)]
        return []
    c.check("flows, %s: one host_scan for the sweep" % label, host_scan)
    # Half-open flows are reported after the idle timeout, whatever the webd.
    c.check("flows, %s: one syn_flood per flood (2), none inside the cooldown, for the target" % label,
            lambda: episode_problems(alerts, "syn_flood", VICTIM, SYN_FLOODS, 0, IDLE + 15))

    def retrans():
        got = by_kind(alerts, "retransmissions")
        if len(got) != 1 or (got[0]["ip"], got[0].get("peer")) != LOSSY:
            return ["retransmissions alerts %s, expected one for %s -> %s" % (json.dumps(got)[:600], *LOSSY)]
        if abs(got[0]["peak"] - lossy_ratio) > 0.011 or got[0].get("threshold") != 10 or got[0].get("flows") != 1:
            return ["alert %s: capd --flows says %.2f %%, threshold 10, one flow" % (json.dumps(got[0]), lossy_ratio)]
        return []
    c.check("flows, %s: one retransmissions alert for the lossy pair, peak = capd's ratio, not the clean pair" % label,
            retrans)

    def others():
        p = ["unexpected alert: %s" % json.dumps(a)[:300] for a in alerts
             if a.get("kind") not in ("port_scan", "host_scan", "syn_flood", "retransmissions")]
        p += ["still active at the end: %s" % json.dumps(a)[:300] for a in alerts if a.get("active")]
        return p
    c.check("flows, %s: no other alert; all cleared by the end" % label, others)


def finished(port, total):
    s = get_json(port, "/api/stats")
    st = s["sensors"][0].get("capd_status") or {}
    return s if st.get("finished") and s["packets"] >= total else None


def flows_finished(port):
    s = get_json(port, "/api/stats")
    st = s["sensors"][0]
    return s if st.get("flow_reports", 0) > 0 and st.get("capd_status", {}).get("finished") else None


def scenario_flows(c):
    path = os.path.join(wc.WORK, "alerts.pcap")
    total = flows_capture(path)
    oracle = over_threshold(capd_flows(path))
    lossy_ratio = (oracle.get(LOSSY) or [0])[0]
    d = Daemons("flows")
    fleet = Daemons("fleet")
    fleet.pub = "ipc://%s/flows.sock" % d.dir
    d.start_webd(*FLOW_WEBD_ARGS, "--history", os.path.join(d.dir, "history.db"))
    # The same limits from the configuration file, every key of the flow alerts given.
    conf = os.path.join(d.dir, "webd.conf")
    with open(conf, "w") as f:
        f.write("[webd]\nip-api = off\nalert-packets = 1000\nalert-cooldown = %d\nflow-alert-window = %d\n"
                "scan-ports = 100\nscan-hosts = 100\nsyn-flood-flows = 100\nretrans-percent = 10\n"
                "retrans-packets = 50\nflow-alert-tracked = 8192\n" % (COOLDOWN, WINDOW))
    os.chown(conf, -1, grp.getgrnam("wlite").gr_gid)
    os.chmod(conf, 0o640)
    fleet.start_webd("--config", conf)
    d.start_capd(path, "--speed", "10", "--publish-flows", fleet.pub, *CAPD_IDLE_ARGS)
    done = wait_for(lambda: finished(d.port, total), 60, 0.5)
    done_fleet = wait_for(lambda: flows_finished(fleet.port), 20, 0.5)
    # Episodes still open at the end clear within a window of the state's clock.
    wait_for(lambda: not any(a["active"] for a in get_json(d.port, "/api/alerts")["alerts"] +
                             get_json(fleet.port, "/api/alerts")["alerts"]), WINDOW * 2, 0.5)
    info, info_fleet = get_json(d.port, "/api/alerts"), get_json(fleet.port, "/api/alerts")
    stats = get_json(d.port, "/api/stats")
    log("packets webd: %s" % json.dumps(info["alerts"])[:3000])
    log("reports-only webd: %s" % json.dumps(info_fleet["alerts"])[:3000])

    def replayed():
        p = []
        if not done:
            p.append("webd has %r of %d packets" % (stats["packets"], total))
        if not done_fleet:
            p.append("the reports-only webd got no flow reports, or capd did not finish")
        if not lossy_ratio or CLEAN in oracle:
            p.append("capd --flows: lossy pair %r, clean pair %r (the capture is not as meant)" %
                     (oracle.get(LOSSY), oracle.get(CLEAN)))
        return p
    c.check("flows: webd (packets) and webd (flow reports only) get the whole capture", replayed)
    check_mode(c, "packets", info, lossy_ratio, True)
    c.check("flows, packets: the port scans alerted at their first packets (started in the scan)",
            lambda: episode_problems(info["alerts"], "port_scan", SCANNER, PORT_SCANS, 0, 1))
    check_mode(c, "reports only", info_fleet, lossy_ratio, False)

    def limits():
        want = {
            "cooldown": COOLDOWN, "flood": {"packets": 1000, "window": 10},
            "port_scan": {"ports": 100, "window": WINDOW}, "host_scan": {"hosts": 100, "window": WINDOW},
            "syn_flood": {"half_open_flows": 100, "window": WINDOW},
            "retransmissions": {"percent": 10, "min_packets": 50, "window": WINDOW}}
        p = ["%s: limits.%s = %r, expected %r" % (who, k, i.get("limits", {}).get(k), v)
             for who, i in (("flags", info), ("configuration file", info_fleet))
             for k, v in want.items() if i.get("limits", {}).get(k) != v]
        fa = stats.get("flow_alerts") or {}
        if fa.get("max") != 8192 or not 0 < fa.get("tracked", 0) <= 8192 or fa.get("evicted") != 0:
            p.append("/api/stats flow_alerts %r" % fa)
        return p
    c.check("flows: /api/alerts echoes every kind's limits (flags, configuration file); /api/stats the table's figures",
            limits)
    c.check("flows: /api/history/alerts stores each alert raised and cleared, with its kind, peer and flow id",
            lambda: history_alert_problems(d.port, info["alerts"]))
    fleet.stop()
    d.stop()


def history_alert_problems(port, alerts):
    """Each live alert (all cleared by now) is two history rows, raised and cleared, that say the same."""
    def stored():
        rows = get_json(port, "/api/history/alerts?limit=1000").get("alerts", [])
        return rows if len(rows) >= 2 * len(alerts) else None
    rows = wait_for(stored, 10, 0.5) or get_json(port, "/api/history/alerts?limit=1000").get("alerts", [])
    p = [] if alerts else ["no live alert to compare"]
    for a in alerts:
        got = sorted(r["event"] for r in rows if r["alert_id"] == a["id"])
        if got != ["cleared", "raised"]:
            p.append("alert %d (%s): history events %r" % (a["id"], a["kind"], got))
            continue
        for r in (r for r in rows if r["alert_id"] == a["id"]):
            want = {"kind": a["kind"], "ip": a["ip"], "peer": a.get("peer"), "flow_id": a.get("flow_id") or None,
                    "started": a["started"]}
            have = {k: r.get(k) for k in want}
            if have != want:
                p.append("alert %d %s: history %r, live %r" % (a["id"], r["event"], have, want))
    if len(rows) != 2 * len(alerts):
        p.append("%d history rows for %d alerts" % (len(rows), len(alerts)))
    return p


# ------------------------------------------------------------------ quiet

# The dev-corpus captures with 10 or more IP flows, and the two with a TCP
# flow of 50 packets or more over 10 % retransmissions (capd --read --flows).
QUIET = [
    "IGMP_V2.pcap", "afs.pcap", "babel_update_oobr.pcap", "dhcp-rfc4388.pcap", "of13_ericsson.pcapng",
    "resp_1_benchmark.pcap", "resp_3_malicious.pcap", "zeek-communityid__icmp6.pcap",
    "zeek-http__bro.org-filtered.pcap", "zeek-igmp__igmp-many-groups.pcap", "zeek-igmp__igmp-many-sources.pcap",
    "zeek-ip6_esp.pcap", "zeek-krb__kinit.pcap", "zeek-modbus__modbusSmall.pcap", "zeek-mysql__auth.pcap",
    "zeek-nfs__nfs_write.pcap", "zeek-nfs__nfs_write_bad_stable_how.pcap", "zeek-ntp__NTP_sync.pcap",
    "zeek-ntp__ntp2.pcap", "zeek-rotation.pcap", "zeek-rpc-portmap-sadmind.pcap",
    "zeek-smb__smb_v2_only_non_zero_reserved1.pcap", "zeek-snmp__snmpv1_get.pcap",
    "zeek-ssh__ssh.client-side-half-duplex.pcap", "zeek-ticks-dns-1hr.pcap", "zeek-ticks-dns.pcap",
    "zeek-tunnels__Teredo.pcap", "zeek-var-services-std-ports.pcap", "zeek-wikipedia-filtered-plus-udp.pcap",
    "zeek-wikipedia.pcap",
    "zeek-pppoe-over-qinq.pcap", "zeek-socks.pcap", "zeek-http__vnd.ms-cab-compressed-multi-conn.pcap",
]


def capd_out(path, mode):
    out = subprocess.run([wc.CAPD, "--read", path, mode], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def sensor_counts(port):
    """Packets received (those with an impossible time too, which webd drops) and flow reports."""
    s = get_json(port, "/api/stats")["sensors"][0]
    return s["packets"], s.get("flow_reports", 0)


def scenario_quiet(c):
    d = Daemons("quiet")
    d.start_webd("--ip-api", "off")
    expected, short = {}, []
    packets = reports = 0
    for name in QUIET:
        path = os.path.join(wc.CORPUS, name)
        flows = capd_out(path, "--flows")
        for pair, ratios in over_threshold(flows).items():
            expected.setdefault(pair, []).extend(ratios)
        packets += len(capd_out(path, "--json"))
        reports += len(flows)  # at least one report a flow: its end (eof at the latest)
        d.start_capd(path, "--speed", "max", "--start-delay", "300")
        # capd stays up after a file; its last reports (eof) follow its last packet.
        t0 = time.monotonic()
        if not wait_for(lambda: all(a >= b for a, b in zip(sensor_counts(d.port), (packets, reports))), 20):
            short.append(name)
        log("%s: %.1f s, webd at %r (%d packets, %d flows)" %
            (name, time.monotonic() - t0, sensor_counts(d.port), packets, reports))
        wc.stop(d.capd)
        d.capd = None
    time.sleep(1.5)  # the last reports, and a tick
    info = get_json(d.port, "/api/alerts")
    stats = get_json(d.port, "/api/stats")
    alerts = info["alerts"]
    log("quiet: %s" % json.dumps(alerts)[:3000])
    c.check("quiet: every capture replayed whole into one webd",
            lambda: ["webd fell short after %s (%r of %d packets, %r of %d flow reports at least)" %
                     (short, stats["sensors"][0]["packets"], packets, stats["sensors"][0].get("flow_reports"), reports)]
            if short else [])
    c.check("quiet: no scan or SYN flood alert at the default limits",
            lambda: ["alert: %s" % json.dumps(a)[:300] for a in alerts
                     if a["kind"] in ("port_scan", "host_scan", "syn_flood")])

    def retrans():
        got = {}
        for a in by_kind(alerts, "retransmissions"):
            got.setdefault((a["ip"], a.get("peer")), []).append(a["peak"])
        p = []
        if set(got) != set(expected):
            p.append("alerts for %r, capd --flows has %r over the threshold" % (sorted(got), sorted(expected)))
        for pair, peaks in got.items():
            # The peak is the worst report's: the final one's (capd --flows) or an active report's before it.
            if len(peaks) != 1 or peaks[0] < max(expected.get(pair, [100])) - 0.011:
                p.append("%s -> %s: peaks %r, capd's final ratios %r" % (pair[0], pair[1], peaks, expected.get(pair)))
        return p
    c.check("quiet: retransmission alerts exactly for the pairs over the threshold in capd --flows", retrans)
    c.check("quiet: the alert table evicted nothing",
            lambda: [] if (stats.get("flow_alerts") or {}).get("evicted") == 0 else
            ["flow_alerts %r" % stats.get("flow_alerts")])
    d.stop()


SCENARIOS = {"rates": scenario_rates, "flows": scenario_flows, "quiet": scenario_quiet}

if __name__ == "__main__":
    sys.exit(run_scenarios(sys.argv[1:], CHECKS, SCENARIOS, __doc__))
