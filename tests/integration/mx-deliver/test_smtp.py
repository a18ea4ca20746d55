"""mx-deliver's SMTP client in one-message mode against smtp-sink, aiosmtpd and a scripted
faulty peer: per-recipient outcomes, exit codes, extensions (PIPELINING, SIZE, 8BITMIME,
SMTPUTF8, HELO fallback), lost connections and timeouts."""
import itertools
import json

import relaytest
from conftest import MESSAGE, fake_mx, mx_deliver, raw_mx, received

_n = itertools.count()


def sink(procs, tmp, *options):
    d = tmp / f"sink{next(_n)}"
    _, port = relaytest.start_smtp_sink(procs, d, address="127.0.0.2", options=options)
    return d, port


def send(port, *rcpts, extra=(), message=MESSAGE, domain="example.test"):
    wait = [] if "--max-wait" in extra else ["--max-wait", "5"]
    return mx_deliver("-f", "a@example.org", *rcpts, "--route", f"{domain}=127.0.0.2:{port}",
                      "--resolver", "127.0.0.1:9", *wait, *extra, input=message)


def dump(d):
    files = relaytest.sink_messages(d)
    return [f.read_bytes() for f in files]


def test_delivered_report_and_exit_code(procs, tmp):
    d, port = sink(procs, tmp)
    rc, rows, err = send(port, "b@example.test", "c@example.test")
    assert rc == 0, (rows, err)
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert rows[0]["version"] == "1" and rows[0]["dsn"] == "2.0.0" and rows[0]["reply"].startswith("250")
    assert rows[0]["remote"] == f"127.0.0.2[127.0.0.2]:{port}"
    messages = dump(d)
    assert len(messages) == 1 and b"X-Rcpt-Args: <c@example.test>" in messages[0]
    # Dot-stuffed on the wire, intact at the other end.
    assert b"\n.line starting with a dot" in messages[0]


def test_json_report(procs, tmp):
    d, port = sink(procs, tmp)
    r = relaytest.run([relaytest.bin("mx-deliver"), "--json", "-f", "", "b@example.test", "--route",
                       f"example.test=127.0.0.2:{port}", "--resolver", "127.0.0.1:9"], input=MESSAGE)
    assert r.returncode == 0
    row = json.loads(r.stdout.decode().splitlines()[0])
    assert row["version"] == 1 and row["status"] == "sent" and row["rcpt"] == "b@example.test"
    assert b"X-Mail-Args: <>" in dump(d)[0]


def test_soft_reject_defers(procs, tmp):
    d, port = sink(procs, tmp, "-r", "RCPT", "-b", "452 4.2.2 Mailbox full")
    rc, rows, err = send(port, "b@example.test")
    assert rc == 75
    assert rows[0]["status"] == "deferred" and rows[0]["dsn"] == "4.2.2" and "Mailbox full" in rows[0]["reply"]
    assert all(b"hello" not in m for m in dump(d))


def test_hard_reject_fails(procs, tmp):
    d, port = sink(procs, tmp, "-f", "RCPT", "-B", "550 5.1.1 User unknown")
    rc, rows, err = send(port, "b@example.test")
    assert rc == 100
    assert rows[0]["status"] == "failed" and rows[0]["dsn"] == "5.1.1"
    assert all(b"hello" not in m for m in dump(d))


def test_mixed_recipients(procs, tmp):
    port = relaytest.free_port("127.0.0.2")
    out = fake_mx(procs, tmp, "127.0.0.2", port)
    rc, rows, err = send(port, "b@example.test", "soft1@example.test", "hard1@example.test")
    assert rc == 75, (rows, err)
    assert [(r["status"], r["dsn"]) for r in rows] == [("sent", "2.0.0"), ("deferred", "4.2.0"), ("failed", "5.1.1")]
    meta = json.loads(sorted(out.glob("*.json"))[0].read_text())
    assert meta["to"] == ["b@example.test"]


def test_sent_and_failed_exit_100(procs, tmp):
    port = relaytest.free_port("127.0.0.2")
    fake_mx(procs, tmp, "127.0.0.2", port)
    rc, rows, err = send(port, "b@example.test", "hard1@example.test")
    assert rc == 100
    assert [r["status"] for r in rows] == ["sent", "failed"]


