"""The real deferral loop: mx-deliver tries a message against a closed port and defers it,
spool-retry brings it back when the backoff says so, again and again, with --now moving the
clock; the waits grow as spool-retry(8) documents, and at the end of the lifetime the sender
gets the DSN."""
import pytest

import relaytest
from retrykit import NOW, DAY, write_deferred, retry_json, stage, mtime, envelope, dsns, report_of

STANDARD = [300, 600, 1200, 2400, 4000, 4000]


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def deliver(spool, port, now):
    p = relaytest.run([relaytest.bin("mx-deliver"), "--spool", str(spool), "--now", str(now), "--tls", "none",
                       "--route", f"remote.test=127.0.0.1:{port}", "--hostname", "relay.example.org"], timeout=60)
    assert p.returncode in (0, 75), p.stderr.decode()


def test_mx_deliver_deferrals_follow_the_backoff_until_expiry(spool):
    closed_port = relaytest.free_port()
    rcpt = [dict(address="bob@remote.test", state="pending")]
    msg_id = write_deferred(spool, stage="outgoing", arrival=NOW, next_attempt=NOW, attempts=0, recipients=rcpt,
                            defer_reason="")
    now = NOW
    for n in range(1, 7):
        deliver(spool, closed_port, now)
        assert stage(spool, "deferred") == [msg_id], f"attempt {n} did not defer"
        fields = envelope(spool, "deferred", msg_id)
        assert fields["attempts"] == [str(n)] and fields["last-attempt"] == [str(now)]
        assert fields["rcpt.state"] == ["deferred"] and fields["defer-reason"] == ["connect"]
        # Whatever time mx-deliver chose, spool-retry brings it back within the backoff window.
        low, high = max(300, STANDARD[n - 1] * 4 // 5), min(4000, STANDARD[n - 1] * 6 // 5)
        due = None
        for probe in range(4):     # at mx-deliver's time, then at the rescheduled one
            t = mtime(spool, "deferred", msg_id)
            events = retry_json(spool, "--delay-warning", "0", "--max-age", "30d", now=max(t, now + 1))
            if stage(spool, "outgoing") == [msg_id]:
                due = max(t, now + 1)
                break
            assert events[0]["action"] == "reschedule"
        assert due is not None and now + low <= due <= now + high, f"attempt {n}: due after {due - now} s"
        now = due

    # Deferred once more; five days after arrival the next pass expires it with a DSN.
    deliver(spool, closed_port, now)
    events = retry_json(spool, now=NOW + 5 * DAY)
    assert events[0]["action"] == "expire" and stage(spool, "failed") == [msg_id]
    [(_, dsn)] = dsns(spool)
    _, [bob] = report_of(dsn)
    assert bob["Final-Recipient"] == "rfc822; bob@remote.test" and bob["Status"] == "4.4.7"
    assert "refused" in bob["Diagnostic-Code"].lower()
