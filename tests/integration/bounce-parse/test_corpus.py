"""bounce-parse over the corpus: every sample's output compared field by field with its
.expected file (JSON lines without "source"; {"not_bounce": true} for what is no bounce)."""
import json
import pathlib

import pytest

import relaytest

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
SAMPLES = sorted(CORPUS.glob("*.eml"))
FIELDS = ["recipient", "original_recipient", "action", "status", "smtp_code", "diagnostic", "remote_mta",
          "reporting_mta", "reason", "hard", "message_id", "envelope_sender", "date", "format", "source"]
REASONS = {"user-unknown", "mailbox-full", "host-unknown", "message-too-large", "spam-blocked", "policy",
           "rate-limited", "expired", "tls-security", "mailer-error", "auto-reply", "complaint", "other"}


def expected_of(sample):
    return [json.loads(line) for line in sample.with_suffix(".expected").read_text().splitlines() if line.strip()]


def bounce_parse(*args, input=None):
    return relaytest.run([relaytest.bin("bounce-parse"), *args], input=input)


def test_every_format_has_two_samples():
    formats = {}
    for sample in SAMPLES:
        for record in expected_of(sample):
            formats.setdefault(record.get("format", "not-bounce"), set()).add(sample.name)
    wanted = {"rfc3464", "arf", "qmail", "exim", "postfix", "sendmail", "exchange", "office365", "gmail", "yahoo",
              "outlook", "text", "auto-reply", "not-bounce"}
    assert wanted <= set(formats)
    assert all(len(formats[f]) >= 2 for f in wanted), {f: len(formats[f]) for f in wanted}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_sample(sample):
    expected = expected_of(sample)
    result = bounce_parse("--json", str(sample))
    if expected == [{"not_bounce": True}]:
        assert result.returncode == 65, result.stderr
        assert result.stdout == b""
        assert f"bounce-parse: fatal: unable to parse {sample} as a bounce: ".encode() in result.stderr
        return
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(lines) == len(expected)
    for got, want in zip(lines, expected):
        assert list(got) == FIELDS  # stable field names, in order
        assert got["source"] == str(sample)
        assert got["reason"] in REASONS
        for field, value in want.items():
            assert got[field] == value, f"{sample.name}: {field}"


def test_stdin_gives_the_same_as_a_file():
    sample = CORPUS / "postfix-two-recipients.eml"
    from_stdin = bounce_parse("--json", input=sample.read_bytes())
    assert from_stdin.returncode == 0
    records = [json.loads(line) for line in from_stdin.stdout.decode().splitlines()]
    assert [r["recipient"] for r in records] == ["full1@remote.test", "unknown2@remote.test"]
    assert {r["source"] for r in records} == {"-"}


def test_table_for_people_is_aligned():
    result = bounce_parse(str(CORPUS / "rfc3464-several-recipients.eml"))
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert lines[0].split() == ["RECIPIENT", "ACTION", "STATUS", "REASON", "TYPE", "SOURCE", "DIAGNOSTIC"]
    assert len(lines) == 4
    column = lines[0].index("ACTION")
    assert all(line[column - 2:column] == "  " and line[column] != " " for line in lines)
    assert lines[1].split()[:5] == ["alice@customers.example", "failed", "5.1.1", "user-unknown", "hard"]


def test_suppress_prints_hard_failures_and_complaints_only():
    samples = [CORPUS / n for n in ("rfc3464-several-recipients.eml", "arf-abuse.eml", "auto-reply-vacation.eml",
                                    "postfix-spam-blocked.eml", "yahoo-dsn-deferred-complaints.eml")]
    result = bounce_parse("--suppress", *map(str, samples))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(r["recipient"], r["reason"]) for r in records] == [
        ("alice@customers.example", "user-unknown"), ("dave@nowhere.example", "host-unknown"),
        ("reader@isp.example", "complaint")]
    for r in records:
        assert r["hard"] is True and r["date"].endswith("Z") and r["recipient"]


