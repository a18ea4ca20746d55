#!/usr/bin/python3
"""smtp-listen acceptance rate against Postfix's smtpd in the same run, and the memory of
1,000 idle TLS sessions.

  bench/smtp-listen/bench.py [--bin BUILD/bin] [--quick]

Postfix is a private instance (postfix -c DIR) that queues durably and holds every message
(check_client_access static:HOLD), as reference/perf-anchors.md describes; smtp-listen writes
into its own spool on the same file system, once with its intake journal (the default) and once
with --no-journal (one fsync per message, Postfix's own order). All receive the same
smtp-source load: 20 sessions, 1 KB, 10 KB and 100 KB messages. Every run is timed from the
first connection to the last 250, and every message is checked in its queue afterwards.
Loopback only; bounded to a few minutes."""
import argparse
import os
import pathlib
import re
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "integration"))
import relaytest  # noqa: E402  (make_spool, make_certs, start_postfix)

SIZES = [(1024, 1000), (10240, 1000), (102400, 300)]
SESSIONS = 20
ROUNDS = 3          # alternating runs per size; the machine is noisy, the median is reported
IDLE_SESSIONS = 1000


def smtp_source(port, size, count):
    start = time.monotonic()
    subprocess.run(["smtp-source", "-s", str(SESSIONS), "-m", str(count), "-l", str(size), "-f", "a@example.org",
                    "-t", "b@example.test", f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL, timeout=120)
    return time.monotonic() - start


def count_files(directory):
    return sum(len(files) for _, _, files in os.walk(directory))


def wait_for_files(directory, count):
    """Postfix's cleanup and smtp-listen's journal publish each file just after the 250."""
    deadline = time.monotonic() + 60
    while count_files(directory) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return count_files(directory)


def start_smtp_listen(binary, work, extra=()):
    spool = relaytest.make_spool(work / "spool")
    proc = subprocess.Popen([binary, "--spool", str(spool), "--listen", "127.0.0.1:0", "--allow-ip", "127.0.0.1",
                             "--max-sessions", "2000", "--max-sessions-per-ip", "2000", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    line = proc.stdout.readline().decode()
    port = int(re.match(r"listening 127\.0\.0\.1:(\d+)", line).group(1))
    return proc, spool, port


def fsync_limit(directory, size, count, one_commit=False):
    """Files/s of the spool's write order alone (create, write, fsync, rename, fsync the
    directory), from SESSIONS threads: the ceiling any durable acceptance can reach here.
    one_commit: Postfix's order instead (create, write, rename, one fsync of the file)."""
    tmp, new = directory / "tmp", directory / "new"
    tmp.mkdir(parents=True)
    new.mkdir()
    data = b"x" * size

    def writer(first):
        dir_fd = os.open(new, os.O_RDONLY)
        for i in range(first, count, SESSIONS):
            fd = os.open(tmp / str(i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            os.write(fd, data)
            if one_commit:
                os.rename(tmp / str(i), new / str(i))
                os.fsync(fd)
                os.close(fd)
                continue
            os.fsync(fd)
            os.close(fd)
            os.rename(tmp / str(i), new / str(i))
            os.fsync(dir_fd)
        os.close(dir_fd)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(SESSIONS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = count / (time.monotonic() - start)
    shutil.rmtree(directory)
    return rate


def pss_kib(pid):
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def idle_tls_sessions(binary, work, certs):
    proc, _, port = start_smtp_listen(binary, work / "idle", ["--tls-cert", certs["server_cert"], "--tls-key",
                                                               certs["server_key"]])
    before = pss_kib(proc.pid)
    ctx = ssl.create_default_context(cafile=certs["ca"])
    ctx.check_hostname = False
    sessions = []
    try:
        for _ in range(IDLE_SESSIONS):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"EHLO bench\r\n")
            while not f.readline().startswith(b"250 "):
                pass
            s.sendall(b"STARTTLS\r\n")
            f.readline()
            t = ctx.wrap_socket(s, server_hostname="mx.example.test")
            t.sendall(b"EHLO bench\r\n")
            reply = b""
            while b"250 " not in reply:
                reply += t.recv(4096)
            sessions.append(t)
        after = pss_kib(proc.pid)
    finally:
        for t in sessions:
            t.close()
        proc.terminate()
        proc.wait(30)
    return before, after


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(HERE.parents[1] / "build" / "bin"))
    parser.add_argument("--quick", action="store_true", help="a tenth of the messages")
    args = parser.parse_args()
    binary = str(pathlib.Path(args.bin) / "smtp-listen")
    resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-smtp-listen.", dir="/var/tmp"))
    os.chmod(work, 0o755)
    certs = relaytest.make_certs(work / "certs")
    pf_port = relaytest.free_port()
    pf = relaytest.start_postfix(work / "postfix", main_cf={
        "smtpd_recipient_restrictions": "check_client_access static:HOLD", "in_flow_delay": "0s",
        "inet_interfaces": "loopback-only", "maillog_file_prefixes": "/var/tmp"}, listeners=[f"127.0.0.1:{pf_port} inet n - n - - smtpd"])
    relaytest.wait_listening("127.0.0.1", pf_port)
    journal_proc, journal_spool, journal_port = start_smtp_listen(binary, work / "journal")
    direct_proc, direct_spool, direct_port = start_smtp_listen(binary, work / "direct", ["--no-journal"])
    hold = work / "postfix" / "queue" / "hold"
    try:
        rounds = 1 if args.quick else ROUNDS
        print(f"{'size':>7} {'msgs':>5} {'journal msg/s':>14} {'--no-journal':>13} {'postfix msg/s':>14} "
              f"{'ratio':>6} {'no-journal ratio':>17}  {'spool ceiling/s':>15} {'one-commit ceiling/s':>20}")
        for size, count in SIZES:
            count = max(50, count // 10) if args.quick else count
            rates = {"journal": [], "direct": [], "postfix": []}
            for _ in range(rounds):
                for name, port, queue in (("journal", journal_port, journal_spool / "incoming"),
                                          ("direct", direct_port, direct_spool / "incoming"),
                                          ("postfix", pf_port, hold)):
                    seconds = smtp_source(port, size, count)
                    stored = wait_for_files(queue, count)
                    assert stored == count, (name, stored)
                    rates[name].append(count / seconds)
                for spool in (journal_spool, direct_spool):
                    for name in os.listdir(spool / "incoming"):   # the server holds the directory open
                        os.unlink(spool / "incoming" / name)
                subprocess.run(["postsuper", "-c", pf, "-d", "ALL", "hold"], stderr=subprocess.DEVNULL, check=True)
            journal_rate, direct_rate, pf_rate = (sorted(rates[k])[rounds // 2] for k in ("journal", "direct", "postfix"))
            limit = fsync_limit(work / "fsync", size, count)
            one_commit = fsync_limit(work / "fsync", size, count, one_commit=True)
            print(f"{size // 1024:>5}KB {count:>5} {journal_rate:>14.0f} {direct_rate:>13.0f} {pf_rate:>14.0f} "
                  f"{journal_rate / pf_rate:>6.2f} {direct_rate / pf_rate:>17.2f}  {limit:>15.0f} {one_commit:>20.0f}",
                  flush=True)
    finally:
        for proc in (journal_proc, direct_proc):
            proc.terminate()
            proc.wait(30)
        relaytest.stop_postfix(pf)
    before, after = idle_tls_sessions(binary, work, certs)
    print(f"{IDLE_SESSIONS} idle TLS sessions: smtp-listen PSS {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB "
          f"({(after - before) / IDLE_SESSIONS:.0f} KiB a session); Postfix anchor: 1703 MiB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
