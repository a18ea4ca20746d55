"""--follow over a Maildir: each message is read once across runs, as a cron job needs."""
import fcntl
import json
import os
import pathlib
import subprocess

import relaytest

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def follow(maildir, *extra):
    return relaytest.run([relaytest.bin("bounce-parse"), "--json", "--follow", str(maildir), *extra])


def recipients(result):
    return [json.loads(line)["recipient"] for line in result.stdout.decode().splitlines()]


def make_maildir(root):
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def test_follow_reads_only_what_is_new(tmp_path):
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1.A.host").write_bytes((CORPUS / "postfix-user-unknown.eml").read_bytes())
    first = follow(maildir)
    assert first.returncode == 0, first.stderr
    assert recipients(first) == ["unknown1@remote.test"]
    state = (maildir / "bounce-parse.state").read_text().splitlines()
    assert state == ["bounce-parse-state 1", "1.A.host"]

    again = follow(maildir)
    assert again.returncode == 0 and again.stdout == b""

    # A mail reader moves the message to cur/ and adds flags: it is still the same message.
    os.rename(maildir / "new" / "1.A.host", maildir / "cur" / "1.A.host:2,S")
    (maildir / "new" / "2.B.host").write_bytes((CORPUS / "exim-remote-failure.eml").read_bytes())
    third = follow(maildir)
    assert third.returncode == 0
    assert recipients(third) == ["ivan@destination.example"]

    # Deleted messages leave the state, so it never grows beyond the Maildir.
    os.unlink(maildir / "cur" / "1.A.host:2,S")
    assert follow(maildir).stdout == b""
    assert (maildir / "bounce-parse.state").read_text().splitlines() == ["bounce-parse-state 1", "2.B.host"]


def test_follow_with_state_elsewhere_and_non_bounces(tmp_path):
    maildir = make_maildir(tmp_path / "Maildir")
    state = tmp_path / "state" / "bounces.state"
    state.parent.mkdir()
    (maildir / "new" / "1.A.host").write_bytes((CORPUS / "not-bounce-newsletter.eml").read_bytes())
    (maildir / "new" / "2.B.host").write_bytes((CORPUS / "arf-abuse.eml").read_bytes())
    result = follow(maildir, "--state", str(state))
    assert result.returncode == 65  # the newsletter, once
    assert recipients(result) == ["reader@isp.example"]
    assert not (maildir / "bounce-parse.state").exists()
    second = follow(maildir, "--state", str(state))
    assert second.returncode == 0 and second.stdout == b""  # the non-bounce was read too


def test_follow_refuses_to_overlap_with_a_running_one(tmp_path):
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1.A.host").write_bytes((CORPUS / "arf-abuse.eml").read_bytes())
    with open(maildir / "bounce-parse.state.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        busy = follow(maildir)
    assert busy.returncode == 75
    assert b"another bounce-parse --follow is running" in busy.stderr
    assert follow(maildir).returncode == 0


def test_follow_refuses_a_damaged_state(tmp_path):
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "bounce-parse.state").write_text("something else\n")
    result = follow(maildir)
    assert result.returncode == 65
    assert b"unable to read state file" in result.stderr


def test_follow_keeps_the_state_when_the_results_cannot_be_written(tmp_path):
    maildir = make_maildir(tmp_path / "Maildir")
    (maildir / "new" / "1.A.host").write_bytes((CORPUS / "arf-abuse.eml").read_bytes())
    with open("/dev/full", "wb") as full:
        failed = subprocess.run([relaytest.bin("bounce-parse"), "--json", "--follow", str(maildir)],
                                stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert failed.returncode == 75
    assert b"unable to write standard output" in failed.stderr
    assert not (maildir / "bounce-parse.state").exists()
    assert recipients(follow(maildir)) == ["reader@isp.example"]  # read again, not lost
