"""Honest Postfix bounces, made now: a private Postfix relays to reject_mx.py, which refuses
recipients by name; Postfix's DSNs land in a Maildir that bounce-parse --follow reads."""
import json

import relaytest
import postfix_bounces


def test_bounces_written_by_postfix_are_read_field_by_field(procs, world_dir):
    config, port, maildir = postfix_bounces.start(procs, world_dir)
    try:
        postfix_bounces.send(port, ["unknown7@remote.test", "ok7@remote.test"], "live-1")
        postfix_bounces.send(port, ["full7@remote.test", "spam7@remote.test"], "live-2")
        postfix_bounces.send(port, ["slow7@remote.test"], "live-3")
        postfix_bounces.wait_bounces(maildir, 3)
    finally:
        relaytest.stop_postfix(config)
    result = relaytest.run([relaytest.bin("bounce-parse"), "--json", "--follow", str(maildir)])
    assert result.returncode == 0, result.stderr
    records = {r["recipient"]: r for r in map(json.loads, result.stdout.decode().splitlines())}
    assert set(records) == {"unknown7@remote.test", "full7@remote.test", "spam7@remote.test", "slow7@remote.test"}
    expected = {  # recipient: (status, smtp code, reason, hard, message id)
        "unknown7@remote.test": ("5.1.1", 550, "user-unknown", True, "<live-1@example.test>"),
        "full7@remote.test": ("5.2.2", 552, "mailbox-full", False, "<live-2@example.test>"),
        "spam7@remote.test": ("5.7.1", 550, "spam-blocked", False, "<live-2@example.test>"),
        "slow7@remote.test": ("4.7.1", 451, "policy", False, "<live-3@example.test>"),
    }
    for recipient, (status, code, reason, hard, message_id) in expected.items():
        r = records[recipient]
        assert (r["status"], r["smtp_code"], r["reason"], r["hard"], r["message_id"]) == (status, code, reason, hard, message_id)
        assert r["action"] == "failed" and r["format"] == "postfix"
        assert r["reporting_mta"] == "mx.example.test" and r["remote_mta"] == "127.0.0.1"
        assert r["envelope_sender"] == postfix_bounces.SENDER and r["original_recipient"] == recipient
        assert r["source"].startswith(str(maildir / "new"))
    # The cron job's next run finds nothing new; --suppress keeps the hard failure only.
    assert relaytest.run([relaytest.bin("bounce-parse"), "--json", "--follow", str(maildir)]).stdout == b""
    suppress = relaytest.run([relaytest.bin("bounce-parse"), "--suppress", str(maildir)])
    assert [json.loads(line)["recipient"] for line in suppress.stdout.decode().splitlines()] == ["unknown7@remote.test"]
