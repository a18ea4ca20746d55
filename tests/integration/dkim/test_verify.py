"""dkim-verify against keys served by NSD: RFC 8463's published example, and each way a
signature goes wrong (RFC 6376 6.1), with the result and exit code scripts rely on."""
import json
import socket

import pytest

import dkimtest
import relaytest

MESSAGE = (b"From: Joe <joe@example.test>\r\nTo: suzie@example.net\r\nSubject: Is dinner ready?\r\n"
           b"Date: Sun, 29 Nov 2026 05:42:00 +0000\r\n\r\nHi.\r\n\r\nWe lost the game.\r\n")


def results(result):
    return [line.split()[0] for line in result.stdout.decode().splitlines()]


def test_rfc8463_example_both_signatures_pass(setup):
    result = setup.verify(dkimtest.RFC8463_MESSAGE, "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(r["selector"], r["algorithm"], r["result"]) for r in rows] == [
        ("brisbane", "ed25519-sha256", "pass"), ("test", "rsa-sha256", "pass")]
    assert all(r["domain"] == "football.example.com" for r in rows)


def test_changed_body_fails_on_body_hash(setup):
    result = setup.verify(dkimtest.RFC8463_MESSAGE.replace(b"hungry", b"angry"))
    assert result.returncode == 65
    assert result.stdout.decode().count('fail d=football.example.com') == 2
    assert result.stdout.decode().count('reason="body hash did not verify"') == 2


def test_changed_signed_header_fails_on_signature(setup):
    result = setup.verify(dkimtest.RFC8463_MESSAGE.replace(b"Subject: Is dinner ready?", b"Subject: Dinner is off"))
    assert result.returncode == 65
    assert result.stdout.decode().count('reason="signature did not verify"') == 2


def test_unsigned_header_may_change(setup):
    signed = setup.sign(MESSAGE).stdout
    assert results(setup.verify(signed.replace(b"Hi.", b"Hi.") + b"")) == ["pass", "pass"]
    tampered = signed.replace(b"From: Joe", b"X-Extra: added\r\nFrom: Joe")
    assert results(setup.verify(tampered)) == ["pass", "pass"]  # X-Extra is not signed


def test_added_from_breaks_the_oversigned_signature(setup):
    signed = setup.sign(MESSAGE).stdout
    tampered = signed.replace(b"To: suzie", b"From: evil@example.org\r\nTo: suzie")
    assert results(setup.verify(tampered)) == ["fail", "fail"]


def sign_with(setup, selector, key, message=MESSAGE, *args):
    table = setup.write_keytable(selector, [(dkimtest.DOMAIN, selector, key)])
    result = relaytest.run([relaytest.bin("dkim-sign"), "--keys", str(table), *args], input=message)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_revoked_key_is_permerror(setup):
    result = setup.verify(sign_with(setup, "revoked", setup.revoked_key))
    assert result.returncode == 65
    assert result.stdout.decode().startswith('permerror d=example.test s=revoked')
    assert 'reason="key revoked (empty p=)"' in result.stdout.decode()


def test_missing_key_record_is_permerror(setup):
    result = setup.verify(sign_with(setup, "nosuchkey", setup.rsa_key))
    assert result.returncode == 65
    assert 'permerror d=example.test s=nosuchkey' in result.stdout.decode()
    assert "no key record at nosuchkey._domainkey.example.test (nxdomain)" in result.stdout.decode()


def test_short_key_is_permerror(setup):
    # dkim-sign refuses keys under 1024 bits, so dkimpy makes this signature.
    import dkim
    signature = dkim.sign(MESSAGE, b"short", dkimtest.DOMAIN.encode(), setup.short_key.read_bytes(),
                          include_headers=[b"from", b"to", b"subject"])
    result = setup.verify(signature + MESSAGE)
    assert result.returncode == 65
    assert 'permerror d=example.test s=short a=rsa-sha256 bits=512 reason="key too short (512 bits)"' \
        in result.stdout.decode()
    # the minimum is a policy knob
    assert results(setup.verify(signature + MESSAGE, "--min-key-bits", "512")) == ["pass"]


