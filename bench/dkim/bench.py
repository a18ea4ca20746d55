#!/usr/bin/python3
"""DKIM signing rate on 10 KB messages beside `openssl speed` for the same key type, in one run.

For rsa-2048 and ed25519 it measures:
  openssl   `openssl speed` signatures/s (its default: per CPU-second; and -elapsed: wall clock)
  stream    spool-run --stream -- dkim-sign over a stage of N messages (one signing process;
            with relay-filter(7) pipelining spool-run moves messages while dkim-sign signs,
            so on two or more CPUs the wall-clock rate can approach the filter's own); run
            --rounds times, each round against openssl speed -elapsed measured just before
            and just after it, and the median round reported with every round's ratio
  direct    dkim-sign's streaming protocol driven without spool-run (stream_driver.py)
  process   spool-run without --stream: a dkim-sign process per message
and prints each rate with its ratio to openssl's. Rates are given per wall-clock second and per
CPU-second (user+sys of spool-run and dkim-sign together), because on a shared machine the
wall clock measures the neighbours too; openssl speed itself counts CPU time unless told
-elapsed. The CPU figure counts both processes, so it cannot show what pipelining gains.
The spool lives on tmpfs (/dev/shm): the figure is the signer's, not the disk's fsync.

usage: bench.py [--bin DIR] [--messages N] [--per-process N] [--seconds S] [--rounds R]
"""
import argparse
import os
import pathlib
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent


def openssl_speed(algorithm, seconds, elapsed):
    args = ["openssl", "speed", "-seconds", str(seconds)] + (["-elapsed"] if elapsed else []) + [algorithm]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    line = [line for line in out.splitlines() if re.search(r"(rsa 2048 bits|Ed25519)", line)][-1]
    # "rsa 2048 bits 0.000261s 0.000017s 3827.8 54129.4" / "253 bits EdDSA (Ed25519) 0.0000s 0.0001s 20562.5 8812.3"
    return float(line.split()[-2])


