#!/usr/bin/python3
"""SPF evaluations per second: spf-check beside pyspf (Debian python3-spf), same queries,
same NSD on loopback, same run.

  bench/audit/spf_bench.py [--build BUILD_DIR] [--rounds N]

Two pairings: one process per evaluation (spf-check vs a python3 process calling pyspf), and
one process for all (spf-check --batch vs pyspf in a loop in one interpreter). Each query costs
several DNS lookups (include chain, a, mx, exists). The results of both are compared.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import relaytest  # noqa: E402

ZONE = relaytest.zone("bench.test", [
    '@ TXT "v=spf1 ip4:192.0.2.0/26 a mx include:_spf.bench.test -all"',
    '_spf TXT "v=spf1 ip4:198.51.100.0/24 include:_spf2.bench.test ~all"',
    '_spf2 TXT "v=spf1 exists:%{i}.allow.bench.test ip6:2001:db8::/48 ?all"',
    "@ A 203.0.113.10", "@ MX 10 mx1", "@ MX 20 mx2", "mx1 A 203.0.113.20", "mx1 AAAA 2001:db8:1::20", "mx2 A 203.0.113.21", "mx2 AAAA 2001:db8:1::21",
    "203.0.113.9.allow A 127.0.0.2",
])
# (client ip, expected result): ip4, a, mx, include, exists, ip6, fail.
QUERIES = [("192.0.2.7", "pass"), ("203.0.113.10", "pass"), ("203.0.113.21", "pass"), ("198.51.100.4", "pass"),
           ("203.0.113.9", "pass"), ("2001:db8::25", "pass"), ("203.0.113.99", "fail")]

PYSPF_ONE = """
import sys, dns.resolver, spf
r = dns.resolver.Resolver(configure=False); r.nameservers = ["127.0.0.1"]; r.port = int(sys.argv[1])
dns.resolver.default_resolver = r
print(spf.check2(i=sys.argv[2], s="user@bench.test", h="mail.bench.test")[0])
"""

PYSPF_LOOP = """
import sys, time, dns.resolver, spf
r = dns.resolver.Resolver(configure=False); r.nameservers = ["127.0.0.1"]; r.port = int(sys.argv[1])
dns.resolver.default_resolver = r
ips = sys.argv[3:]; rounds = int(sys.argv[2]); start = time.monotonic(); n = 0
for _ in range(rounds):
    for ip in ips:
        spf.check2(i=ip, s="user@bench.test", h="mail.bench.test"); n += 1
print(n, time.monotonic() - start)
"""


def start_nsd(procs, directory, port):
    """NSD as relaytest starts it, with response rate limiting off: at a few hundred queries a
    second from one address its default RRL drops answers, and the 2.5 s timeouts that follow
    would measure the limiter instead of the SPF implementations."""
    directory.mkdir(parents=True)
    (directory / "bench.test.zone").write_text(ZONE)
    (directory / "nsd.conf").write_text(
        f'server: ip-address: 127.0.0.1 port: {port} username: "" chroot: "" database: "" server-count: 1 '
        f'zonesdir: "{directory}" zonelistfile: "{directory}/zone.list" xfrdfile: "{directory}/xfrd.state" '
        f'xfrdir: "{directory}" pidfile: "{directory}/nsd.pid" logfile: "{directory}/nsd.log" verbosity: 0 '
        f"rrl-ratelimit: 0\nremote-control: control-enable: no\nzone: name: bench.test zonefile: bench.test.zone\n")
    with open(directory / "nsd.stderr", "ab") as err:
        relaytest._start_notify(procs, ["nsd", "-d", "-c", str(directory / "nsd.conf")], 20, err)


def timed(label, commands, expected):
    start = time.monotonic()
    mismatches = 0
    for command, want in zip(commands, expected):
        out = subprocess.run(command, capture_output=True, text=True, timeout=30).stdout
        got = out.split()[1] if out.startswith("result:") else out.strip()
        if got != want:
            mismatches += 1
            if mismatches == 1:
                print(f"  {label}: {command[-5] if 'spf-check' in command[0] else command[-1]} gave {got!r}, want {want}")
    elapsed = time.monotonic() - start
    rate = len(commands) / elapsed
    print(f"{label:<34} {len(commands):>5} evaluations {elapsed:7.2f} s {rate:9.1f}/s  mismatches {mismatches}")
    return rate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=str(ROOT / "build"), help="build directory with bin/spf-check")
    parser.add_argument("--rounds", type=int, default=10, help="times each query is evaluated")
    args = parser.parse_args()
    spf_check = pathlib.Path(args.build) / "bin" / "spf-check"
    procs = relaytest.Processes()
    with tempfile.TemporaryDirectory() as directory:
        try:
            port = relaytest.free_port()
            start_nsd(procs, pathlib.Path(directory) / "nsd", port)
            script = pathlib.Path(directory) / "pyspf_one.py"
            script.write_text(PYSPF_ONE)
            loop = pathlib.Path(directory) / "pyspf_loop.py"
            loop.write_text(PYSPF_LOOP)
            work = [q for _ in range(args.rounds) for q in QUERIES]
            expected = [want for _, want in work]
            print(f"NSD 127.0.0.1:{port} (RRL off); {len(QUERIES)} queries x {args.rounds} rounds; 1-8 DNS lookups each")
            ours = timed("spf-check (process each)", [[str(spf_check), "--resolver", f"127.0.0.1:{port}", "--ip", ip,
                                                       "--sender", "user@bench.test", "--helo", "mail.bench.test"]
                                                      for ip, _ in work], expected)
            theirs = timed("pyspf 2.0.14 (process each)", [[relaytest.PY, str(script), str(port), ip] for ip, _ in work],
                           expected)
            batch_rounds = args.rounds * 10
            lines = "".join(f"{ip} user@bench.test mail.bench.test\n" for _ in range(batch_rounds) for ip, _ in QUERIES)
            start = time.monotonic()
            out = subprocess.run([str(spf_check), "--batch", "--resolver", f"127.0.0.1:{port}"], input=lines,
                                 capture_output=True, text=True, timeout=120).stdout.splitlines()
            elapsed = time.monotonic() - start
            wrong = sum(line.split()[0] != want for line, want in zip(out, [w for _ in range(batch_rounds) for _, w in QUERIES]))
            batch = len(out) / elapsed
            print(f"{'spf-check --batch (one process)':<34} {len(out):>5} evaluations {elapsed:7.2f} s {batch:9.1f}/s"
                  f"  mismatches {wrong}")
            out = subprocess.run([relaytest.PY, str(loop), str(port), str(batch_rounds), *[ip for ip, _ in QUERIES]],
                                 capture_output=True, text=True, timeout=120).stdout.split()
            in_process = int(out[0]) / float(out[1])
            print(f"{'pyspf 2.0.14 (one process)':<34} {int(out[0]):>5} evaluations {float(out[1]):7.2f} s "
                  f"{in_process:9.1f}/s")
            print(f"ratio spf-check / pyspf, process each: {ours / theirs:.2f}x")
            print(f"ratio spf-check --batch / pyspf, one process: {batch / in_process:.2f}x")
        finally:
            procs.stop_all()


if __name__ == "__main__":
    main()
