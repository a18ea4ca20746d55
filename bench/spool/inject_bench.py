#!/usr/bin/python3
"""Durable injection into incoming/: messages/s for 1 KB and 100 KB messages with 1 and 8
concurrent writers, beside the disk's own limit measured in the same run on the same file system.

  disk limit      spool-inject-bench raw: create, write, fsync, rename, fsync the directory
  spool library   spool-inject-bench spool: relay::Spool::deposit (the same steps plus envelope and lock)
  relay-sendmail  one relay-sendmail process per message (what PHP's mail() costs), W at a time

Ratios are against the disk limit; the target is >= 0.8 for the library at 8 writers.
usage: inject_bench.py [--bin BUILD/bin] [--dir DIR] [--seconds S]"""
import argparse
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
STAGES = ("tmp", "incoming", "outgoing", "active", "deferred", "hold", "failed", "sent")


def scratch(base, subdirs):
    directory = tempfile.mkdtemp(dir=base)
    for sub in subdirs:
        os.mkdir(os.path.join(directory, sub))
    return directory


def bench_binary(binary, mode, base, size, writers, seconds):
    directory = scratch(base, STAGES if mode == "spool" else ("tmp", "new"))
    out = subprocess.run([binary, mode, directory, str(size), str(writers), str(seconds)],
                         check=True, capture_output=True, text=True).stdout
    shutil.rmtree(directory)
    return float(out)


def message(size):
    line = b"x" * 76 + b"\r\n"
    return b"Subject: bench\r\nFrom: app@example.test\r\n\r\n" + line * max(1, (size - 60) // len(line))


def sendmail_rate(binary, base, size, writers, seconds):
    spool = scratch(base, STAGES)
    data = message(size)
    counts = [0] * writers
    start = time.monotonic()
    end = start + seconds

    def writer(slot):
        while time.monotonic() < end:
            subprocess.run([binary, "--spool", spool, "-i", "-fapp@example.test", "rcpt@example.test"],
                           input=data, check=True)
            counts[slot] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert len(os.listdir(os.path.join(spool, "incoming"))) == sum(counts)
    shutil.rmtree(spool)
    return sum(counts) / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.environ.get("RELAY_BIN", str(ROOT / "build" / "bin")))
    parser.add_argument("--dir", default=str(ROOT / "build-bench-spool"), help="scratch directory on the spool's disk")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    bench = os.path.join(args.bin, "spool-inject-bench")
    sendmail = os.path.join(args.bin, "relay-sendmail")
    print(f"durable injection into {args.dir}, {args.seconds:.0f} s a figure; load average {os.getloadavg()[0]:.1f}")
    print(f"{'size':>6} {'writers':>7} {'disk/s':>8} {'library/s':>10} {'ratio':>6} {'sendmail/s':>11} {'ratio':>6}")
    for size in (1024, 100 * 1024):
        for writers in (1, 8):
            limit = bench_binary(bench, "raw", args.dir, size, writers, args.seconds)
            library = bench_binary(bench, "spool", args.dir, size, writers, args.seconds)
            processes = sendmail_rate(sendmail, args.dir, size, writers, args.seconds)
            print(f"{size // 1024:>4}KB {writers:>7} {limit:>8.0f} {library:>10.0f} {library / limit:>6.2f} "
                  f"{processes:>11.0f} {processes / limit:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
