"""The issue's walk-through: inject with relay-sendmail (arguments and -t from a PHP-style
header block), pass the messages through spool-run with sed, list them with spool-ls --json,
and hold, release and delete with spool-ctl; each step checked on disk."""
import relaytest
from spooltools import empty_spool_except, listing, sendmail, tool


def test_inject_filter_list_hold_release_delete(tmp_path):
    spool = tmp_path / "spool"
    assert tool("spool-ctl", "init", spool=spool).returncode == 0
    empty_spool_except(spool)

    php = (b"To: Alice <alice@example.test>\nBcc: boss@example.test\nSubject: Welcome\n"
           b"Content-Type: text/plain\n\nHello Alice\n")
    assert sendmail(spool, "-t", "-i", "-fapp@example.test", input=php).returncode == 0
    assert sendmail(spool, "-fapp@example.test", "bob@example.test", input=b"Subject: Hi Bob\n\nHello Bob\n").returncode == 0
    assert sendmail(spool, "-fother@example.test", "carol@example.net",
                    input=b"Subject: Hi Carol\n\nHello Carol\n").returncode == 0
    empty_spool_except(spool, incoming=3)

    queued = listing(spool)
    assert [m["stage"] for m in queued] == ["incoming"] * 3
    by_subject_order = sorted(queued, key=lambda m: m["id"])
    alice, bob, carol = by_subject_order
    assert [r["address"] for r in alice["recipients"]] == ["alice@example.test", "boss@example.test"]
    assert alice["sender"] == "app@example.test" and carol["sender"] == "other@example.test"

    # A standard Unix filter: sed adds a header line (CRLF, as the spool stores it).
    run = tool("spool-run", "--from", "incoming", "--to", "outgoing", "--", "sed", "-e", r"1i X-Filtered: sed\r",
               spool=spool)
    assert run.returncode == 0, run.stderr
    assert sorted(run.stdout.decode().split()) == sorted(
        [m["id"] for m in queued] + ["passed"] * 3)
    empty_spool_except(spool, outgoing=3)
    for name in relaytest.spool_files(spool, "outgoing"):
        envelope, message = relaytest.read_spool_file(spool / "outgoing" / name)
        assert message.startswith(b"X-Filtered: sed\r\n")
        assert envelope["rcpt.state"][0] == "pending"   # the envelope is spool-run's, unchanged

    listed = listing(spool, "--stage", "outgoing", "--sender", "app@example.test")
    assert sorted(m["id"] for m in listed) == sorted([alice["id"], bob["id"]])
    assert [m["id"] for m in listing(spool, "--recipient", "@example.net")] == [carol["id"]]
    assert listing(spool, "--stage", "hold") == []
    for field in ("id", "stage", "size", "arrival", "sender", "attempts", "next_attempt", "hold_reason", "recipients"):
        assert field in listed[0]

    held = tool("spool-ctl", "hold", bob["id"], "--reason", "customer asked", spool=spool)
    assert held.returncode == 0, held.stderr
    [entry] = listing(spool, "--stage", "hold")
    assert entry["id"] == bob["id"] and entry["hold_reason"] == "customer asked"
    empty_spool_except(spool, outgoing=2, hold=1)

    released = tool("spool-ctl", "release", bob["id"], spool=spool)
    assert released.returncode == 0, released.stderr
    empty_spool_except(spool, outgoing=3)
    envelope, _ = relaytest.read_spool_file(spool / "outgoing" / bob["id"])
    assert "hold-reason" not in envelope and "hold-from" not in envelope

    deleted = tool("spool-ctl", "delete", carol["id"], spool=spool)
    assert deleted.returncode == 0, deleted.stderr
    empty_spool_except(spool, outgoing=2)
    gone = tool("spool-ctl", "show", carol["id"], spool=spool)
    assert gone.returncode == 65 and b"not in the spool" in gone.stderr

    shown = tool("spool-ctl", "show", alice["id"], "--message", spool=spool)
    assert shown.returncode == 0
    assert shown.stdout.startswith(b"X-Filtered: sed\r\nTo: Alice <alice@example.test>\r\n")
    assert b"boss@" not in shown.stdout
