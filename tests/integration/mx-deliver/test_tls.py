"""mx-deliver's TLS: each policy (none, may, encrypt, verify, per domain) against an aiosmtpd
STARTTLS peer with a good, a wrong-name and a self-signed certificate; the plaintext retry
after a failed opportunistic handshake; AUTH to a relay host over STARTTLS and implicit TLS."""
import json
import os

import pytest

import relaytest
from conftest import fake_mx, mx_deliver, raw_mx, received, shared_tmpdir

ZONE = relaytest.zone("example.test", ["@ MX 10 mx", "mx A 127.0.0.2", "smtps A 127.0.0.3",
                                       "other MX 10 mx"])


@pytest.fixture(scope="module")
def env():
    procs = relaytest.Processes()
    with shared_tmpdir("tls") as tmp:
        try:
            port = relaytest.start_nsd(procs, tmp / "nsd", {"example.test": ZONE})
            yield {"resolver": f"127.0.0.1:{port}", "certs": relaytest.make_certs(tmp / "certs"),
                   "port": relaytest.free_port("127.0.0.2")}
        finally:
            procs.stop_all()


def peer(env, procs, tmp, cert="server_cert", key="server_key", *more):
    c = env["certs"]
    return fake_mx(procs, tmp, "127.0.0.2", env["port"], "--cert", c[cert], "--key", c[key], *more)


def deliver(env, *extra, rcpt="b@example.test"):
    return mx_deliver("-f", "a@example.org", rcpt, "--resolver", env["resolver"], "--port", env["port"],
                      "--max-wait", "5", "--tls-ca", env["certs"]["ca"], *extra)


def meta(out):
    return json.loads(sorted(out.glob("*.json"))[0].read_text())


def test_may_uses_tls_and_reports_verification(env, procs, tmp):
    out = peer(env, procs, tmp)
    rc, rows, err = deliver(env)
    assert rc == 0, (rows, err)
    assert rows[0]["tls"].startswith("TLSv1.") and rows[0]["tls"].endswith(":verified")
    assert meta(out)["tls"] is True


def test_may_accepts_self_signed(env, procs, tmp):
    out = peer(env, procs, tmp, "self_cert", "self_key")
    rc, rows, err = deliver(env)
    assert rc == 0, (rows, err)
    assert rows[0]["tls"].endswith(":unverified")
    assert meta(out)["tls"] is True


def test_verify_good_certificate(env, procs, tmp):
    out = peer(env, procs, tmp)
    rc, rows, err = deliver(env, "--tls", "verify")
    assert rc == 0, (rows, err)
    assert rows[0]["tls"].endswith(":verified")
    assert len(received(out)) == 1


@pytest.mark.parametrize("cert,key", [("wrong_cert", "server_key"), ("self_cert", "self_key"),
                                      ("expired_cert", "server_key")])
def test_verify_refuses_bad_certificates(env, procs, tmp, cert, key):
    out = peer(env, procs, tmp, cert, key)
    rc, rows, err = deliver(env, "--tls", "verify")
    assert rc == 75, (rows, err)
    assert rows[0]["status"] == "deferred" and rows[0]["dsn"] == "4.7.5"
    assert not received(out)


def test_per_domain_policy(env, procs, tmp):
    out = peer(env, procs, tmp, "self_cert", "self_key")
    rc, rows, err = deliver(env, "--tls-policy", "example.test=verify")
    assert rc == 75 and rows[0]["dsn"] == "4.7.5"
    rc, rows, err = deliver(env, "--tls-policy", "example.test=verify", rcpt="b@other.example.test")
    assert rc == 0, (rows, err)
    assert len(received(out)) == 1


def test_encrypt_accepts_any_certificate(env, procs, tmp):
    out = peer(env, procs, tmp, "self_cert", "self_key")
    rc, rows, err = deliver(env, "--tls", "encrypt")
    assert rc == 0, (rows, err)
    assert meta(out)["tls"] is True


def test_encrypt_without_starttls_defers(env, procs, tmp):
    relaytest.start_smtp_sink(procs, tmp / "sink", address="127.0.0.2", port=env["port"])
    rc, rows, err = deliver(env, "--tls", "encrypt")
    assert rc == 75 and rows[0]["dsn"] == "4.7.4"
    assert not relaytest.sink_messages(tmp / "sink")


