"""Expiry and delay warnings end to end: the DSN spool-retry deposits into incoming/ is read
back with Python's email package (RFC 3464 structure, recipients, statuses, diagnostics)."""
import json
import os

import pytest

import relaytest
from retrykit import NOW, DAY, MESSAGE, write_deferred, retry, retry_json, stage, envelope, dsns, report_of


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def recipients():
    return [
        dict(address="bob@remote.test", state="deferred", status="4.2.2", response="452 4.2.2 Mailbox full",
             remote="mx.remote.test[127.0.0.2]:25", orcpt="rfc822;Bob+2Bwork@remote.test"),
        dict(address="carol@slow.test", state="deferred", status="4.4.1",
             response="connect to mx.slow.test[127.0.0.3]:25: Connection refused", remote="mx.slow.test[127.0.0.3]:25"),
        dict(address="dave@remote.test", state="sent", status="2.0.0", response="250 2.0.0 Ok: queued"),
    ]


def test_expiry_fails_the_rest_with_4_4_7_and_sends_one_dsn(spool):
    msg_id = write_deferred(spool, arrival=NOW - 5 * DAY - 1, next_attempt=NOW - 30, recipients=recipients(),
                            envid="batch+2B42", attempts=40)
    events = retry_json(spool)
    assert events[0]["action"] == "expire" and events[0]["recipients"] == 2
    assert stage(spool, "failed") == [msg_id] and stage(spool, "deferred") == []
    fields = envelope(spool, "failed", msg_id)
    assert fields["rcpt.state"] == ["failed", "failed", "sent"]
    assert fields["rcpt.status"][:2] == ["4.4.7", "4.4.7"]

    [(dsn_envelope, dsn)] = dsns(spool)
    assert events[0]["dsn"] == dsn_envelope["id"][0]
    assert dsn_envelope["sender"] == [""] and dsn_envelope["rcpt"] == ["alice@example.org"]
    assert dsn_envelope["rcpt.notify"] == ["NEVER"]
    assert dsn["To"].addresses[0].addr_spec == "alice@example.org"
    assert dsn["From"].addresses[0].addr_spec == "MAILER-DAEMON@relay.example.org"
    assert dsn["Auto-Submitted"] == "auto-replied"
    assert dsn["In-Reply-To"] == "<report.1@example.org>"
    per_message, per_recipient = report_of(dsn)
    assert per_message["Reporting-MTA"] == "dns; relay.example.org"
    assert per_message["Original-Envelope-Id"] == "batch+42"
    assert per_message["Arrival-Date"] == "Mon, 24 Nov 2025 07:06:39 +0000"
    got = {r["Final-Recipient"]: r for r in per_recipient}
    assert set(got) == {"rfc822; bob@remote.test", "rfc822; carol@slow.test"}
    bob, carol = got["rfc822; bob@remote.test"], got["rfc822; carol@slow.test"]
    assert bob["Action"] == carol["Action"] == "failed"
    assert bob["Status"] == carol["Status"] == "4.4.7"
    assert bob["Original-Recipient"] == "rfc822; Bob+work@remote.test"
    assert bob["Remote-MTA"] == "dns; mx.remote.test"
    assert bob["Diagnostic-Code"] == "smtp; 452 4.2.2 Mailbox full"
    assert carol["Diagnostic-Code"] == "X-Relay; connect to mx.slow.test[127.0.0.3]:25: Connection refused"
    assert "Last-Attempt-Date" in bob
    text, _, returned = dsn.iter_parts()
    assert "<bob@remote.test>: 4.4.7" in text.get_content()
    assert returned.get_content_type() == "message/rfc822"
    original = returned.get_payload()[0]
    assert original["Subject"] == "quarterly report"
    assert "attached in spirit" in original.get_content()

    # Run again, and later: the message is in failed/, no second DSN.
    retry(spool, now=NOW + 3600)
    assert len(dsns(spool)) == 1


def test_ret_hdrs_returns_headers_only(spool):
    write_deferred(spool, arrival=NOW - 6 * DAY, next_attempt=NOW - 1, ret="HDRS")
    retry(spool)
    [(_, dsn)] = dsns(spool)
    returned = list(dsn.iter_parts())[2]
    assert returned.get_content_type() == "text/rfc822-headers"
    body = returned.get_payload()
    assert "Subject: quarterly report" in body and "attached in spirit" not in body


def test_large_message_comes_back_as_headers(spool):
    big = MESSAGE.replace(b"\r\n\r\n", b"\r\n\r\n" + (b"y" * 70 + b"\r\n") * 2000)
    write_deferred(spool, arrival=NOW - 6 * DAY, next_attempt=NOW - 1, message=big)
    retry(spool, "--dsn-return-limit", "10000")
    [(_, dsn)] = dsns(spool)
    assert list(dsn.iter_parts())[2].get_content_type() == "text/rfc822-headers"


