"""spool-ctl on a spool with messages in every stage: stats, requeue, hold and release of
deferred mail, show, purge of stale tmp/ files and lease recovery of abandoned active/ entries."""
import fcntl
import json
import os

import pytest

import relaytest
from spooltools import empty_spool_except, listing, tool

NOW = 1_800_000_000


def put(spool, stage, msg_id, arrival, mtime=None, extra=""):
    """A spool file written as relay-spool(5) describes it."""
    path = spool / stage / msg_id
    path.write_bytes((f"version=1\nid={msg_id.split(':')[0]}\nsender=a@example.test\narrival={arrival}\n{extra}"
                      f"rcpt=b@example.test\nrcpt.state=deferred\nrcpt.status=4.2.2\n"
                      f"rcpt.response=452 4.2.2 Mailbox full\n\nSubject: t\r\n\r\nbody\r\n").encode())
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def mid(arrival, n):
    return f"{arrival}.000000.100_{n}.test"


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def ctl(spool, *args):
    return tool("spool-ctl", "--now", str(NOW), *args, spool=spool)


def test_stats_counts_ages_and_due(spool):
    put(spool, "incoming", mid(NOW - 100, 1), NOW - 100)
    put(spool, "deferred", mid(NOW - 7200, 2), NOW - 7200, mtime=NOW - 5)      # due
    put(spool, "deferred", mid(NOW - 60, 3), NOW - 60, mtime=NOW + 600)       # not yet
    result = ctl(spool, "stats", "--json")
    assert result.returncode == 0, result.stderr
    stats = {s["stage"]: s for s in map(json.loads, result.stdout.decode().splitlines())}
    assert set(stats) == set(relaytest.STAGES)
    assert stats["incoming"]["messages"] == 1 and stats["incoming"]["oldest_age"] == 100
    assert stats["deferred"]["messages"] == 2 and stats["deferred"]["oldest_age"] == 7200
    assert stats["deferred"]["due"] == 1
    assert stats["hold"]["messages"] == 0 and stats["hold"]["oldest_age"] == 0
    text = ctl(spool, "stats").stdout.decode().splitlines()
    assert text[0].split() == ["stage", "messages", "bytes", "oldest_age", "due"]


def test_listing_shows_deferred_details(spool):
    put(spool, "deferred", mid(NOW, 1), NOW, mtime=NOW + 300, extra="attempts=2\ndefer-reason=mailbox\n")
    [entry] = listing(spool)
    assert entry["next_attempt"] == NOW + 300 and entry["attempts"] == 2 and entry["defer_reason"] == "mailbox"
    assert entry["recipients"] == [{"address": "b@example.test", "state": "deferred", "status": "4.2.2",
                                    "response": "452 4.2.2 Mailbox full", "remote": "", "updated": 0}]
    text = tool("spool-ls", spool=spool).stdout.decode()
    assert "next attempt " in text and "(mailbox)" in text
    assert "<b@example.test> deferred 4.2.2 (452 4.2.2 Mailbox full)" in text


def test_requeue_one_and_all(spool):
    for n in range(3):
        put(spool, "deferred", mid(NOW, n), NOW, mtime=NOW + 600)
    one = ctl(spool, "requeue", mid(NOW, 0))
    assert one.returncode == 0 and one.stdout == b"requeued 1\n"
    empty_spool_except(spool, deferred=2, outgoing=1)
    again = ctl(spool, "requeue", mid(NOW, 0))
    assert again.returncode == 65 and b"not in deferred/" in again.stderr
    every = ctl(spool, "--json", "requeue", "--all")
    assert json.loads(every.stdout) == {"requeued": 2}
    empty_spool_except(spool, outgoing=3)
    assert ctl(spool, "requeue").returncode == 64


def test_hold_deferred_then_release_to_outgoing(spool):
    put(spool, "deferred", mid(NOW, 1), NOW, mtime=NOW + 600)
    assert ctl(spool, "hold", mid(NOW, 1), "--reason", "looks like spam").returncode == 0
    envelope, _ = relaytest.read_spool_file(spool / "hold" / mid(NOW, 1))
    assert envelope["hold-reason"] == ["looks like spam"] and envelope["hold-from"] == ["deferred"]
    assert ctl(spool, "release", mid(NOW, 1)).returncode == 0
    empty_spool_except(spool, outgoing=1)


