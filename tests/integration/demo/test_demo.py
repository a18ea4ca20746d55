"""The README's first command: the demo relay takes a message over SMTP with STARTTLS and
AUTH, signs it, and delivers it to its local sink."""
import os
import pathlib
import subprocess

import relaytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_demo_self_test_delivers_a_signed_message(workdir):
    # Run as the README says, with sh.
    env = dict(os.environ, RELAY_DEMO_NO_SETUP="1", RELAY_BIN=str(relaytest.BIN),
               RELAY_DEMO_DIR=str(workdir / "demo"),
               RELAY_DEMO_PORT=str(relaytest.free_port()), RELAY_DEMO_SINK_PORT=str(relaytest.free_port()))
    result = subprocess.run(["sh", str(ROOT / "scripts" / "demo.sh"), "--self-test"], env=env, timeout=120,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode() + (workdir / "demo" / "relay.log").read_text()
    delivered = [p for p in (workdir / "demo" / "sink").rglob("*") if p.is_file()]
    assert len(delivered) == 1
    text = delivered[0].read_bytes()
    assert b"DKIM-Signature:" in text and b"d=example.test" in text
    assert b"Subject: relay demo self-test" in text
    assert b"Received: from " in text
