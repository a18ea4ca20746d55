"""spool-run --stream with a small Python filter that speaks relay-filter(7) version 1:
one process for many messages, verdicts by frame, and a filter that dies, hangs or garbles
its answer is replaced while the message in flight goes back untouched."""
import pathlib
import re

import pytest

import relaytest
from spooltools import empty_spool_except, inject_subjects, results, sendmail, tool

FILTER = str(pathlib.Path(__file__).with_name("stream_filter.py"))


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def test_one_process_for_many_messages(spool):
    ids = inject_subjects(spool, [f"ok{n}" for n in range(20)])
    run = tool("spool-run", "--stream", "--", FILTER, spool=spool)
    assert run.returncode == 0, run.stderr
    assert set(results(run.stdout).values()) == {"passed"}
    pids, counts = set(), []
    for subject, name in ids.items():
        _, message = relaytest.read_spool_file(spool / "outgoing" / name)
        pid, count = re.match(rb"X-Stream-Filter: (\d+) (\d+)\r\n", message).groups()
        pids.add(pid)
        counts.append(int(count))
        assert message.endswith(b"\r\n\r\nbody of %s\r\n" % subject.encode())
    assert len(pids) == 1 and sorted(counts) == list(range(1, 21))
    empty_spool_except(spool, outgoing=20)


def test_verdicts_and_a_filter_that_dies_or_garbles(spool):
    ids = inject_subjects(spool, ["ok1", "hold", "defer", "die", "ok2", "garble", "ok3"])
    originals = {s: (spool / "incoming" / i).read_bytes() for s, i in ids.items()}
    run = tool("spool-run", "--stream", "--", FILTER, spool=spool)
    assert run.returncode == 0, run.stderr
    got = results(run.stdout)
    assert got[ids["hold"]] == "held policy says no"
    assert got[ids["defer"]] == "deferred later"
    assert got[ids["die"]] == "deferred filter ended"
    assert got[ids["garble"]] == "deferred filter broke the framing"
    assert [got[ids[s]] for s in ("ok1", "ok2", "ok3")] == ["passed"] * 3
    assert run.stderr.count(b"restarting it") == 2
    # The messages in flight when the filter died or garbled are back, byte for byte.
    for subject in ("defer", "die", "garble"):
        assert (spool / "incoming" / ids[subject]).read_bytes() == originals[subject]
    envelope, _ = relaytest.read_spool_file(spool / "hold" / ids["hold"])
    assert envelope["hold-reason"] == ["policy says no"]
    empty_spool_except(spool, incoming=3, outgoing=3, hold=1)
    # ok3 came after two restarts: a third process served it.
    pids = {relaytest.read_spool_file(spool / "outgoing" / ids[s])[1].split(b" ")[1] for s in ("ok1", "ok2", "ok3")}
    assert len(pids) == 3


def test_hung_filter_is_replaced_after_timeout(spool):
    ids = inject_subjects(spool, ["slow", "ok"])
    run = tool("spool-run", "--stream", "--timeout", "1s", "--", FILTER, spool=spool, timeout=30)
    got = results(run.stdout)
    assert got[ids["slow"]] == "deferred filter timed out"
    assert got[ids["ok"]] == "passed"
    empty_spool_except(spool, incoming=1, outgoing=1)


def test_filter_without_protocol_stops_the_run(spool):
    ids = inject_subjects(spool, ["ok"])
    run = tool("spool-run", "--stream", "--", "sh", "-c", "exit 1", spool=spool)
    assert run.returncode == 75
    assert b"did not answer the relay-filter handshake" in run.stderr
    assert relaytest.spool_files(spool, "incoming") == [ids["ok"]]
    empty_spool_except(spool, incoming=1)


def test_plain_filter_refuses_streaming_environment(spool, tmp_path):
    # The same Python filter run per message: it sees no RELAY_FILTER_PROTOCOL and exits 64 -> hold.
    ids = inject_subjects(spool, ["ok"])
    run = tool("spool-run", "--", FILTER, spool=spool)
    assert results(run.stdout)[ids["ok"]] == "held filter exited with 64"
