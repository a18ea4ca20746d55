"""smtp-listen against independent clients (swaks, Python smtplib, curl), each checking what
landed in the spool byte for byte."""
import re
import smtplib
import ssl
import subprocess

import pytest

import listen_helpers as lh
import relaytest

MESSAGE = (b"From: Alice <alice@example.org>\r\nTo: bob@example.test\r\nSubject: hello\r\n"
           b"Date: Sun, 29 Nov 2026 05:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n\r\n"
           b"line one\r\n.leading dot\r\n..two dots\r\n\r\nend\r\n")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return relaytest.make_certs(tmp_path_factory.mktemp("certs"))


def swaks_data(tmp_path):
    """MESSAGE for swaks --data: swaks ends the data with its own CRLF before the dot."""
    path = tmp_path / "msg.eml"
    path.write_bytes(MESSAGE[:-2])
    return str(path)


def swaks(*args):
    return subprocess.run(["swaks", "--timeout", "10", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=60)


def test_swaks_pipelining_lands_byte_for_byte(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.0/8")
    data = swaks_data(tmp_path)
    out = swaks("--server", f"127.0.0.1:{server.port}", "--pipeline", "-f", "alice@example.org",
                "-t", "bob@example.test,carol@example.test", "--data", data)
    assert out.returncode == 0, out.stdout
    assert "250 2.0.0 Ok: queued as" in out.stdout
    envelope, message = server.message()
    assert envelope["sender"] == ["alice@example.org"]
    assert envelope["rcpt"] == ["bob@example.test", "carol@example.test"]
    assert envelope["client"] == ["127.0.0.1"]
    assert envelope["protocol"] == ["ESMTP"]
    received, rest = lh.received_and_rest(message)
    # dot-unstuffing: what swaks stuffed comes back as the file had it
    assert rest == MESSAGE
    assert b"tls=none; authenticated=no" in received
    assert envelope["id"][0].encode() in received


def test_smtplib_starttls_auth_smtputf8(procs, tmp_path, certs):
    auth = lh.make_auth_file(tmp_path)
    server = lh.start(procs, tmp_path, "--auth-file", auth, certs=certs)
    body = "From: alice@example.org\r\nSubject: utf8\r\n\r\nGrüße\r\n".encode()
    with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as s:
        s.ehlo("client.example.test")
        assert s.has_extn("starttls") and not s.has_extn("auth")   # no AUTH before TLS
        s.starttls(context=ssl.create_default_context(cafile=certs["ca"]))
        s.ehlo("client.example.test")
        assert s.has_extn("auth") and s.has_extn("smtputf8")
        s.login("alice", lh.USERS["alice"])
        refused = s.sendmail("alice@example.org", ["用户@example.test"], body, mail_options=["SMTPUTF8"])
        assert refused == {}
    envelope, message = server.message()
    assert envelope["auth"] == ["alice"]
    assert envelope["smtputf8"] == ["1"]
    assert envelope["rcpt"] == ["用户@example.test"]
    assert envelope["tls"][0].startswith("TLSv1.3 ")
    assert envelope["protocol"] == ["UTF8SMTPSA"]
    received, rest = lh.received_and_rest(message)
    assert b"authenticated=yes" in received and b"tls=TLSv1.3 " in received
    assert lh.USERS["alice"].encode() not in message
    # RFC 6409: an authenticated submission without Date and Message-ID gets both
    head, _, text = rest.partition(b"\r\n\r\n")
    assert text == "Grüße\r\n".encode()
    lines = head.split(b"\r\n")
    assert lines[:2] == [b"From: alice@example.org", b"Subject: utf8"]
    assert re.fullmatch(rb"Date: \w\w\w, \d\d \w\w\w \d{4} \d\d:\d\d:\d\d \+0000", lines[2])
    assert re.fullmatch(rb"Message-ID: <[^>]+@relay\.example\.test>", lines[3])
    assert lh.USERS["alice"] not in server.log()


def test_swaks_auth_login_and_implicit_tls(procs, tmp_path, certs):
    auth = lh.make_auth_file(tmp_path)
    server = lh.start(procs, tmp_path, "--auth-file", auth, certs=certs, listen_tls=("127.0.0.1:0",))
    data = swaks_data(tmp_path)
    common = ["-f", "bob@example.org", "-t", "x@example.test", "--auth-user", "bob", "--auth-password",
              lh.USERS["bob"], "--data", data, "--tls-verify", "--tls-ca-path", certs["ca"]]
    out = swaks("--server", f"127.0.0.1:{server.port}", "--tls", "--auth", "LOGIN", *common)
    assert out.returncode == 0, out.stdout
    assert "235 2.7.0" in out.stdout
    out = swaks("--server", f"127.0.0.1:{server.tls_port}", "--tls-on-connect", "--auth", "PLAIN", "--pipeline",
                *common)
    assert out.returncode == 0, out.stdout
    names = server.incoming()
    assert len(names) == 2
    for name in names:
        envelope, message = server.message(name)
        assert envelope["auth"] == ["bob"]
        assert envelope["protocol"] == ["ESMTPSA"]
        assert lh.received_and_rest(message)[1] == MESSAGE


def test_curl_smtp_starttls_and_smtps(procs, tmp_path, certs):
    auth = lh.make_auth_file(tmp_path)
    server = lh.start(procs, tmp_path, "--auth-file", auth, certs=certs, listen_tls=("127.0.0.1:0",))
    data = tmp_path / "msg.eml"
    data.write_bytes(MESSAGE)
    user = f"alice:{lh.USERS['alice']}"
    for url, extra in ((f"smtp://mx.example.test:{server.port}", ["--ssl-reqd"]),
                       (f"smtps://mx.example.test:{server.tls_port}", [])):
        port = url.rsplit(":", 1)[1]
        out = subprocess.run(["curl", "-sS", "--max-time", "10", *extra, "--cacert", certs["ca"], "--resolve",
                              f"mx.example.test:{port}:127.0.0.1", url, "--user", user, "--mail-from",
                              "alice@example.org", "--mail-rcpt", "bob@example.test", "--upload-file", str(data)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        assert out.returncode == 0, out.stdout
    names = server.incoming()
    assert len(names) == 2
    for name in names:
        envelope, message = server.message(name)
        assert envelope["auth"] == ["alice"] and envelope["rcpt"] == ["bob@example.test"]
        assert lh.received_and_rest(message)[1] == MESSAGE


def test_bdat_dsn_parameters_and_replies(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--max-message-size", "100000")
    c = lh.Client(server.port)
    lines = lh.ehlo(c)
    for word in ("PIPELINING", "SIZE 100000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "DSN", "CHUNKING"):
        assert f"250-{word}" in lines or f"250 {word}" in lines, lines
    assert c.cmd("NOOP") == (250, ["250 2.0.0 Ok"])
    assert c.cmd("VRFY bob")[0] == 252
    assert c.cmd("HELP")[1][0].startswith("214 2.0.0")
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=100001")[1] == ["552 5.3.4 Error: message size exceeds fixed limit"]
    assert c.cmd("MAIL FROM:<a@example.org> RET=HDRS ENVID=env+2Bid BODY=8BITMIME SIZE=50")[0] == 250
    assert c.cmd("RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.test")[0] == 250
    assert c.cmd("RCPT TO:<c@example.test> NOTIFY=NEVER")[0] == 250
    assert c.cmd("RCPT TO:<d@example.test> NOTIFY=SOMETIMES")[0] == 501
    body = b"Subject: chunks\r\n\r\nfirst\r\n.second\r\n"
    c.send(b"BDAT 20\r\n" + body[:20])
    assert c.reply()[0] == 250
    c.send(b"BDAT %d LAST\r\n" % (len(body) - 20) + body[20:])
    code, lines = c.reply()
    assert code == 250 and lines[0].startswith("250 2.0.0 Ok: queued as "), lines
    assert c.cmd("QUIT")[0] == 221
    envelope, message = server.message()
    assert envelope["ret"] == ["HDRS"] and envelope["envid"] == ["env+2Bid"] and envelope["body"] == ["8BITMIME"]
    assert envelope["rcpt"] == ["b@example.test", "c@example.test"]
    assert envelope["rcpt.notify"] == ["SUCCESS,FAILURE", "NEVER"]
    assert envelope["rcpt.orcpt"] == ["rfc822;b+40example.test"]
    assert lh.received_and_rest(message)[1] == body   # BDAT: no dot-unstuffing
    assert re.search(r"status=accepted", server.log())


def test_bad_commands_get_enhanced_codes(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1")
    c = lh.Client(server.port)
    assert c.reply()[0] == 220
    assert c.cmd("MAIL FROM:<a@example.org>")[1] == ["503 5.5.1 Error: send HELO/EHLO first"]
    assert c.cmd("HELO client")[1] == ["250 relay.example.test"]
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=10")[1][0].startswith("555 5.5.4")   # HELO: no ESMTP
    assert c.cmd("EHLO client")[0] == 250
    assert c.cmd("DATA")[1][0].startswith("503 5.5.1")
    assert c.cmd("RCPT TO:<b@example.test>")[1][0].startswith("503 5.5.1")
    assert c.cmd("MAIL FROM:<not an address>")[1][0].startswith("553 5.1.7")
    assert c.cmd("MAIL FROM:<>")[0] == 250      # the null sender, for bounces
    assert c.cmd("RCPT TO:<>")[1][0].startswith("553 5.1.3")
    assert c.cmd("RCPT TO:<üser@example.test>")[1][0].startswith("553 5.6.7")
    assert c.cmd("DATA")[1][0].startswith("554 5.5.1")
    assert c.cmd("RSET")[1] == ["250 2.0.0 Ok"]
    assert c.cmd("XYZZY")[1][0].startswith("500 5.5.2")
    assert c.cmd("STARTTLS")[1][0].startswith("454 4.7.0")   # no certificate configured
    assert c.cmd("AUTH PLAIN")[1][0].startswith("502 5.5.1")  # no auth file
    assert c.cmd("QUIT")[1] == ["221 2.0.0 Bye"]
    assert server.incoming() == []
