"""dmarc-check against NSD on loopback: policy discovery (own record, organizational-domain
fallback, np= for names that do not exist), syntax errors, timeouts, and messages signed by
dkim-sign evaluated with SPF, DKIM and DMARC together."""
import json
import os
import sys

import pytest

import relaytest

sys.path.insert(0, os.path.dirname(__file__))
from audit_helpers import stopped  # noqa: E402

MESSAGE = ("From: Alice <alice@{domain}>\r\nTo: bob@example.net\r\nSubject: report\r\n"
           "Message-ID: <{tag}@{domain}>\r\nDate: Sun, 29 Nov 2026 05:00:00 +0000\r\n\r\nHello.\r\n")


def keygen(directory, domain):
    key = directory / f"{domain}.pem"
    relaytest.run([relaytest.bin("dkim-keygen"), "-d", domain, "-s", "sel", "-k", str(key)], check=True)
    record = relaytest.run([relaytest.bin("dkim-keygen"), "-d", domain, "-s", "sel", "-k", str(key), "--print"],
                           check=True).stdout.decode()
    return key, record


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("dmarc")
    good_key, good_record = keygen(directory, "good.test")
    evil_key, evil_record = keygen(directory, "evil.test")
    (directory / "keys").write_text(f"good.test sel {good_key}\nevil.test sel {evil_key}\n")
    zones = {
        "good.test": relaytest.zone("good.test", [
            "@ A 127.0.0.1", "@ MX 10 mx", "mx A 127.0.0.1", '@ TXT "v=spf1 ip4:127.0.0.1 -all"',
            'sub TXT "v=spf1 ip4:127.0.0.1 -all"', "sub A 127.0.0.1",
            '_dmarc TXT "v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:dmarc@good.test"',
            good_record]),
        "evil.test": relaytest.zone("evil.test", ['@ TXT "v=spf1 ip4:127.0.0.9 -all"', evil_record]),
        "none.test": relaytest.zone("none.test", ['_dmarc TXT "v=DMARC1; p=none"']),
        "bad.test": relaytest.zone("bad.test", ['_dmarc TXT "v=DMARC1; p=rejekt; pct=150"']),
        "strict.test": relaytest.zone("strict.test", [
            '_dmarc TXT "v=DMARC1; p=quarantine; adkim=s; aspf=s; pct=0"', 'mail TXT "v=spf1 ip4:127.0.0.1 -all"']),
        "nodmarc.test": relaytest.zone("nodmarc.test", ['@ TXT "v=spf1 -all"']),
    }
    procs = relaytest.Processes()
    port = relaytest.start_nsd(procs, directory / "nsd", zones)
    yield {"dir": directory, "server": f"127.0.0.1:{port}", "nsd": procs.procs[-1]}
    procs.stop_all()


def dmarc_check(world, *args, stdin=None):
    result = relaytest.run([relaytest.bin("dmarc-check"), "--resolver", world["server"], "--dns-timeout", "1",
                            *args], input=stdin, timeout=60)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def signed(world, domain, sign_domain, tag):
    message = MESSAGE.format(domain=domain, tag=tag).encode()
    args = [relaytest.bin("dkim-sign"), "--keys", str(world["dir"] / "keys")]
    if sign_domain != domain:
        args += ["--domain", sign_domain]
    result = relaytest.run(args, input=message, check=True)
    path = world["dir"] / f"{tag}.eml"
    path.write_bytes(result.stdout)
    return str(path)


def check_message(world, path, ip, mail_from, *extra):
    code, out, err = dmarc_check(world, "--json", "--message", path, "--ip", ip, "--helo", "mail.good.test",
                                 "--mail-from", mail_from, "--authserv-id", "mx.example.net", *extra)
    assert code == 0, err
    return json.loads(out)


def test_policy_of_a_domain(world):
    code, out, _ = dmarc_check(world, "--json", "good.test")
    assert code == 0
    found = json.loads(out)
    assert found["status"] == "found" and found["record_domain"] == "good.test"
    assert found["policy"]["p"] == "reject" and found["policy"]["sp"] == "quarantine"
    assert found["policy"]["rua"] == ["mailto:dmarc@good.test"]


def test_subdomain_falls_back_to_the_organizational_domain(world):
    code, out, _ = dmarc_check(world, "sub.good.test")
    assert code == 0
    assert "found-at:      _dmarc.good.test" in out and "org-domain:    good.test" in out


def test_missing_record_is_none(world):
    found = json.loads(dmarc_check(world, "--json", "nodmarc.test")[1])
    assert found["status"] == "none" and found["record"] == ""


