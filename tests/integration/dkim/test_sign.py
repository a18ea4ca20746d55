"""dkim-sign as a filter and as a spool-run streaming filter: what it signs, with which key,
what it does when it cannot sign, and which keys it refuses."""
import os
import subprocess

import pytest

import dkimtest
import relaytest

MESSAGE = (b"From: Joe <joe@example.test>\r\nTo: suzie@example.net\r\nSubject: hello\r\n"
           b"Date: Sun, 29 Nov 2026 05:42:00 +0000\r\nMessage-ID: <1@example.test>\r\n\r\nHi.\r\n")


def verdicts(setup, signed):
    return [line.split()[0] for line in setup.verify(signed).stdout.decode().splitlines()]


def test_two_keys_give_two_signatures_with_the_recommended_tags(setup):
    result = setup.sign(MESSAGE, "--now", "@1790000000")
    assert result.returncode == 0, result.stderr
    rsa, ed = dkimtest.signature_fields(result.stdout)
    assert (rsa["a"], rsa["s"], rsa["d"]) == ("rsa-sha256", "rsa", "example.test")
    assert (ed["a"], ed["s"]) == ("ed25519-sha256", "ed")
    for tags in (rsa, ed):
        assert tags["c"] == "relaxed/relaxed"
        assert tags["t"] == "1790000000"
        assert "x" not in tags and "l" not in tags
        assert tags["h"].split(":") == ["from", "from", "subject", "date", "to", "message-id"]
    assert b"status=signed d=example.test s=rsa a=rsa-sha256" in result.stderr


def test_header_list_and_oversigning_are_configurable(setup):
    result = setup.sign(MESSAGE, "--headers", "Subject:To", "--oversign", "from,subject,cc")
    tags = dkimtest.signature_fields(result.stdout)[0]
    assert tags["h"].split(":") == ["from", "from", "subject", "subject", "to", "cc"]  # From is always signed
    assert verdicts(setup, result.stdout) == ["pass", "pass"]
    # cc was oversigned while absent: adding one breaks the signature
    added = result.stdout.replace(b"To: suzie", b"Cc: more@example.org\r\nTo: suzie")
    assert verdicts(setup, added) == ["fail", "fail"]


@pytest.mark.parametrize("message, problem", [
    (b"To: x@example.net\r\nSubject: no from\r\n\r\nbody\r\n", "no From header field"),
    (b"From: a@example.test\r\nFrom: b@example.test\r\n\r\nbody\r\n", "2 From header fields"),
    (b"From: a@example.test, b@other.test\r\n\r\nbody\r\n", "From addresses of several domains"),
    (b"From: a@unknown.test\r\n\r\nbody\r\n", "no key for unknown.test"),
    (b"not a header line\r\n\r\n", "no valid header section"),
])
def test_unsignable_message_follows_on_missing_key(setup, message, problem):
    passed = setup.sign(message)
    assert passed.returncode == 0
    assert passed.stdout == message  # never mangled
    assert f'status=unsigned reason="{problem}"'.encode() in passed.stderr
    failed = setup.sign(message, "--on-missing-key", "fail")
    assert failed.returncode == 65
    assert failed.stdout == b""
    assert f"dkim-sign: fatal: unable to sign message: {problem}".encode() in failed.stderr


def test_domain_option_and_envelope_sender(setup):
    other = b"From: someone@elsewhere.test\r\nSubject: x\r\n\r\nbody\r\n"
    by_option = setup.sign(other, "--domain", "Example.TEST")
    assert [t["d"] for t in dkimtest.signature_fields(by_option.stdout)] == ["example.test", "example.test"]
    assert verdicts(setup, by_option.stdout) == ["pass", "pass"]
    by_sender = setup.sign(other, "--from-envelope", env={"RELAY_SENDER": "bounces@example.test", "RELAY_ID": "Q1"})
    assert len(dkimtest.signature_fields(by_sender.stdout)) == 2
    assert b"id=Q1 status=signed" in by_sender.stderr
    null_sender = setup.sign(other, "--from-envelope", "--on-missing-key", "fail", env={"RELAY_SENDER": ""})
    assert null_sender.returncode == 65
    assert b"null envelope sender" in null_sender.stderr
    both = setup.sign(other, "--from-envelope", "--domain", "example.test")
    assert both.returncode == 64
    assert setup.sign(other, "--domain", "not a domain").returncode == 64


def test_wildcard_row_signs_subdomains_with_the_parent_domain(setup):
    table = setup.write_keytable("wild", [("*.example.test", "rsa", setup.rsa_key),
                                          ("exact.example.test", "ed", setup.ed_key)])
    sign = [relaytest.bin("dkim-sign"), "--keys", str(table)]
    sub = relaytest.run(sign, input=b"From: a@mail.deep.example.test\r\n\r\nx\r\n")
    assert [(t["d"], t["s"]) for t in dkimtest.signature_fields(sub.stdout)] == [("example.test", "rsa")]
    assert verdicts(setup, sub.stdout) == ["pass"]
    exact = relaytest.run(sign, input=b"From: a@exact.example.test\r\n\r\nx\r\n")
    assert [(t["d"], t["s"]) for t in dkimtest.signature_fields(exact.stdout)] == [("exact.example.test", "ed")]
    parent = relaytest.run(sign + ["--on-missing-key", "fail"], input=b"From: a@example.test\r\n\r\nx\r\n")
    assert parent.returncode == 65  # *.example.test does not cover example.test itself