def make_message(size=10240):
    random.seed(7)
    words = [b"relay", b"signature", b"message", b"domain", b"selector", b"canonical", b"body", b"hash"]
    head = (b"From: Bench <bench@example.test>\r\nTo: user@example.net\r\nSubject: benchmark\r\n"
            b"Date: Sun, 29 Nov 2026 05:42:00 +0000\r\nMessage-ID: <bench@example.test>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
    body = b""
    while len(head) + len(body) < size:
        body += b" ".join(random.choice(words) for _ in range(10)) + b"\r\n"
    return head + body[:size - len(head) - 2] + b"\r\n"


def fill_stage(spool, message, count):
    for stage in ("tmp", "incoming", "outgoing", "active", "deferred", "hold", "failed", "sent"):
        (spool / stage).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        msg_id = f"1764395000.{n:06d}.{os.getpid()}_{n}.bench"
        envelope = f"version=1\nid={msg_id}\nsender=bench@example.test\narrival=1764395000\nrcpt=user@example.net\n\n"
        (spool / "incoming" / msg_id).write_bytes(envelope.encode() + message)


def timed(args, **kw):
    """Runs args; returns (wall seconds, CPU seconds of it and its waited-for children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(args, check=True, **kw)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def spool_run(bindir, root, name, message, count, keytable, stream):
    spool = root / name
    fill_stage(spool, message, count)
    args = [str(bindir / "spool-run"), "--spool", str(spool)] + (["--stream"] if stream else []) + \
           ["--", str(bindir / "dkim-sign"), "--keys", str(keytable)]
    wall, cpu = timed(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    signed = len(os.listdir(spool / "outgoing"))
    if signed != count:
        sys.exit(f"{name}: only {signed} of {count} messages reached outgoing/")
    first = (spool / "outgoing" / sorted(os.listdir(spool / "outgoing"))[0]).read_bytes()
    if b"\nDKIM-Signature:" not in first:
        sys.exit(f"{name}: the output is not signed")
    shutil.rmtree(spool)
    return count / wall, count / cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.environ.get("RELAY_BIN", str(HERE.parents[1] / "build" / "bin")))
    parser.add_argument("--messages", type=int, default=10000,
                        help="messages per streaming run (rsa: a third); long enough to outlast a neighbour's burst")
    parser.add_argument("--per-process", type=int, default=300, help="messages of the process-per-message run")
    parser.add_argument("--seconds", type=int, default=3, help="openssl speed duration per figure")
    parser.add_argument("--rounds", type=int, default=3, help="anchor + streaming runs per key type")
    opts = parser.parse_args()
    bindir = pathlib.Path(opts.bin)
    load_before = os.getloadavg()[0]
    root = pathlib.Path(tempfile.mkdtemp(prefix="relay-dkim-bench.", dir="/dev/shm"))
    try:
        message = make_message()
        (root / "message").write_bytes(message)
        rows = []
        for kind, speed_name, keygen_args, count in (("rsa-2048", "rsa2048", [], opts.messages // 3),
                                                     ("ed25519", "ed25519", ["--type", "ed25519"], opts.messages)):
            key = root / f"{kind}.pem"
            subprocess.run([str(bindir / "dkim-keygen"), "-d", "example.test", "-s", "bench", "-k", str(key),
                            *keygen_args], check=True, capture_output=True)
            keytable = root / f"{kind}.keytable"
            keytable.write_text(f"example.test bench {key}\n")
            cpu_speed = openssl_speed(speed_name, opts.seconds, elapsed=False)
            # On a shared machine the load moves between runs: each round measures the anchor
            # right before and right after the stage (their mean), and the median round is
            # reported beside all of them.
            rounds = []
            after = openssl_speed(speed_name, opts.seconds, elapsed=True)
            for _ in range(opts.rounds):
                before = after
                wall, cpu = spool_run(bindir, root, f"{kind}-stream", message, count, keytable, True)
                after = openssl_speed(speed_name, opts.seconds, elapsed=True)
                rounds.append(((before + after) / 2, wall, cpu))
            rounds.sort(key=lambda r: r[1] / r[0])
            wall_speed, stream_wall, stream_cpu = rounds[len(rounds) // 2]
            round_ratios = " ".join(f"{wall / anchor:.2f}" for anchor, wall, _ in rounds)
            direct_wall, direct_cpu = map(float, subprocess.run(
                ["/usr/bin/python3", str(HERE / "stream_driver.py"), str(count), str(root / "message"), "--",
                 str(bindir / "dkim-sign"), "--keys", str(keytable)],
                check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.split())
            process_wall, process_cpu = spool_run(bindir, root, f"{kind}-process", message, opts.per_process,
                                                  keytable, False)
            rows.append((kind, cpu_speed, wall_speed, round_ratios, [
                (f"spool-run --stream, {count} messages", stream_wall, stream_cpu),
                ("dkim-sign streaming protocol alone", direct_wall, direct_cpu),
                (f"spool-run, a process per message ({opts.per_process})", process_wall, process_cpu)]))
        print(f"DKIM signatures/s on a {len(message)}-byte message, spool on tmpfs, "
              f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")
        print("(ratio) = rate / openssl speed: wall against -elapsed, cpu against its CPU-time figure")
        for kind, cpu_speed, wall_speed, round_ratios, measured in rows:
            print(f"{kind}: openssl speed {cpu_speed:.0f}/s per CPU-second, {wall_speed:.0f}/s wall clock "
                  f"(median round; stream wall ratios of the rounds: {round_ratios})")
            for label, wall, cpu in measured:
                print(f"  {label:44} wall {wall:7.0f}/s ({wall / wall_speed:4.2f})   "
                      f"cpu {cpu:7.0f}/s ({cpu / cpu_speed:4.2f})")
        print("targets for the streaming stage: 0.9 (rsa-2048), 0.5 (ed25519)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
