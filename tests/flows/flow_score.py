#!/usr/bin/env python3
"""flow_score: score wlite's flows (`wlite-capd --read FILE --flows`, flow schema v1)
against tshark's conversations (flow_oracle.py), as issue 11 "How it is checked" asks.

Python 3 standard library only.

For every capture the command template is run (with {} replaced by the shell-quoted
capture path; appended when there is no {}), split with shlex, no shell, stdin from
/dev/null, in its own process group, killed after --timeout seconds.  Its stdout
must be NDJSON, one flow object per line.

wlite's flows are summed the way the oracle sums tshark's frames: by transport
(ipproto; ports only for TCP 6 and UDP 17) and the UNORDERED pair of endpoints,
so idle splits, active reports of the same flow are NOT expected (--flows prints
each flow's final report once), port reuse, VLANs and tunnel context do not
matter.  Side a/b of each flow is mapped onto the oracle's direction by address
and port.  Flows whose a/b are not IP addresses (MAC pairs) are ignored.

Scores, over all captures:
  frames+bytes     share of the oracle's conversations whose frames AND bytes
                   match exactly in both directions (goal --min-flows, 99)
  retransmissions  share of the oracle's TCP conversations with at least one
                   tcp.analysis.retransmission frame whose per-direction counts
                   (tcp.a_retransmissions/b_retransmissions summed) match
                   exactly (goal --min-retrans, 98)
  rtt              share of the oracle's TCP conversations with an initial RTT
                   where wlite's rtt_ms is within --rtt-tolerance ms (0.01).
                   Both sides take the RTT of the conversation's earliest
                   stream/flow that has one (wlite: flows ordered by `first`).
                   (goal --min-rtt, 98)
A crashed (signal, exit >= 128, sanitizer report) or timed-out command makes
every conversation of that capture a mismatch in all three scores, and is
listed.  Other non-zero exits are listed but their output is scored.
Out-of-order, duplicate-ACK and zero-window counts are compared too, for
information only.

Exit status: 0 when all three goals are met and no capture crashed or timed
out (--allow-crashes drops the latter condition), 1 otherwise, 2 when the tool
itself fails.  The last line of a completed run is:
  overall: frames+bytes P% (m/n), retransmissions P% (m/n), rtt P% (m/n), C crashes, T timeouts

--self-test scores reference_flows.py (flows built from tshark's own per-frame
output) and expects 100%, then perturbs it and checks that exactly the
perturbed conversation is reported.
"""

import argparse
import concurrent.futures
import decimal
import ipaddress
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True    # no __pycache__ in the shared checkout
import flow_oracle as fo  # noqa: E402

REFERENCE = os.path.join(HERE, "reference_flows.py")
SANITIZER_MARKS = (
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "ERROR: MemorySanitizer",
    "WARNING: ThreadSanitizer", "ERROR: UndefinedBehaviorSanitizer", "runtime error:",
)
INFO_COUNTERS = (("out_of_order", "out_of_order"), ("dup_acks", "dup_acks"),
                 ("zero_windows", "zero_windows"))
EPSILON = 1e-9


class ToolError(Exception):
    pass


# ------------------------------------------------------------ running wlite

def build_argv(template, capture):
    quoted = shlex.quote(capture)
    cmd = template.replace("{}", quoted) if "{}" in template else f"{template} {quoted}"
    try:
        argv = shlex.split(cmd)
    except ValueError as exc:
        raise ToolError(f"cannot split command {cmd!r}: {exc}") from exc
    if not argv:
        raise ToolError("empty command")
    return argv


def check_executable(template, sample):
    exe = build_argv(template, sample)[0]
    ok = (os.path.isfile(exe) and os.access(exe, os.X_OK)) if os.sep in exe \
        else shutil.which(exe) is not None
    if not ok:
        raise ToolError(f"command not found or not executable: {exe}")


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_command(argv, timeout):
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        return {"stdout": b"", "stderr": f"cannot run {argv[0]}: {exc}".encode(),
                "rc": 127, "timed_out": False, "seconds": 0.0}
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(proc)
        out, err = proc.communicate()
    finally:
        if proc.returncode is None:
            kill_group(proc)
            proc.wait()
    return {"stdout": out, "stderr": err, "rc": proc.returncode, "timed_out": timed_out,
            "seconds": round(time.monotonic() - start, 3)}


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def classify(run):
    """status ('ok', 'crash', 'timeout', 'error') and a short reason."""
    stderr = run["stderr"].decode("utf-8", "replace")
    sanitizer = next((m for m in SANITIZER_MARKS if m in stderr), None)
    rc = run["rc"]
    if run["timed_out"]:
        return "timeout", f"killed after the timeout ({run['seconds']} s)"
    if rc < 0:
        return "crash", signal_name(-rc)
    if rc >= 128:
        return "crash", f"exit {rc}"
    if sanitizer:
        return "crash", sanitizer
    if rc != 0:
        return "error", f"exit {rc}"
    return "ok", ""


