"""Malformed and hostile input: the program never crashes, answers within a bounded time, and
says "not a bounce" (exit 65) or reads what it can (exit 0)."""
import json
import pathlib
import random

import pytest

import relaytest

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def parse(path, *extra):
    result = relaytest.run([relaytest.bin("bounce-parse"), "--json", *extra, str(path)], timeout=60)
    assert result.returncode in (0, 65), (path, result.returncode, result.stderr[-500:])
    return result


def hostile_messages():
    yield "nested", "".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(20000))
    yield "enclosed", "Content-Type: message/rfc822\n\n" * 20000
    yield "parts", "Content-Type: multipart/report; boundary=p\n\n" + "--p\n\nx\n" * 200000
    yield "long-header", "Subject: " + "x" * (4 << 20) + "\n\nbody\n"
    yield "failed-recipients", ("From: MAILER-DAEMON@x.example\nX-Failed-Recipients: "
                                + ",".join(f"u{i}@example.com" for i in range(50000))
                                + "\n\n" + "550 5.1.1 <u1@example.com> unknown\n" * 100000)
    yield "boundary-storm", ("Content-Type: multipart/report; report-type=delivery-status; boundary=\"\"\n\n"
                             + "--\n" * 100000)
    yield "encoded-words", "Subject: " + "=?utf-8?Q?=" * 100000 + "\n\n"
    yield "binary", bytes(random.Random(7).randrange(256) for _ in range(1 << 20))


@pytest.mark.parametrize("name,content", list(hostile_messages()), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_hostile_input(tmp_path, name, content):
    path = tmp_path / f"{name}.eml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    parse(path)


def test_mutated_corpus_never_crashes(tmp_path):
    rng = random.Random(1234)
    samples = sorted(CORPUS.glob("*.eml"))
    paths = []
    for i in range(200):
        data = bytearray(rng.choice(samples).read_bytes())
        for _ in range(rng.randrange(1, 20)):
            if not data:  # cut away whole: an empty message is a case too
                break
            at = rng.randrange(len(data))
            op = rng.randrange(3)
            if op == 0:
                data[at] = rng.choice(b"\x00\n\r-:;=?\"<>@ \xff")
            elif op == 1:
                del data[at:at + rng.randrange(80)]
            else:
                data[at:at] = data[rng.randrange(len(data)):][:rng.randrange(200)]
        path = tmp_path / f"m{i:03}.eml"
        path.write_bytes(bytes(data))
        paths.append(str(path))
    result = relaytest.run([relaytest.bin("bounce-parse"), "--json", "--skip-other", *paths], timeout=120)
    assert result.returncode == 0, result.stderr[-500:]


def test_max_size_bounds_what_is_read(tmp_path):
    sample = (CORPUS / "postfix-user-unknown.eml").read_bytes()
    path = tmp_path / "bounce.eml"
    path.write_bytes(sample)
    whole = json.loads(parse(path, "--max-size", str(len(sample))).stdout)
    assert whole["original_recipient"] == "unknown1@remote.test"  # from the delivery-status part
    # Cut before the delivery-status part: only Postfix's text is left to read.
    cut = json.loads(parse(path, "--max-size", str(sample.index(b"Final-Recipient"))).stdout)
    assert (cut["recipient"], cut["original_recipient"], cut["status"]) == ("unknown1@remote.test", "", "5.1.1")
    assert relaytest.run([relaytest.bin("bounce-parse"), "--max-size", "10", str(path)]).returncode == 64