def test_keys_readable_by_others_are_refused(setup, tmp_path):
    key = tmp_path / "open.pem"
    key.write_bytes(setup.rsa_key.read_bytes())
    table = tmp_path / "table"
    table.write_text(f"example.test rsa {key.name}\n")  # relative to the table
    for mode in (0o640, 0o604, 0o660):
        os.chmod(key, mode)
        result = relaytest.run([relaytest.bin("dkim-sign"), "--keys", str(table)], input=MESSAGE)
        assert result.returncode == 77, result.stderr
        assert b"group or others may access it" in result.stderr
        assert result.stdout == b""
    os.chmod(key, 0o600)
    assert relaytest.run([relaytest.bin("dkim-sign"), "--keys", str(table)], input=MESSAGE).returncode == 0


@pytest.mark.parametrize("line, why", [
    ("example.test rsa", "expected: DOMAIN SELECTOR KEYFILE"),
    ("example.test rsa k.pem extra", 'unexpected field "extra"'),
    ("bad_domain! rsa k.pem", 'invalid domain "bad_domain!"'),
    ("example.test sel/ector k.pem", 'invalid selector "sel/ector"'),
])
def test_key_table_errors_name_the_line(tmp_path, line, why):
    table = tmp_path / "table"
    table.write_text(f"# comment\n\n{line}\n")
    result = relaytest.run([relaytest.bin("dkim-sign"), "--keys", str(table)], input=MESSAGE)
    assert result.returncode == 78
    assert f"unable to read key table {table} line 3: {why}".encode() in result.stderr


def test_short_rsa_key_is_refused(setup):
    table = setup.write_keytable("short", [(dkimtest.DOMAIN, "short", setup.short_key)])
    result = relaytest.run([relaytest.bin("dkim-sign"), "--keys", str(table)], input=MESSAGE)
    assert result.returncode == 78
    assert b"RSA key of 512 bits; at least 1024 are needed" in result.stderr


def frame(envelope, message):
    return b"%d %d\n" % (len(envelope), len(message)) + envelope + message


def read_answer(stream):
    code, length, reason = stream.readline().rstrip(b"\n").split(b" ", 2)
    return int(code), stream.read(int(length)), reason.decode()


def test_streaming_mode_signs_each_message_with_keys_loaded_once(setup):
    envelope = b"version=1\nid=S1\nsender=bounce@example.test\nrcpt=user@example.net\n\n"
    unknown = b"From: a@unknown.test\r\n\r\nbody\r\n"
    proc = subprocess.Popen([relaytest.bin("dkim-sign"), "--keys", str(setup.keytable), "--on-missing-key", "fail"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, RELAY_FILTER_PROTOCOL="1"))
    try:
        proc.stdin.write(b"relay-filter 1\n" + frame(envelope, MESSAGE) + frame(envelope, unknown)
                         + frame(envelope, MESSAGE.replace(b"\r\n", b"\n")))
        proc.stdin.close()
        assert proc.stdout.readline() == b"relay-filter 1\n"
        code, signed, _ = read_answer(proc.stdout)
        assert code == 0 and signed.endswith(MESSAGE)
        assert verdicts(setup, signed) == ["pass", "pass"]
        assert read_answer(proc.stdout) == (65, b"", "not signed: no key for unknown.test")
        code, signed_lf, _ = read_answer(proc.stdout)
        assert code == 0 and b"\r" not in signed_lf
        assert verdicts(setup, signed_lf) == ["pass", "pass"]
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = proc.stderr.read()
    assert log.count(b"id=S1 status=signed") == 4 and b"id=S1 status=refused" in log


def test_oversized_message_is_refused(setup):
    result = setup.sign(MESSAGE + b"x" * 2000 + b"\r\n", "--max-size", "1024")
    assert result.returncode == 65
    assert b"larger than 1024 bytes" in result.stderr


def test_keys_are_read_once_at_start(setup, tmp_path):
    # In streaming mode the key files are read before the first message: removing them later
    # changes nothing for the running signer.
    key = tmp_path / "once.pem"
    key.write_bytes(setup.rsa_key.read_bytes())
    os.chmod(key, 0o600)
    table = tmp_path / "table"
    table.write_text(f"example.test rsa {key}\n")
    envelope = b"version=1\nid=S2\nsender=bounce@example.test\nrcpt=user@example.net\n\n"
    proc = subprocess.Popen([relaytest.bin("dkim-sign"), "--keys", str(table)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, RELAY_FILTER_PROTOCOL="1"))
    try:
        proc.stdin.write(b"relay-filter 1\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"relay-filter 1\n"  # keys loaded by now
        key.unlink()
        proc.stdin.write(frame(envelope, MESSAGE))
        proc.stdin.close()
        code, signed, _ = read_answer(proc.stdout)
        assert code == 0 and verdicts(setup, signed) == ["pass"]
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
