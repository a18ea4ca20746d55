"""spool-retry's schedule, with the clock moved by --now: due mail goes back to outgoing/,
early schedules are corrected within the jitter, reply-named times are honoured, hand-set
times are left alone, --dry-run changes nothing, the nothing-due hint, lease recovery."""
import json
import os
import pathlib
import time

import pytest

import relaytest
from retrykit import NOW, DAY, write_deferred, retry, retry_json, stage, mtime, envelope

# Exponential from 300 s, doubling, at most 4000 s; jitter keeps each wait in
# [max(300, 0.8 d), min(4000, 1.2 d)].
STANDARD = [300, 600, 1200, 2400, 4000, 4000, 4000]


def window(d):
    return max(300, d * 4 // 5), min(4000, d * 6 // 5)


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def test_repeated_deferrals_follow_the_backoff(spool):
    """A message deferred again and again (unscheduled, as a deferrer that leaves the schedule
    to spool-retry writes it) is due at last attempt + the n-th backoff, within its jitter;
    never moved before, always moved when due."""
    arrival = NOW - 60
    msg_id = None
    last = NOW
    waits = []
    for n in range(1, 8):
        msg_id = write_deferred(spool, arrival=arrival, next_attempt=last, last_attempt=last, attempts=n,
                                schedule_recorded=False, msg_id=msg_id)
        retry(spool, now=last + 1, *["--max-age", "30d", "--delay-warning", "0"])
        assert stage(spool, "deferred") == [msg_id]
        due = mtime(spool, "deferred", msg_id)
        assert "next-attempt" not in envelope(spool, "deferred", msg_id)   # only the file's time changed
        low, high = window(STANDARD[n - 1])
        assert last + low <= due <= last + high, f"attempt {n}: wait {due - last} not in [{low}, {high}]"
        waits.append(due - last)
        retry(spool, now=due - 1, *["--max-age", "30d", "--delay-warning", "0"])
        assert stage(spool, "outgoing") == [], f"attempt {n}: moved a second early"
        retry(spool, now=due, *["--max-age", "30d", "--delay-warning", "0"])
        assert stage(spool, "outgoing") == [msg_id] and stage(spool, "deferred") == []
        (spool / "outgoing" / msg_id).unlink()    # "delivered" and deferred again below
        last = due
    assert waits[4] > waits[0]


def test_early_schedule_is_corrected(spool):
    """mx-deliver scheduled the 4th retry 300 s out; the backoff says about 2400 s: when the
    file comes due it is put back until then, not moved."""
    last = NOW - 300
    msg_id = write_deferred(spool, arrival=NOW - 3 * 3600, next_attempt=NOW, last_attempt=last, attempts=4)
    inode = (spool / "deferred" / msg_id).stat().st_ino
    events = retry_json(spool, "--delay-warning", "0")
    assert [e["action"] for e in events] == ["reschedule", "summary"]
    due = mtime(spool, "deferred", msg_id)
    low, high = window(2400)
    assert last + low <= due <= last + high
    assert events[0]["next_attempt"] == due
    assert (spool / "deferred" / msg_id).stat().st_ino == inode        # set in place, not rewritten
    # When that time comes it is moved, not rescheduled again.
    assert [e["action"] for e in retry_json(spool, "--delay-warning", "0", now=due)] == ["move", "summary"]


def test_close_enough_schedule_is_kept(spool):
    """The first retry 300 s after the attempt is within the jitter: moved, not rewritten."""
    msg_id = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW, last_attempt=NOW - 300, attempts=1)
    retry(spool)
    assert stage(spool, "outgoing") == [msg_id]


def test_time_set_by_hand_is_honoured(spool):
    """An operator made it due now (the file's time differs from the envelope's): moved even
    though the backoff would wait longer."""
    msg_id = write_deferred(spool, arrival=NOW - 3600, next_attempt=NOW + 2000, last_attempt=NOW - 60, attempts=5)
    os.utime(spool / "deferred" / msg_id, (NOW - 5, NOW - 5))
    retry(spool)
    assert stage(spool, "outgoing") == [msg_id]


