"""The relay end to end: smtp-listen accepts a message for two recipients, spool-run moves
it to outgoing/, mx-deliver delivers one and fails the other, the DSN it writes is read by
bounce-parse, and the DSN itself is delivered (from <>) to the sender's domain."""
import json
import os
import smtplib
import subprocess

import relaytest
from conftest import fake_mx


def start_listener(procs, spool, port):
    read_fd, write_fd = os.pipe()
    proc = procs.start([relaytest.bin("smtp-listen"), "--spool", str(spool), "--listen", f"127.0.0.1:{port}",
                        "--allow-ip", "127.0.0.0/8", "--hostname", "relay.example.org",
                        "--notify-fd", str(write_fd)], pass_fds=[write_fd], stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as ready:
        assert ready.readline() == b"\n", "smtp-listen did not become ready"
    return proc


def move_on(spool):
    relaytest.wait_published(spool)
    r = relaytest.run([relaytest.bin("spool-run"), "--spool", str(spool), "--from", "incoming", "--to", "outgoing",
                       "--", "cat"])
    assert r.returncode == 0, r.stderr


def deliver(spool, port):
    r = relaytest.run([relaytest.bin("mx-deliver"), "--spool", str(spool), "--resolver", "127.0.0.1:9",
                       "--route", f"example.test=127.0.0.2:{port}", "--route", f"example.org=127.0.0.2:{port}",
                       "--hostname", "relay.example.org", "--max-wait", "5"])
    assert r.returncode == 0, r.stderr
    return r.stderr.decode()


def test_listen_deliver_bounce(procs, tmp, spool):
    listen_port = relaytest.free_port()
    start_listener(procs, spool, listen_port)
    mx_port = relaytest.free_port("127.0.0.2")
    out = fake_mx(procs, tmp, "127.0.0.2", mx_port)
    with smtplib.SMTP("127.0.0.1", listen_port, timeout=10) as s:
        refused = s.sendmail("a@example.org", ["b@example.test", "hard1@example.test"],
                             b"From: a@example.org\r\nTo: b@example.test\r\nSubject: e2e\r\n\r\nhello\r\n")
        assert refused == {}
    move_on(spool)
    log = deliver(spool, mx_port)
    assert "to=<b@example.test>" in log and "status=sent" in log and "status=failed" in log
    sent = relaytest.spool_files(spool, "sent")
    assert len(sent) == 1
    delivered = [json.loads(p.read_text()) for p in out.glob("*.json")]
    assert [m["to"] for m in delivered] == [["b@example.test"]]

    dsn_ids = relaytest.spool_files(spool, "incoming")
    assert len(dsn_ids) == 1
    _, dsn = relaytest.read_spool_file(spool / "incoming" / dsn_ids[0])
    parsed = relaytest.run([relaytest.bin("bounce-parse"), "--json"], input=dsn)
    rows = [json.loads(line) for line in parsed.stdout.decode().splitlines()]
    assert any("hard1@example.test" in json.dumps(r) and "5.1.1" in json.dumps(r) for r in rows), rows

    move_on(spool)
    deliver(spool, mx_port)
    metas = [json.loads(p.read_text()) for p in out.glob("*.json")]
    bounces = [m for m in metas if m["from"] == "<>" or m["from"] == ""]
    assert len(bounces) == 1 and bounces[0]["to"] == ["a@example.org"]
