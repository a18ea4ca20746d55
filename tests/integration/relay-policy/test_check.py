"""relay-policy check: every rule allows and refuses through the command line, with the
documented exit codes, JSON output, windows that roll over with --now, and both spool-run
filter modes of relay-filter(7)."""
import json
import os
import subprocess

import relaytest
from policykit import MESSAGE, NOW, check, make_policy, rp

RULES = """
[defaults]
sender-domains = none
[user shop]
sender-domains = shop.example *.shop.example
from-domains = shop.example
max-size = 2K
max-recipients = 2
user-messages = 3/minute
[user strict]
sender-domains = *
align = strict
[user trial]
sender-domains = trial.example
hold = yes
[network 198.51.100.0/24]
sender-domains = net.example
"""


def shop(*rcpts, sender="news@shop.example"):
    args = ["--user", "shop", "--sender", sender]
    for r in rcpts or ("b@example.test",):
        args += ["--rcpt", r]
    return args


def test_each_rule_allows_and_refuses(tmp_path):
    p = make_policy(tmp_path, RULES)
    assert check(p, *shop()) == (0, "accept 250 2.0.0 ok")
    assert check(p, *shop(sender="bounce@mail.shop.example"))[0] == 0
    code, out = check(p, *shop(sender="x@other.example"))
    assert (code, out) == (100, "reject 550 5.7.1 sender domain other.example is not allowed for user shop [sender-domains]")
    code, out = check(p, *shop(), message=b"From: x@mail.shop.example\r\n\r\nhi\r\n")
    assert code == 100 and "From domain mail.shop.example is not allowed" in out
    code, out = check(p, *shop(), message=MESSAGE + b"x" * 2048)
    assert code == 100 and out.startswith("reject 552 5.3.4 message size")
    code, out = check(p, *shop("a@example.test", "b@example.test", "c@example.test"))
    assert code == 100 and out.startswith("reject 550 5.5.3 too many recipients (3)")
    code, out = check(p, "--user", "strict", "--sender", "b@bounce.shop.example", "--rcpt", "r@example.test")
    assert code == 100 and "does not align with From domain shop.example (strict)" in out
    code, out = check(p, "--user", "trial", "--sender", "t@trial.example", "--rcpt", "r@example.test",
                      message=b"From: t@trial.example\r\n\r\nhi\r\n")
    assert (code, out) == (100, "hold 250 2.0.0 accepted and held for review [hold]")
    net = ["--client", "198.51.100.7", "--sender", "n@net.example", "--rcpt", "r@example.test"]
    assert check(p, *net, message=b"From: n@net.example\r\n\r\nx\r\n")[0] == 0
    assert check(p, "--client", "203.0.113.7", *net[2:], message=b"From: n@net.example\r\n\r\nx\r\n")[0] == 100


def test_rate_window_rolls_over_with_now(tmp_path):
    p = make_policy(tmp_path, RULES)
    assert [check(p, *shop())[0] for _ in range(3)] == [0, 0, 0]
    code, out = check(p, *shop())
    assert (code, out) == (75, "defer 451 4.7.1 rate limit user-messages 3/minute reached for user shop, "
                               "try again in 20 seconds [user-messages 3/minute]")
    assert check(p, *shop(), now=NOW + 19)[0] == 75
    assert check(p, *shop(), now=NOW + 20)[0] == 0
    assert check(p, *shop(), now=NOW + 20)[0] == 75
    assert [check(p, *shop(), now=NOW + 200)[0] for _ in range(4)] == [0, 0, 0, 75]


def test_json_and_explain(tmp_path):
    p = make_policy(tmp_path, RULES)
    r = rp(p, "check", "--json", *shop(), input=MESSAGE)
    v = json.loads(r.stdout)
    assert r.returncode == 0 and v["verdict"] == "accept" and v["code"] == 250
    assert v["recipients"] == [{"verdict": "accept", "code": 250, "status": "2.0.0", "text": "ok", "rule": "",
                                "recipient": "b@example.test"}]
    r = rp(p, "explain", "--json", "--user", "shop", "--sender", "x@shop.example")
    e = json.loads(r.stdout)
    assert e["section"] == "user shop" and e["sender_allowed"] is True and e["max_size"] == 2048
    assert e["windows"] == [{"setting": "user-messages", "rate": "3/minute", "subject": "user shop",
                             "used": 1, "limit": 3, "resets_in": 20}]
    text = rp(p, "explain", "--user", "shop", "--sender", "x@evil.example", now=NOW + 10).stdout.decode()
    assert "x@evil.example (NOT allowed)" in text and "used 1/3, empty in 10s" in text


