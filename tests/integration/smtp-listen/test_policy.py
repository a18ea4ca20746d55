"""relay-policy checked in process at MAIL, RCPT and the end of DATA: refusals are SMTP
replies, held messages land in hold/."""
import pathlib
import subprocess

import listen_helpers as lh
import relaytest


def make_policy(tmp_path):
    path = tmp_path / "policy.conf"
    path.write_text(f"version = 1\nstore = {tmp_path / 'store'}\n"
                    "[defaults]\nsender-domains = example.org\nmax-recipients = 2\nalign = none\n"
                    "[user alice]\nsender-domains = alice.example\nhold = yes\n")
    policy = relaytest.bin("relay-policy")
    relaytest.run([policy, "--policy", str(path), "init"], check=True)
    relaytest.run([policy, "--policy", str(path), "suppress", "--add", "blocked@example.test"], check=True)
    return str(path)


def transaction(c, sender, recipients, body):
    replies = [c.cmd(f"MAIL FROM:<{sender}>")]
    if replies[0][0] != 250:
        return replies
    replies += [c.cmd(f"RCPT TO:<{r}>") for r in recipients]
    if not any(code == 250 for code, _ in replies[1:]):
        c.cmd("RSET")
        return replies
    replies.append(c.cmd("DATA"))
    replies.append(c.cmd(body + "\r\n."))
    return replies


def test_policy_at_mail_rcpt_and_data(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--policy", make_policy(tmp_path))
    c = lh.Client(server.port)
    lh.ehlo(c)
    r = transaction(c, "a@other.test", [], "")
    assert r[0][1][0].startswith("550 5.7.1") and "sender domain other.test" in r[0][1][0]
    r = transaction(c, "a@example.org", ["b@example.test", "blocked@example.test", "c@example.test", "d@example.test"],
                    "From: a@example.org\r\nSubject: ok\r\n\r\nhi")
    assert [code for code, _ in r[1:5]] == [250, 550, 250, 452]
    assert "suppression list" in r[2][1][0] and r[4][1][0].startswith("452 4.5.3")
    assert r[-1][1][0].startswith("250 2.0.0 Ok: queued as")
    r = transaction(c, "a@example.org", ["b@example.test"], "From: x@evil.test\r\nSubject: spoof\r\n\r\nhi")
    assert r[-1][1][0] == "550 5.7.1 From domain evil.test is not allowed for client 127.0.0.1"
    assert len(server.incoming()) == 1
    envelope, _ = server.message()
    assert envelope["rcpt"] == ["b@example.test", "c@example.test"]
    assert relaytest.spool_files(server.spool, "tmp") == []
    assert "status=policy rule=sender-domains" in server.log()


def test_policy_hold_for_authenticated_user(procs, tmp_path):
    auth = lh.make_auth_file(tmp_path)
    server = lh.start(procs, tmp_path, "--auth-file", auth, "--allow-plaintext-auth", "--policy", make_policy(tmp_path))
    c = lh.Client(server.port)
    lh.ehlo(c)
    assert c.cmd("AUTH PLAIN " + lh.base64_plain("alice", lh.USERS["alice"]))[0] == 235
    r = transaction(c, "alice@alice.example", ["b@example.test"], "From: alice@alice.example\r\n\r\nheld")
    assert r[-1][0] == 250
    assert server.incoming() == []
    held = relaytest.spool_files(server.spool, "hold")
    assert len(held) == 1
    envelope, message = relaytest.read_spool_file(pathlib.Path(server.spool) / "hold" / held[0])
    assert envelope["auth"] == ["alice"]
    assert "status=held" in server.log()


def test_bad_policy_file_is_a_config_error(tmp_path):
    bad = tmp_path / "policy.conf"
    bad.write_text("[defaults]\nmax-sise = 10\n")
    spool = relaytest.make_spool(tmp_path / "spool")
    out = relaytest.run([relaytest.bin("smtp-listen"), "--spool", str(spool), "--listen", "127.0.0.1:0",
                         "--policy", str(bad)], timeout=10)
    assert out.returncode == 78, out.stderr
    assert b"policy.conf:2" in out.stderr
