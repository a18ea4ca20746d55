"""--loop with readiness on a descriptor, passes every --interval, a clean stop on SIGTERM;
a deferred file whose envelope cannot be read is parked in hold/, not retried forever."""
import os
import select
import signal
import subprocess
import time

import pytest

import relaytest
from retrykit import NOW, write_deferred, retry_json, stage


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def read_line(fd, deadline):
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        assert left > 0, f"no line in time: {data!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        assert chunk, f"closed before a line: {data!r}"
        data += chunk
    return data


def test_loop_signals_readiness_runs_passes_and_stops_on_sigterm(spool, procs):
    first = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 1)
    ready_r, ready_w = os.pipe()
    proc = procs.start([relaytest.bin("spool-retry"), "--spool", str(spool), "--now", str(NOW), "--loop",
                        "--interval", "1", "--notify-fd", str(ready_w)],
                       pass_fds=(ready_w,), stderr=subprocess.PIPE)
    os.close(ready_w)
    deadline = time.monotonic() + 20
    assert read_line(ready_r, deadline) == b"\n"
    assert os.read(ready_r, 1) == b""          # closed after the newline
    os.close(ready_r)
    assert stage(spool, "outgoing") == [first]   # the first pass was done before readiness

    second = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 1)
    log = b""
    while f"id={second} action=move".encode() not in log:
        log += read_line(proc.stderr.fileno(), deadline)
    assert sorted(stage(spool, "outgoing")) == sorted([first, second])

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_unreadable_envelope_goes_to_hold(spool):
    good = write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 1)
    bad = "1764399000.000001.1_1.broken-host"
    path = spool / "deferred" / bad
    path.write_bytes(b"this is not an envelope\n\nFrom: x@example.org\r\n\r\nbody\r\n")
    os.utime(path, (NOW - 5, NOW - 5))
    events = retry_json(spool)
    by_id = {e.get("id"): e for e in events}
    assert by_id[bad]["action"] == "hold" and "envelope" in by_id[bad]["detail"]
    assert by_id[good]["action"] == "move"
    assert stage(spool, "hold") == [bad] and stage(spool, "outgoing") == [good]
    assert events[-1]["held"] == 1


def test_file_that_is_no_queue_id_is_left_alone(spool):
    stray = spool / "deferred" / "notes:by the operator"
    stray.write_bytes(b"version=1\nid=x\n\nhello\n")
    os.utime(stray, (NOW - 5, NOW - 5))
    events = retry_json(spool)
    assert events[0]["action"] == "ignore" and events[-1]["ignored"] == 1 and events[-1]["errors"] == 0
    assert stage(spool, "deferred") == ["notes:by the operator"] and stage(spool, "outgoing") == []
