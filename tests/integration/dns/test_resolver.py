"""The ldns resolver (common/src/dns.cpp) against NSD on loopback: runs the DnsLive* cases of
unit-dns with RELAY_DNS_SERVER pointing at a server loaded with the zones they expect."""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "audit"))
from nsd_server import Nsd, free_port, zone  # noqa: E402

UNIT = os.path.join(os.environ.get("RELAY_BIN", "build/bin"), "..", "tests", "unit-dns")

EXAMPLE = zone(
    "example.test",
    "@ MX 10 mx1", "@ MX 20 mx2", "mx1 A 127.0.0.2", "mx1 AAAA ::1", "mx2 A 127.0.0.3", "mx CNAME mx1",
    "nullmx MX 0 .", 'multi TXT "first" "second" "third"', "_25._tcp.mx1 TLSA 3 1 1 abcdef",
    *[f'big TXT "{chr(97 + i) * 250}"' for i in range(12)],
)
REVERSE = zone("127.in-addr.arpa", "2.0.0 PTR mx1.example.test.")
BROKEN = "@ SOA ns. h. 1 1 1 1 1\nthis is not a record\n"


@pytest.fixture
def nsd(tmp_path):
    server = Nsd(str(tmp_path), {"example.test": EXAMPLE, "127.in-addr.arpa": REVERSE, "broken.test": BROKEN})
    yield server
    server.stop()


def run_live(server, mode, pattern):
    env = dict(os.environ, RELAY_DNS_SERVER=server, RELAY_DNS_MODE=mode)
    result = subprocess.run([UNIT, f"--gtest_filter={pattern}", "--gtest_brief=1"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_answers_from_nsd(nsd):
    out = run_live(nsd.server, "answering", "DnsLive.*")
    assert "5 tests" in out and "SKIPPED" not in out


def test_stopped_server_is_a_timeout(nsd):
    nsd.pause()
    try:
        out = run_live(nsd.server, "silent", "DnsLiveSilent.*")
    finally:
        nsd.resume()
    assert "1 test" in out and "SKIPPED" not in out


def test_unreachable_port_is_a_timeout_not_absence():
    out = run_live(f"127.0.0.1:{free_port()}", "unreachable", "DnsLiveSilent.*")
    assert "SKIPPED" not in out