# ------------------------------------------------------------ wlite's flows

def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def is_num(x):
    return isinstance(x, (int, float, decimal.Decimal)) and not isinstance(x, bool)


def parse_ndjson(data):
    flows, bad, example = [], 0, None
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line.decode("utf-8"), parse_float=decimal.Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            obj, why = None, str(exc)
        else:
            why = "not a JSON object"
        if not isinstance(obj, dict):
            bad += 1
            if example is None:
                example = f"line {lineno}: {why}: {line[:120]!r}"
            continue
        flows.append(obj)
    return flows, bad, example


def flow_endpoints(flow):
    """(proto, (a_addr, a_port), (b_addr, b_port)) of an IP flow, else None."""
    proto = flow.get("ipproto")
    if not is_int(proto):
        return None
    try:
        a = ipaddress.ip_address(flow.get("a"))
        b = ipaddress.ip_address(flow.get("b"))
    except ValueError:
        return None
    ap = bp = None
    if proto in fo.PORT_PROTOS:
        ap, bp = flow.get("a_port"), flow.get("b_port")
        if not (is_int(ap) and is_int(bp)):
            ap = bp = None
    return proto, (a, ap), (b, bp)


def counter(obj, name, problems):
    v = obj.get(name, 0) if isinstance(obj, dict) else 0
    if not is_int(v) or v < 0:
        problems.append(name)
        return 0
    return v


class Summed:
    """wlite's flows of one conversation, summed per oracle direction."""
    __slots__ = ("frames", "bytes", "retrans", "info", "rtts", "flows")

    def __init__(self):
        self.frames, self.bytes, self.retrans = [0, 0], [0, 0], [0, 0]
        self.info = {name: [0, 0] for name, _ in INFO_COUNTERS}
        self.rtts = []      # (first, order, rtt_ms)
        self.flows = 0


def flow_time(flow):
    v = flow.get("first")
    return float(v) if is_num(v) else float("inf")


def add_flow(summed, flow, order, a_dir, problems):
    """Adds one flow; a_dir = the oracle direction in which side a sends
    (None when both sides are the same endpoint: everything is direction 0)."""
    dirs = (0, 0) if a_dir is None else (a_dir, 1 - a_dir)
    for side, d in zip("ab", dirs):
        summed.frames[d] += counter(flow, f"{side}_packets", problems)
        summed.bytes[d] += counter(flow, f"{side}_bytes", problems)
    tcp = flow.get("tcp")
    if isinstance(tcp, dict):
        for side, d in zip("ab", dirs):
            summed.retrans[d] += counter(tcp, f"{side}_retransmissions", problems)
            for name, key in INFO_COUNTERS:
                summed.info[name][d] += counter(tcp, f"{side}_{key}", problems)
        rtt = tcp.get("rtt_ms")
        if is_num(rtt):
            summed.rtts.append((flow_time(flow), order, float(rtt)))
        elif rtt is not None:
            problems.append("tcp.rtt_ms")
    summed.flows += 1


def sum_flows(flows):
    """{conversation key: Summed}, non-IP flow count, field problems."""
    convs, non_ip, problems = {}, 0, []
    for order, flow in enumerate(flows):
        ends = flow_endpoints(flow)
        if ends is None:
            non_ip += 1
            continue
        proto, a, b = ends
        key, a_dir = fo.conv_key(proto, a[0], a[1], b[0], b[1])
        if a == b:
            a_dir = None
        add_flow(convs.setdefault(key, Summed()), flow, order, a_dir, problems)
    return convs, non_ip, problems


def first_rtt(summed):
    if summed is None or not summed.rtts:
        return None
    return min(summed.rtts)[2]


# ------------------------------------------------------------ comparing

