#!/usr/bin/python3
"""Listing a queue of 100,000 messages: spool-ls and spool-ls --json beside Postfix's mailq
(postqueue -p) over the same number of held messages, in the same run. Reports the best of
five wall times (the commands take turns in each round, so load on the shared machine hits
them alike), CPU time and peak memory (/usr/bin/time), the time ratio (target <= 0.25) and
spool-ls memory at 10,000 vs 100,000 messages (it must not grow with the queue).

The Postfix queue is built from one real held message (a private instance, smtpd with
check_client_access static:HOLD, as reference/perf-anchors.md describes) copied under
unique queue ids into hold/, since accepting 100,000 messages over SMTP takes too long here.
usage: list_bench.py [--bin BUILD/bin] [--count N] [--dir DIR]"""
import argparse
import os
import pathlib
import shutil
import smtplib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "bench" / "spool"))
import relaytest  # noqa: E402
from fill_spool import fill  # noqa: E402


def run_once(argv):
    """(wall s, cpu s, max RSS KB) of one run, output discarded."""
    result = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, check=True)
    wall, user, system, rss = result.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(rss)


def measure(commands, rounds=5):
    """Best (lowest wall) sample of each named command over rounds. The commands take turns
    within each round, so a burst of load on the shared machine hits them alike."""
    best = {}
    for _ in range(rounds):
        for name, argv in commands.items():
            sample = run_once(argv)
            if name not in best or sample[0] < best[name][0]:
                best[name] = sample
    return best


def postfix_queue(directory, count):
    """A private Postfix with count messages in hold/; returns its config directory."""
    port = relaytest.free_port()
    config = relaytest.start_postfix(directory, main_cf={
        "smtpd_recipient_restrictions": "check_client_access static:HOLD, permit_mynetworks, reject",
        "mynetworks": "127.0.0.0/8", "maillog_file_prefixes": directory},
        listeners=[f"127.0.0.1:{port} inet n - n - - smtpd"],
        extra_services=["showq unix n - n - - showq"])
    relaytest.wait_listening("127.0.0.1", port)
    body = "Subject: benchmark\r\n\r\n" + ("x" * 60 + "\r\n") * 4
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail("app@example.test", ["user0@example.test", "user1@example.test"], body)
    hold = pathlib.Path(directory) / "queue" / "hold"
    [original] = list(hold.iterdir())
    data = original.read_bytes()
    stat = original.stat()
    for n in range(1, count):
        path = hold / ("%011X" % (0x10000000 + n))
        path.write_bytes(data)
        os.chown(path, stat.st_uid, stat.st_gid)
        os.chmod(path, 0o700)
    return config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.environ.get("RELAY_BIN", str(ROOT / "build" / "bin")))
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--dir", default=str(ROOT / "build-bench-spool"))
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    work = tempfile.mkdtemp(dir=args.dir)
    os.chmod(work, 0o755)  # the private Postfix runs as user postfix
    spool_ls = os.path.join(args.bin, "spool-ls")
    config = None
    try:
        small = os.path.join(work, "spool-small")
        fill(small, args.count // 10)
        big = os.path.join(work, "spool")
        fill(big, args.count)
        config = postfix_queue(os.path.join(work, "postfix"), args.count)
        subprocess.run(["sync"], check=True)
        # Both must really list every message before their times mean anything.
        tail = subprocess.run(["postqueue", "-c", config, "-p"], capture_output=True, text=True).stdout.splitlines()[-1]
        assert tail.endswith(f"in {args.count} Requests."), tail
        tail = subprocess.run([spool_ls, "--spool", big], capture_output=True, text=True).stdout.splitlines()[-1]
        assert tail.endswith(f"in {args.count} messages."), tail
        load_before = os.getloadavg()[0]
        best = measure({"postfix mailq": ["postqueue", "-c", config, "-p"],
                        "spool-ls": [spool_ls, "--spool", big],
                        "spool-ls --json": [spool_ls, "--spool", big, "--json"],
                        "spool-ls small": [spool_ls, "--spool", small],
                        "spool-ls --json small": [spool_ls, "--spool", small, "--json"]})
        report(args.count, best, load_before)
    finally:
        if config:
            relaytest.stop_postfix(config)
        shutil.rmtree(work, ignore_errors=True)


def report(count, best, load_before):
    mailq = best["postfix mailq"][0]
    print(f"listing {count} queued messages; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (2 cores shared)")
    print(f"{'':22} {'wall s':>7} {'cpu s':>6} {'max RSS':>9} {'ratio':>6}")
    for name in ("postfix mailq", "spool-ls", "spool-ls --json"):
        wall, cpu, rss = best[name]
        print(f"{name:22} {wall:>7.2f} {cpu:>6.2f} {rss:>6} KB {wall / mailq:>6.2f}")
    for mode in ("spool-ls", "spool-ls --json"):
        print(f"{mode} memory: {best[mode + ' small'][2]} KB at {count // 10} messages, {best[mode][2]} KB at {count}")
    print("(best wall of 5 rounds, the commands taking turns; postqueue's cpu and RSS leave out showq,",
          "the daemon that reads the queue for it)", flush=True)


if __name__ == "__main__":
    main()
