"""Overlapping runs over one spool: two spool-retry passes (one with --deliver) and an
mx-deliver run at once over 1,000 due deferred messages; every message reaches a counting
smtp-sink exactly once, none is lost or left behind."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

import relaytest
from retrykit import NOW, MESSAGE, write_deferred, stage

COUNT = 1000


def message(n):
    return MESSAGE.replace(b"<report.1@example.org>", f"<concurrency.{n}@example.org>".encode())


def summary_of(stdout):
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    return next(line for line in lines if line["action"] == "summary")


@pytest.fixture
def sink_dir():
    """A directory smtp-sink (running as nobody) can write into: pytest's tmp_path is 0700."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="spool-retry-sink."))
    os.chmod(d, 0o755)
    yield d / "sink"
    shutil.rmtree(d, ignore_errors=True)


def test_two_retry_runs_and_mx_deliver_deliver_each_message_once(tmp_path, procs, sink_dir):
    spool = relaytest.make_spool(tmp_path / "spool")
    _, port = relaytest.start_smtp_sink(procs, sink_dir, options=("-c",), backlog=200)
    ids = [write_deferred(spool, arrival=NOW - 600, next_attempt=NOW - 1 - n % 50,
                          message=message(n)) for n in range(COUNT)]
    deliver_args = ["--route", f"remote.test=127.0.0.1:{port}", "--tls", "none", "--hostname", "relay.example.org",
                    "--concurrency", "10"]
    retry = [relaytest.bin("spool-retry"), "--spool", str(spool), "--now", str(NOW), "--json", "--delay-warning", "0"]
    runs = [
        subprocess.Popen(retry, stdout=subprocess.PIPE, stderr=subprocess.PIPE),
        subprocess.Popen(retry + ["--deliver", "--mx-deliver", relaytest.bin("mx-deliver"), "--", *deliver_args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE),
        subprocess.Popen([relaytest.bin("mx-deliver"), "--spool", str(spool), *deliver_args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE),
    ]
    outputs = []
    for run in runs:
        procs.add(run)
        out, err = run.communicate(timeout=120)
        outputs.append((run.returncode, out, err))
    for code, out, err in outputs[:2]:
        assert code == 0, err.decode()
    assert outputs[2][0] in (0, 75), outputs[2][2].decode()
    summaries = [summary_of(outputs[0][1]), summary_of(outputs[1][1])]
    moved = summaries[0]["moved"] + summaries[1]["moved"]
    assert moved == COUNT, "a message was moved twice or not at all"

    # Whatever the racing mx-deliver runs skipped (a file another process held) goes now.
    final = relaytest.run([relaytest.bin("mx-deliver"), "--spool", str(spool), *deliver_args], timeout=120)
    assert final.returncode == 0, final.stderr.decode()
    for s in ("deferred", "outgoing", "active", "failed", "incoming"):
        assert stage(spool, s) == [], f"{s}/ is not empty"
    assert sorted(stage(spool, "sent")) == sorted(ids)

    dumps = relaytest.sink_messages(sink_dir)
    seen = [re.search(rb"Message-ID: <concurrency\.(\d+)@", p.read_bytes()).group(1) for p in dumps]
    assert len(seen) == COUNT and len(set(seen)) == COUNT, f"{len(seen)} delivered, {len(set(seen))} distinct"