def test_reply_named_retry_time_is_honoured(spool):
    """"try again in 2 hours" waits 2 h (more than --max-backoff), with at most 10% jitter."""
    last = NOW - 300
    recipients = [dict(address="bob@remote.test", state="deferred", status="4.7.0",
                       response="421 4.7.0 Too busy, please try again in 2 hours", remote="mx.remote.test[127.0.0.2]:25")]
    msg_id = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW, last_attempt=last, recipients=recipients)
    retry(spool, "--delay-warning", "0")
    due = mtime(spool, "deferred", msg_id)
    assert last + 7200 <= due <= last + 7920


def test_greylisting_retries_at_the_minimum(spool):
    """A 451 4.7.1 greylisting reply: the third retry still waits only about 5 minutes."""
    last = NOW - 300
    recipients = [dict(address="bob@remote.test", state="deferred", status="4.7.1",
                       response="451 4.7.1 Greylisted, please come back later", remote="mx.remote.test[127.0.0.2]:25")]
    msg_id = write_deferred(spool, arrival=NOW - 1200, next_attempt=last, last_attempt=last, attempts=3,
                            recipients=recipients, schedule_recorded=False)
    events = retry_json(spool, "--delay-warning", "0")
    assert events[0]["action"] == "reschedule" and events[0]["detail"] == "greylist"
    assert last + 300 <= mtime(spool, "deferred", msg_id) <= last + 360


def test_dry_run_lists_every_message_and_changes_nothing(spool):
    due_id = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 10)
    later_id = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW + 3600)
    old_id = write_deferred(spool, arrival=NOW - 6 * DAY, next_attempt=NOW - 10)
    before = {s: stage(spool, s) for s in relaytest.STAGES}
    _, text, _ = retry(spool, "--dry-run")
    lines = text.splitlines()
    assert lines[0].split() == ["ID", "NEXT-ATTEMPT", "DUE", "ACTION"]
    by_id = {line.split()[0]: line for line in lines[1:-1]}
    assert "expire" in by_id[old_id]
    assert by_id[due_id].split()[-2:] == ["move", "(other)"]
    assert "wait" in by_id[later_id] and "2025-11-29T08:06:40Z" in by_id[later_id] and "in 1h00m" in by_id[later_id]
    assert lines[-1].startswith("3 deferred, 2 due")
    events = retry_json(spool, "--dry-run")
    assert {e["id"]: e["action"] for e in events if e["action"] != "summary"} == {
        due_id: "move", later_id: "wait", old_id: "expire"}
    assert next(e for e in events if e["id"] == later_id if "id" in e)["next_attempt"] == NOW + 3600
    assert all(e.get("dry_run") for e in events)
    assert {s: stage(spool, s) for s in relaytest.STAGES} == before


def test_nothing_due_skips_the_scan_until_deferred_changes(spool):
    for i in range(20):
        write_deferred(spool, arrival=NOW - 600, next_attempt=NOW + 600 + i)
    old = time.time() - 10      # deferred/ has been quiet: the hint may be trusted
    os.utime(spool / "deferred", (old, old))
    first = retry_json(spool)[-1]
    assert first["scanned"] == 20 and not first["index_skip"] and first["next_due"] == NOW + 600
    second = retry_json(spool)[-1]
    assert second["index_skip"] and second["scanned"] == 0
    # A new deferred message changes the directory: the next run scans again and moves it.
    new_id = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 1)
    third = retry_json(spool)[-1]
    assert not third["index_skip"] and third["moved"] == 1
    assert stage(spool, "outgoing") == [new_id]
    # Time passing the earliest next attempt also ends the shortcut.
    os.utime(spool / "deferred", (old, old))
    retry_json(spool)
    assert retry_json(spool)[-1]["index_skip"]
    assert retry_json(spool, now=NOW + 600)[-1]["moved"] == 1


