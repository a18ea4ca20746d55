"""End to end: a message submitted to smtp-listen, signed by dkim-sign (through spool-run) and
delivered by mx-deliver over MX records from NSD reaches an SMTP receiver on loopback, where
dmarc-check gives dmarc=pass from what the receiver saw (client IP, HELO, MAIL FROM, bytes)
thanks to the aligned signature (SPF does not list the relay); the same message signed for
another domain fails DMARC there."""
import json
import os
import select
import smtplib
import subprocess

import pytest
from aiosmtpd.controller import Controller

import relaytest

MESSAGE = ("From: Alice <alice@good.test>\r\nTo: bob@dest.test\r\nSubject: {subject}\r\n"
           "Message-ID: <{subject}@good.test>\r\nDate: Sun, 29 Nov 2026 05:00:00 +0000\r\n\r\nHello, Bob.\r\n")


class Capture:
    """The receiving MTA: keeps what a DMARC verifier needs from each transaction."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append({"ip": session.peer[0], "helo": session.host_name, "mail_from": envelope.mail_from,
                              "data": envelope.original_content})
        return "250 2.0.0 accepted"


def keygen(directory, domain):
    key = directory / f"{domain}.pem"
    relaytest.run([relaytest.bin("dkim-keygen"), "-d", domain, "-s", "relay", "-k", str(key)], check=True)
    record = relaytest.run([relaytest.bin("dkim-keygen"), "-d", domain, "-s", "relay", "-k", str(key), "--print"],
                           check=True).stdout.decode()
    return key, record


@pytest.fixture
def relay(tmp_path, procs):
    good_key, good_record = keygen(tmp_path, "good.test")
    evil_key, evil_record = keygen(tmp_path, "evil.test")
    keys = tmp_path / "keytable"
    keys.write_text(f"good.test relay {good_key}\nevil.test relay {evil_key}\n")
    zones = {
        # SPF does not list the relay, so the DKIM signature alone decides DMARC.
        "good.test": relaytest.zone("good.test", ['@ TXT "v=spf1 ip4:192.0.2.0/24 -all"', '_dmarc TXT "v=DMARC1; p=reject"',
                                                  good_record]),
        "evil.test": relaytest.zone("evil.test", ['@ TXT "v=spf1 -all"', evil_record]),
        "dest.test": relaytest.zone("dest.test", ["@ MX 10 mx", "mx A 127.0.0.1"]),
    }
    dns = f"127.0.0.1:{relaytest.start_nsd(procs, tmp_path / 'nsd', zones)}"
    capture = Capture()
    receiver = Controller(capture, hostname="127.0.0.1", port=relaytest.free_port())
    receiver.start()
    spool = relaytest.make_spool(tmp_path / "spool")
    submit_port = relaytest.free_port()
    ready_read, ready_write = os.pipe()
    with open(tmp_path / "smtp-listen.log", "ab") as log:
        procs.start([relaytest.bin("smtp-listen"), "--spool", str(spool), "--listen", f"127.0.0.1:{submit_port}",
                     "--allow-ip", "127.0.0.0/8", "--hostname", "relay.good.test", "--notify-fd", str(ready_write)],
                    pass_fds=(ready_write,), stdout=log, stderr=log)
    os.close(ready_write)
    assert select.select([ready_read], [], [], 20)[0], "smtp-listen did not start"
    os.close(ready_read)
    yield {"dns": dns, "capture": capture, "spool": spool, "submit_port": submit_port, "keys": keys,
           "receiver_port": receiver.port}
    receiver.stop()


def send_through_relay(relay, subject, sign_args):
    with smtplib.SMTP("127.0.0.1", relay["submit_port"], local_hostname="app.good.test", timeout=20) as client:
        client.sendmail("bounce@good.test", ["bob@dest.test"], MESSAGE.format(subject=subject).encode())
    relaytest.wait_published(relay["spool"])
    signing = relaytest.run([relaytest.bin("spool-run"), "--spool", str(relay["spool"]), "--from", "incoming",
                             "--to", "outgoing", "--", relaytest.bin("dkim-sign"), "--keys", str(relay["keys"]),
                             *sign_args], timeout=60)
    assert signing.returncode == 0, signing.stderr
    delivery = relaytest.run([relaytest.bin("mx-deliver"), "--spool", str(relay["spool"]), "--resolver", relay["dns"],
                              "--port", str(relay["receiver_port"]), "--tls", "none", "--hostname", "relay.good.test"],
                             timeout=60)
    assert delivery.returncode == 0, delivery.stderr
    assert len(relay["capture"].received) == 1, delivery.stderr
    return relay["capture"].received.pop()


def dmarc_at_receiver(relay, seen, tmp_path):
    path = tmp_path / "received.eml"
    path.write_bytes(seen["data"])
    result = relaytest.run([relaytest.bin("dmarc-check"), "--json", "--resolver", relay["dns"], "--message", str(path),
                            "--ip", seen["ip"], "--helo", seen["helo"], "--mail-from", seen["mail_from"],
                            "--authserv-id", "mx.dest.test"])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_relayed_message_passes_dmarc_and_wrong_domain_fails(relay, tmp_path):
    seen = send_through_relay(relay, "signed-right", [])
    assert seen["helo"] == "relay.good.test" and seen["mail_from"] == "bounce@good.test"
    verdict = dmarc_at_receiver(relay, seen, tmp_path)
    assert verdict["dmarc"] == "pass", verdict
    assert verdict["dkim"] == [{"domain": "good.test", "selector": "relay", "result": "pass"}]
    assert verdict["dkim_aligned"] and verdict["spf"] == "fail" and not verdict["spf_aligned"]
    assert "dmarc=pass (p=reject dis=none) header.from=good.test" in verdict["authentication_results"]

    seen = send_through_relay(relay, "signed-wrong", ["--domain", "evil.test"])
    verdict = dmarc_at_receiver(relay, seen, tmp_path)
    assert verdict["dkim"][0]["domain"] == "evil.test" and verdict["dkim"][0]["result"] == "pass"
    assert not verdict["dkim_aligned"] and verdict["spf"] == "fail"
    assert verdict["dmarc"] == "fail" and verdict["disposition"] == "reject"
    assert "dmarc=fail (p=reject dis=reject) header.from=good.test" in verdict["authentication_results"]