def test_none_stays_plaintext(env, procs, tmp):
    out = peer(env, procs, tmp)
    rc, rows, err = deliver(env, "--tls", "none")
    assert rc == 0, (rows, err)
    assert rows[0]["tls"] == "none" and meta(out)["tls"] is False


def test_failed_handshake_retries_in_plaintext_once(env, procs, tmp):
    out = raw_mx(procs, tmp, "127.0.0.2", env["port"], "bad-tls")
    rc, rows, err = deliver(env)
    assert rc == 0, (rows, err)
    assert rows[0]["tls"] == "none" and "trying again without TLS" in err
    assert len(received(out)) == 1
    rc, rows, err = deliver(env, "--tls", "encrypt")
    assert rc == 75 and rows[0]["dsn"] == "4.7.5"
    assert len(received(out)) == 1


def write_secret(tmp, text, mode):
    path = tmp / "passwords"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_auth_to_relayhost_over_starttls(env, procs, tmp):
    out = peer(env, procs, tmp)
    secret = write_secret(tmp, f"mx.example.test:{env['port']} user secret\n", 0o600)
    rc, rows, err = deliver(env, "--relayhost", f"mx.example.test:{env['port']}", "--auth-file", secret,
                            rcpt="b@elsewhere.test")
    assert rc == 0, (rows, err)
    assert meta(out)["auth"] is True and meta(out)["tls"] is True
    assert "secret" not in err


def test_auth_login_when_plain_is_not_offered(env, procs, tmp):
    out = peer(env, procs, tmp, "server_cert", "server_key", "--login-only")
    secret = write_secret(tmp, f"mx.example.test:{env['port']} user secret\n", 0o600)
    rc, rows, err = deliver(env, "--relayhost", f"mx.example.test:{env['port']}", "--auth-file", secret,
                            rcpt="b@elsewhere.test")
    assert rc == 0, (rows, err)
    assert meta(out)["auth"] is True


def test_auth_refused_defers(env, procs, tmp):
    out = peer(env, procs, tmp)
    secret = write_secret(tmp, "mx.example.test user wrong-password\n", 0o600)
    rc, rows, err = deliver(env, "--relayhost", f"mx.example.test:{env['port']}", "--auth-file", secret,
                            rcpt="b@elsewhere.test")
    assert rc == 75 and rows[0]["dsn"] == "4.7.8", rows
    assert not received(out) and "wrong-password" not in err + str(rows)


def test_readable_credentials_refused(env, tmp):
    secret = write_secret(tmp, "mx.example.test user secret\n", 0o640)
    rc, rows, err = deliver(env, "--relayhost", "mx.example.test:25", "--auth-file", secret)
    assert rc == 77 and "group or others" in err and not rows


def test_auth_over_implicit_tls(env, procs, tmp):
    c = env["certs"]
    out = fake_mx(procs, tmp, "127.0.0.3", 465, "--cert", c["server_cert"], "--key", c["server_key"], "--smtps")
    secret = write_secret(tmp, "smtps.example.test user secret\n", 0o600)
    rc, rows, err = deliver(env, "--relayhost", "nowhere.example.test:25,smtps.example.test:465",
                            "--auth-file", secret, rcpt="b@elsewhere.test")
    assert rc == 0, (rows, err)
    assert rows[0]["remote"] == "smtps.example.test[127.0.0.3]:465"
    # aiosmtpd 1.4.3 does not mark implicit-TLS sessions as TLS: the report says it.
    assert rows[0]["tls"].startswith("TLSv1.") and meta(out)["auth"] is True


def test_implicit_tls_verify_checks_the_relay_name(env, procs, tmp):
    c = env["certs"]
    out = fake_mx(procs, tmp, "127.0.0.3", 465, "--cert", c["server_cert"], "--key", c["server_key"], "--smtps")
    # The certificate names mx.example.test, the relay host is smtps.example.test.
    rc, rows, err = deliver(env, "--relayhost", "smtps.example.test:465", "--tls", "verify", rcpt="b@elsewhere.test")
    assert rc == 75 and rows[0]["dsn"] == "4.7.5", rows
    assert not received(out)
