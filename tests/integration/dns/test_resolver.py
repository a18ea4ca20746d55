"""The ldns resolver (common/src/dns.cpp) against NSD on loopback: runs the DnsLive* cases of
unit-dns with RELAY_DNS_SERVER pointing at a server loaded with the zones they expect."""
import os
import subprocess
import sys

import pytest

import relaytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "audit"))
from audit_helpers import stopped  # noqa: E402

UNIT = str(relaytest.BIN.parent / "tests" / "unit-dns")

EXAMPLE = relaytest.zone("example.test", [
    "@ MX 10 mx1", "@ MX 20 mx2", "mx1 A 127.0.0.2", "mx1 AAAA ::1", "mx2 A 127.0.0.3", "mx CNAME mx1",
    "nullmx MX 0 .", 'multi TXT "first" "second" "third"', "_25._tcp.mx1 TLSA 3 1 1 abcdef",
    *[f'big TXT "{chr(97 + i) * 250}"' for i in range(12)],
])
REVERSE = relaytest.zone("127.in-addr.arpa", ["2.0.0 PTR mx1.example.test."])
BROKEN = "@ SOA ns. h. 1 1 1 1 1\nthis is not a record\n"


@pytest.fixture
def nsd(procs, tmp_path):
    port = relaytest.start_nsd(procs, tmp_path / "nsd",
                               {"example.test": EXAMPLE, "127.in-addr.arpa": REVERSE, "broken.test": BROKEN})
    return f"127.0.0.1:{port}", procs.procs[-1]


def run_live(server, mode, pattern):
    env = dict(os.environ, RELAY_DNS_SERVER=server, RELAY_DNS_MODE=mode)
    result = subprocess.run([UNIT, f"--gtest_filter={pattern}", "--gtest_brief=1"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_answers_from_nsd(nsd):
    out = run_live(nsd[0], "answering", "DnsLive.*")
    assert "5 tests" in out and "SKIPPED" not in out


def test_stopped_server_is_a_timeout(nsd):
    with stopped(nsd[1]):
        out = run_live(nsd[0], "silent", "DnsLiveSilent.*")
    assert "1 test" in out and "SKIPPED" not in out


def test_unreachable_port_is_a_timeout_not_absence():
    out = run_live(f"127.0.0.1:{relaytest.free_port()}", "unreachable", "DnsLiveSilent.*")
    assert "1 test" in out and "SKIPPED" not in out


def test_ipv6_server_address(procs, tmp_path):
    port = relaytest.start_nsd(procs, tmp_path / "nsd6", {"example.test": EXAMPLE, "127.in-addr.arpa": REVERSE,
                                                          "broken.test": BROKEN}, address="::1")
    out = run_live(f"[::1]:{port}", "answering", "DnsLive.*")
    assert "5 tests" in out and "SKIPPED" not in out
