"""Helpers for relay-policy's integration tests: a policy file with its store, running the
program, and Postfix policy-protocol requests."""
import os
import pathlib
import select
import subprocess

import relaytest

NOW = 1764400000
MESSAGE = b"From: Shop <news@shop.example>\r\nTo: b@example.test\r\nSubject: hi\r\n\r\nhello\r\n"


def make_policy(directory, body, init=True):
    """Writes directory/policy.conf (store in directory/store) and creates the store."""
    d = pathlib.Path(directory)
    policy = d / "policy.conf"
    policy.write_text(f"version = 1\nstore = {d}/store\n" + body)
    if init:
        r = rp(policy, "init", "--size", "4M")   # small: the whole store is reserved on disk
        assert r.returncode == 0, r.stderr
    return policy


def rp(policy, *args, input=None, now=NOW, env=None, timeout=60):
    """Runs relay-policy with this policy file (and a fixed clock unless now is None)."""
    head = [relaytest.bin("relay-policy"), "--policy", str(policy)]
    if now is not None:
        head += ["--now", str(now)]
    return relaytest.run(head + [str(a) for a in args], input=input, env=env, timeout=timeout)


def check(policy, *args, message=MESSAGE, now=NOW):
    """relay-policy check; returns (exit code, stdout text)."""
    r = rp(policy, "check", *args, input=message, now=now)
    return r.returncode, r.stdout.decode().strip()


def postfix_request(state, sender="news@shop.example", recipient="b@example.test", client="192.0.2.10",
                    user="", instance="i1", **extra):
    """One request of Postfix's policy delegation protocol, as bytes."""
    attrs = {"request": "smtpd_access_policy", "protocol_state": state, "protocol_name": "ESMTP",
             "client_address": client, "client_name": "unknown", "sasl_username": user, "sender": sender,
             "recipient": recipient if state == "RCPT" else "", "instance": instance, "size": "100",
             "recipient_count": "0"}
    attrs.update({k: str(v) for k, v in extra.items()})
    return "".join(f"{k}={v}\n" for k, v in attrs.items()).encode() + b"\n"


def serve_stdio(policy, requests, now=NOW, timeout=60):
    """Feeds requests to relay-policy serve on stdin/stdout; returns the list of actions."""
    r = rp(policy, "serve", input=b"".join(requests), now=now, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return actions(r.stdout)


def actions(data):
    """The action values of a stream of Postfix policy replies."""
    out = []
    for block in data.decode().split("\n\n"):
        if block.strip():
            assert block.startswith("action="), block
            out.append(block[len("action="):].strip())
    return out


def start_server(procs, policy, listen, now=NOW, log=None, timeout=10):
    """relay-policy serve --listen, waited for through --notify-fd; returns (process, port
    printed for a TCP port 0, or 0)."""
    read_end, write_end = os.pipe()
    args = [relaytest.bin("relay-policy"), "--policy", str(policy)]
    if now is not None:
        args += ["--now", str(now)]
    args += ["serve", "--listen", listen, "--notify-fd", str(write_end)]
    proc = procs.start(args, stdout=subprocess.PIPE, stderr=open(log, "ab") if log else None, pass_fds=(write_end,))
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], timeout)
    got = os.read(read_end, 16) if ready else b""
    os.close(read_end)
    assert got == b"\n", f"relay-policy serve did not become ready ({got!r})"
    port = int(proc.stdout.readline()) if listen.rsplit(":", 1)[-1] == "0" else 0
    return proc, port
