#!/usr/bin/python3
"""spool-retry over a large deferred/ queue: 100,000 deferred messages of which 1% are due,
time from the start of the run (scan included) until every due message is in outgoing/, peak
memory, a run with nothing due (with the nothing-due hint and with --full-scan), and the growth
from 10,000 to 100,000. Compared with the Postfix qmgr anchor of perf-anchors.md (a private
Postfix with 100,000 deferred queue files takes hours to build, beyond this benchmark's 3
minutes): 792 ms to scan 100,000 and attempt the 1,000 due, 227 ms nothing due, 85 ms at 10,000.

usage: bench.py [--bin DIR] [--dir DIR] [--sizes 10000,100000] [--repeat 3]
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

NOW = 1764400000
POSTFIX_MS = {"due_100000": 792, "nothing_100000": 227, "due_10000": 85}
POSTFIX_QMGR_MB = 7

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


def put_back(root, due):
    for msg_id, next_attempt in due.items():
        src = root / "outgoing" / msg_id
        dst = root / "deferred" / msg_id
        os.rename(src, dst)
        os.utime(dst, (next_attempt, next_attempt))


def timed(args):
    """(wall seconds, peak RSS in MB, CPU seconds) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{args[0]} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def measure(binary, root, count, repeat):
    due = build_spool(root, count)
    base = [binary, "--spool", str(root), "--now", str(NOW), "--delay-warning", "0", "--log", "stderr"]

    def due_run(extra=()):
        result = timed(base + list(extra))
        moved = len(os.listdir(root / "outgoing"))
        if moved != len(due):
            sys.exit(f"moved {moved} of {len(due)}")
        put_back(root, due)
        return result

    cold = due_run()                  # no index yet: every file's time read with stat
    warm = [due_run() for _ in range(repeat)]
    full = [due_run(["--full-scan"]) for _ in range(repeat)]
    # Nothing due: the same queue an hour earlier.
    early = [*base[:4], str(NOW - 3600), *base[5:]]
    nothing = [timed(early) for _ in range(repeat)]     # index, directory changed: no stat
    time.sleep(2.1)     # deferred/ quiet for two seconds: the next pass may record it idle
    timed(early)
    idle = [timed(early) for _ in range(repeat)]

    def med(runs, k):
        return statistics.median(r[k] for r in runs)
    return {"due_count": len(due), "cold": cold[0], "due": med(warm, 0), "due_cpu": med(warm, 2),
            "full": med(full, 0), "full_cpu": med(full, 2), "nothing": med(nothing, 0),
            "nothing_cpu": med(nothing, 2), "idle": med(idle, 0),
            "rss": max(r[1] for r in [cold, *warm, *full, *nothing, *idle])}


def main():
    here = pathlib.Path(__file__).resolve()
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.environ.get("RELAY_BIN", here.parents[2] / "build" / "bin"))
    parser.add_argument("--dir", default="/var/tmp")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    binary = str(pathlib.Path(args.bin) / "spool-retry")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-spool-retry.", dir=args.dir))
    results = {}
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            results[size] = measure(binary, work / f"spool-{size}", size, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times include waiting for a CPU)")
    print(f"{'deferred':>9} {'due':>5} | {'cold':>6} {'indexed':>8} {'cpu':>5} {'full-scan':>10} {'cpu':>5} |"
          f" {'none due':>8} {'cpu':>5} {'idle':>6} | {'peak MB':>7}")
    for size, r in results.items():
        print(f"{size:>9} {r['due_count']:>5} | {r['cold'] * 1000:>6.0f} {r['due'] * 1000:>8.0f} {r['due_cpu'] * 1000:>5.0f}"
              f" {r['full'] * 1000:>10.0f} {r['full_cpu'] * 1000:>5.0f} | {r['nothing'] * 1000:>8.0f}"
              f" {r['nothing_cpu'] * 1000:>5.0f} {r['idle'] * 1000:>6.1f} | {r['rss']:>7.1f}")
    print("(ms, medians; cold: first pass without an index; indexed: the usual pass; cpu: user+sys;"
          " idle: deferred/ unchanged since a pass with nothing due)")
    if 100000 in results:
        r = results[100000]
        anchor = POSTFIX_MS["due_100000"]
        print(f"1% due at 100k vs Postfix qmgr anchor ({anchor} ms, quiet machine): wall {r['due'] * 1000 / anchor:.2f}x,"
              f" cpu {r['due_cpu'] * 1000 / anchor:.2f}x; --full-scan wall {r['full'] * 1000 / anchor:.2f}x (target <= 0.25x)")
        anchor = POSTFIX_MS["nothing_100000"]
        print(f"nothing due at 100k vs {anchor} ms: wall {r['nothing'] * 1000 / anchor:.2f}x, cpu"
              f" {r['nothing_cpu'] * 1000 / anchor:.2f}x, idle {r['idle'] * 1000 / anchor:.3f}x;"
              f" peak memory {r['rss']:.1f} MB (qmgr {POSTFIX_QMGR_MB} MB, target < 64 MB)")
    if 10000 in results and 100000 in results:
        small, big = results[10000], results[100000]
        print(f"growth 10k -> 100k: 1% due {big['due'] / small['due']:.1f}x wall, {big['due_cpu'] / small['due_cpu']:.1f}x cpu"
              f" (Postfix {POSTFIX_MS['due_100000'] / POSTFIX_MS['due_10000']:.1f}x); nothing due"
              f" {big['nothing_cpu'] / small['nothing_cpu']:.1f}x cpu; idle {big['idle'] / small['idle']:.1f}x")


if __name__ == "__main__":
    main()
