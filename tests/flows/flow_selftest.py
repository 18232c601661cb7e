"""flow_score.py --self-test: checks the scorer without wlite, using
reference_flows.py (flows built from tshark's own per-frame output).

Prints TAP ("ok N - ...", "not ok N - ...", then "1..N"); returns 0 when every
check passed.  Checks:
  1. the stand-in over every capture: 100% in all three scores, no crash, at
     least one conversation in each score, exit status 0 (run in-process:
     746 Python start-ups would take minutes on a loaded machine);
  2. the same with every flow told from its other side, and with every flow
     split in two: still 100% (the scorer sums and maps directions);
  3. the stand-in run as a real command (the --cmd path: template, process,
     NDJSON parsing) on a sample spread over the corpus: 100%;
  4. on one capture with a TCP conversation that has retransmissions and an
     initial RTT: +1 byte on one flow, +1 retransmission, +0.02 ms RTT, a/b
     counters exchanged -> exactly that conversation is reported, the other
     scores stay at 100%, exit status 1; +0.005 ms RTT stays within tolerance;
  5. a crash and a timeout of the command: every conversation of the capture
     is a mismatch in all three scores, the run is reported, exit status 1.
"""

import copy
import io
import shlex
import sys
import tempfile
import time

import flow_oracle as fo
import flow_score as fs
import reference_flows as rf

SAMPLE = 12     # captures run through the real command path


class Tap:
    def __init__(self, out):
        self.out, self.n, self.failed = out, 0, 0

    def check(self, ok, what, detail=""):
        self.n += 1
        self.failed += not ok
        self.out.write(f"{'ok' if ok else 'not ok'} {self.n} - {what}\n")
        if detail and not ok:
            for line in str(detail).splitlines()[-40:]:
                self.out.write(f"# {line}\n")
        self.out.flush()


def reference_cmd(cache, *extra):
    parts = [sys.executable, rf.__file__, "--cache", cache, *extra]
    return " ".join(shlex.quote(p) for p in parts) + " {}"


def scored(oracles, args, cmd, produce=None, **over):
    a = copy.copy(args)
    a.cmd = cmd
    for k, v in over.items():
        setattr(a, k, v)
    buf = io.StringIO()
    results, summary = fs.score(oracles, a, buf, produce)
    return results, summary, fs.passed(summary, a), buf.getvalue()


def in_process(runner, *extra):
    """A producer for fs.evaluate(): the stand-in's output without a process."""
    def produce(capture):
        opts = rf.parser().parse_args([*extra, capture])
        out = rf.ndjson(rf.records_for(capture, runner, opts)).encode()
        return {"stdout": out, "stderr": b"", "rc": 0, "timed_out": False, "seconds": 0.0}
    return produce


def all_perfect(summary):
    return all(summary[k]["match"] == summary[k]["total"] > 0
               for k in ("frames_bytes", "retransmissions", "rtt"))


def pick_target(oracles, runner):
    """A capture with a TCP conversation that has retransmissions and an RTT,
    and the index of its flow carrying them, plus the conversation's key.
    Captures with more conversations first: "exactly that one" means more."""
    for o in sorted(oracles, key=lambda o: -len(o["conversations"])):
        for conv in o["conversations"]:
            tcp = conv.get("tcp")
            if not tcp or not any(tcp["retransmissions"]) or "rtt_ms" not in tcp:
                continue
            if conv["frames"][0] == conv["frames"][1]:
                continue       # exchanging a and b must change something
            _, text = runner.text(o["file"])
            records = rf.build_flows(fo.parse_frames(text)[0])
            want = fs.oracle_key(conv)
            for i, rec in enumerate(records):
                ends = fs.flow_endpoints(rec)
                if ends and fo.conv_key(ends[0], ends[1][0], ends[1][1], ends[2][0],
                                        ends[2][1])[0] == want and "rtt_ms" in rec.get("tcp", {}):
                    return o, i, conv["key"]
    return None, None, None


def mismatch_keys(results, name):
    return [m["key"] for r in results for m in r[name]["mismatches"]]


