"""relay-policy check --filter under the real spool-run (relay-filter(7)), per message and
streaming: accepted messages move on unchanged, refused ones land in hold/ with the verdict as
the reason, rate-limited ones stay for a later run."""
import pytest

import relaytest
from policykit import NOW, make_policy

RULES = """
[defaults]
sender-domains = shop.example
sender-domain-messages = 2/hour
"""


def inject(spool, sender, body_from):
    message = f"From: {body_from}\r\nTo: r@example.test\r\nSubject: t\r\n\r\nhello\r\n".encode()
    r = relaytest.run([relaytest.bin("relay-sendmail"), "--spool", str(spool), "--sender", sender, "r@example.test"],
                      input=message)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("stream", [False, True])
def test_spool_run_with_the_policy_filter(tmp_path, stream):
    policy = make_policy(tmp_path, RULES)
    spool = relaytest.make_spool(tmp_path / "spool")
    for sender in ("a@shop.example", "b@shop.example", "c@shop.example", "x@other.example"):
        inject(spool, sender, sender)
    cmd = [relaytest.bin("spool-run"), "--spool", str(spool), "--from", "incoming", "--to", "outgoing"]
    cmd += ["--stream"] if stream else []
    cmd += ["--", relaytest.bin("relay-policy"), "--policy", str(policy), "--now", str(NOW), "check", "--filter"]
    r = relaytest.run(cmd, timeout=60)
    assert r.returncode == 0, r.stderr
    outgoing = relaytest.spool_files(spool, "outgoing")
    held = relaytest.spool_files(spool, "hold")
    waiting = relaytest.spool_files(spool, "incoming")
    assert (len(outgoing), len(held), len(waiting)) == (2, 1, 1)
    envelope, message = relaytest.read_spool_file(spool / "hold" / held[0])
    assert envelope["sender"] == ["x@other.example"]
    assert "550 5.7.1 sender domain other.example is not allowed" in envelope["hold-reason"][0]
    envelope, message = relaytest.read_spool_file(spool / "outgoing" / outgoing[0])
    assert message.startswith(b"From: ") and message.endswith(b"hello\r\n")   # passed through unchanged
    envelope, _ = relaytest.read_spool_file(spool / "incoming" / waiting[0])
    assert envelope["sender"][0].endswith("@shop.example")   # the third of shop.example: over 2/hour
