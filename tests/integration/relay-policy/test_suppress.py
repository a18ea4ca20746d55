"""relay-policy suppress: addresses, domains and bounce-parse JSON lines from stdin; reasons,
dates and expiry; a bad line changes nothing."""
import json

from policykit import NOW, check, make_policy, rp

RULES = "[defaults]\nsender-domains = *\n"
ARGS = ["--sender", "news@shop.example"]


def listed(policy, now=NOW):
    return [json.loads(line) for line in rp(policy, "suppress", "--list", "--json", now=now).stdout.splitlines()]


def test_bounce_parse_lines_and_plain_addresses(tmp_path):
    p = make_policy(tmp_path, RULES)
    lines = "\n".join([
        json.dumps({"recipient": "User@Example.test", "reason": "user_unknown", "status": "5.1.1", "hard": True,
                    "date": "2026-11-01T10:00:00Z", "source": "b1.eml"}),
        json.dumps({"recipient": "full@example.test", "reason": "mailbox_full", "hard": False}),
        json.dumps({"recipient": "odd@example.test", "date": "Mon, bad date"}),
        json.dumps({"action": "delayed"}),
        "# a comment",
        "<plain@example.test>",
        "complainers.example",
        "",
    ]).encode()
    r = rp(p, "suppress", "--add", "-", input=lines)
    assert r.returncode == 0, r.stderr
    assert b"added 4 entries; skipped 1 soft bounces and 1 lines without a recipient" in r.stderr
    entries = {e["entry"]: e for e in listed(p)}
    assert sorted(entries) == ["complainers.example", "odd@example.test", "plain@example.test", "user@example.test"]
    assert entries["user@example.test"]["reason"] == "user_unknown 5.1.1"
    assert entries["user@example.test"]["added"] == "2026-11-01T10:00:00Z"
    assert entries["odd@example.test"]["added"] == "2025-11-29T07:06:40Z"   # unreadable date: --now
    assert entries["plain@example.test"]["reason"] == "manual"
    code, out = check(p, *ARGS, "--rcpt", "USER@example.test")
    assert code == 100 and "(user_unknown 5.1.1, since 2026-11-01T10:00:00Z)" in out
    assert check(p, *ARGS, "--rcpt", "anyone@complainers.example")[0] == 100
    assert check(p, *ARGS, "--rcpt", "anyone@sub.complainers.example")[0] == 0
    assert check(p, *ARGS, "--rcpt", "full@example.test")[0] == 0

    r = rp(p, "suppress", "--remove", "user@example.test", "-", input=b'{"recipient": "plain@example.test"}\n')
    assert r.returncode == 0 and b"removed 2 of 2 entries" in r.stderr
    assert check(p, *ARGS, "--rcpt", "user@example.test")[0] == 0
    text = rp(p, "suppress", "--list").stdout.decode()
    assert "complainers.example" in text and "plain@" not in text


def test_entries_expire(tmp_path):
    p = make_policy(tmp_path, RULES)
    r = rp(p, "suppress", "--add", "later@example.test", "--expire", "1d", "--reason", "complaint")
    assert r.returncode == 0, r.stderr
    assert check(p, *ARGS, "--rcpt", "later@example.test", now=NOW + 86399)[0] == 100
    assert check(p, *ARGS, "--rcpt", "later@example.test", now=NOW + 86400)[0] == 0
    assert listed(p, now=NOW + 86400)[0]["expired"] is True
    assert rp(p, "purge", now=NOW + 86400).returncode == 0
    assert listed(p) == []


def test_bad_input_changes_nothing(tmp_path):
    p = make_policy(tmp_path, RULES)
    r = rp(p, "suppress", "--add", "-", input=b"ok@example.test\n{\"recipient\": \"x@example.test\"\n")
    assert r.returncode == 65
    assert b"standard input:2: invalid JSON" in r.stderr
    r = rp(p, "suppress", "--add", "-", input=b"ok@example.test\nnot an address\n")
    assert r.returncode == 65 and b"standard input:2:" in r.stderr
    assert listed(p) == []
    assert rp(p, "suppress").returncode == 64
    assert rp(p, "suppress", "--add", "--list").returncode == 64