def test_several_inputs_with_non_bounces_report_each_and_exit_65():
    inputs = [CORPUS / "qmail-remote-rejects.eml", CORPUS / "not-bounce-newsletter.eml",
              CORPUS / "exim-remote-failure.eml", CORPUS / "not-bounce-garbage.eml"]
    result = bounce_parse("--json", *map(str, inputs))
    assert result.returncode == 65
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["recipient"] for r in records] == ["erin@far.example", "frank@far.example", "ivan@destination.example"]
    err = result.stderr.decode()
    assert f"warning: unable to parse {inputs[1]} as a bounce" in err
    assert f"warning: unable to parse {inputs[3]} as a bounce" in err
    assert "fatal: unable to parse 2 of 4 messages as bounces" in err
    skipped = bounce_parse("--json", "--skip-other", *map(str, inputs))
    assert skipped.returncode == 0 and skipped.stderr == b""
    assert skipped.stdout == result.stdout


def test_mbox_is_split_into_messages(tmp_path):
    mbox = tmp_path / "bounces.mbox"
    parts = []
    for name in ("qmail-local-errors.eml", "not-bounce-newsletter.eml", "sendmail-dsn.eml"):
        parts.append(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + (CORPUS / name).read_bytes() + b"\n")
    mbox.write_bytes(b"".join(parts))
    result = bounce_parse("--json", str(mbox))
    assert result.returncode == 65
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(r["recipient"], r["source"]) for r in records] == [
        ("nobody@box.example.org", f"{mbox}#1"), ("someone@no-such-host.example", f"{mbox}#1"),
        ("late@slow.example", f"{mbox}#1"), ("mallory@campus.example", f"{mbox}#3")]
    assert f"unable to parse {mbox}#2 as a bounce".encode() in result.stderr


def test_maildir_reads_new_and_cur(tmp_path):
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1700000001.1.host").write_bytes((CORPUS / "arf-abuse.eml").read_bytes())
    (maildir / "cur" / "1700000000.1.host:2,S").write_bytes((CORPUS / "gmail-text-old.eml").read_bytes())
    (maildir / "tmp" / "1700000002.1.host").write_bytes((CORPUS / "qmail-local-errors.eml").read_bytes())
    result = bounce_parse("--json", str(maildir))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["recipient"] for r in records] == ["reader@isp.example", "victor@overflowing.example"]


def test_directory_that_is_no_maildir_is_an_error(tmp_path):
    result = bounce_parse(str(tmp_path))
    assert result.returncode == 65
    assert b"no Maildir" in result.stderr


def test_missing_file_is_an_error(tmp_path):
    result = bounce_parse(str(tmp_path / "absent.eml"))
    assert result.returncode == 75
    assert b"bounce-parse: fatal: unable to open" in result.stderr


def test_usage_errors_exit_64():
    assert bounce_parse("--no-such-option").returncode == 64
    assert bounce_parse("--state", "/tmp/x").returncode == 64  # --state needs --follow
    assert bounce_parse("--follow", "/tmp", "file.eml").returncode == 64


@pytest.mark.parametrize("name,action", [("postfix-user-unknown.eml", "failed"), ("postfix-delayed.eml", "delayed")])
def test_postfix_text_alone_is_read(tmp_path, name, action):
    # Without its delivery-status part (cut off), a Postfix report is still read from its text.
    sample = (CORPUS / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(sample[:sample.index(b"Content-Description: Delivery report")])
    result = bounce_parse("--json", str(path))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    want = expected_of(CORPUS / name)[0]
    assert (record["action"], record["format"]) == (action, "postfix")
    for field in ("recipient", "status", "smtp_code", "reason", "hard", "remote_mta"):
        assert record[field] == want[field], field


def test_a_pipe_named_as_a_file_is_read():
    sample = (CORPUS / "arf-abuse.eml").read_bytes()
    result = bounce_parse("--json", "/dev/stdin", input=sample)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["recipient"], record["source"]) == ("reader@isp.example", "/dev/stdin")
