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
