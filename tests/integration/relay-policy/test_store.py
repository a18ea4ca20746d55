"""The store under concurrency and damage: 8 processes hammering one user's limit never let
more through than the limit; SIGKILL in the middle of updates leaves a usable store whose
counts match the answers given; a missing, empty, truncated or corrupt store fails closed
(or open, with a warning, when configured); a full disk fails the store's creation."""
import os
import shutil
import signal
import subprocess
import threading

import relaytest
from policykit import MESSAGE, NOW, actions, check, make_policy, postfix_request, rp

HAMMERERS = 8


def end_of_message(i, user="app"):
    return postfix_request("END-OF-MESSAGE", user=user, instance=f"m{i}", recipient_count=1)


def start_hammer(policy, requests, now=NOW):
    """A relay-policy serve process on stdin/stdout, fed requests by a writer thread; its
    diagnostics go to a file beside the policy."""
    args = [relaytest.bin("relay-policy"), "--policy", str(policy), "--now", str(now), "serve"]
    with open(policy.parent / "serve.log", "ab") as log:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    def feed():
        try:
            for r in requests:
                proc.stdin.write(r)
            proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    return proc, writer


def test_eight_processes_never_exceed_the_limit(tmp_path):
    p = make_policy(tmp_path, "[defaults]\nsender-domains = *\nuser-messages = 500/day\n")
    procs = [start_hammer(p, [end_of_message(i) for i in range(200)]) for _ in range(HAMMERERS)]
    results = []
    for proc, writer in procs:
        out = proc.stdout.read()
        assert proc.wait(90) == 0
        writer.join(10)
        results += actions(out)
    assert len(results) == HAMMERERS * 200
    accepted = results.count("DUNNO")
    assert accepted == 500   # not one more than the limit, and none lost to a race
    assert all(a.startswith("451 4.7.1 rate limit user-messages 500/day") for a in results if a != "DUNNO")
    explain = rp(p, "explain", "--user", "app").stdout.decode()
    assert "used 500/500" in explain


def test_sigkill_mid_update_leaves_a_usable_store(tmp_path):
    p = make_policy(tmp_path, "[defaults]\nsender-domains = *\nuser-messages = 1000000/day\n")
    rp(p, "suppress", "--add", "gone@example.test")
    procs = [start_hammer(p, [end_of_message(i) for i in range(20000)]) for _ in range(HAMMERERS)]
    seen = 0
    for proc, writer in procs:
        # Read some answers, so the process is in the middle of its stream, then kill it.
        got = b""
        while got.count(b"\n\n") < 200:
            chunk = proc.stdout.read1(65536)
            assert chunk, (p.parent / "serve.log").read_text()
            got += chunk
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read()
        assert proc.wait(30) == -signal.SIGKILL
        writer.join(10)
        seen += actions(got + rest.rpartition(b"\n\n")[0] + b"\n\n").count("DUNNO")
    # Every answer given was committed; at most one commit per process was not answered yet.
    used = int(rp(p, "explain", "--user", "app").stdout.decode().split("used ")[1].split("/")[0])
    assert seen <= used <= seen + HAMMERERS
    code, out = check(p, "--user", "app", "--sender", "a@shop.example", "--rcpt", "gone@example.test")
    assert code == 100 and "suppression list" in out   # the suppression list survived
    code, out = check(p, "--user", "app", "--sender", "a@shop.example", "--rcpt", "b@example.test")
    assert code == 0, out
    assert rp(p, "purge").returncode == 0


def test_missing_store_fails_closed(tmp_path):
    p = make_policy(tmp_path, "[defaults]\nsender-domains = *\nuser-messages = 10/day\n", init=False)
    args = ["--user", "app", "--sender", "a@shop.example", "--rcpt", "b@example.test"]
    r = rp(p, "check", *args, input=MESSAGE)
    assert r.returncode == 75
    assert r.stdout.decode().strip() == "defer 451 4.3.0 policy store unavailable, try again later [store]"
    assert b"is missing" in r.stderr and b"relay-policy init" in r.stderr
    r = rp(p, "--fail-open", "check", *args, input=MESSAGE)
    assert r.returncode == 0
    assert b"warning: accepting without rate limits or suppression list" in r.stderr
    assert rp(p, "suppress", "--list").returncode == 75


def test_corrupt_store_fails_closed_until_recreated(tmp_path):
    p = make_policy(tmp_path, "[defaults]\nsender-domains = *\nuser-messages = 10/day\n")
    args = ["--user", "app", "--sender", "a@shop.example", "--rcpt", "b@example.test"]
    assert check(p, *args)[0] == 0
    data = tmp_path / "store" / "data.mdb"
    # The file is sparse (LMDB maps it whole): damage its first pages, or cut it short.
    damages = {
        "garbage": lambda: data.write_bytes(b"\x5a" * 65536),
        "empty": lambda: os.truncate(data, 0),
        "truncated": lambda: os.truncate(data, 3 * 4096),
    }
    for name, damage in damages.items():
        assert rp(p, "init", "--force", "--size", "4M").returncode == 0
        for i in range(20):   # enough counters that the tree has pages beyond the third
            check(p, "--user", f"u{i}", *args[2:])
        damage()
        r = rp(p, "check", *args, input=MESSAGE)
        assert r.returncode == 75, (name, r.stdout, r.stderr)
        assert b"451 4.3.0" in r.stdout, name
        r = rp(p, "serve", input=postfix_request("RCPT", user="app"))
        assert actions(r.stdout) == ["451 4.3.0 policy store unavailable, try again later"], name
    # on-store-error = accept in the file does what --fail-open does.
    opened = tmp_path / "open.conf"
    opened.write_text(p.read_text().replace("version = 1\n", "version = 1\non-store-error = accept\n"))
    r = rp(opened, "check", *args, input=MESSAGE)
    assert r.returncode == 0 and b"warning: accepting without" in r.stderr
    assert rp(p, "init", "--force", "--size", "4M").returncode == 0
    assert check(p, *args)[0] == 0


def test_full_disk_fails_the_store_open_not_a_later_write(tmp_path):
    """testing.md recipe 7: a 2 MiB tmpfs cannot hold a 4 MiB store; init says so (75)."""
    p = make_policy(tmp_path, "[defaults]\nsender-domains = *\n", init=False)
    (tmp_path / "store").mkdir()
    script = (f"mount -t tmpfs -o size=2m tmpfs {tmp_path}/store && "
              f"{relaytest.bin('relay-policy')} --policy {p} init --size 4M")
    r = relaytest.run(["unshare", "--mount", "bash", "-c", script], timeout=30)
    assert r.returncode == 75, r.stderr
    assert b"unable to reserve 4 MiB for data.mdb: No space left on device" in r.stderr
