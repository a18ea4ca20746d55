"""spool-run --stream with a filter that accepts relay-filter(7) pipelining: requests are sent
ahead of their verdicts, each verdict still reaches its own message, and a filter that dies or
garbles its answer mid-pipeline loses nothing: the awaited message goes back, the ones sent
after it go to the new filter. With the prepend extension only the added header comes back,
and the message is kept byte for byte behind it."""
import pathlib
import re

import pytest

import relaytest
from spooltools import empty_spool_except, inject_subjects, results, sendmail, tool

FILTER = str(pathlib.Path(__file__).with_name("pipelining_filter.py"))


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def seen(spool, name):
    """(subject the filter saw, its pid, whether a request was waiting) of an outgoing message."""
    _, message = relaytest.read_spool_file(spool / "outgoing" / name)
    subject, pid, ahead = re.match(rb"X-Seen: (\S+) (\d+) (yes|no)\r\n", message).groups()
    assert b"\r\nSubject: " + subject + b"\r\n" in message
    assert message.endswith(b"\r\n\r\nbody of " + subject + b"\r\n")
    return subject.decode(), pid, ahead == b"yes"


def test_requests_are_sent_ahead_and_verdicts_reach_their_messages(spool):
    subjects = ["wait"] + [f"ok{n}" for n in range(30)]
    ids = inject_subjects(spool, subjects)
    run = tool("spool-run", "--stream", "--", FILTER, spool=spool)
    assert run.returncode == 0, run.stderr
    assert set(results(run.stdout).values()) == {"passed"}
    for subject, name in ids.items():
        assert seen(spool, name)[0] == subject
    # The filter held back its first verdict: the next request came anyway.
    assert seen(spool, ids["wait"])[2]
    assert len({seen(spool, name)[1] for name in ids.values()}) == 1
    empty_spool_except(spool, outgoing=len(subjects))


def test_plain_handshake_gets_one_request_at_a_time(spool):
    ids = inject_subjects(spool, ["wait", "ok"])
    run = tool("spool-run", "--stream", "--", FILTER, spool=spool,
               env={"PIPELINING_FILTER_PLAIN": "1"}, timeout=60)
    assert run.returncode == 0, run.stderr
    assert not seen(spool, ids["wait"])[2], "a request came before the verdict without pipelining"
    assert seen(spool, ids["ok"])[0] == "ok"


def test_filter_dying_or_garbling_mid_pipeline_loses_nothing(spool):
    subjects = ["ok1", "hold", "ok2", "die", "ok3", "ok4", "garble", "ok5", "ok6"]
    ids = inject_subjects(spool, subjects)
    originals = {s: (spool / "incoming" / i).read_bytes() for s, i in ids.items()}
    run = tool("spool-run", "--stream", "--", FILTER, spool=spool)
    assert run.returncode == 0, run.stderr
    got = results(run.stdout)
    assert got[ids["hold"]] == "held held hold"
    assert got[ids["die"]] == "deferred filter ended"
    assert got[ids["garble"]] == "deferred filter broke the framing"
    passed = [s for s in subjects if s.startswith("ok")]
    assert [got[ids[s]] for s in passed] == ["passed"] * len(passed)
    # Each failure with several requests in flight restarts the filter once more, to find
    # which request it failed on: at least one restart per failure.
    assert run.stderr.count(b"restarting it") >= 2
    for subject in ("die", "garble"):
        assert (spool / "incoming" / ids[subject]).read_bytes() == originals[subject]
    # Every message that passed carries its own verdict; three filter processes served them.
    pids = set()
    for subject in passed:
        seen_subject, pid, _ = seen(spool, ids[subject])
        assert seen_subject == subject
        pids.add(pid)
    assert len(pids) >= 3
    empty_spool_except(spool, incoming=2, outgoing=len(passed), hold=1)


def test_filter_dying_with_verdicts_held_puts_back_only_its_own_message(spool):
    """The filter holds the verdicts of gather, ok1 and ok2 when it dies on die: spool-run
    cannot tell which request killed it, so it sends them again one at a time, and only die
    goes back."""
    subjects = ["gather", "ok1", "ok2", "die", "ok3"]
    ids = inject_subjects(spool, subjects)
    original = (spool / "incoming" / ids["die"]).read_bytes()
    run = tool("spool-run", "--stream", "--", FILTER, spool=spool, env={"PIPELINING_FILTER_BATCH": "1"})
    assert run.returncode == 0, run.stderr
    got = results(run.stdout)
    assert got[ids["die"]] == "deferred filter ended"
    assert [got[ids[s]] for s in subjects if s != "die"] == ["passed"] * 4
    assert b"messages in flight; restarting it, sending them one at a time" in run.stderr
    assert (spool / "incoming" / ids["die"]).read_bytes() == original
    empty_spool_except(spool, incoming=1, outgoing=4)


def test_max_stops_with_nothing_left_claimed(spool):
    inject_subjects(spool, [f"ok{n}" for n in range(10)])
    run = tool("spool-run", "--stream", "--max", "3", "--", FILTER, spool=spool)
    assert run.returncode == 0, run.stderr
    assert len(results(run.stdout)) == 3
    empty_spool_except(spool, incoming=7, outgoing=3)


def test_prepend_verdicts_keep_the_message_behind_the_added_bytes(spool):
    subjects = ["ok1", "same", "ok2"]
    ids = inject_subjects(spool, subjects)
    originals = {s: relaytest.read_spool_file(spool / "incoming" / i) for s, i in ids.items()}
    unchanged = (spool / "incoming" / ids["same"]).read_bytes()
    run = tool("spool-run", "--stream", "--", FILTER, spool=spool, env={"PIPELINING_FILTER_PREPEND": "1"})
    assert run.returncode == 0, run.stderr
    assert set(results(run.stdout).values()) == {"passed"}
    for subject in ("ok1", "ok2"):
        envelope, message = relaytest.read_spool_file(spool / "outgoing" / ids[subject])
        added, _, rest = message.partition(b"\r\n")
        assert added.startswith(b"X-Seen: " + subject.encode() + b" ")
        assert rest == originals[subject][1]
        assert envelope["size"] == [str(len(message))]
    # "0 +0": the message moves on as it was, envelope and all.
    assert (spool / "outgoing" / ids["same"]).read_bytes() == unchanged
    empty_spool_except(spool, outgoing=len(subjects))


def test_prepend_verdict_without_the_extension_breaks_the_framing(spool):
    ids = inject_subjects(spool, ["ok1", "ok2"])
    originals = {i: (spool / "incoming" / i).read_bytes() for i in ids.values()}
    run = tool("spool-run", "--stream", "--", FILTER, spool=spool, env={"PIPELINING_FILTER_PREPEND": "unasked"})
    assert run.returncode == 0, run.stderr
    assert set(results(run.stdout).values()) == {"deferred filter broke the framing"}
    for name, original in originals.items():
        assert (spool / "incoming" / name).read_bytes() == original
    empty_spool_except(spool, incoming=2)