def oracle_key(conv):
    a, b = ipaddress.ip_address(conv["a"]), ipaddress.ip_address(conv["b"])
    key, _ = fo.conv_key(conv["ipproto"], a, conv.get("a_port"), b, conv.get("b_port"))
    return key


def tally():
    return {"total": 0, "match": 0, "mismatches": []}


def compare_conv(conv, ours, res, failed, tol):
    """Scores one oracle conversation; ours is None when wlite has none
    (or its run failed: failed=True)."""
    key = conv["key"]
    got = None if failed or ours is None else ours
    fb = res["frames_bytes"]
    fb["total"] += 1
    if got is not None and got.frames == conv["frames"] and got.bytes == conv["bytes"]:
        fb["match"] += 1
    else:
        fb["mismatches"].append({
            "key": key, "oracle": {"frames": conv["frames"], "bytes": conv["bytes"]},
            "wlite": None if got is None else {"frames": got.frames, "bytes": got.bytes,
                                               "flows": got.flows}})
    tcp = conv.get("tcp")
    if not tcp:
        return
    if any(tcp["retransmissions"]):
        rt = res["retransmissions"]
        rt["total"] += 1
        if got is not None and got.retrans == tcp["retransmissions"]:
            rt["match"] += 1
        else:
            rt["mismatches"].append({"key": key, "oracle": tcp["retransmissions"],
                                     "wlite": None if got is None else got.retrans})
    if "rtt_ms" in tcp:
        rr = res["rtt"]
        rr["total"] += 1
        mine = None if got is None else first_rtt(got)
        if mine is not None and abs(mine - tcp["rtt_ms"]) <= tol + EPSILON:
            rr["match"] += 1
        else:
            rr["mismatches"].append({"key": key, "oracle": tcp["rtt_ms"],
                                     "oracle_all": tcp.get("rtts_ms"), "wlite": mine})
    for name, _ in INFO_COUNTERS:
        if any(tcp[name]):
            t = res["info"].setdefault(name, {"total": 0, "match": 0})
            t["total"] += 1
            t["match"] += got is not None and got.info[name] == tcp[name]


def evaluate(oracle, template, args, produce=None):
    """Scores one capture.  produce(capture), when given, stands in for
    running the command and returns what run_command() returns."""
    capture = oracle["file"]
    res = {"file": capture, "name": oracle["name"], "status": "ok",
           "frames_bytes": tally(), "retransmissions": tally(), "rtt": tally(), "info": {}}
    if produce is not None:
        run = produce(capture)
    else:
        run = run_command(build_argv(template, capture), args.timeout)
    res["status"], why = classify(run)
    if why:
        res["why"] = why
    res["exit_code"], res["seconds"] = run["rc"], run["seconds"]
    stderr = run["stderr"].decode("utf-8", "replace")
    if stderr.strip():
        res["stderr_tail"] = stderr[-1500:]
    failed = res["status"] in ("crash", "timeout")
    flows, bad, example = parse_ndjson(run["stdout"])
    res["flows"], res["invalid_json"] = len(flows), bad
    if example:
        res["invalid_json_example"] = example
    summed, res["non_ip_flows"], problems = sum_flows(flows)
    if problems:
        res["bad_values"] = sorted(set(problems))
    seen = set()
    for conv in oracle["conversations"]:
        key = oracle_key(conv)
        seen.add(key)
        compare_conv(conv, summed.get(key), res, failed, args.rtt_tolerance)
    extra, in_left_out = [], 0
    for key, s in summed.items():
        if key in seen:
            continue
        if oracle["_excl"].reasons(key):
            in_left_out += 1
        else:
            extra.append(f"{fo.key_text(key)} frames {s.frames} bytes {s.bytes}")
    res["extra_conversations"], res["left_out_conversations"] = len(extra), in_left_out
    res["extra_examples"] = extra[:5]
    return res


# ------------------------------------------------------------ report

def pct(m, n):
    return 100.0 * m / n if n else 100.0


def share(results, name):
    m = sum(r[name]["match"] for r in results)
    n = sum(r[name]["total"] for r in results)
    return m, n, pct(m, n)