def test_notify_never_sends_nothing_and_notify_is_per_recipient(spool):
    rs = recipients()
    rs[0]["notify"] = "NEVER"
    rs[1]["notify"] = "NEVER"
    quiet = write_deferred(spool, arrival=NOW - 6 * DAY, next_attempt=NOW - 1, recipients=rs)
    retry(spool)
    assert stage(spool, "failed") == [quiet] and dsns(spool) == []

    rs = recipients()
    rs[0]["notify"] = "NEVER"
    rs[1]["notify"] = "FAILURE,DELAY"
    write_deferred(spool, arrival=NOW - 6 * DAY, next_attempt=NOW - 1, recipients=rs)
    retry(spool)
    [(_, dsn)] = dsns(spool)
    _, per_recipient = report_of(dsn)
    assert [r["Final-Recipient"] for r in per_recipient] == ["rfc822; carol@slow.test"]


def test_bounces_are_never_bounced(spool):
    """Mail from the null sender expires after --dsn-max-age (2 days) and makes no DSN."""
    young = write_deferred(spool, sender="", arrival=NOW - DAY, next_attempt=NOW - 1)
    old = write_deferred(spool, sender="", arrival=NOW - 2 * DAY - 1, next_attempt=NOW - 1)
    events = {e["id"]: e for e in retry_json(spool) if "id" in e}
    assert events[old]["action"] == "expire" and "dsn" not in events[old]
    assert events[young]["action"] == "move"
    assert stage(spool, "failed") == [old] and stage(spool, "outgoing") == [young]
    assert dsns(spool) == []


def test_delay_warning_is_sent_once(spool):
    msg_id = write_deferred(spool, arrival=NOW - 5 * 3600, next_attempt=NOW - 1, last_attempt=NOW - 301,
                            recipients=recipients())
    events = retry_json(spool)
    assert [e["action"] for e in events] == ["warn", "move", "summary"]
    [(_, dsn)] = dsns(spool)
    assert dsn["Subject"] == "Mail not yet delivered (still trying)"
    per_message, per_recipient = report_of(dsn)
    assert {r["Final-Recipient"] for r in per_recipient} == {"rfc822; bob@remote.test", "rfc822; carol@slow.test"}
    assert all(r["Action"] == "delayed" for r in per_recipient)
    assert per_recipient[0]["Will-Retry-Until"] == "Thu, 04 Dec 2025 02:06:40 +0000"   # arrival + 5 days
    assert envelope(spool, "outgoing", msg_id)["delay-warned"] == [str(NOW)]

    # Deferred again and due again later: no second warning.
    (spool / "outgoing" / msg_id).rename(spool / "deferred" / msg_id)
    os.utime(spool / "deferred" / msg_id, (NOW + 3000, NOW + 3000))
    retry(spool, now=NOW + 3600)
    assert len(dsns(spool)) == 1 and stage(spool, "outgoing") == [msg_id]


def test_delay_warning_off_and_not_yet(spool):
    write_deferred(spool, arrival=NOW - 5 * 3600, next_attempt=NOW - 1)
    write_deferred(spool, arrival=NOW - 3 * 3600, next_attempt=NOW - 1)
    retry(spool, "--delay-warning", "0")
    assert dsns(spool) == [] and len(stage(spool, "outgoing")) == 2


def test_bounce_parse_reads_the_dsns(spool):
    """The toolkit's own bounce reader classifies what spool-retry sends."""
    if not (relaytest.BIN / "bounce-parse").exists():
        pytest.skip("bounce-parse is not built")
    write_deferred(spool, arrival=NOW - 6 * DAY, next_attempt=NOW - 1, recipients=recipients())
    retry(spool)
    [(fields, _)] = dsns(spool)
    raw = (spool / "incoming" / fields["id"][0]).read_bytes().partition(b"\n\n")[2]
    parsed = relaytest.run([relaytest.bin("bounce-parse"), "--json"], input=raw)
    assert parsed.returncode == 0, parsed.stderr
    lines = {r["recipient"]: r for r in map(json.loads, parsed.stdout.decode().splitlines())}
    assert set(lines) == {"bob@remote.test", "carol@slow.test"}
    assert all(r["action"] == "failed" and r["status"] == "4.4.7" for r in lines.values())
    assert lines["bob@remote.test"]["original_recipient"] == "Bob+work@remote.test"
    assert lines["bob@remote.test"]["diagnostic"] == "452 4.2.2 Mailbox full"
    assert lines["bob@remote.test"]["envelope_sender"] == "alice@example.org"
