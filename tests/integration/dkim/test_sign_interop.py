"""dkim-sign's signatures checked by independent verifiers: dkimpy and Perl Mail::DKIM (keys
from the test NSD), and libopendkim through dkim-verify; rsa-sha256 and ed25519-sha256,
simple and relaxed, over the message shapes relays meet."""
import pytest

CRLF_MESSAGE = (b"From: Joe Sender <joe@example.test>\r\n"
                b"To: Suzie <suzie@example.net>\r\n"
                b"Subject: dinner\r\n"
                b"Date: Sun, 29 Nov 2026 05:42:00 +0000\r\n"
                b"Message-ID: <1@example.test>\r\n"
                b"\r\n"
                b"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n")

MESSAGES = {
    "crlf": CRLF_MESSAGE,
    "lf": CRLF_MESSAGE.replace(b"\r\n", b"\n"),
    "folded_headers": (b"From: \"A very long display name, folded\"\r\n  <joe@example.test>\r\n"
                       b"To: one@example.net,\r\n\ttwo@example.net,  \r\n three@example.net\r\n"
                       b"Subject: a subject that goes on\r\n   and on  \r\n\t and on\r\n"
                       b"Date: Sun, 29 Nov 2026 05:42:00 +0000\r\n\r\nbody\r\n"),
    "long_lines": (b"From: joe@example.test\r\nSubject: " + b"s" * 900 + b"\r\n\r\n"
                   + b"x" * 20000 + b"\r\n" + (b"word " * 400).strip() + b"\r\n"),
    "eight_bit": ("From: Jörg <joerg@example.test>\r\nSubject: Grüße\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                  "Grüße aus Köln, 東京\r\n").encode() + b"latin-1: \xe9\xe8\r\n",
    "empty_body": b"From: joe@example.test\r\nSubject: nothing\r\n\r\n",
    "trailing_blank_lines": b"From: joe@example.test\r\nSubject: t\r\n\r\nbody  \r\n \r\n\r\n\r\n",
    "no_final_line_end": b"From: joe@example.test\nSubject: t\n\nlast line without end",
}
CANONS = ["simple/simple", "relaxed/relaxed", "relaxed/simple"]


@pytest.fixture(scope="module")
def signed(setup):
    """Every message signed under every canonicalization with the rsa and the ed key."""
    out = {}
    for name, message in MESSAGES.items():
        for canon in CANONS:
            result = setup.sign(message, "--canonicalization", canon)
            assert result.returncode == 0, result.stderr
            out[name, canon] = result.stdout
    return out


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_dkimpy_accepts_both_signatures(setup, signed, name, canon):
    assert setup.dkimpy_results(signed[name, canon]) == [True, True]


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_mail_dkim_accepts_the_rsa_signature(setup, signed, name, canon):
    # Debian 12's Mail::DKIM (1.20230212) has no ed25519-sha256; it must still pass rsa-sha256.
    results = dict((sel, (res, detail)) for sel, res, *detail in setup.mail_dkim_results(signed[name, canon]))
    assert results["rsa"][0] == "pass", results


@pytest.mark.parametrize("canon", CANONS)
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_libopendkim_accepts_both_signatures(setup, signed, name, canon):
    result = setup.verify(signed[name, canon])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == ["pass", "pass"], lines


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_bytes_are_kept(signed, name):
    message = MESSAGES[name]
    out = signed[name, "relaxed/relaxed"]
    assert out.endswith(message)
    added = out[:len(out) - len(message)]
    line_end = b"\n" if b"\r\n" not in message else b"\r\n"
    assert added.count(b"DKIM-Signature:") == 2
    if line_end == b"\n":
        assert b"\r" not in added  # the added fields follow the message's own line ends
    assert added.endswith(line_end)
