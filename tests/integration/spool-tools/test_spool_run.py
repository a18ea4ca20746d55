"""spool-run in per-message mode: the environment a filter sees, every exit path of a filter,
and the promise that the original message is never lost or replaced by partial output."""
import os
import select
import signal
import subprocess
import time

import pytest

import relaytest
from spooltools import empty_spool_except, sendmail, tool


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def inject(spool, subject, *extra, to="rcpt@example.test"):
    result = sendmail(spool, "-fapp@example.test", *extra, to, input=f"Subject: {subject}\n\nbody of {subject}\n".encode())
    assert result.returncode == 0, result.stderr
    return relaytest.spool_files(spool, "incoming")


def spool_run(spool, *args, timeout=60):
    return tool("spool-run", *args, spool=spool, timeout=timeout)


def script(tmp_path, text):
    path = tmp_path / "filter.sh"
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)
    return str(path)


def test_filter_sees_envelope_in_environment(spool, tmp_path):
    inject(spool, "env", "second@example.test")
    [msg_id] = relaytest.spool_files(spool, "incoming")
    f = script(tmp_path, 'printf "X-Env: %s|%s|%s|%s|%s|%s\\r\\n" "$RELAY_SPOOL" "$RELAY_STAGE" "$RELAY_ID" '
                         '"$RELAY_SENDER" "$RELAY_AUTH_USER" "${RELAY_FILTER_PROTOCOL-unset}"\n'
                         'printf "X-Rcpts: %s\\r\\n" "$(echo "$RELAY_RECIPIENTS" | tr "\\n" ,)"\nexec cat\n')
    result = relaytest.run([relaytest.bin("spool-run"), "--spool", str(spool), "--", f],
                           env={"RELAY_FILTER_PROTOCOL": "1", "RELAY_ID": "stale"})
    assert result.returncode == 0, result.stderr
    _, message = relaytest.read_spool_file(spool / "outgoing" / msg_id)
    assert message.startswith(f"X-Env: {spool}|incoming|{msg_id}|app@example.test||unset\r\n".encode())
    assert b"X-Rcpts: second@example.test,rcpt@example.test,\r\n" in message


def test_exit_codes_hold_defer_and_crash(spool, tmp_path):
    for subject in ("hold", "defer", "crash", "empty", "pass"):
        inject(spool, subject)
    originals = {name: (spool / "incoming" / name).read_bytes() for name in relaytest.spool_files(spool, "incoming")}
    f = script(tmp_path, """
msg=$(cat)
case "$msg" in
  *"Subject: hold"*) echo "first line" >&2; echo "sender $RELAY_SENDER is blocked" >&2; exit 65;;
  *"Subject: defer"*) exit 75;;
  *"Subject: crash"*) printf 'partial output'; kill -9 $$;;
  *"Subject: empty"*) exit 0;;
esac
printf '%s\\r\\n' "$msg"
""")
    result = spool_run(spool, "--json", "--", f)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 5
    statuses = sorted(line.split('"status":"')[1].split('"')[0] for line in lines)
    assert statuses == ["deferred", "deferred", "held", "held", "passed"]
    empty_spool_except(spool, incoming=2, outgoing=1, hold=2)
    # Deferred and crashed messages are back in incoming/, byte for byte.
    for name in relaytest.spool_files(spool, "incoming"):
        assert (spool / "incoming" / name).read_bytes() == originals[name]
    reasons = []
    for name in relaytest.spool_files(spool, "hold"):
        envelope, message = relaytest.read_spool_file(spool / "hold" / name)
        assert originals[name].endswith(message)
        assert envelope["hold-from"] == ["incoming"]
        reasons.append(envelope["hold-reason"][0])
    assert sorted(reasons) == ["filter exited with 65: sender app@example.test is blocked",
                                        "filter wrote no message"]
    assert b"sender app@example.test is blocked" in result.stderr  # the filter's stderr is passed on


def test_held_message_keeps_its_bytes_and_releases_to_incoming(spool, tmp_path):
    [name] = inject(spool, "keep")
    original = (spool / "incoming" / name).read_bytes()
    result = spool_run(spool, "--", "sh", "-c", "cat >/dev/null; exit 100")
    assert result.returncode == 0
    _, held_message = relaytest.read_spool_file(spool / "hold" / name)
    assert original.endswith(held_message)
    assert tool("spool-ctl", "release", name, spool=spool).returncode == 0
    assert (spool / "incoming" / name).read_bytes() == original