def whole_corpus(tap, oracles, args, cache, runner):
    for extra in ((), ("--swap-sides",), ("--split",)):
        start = time.monotonic()
        _, summary, ok, text = scored(oracles, args, "reference_flows.py (in-process) "
                                      + " ".join(extra), in_process(runner, *extra))
        what = f" with {extra[0]}" if extra else ""
        tap.check(all_perfect(summary) and ok,
                  f"reference flows{what} score 100% on {len(oracles)} captures "
                  f"({summary['frames_bytes']['total']} conversations, "
                  f"{summary['retransmissions']['total']} with retransmissions, "
                  f"{summary['rtt']['total']} with an rtt; {time.monotonic() - start:.1f} s)", text)
    busy = [o for o in oracles if o["conversations"]]
    sample = busy[::max(1, len(busy) // SAMPLE)][:SAMPLE]
    start = time.monotonic()
    _, summary, ok, text = scored(sample, args, reference_cmd(cache))
    tap.check(ok and summary["crashes"] == summary["timeouts"] == 0
              and all(summary[k]["match"] == summary[k]["total"]
                      for k in ("frames_bytes", "retransmissions", "rtt")),
              f"reference flows run as a command score 100% on {len(sample)} captures "
              f"({time.monotonic() - start:.1f} s)", text)


def perturbations(tap, target, index, key, args, cache):
    one = [target]
    cases = (
        (("--perturb", f"a_bytes:{index}:1"), "frames_bytes", "one byte more"),
        (("--perturb", f"tcp.a_retransmissions:{index}:1"), "retransmissions",
         "one retransmission more"),
        (("--perturb", f"tcp.rtt_ms:{index}:0.02"), "rtt", "rtt 0.02 ms off"),
        (("--swap-counts", str(index)), "frames_bytes", "a and b counters exchanged"),
    )
    for extra, name, what in cases:
        results, summary, ok, text = scored(one, args, reference_cmd(cache, *extra))
        others = [k for k in ("frames_bytes", "retransmissions", "rtt")
                  if k != name and not (name == "frames_bytes" and k == "retransmissions"
                                        and "--swap-counts" in extra)]
        good = (mismatch_keys(results, name) == [key] and not ok
                and all(summary[k]["match"] == summary[k]["total"] for k in others))
        tap.check(good, f"{what} in flow {index} of {target['name']}: exactly {key} "
                  f"reported under {name}", text)
    _, summary, ok, text = scored(one, args,
                                  reference_cmd(cache, "--perturb", f"tcp.rtt_ms:{index}:0.005"))
    tap.check(all_perfect(summary) and ok, "rtt 0.005 ms off is within the 0.01 ms tolerance", text)
    results, summary, ok, text = scored(one, args, reference_cmd(cache, "--add-noise"))
    r = results[0]
    tap.check(all_perfect(summary) and ok and r["non_ip_flows"] == 1
              and r["extra_conversations"] == 1,
              "a MAC-pair flow is ignored and an IP flow the oracle lacks is listed as "
              "extra, without changing the scores", text)


def failures(tap, target, args, cache):
    one = [target]
    n = len(target["conversations"])
    for extra, status, over in ((("--crash",), "crash", {}),  # crash: after half the flows
                                (("--hang", "20"), "timeout", {"timeout": 2.0})):
        results, summary, ok, text = scored(one, args, reference_cmd(cache, *extra), **over)
        r = results[0]
        good = (r["status"] == status and not ok and summary["frames_bytes"]["match"] == 0
                and summary["frames_bytes"]["total"] == n
                and summary["retransmissions"]["match"] == 0 and summary["rtt"]["match"] == 0
                and f"{status}" in text)
        tap.check(good, f"a {status} of the command: all {n} conversations of "
                  f"{target['name']} mismatched, {status} reported, exit 1", text)
    _, summary, ok, _ = scored(one, args, reference_cmd(cache, "--crash"), allow_crashes=True)
    tap.check(not ok, "--allow-crashes: a crash still fails when it breaks the goals")


def run(args):
    out = sys.stdout
    tmp = None
    cache = args.cache
    if args.no_cache:
        tmp = tempfile.mkdtemp(prefix="flow-selftest-cache-")
        cache = tmp
    args.no_cache = False
    args.cache = cache
    captures = fo.collect_captures(args.paths)
    if args.max_files is not None:
        captures = captures[:args.max_files]
    runner = fo.TsharkRunner(cache)
    try:
        oracles = fo.corpus_oracle(captures, runner, max(1, args.jobs))
        tap = Tap(out)
        whole_corpus(tap, oracles, args, cache, runner)
        target, index, key = pick_target(oracles, runner)
        tap.check(target is not None, "a capture with a TCP conversation that has "
                  "retransmissions and an rtt exists")
        if target is not None:
            perturbations(tap, target, index, key, args, cache)
            failures(tap, target, args, cache)
    finally:
        runner.close()
        if tmp:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    out.write(f"1..{tap.n}\n")
    out.write(f"self-test: {tap.n - tap.failed} passed, {tap.failed} failed\n")
    return 0 if tap.failed == 0 else 1