def test_expired_signature_is_permerror(setup):
    signed = sign_with(setup, "rsa", setup.rsa_key, MESSAGE, "--expire", "1h", "--now", "2026-01-01T00:00:00Z")
    tags = dkimtest.signature_fields(signed)[0]
    assert int(tags["x"]) == int(tags["t"]) + 3600
    assert results(setup.verify(signed, "--now", "2026-01-01T00:30:00Z")) == ["pass"]
    late = setup.verify(signed, "--now", "2026-01-01T02:00:00Z")
    assert late.returncode == 65
    assert 'permerror' in late.stdout.decode() and "expired" in late.stdout.decode()
    assert results(setup.verify(signed)) == ["permerror"]  # today is long after x=


def test_unreachable_dns_is_temperror(setup):
    # A socket that never answers: the key lookup times out.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        result = relaytest.run([relaytest.bin("dkim-verify"), "--resolver", f"127.0.0.1:{silent.getsockname()[1]}",
                                "--timeout", "300"], input=dkimtest.RFC8463_MESSAGE)
    assert result.returncode == 75
    assert results(result) == ["temperror", "temperror"]


def test_unsigned_message_is_none(setup):
    result = setup.verify(MESSAGE, "--json")
    assert result.returncode == 65
    assert json.loads(result.stdout) == {"result": "none"}


def test_authentication_results_field(setup):
    tampered = dkimtest.RFC8463_MESSAGE.replace(b"s=test;", b"s=gone;")
    result = setup.verify(tampered, "--auth-results", "mx.example.net")
    assert result.returncode == 0  # one signature passed
    field = result.stdout.decode()
    assert field.startswith("Authentication-Results: mx.example.net;\n\tdkim=pass header.d=football.example.com "
                            "header.i=@football.example.com header.s=brisbane header.a=ed25519-sha256;\n")
    assert '\tdkim=permerror reason="no key record at gone._domainkey.football.example.com (nxdomain)"' in field


def test_files_are_named_in_the_output(setup, tmp_path):
    good, bad = tmp_path / "good.eml", tmp_path / "bad.eml"
    good.write_bytes(dkimtest.RFC8463_MESSAGE)
    bad.write_bytes(dkimtest.RFC8463_MESSAGE.replace(b"Joe.", b"Jim."))
    result = relaytest.run([relaytest.bin("dkim-verify"), "--resolver", setup.resolver, str(good), str(bad)])
    assert result.returncode == 65  # the worst of the messages
    lines = result.stdout.decode().splitlines()
    assert [line.split()[:2] for line in lines] == [[f"{good}:", "pass"], [f"{good}:", "pass"],
                                                   [f"{bad}:", "fail"], [f"{bad}:", "fail"]]


@pytest.mark.parametrize("mutation", ["refold_subject", "trailing_whitespace", "body_whitespace"])
def test_relaxed_survives_what_relays_do_and_simple_does_not(setup, mutation):
    message = (b"From: Joe <joe@example.test>\r\nSubject: a subject long enough to be refolded\r\n"
               b"To: suzie@example.net\r\n\r\nline one\r\nline  two\r\n")
    relaxed = setup.sign(message, "-c", "relaxed/relaxed").stdout
    simple = setup.sign(message, "-c", "simple/simple").stdout

    def mutate(data):
        if mutation == "refold_subject":
            return data.replace(b"Subject: a subject long enough", b"Subject: a subject\r\n\tlong enough")
        if mutation == "trailing_whitespace":
            return data.replace(b"To: suzie@example.net\r\n", b"To: suzie@example.net \t\r\n")
        return data.replace(b"line one\r\n", b"line one  \r\n").replace(b"line  two", b"line \t two")

    assert results(setup.verify(mutate(relaxed))) == ["pass", "pass"]
    assert results(setup.verify(mutate(simple))) == ["fail", "fail"]


def test_a_bad_file_does_not_stop_the_others(setup, tmp_path):
    broken, good = tmp_path / "broken.eml", tmp_path / "good.eml"
    broken.write_bytes(b"this is not a header\r\n\r\n")
    good.write_bytes(dkimtest.RFC8463_MESSAGE)
    result = relaytest.run([relaytest.bin("dkim-verify"), "--resolver", setup.resolver, str(broken), str(good)])
    assert result.returncode == 65
    assert f"{broken}: unable to parse message".encode() in result.stderr
    assert result.stdout.decode().splitlines() == [f"{good}: pass d=football.example.com s=brisbane a=ed25519-sha256 bits=256",
                                                   f"{good}: pass d=football.example.com s=test a=rsa-sha256 bits=1024"]