def test_timeout_kills_filter_and_keeps_message(spool):
    [name] = inject(spool, "slow")
    original = (spool / "incoming" / name).read_bytes()
    started = time.monotonic()
    result = spool_run(spool, "--timeout", "1s", "--", "sleep", "30")
    assert time.monotonic() - started < 10
    assert result.returncode == 0
    assert b"deferred filter timed out after 1 s" in result.stdout
    empty_spool_except(spool, incoming=1)
    assert (spool / "incoming" / name).read_bytes() == original


def test_output_limit_holds(spool):
    inject(spool, "big")
    result = spool_run(spool, "--max-size", "1000", "--", "sh", "-c", "cat >/dev/null; head -c 5000 /dev/zero")
    assert result.returncode == 0
    assert b"held filter output larger than 1000 bytes" in result.stdout
    empty_spool_except(spool, hold=1)


def test_filter_that_ignores_input_still_counts(spool):
    # 1 MB message, filter never reads it: spool-run must not block or die of SIGPIPE.
    result = sendmail(spool, "x@example.test", input=b"Subject: big\n\n" + (b"y" * 999 + b"\n") * 1000)
    assert result.returncode == 0
    run = spool_run(spool, "--", "printf", "Subject: replaced\\r\\n\\r\\nnew\\r\\n")
    assert run.returncode == 0, run.stderr
    [name] = relaytest.spool_files(spool, "outgoing")
    _, message = relaytest.read_spool_file(spool / "outgoing" / name)
    assert message == b"Subject: replaced\r\n\r\nnew\r\n"


def test_max_limits_the_run(spool):
    for n in range(3):
        inject(spool, f"m{n}")
    result = spool_run(spool, "--max", "2", "--", "cat")
    assert result.returncode == 0
    empty_spool_except(spool, incoming=1, outgoing=2)


def test_missing_filter_is_config_error_and_keeps_mail(spool):
    inject(spool, "m")
    result = spool_run(spool, "--", "/nonexistent/filter")
    assert result.returncode == 78
    assert b"unable to start filter /nonexistent/filter" in result.stderr
    empty_spool_except(spool, incoming=1)


@pytest.mark.parametrize("args", [["--from", "incoming", "--to", "incoming", "--", "cat"],
                                  ["--from", "nowhere", "--", "cat"], ["--timeout", "soon", "--", "cat"], []])
def test_usage_errors(spool, args):
    assert spool_run(spool, *args).returncode == 64


def test_two_runs_at_once_handle_each_message_once(spool):
    for n in range(40):
        inject(spool, f"c{n}")
    argv = [relaytest.bin("spool-run"), "--spool", str(spool), "--", "sh", "-c", "sleep 0.01; cat"]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [r.communicate(timeout=120)[0].decode().split("\n") for r in runs]
    passed = [line.split()[0] for out in outputs for line in out if line.endswith(" passed")]
    assert len(passed) == 40 and len(set(passed)) == 40
    assert all(outputs), "both runs should have taken part"
    empty_spool_except(spool, outgoing=40)


def test_loop_waits_for_new_mail_and_stops_on_term(spool):
    proc = subprocess.Popen([relaytest.bin("spool-run"), "--spool", str(spool), "--loop", "--", "cat"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        inject(spool, "late")
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "spool-run --loop did not pick up the new message"
        name, status = proc.stdout.readline().decode().split()
        assert status == "passed" and (spool / "outgoing" / name).exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    empty_spool_except(spool, outgoing=1)


def test_full_disk_during_rewrite_keeps_the_original(tmp_path):
    # The filter's output does not fit a 128 KiB tmpfs (testing.md recipe 7): the run stops with
    # 75, the original is back in incoming/ and tmp/ is empty.
    disk = tmp_path / "disk"
    disk.mkdir()
    script = f"""
        mount -t tmpfs -o size=128k tmpfs {disk} || exit 99
        {relaytest.bin('spool-ctl')} --spool {disk}/spool init || exit 98
        printf 'Subject: grow\\n\\nsmall\\n' | {relaytest.bin('relay-sendmail')} --spool {disk}/spool x@example.test || exit 97
        before=$(cat {disk}/spool/incoming/*)
        {relaytest.bin('spool-run')} --spool {disk}/spool -- sh -c 'cat; head -c 400000 /dev/zero'
        echo "run=$?"
        [ "$before" = "$(cat {disk}/spool/incoming/*)" ] && echo same
        echo "tmp=$(ls {disk}/spool/tmp | wc -l) incoming=$(ls {disk}/spool/incoming | wc -l) active=$(ls {disk}/spool/active | wc -l)"
    """
    result = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, timeout=60)
    out = result.stdout.decode()
    assert "run=75" in out, (out, result.stderr)
    assert b"No space left on device" in result.stderr
    assert "same" in out and "tmp=0 incoming=1 active=0" in out, out
