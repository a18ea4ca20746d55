"""mail-audit against NSD on loopback, one zone per rule: a good domain, missing records,
too many SPF lookups, weak and testing DKIM keys, p=none, bad syntax, external report
addresses, reverse DNS, and timeouts from a stopped or absent server."""
import base64
import json
import os
import subprocess
import sys

import pytest

import relaytest

sys.path.insert(0, os.path.dirname(__file__))
from audit_helpers import stopped  # noqa: E402


def dkim_record(directory, name, bits, flags=""):
    """A DKIM key record for an RSA key of any size (dkim-keygen refuses < 1024 bits)."""
    key = directory / f"{name}.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}", "-out", str(key)],
                   check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    text = f"v=DKIM1; k=rsa; {flags}p=" + base64.b64encode(der).decode()
    return " ".join(f'"{text[i:i + 200]}"' for i in range(0, len(text), 200))


def good_records(name, dkim, dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@{name}"):
    return [
        "@ MX 10 mx", "mx A 127.0.0.1", "relay A 127.0.0.1",
        '@ TXT "v=spf1 ip4:127.0.0.1 include:_spf.{n} -all"'.replace("{n}", name),
        '_spf TXT "v=spf1 a:relay.{n} -all"'.replace("{n}", name),
        f"sel._domainkey TXT {dkim}", f'_dmarc TXT "{dmarc.format(name=name)}"',
        '_mta-sts TXT "v=STSv1; id=20261129"', f'_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@{name}"',
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("audit")
    strong = dkim_record(directory, "strong", 2048)
    includes = [f'inc{i} TXT "v=spf1 a:h{i}.lookups.test mx:h{i}.lookups.test include:inc{i + 1}.lookups.test"'
                for i in range(4)] + ['inc4 TXT "v=spf1 -all"'] + [f"h{i} A 127.0.0.1" for i in range(4)]
    zones = {
        "good.test": relaytest.zone("good.test", good_records("good.test", strong)),
        "pnone.test": relaytest.zone("pnone.test", good_records("pnone.test", strong, "v=DMARC1; p=none; rua=mailto:d@{name}")),
        "missing.test": relaytest.zone("missing.test", ["www A 127.0.0.1"]),
        "lookups.test": relaytest.zone("lookups.test", ['@ MX 10 mx', 'mx A 127.0.0.1',
                                                        '@ TXT "v=spf1 include:inc0.lookups.test -all"', *includes]),
        "weak.test": relaytest.zone("weak.test", [
            f"tiny._domainkey TXT {dkim_record(directory, 'tiny', 768)}",
            f"small._domainkey TXT {dkim_record(directory, 'small', 1024)}",
            f"trial._domainkey TXT {dkim_record(directory, 'trial', 2048, 't=y; ')}",
            'gone._domainkey TXT "v=DKIM1; p="']),
        "syntax.test": relaytest.zone("syntax.test", [
            '@ TXT "v=spf1 ip4:127.0.0 -all"', '_dmarc TXT "v=DMARC1; p=bogus"', '_mta-sts TXT "v=STSv1; id=not-ok!"']),
        "open.test": relaytest.zone("open.test", [
            "@ MX 0 .", '@ TXT "v=spf1 a:void1.open.test a:void2.open.test a:void3.open.test +all"',
            '_dmarc TXT "v=DMARC1; p=quarantine; pct=20; rua=mailto:r@reports.test,mailto:r@authorized.test"']),
        "modifier.test": relaytest.zone("modifier.test", ['@ TXT "v=spf1 -all default=deny"']),
        "authorized.test": relaytest.zone("authorized.test", ['open.test._report._dmarc TXT "v=DMARC1"']),
        "reports.test": relaytest.zone("reports.test", ["@ A 127.0.0.1"]),
        "0.0.127.in-addr.arpa": relaytest.zone("0.0.127.in-addr.arpa", [
            "1 PTR relay.good.test.", "7 PTR elsewhere.good.test."]),
    }
    procs = relaytest.Processes()
    port = relaytest.start_nsd(procs, directory / "nsd", zones)
    yield {"server": f"127.0.0.1:{port}", "nsd": procs.procs[-1]}
    procs.stop_all()


def audit(server, domain, *args, timeout=1):
    result = relaytest.run([relaytest.bin("mail-audit"), "--json", "--resolver", server, "--dns-timeout", str(timeout),
                            "--dns-retries", "0", domain, *args], timeout=60)
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    findings = {line["check"]: line for line in lines if "check" in line}
    return result.returncode, findings, lines[-1] if lines else None


def statuses(findings):
    return {check: finding["status"] for check, finding in findings.items()}


def test_good_domain_passes_everything(world):
    code, findings, summary = audit(world["server"], "good.test", "--selector", "sel", "--relay-ip", "127.0.0.1", "--strict")
    assert code == 0, findings
    assert set(statuses(findings).values()) == {"pass"}
    for check in ("mx", "spf", "spf.lookups", "spf.all", "spf.relay 127.0.0.1", "dkim sel", "dmarc", "dmarc.policy",
                  "mta-sts", "tls-rpt", "ptr 127.0.0.1"):
        assert check in findings
    assert findings["spf.lookups"]["detail"].startswith("2 DNS lookups")
    assert findings["dkim sel"]["detail"] == "rsa 2048 bits"
    assert findings["ptr 127.0.0.1"]["detail"] == "relay.good.test (forward-confirmed)"
    assert summary["summary"] and summary["fail"] == 0 and summary["warn"] == 0


def test_text_table_has_advice_lines(world):
    result = relaytest.run([relaytest.bin("mail-audit"), "--resolver", world["server"], "missing.test"], timeout=60)
    text = result.stdout.decode()
    assert result.returncode == 2
    assert text.splitlines()[0].split() == ["STATE", "CHECK", "DETAIL", "/", "ADVICE"]
    assert any(line.startswith("fail  spf ") for line in text.splitlines())
    assert "-> publish a TXT record" in text


def test_missing_records(world):
    code, findings, _ = audit(world["server"], "missing.test")
    assert code == 2
    s = statuses(findings)
    assert s["mx"] == "warn" and s["spf"] == "fail" and s["dmarc"] == "fail"
    assert s["dkim"] == "warn" and s["mta-sts"] == "warn" and s["tls-rpt"] == "warn"


def test_too_many_spf_lookups(world):
    code, findings, _ = audit(world["server"], "lookups.test")
    assert code == 2
    assert findings["spf.lookups"]["status"] == "fail"
    assert findings["spf.lookups"]["detail"].startswith("13 DNS lookups (limit 10)")


def test_weak_revoked_and_testing_keys(world):
    code, findings, _ = audit(world["server"], "weak.test", "--selector", "tiny", "--selector", "small",
                              "--selector", "trial", "--selector", "gone", "--selector", "absent")
    assert code == 2
    assert findings["dkim tiny"]["status"] == "fail" and "768 bits" in findings["dkim tiny"]["detail"]
    assert findings["dkim small"]["status"] == "warn" and "1024 bits" in findings["dkim small"]["detail"]
    assert findings["dkim trial"]["status"] == "warn" and "t=y" in findings["dkim trial"]["detail"]
    assert findings["dkim gone"]["status"] == "fail" and "revoked" in findings["dkim gone"]["detail"]
    assert findings["dkim absent"]["status"] == "fail" and "no key record" in findings["dkim absent"]["detail"]


def test_p_none_warns_and_strict_exits_1(world):
    args = ("--selector", "sel", "--relay-ip", "127.0.0.1")
    code, findings, _ = audit(world["server"], "pnone.test", *args)
    assert code == 0 and findings["dmarc.policy"]["status"] == "warn"
    assert "monitoring only" in findings["dmarc.policy"]["detail"]
    code, _, summary = audit(world["server"], "pnone.test", *args, "--strict")
    assert code == 1 and summary["exit"] == 1 and summary["warn"] >= 1 and summary["fail"] == 0


def test_bad_syntax(world):
    code, findings, _ = audit(world["server"], "syntax.test")
    assert code == 2
    assert findings["spf.syntax"]["status"] == "fail" and "ip4:127.0.0" in findings["spf.syntax"]["detail"]
    assert findings["dmarc"]["status"] == "fail" and "p=bogus" in findings["dmarc"]["detail"]
    assert findings["mta-sts"]["status"] == "fail"
    _, findings, _ = audit(world["server"], "modifier.test")
    assert findings["spf.syntax"]["status"] == "warn" and "default=deny" in findings["spf.syntax"]["detail"]


def test_open_policy_null_mx_voids_and_report_authorization(world):
    code, findings, _ = audit(world["server"], "open.test", "--relay-ip", "127.0.0.7")
    assert code == 2
    assert findings["mx"]["status"] == "warn" and "null MX" in findings["mx"]["detail"]
    assert findings["spf.all"]["status"] == "fail" and "+all" in findings["spf.all"]["detail"]
    assert findings["spf.void"]["status"] == "fail" and findings["spf.void"]["detail"].startswith("3 void lookups")
    assert findings["dmarc.policy"]["status"] == "warn" and "pct=20" in findings["dmarc.policy"]["detail"]
    assert findings["dmarc.report-auth reports.test"]["status"] == "fail"
    assert findings["dmarc.report-auth authorized.test"]["status"] == "pass"
    assert findings["ptr 127.0.0.7"]["status"] == "fail"
    assert "does not resolve back" in findings["ptr 127.0.0.7"]["detail"]


def test_relay_ip_outside_spf_fails(world):
    code, findings, _ = audit(world["server"], "good.test", "--selector", "sel", "--relay-ip", "127.0.0.9")
    assert code == 2
    assert findings["spf.relay 127.0.0.9"]["status"] == "fail"
    assert "add ip4:127.0.0.9" in findings["spf.relay 127.0.0.9"]["advice"]
    assert findings["ptr 127.0.0.9"]["status"] == "fail" and findings["ptr 127.0.0.9"]["detail"] == "no PTR record"


def test_stopped_server_reports_timeouts_not_absence(world):
    with stopped(world["nsd"]):
        code, findings, _ = audit(world["server"], "good.test", "--selector", "sel", timeout=0.3)
    assert code == 2
    for check in ("mx", "spf", "dkim sel", "dmarc", "mta-sts", "tls-rpt"):
        assert findings[check]["status"] == "fail"
        assert "timeout" in findings[check]["detail"], findings[check]


def test_unreachable_server_and_servfail(world):
    code, findings, _ = audit(f"127.0.0.1:{relaytest.free_port()}", "good.test")
    assert code == 2 and "DNS timeout" in findings["spf"]["detail"]
    code, findings, _ = audit(world["server"], "outside.invalid")  # NSD refuses names outside its zones
    assert code == 2 and "DNS servfail" in findings["spf"]["detail"]


def test_bad_relay_ip_is_a_usage_error(world):
    result = relaytest.run([relaytest.bin("mail-audit"), "--resolver", world["server"], "good.test", "--relay-ip", "x"])
    assert result.returncode == 64 and b"not an IP address" in result.stderr
