#!/usr/bin/python3
"""spool-retry beside Postfix's queue manager, in the same run, over deferred queues of the same
shape: 100,000 (and 10,000) deferred messages of about 1 KB of which 1% are due.

What is timed on each side, as the same work:
  hand-off   from the start of the pass (scan included) until every due message has been taken
             out of the deferred queue for delivery and its envelope read.
             spool-retry: the process, from spawn to exit (due files locked, envelope read and
             checked, moved to outgoing/, outgoing/ synced once, index saved).
             Postfix: from `postkick public qmgr D` until qmgr has logged "(queue active)" for
             every due message (moved to active/, its defer log removed, envelope records
             read), the next hop a listener that never greets, so no delivery ends meanwhile.
             Both keep each message's deferral reasons (spool-retry in the envelope, Postfix
             in the defer log it removes here and rebuilds at the next attempt).
  attempted  until every due message has had its delivery attempt and is deferred again, the
             next hop being a closed loopback port (connection refused).
             spool-retry --deliver (spool-retry, then mx-deliver over outgoing/: 1,000
             connection attempts, each message rewritten into deferred/ with its new state).
             Postfix: until all are logged status=deferred (smtp(8) tries; once the destination
             is marked dead, qmgr defers the rest itself: fewer connections than mx-deliver).
Also: spool-retry's first pass (no index), --full-scan (a stat per file), a pass with nothing
due over a changed deferred/ (read, no stat) and over an unchanged one (not read), qmgr's CPU
(schedstat) and memory (VmHWM).
Postfix's nothing-due scan logs nothing, so its time is not measured here (anchor: 227 ms).

usage: bench.py [--bin DIR] [--dir DIR] [--sizes 10000,100000] [--repeat 3] [--no-postfix]
"""
import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from postfix_queue import PostfixQueue, free_loopback_port

NOW = 1764400000

HEADER = b"From: app@example.org\r\nTo: user@remote.test\r\nSubject: bench\r\n\r\n"
BODY = HEADER + (b"y" * 76 + b"\r\n") * 12   # about 1 KB


def envelope(msg_id, next_attempt):
    return (f"version=1\nid={msg_id}\nsender=app@example.org\narrival={NOW - 3600}\nprotocol=ESMTPSA\n"
            f"attempts=1\nlast-attempt={next_attempt - 300}\nnext-attempt={next_attempt}\ndefer-reason=connect\n"
            f"rcpt=user@remote.test\nrcpt.state=deferred\nrcpt.status=4.4.1\n"
            f"rcpt.response=connect to mx.remote.test[127.0.0.2]:25: Connection refused\n"
            f"rcpt.remote=mx.remote.test[127.0.0.2]:25\nrcpt.updated={next_attempt - 300}\n\n").encode()


def build_spool(root, count, due_every=100):
    for stage in ("tmp", "incoming", "outgoing", "active", "deferred", "hold", "failed", "sent"):
        (root / stage).mkdir(parents=True, exist_ok=True)
    due = {}
    deferred = root / "deferred"
    for n in range(count):
        msg_id = f"{NOW - 3600:010d}.{n % 1000000:06d}.1_{n}.bench-host"
        next_attempt = NOW - 1 - n % 60 if n % due_every == 0 else NOW + 100 + n % 3900
        path = deferred / msg_id
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        os.write(fd, envelope(msg_id, next_attempt) + BODY)
        os.close(fd)
        os.utime(path, (next_attempt, next_attempt))
        if n % due_every == 0:
            due[msg_id] = next_attempt
    return due


def put_back(root, due, stage="outgoing"):
    """The due messages back in deferred/, due again (from outgoing/, or deferred again by mx-deliver)."""
    for msg_id, next_attempt in due.items():
        dst = root / "deferred" / msg_id
        if stage != "deferred":
            os.rename(root / stage / msg_id, dst)
        os.utime(dst, (next_attempt, next_attempt))