def test_helo_fallback_and_no_pipelining(procs, tmp):
    d, port = sink(procs, tmp, "-e")
    rc, rows, err = send(port, "b@example.test", "c@example.test")
    assert rc == 0, (rows, err)
    assert b"X-Client-Proto: SMTP\n" in dump(d)[0]
    d, port = sink(procs, tmp, "-p")
    rc, rows, err = send(port, "b@example.test", "c@example.test")
    assert rc == 0, (rows, err)


def test_8bit_refused_without_8bitmime(procs, tmp):
    body = "From: a@example.org\r\nSubject: caf\u00e9\r\n\r\nd\u00e9j\u00e0 vu\r\n".encode()
    d, port = sink(procs, tmp, "-8")
    rc, rows, err = send(port, "b@example.test", message=body)
    assert rc == 100 and rows[0]["dsn"] == "5.6.3"
    assert not dump(d)
    d, port = sink(procs, tmp)
    rc, rows, err = send(port, "b@example.test", message=body)
    assert rc == 0, (rows, err)
    assert b"BODY=8BITMIME" in dump(d)[0]


def test_size_limit_fails_without_sending(procs, tmp):
    port = relaytest.free_port("127.0.0.2")
    out = fake_mx(procs, tmp, "127.0.0.2", port, "--size", "200")
    rc, rows, err = send(port, "b@example.test", message=MESSAGE + b"x" * 1000 + b"\r\n")
    assert rc == 100 and rows[0]["dsn"] == "5.3.4", rows
    assert not received(out)


def test_smtputf8_needed_but_not_offered(procs, tmp):
    port = relaytest.free_port("127.0.0.2")
    out = fake_mx(procs, tmp, "127.0.0.2", port)
    rc, rows, err = send(port, "j\u00f6rg@example.test")
    assert rc == 100 and rows[0]["dsn"] == "5.6.7", rows
    assert not received(out)


def test_smtputf8_offered(procs, tmp):
    port = relaytest.free_port("127.0.0.2")
    out = fake_mx(procs, tmp, "127.0.0.2", port, "--utf8")
    rc, rows, err = send(port, "j\u00f6rg@example.test")
    assert rc == 0, (rows, err)
    meta = json.loads(sorted(out.glob("*.json"))[0].read_text())
    assert "SMTPUTF8" in meta["mail_options"]


def test_drop_after_354_defers(procs, tmp):
    port = relaytest.free_port("127.0.0.2")
    out = raw_mx(procs, tmp, "127.0.0.2", port, "drop-after-354")
    rc, rows, err = send(port, "b@example.test", "c@example.test")
    assert rc == 75
    assert [r["status"] for r in rows] == ["deferred", "deferred"]
    assert rows[0]["dsn"] == "4.4.2" and "lost connection" in rows[0]["reply"]
    assert not received(out)


def test_drop_before_final_reply_defers(procs, tmp):
    d, port = sink(procs, tmp, "-q", ".")
    rc, rows, err = send(port, "b@example.test")
    assert rc == 75
    assert rows[0]["status"] == "deferred" and "end of data" in rows[0]["reply"]


def test_421_after_data_defers(procs, tmp):
    d, port = sink(procs, tmp, "-Q", ".")
    rc, rows, err = send(port, "b@example.test")
    assert rc == 75 and rows[0]["reply"].startswith("421")


def test_timeout_defers(procs, tmp):
    d, port = sink(procs, tmp, "-w", "4")
    rc, rows, err = send(port, "b@example.test", extra=["--max-wait", "1"])
    assert rc == 75
    assert rows[0]["status"] == "deferred" and "timeout" in rows[0]["reply"]
    assert all(b"hello" not in m for m in dump(d))


def test_usage_errors():
    rc, rows, err = mx_deliver("b@example.test")
    assert rc == 64 and "fatal" in err
    rc, rows, err = mx_deliver("-f", "a@example.org", "not an address")
    assert rc == 64
    rc, rows, err = mx_deliver("-f", "a@example.org", "b@example.test", "--route", "example.test=host:99999")
    assert rc == 64