def test_bad_syntax_is_a_permerror_with_the_reason(world):
    code, out, _ = dmarc_check(world, "--json", "bad.test")
    found = json.loads(out)
    assert code == 0 and found["status"] == "permerror"
    assert "p=rejekt" in found["problem"] or "pct=150" in found["problem"]
    code, out, _ = dmarc_check(world, "--record", "v=DMARC1; p=reject; adkim=x")
    assert code == 65 and "adkim=x: must be r (relaxed) or s (strict)" in out
    code, out, _ = dmarc_check(world, "--record", "v=DMARC1; rua=mailto:r@good.test")
    assert code == 0 and "treated as p=none" in out


def test_timeout_is_temperror_not_absence(world):
    with stopped(world["nsd"]):
        code, out, _ = dmarc_check(world, "--json", "--dns-retries", "0", "good.test")
    assert code == 75
    assert json.loads(out)["status"] == "temperror"


def test_signed_message_passes_with_spf_and_dkim_aligned(world):
    verdict = check_message(world, signed(world, "good.test", "good.test", "m1"), "127.0.0.1", "bounce@good.test")
    assert verdict["dmarc"] == "pass" and verdict["spf_aligned"] and verdict["dkim_aligned"]
    header = verdict["authentication_results"]
    assert header.startswith("Authentication-Results: mx.example.net;")
    assert "spf=pass smtp.mailfrom=good.test" in header and "dkim=pass header.d=good.test" in header
    assert "dmarc=pass (p=reject dis=none) header.from=good.test" in header


def test_dkim_alone_passes_when_spf_fails(world):
    verdict = check_message(world, signed(world, "good.test", "good.test", "m2"), "127.0.0.9", "bounce@good.test")
    assert verdict["spf"] == "fail" and verdict["dmarc"] == "pass" and verdict["dkim_aligned"]


def test_signed_for_the_wrong_domain_fails_and_gets_the_policy(world):
    path = signed(world, "good.test", "evil.test", "m3")
    verdict = check_message(world, path, "127.0.0.9", "bounce@evil.test")
    assert verdict["dkim"][0]["result"] == "pass" and verdict["dkim"][0]["domain"] == "evil.test"
    assert not verdict["dkim_aligned"] and verdict["spf"] == "pass" and not verdict["spf_aligned"]
    assert verdict["dmarc"] == "fail" and verdict["policy"] == "reject" and verdict["disposition"] == "reject"
    code, out, _ = dmarc_check(world, "--message", path, "--ip", "127.0.0.9", "--mail-from", "<bounce@evil.test>",
                               "--authserv-id", "mx.example.net")
    assert code == 0 and "dmarc=fail (p=reject dis=reject) header.from=good.test" in out


def test_subdomain_and_nonexistent_subdomain_policies(world):
    sub = check_message(world, signed(world, "sub.good.test", "evil.test", "m4"), "127.0.0.9", "x@evil.test")
    assert sub["dmarc"] == "fail" and sub["policy_tag"] == "sp" and sub["policy"] == "quarantine"
    gone = check_message(world, signed(world, "gone.good.test", "evil.test", "m5"), "127.0.0.9", "x@evil.test")
    assert gone["policy_tag"] == "np" and gone["policy"] == "reject"


def test_strict_alignment_and_pct_zero(world):
    # SPF passes for mail.strict.test, which is only relaxed-aligned with strict.test.
    path = world["dir"] / "strict.eml"
    path.write_text(MESSAGE.format(domain="strict.test", tag="s1"))
    verdict = check_message(world, str(path), "127.0.0.1", "x@mail.strict.test")
    assert verdict["spf"] == "pass" and not verdict["spf_aligned"] and verdict["dmarc"] == "fail"
    assert verdict["policy"] == "quarantine" and verdict["sampled_out"] and verdict["disposition"] == "none"


def test_message_without_a_single_from_is_a_data_error(world):
    path = world["dir"] / "twofrom.eml"
    path.write_text("From: a@good.test\r\nFrom: b@good.test\r\n\r\nx\r\n")
    code, _, err = dmarc_check(world, "--message", str(path), "--ip", "127.0.0.1", "--mail-from", "a@good.test")
    assert code == 65 and "2 From fields" in err


def test_trace_shows_the_lookups(world):
    code, out, _ = dmarc_check(world, "--trace", "sub.good.test")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("dns TXT _dmarc.sub.good.test nxdomain")
    assert lines[1].startswith("dns TXT _dmarc.good.test ok") and "v=DMARC1; p=reject" in lines[1]
    verdict = check_message(world, signed(world, "good.test", "good.test", "t1"), "127.0.0.1", "b@good.test", "--trace")
    asked = [(q["type"], q["name"]) for q in verdict["trace"]]
    assert ("TXT", "good.test") in asked and ("TXT", "sel._domainkey.good.test") in asked
    assert ("TXT", "_dmarc.good.test") in asked
