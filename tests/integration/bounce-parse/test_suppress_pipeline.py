"""bounce-parse --suppress | relay-policy suppress --add -: the pipeline the design guide shows."""
import json
import pathlib
import subprocess

import relaytest

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"

LITERAL_DSN = b"""From: MAILER-DAEMON@mx.example.net
To: app@sender.example
Date: Mon, 2 Mar 2026 10:00:00 +0000
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary=b

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; user@[192.0.2.1]
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; gone@example.net
Action: failed
Status: 5.1.1

--b--
"""


def test_hard_bounces_and_complaints_land_in_the_suppression_list(tmp_path):
    store = tmp_path / "store"
    policy = [relaytest.bin("relay-policy"), "--store", str(store)]
    assert relaytest.run(policy + ["init"]).returncode == 0
    literal = tmp_path / "literal.eml"
    literal.write_bytes(LITERAL_DSN)
    samples = [str(p) for p in sorted(CORPUS.glob("*.eml"))] + [str(literal)]
    parse = subprocess.Popen([relaytest.bin("bounce-parse"), "--suppress", "--skip-other", *samples],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    added = subprocess.run(policy + ["suppress", "--add", "-"], stdin=parse.stdout, capture_output=True, timeout=60)
    parse.stdout.close()
    assert parse.wait(timeout=60) == 0
    # An address literal is no mailbox relay-policy takes: it is left out, with a warning.
    assert b'not suppressing "user@[192.0.2.1]"' in parse.stderr.read()
    assert added.returncode == 0, added.stderr
    listed = relaytest.run(policy + ["--json", "suppress", "--list"])
    entries = {e["entry"]: e for e in map(json.loads, listed.stdout.decode().splitlines())}
    expected = set()
    for sample in CORPUS.glob("*.expected"):
        for line in sample.read_text().splitlines():
            record = json.loads(line)
            if record.get("hard"):
                expected.add(record["recipient"].lower())
    expected.add("gone@example.net")
    assert set(entries) == expected
    assert entries["reader@isp.example"]["reason"] == "complaint"
    assert entries["alice@customers.example"]["reason"] == "user-unknown 5.1.1"
    assert entries["alice@customers.example"]["added"] == "2026-03-03T09:15:01Z"  # the bounce's date