def print_details(results, out):
    for r in results:
        lines = []
        for name in ("frames_bytes", "retransmissions", "rtt"):
            for mm in r[name]["mismatches"]:
                lines.append(f"    {name}: {mm['key']}: oracle {json.dumps(mm['oracle'])} "
                             f"wlite {json.dumps(mm['wlite'])}")
        for e in r["extra_examples"]:
            lines.append(f"    extra (no such oracle conversation): {e}")
        if r["status"] != "ok" or lines:
            head = f"  {r['name']}: {r['status']}" + (f" ({r['why']})" if r.get("why") else "")
            out.write(head + "\n" + "".join(ln + "\n" for ln in lines))


def write_header(results, args, w):
    w(f"flow_score: {args.cmd}\n")
    n = {k: sum(r[k] for r in results) for k in ("invalid_json", "flows", "non_ip_flows",
                                                 "extra_conversations",
                                                 "left_out_conversations")}
    status = {k: [r for r in results if r["status"] == k] for k in ("crash", "timeout", "error")}
    w(f"  files {len(results)}, crashes {len(status['crash'])}, timeouts "
      f"{len(status['timeout'])}, error exits {len(status['error'])}, invalid JSON lines "
      f"{n['invalid_json']}\n")
    w(f"  wlite flows {n['flows']} (non-IP {n['non_ip_flows']}); conversations not in the "
      f"oracle: {n['extra_conversations']} extra, {n['left_out_conversations']} left out "
      f"by the oracle\n")
    bad_values = sorted({v for r in results for v in r.get("bad_values", ())})
    if bad_values:
        w(f"  fields with non-integer or negative values (counted as 0): "
          f"{', '.join(bad_values)}\n")
    for title, key in (("crashes", "crash"), ("timeouts", "timeout"), ("error exits", "error")):
        items = status[key]
        if items:
            shown = ", ".join(f"{r['name']} ({r.get('why', '')})" for r in items[:args.list])
            more = f" (+{len(items) - args.list} more)" if len(items) > args.list else ""
            w(f"  {title}: {shown}{more}\n")
    w("\n")
    return {k: len(v) for k, v in status.items()}


def write_scores(results, args, w):
    goals = (("frames_bytes", "frames+bytes", args.min_flows),
             ("retransmissions", "retransmissions", args.min_retrans),
             ("rtt", f"rtt (+-{args.rtt_tolerance} ms)", args.min_rtt))
    summary, met = {}, True
    for name, title, goal in goals:
        m, n, p = share(results, name)
        ok = p >= goal
        met = met and ok
        summary[name] = {"match": m, "total": n, "pct": round(p, 4), "goal": goal, "met": ok}
        w(f"  {title:<24}{m:>6}/{n:<6}{p:>8.2f}%   goal >= {goal}%   "
          f"{'met' if ok else 'NOT MET'}\n")
    for name, _ in INFO_COUNTERS:
        m = sum(r["info"].get(name, {}).get("match", 0) for r in results)
        n = sum(r["info"].get(name, {}).get("total", 0) for r in results)
        w(f"  (info) {name:<17}{m:>6}/{n:<6}{pct(m, n):>8.2f}%   "
          f"of TCP conversations that have them\n")
    summary["goals_met"] = met
    return summary


def write_ranked(results, args, w):
    ranked = sorted((r for r in results if r["frames_bytes"]["mismatches"]
                     or r["retransmissions"]["mismatches"] or r["rtt"]["mismatches"]),
                    key=lambda r: (-len(r["frames_bytes"]["mismatches"]), r["name"]))
    if not ranked:
        return
    w(f"\n  files with mismatches (first {min(args.worst, len(ranked))} of {len(ranked)}; "
      f"--details lists them all):\n")
    for r in ranked[:args.worst]:
        counts = ", ".join(f"{title} {len(r[k]['mismatches'])}/{r[k]['total']}" for k, title in
                           (("frames_bytes", "frames+bytes"),
                            ("retransmissions", "retrans"), ("rtt", "rtt")))
        flag = f" [{r['status']}]" if r["status"] != "ok" else ""
        w(f"  {r['name']}: {counts}{flag}\n")


