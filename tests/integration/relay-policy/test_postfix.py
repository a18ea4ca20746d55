"""Postfix itself asking relay-policy: a private Postfix (testing.md recipe 5) whose smtpd has
check_policy_service pointing at relay-policy serve, once on a TCP socket and once spawned by
Postfix's spawn(8) on stdin/stdout; swaks submits, and Postfix's answer carries the verdict."""
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest

import relaytest
from policykit import NOW, make_policy, rp, start_server

POLICY = """
[defaults]
sender-domains = none
[network 127.0.0.1]
sender-domains = shop.example
client-messages = 2/hour
[network 127.0.0.2]
sender-domains = *
hold = yes
"""


@pytest.fixture
def world_dir():
    """A directory Postfix's users (postfix, nobody) can reach, removed afterwards."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="relay-policy-pf."))
    os.chmod(d, 0o755)
    yield d
    if os.environ.get("RELAY_KEEP") is None:
        shutil.rmtree(d, ignore_errors=True)


def swaks(port, sender, rcpt, source="127.0.0.1"):
    r = relaytest.run(["swaks", "--server", f"127.0.0.1:{port}", "--local-interface", source, "-f", sender,
                       "-t", rcpt, "--timeout", "30"], timeout=60)
    return r.stdout.decode(errors="replace")


def replies(transcript):
    """The server's reply lines of a swaks transcript."""
    return [line[4:] for line in transcript.splitlines() if line.startswith(("<-  ", "<** "))]


def wait_for(predicate, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def start_postfix_with(directory, restrictions, end_of_data, extra_services=()):
    port = relaytest.free_port()
    conf = relaytest.start_postfix(
        directory / "pf",
        main_cf={"mynetworks": "127.0.0.0/8", "smtpd_recipient_restrictions": restrictions,
                 "smtpd_end_of_data_restrictions": end_of_data, "smtpd_policy_service_timeout": "30s"},
        listeners=[f"127.0.0.1:{port} inet n - n - - smtpd"], extra_services=extra_services)
    relaytest.wait_listening("127.0.0.1", port)
    return conf, port


def test_postfix_answers_with_the_verdict(procs, world_dir):
    policy = make_policy(world_dir, POLICY)
    rp(policy, "suppress", "--add", "gone@example.test", "--reason", "hard bounce")
    server, pport = start_server(procs, policy, "127.0.0.1:0", log=world_dir / "serve.log")
    service = f"check_policy_service inet:127.0.0.1:{pport}"
    conf, port = start_postfix_with(world_dir, f"{service}, permit_mynetworks, reject", service)
    try:
        out = swaks(port, "news@shop.example", "a@example.test")
        assert any(r.startswith("250 2.0.0 Ok: queued") for r in replies(out)), out
        assert wait_for(lambda: any((world_dir / "pf/mail/catchall/new").glob("*")))

        out = swaks(port, "x@other.example", "a@example.test")
        assert ("550 5.7.1 <a@example.test>: Recipient address rejected: "
                "sender domain other.example is not allowed for client 127.0.0.1") in replies(out), out

        out = swaks(port, "news@shop.example", "gone@example.test")
        assert any(r.startswith("550 5.7.1 <gone@example.test>: Recipient address rejected: recipient "
                                "<gone@example.test> is on the suppression list (hard bounce") for r in replies(out)), out

        out = swaks(port, "news@shop.example", "b@example.test")
        assert any(r.startswith("250 2.0.0 Ok: queued") for r in replies(out)), out
        out = swaks(port, "news@shop.example", "c@example.test")
        assert ("451 4.7.1 <c@example.test>: Recipient address rejected: rate limit client-messages 2/hour "
                "reached for client 127.0.0.1, try again in 1800 seconds") in replies(out), out

        out = swaks(port, "x@any.example", "d@example.test", source="127.0.0.2")
        assert any(r.startswith("250 2.0.0 Ok: queued") for r in replies(out)), out
        held = world_dir / "pf/queue/hold"
        assert wait_for(lambda: held.exists() and any(held.rglob("*"))), "the message was not put on hold"
    finally:
        relaytest.stop_postfix(conf)


def test_postfix_spawns_relay_policy_on_stdin_stdout(world_dir):
    policy = make_policy(world_dir, POLICY)
    rp(policy, "suppress", "--add", "gone@example.test")
    subprocess.run(["chown", "-R", "nobody", str(world_dir / "store")], check=True)
    os.chmod(policy, 0o644)
    argv = f"{os.path.abspath(relaytest.bin('relay-policy'))} --policy {policy} --now {NOW} serve"
    service = "check_policy_service unix:private/relay-policy"
    conf, port = start_postfix_with(world_dir, f"{service}, permit_mynetworks, reject", service,
                                    extra_services=[f"relay-policy unix - n n - 0 spawn user=nobody argv={argv}"])
    try:
        out = swaks(port, "news@shop.example", "a@example.test")
        assert any(r.startswith("250 2.0.0 Ok: queued") for r in replies(out)), out
        out = swaks(port, "news@shop.example", "gone@example.test")
        assert any("is on the suppression list" in r and r.startswith("550 5.7.1") for r in replies(out)), out
        out = swaks(port, "x@other.example", "a@example.test")
        assert any("sender domain other.example is not allowed" in r for r in replies(out)), out
    finally:
        relaytest.stop_postfix(conf)
