"""End to end through smtp-listen, which checks relay-policy in process: an authenticated user
sending from a domain not theirs gets 550 at MAIL (envelope) or at the end of DATA (header
From), an over-limit user gets 451 4.7.1, a suppressed recipient gets 550 at RCPT, and what
was accepted is in the spool."""
import os
import re
import select
import smtplib
import subprocess

import relaytest
from policykit import make_policy, rp

POLICY = """
[defaults]
sender-domains = none
[user alice]
sender-domains = alice.example
user-messages = 2/hour
"""
PASSWORD = "alice-secret"


def start_listen(procs, tmp_path, policy):
    users = tmp_path / "users"
    hashed = subprocess.run(["openssl", "passwd", "-6", PASSWORD], check=True, stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    users.write_text(f"alice:{hashed}\n")
    os.chmod(users, 0o600)
    spool = relaytest.make_spool(tmp_path / "spool")
    proc = procs.start([relaytest.bin("smtp-listen"), "--spool", str(spool), "--listen", "127.0.0.1:0",
                        "--hostname", "relay.example.test", "--auth-file", str(users), "--allow-plaintext-auth",
                        "--policy", str(policy)],
                       stdout=subprocess.PIPE, stderr=open(tmp_path / "listen.log", "wb"))
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline().decode() if ready else ""
    m = re.match(r"listening 127\.0\.0\.1:(\d+)", line)
    assert m, (line, (tmp_path / "listen.log").read_text())
    return spool, int(m.group(1))


def send(port, sender, recipients, from_header):
    """One message from alice; returns the SMTP reply that ended it (code, text)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.login("alice", PASSWORD)
        try:
            refused = s.sendmail(sender, recipients, f"From: {from_header}\r\nSubject: t\r\n\r\nhi\r\n".encode())
            return (250, "", refused)
        except smtplib.SMTPSenderRefused as e:
            return (e.smtp_code, e.smtp_error.decode(), {})
        except smtplib.SMTPRecipientsRefused as e:
            return (0, "", {r: (c, t.decode()) for r, (c, t) in e.recipients.items()})
        except smtplib.SMTPDataError as e:
            return (e.smtp_code, e.smtp_error.decode(), {})


def test_smtp_listen_answers_with_the_policy(procs, tmp_path):
    policy = make_policy(tmp_path, POLICY)
    assert rp(policy, "suppress", "--add", "gone@example.test", "--reason", "hard bounce").returncode == 0
    spool, port = start_listen(procs, tmp_path, policy)

    code, text, _ = send(port, "alice@elsewhere.example", ["b@example.test"], "alice@alice.example")
    assert (code, text) == (550, "5.7.1 sender domain elsewhere.example is not allowed for user alice")
    code, text, _ = send(port, "alice@alice.example", ["b@example.test"], "ceo@elsewhere.example")
    assert (code, text) == (550, "5.7.1 From domain elsewhere.example is not allowed for user alice")

    code, _, refused = send(port, "alice@alice.example", ["gone@example.test"], "alice@alice.example")
    assert refused["gone@example.test"][0] == 550
    assert refused["gone@example.test"][1].startswith("5.7.1 recipient <gone@example.test> is on the suppression list")

    code, _, refused = send(port, "alice@alice.example", ["b@example.test", "gone@example.test"], "alice@alice.example")
    assert code == 250 and refused["gone@example.test"][0] == 550
    assert send(port, "alice@alice.example", ["c@example.test"], "alice@alice.example")[0] == 250
    code, text, _ = send(port, "alice@alice.example", ["d@example.test"], "alice@alice.example")
    assert code == 451 and text.startswith("4.7.1 rate limit user-messages 2/hour reached for user alice, try again in")

    relaytest.wait_published(spool)
    incoming = relaytest.spool_files(spool, "incoming")
    assert len(incoming) == 2
    rcpts = sorted(relaytest.read_spool_file(spool / "incoming" / n)[0]["rcpt"][0] for n in incoming)
    assert rcpts == ["b@example.test", "c@example.test"]