def summarise(results, args, out):
    w = out.write
    status = write_header(results, args, w)
    summary = write_scores(results, args, w)
    if args.details:
        w("\n  details (mismatches and extra conversations per file):\n")
        print_details(results, out)
    else:
        write_ranked(results, args, w)
    summary.update({"files": len(results), "crashes": status["crash"],
                    "timeouts": status["timeout"], "error_exits": status["error"]})
    fb, rt, rr = (summary[k] for k in ("frames_bytes", "retransmissions", "rtt"))
    w(f"\noverall: frames+bytes {fb['pct']:.2f}% ({fb['match']}/{fb['total']}), "
      f"retransmissions {rt['pct']:.2f}% ({rt['match']}/{rt['total']}), "
      f"rtt {rr['pct']:.2f}% ({rr['match']}/{rr['total']}), "
      f"{status['crash']} crashes, {status['timeout']} timeouts\n")
    return summary


def passed(summary, args):
    if not summary["goals_met"]:
        return False
    return args.allow_crashes or not (summary["crashes"] or summary["timeouts"])


# ------------------------------------------------------------ driver

def score(oracles, args, out, produce=None):
    if produce is None:
        check_executable(args.cmd, oracles[0]["file"])
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda o: evaluate(o, args.cmd, args), oracles))
    else:
        results = [evaluate(o, args.cmd, args, produce) for o in oracles]
    summary = summarise(results, args, out)
    return results, summary


def load_oracles(args):
    captures = fo.collect_captures(args.paths)
    if args.max_files is not None:
        captures = captures[:args.max_files]
    runner = fo.TsharkRunner(None if args.no_cache else args.cache)
    try:
        return fo.corpus_oracle(captures, runner, max(1, args.jobs)), runner
    finally:
        runner.close()


def write_report(path, args, summary, results):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"schema": 1, "command": args.cmd, "summary": summary,
                   "files": results}, fh, indent=1, default=str)
        fh.write("\n")


def parser():
    ap = argparse.ArgumentParser(
        prog="flow_score.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Score wlite's --flows output against tshark's conversations.",
        epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("paths", nargs="*", default=[fo.DEFAULT_CORPUS],
                    help=f"captures or corpus directories ({fo.DEFAULT_CORPUS})")
    ap.add_argument("--cmd", help="command template, e.g. "
                    "'build/capd/wlite-capd --read {} --flows'")
    ap.add_argument("--timeout", type=float, default=30.0, help="per-capture timeout, s (30)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel runs, tshark and wlite (2)")
    ap.add_argument("--cache", default=fo.DEFAULT_CACHE, metavar="DIR",
                    help=f"tshark output cache ({fo.DEFAULT_CACHE})")
    ap.add_argument("--no-cache", action="store_true", help="always run tshark")
    ap.add_argument("--max-files", type=int, help="only the first N captures (sorted)")
    ap.add_argument("--min-flows", type=float, default=99.0, metavar="P",
                    help="goal for frames+bytes, %% (99)")
    ap.add_argument("--min-retrans", type=float, default=98.0, metavar="P",
                    help="goal for retransmissions, %% (98)")
    ap.add_argument("--min-rtt", type=float, default=98.0, metavar="P",
                    help="goal for the initial RTT, %% (98)")
    ap.add_argument("--rtt-tolerance", type=float, default=0.01, metavar="MS",
                    help="largest |rtt_ms - oracle| that agrees (0.01)")
    ap.add_argument("--allow-crashes", action="store_true",
                    help="crashes and timeouts only count as mismatches, not as a failure")
    ap.add_argument("--details", action="store_true", help="list every mismatch per file")
    ap.add_argument("--json-report", metavar="FILE", help="write per-file results as JSON")
    ap.add_argument("--worst", type=int, default=15, help="files listed without --details (15)")
    ap.add_argument("--list", type=int, default=10, help="names listed per failure class (10)")
    ap.add_argument("--self-test", action="store_true",
                    help="check this scorer with reference_flows.py (no wlite needed)")
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        if args.jobs < 1 or args.timeout <= 0:
            raise ToolError("--jobs must be >= 1 and --timeout > 0")
        if args.self_test:
            import flow_selftest
            return flow_selftest.run(args)
        if not args.cmd:
            raise ToolError("--cmd is required (or --self-test)")
        oracles, _ = load_oracles(args)
        results, summary = score(oracles, args, sys.stdout)
        sys.stdout.flush()
        if args.json_report:
            write_report(args.json_report, args, summary, results)
    except (ToolError, fo.OracleError) as exc:
        sys.stderr.write(f"flow_score: error: {exc}\n")
        return 2
    return 0 if passed(summary, args) else 1


if __name__ == "__main__":
    sys.exit(main())