def test_release_to_chosen_stage_and_errors(spool):
    put(spool, "hold", mid(NOW, 1), NOW)
    assert ctl(spool, "release", mid(NOW, 1), "--to", "tmp").returncode == 64
    assert ctl(spool, "release", mid(NOW, 1), "--to", "outgoing").returncode == 0
    empty_spool_except(spool, outgoing=1)
    assert ctl(spool, "release", mid(NOW, 1)).returncode == 65
    assert ctl(spool, "hold", "../etc/passwd").returncode == 65
    # Several ids: the good one is handled, the missing one reported, the worst code returned.
    put(spool, "incoming", mid(NOW, 2), NOW)
    mixed = ctl(spool, "delete", mid(NOW, 2), mid(NOW, 9))
    assert mixed.returncode == 65 and b"not in the spool" in mixed.stderr
    empty_spool_except(spool, outgoing=1)


def test_busy_message_is_not_touched(spool):
    put(spool, "active", mid(NOW, 1) + ":outgoing", NOW)
    for command in ("hold", "delete"):
        result = ctl(spool, command, mid(NOW, 1))
        assert result.returncode == 75 and b"a process is working on it" in result.stderr
    empty_spool_except(spool, active=1)


def test_show_json_and_envelope(spool):
    put(spool, "incoming", mid(NOW, 1), NOW)
    shown = json.loads(ctl(spool, "show", mid(NOW, 1), "--json").stdout)
    assert shown["id"] == mid(NOW, 1) and shown["stage"] == "incoming"
    assert shown["message"] == "Subject: t\r\n\r\nbody\r\n"
    envelope = ctl(spool, "show", "--envelope", mid(NOW, 1)).stdout
    assert envelope.startswith(b"version=1\n") and envelope.endswith(b"\n\n") and b"Subject" not in envelope


def test_purge_tmp_keeps_fresh_and_locked_files(spool):
    old = spool / "tmp" / "old"
    old.write_bytes(b"partial")
    os.utime(old, (NOW - 200000, NOW - 200000))
    fresh = spool / "tmp" / "fresh"
    fresh.write_bytes(b"partial")
    os.utime(fresh, (NOW - 60, NOW - 60))
    busy = spool / "tmp" / "busy"
    busy.write_bytes(b"being written")
    os.utime(busy, (NOW - 200000, NOW - 200000))
    with open(busy) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = ctl(spool, "purge-tmp")
    assert result.stdout == b"purged 1\n"
    assert sorted(relaytest.spool_files(spool, "tmp")) == ["busy", "fresh"]
    assert ctl(spool, "purge-tmp", "--max-age", "30s").stdout == b"purged 2\n"


def test_recover_puts_abandoned_entries_back(spool):
    abandoned = put(spool, "active", mid(NOW, 1) + ":outgoing", NOW)
    working = put(spool, "active", mid(NOW, 2) + ":incoming", NOW)
    with open(working) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        early = tool("spool-ctl", "recover", spool=spool)        # the lease has not run out yet
        assert early.stdout == b"recovered 0\n"
        late = tool("spool-ctl", "recover", "--now", str(int(abandoned.stat().st_ctime) + 601), spool=spool)
        assert late.stdout == b"recovered 1\n", late.stderr
    empty_spool_except(spool, outgoing=1, active=1)


def test_init_refuses_a_path_it_cannot_create(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = tool("spool-ctl", "init", spool=blocker / "spool")
    assert result.returncode == 75 and b"unable to create spool" in result.stderr
    missing = tool("spool-ctl", "stats", spool=tmp_path / "none")
    assert missing.returncode == 75 and b"spool-ctl init" in missing.stderr


def test_listing_goes_on_past_an_unreadable_envelope(spool):
    put(spool, "incoming", mid(NOW, 1), NOW)
    (spool / "incoming" / mid(NOW, 2)).write_bytes(b"not an envelope\n\nSubject: x\r\n")
    result = tool("spool-ls", "--json", spool=spool)
    assert result.returncode == 65
    assert [json.loads(line)["id"] for line in result.stdout.decode().splitlines()] == [mid(NOW, 1)]
    assert b"spool-ls: warning: unable to read envelope" in result.stderr
