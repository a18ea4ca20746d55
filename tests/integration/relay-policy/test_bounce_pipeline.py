"""The pipeline of the design guide, with the real producer: bounce-parse --json over real
bounces, piped into relay-policy suppress --add -; hard bounces and complaints are then refused
at RCPT, soft bounces and delays are not."""
import pathlib

import relaytest
from policykit import check, make_policy, rp

CORPUS = pathlib.Path(__file__).resolve().parents[1] / "bounce-parse" / "corpus"
BOUNCES = ["postfix-user-unknown.eml", "postfix-two-recipients.eml", "postfix-delayed.eml", "arf-abuse.eml"]


def test_bounce_parse_into_suppress(tmp_path):
    p = make_policy(tmp_path, "[defaults]\nsender-domains = *\n")
    parsed = relaytest.run([relaytest.bin("bounce-parse"), "--json"] + [str(CORPUS / b) for b in BOUNCES])
    assert parsed.returncode == 0, parsed.stderr
    r = rp(p, "suppress", "--add", "-", input=parsed.stdout)
    assert r.returncode == 0, r.stderr
    entries = sorted(line.split()[0] for line in rp(p, "suppress", "--list").stdout.decode().splitlines())
    assert entries == ["reader@isp.example", "unknown1@remote.test", "unknown2@remote.test"]
    envelope = ["--sender", "news@shop.example"]
    code, out = check(p, *envelope, "--rcpt", "unknown1@remote.test")
    assert code == 100 and "(user-unknown 5.1.1, since" in out
    code, out = check(p, *envelope, "--rcpt", "reader@isp.example")
    assert code == 100 and "(complaint, since 2026-03-12T17:02:44Z)" in out
    assert check(p, *envelope, "--rcpt", "full1@remote.test")[0] == 0     # mailbox full: soft
    assert check(p, *envelope, "--rcpt", "slow1@remote.test")[0] == 0     # delayed: soft
