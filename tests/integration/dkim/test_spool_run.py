"""dkim-sign as a spool-run stage, in both of spool-run's modes: incoming/ -> outgoing/ signed,
unsignable mail held with the reason, never lost or changed."""
import pytest

import dkimtest
import relaytest

MESSAGE = b"From: Joe <joe@example.test>\r\nTo: user@example.net\r\nSubject: spooled\r\n\r\nHello.\r\n"
UNKNOWN = b"From: Joe <joe@unknown.test>\r\nTo: user@example.net\r\nSubject: no key\r\n\r\nHello.\r\n"


@pytest.mark.parametrize("mode", [[], ["--stream"]], ids=["per-message", "stream"])
def test_stage_signs_and_holds(setup, tmp_path, mode):
    spool = relaytest.make_spool(tmp_path / "spool")
    good = [dkimtest.deposit(spool, MESSAGE) for _ in range(3)]
    bad = dkimtest.deposit(spool, UNKNOWN)
    by_sender = dkimtest.deposit(spool, UNKNOWN, sender="bounces@example.test")
    result = relaytest.run([relaytest.bin("spool-run"), "--spool", str(spool), "--from", "incoming", "--to", "outgoing",
                            *mode, "--", relaytest.bin("dkim-sign"), "--keys", str(setup.keytable),
                            "--on-missing-key", "fail"], timeout=60)
    assert result.returncode == 0, result.stderr
    assert relaytest.spool_files(spool, "incoming") == []
    assert relaytest.spool_files(spool, "outgoing") == sorted(good)
    assert relaytest.spool_files(spool, "hold") == sorted([bad, by_sender])
    for msg_id in good:
        envelope, message = relaytest.read_spool_file(spool / "outgoing" / msg_id)
        assert envelope["id"] == [msg_id] and envelope["sender"] == ["bounces@example.test"]
        assert message.endswith(MESSAGE)
        verdict = setup.verify(message)
        assert verdict.returncode == 0 and verdict.stdout.decode().count("pass d=example.test") == 2
    envelope, message = relaytest.read_spool_file(spool / "hold" / bad)
    assert message == UNKNOWN  # held unchanged
    assert "no key for unknown.test" in " ".join(envelope.get("hold-reason", []))


@pytest.mark.parametrize("mode", [[], ["--stream"]], ids=["per-message", "stream"])
def test_envelope_sender_domain_in_both_modes(setup, tmp_path, mode):
    spool = relaytest.make_spool(tmp_path / "spool")
    msg_id = dkimtest.deposit(spool, UNKNOWN, sender="bounces@example.test")
    result = relaytest.run([relaytest.bin("spool-run"), "--spool", str(spool), *mode, "--",
                            relaytest.bin("dkim-sign"), "--keys", str(setup.keytable), "--from-envelope"], timeout=60)
    assert result.returncode == 0, result.stderr
    _, message = relaytest.read_spool_file(spool / "outgoing" / msg_id)
    assert [t["d"] for t in dkimtest.signature_fields(message)] == ["example.test", "example.test"]
    assert f"id={msg_id} status=signed".encode() in result.stderr


@pytest.mark.parametrize("threads", ["1", "3"])
def test_stream_threads_keep_each_message_its_own_signature(setup, tmp_path, threads):
    """Pipelined streaming signs several messages at once (--threads); every message still gets
    its own verdict: its own bytes, signatures that verify (dkimpy), and unsignable ones held."""
    spool = relaytest.make_spool(tmp_path / "spool")
    originals, unsignable = {}, []
    for n in range(48):
        if n % 9 == 4:
            unsignable.append(dkimtest.deposit(spool, UNKNOWN))
            continue
        message = MESSAGE.replace(b"Subject: spooled", f"Subject: message {n}".encode()) + b"line\r\n" * n
        originals[dkimtest.deposit(spool, message)] = message
    result = relaytest.run([relaytest.bin("spool-run"), "--spool", str(spool), "--stream", "--",
                            relaytest.bin("dkim-sign"), "--keys", str(setup.keytable), "--on-missing-key", "fail",
                            "--threads", threads], timeout=60)
    assert result.returncode == 0, result.stderr
    assert relaytest.spool_files(spool, "outgoing") == sorted(originals)
    assert relaytest.spool_files(spool, "hold") == sorted(unsignable)
    for msg_id, original in originals.items():
        envelope, message = relaytest.read_spool_file(spool / "outgoing" / msg_id)
        assert envelope["id"] == [msg_id]
        assert message.endswith(original) and message.count(b"DKIM-Signature:") == 2
    for msg_id in list(originals)[::8]:
        _, message = relaytest.read_spool_file(spool / "outgoing" / msg_id)
        assert setup.dkimpy_results(message) == [True, True]
