"""tests/integration/fleet.sh's questions to the central webd (run inside its namespace).

  fleet_check.py wait PORT SECONDS EXPR      polls /api/stats until EXPR holds (names: stats,
                                              sensors = {name: entry}, health = {name: entry["health"]})
  fleet_check.py show PORT EXPR               prints EXPR once
  fleet_check.py flows PORT SENSOR REF RUNS   /api/flows?sensor=SENSOR against REF (capd --read FILE
                                              --flows output): every flow of REF is there RUNS times
                                              (one entry per run of capd, with ids of their own),
                                              each with REF's values exactly (none added up), and
                                              nothing else
Exit 0 when it holds; otherwise the reasons on stdout and exit 1.
"""
import json
import sys
import time
import urllib.request


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path), timeout=10) as r:
        return json.load(r)


def names(port):
    stats = get(port, "/api/stats")
    sensors = {s["name"]: s for s in stats.get("sensors", [])}
    health = {k: v.get("health", {}) for k, v in sensors.items()}
    return {"stats": stats, "sensors": sensors, "health": health}


def key_of(f):
    """What tells two flows apart across runs (ids are not: each run of capd has its own)."""
    return (f.get("l3"), f.get("ipproto"), f.get("a"), f.get("b"), f.get("a_port"), f.get("b_port"),
            json.dumps(f.get("icmp"), sort_keys=True), json.dumps(f.get("vlan")), f["first"])


def reference(path):
    """The last report of each flow of capd --read FILE --flows."""
    last = {}
    with open(path) as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                last[r["id"]] = r
    return list(last.values())


def check_flows(port, sensor, ref_path, runs):
    ref = reference(ref_path)
    got = get(port, "/api/flows?limit=10000&sensor=" + sensor)
    flows = got["flows"]
    problems = []
    if any(f.get("sensor") != sensor for f in flows):
        problems.append("flows of other sensors in the answer")
    if len({f["id"] for f in flows}) != len(flows):
        problems.append("an id appears twice")
    by_key = {}
    for f in flows:
        by_key.setdefault(key_of(f), []).append(f)
    for r in ref:
        have = by_key.pop(key_of(r), [])
        if len(have) != runs:
            problems.append("%r: %d entries, want %d (one per run of capd)" % (key_of(r), len(have), runs))
        for a in have:
            diff = {k: (v, a.get(k)) for k, v in r.items() if k != "id" and a.get(k) != v}
            if diff:
                problems.append("%r differs from capd --flows (want, got): %r" % (key_of(r), diff))
        if len(problems) > 8:
            break
    if by_key and len(problems) <= 8:
        problems.append("%d flows that capd --flows does not have, such as %r" % (len(by_key), next(iter(by_key))))
    if got["total"] != runs * len(ref):
        problems.append("total %d, want %d x %d" % (got["total"], runs, len(ref)))
    print("%s: %d flows in webd, capd --flows has %d (x %d runs)" % (sensor, got["total"], len(ref), runs))
    for p in problems:
        print(p)
    return not problems


def main():
    cmd, port = sys.argv[1], sys.argv[2]
    if cmd == "wait":
        limit, expr = float(sys.argv[3]), sys.argv[4]
        end, last = time.time() + limit, None
        while True:
            try:
                env = names(port)
                if eval("(" + expr + ")", {}, env):
                    return 0
                last = {k: {x: v.get(x) for x in ("up", "stats_age", "flow_gaps")} for k, v in env["health"].items()}
            except (OSError, ValueError, KeyError, TypeError) as e:
                last = repr(e)
            if time.time() > end:
                print("after %gs, still not: %s (health: %s)" % (limit, expr, last))
                return 1
            time.sleep(0.2)
    if cmd == "show":
        print(eval("(" + sys.argv[3] + ")", {}, names(port)))
        return 0
    if cmd == "flows":
        return 0 if check_flows(port, sys.argv[3], sys.argv[4], int(sys.argv[5])) else 1
    print("unknown command " + cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main())
