# tests/integration/lib/ipfix_corpus.py: the corpus part of ipfix.sh.
#
#   expected CAPD CORPUS OUT.json      capd --read FILE --flows for every capture
#   replay   ARGS...                   capd replays every capture (batches of capds at
#                                      once), wlite-ipfix exports them to one nfcapd
#   compare  EXPECTED NFDUMP_DIR OUT   nfdump -r against --flows, per flow and in total
#   softflowd CORPUS PORT WORKDIR OUT  softflowd -r every capture to a second nfcapd
#   summarize NFDUMP_DIR               flows, packets, bytes of a collector's files
#
# Each capture is an observation domain of its own (wlite-ipfix gives the
# n-th --connect --domain+n), so nfdump's records are told apart by capture.
# Library of the integration test, not run by scripts/test by itself.
import concurrent.futures
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time

END_ACTIVE = 2  # flowEndReason: active timeout


def captures(corpus):
    return sorted(f for f in os.listdir(corpus) if not f.endswith(".csv") and not f.startswith("."))


def cmd_expected(capd, corpus, out):
    def one(name):
        p = subprocess.run([capd, "--config", "/dev/null", "--read", os.path.join(corpus, name), "--flows"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        return name, [json.loads(l) for l in p.stdout.decode("utf-8", "replace").splitlines() if l.strip()]

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        res = dict(ex.map(one, captures(corpus)))
    with open(out, "w") as fh:
        json.dump(res, fh)
    print("%d captures, %d flows" % (len(res), sum(len(v) for v in res.values())))


def wait_all(paths, needle, timeout):
    """Until every file in paths holds needle; returns the ones that do not."""
    end = time.monotonic() + timeout
    left = list(paths)
    while left and time.monotonic() < end:
        left = [p for p in left if needle not in open(p, errors="replace").read()]
        if left:
            time.sleep(0.05)
    return left


def stop(procs, timeout=10):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_batch(a, names, first_index, ipfix_log):
    """One wlite-ipfix and one capd per capture; returns (problems, ipfix log text)."""
    run, problems = a["run"], []
    socks = [os.path.join(run, "f%d.sock" % (first_index + i)) for i in range(len(names))]
    ipfix_cmd = [a["ipfix"], "--config", "/dev/null", "--collector", a["collector"],
                 "--domain", str(first_index + 1)]
    for i, s in enumerate(socks):
        ipfix_cmd += ["--connect", "c%d=ipc://%s" % (first_index + i, s)]
    with open(ipfix_log, "w") as log:
        ipfix = subprocess.Popen(ipfix_cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    capds, errs = [], []
    for i, name in enumerate(names):
        k = first_index + i
        err = os.path.join(run, "capd%d.err" % k)
        errs.append(err)
        with open(err, "w") as fh:
            capds.append(subprocess.Popen(
                [a["capd"], "--config", "/dev/null", "--read", os.path.join(a["corpus"], name),
                 "--speed", "max", "--start-delay", str(a["delay_ms"]),
                 "--publish", "ipc://%s/p%d.sock" % (run, k), "--publish-flows", "ipc://" + socks[i],
                 "--control", "ipc://%s/c%d.sock" % (run, k)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=fh))
    for err in wait_all(errs, "finished reading", 60):
        problems.append("%s: capd did not finish: %s" % (err, open(err).read()[-300:]))
    time.sleep(0.3)  # the last batches are on their way to wlite-ipfix
    stop(capds)
    stop([ipfix])
    for err in errs:
        os.unlink(err)
    return problems, open(ipfix_log).read()


def cmd_replay(capd, ipfix, corpus, run, collector, batch, delay_ms, out):
    a = {"capd": capd, "ipfix": ipfix, "corpus": corpus, "run": run, "collector": collector,
         "delay_ms": delay_ms}
    names = captures(corpus)
    problems, logs, t0 = [], [], time.monotonic()
    for first in range(0, len(names), batch):
        p, log = run_batch(a, names[first:first + batch], first, os.path.join(run, "ipfix-%d.log" % first))
        problems += p
        logs.append(log)
    sums = {"reports": 0, "gaps": 0, "missed": 0, "records": 0, "not_sent": 0, "malformed": 0}
    pat = re.compile(r"(\d+) flow reports received \((\d+) gaps, (\d+) reports missed, (\d+) malformed batches\);"
                     r".*: (\d+) records in \d+ messages.*not sent: (\d+) records")
    for log in logs:
        m = pat.search(log)
        if not m:
            problems.append("no final counts in wlite-ipfix's log: %s" % log[-400:])
            continue
        for k, v in zip(("reports", "gaps", "missed", "malformed", "records", "not_sent"), m.groups()):
            sums[k] += int(v)
    res = {"captures": names, "problems": problems, "ipfix": sums, "seconds": time.monotonic() - t0,
           "batches": (len(names) + batch - 1) // batch}
    with open(out, "w") as fh:
        json.dump(res, fh)
    print("%d captures in %d batches, %.1f s; wlite-ipfix: %r; %d problems"
          % (len(names), res["batches"], res["seconds"], sums, len(problems)))


# ---- nfdump's side ----------------------------------------------------------------

RAW_FIELD = re.compile(r"^\s+([a-zA-Z][a-zA-Z ]*?)\s+=\s+(.*?)\s*$")


def nfdump_records(nfdir):
    """Every record of the files in nfdir, from nfdump -o raw (exact times and all fields)."""
    text = subprocess.run(["nfdump", "-q", "-R", nfdir, "-o", "raw"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, check=True).stdout.decode()
    recs, cur = [], None
    for line in text.splitlines():
        if line.startswith("Flow Record"):
            cur = {}
            recs.append(cur)
        elif cur is not None:
            m = RAW_FIELD.match(line)
            if m:
                cur[m.group(1)] = m.group(2)
    return recs


def nfdump_exporters(nfdir):
    """sysid -> (observation domain, sequence failures), from nfdump -E."""
    out = {}
    for f in sorted(os.listdir(nfdir)):
        if not f.startswith("nfcapd.") or f.endswith(".current"):
            continue
        text = subprocess.run(["nfdump", "-E", os.path.join(nfdir, f)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL).stdout.decode()
        for m in re.finditer(r"SysID: *(\d+), IP: *\S+, version: *10, ID: *(\d+), Sequence failures: *(\d+)", text):
            sysid, dom, fails = int(m.group(1)), int(m.group(2)), int(m.group(3))
            prev = out.get((f, sysid))
            out[(f, sysid)] = (dom, fails + (prev[1] if prev else 0))
    return out


def first_number(v):
    return int(v.split()[0], 0)


def addr(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text.lower()


def ms(seconds):
    us = int(round(seconds * 1e6))
    return max(us, 0) // 1000


def expected_key(f):
    """The identity nfdump can show of a flow from --flows, as wlite-ipfix exports it."""
    vlan = (f.get("vlan") or [0])[0]
    if f.get("l3") in ("ipv4", "ipv6"):
        key = ["ip", f.get("ipproto", 0), addr(f["a"]), addr(f["b"])]
        if "a_port" in f:
            key += [f["a_port"], f["b_port"]]
        elif f.get("ipproto") in (1, 58) and "icmp" in f:
            key += [0, f["icmp"]["type"] * 256 + f["icmp"]["code"]]
        else:
            key += [0, 0]
    else:
        key = ["mac", f.get("a", "00:00:00:00:00:00").lower(), f.get("b", "00:00:00:00:00:00").lower(), 0, 0, 0]
    return tuple(key + [vlan, ms(f["first"])])


def nfdump_key(r):
    vlan = first_number(r.get("src vlan", "0"))
    first = first_number(r["first"])
    if "src addr" in r:
        proto = first_number(r["proto"])
        sp, dp = first_number(r.get("src port", "0")), first_number(r.get("dst port", "0"))
        if "ICMP" in r:  # "3.3  type.code": icmpTypeCode
            t, c = r["ICMP"].split()[0].split(".")
            sp, dp = 0, int(t) * 256 + int(c)
        key = ["ip", proto, addr(r["src addr"]), addr(r["dst addr"]), sp, dp]
    else:
        key = ["mac", r.get("in src mac", "").lower(), r.get("in dst mac", "").lower(), 0, 0, 0]
    return tuple(key + [vlan, first])


def add(d, key, vals):
    cur = d.setdefault(key, [0, 0, 0, 0, 0])
    for i in range(4):
        cur[i] += vals[i]
    cur[4] = max(cur[4], vals[4])


def cmd_compare(expected_path, nfdir, out):
    expected = json.load(open(expected_path))
    names = sorted(expected)
    exporters = nfdump_exporters(nfdir)
    recs = nfdump_records(nfdir)
    # nfdump -R keeps the files in order; each file's sysids are its own: map by the exporter list.
    by_dom = {}
    seq_failures = sum(v[1] for v in exporters.values())
    sysid_dom = {}
    for (f, sysid), (dom, _) in exporters.items():
        if sysid_dom.setdefault(sysid, dom) != dom:
            raise SystemExit("sysid %d names two domains across files" % sysid)
    finals, actives = {}, 0
    for r in recs:
        dom = sysid_dom.get(first_number(r["export sysid"]))
        if dom is None:
            continue
        vals = [first_number(r["in packets"]), first_number(r["in bytes"]), first_number(r["out packets"]),
                first_number(r["out bytes"]), first_number(r["last"])]
        add(by_dom.setdefault(dom, {}), nfdump_key(r), vals)
        if first_number(r["end reason"]) == END_ACTIVE:
            actives += 1
        else:
            finals[dom] = finals.get(dom, 0) + 1
    res = {"captures": len(names), "flows_expected": 0, "flows_exported": 0, "records": len(recs),
           "active_records": actives, "sequence_failures": seq_failures, "mismatched_captures": [],
           "totals_expected": [0, 0, 0, 0], "totals_nfdump": [0, 0, 0, 0], "examples": []}
    for i, name in enumerate(names):
        dom = i + 1
        want = {}
        for f in expected[name]:
            add(want, expected_key(f), [f.get("a_packets", 0), f.get("a_bytes", 0), f.get("b_packets", 0),
                                        f.get("b_bytes", 0), ms(f["last"])])
        got = by_dom.get(dom, {})
        res["flows_expected"] += len(expected[name])
        res["flows_exported"] += finals.get(dom, 0)
        for d, t in ((want, "totals_expected"), (got, "totals_nfdump")):
            for v in d.values():
                for k in range(4):
                    res[t][k] += v[k]
        if want != got or finals.get(dom, 0) != len(expected[name]):
            res["mismatched_captures"].append(name)
            if len(res["examples"]) < 5:
                diff = [(k, want.get(k), got.get(k)) for k in sorted(set(want) | set(got), key=str)
                        if want.get(k) != got.get(k)]
                res["examples"].append({"capture": name, "flows": len(expected[name]),
                                        "final_records": finals.get(dom, 0), "diff": diff[:4]})
    with open(out, "w") as fh:
        json.dump(res, fh, default=str)
    print(json.dumps({k: v for k, v in res.items() if k != "examples"}, default=str))


def cmd_summarize(nfdir):
    tot = {"flows": 0, "packets": 0, "bytes": 0, "ip_flows": 0}
    for r in nfdump_records(nfdir):
        tot["flows"] += 1
        tot["packets"] += first_number(r["in packets"]) + first_number(r["out packets"])
        tot["bytes"] += first_number(r["in bytes"]) + first_number(r["out bytes"])
        tot["ip_flows"] += "src addr" in r
    print(json.dumps(tot))


def softflowd_one(path, port, work, index):
    ctl, pid = os.path.join(work, "sfd%d.ctl" % index), os.path.join(work, "sfd%d.pid" % index)
    if os.path.exists(ctl):
        os.unlink(ctl)
    p = subprocess.Popen(["softflowd", "-r", path, "-n", "127.0.0.1:%d" % port, "-v", "10", "-b", "-d",
                          "-p", pid, "-c", ctl], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    end = time.monotonic() + 5
    while not os.path.exists(ctl) and p.poll() is None and time.monotonic() < end:
        time.sleep(0.005)
    # softflowd 1.1.0 reading a file waits on its control socket between reads: any
    # command makes it read the file, then shutdown exports every flow. The socket
    # file appears before softflowd listens on it: a refused command is tried again.
    for c in ("statistics", "shutdown"):
        while p.poll() is None and time.monotonic() < end + 5:
            if subprocess.run(["softflowctl", "-c", ctl, c], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.01)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return path
    finally:
        for f in (ctl, pid):
            if os.path.exists(f):
                os.unlink(f)
    return None


def cmd_softflowd(corpus, port, work, out):
    names = captures(corpus)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        stuck = [p for p in ex.map(lambda a: softflowd_one(os.path.join(corpus, a[1]), port, work, a[0]),
                                   enumerate(names)) if p]
    with open(out, "w") as fh:
        json.dump({"captures": len(names), "stuck": stuck, "seconds": time.monotonic() - t0}, fh)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "expected":
        cmd_expected(*args)
    elif cmd == "replay":
        capd, ipfix, corpus, run, collector, batch, delay, out = args
        cmd_replay(capd, ipfix, corpus, run, collector, int(batch), int(delay), out)
    elif cmd == "compare":
        cmd_compare(*args)
    elif cmd == "summarize":
        cmd_summarize(*args)
    elif cmd == "softflowd":
        corpus, port, work, out = args
        cmd_softflowd(corpus, int(port), work, out)
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
