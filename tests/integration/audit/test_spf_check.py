"""spf-check as operators run it, against NSD on loopback: text and JSON output, the DNS
trace, the Received-SPF header, exit codes for temperror and usage errors."""
import json
import os
import sys

import pytest

import relaytest

sys.path.insert(0, os.path.dirname(__file__))
from audit_helpers import stopped  # noqa: E402


@pytest.fixture(scope="module")
def nsd(tmp_path_factory):
    zones = {"example.test": relaytest.zone("example.test", [
        '@ TXT "v=spf1 mx include:_spf.example.test" " exp=why.example.test -all"', "@ MX 10 mx", "mx A 127.0.0.2",
        '_spf TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all"', 'why TXT "%{i} is not a sender of %{d}"',
        'helo TXT "v=spf1 a -all"', "helo A 127.0.0.3"])}
    procs = relaytest.Processes()
    port = relaytest.start_nsd(procs, tmp_path_factory.mktemp("spf") / "nsd", zones)
    yield {"server": f"127.0.0.1:{port}", "proc": procs.procs[-1]}
    procs.stop_all()


def spf_check(nsd, *args):
    result = relaytest.run([relaytest.bin("spf-check"), "--resolver", nsd["server"], "--dns-timeout", "1",
                            "--receiver", "mx.example.net", *args])
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def test_pass_through_mx_with_trace_and_header(nsd):
    code, out, _ = spf_check(nsd, "--ip", "127.0.0.2", "--sender", "a@example.test", "--helo", "h.example.test",
                             "--trace", "--received-spf")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith('dns TXT example.test ok ')
    assert '"v=spf1 mx include:_spf.example.test exp=why.example.test -all"' in lines[0]
    assert lines[1].startswith("dns MX example.test ok ") and '"10 mx.example.test"' in lines[1]
    assert lines[2].startswith("dns A mx.example.test ok ") and '"127.0.0.2"' in lines[2]
    assert "result:      pass" in lines and "mechanism:   mx" in lines
    assert "Received-SPF: pass" in out and "client-ip=127.0.0.2;" in out and "receiver=mx.example.net;" in out


def test_include_softfail_and_explanation_json(nsd):
    code, out, _ = spf_check(nsd, "--json", "--trace", "--ip", "198.51.100.7", "--sender", "a@example.test")
    verdict = json.loads(out)
    assert code == 0
    assert verdict["result"] == "fail" and verdict["mechanism"] == "-all"
    assert verdict["explanation"] == "198.51.100.7 is not a sender of example.test"
    assert verdict["dns_lookups"] == 2
    assert [q["type"] + " " + q["name"] for q in verdict["trace"]] == [
        "TXT example.test", "MX example.test", "A mx.example.test", "TXT _spf.example.test", "TXT why.example.test"]
    code, out, _ = spf_check(nsd, "--json", "--ip", "2001:db8::5", "--sender", "<a@example.test>")
    assert json.loads(out)["result"] == "pass"


def test_null_sender_checks_helo(nsd):
    code, out, _ = spf_check(nsd, "--json", "--ip", "127.0.0.3", "--sender", "<>", "--helo", "helo.example.test")
    verdict = json.loads(out)
    assert code == 0 and verdict["result"] == "pass" and verdict["identity"] == "helo"


def test_timeout_is_temperror_exit_75(nsd):
    with stopped(nsd["proc"]):
        code, out, _ = spf_check(nsd, "--json", "--dns-retries", "0", "--ip", "127.0.0.2", "--sender", "a@example.test")
    verdict = json.loads(out)
    assert code == 75 and verdict["result"] == "temperror" and "timeout" in verdict["problem"]


def test_usage_errors(nsd):
    code, _, err = spf_check(nsd, "--ip", "not-an-ip", "--sender", "a@example.test")
    assert code == 64 and "not an IP address" in err
    code, _, err = spf_check(nsd, "--ip", "127.0.0.1")
    assert code == 64 and "--sender or --helo" in err
    code, _, err = spf_check(nsd, "--sender", "a@example.test")
    assert code == 64


def test_batch_evaluates_each_line_with_one_resolver(nsd):
    lines = b"127.0.0.2 a@example.test h.test\n# comment\n\n198.51.100.7 <a@example.test> h.test\nnonsense\n" \
            b"127.0.0.3 <> helo.example.test\n"
    result = relaytest.run([relaytest.bin("spf-check"), "--batch", "--resolver", nsd["server"]], input=lines)
    assert result.returncode == 65  # the nonsense line
    assert result.stdout.decode().splitlines() == [
        "pass 127.0.0.2 a@example.test h.test mx", "fail 198.51.100.7 a@example.test h.test -all",
        "pass 127.0.0.3 <> helo.example.test a"]
    assert b"line 5: expected" in result.stderr
    result = relaytest.run([relaytest.bin("spf-check"), "--batch", "--json", "--resolver", nsd["server"]],
                           input=b"2001:db8::1 a@example.test h.test\n")
    assert result.returncode == 0 and json.loads(result.stdout)["result"] == "pass"