def test_suppressed_recipient(tmp_path):
    p = make_policy(tmp_path, RULES)
    r = rp(p, "suppress", "--add", "gone@example.test", "--reason", "hard bounce")
    assert r.returncode == 0, r.stderr
    r = rp(p, "check", "--json", *shop("ok@example.test", "Gone@example.test"), input=MESSAGE)
    v = json.loads(r.stdout)
    assert r.returncode == 100
    assert v["code"] == 550 and v["status"] == "5.7.1"
    assert "recipient <Gone@example.test> is on the suppression list (hard bounce" in v["text"]
    assert [x["verdict"] for x in v["recipients"]] == ["accept", "reject"]


def test_usage_and_config_errors(tmp_path):
    p = make_policy(tmp_path, RULES)
    assert rp(p, "check", "--user", "shop", input=MESSAGE).returncode == 64
    bad = tmp_path / "bad.conf"
    bad.write_text("[defaults]\nsender-domains = ok.example\nmax-recipients = lots\n")
    r = rp(bad, "check", *shop(), input=MESSAGE)
    assert r.returncode == 78
    assert f"{bad}:3: invalid count \"lots\"".encode() in r.stderr


def test_per_message_filter_mode(tmp_path):
    p = make_policy(tmp_path, RULES)
    env = {"RELAY_SPOOL": str(tmp_path), "RELAY_STAGE": "incoming", "RELAY_ID": "q1", "RELAY_SENDER": "news@shop.example",
           "RELAY_RECIPIENTS": "a@example.test\nb@example.test\n", "RELAY_AUTH_USER": "shop",
           "RELAY_CLIENT_ADDRESS": "192.0.2.1", "RELAY_HELO": "web1"}
    r = rp(p, "check", "--filter", input=MESSAGE, env=env)
    assert r.returncode == 0 and r.stdout == MESSAGE, r.stderr   # the message passes unchanged
    env["RELAY_SENDER"] = "x@other.example"
    r = rp(p, "check", "--filter", input=MESSAGE, env=env)
    assert r.returncode == 100 and r.stdout == b""
    assert b"550 5.7.1 sender domain other.example" in r.stderr.strip().splitlines()[-1]   # the hold reason


def test_streaming_filter_mode(tmp_path):
    p = make_policy(tmp_path, RULES)
    def request(sender, rcpts, ident):
        env = f"version=1\nid={ident}\nsender={sender}\nauth=shop\n"
        env += "".join(f"rcpt={r}\nrcpt.state=pending\n" for r in rcpts) + "\n"
        return f"{len(env.encode())} {len(MESSAGE)}\n".encode() + env.encode() + MESSAGE
    frames = b"relay-filter 1\n" + request("news@shop.example", ["a@example.test"], "q1")
    frames += request("x@other.example", ["a@example.test"], "q2")
    frames += request("news@shop.example", ["a@example.test"], "q3")
    frames += request("news@shop.example", ["a@example.test"], "q4")
    frames += request("news@shop.example", ["a@example.test"], "q5")
    r = rp(p, "check", "--filter", input=frames, env={"RELAY_FILTER_PROTOCOL": "1"})
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith(b"relay-filter 1\n")
    out = out[len(b"relay-filter 1\n"):]
    verdicts = []
    while out:
        line, _, out = out.partition(b"\n")
        code, length, reason = (line.decode().split(" ", 2) + [""])[:3]
        body, out = out[:int(length)], out[int(length):]
        verdicts.append((int(code), reason, body))
    assert verdicts[0] == (0, "accept 250 2.0.0 ok", MESSAGE)
    assert verdicts[1][0] == 100 and "550 5.7.1 sender domain other.example" in verdicts[1][1]
    assert verdicts[2][0] == 0 and verdicts[3][0] == 0
    assert verdicts[4][0] == 75 and "451 4.7.1 rate limit user-messages 3/minute" in verdicts[4][1]
