"""Runs inside fresh network and mount namespaces (test_resolv_conf.py): brings up lo, puts a
resolv.conf naming 127.0.0.1 over /etc/resolv.conf, serves the zone with NSD on port 53 and
runs spf-check without --resolver. Prints spf-check's JSON line; exits with its code."""
import pathlib
import subprocess
import sys

import relaytest

work = pathlib.Path(sys.argv[1])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
(work / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
subprocess.run(["mount", "--bind", str(work / "resolv.conf"), "/etc/resolv.conf"], check=True)
zone = relaytest.zone("example.test", ['@ TXT "v=spf1 a:mail.example.test -all"', "mail A 127.0.0.25"])
procs = relaytest.Processes()
try:
    relaytest.start_nsd(procs, work / "nsd", {"example.test": zone}, port=53)
    result = subprocess.run([relaytest.bin("spf-check"), "--json", "--ip", "127.0.0.25", "--sender", "a@example.test"],
                            capture_output=True, text=True, timeout=30)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.exit(result.returncode)
finally:
    procs.stop_all()
