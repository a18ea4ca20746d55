"""mx-deliver's spool mode: per-recipient results in the envelope, deferred/ with the next
attempt as mtime and later retried alone, DSNs for failures (none for the null sender),
DSN parameters passed on, connection reuse over many messages, and recovery after SIGKILL."""
import email
import email.policy
import json
import os
import signal
import subprocess
import time

import relaytest
from conftest import MESSAGE, deposit, fake_mx, raw_mx, read_recipients, received


def spool_run(spool, port, *extra, timeout=60):
    r = relaytest.run([relaytest.bin("mx-deliver"), "--spool", str(spool), "--route", f"example.test=127.0.0.2:{port}",
                       "--resolver", "127.0.0.1:9", "--max-wait", "5", "--hostname", "relay.example.org", *extra],
                      timeout=timeout)
    return r.returncode, r.stderr.decode()


def files(spool, stage):
    return relaytest.spool_files(spool, stage)


def test_partial_delivery_then_retry_alone(procs, tmp, spool):
    port = relaytest.free_port("127.0.0.2")
    out = fake_mx(procs, tmp, "127.0.0.2", port)
    qid = deposit(spool, "a@example.org", ["b@example.test", "soft1@example.test", "hard1@example.test"])
    before = time.time()
    rc, err = spool_run(spool, port)
    assert rc == 0, err
    assert files(spool, "deferred") == [qid] and not files(spool, "outgoing") and not files(spool, "active")
    path = spool / "deferred" / qid
    # First retry: the minimum backoff, 300 s, within the shared schedule's jitter (up to 1.2x).
    assert before + 290 <= os.stat(path).st_mtime <= time.time() + 370
    rcpts = read_recipients(path)
    assert [(r["state"], r["status"]) for r in rcpts] == [("sent", "2.0.0"), ("deferred", "4.2.0"), ("failed", "5.1.1")]
    assert rcpts[2]["response"].startswith("550 5.1.1") and rcpts[0]["remote"] == f"127.0.0.2[127.0.0.2]:{port}"
    fields, _ = relaytest.read_spool_file(path)
    assert fields["attempts"] == ["1"] and fields["defer-reason"] == ["remote"]
    assert f"{qid} to=<b@example.test> relay=127.0.0.2[127.0.0.2]:{port}" in err and "status=sent (250" in err
    # The failed recipient's DSN goes out now, from <> to the sender.
    dsns = files(spool, "incoming")
    assert len(dsns) == 1
    dsn_fields, dsn = relaytest.read_spool_file(spool / "incoming" / dsns[0])
    assert dsn_fields["sender"] == [""] and dsn_fields["rcpt"] == ["a@example.org"]
    report = email.message_from_bytes(dsn, policy=email.policy.compat32)
    assert report.get_content_type() == "multipart/report"
    status = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"][0]
    text = status.as_string()
    assert "hard1@example.test" in text and "Action: failed" in text and "5.1.1" in text
    assert "soft1@example.test" not in text and "b@example.test" not in text
    assert len(received(out)) == 1

    # spool-retry's job: the deferred message is due again. Only soft1 is tried.
    os.rename(path, spool / "outgoing" / qid)
    procs.stop_all()
    (tmp / "second").mkdir()
    out2 = fake_mx(procs, tmp / "second", "127.0.0.2", port, "--accept-soft")
    rc, err = spool_run(spool, port)
    assert rc == 0, err
    assert files(spool, "sent") == [qid]
    metas = [json.loads(p.read_text()) for p in out2.glob("*.json")]
    assert [m["to"] for m in metas] == [["soft1@example.test"]]
    rcpts = read_recipients(spool / "sent" / qid)
    assert [r["state"] for r in rcpts] == ["sent", "sent", "failed"]
    assert len(files(spool, "incoming")) == 1  # no second DSN for hard1


def test_null_sender_failure_gets_no_dsn(procs, tmp, spool):
    port = relaytest.free_port("127.0.0.2")
    fake_mx(procs, tmp, "127.0.0.2", port)
    qid = deposit(spool, "", ["hard1@example.test"])
    rc, err = spool_run(spool, port)
    assert rc == 0, err
    assert files(spool, "failed") == [qid] and not files(spool, "incoming")


def test_dsn_parameters_passed_on(procs, tmp, spool):
    d = tmp / "sink"
    _, port = relaytest.start_smtp_sink(procs, d, address="127.0.0.2")
    deposit(spool, "a@example.org", ["b@example.test"], fields=["ret=HDRS", "envid=abc123"],
            rcpt_fields=["rcpt.notify=SUCCESS,FAILURE", "rcpt.orcpt=rfc822;b@example.test"])
    rc, err = spool_run(spool, port)
    assert rc == 0, err
    dump = relaytest.sink_messages(d)[0].read_bytes()
    assert b"RET=HDRS" in dump and b"ENVID=abc123" in dump
    assert b"NOTIFY=SUCCESS,FAILURE" in dump and b"ORCPT=rfc822;b@example.test" in dump


def test_many_messages_reuse_connections(procs, tmp, spool):
    d = tmp / "sink"
    _, port = relaytest.start_smtp_sink(procs, d, address="127.0.0.2")
    ids = [deposit(spool, "a@example.org", [f"u{i}@example.test"]) for i in range(40)]
    rc, err = spool_run(spool, port, "--concurrency", "2", "--max-per-connection", "15", "--no-keep-sent")
    assert rc == 0, err
    assert not files(spool, "outgoing") and not files(spool, "sent") and not files(spool, "active")
    assert len(relaytest.sink_messages(d)) == 40
    done = [line for line in err.splitlines() if " done messages=" in line][0]
    connections = int(done.split("connections=")[1].split()[0])
    assert "sent=40" in done and 3 <= connections <= 6, done
    assert len(ids) == 40