def test_expired_lease_in_active_is_recovered(spool):
    """A claimer that died left a message in active/: after the lease it goes back."""
    msg_id = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW + 900)
    os.rename(spool / "deferred" / msg_id, spool / "active" / f"{msg_id}:deferred")
    real_now = int(time.time())
    summary = retry_json(spool, "--lease", "10m", now=real_now + 590)[-1]
    assert summary["recovered"] == 0 and stage(spool, "active") == [f"{msg_id}:deferred"]
    summary = retry_json(spool, "--lease", "10m", "--max-age", "3650d", "--delay-warning", "0", now=real_now + 601)[-1]
    assert summary["recovered"] == 1 and stage(spool, "active") == []
    # Back in deferred/ and, its time long past, due in the same pass.
    assert summary["moved"] == 1 and stage(spool, "outgoing") == [msg_id]


def test_usage_errors_exit_64(spool):
    for args in (["--min-backoff", "5x"], ["--min-backoff", "600", "--max-backoff", "300"], ["--bogus"],
                 ["--mx-deliver", "/bin/true"]):
        code, _, err = retry(spool, *args, check_codes=(64,))
        assert "spool-retry: fatal: unable to" in err


def test_missing_spool_is_temporary(tmp_path):
    code, _, err = retry(tmp_path / "nowhere", check_codes=(75,))
    assert "fatal: unable to open spool" in err


def test_index_stats_only_new_or_replaced_files(spool):
    ids = [write_deferred(spool, arrival=NOW - 600, next_attempt=NOW + 600 + i) for i in range(30)]
    first = retry_json(spool)[-1]
    assert first["scanned"] == 30 and first["stats"] == 30
    write_deferred(spool, arrival=NOW - 600, next_attempt=NOW + 900)          # a new file
    write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 5, msg_id=ids[7])  # deferred again, due now
    second = retry_json(spool)
    assert second[-1]["scanned"] == 31 and second[-1]["stats"] == 2
    assert [e["id"] for e in second if e["action"] == "move"] == [ids[7]]
    # --full-scan reads every file's time again.
    assert retry_json(spool, "--full-scan")[-1]["stats"] == 30


def test_index_follows_the_directory_order_across_removals_and_additions(spool):
    """2,000 files (a hashed directory on ext4): files removed in a run longer than the
    index's look-ahead, others replaced and new ones added; the next pass stats only the new
    and the replaced files and moves exactly the due ones."""
    ids = [write_deferred(spool, arrival=NOW - 600, next_attempt=NOW + 600 + i % 100) for i in range(2000)]
    assert retry_json(spool)[-1]["stats"] == 2000
    listed = os.listdir(spool / "deferred")
    for name in listed[500:600]:        # 100 neighbours in directory order
        os.unlink(spool / "deferred" / name)
    replaced = listed[1000:1010]
    for name in replaced:                # deferred again, due now: a new file under the same name
        write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 5, msg_id=name)
    added = [write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 5) for _ in range(15)]
    events = retry_json(spool)
    assert events[-1]["scanned"] == 1915 and events[-1]["stats"] == 25
    assert sorted(e["id"] for e in events if e["action"] == "move") == sorted(replaced + added)
    assert len(ids) == 2000 and events[-1]["next_due"] == NOW + 600


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_damaged_index_costs_a_stat_per_file_never_a_wrong_time(spool, damage):
    """The index is rewritten in place: a torn or damaged one (a byte changed, cut short,
    overwritten) is recognised by its checksums and ignored."""
    ids = [write_deferred(spool, arrival=NOW - 600, next_attempt=NOW + 600) for _ in range(40)]
    retry_json(spool)
    index = spool / ".retry-index"
    data = bytearray(index.read_bytes())
    assert len(data) > 40 * 24
    if damage == "flip":
        data[-24 * 5 + 17] ^= 0x40       # the time of one file's slot
    elif damage == "truncate":
        data = data[: len(data) - 24]
    else:
        data[:64] = b"\xff" * 64
    index.write_bytes(bytes(data))
    # Every file made due in place (same inode): only a stat per file can see it.
    for msg_id in ids:
        os.utime(spool / "deferred" / msg_id, (NOW - 1, NOW - 1))
    events = retry_json(spool)
    assert events[-1]["stats"] == 40 and events[-1]["moved"] == 40
    assert sorted(stage(spool, "outgoing")) == sorted(ids)