def timed(args):
    """(wall seconds, peak RSS in MB, CPU seconds) of one run (its children included)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 75) or (code == 75 and "--deliver" not in args):
        sys.exit(f"{args[0]} exited {code}")
    # wait4 on the direct child: RUSAGE_CHILDREN of this process would mix in earlier runs.
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


class RelaySide:
    def __init__(self, binary, root, count):
        self.root = root
        self.dead_port = free_loopback_port()
        self.due = build_spool(root, count)
        self.base = [binary, "--spool", str(root), "--now", str(NOW), "--delay-warning", "0", "--log", "stderr"]

    def handoff(self, extra=()):
        result = timed(self.base + list(extra))
        moved = len(os.listdir(self.root / "outgoing"))
        if moved != len(self.due):
            sys.exit(f"spool-retry moved {moved} of {len(self.due)}")
        put_back(self.root, self.due)
        return result

    def attempted(self):
        result = timed(self.base + ["--deliver", "--", "--relayhost", f"127.0.0.1:{self.dead_port}", "--tls", "none"])
        left = len(os.listdir(self.root / "outgoing")) + len(os.listdir(self.root / "active"))
        if left:
            sys.exit(f"spool-retry --deliver left {left} messages unattempted")
        put_back(self.root, self.due, stage="deferred")
        return result

    def touch_deferred(self):
        """Changes deferred/ itself (a dot file, which spool-retry never reads, made and removed)."""
        marker = self.root / "deferred" / ".bench-touch"
        marker.touch()
        marker.unlink()

    def nothing_due(self, repeat):
        early = [*self.base[:4], str(NOW - 3600), *self.base[5:]]
        changed = []
        for _ in range(repeat):     # the directory read (deferred/ changed), no stat: the index knows every file
            self.touch_deferred()
            changed.append(timed(early))
        time.sleep(2.1)     # deferred/ quiet for two seconds: the next pass may record it idle
        timed(early)
        idle = [timed(early) for _ in range(repeat)]
        return changed, idle


def med(runs, k=0):
    return statistics.median(r[k] for r in runs)


def progress(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def measure(binary, work, count, repeat, with_postfix):
    progress(f"{count}: building spool-retry's queue")
    relay = RelaySide(binary, work / f"spool-{count}", count)
    postfix = None
    if with_postfix:
        progress(f"{count}: building Postfix's queue")
        postfix = PostfixQueue(work / f"postfix-{count}", HEADER + BODY)
        postfix.start()
    try:
        if postfix:
            postfix.build(count)
        progress(f"{count}: passes")
        cold = relay.handoff()     # no index yet: every file's time read with stat
        runs = {k: [] for k in ("handoff", "full", "attempted", "pf_handoff", "pf_attempted")}
        # Interleaved, so that both sides see the same load and the same page cache.
        for n in range(repeat):
            progress(f"{count}: pass {n + 1} of {repeat}")
            runs["handoff"].append(relay.handoff())
            if postfix:
                runs["pf_handoff"].append(postfix.run_pass(attempt=False))
            runs["full"].append(relay.handoff(["--full-scan"]))
            runs["attempted"].append(relay.attempted())
            if postfix:
                runs["pf_attempted"].append(postfix.run_pass(attempt=True))
        progress(f"{count}: nothing due")
        nothing, idle = relay.nothing_due(repeat)
        result = {"due_count": len(relay.due), "cold": cold[0], "nothing": med(nothing), "nothing_cpu": med(nothing, 2),
                  "idle": med(idle), "rss": max(r[1] for r in [cold, *runs["handoff"], *runs["full"], *nothing, *idle]),
                  "rss_deliver": max(r[1] for r in runs["attempted"]), "runs": runs}
        for k in ("handoff", "full", "attempted"):
            result[k], result[k + "_cpu"] = med(runs[k]), med(runs[k], 2)
        if postfix:
            for k in ("pf_handoff", "pf_attempted"):
                result[k], result[k + "_cpu"] = med(runs[k]), med(runs[k], 1)
            result["pf_rss"], result["pf_hwm"] = postfix.qmgr_memory_mb()
        return result
    finally:
        if postfix:
            postfix.stop()


def report(results, with_postfix):
    ms = 1000
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times include waiting for a CPU)")
    print("spool-retry (ms, medians; cpu = user+sys of spool-retry, and of mx-deliver for attempted):")
    print(f"{'deferred':>9} {'due':>5} | {'cold':>5} {'hand-off':>8} {'cpu':>4} {'full-scan':>9} {'cpu':>4} |"
          f" {'attempted':>9} {'cpu':>4} | {'none due':>8} {'cpu':>4} {'idle':>5} | {'peak MB':>7}")
    for size, r in results.items():
        print(f"{size:>9} {r['due_count']:>5} | {r['cold'] * ms:>5.0f} {r['handoff'] * ms:>8.0f} {r['handoff_cpu'] * ms:>4.0f}"
              f" {r['full'] * ms:>9.0f} {r['full_cpu'] * ms:>4.0f} | {r['attempted'] * ms:>9.0f}"
              f" {r['attempted_cpu'] * ms:>4.0f} | {r['nothing'] * ms:>8.0f} {r['nothing_cpu'] * ms:>4.0f}"
              f" {r['idle'] * ms:>5.1f} | {r['rss']:>7.1f}")
    print("  cold: first pass, no index; full-scan: a stat per file; none due: deferred/ changed since the"
          " last pass (read, no stat); idle: deferred/ unchanged since a pass with nothing due (not read)")
    if with_postfix:
        print("Postfix qmgr, same run (ms, medians; cpu = qmgr's own) and the ratios spool-retry / Postfix:")
        print(f"{'deferred':>9} | {'hand-off':>8} {'cpu':>4} {'attempted':>9} {'cpu':>4} | {'qmgr MB':>7} {'peak':>5} |"
              f" {'hand-off wall':>13} {'cpu':>5} | {'attempted wall':>14}")
        for size, r in results.items():
            print(f"{size:>9} | {r['pf_handoff'] * ms:>8.0f} {r['pf_handoff_cpu'] * ms:>4.0f}"
                  f" {r['pf_attempted'] * ms:>9.0f} {r['pf_attempted_cpu'] * ms:>4.0f} | {r['pf_rss']:>7.1f}"
                  f" {r['pf_hwm']:>5.1f} | {r['handoff'] / r['pf_handoff']:>13.2f} {r['handoff_cpu'] / r['pf_handoff_cpu']:>5.2f}"
                  f" | {r['attempted'] / r['pf_attempted']:>14.2f}")
        for size, r in results.items():
            runs = r["runs"]
            best = min(a[0] for a in runs["handoff"]) / min(b[0] for b in runs["pf_handoff"])
            worst = max(a[0] / b[0] for a, b in zip(runs["handoff"], runs["pf_handoff"]))
            print(f"  {size}: hand-off ratio of the best passes {best:.2f}, of the worst pair {worst:.2f}")
            print(f"  {size} every pass, wall ms (spool-retry / qmgr): hand-off "
                  + ", ".join(f"{a[0] * ms:.0f}/{b[0] * ms:.0f}" for a, b in zip(runs["handoff"], runs["pf_handoff"]))
                  + "; attempted "
                  + ", ".join(f"{a[0] * ms:.0f}/{b[0] * ms:.0f}" for a, b in zip(runs["attempted"], runs["pf_attempted"])))
        if 100000 in results:
            r = results[100000]
            print(f"100k, 1% due, hand-off: spool-retry {r['handoff'] * ms:.0f} ms wall, {r['handoff_cpu'] * ms:.0f} ms CPU,"
                  f" {r['rss']:.1f} MB; qmgr {r['pf_handoff'] * ms:.0f} ms, {r['pf_hwm']:.1f} MB peak:"
                  f" ratio {r['handoff'] / r['pf_handoff']:.2f} (target <= 0.25, < 64 MB);"
                  f" attempted ratio {r['attempted'] / r['pf_attempted']:.2f}")
    if 10000 in results and 100000 in results:
        small, big = results[10000], results[100000]
        line = f"growth 10k -> 100k: hand-off {big['handoff'] / small['handoff']:.1f}x wall, {big['handoff_cpu'] / small['handoff_cpu']:.1f}x cpu"
        if with_postfix:
            line += f" (Postfix {big['pf_handoff'] / small['pf_handoff']:.1f}x wall, {big['pf_handoff_cpu'] / small['pf_handoff_cpu']:.1f}x cpu)"
        print(line + f"; nothing due {big['nothing'] / small['nothing']:.1f}x wall, {big['nothing_cpu'] / small['nothing_cpu']:.1f}x cpu;"
              f" idle {big['idle'] / small['idle']:.1f}x")


def main():
    here = pathlib.Path(__file__).resolve()
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.environ.get("RELAY_BIN", here.parents[2] / "build" / "bin"))
    parser.add_argument("--dir", default="/var/tmp")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-postfix", action="store_true", help="spool-retry alone")
    args = parser.parse_args()
    with_postfix = not args.no_postfix
    if with_postfix and os.geteuid() != 0:
        sys.exit("a private Postfix needs root (or run with --no-postfix)")
    binary = str(pathlib.Path(args.bin) / "spool-retry")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-spool-retry.", dir=args.dir))
    os.chmod(work, 0o755)   # Postfix's processes (user postfix) must reach their queue under it
    results = {}
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            results[size] = measure(binary, work, size, args.repeat, with_postfix)
    finally:
        progress("removing the queues")
        shutil.rmtree(work, ignore_errors=True)
        progress("done")
    report(results, with_postfix)


if __name__ == "__main__":
    main()