def test_keep_sent(procs, tmp, spool):
    _, port = relaytest.start_smtp_sink(procs, tmp / "sink", address="127.0.0.2")
    qid = deposit(spool, "a@example.org", ["b@example.test"])
    rc, err = spool_run(spool, port)
    assert rc == 0 and files(spool, "sent") == [qid], (err, files(spool, "deferred"))
    assert read_recipients(spool / "sent" / qid)[0]["state"] == "sent"


def test_drop_after_354_leaves_all_deferred(procs, tmp, spool):
    port = relaytest.free_port("127.0.0.2")
    out = raw_mx(procs, tmp, "127.0.0.2", port, "drop-after-354")
    qid = deposit(spool, "a@example.org", ["b@example.test", "c@example.test"])
    rc, err = spool_run(spool, port)
    assert rc == 0, err
    rcpts = read_recipients(spool / "deferred" / qid)
    assert [r["state"] for r in rcpts] == ["deferred", "deferred"] and not received(out)
    fields, _ = relaytest.read_spool_file(spool / "deferred" / qid)
    assert fields["defer-reason"] == ["lost"]


def test_reply_lost_after_dot_is_not_marked_sent(procs, tmp, spool):
    # smtp-sink -q . stores the message and hangs up without the final reply: deferred, and
    # tried again later (a duplicate at worst, never a loss).
    d = tmp / "sink"
    _, port = relaytest.start_smtp_sink(procs, d, address="127.0.0.2", options=["-q", "."])
    qid = deposit(spool, "a@example.org", ["b@example.test"])
    rc, err = spool_run(spool, port)
    assert rc == 0, err
    rcpts = read_recipients(spool / "deferred" / qid)
    assert rcpts[0]["state"] == "deferred" and "end of data" in rcpts[0]["response"]
    assert not files(spool, "sent") and not files(spool, "incoming")


def connected(port):
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                         stdout=subprocess.PIPE, text=True).stdout
    return bool(out.strip())


def test_sigkill_mid_delivery_is_recovered(procs, tmp, spool):
    port = relaytest.free_port("127.0.0.2")
    slow = tmp / "slow"
    relaytest.start_smtp_sink(procs, slow, address="127.0.0.2", port=port, options=["-w", "30"])
    qid = deposit(spool, "a@example.org", ["b@example.test"])
    proc = procs.start([relaytest.bin("mx-deliver"), "--spool", str(spool), "--route",
                        f"example.test=127.0.0.2:{port}", "--resolver", "127.0.0.1:9"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Killed while connected: the sink holds back its reply to DATA for 30 s.
    end = time.monotonic() + 10
    while time.monotonic() < end and not connected(port):
        time.sleep(0.02)
    assert connected(port) and files(spool, "active"), "mx-deliver never got into the transaction"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert files(spool, "active") and not files(spool, "sent")
    procs.stop_all()
    fast = tmp / "fast"
    relaytest.start_smtp_sink(procs, fast, address="127.0.0.2", port=port)
    rc, err = spool_run(spool, port, "--lease", "0")
    assert rc == 0, err
    assert "recovered 1 message" in err
    assert files(spool, "sent") == [qid] and not files(spool, "active")
    assert len(relaytest.sink_messages(fast)) == 1


def test_report_on_stdout(procs, tmp, spool):
    port = relaytest.free_port("127.0.0.2")
    fake_mx(procs, tmp, "127.0.0.2", port)
    qid = deposit(spool, "a@example.org", ["b@example.test", "hard1@example.test"])
    r = relaytest.run([relaytest.bin("mx-deliver"), "--spool", str(spool), "--json", "--resolver", "127.0.0.1:9",
                       "--route", f"example.test=127.0.0.2:{port}"])
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [(row["id"], row["rcpt"], row["status"]) for row in rows] == [
        (qid, "b@example.test", "sent"), (qid, "hard1@example.test", "failed")]
    qid = deposit(spool, "a@example.org", ["c@example.test"])
    # With stdout closed the report is lost, the delivery is not: no retry, no duplicate.
    closed = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", relaytest.bin("mx-deliver"), "--spool", str(spool),
                             "--resolver", "127.0.0.1:9", "--route", f"example.test=127.0.0.2:{port}"],
                            stderr=subprocess.PIPE, timeout=60)
    assert b"unable to write the report" in closed.stderr
    assert qid in files(spool, "sent") and not files(spool, "outgoing")


def wait_for(predicate, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_loop_delivers_what_arrives_until_sigterm(procs, tmp, spool):
    d = tmp / "sink"
    _, port = relaytest.start_smtp_sink(procs, d, address="127.0.0.2")
    log = tmp / "loop.log"
    with open(log, "wb") as err:
        proc = procs.start([relaytest.bin("mx-deliver"), "--spool", str(spool), "--loop", "--resolver", "127.0.0.1:9",
                            "--route", f"example.test=127.0.0.2:{port}", "--idle-limit", "60s"],
                           stdout=subprocess.DEVNULL, stderr=err)
    ids = []
    for i in range(2):
        # Written under tmp/ and renamed in, as every spool writer does.
        qid = deposit(spool, "a@example.org", [f"u{i}@example.test"], stage="tmp")
        os.rename(spool / "tmp" / qid, spool / "outgoing" / qid)
        ids.append(qid)
        assert wait_for(lambda: qid in files(spool, "sent")), log.read_text()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    text = log.read_text()
    assert text.count(" done messages=1 ") == 2
    # The second message went over the connection the first one opened.
    assert "connections=1 " in text and "connections=0 " in text, text
    assert len(relaytest.sink_messages(d)) == 2
