"""Helpers of the spool-retry tests: deferred messages written the way mx-deliver leaves
them (relay-spool(5): the envelope, an empty line, the message; the file's mtime is its
next-attempt time), spool-retry runs with a fixed clock, and DSN reading with Python's
email package."""
import email
import email.policy
import json
import os
import pathlib

import relaytest

NOW = 1764400000          # a fixed "now" for every test: 2025-11-29T07:06:40Z
DAY = 86400

MESSAGE = (b"From: Alice <alice@example.org>\r\n"
           b"To: Bob <bob@remote.test>\r\n"
           b"Subject: quarterly report\r\n"
           b"Message-ID: <report.1@example.org>\r\n"
           b"\r\n"
           b"The report is attached in spirit.\r\n")

_counter = 0


def new_id(arrival):
    global _counter
    _counter += 1
    return f"{arrival:010d}.{_counter % 1000000:06d}.{os.getpid()}_{_counter}.test-host"


def write_deferred(spool, *, arrival, next_attempt, sender="alice@example.org", recipients=None,
                   attempts=1, last_attempt=None, defer_reason="remote", ret="", envid="",
                   schedule_recorded=True, delay_warned=0, message=MESSAGE, stage="deferred", msg_id=None):
    """Writes one deferred message; recipients are dicts with address/state/status/response/
    remote/notify/orcpt. Returns its queue id."""
    if recipients is None:
        recipients = [dict(address="bob@remote.test", state="deferred", status="4.4.1",
                           response="connect to mx.remote.test[127.0.0.2]:25: Connection refused",
                           remote="mx.remote.test[127.0.0.2]:25")]
    msg_id = msg_id or new_id(arrival)
    last_attempt = last_attempt if last_attempt is not None else next_attempt - 300
    lines = ["version=1", f"id={msg_id}", f"sender={sender}", f"arrival={arrival}", "protocol=ESMTPSA"]
    if ret:
        lines.append(f"ret={ret}")
    if envid:
        lines.append(f"envid={envid}")
    lines += [f"attempts={attempts}", f"last-attempt={last_attempt}"]
    if schedule_recorded:
        lines.append(f"next-attempt={next_attempt}")
    if defer_reason:
        lines.append(f"defer-reason={defer_reason}")
    if delay_warned:
        lines.append(f"delay-warned={delay_warned}")
    for r in recipients:
        lines.append(f"rcpt={r['address']}")
        lines.append(f"rcpt.state={r.get('state', 'deferred')}")
        for key in ("notify", "orcpt", "status", "response", "remote"):
            if r.get(key):
                lines.append(f"rcpt.{key}={r[key]}")
        lines.append(f"rcpt.updated={last_attempt}")
    path = pathlib.Path(spool) / stage / msg_id
    tmp = pathlib.Path(spool) / "tmp" / msg_id
    tmp.write_bytes(("\n".join(lines) + "\n\n").encode() + message)
    os.utime(tmp, (next_attempt, next_attempt))
    os.rename(tmp, path)
    return msg_id


def retry(spool, *args, now=NOW, check_codes=(0,)):
    """Runs spool-retry once with the clock at now; returns (code, stdout, stderr)."""
    p = relaytest.run([relaytest.bin("spool-retry"), "--spool", str(spool), "--now", str(now),
                       "--hostname", "relay.example.org", *args], timeout=120)
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode in check_codes, f"spool-retry exit {p.returncode}\n{out}\n{err}"
    return p.returncode, out, err


def retry_json(spool, *args, now=NOW):
    _, out, _ = retry(spool, "--json", *args, now=now)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def stage(spool, name):
    return relaytest.spool_files(spool, name)


def mtime(spool, stage_name, msg_id):
    return int(os.stat(pathlib.Path(spool) / stage_name / msg_id).st_mtime)


def envelope(spool, stage_name, msg_id):
    fields, _ = relaytest.read_spool_file(pathlib.Path(spool) / stage_name / msg_id)
    return fields


def dsns(spool):
    """Every DSN in incoming/: (envelope fields, email.message.EmailMessage)."""
    out = []
    for name in stage(spool, "incoming"):
        fields, message = relaytest.read_spool_file(pathlib.Path(spool) / "incoming" / name)
        out.append((fields, email.message_from_bytes(message, policy=email.policy.default)))
    return out


def report_of(dsn):
    """(per-message fields, [per-recipient fields]) of a multipart/report's delivery-status part,
    as Python's email package reads it."""
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    parts = list(dsn.iter_parts())
    status = parts[1]
    assert status.get_content_type() == "message/delivery-status"
    groups = status.get_payload()
    return groups[0], groups[1:]
