"""Fixtures and helpers for mx-deliver's integration tests: the program, its report lines,
spool messages, and the test peers (aiosmtpd fake MX, a scripted faulty MX)."""
import contextlib
import os
import pathlib
import select
import shutil
import subprocess
import tempfile
import time

import pytest

import relaytest

HERE = pathlib.Path(__file__).resolve().parent
MESSAGE = (b"From: a@example.org\r\nTo: b@example.test\r\nSubject: test\r\n"
           b"Message-ID: <t1@example.org>\r\n\r\nhello\r\n.line starting with a dot\r\n")


def mx_deliver(*args, input=MESSAGE, timeout=60, env=None):
    """Runs mx-deliver; returns (exit code, report dicts, stderr text)."""
    r = relaytest.run([relaytest.bin("mx-deliver"), *map(str, args)], input=input, timeout=timeout, env=env)
    return r.returncode, parse_report(r.stdout.decode()), r.stderr.decode()


def parse_report(text):
    """Report lines (format version 1) as dicts; reply is the rest of the line."""
    rows = []
    for line in text.splitlines():
        head, _, reply = line.partition(" reply=")
        row = dict(field.split("=", 1) for field in head.split(" "))
        row["reply"] = reply
        rows.append(row)
    return rows


def start_ready(procs, args, log, timeout=20):
    """Starts a peer that prints READY on stdout when it serves; waits for it (bounded)."""
    err = open(log, "ab")
    proc = procs.start(args, stdout=subprocess.PIPE, stderr=err)
    err.close()
    end = time.monotonic() + timeout
    line = b""
    while time.monotonic() < end and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            break
    if b"READY" not in line:
        procs.stop(proc)
        raise RuntimeError(f"{args[1]} did not start: see {log}")
    return proc


def fake_mx(procs, tmp, host, port, *options):
    """The aiosmtpd peer (fake_mx.py); returns its message directory."""
    out = pathlib.Path(tmp) / f"mx-{host}-{port}"
    start_ready(procs, [relaytest.PY, str(HERE / "fake_mx.py"), host, str(port), str(out), *options],
                pathlib.Path(tmp) / f"mx-{host}-{port}.log")
    return out


def raw_mx(procs, tmp, host, port, mode):
    """The scripted faulty peer (raw_mx.py); returns its message directory."""
    out = pathlib.Path(tmp) / f"raw-{host}-{port}"
    start_ready(procs, [relaytest.PY, str(HERE / "raw_mx.py"), host, str(port), str(out), mode],
                pathlib.Path(tmp) / f"raw-{host}-{port}.log")
    return out


def received(out):
    """Message files a fake MX wrote."""
    return sorted(pathlib.Path(out).glob("*.eml")) if pathlib.Path(out).exists() else []


_counter = [0]


def deposit(spool, sender, recipients, message=MESSAGE, stage="outgoing", fields=(), rcpt_fields=()):
    """Writes a message into a spool stage in the relay-spool(5) format; returns its id.
    fields: extra envelope lines; rcpt_fields: extra rcpt.* lines for every recipient."""
    _counter[0] += 1
    now = int(time.time())
    qid = f"{now}.{_counter[0]:06d}.{os.getpid()}_{_counter[0]}.testhost"
    lines = ["version=1", f"id={qid}", f"sender={sender}", f"arrival={now}", "attempts=0", *fields]
    for r in recipients:
        lines += [f"rcpt={r}", "rcpt.state=pending", *rcpt_fields]
    path = pathlib.Path(spool) / stage / qid
    path.write_bytes(("\n".join(lines) + "\n\n").encode() + message)
    return qid


def read_recipients(path):
    """[{address, state, status, response, remote, ...}] from a spool file's envelope."""
    data = pathlib.Path(path).read_bytes()
    head = data.partition(b"\n\n")[0].decode()
    rcpts = []
    for line in head.split("\n"):
        name, _, value = line.partition("=")
        if name == "rcpt":
            rcpts.append({"address": value})
        elif name.startswith("rcpt."):
            rcpts[-1][name[5:]] = value
    return rcpts


@contextlib.contextmanager
def shared_tmpdir(prefix):
    """A temporary directory other users can enter (smtp-sink writes as nobody). Not under
    pytest's own base directory: pytest makes that 0700 again whenever any run starts."""
    path = pathlib.Path(tempfile.mkdtemp(prefix=f"mx-deliver.{prefix}."))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tmp(request):
    with shared_tmpdir(request.node.name[:40]) as path:
        yield path


@pytest.fixture
def spool(tmp):
    return relaytest.make_spool(tmp / "spool")
