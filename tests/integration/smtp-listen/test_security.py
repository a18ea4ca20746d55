"""Security properties of smtp-listen: never an open relay, no AUTH in plaintext, STARTTLS
injection, SMTP smuggling, limits on size, recipients, line length, errors, time and TLS."""
import os
import socket
import ssl
import subprocess
import time

import pytest

import listen_helpers as lh
import relaytest


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return relaytest.make_certs(tmp_path_factory.mktemp("certs"))


def test_open_relay_refused(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "10.0.0.0/8", "--allow-ip", "2001:db8::/32")
    out = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.port}", "-f", "a@example.org", "-t",
                          "victim@example.test", "--timeout", "10"], stdout=subprocess.PIPE, text=True, timeout=30)
    assert out.returncode == 24, out.stdout      # swaks: RCPT refused
    assert "554 5.7.1 <victim@example.test>: Relay access denied" in out.stdout
    assert server.incoming() == [] and relaytest.spool_files(server.spool, "tmp") == []
    assert "status=refused" in server.log()


def test_auth_refused_without_tls(procs, tmp_path, certs):
    auth = lh.make_auth_file(tmp_path)
    server = lh.start(procs, tmp_path, "--auth-file", auth, certs=certs)
    c = lh.Client(server.port)
    lines = lh.ehlo(c)
    assert not any("AUTH" in line for line in lines)
    initial = lh.base64_plain("alice", lh.USERS["alice"])
    assert c.cmd("AUTH PLAIN " + initial)[1] == ["538 5.7.11 Encryption required for requested authentication mechanism"]
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<b@example.test>")[0] == 554    # not authenticated: no relay


def test_plaintext_auth_when_allowed(procs, tmp_path):
    auth = lh.make_auth_file(tmp_path)
    server = lh.start(procs, tmp_path, "--auth-file", auth, "--allow-plaintext-auth")
    c = lh.Client(server.port)
    assert "250-AUTH PLAIN LOGIN" in lh.ehlo(c)
    assert c.cmd("AUTH PLAIN " + lh.base64_plain("alice", lh.USERS["alice"]))[1] == ["235 2.7.0 Authentication successful"]
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<b@example.test>")[0] == 250


def test_failed_logins_delayed_and_limited(procs, tmp_path):
    auth = lh.make_auth_file(tmp_path)
    server = lh.start(procs, tmp_path, "--auth-file", auth, "--allow-plaintext-auth", "--auth-failures", "2",
                      "--auth-failure-delay", "400")
    c = lh.Client(server.port)
    lh.ehlo(c)
    for _ in range(2):
        start = time.monotonic()
        assert c.cmd("AUTH PLAIN " + lh.base64_plain("alice", "wrong"))[1][0].startswith("535 5.7.8")
        assert time.monotonic() - start >= 0.35
    # now even the right password is refused from this address
    assert c.cmd("AUTH PLAIN " + lh.base64_plain("alice", lh.USERS["alice"]))[1][0].startswith("454 4.7.0")
    assert "wrong" not in server.log() and lh.USERS["alice"] not in server.log()


def test_starttls_injection_discarded(procs, tmp_path, certs):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", certs=certs)
    c = lh.Client(server.port)
    lh.ehlo(c)
    # CVE-2011-0411: commands pipelined after STARTTLS in plaintext must not run under TLS
    c.send(b"STARTTLS\r\nEHLO evil\r\nMAIL FROM:<evil@example.org>\r\n")
    assert c.reply()[1] == ["220 2.0.0 Ready to start TLS"]
    c.wrap(certs["ca"])
    assert c.cmd("RCPT TO:<b@example.test>")[1][0].startswith("503 5.5.1")   # no EHLO, no MAIL survived
    assert c.cmd("EHLO client")[0] == 250
    assert c.cmd("RCPT TO:<b@example.test>")[1][0].startswith("503 5.5.1")   # no MAIL
    assert c.cmd("STARTTLS")[1][0].startswith("503 5.5.1")


SMUGGLED = (b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nevil\r\n")
VARIANTS = {  # the fake end, and whether the default (normalize) mode accepts the one message
    "lf-dot-lf": (b"\n.\n", True),
    "crlf-dot-lf": (b"\r\n.\n", True),
    "lf-dot-crlf": (b"\n.\r\n", True),
    "cr-dot-cr": (b"\r.\r", False),
    "crlf-dot-cr": (b"\r\n.\r", False),
    "bare-cr-in-line": (b"\r\nab\r.\rcd\r\n", False),
}


def send_smuggling(port, fake_end):
    c = lh.Client(port)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(b"Subject: real\r\n\r\nhello" + fake_end + SMUGGLED + b".\r\n")
    final = c.reply()
    assert c.cmd("QUIT")[0] == 221   # the very next reply: nothing was split off as a second transaction
    return final


@pytest.mark.parametrize("name", VARIANTS)
def test_smuggling_never_splits(procs, tmp_path, name):
    fake_end, accepted = VARIANTS[name]
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1")
    code, lines = send_smuggling(server.port, fake_end)
    if accepted:
        assert code == 250, lines
        assert len(server.incoming()) == 1
        envelope, message = server.message()
        assert envelope["rcpt"] == ["b@example.test"]
        body = lh.received_and_rest(message)[1]
        # bare LF became CRLF; the would-be end is a line of the one message
        assert body == b"Subject: real\r\n\r\nhello\r\n.\r\n" + SMUGGLED
    else:
        assert lines == ["550 5.6.0 Error: bare CR in message data"]
        assert server.incoming() == []
    assert relaytest.spool_files(server.spool, "tmp") == []


@pytest.mark.parametrize("name", ["lf-dot-lf", "crlf-dot-lf", "lf-dot-crlf"])
def test_bare_newline_reject(procs, tmp_path, name):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--bare-newline", "reject")
    code, lines = send_smuggling(server.port, VARIANTS[name][0])
    assert lines == ["550 5.6.0 Error: bare LF in message data"]
    assert server.incoming() == []


def test_nul_and_long_lines_refused(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--max-line-length", "1000")
    c = lh.Client(server.port)
    lh.ehlo(c)
    for body, reply in ((b"a\x00b\r\n", "550 5.6.0 Error: NUL byte in message data"),
                        (b"x" * 999 + b"\r\n", "550 5.6.0 Error: message line too long"),
                        (b"x" * 100000 + b"\r\n", "550 5.6.0 Error: message line too long")):
        c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
        assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
        c.send(b"Subject: x\r\n\r\n" + body + b".\r\n")
        assert c.reply()[1] == [reply]
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(b"x" * 998 + b"\r\n.\r\n")   # exactly at the limit
    assert c.reply()[0] == 250
    assert len(server.incoming()) == 1


def test_oversize_refused_without_storing(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--max-message-size", "100000")
    c = lh.Client(server.port)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * 2000 + b".\r\n")
    assert c.reply()[1] == ["552 5.3.4 Error: message size exceeds fixed limit"]
    assert server.incoming() == [] and relaytest.spool_files(server.spool, "tmp") == []
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nBDAT 200000 LAST\r\n" + (b"z" * 78 + b"\r\n") * 2500)
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 552]
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    assert c.cmd("small\r\n.")[0] == 250     # the session goes on
    assert len(server.incoming()) == 1


def test_ten_thousand_recipients(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--max-recipients", "100")
    c = lh.Client(server.port, timeout=30)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<a@example.org>\r\n" + b"".join(b"RCPT TO:<r%d@example.test>\r\n" % i for i in range(10000))
           + b"DATA\r\n")
    replies = [c.reply()[1][0] for _ in range(10002)]
    assert replies[0].startswith("250 2.1.0")
    assert all(r == "250 2.1.5 Ok" for r in replies[1:101])
    assert all(r == "452 4.5.3 Error: too many recipients" for r in replies[101:10001])
    assert replies[10001].startswith("354")
    assert c.cmd("Subject: many\r\n\r\nhi\r\n.")[0] == 250
    envelope, _ = server.message()
    assert envelope["rcpt"] == [f"r{i}@example.test" for i in range(100)]


def test_megabyte_command_line(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--max-errors", "5")
    c = lh.Client(server.port)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<" + b"a" * (1 << 20) + b"@example.org>\r\n")
    assert c.reply()[1] == ["500 5.5.2 Error: line too long"]
    assert c.cmd("NOOP")[0] == 250
    status = open(f"/proc/{server.proc.pid}/status").read()
    rss_kb = int(next(l for l in status.splitlines() if l.startswith("VmRSS")).split()[1])
    assert rss_kb < 64 * 1024


def test_error_limit_disconnects(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--max-errors", "3")
    c = lh.Client(server.port)
    lh.ehlo(c)
    assert c.cmd("BOGUS 1")[0] == 500
    assert c.cmd("BOGUS 2")[0] == 500
    code, lines = c.cmd("BOGUS 3")
    assert code == 500
    assert c.reply()[1] == ["421 4.7.0 relay.example.test Error: too many errors"]
    assert c.closed()


def test_slow_clients_timed_out(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--command-timeout", "1", "--data-timeout", "1")
    idle = lh.Client(server.port)
    lh.ehlo(idle)
    slow = lh.Client(server.port)
    lh.ehlo(slow)
    slow.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [slow.reply()[0] for _ in range(3)] == [250, 250, 354]
    slow.send(b"Subject: slow\r\n\r\npart")
    start = time.monotonic()
    assert idle.reply()[1] == ["421 4.4.2 relay.example.test Error: timeout exceeded"]
    assert slow.reply()[1] == ["421 4.4.2 relay.example.test Error: timeout exceeded"]
    assert idle.closed() and slow.closed()
    assert time.monotonic() - start < 3
    assert server.incoming() == [] and relaytest.spool_files(server.spool, "tmp") == []


def test_session_limits(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--max-sessions-per-ip", "2", "--session-timeout", "2")
    first, second = lh.Client(server.port), lh.Client(server.port)
    assert first.reply()[0] == 220 and second.reply()[0] == 220
    third = lh.Client(server.port)
    assert third.reply()[1] == ["421 4.7.0 Error: too many sessions from your address, try again later"]
    # the whole-session limit ends even a busy session
    start = time.monotonic()
    while time.monotonic() - start < 5:
        code, lines = first.cmd("NOOP")
        if code != 250:
            break
        time.sleep(0.2)
    assert lines == ["421 4.4.2 relay.example.test Error: timeout exceeded"]


@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
def test_old_tls_refused(procs, tmp_path, certs, version):
    server = lh.start(procs, tmp_path, certs=certs)
    base = ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{server.port}",
            "-cipher", "DEFAULT@SECLEVEL=0", "-brief"]
    old = subprocess.run(base + [version], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=20)
    assert old.returncode != 0 and "CONNECTION ESTABLISHED" not in old.stdout
    assert "reason=\"TLS handshake failed\" detail=\"unsupported protocol\"" in server.log()
    ok = subprocess.run(base + ["-tls1_2"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, timeout=20)
    assert "CONNECTION ESTABLISHED" in ok.stdout and "Protocol version: TLSv1.2" in ok.stdout


def test_secret_files_must_be_private(tmp_path, certs):
    auth = lh.make_auth_file(tmp_path)
    os.chmod(auth, 0o640)
    spool = relaytest.make_spool(tmp_path / "spool")
    out = relaytest.run([relaytest.bin("smtp-listen"), "--spool", str(spool), "--listen", "127.0.0.1:0",
                         "--auth-file", auth], timeout=10)
    assert out.returncode == 77
    assert b"smtp-listen: fatal: unable to use auth file" in out.stderr
    key = tmp_path / "key.pem"
    key.write_bytes(open(certs["server_key"], "rb").read())
    os.chmod(key, 0o644)
    out = relaytest.run([relaytest.bin("smtp-listen"), "--spool", str(spool), "--listen", "127.0.0.1:0",
                         "--tls-cert", certs["server_cert"], "--tls-key", str(key)], timeout=10)
    assert out.returncode == 77 and b"unable to use TLS key" in out.stderr


def test_out_of_descriptors_neither_spins_nor_stops(procs, tmp_path):
    import resource
    spool = relaytest.make_spool(tmp_path / "spool")
    limit = 40
    proc = procs.start([relaytest.bin("smtp-listen"), "--spool", str(spool), "--listen", "127.0.0.1:0"],
                       stdout=subprocess.PIPE, stderr=open(tmp_path / "stderr", "wb"), bufsize=0,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    port = int(proc.stdout.readline().decode().strip().rsplit(":", 1)[1])
    clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(limit)]
    greeted = []
    for c in clients:
        c.settimeout(0.3)
        try:
            greeted.append(c.recv(100).startswith(b"220 "))
        except socket.timeout:
            greeted.append(False)
    assert any(greeted) and not all(greeted)
    ticks = lambda: sum(int(x) for x in open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()[11:13])
    before = ticks()
    time.sleep(1)
    assert ticks() - before < 30      # under 0.3 s of CPU in a second: not spinning on accept
    for c, ok in zip(clients, greeted):
        if ok:
            c.close()
    waiting = clients[greeted.index(False)]
    waiting.settimeout(5)
    assert waiting.recv(100).startswith(b"220 ")   # served once descriptors came back
    assert "unable to accept: Too many open files" in (tmp_path / "stderr").read_text()


def test_auth_login_steps_and_cancel(procs, tmp_path):
    import base64
    b64 = lambda text: base64.b64encode(text.encode()).decode()
    auth = lh.make_auth_file(tmp_path)
    server = lh.start(procs, tmp_path, "--auth-file", auth, "--allow-plaintext-auth", "--auth-failure-delay", "0")
    c = lh.Client(server.port)
    lh.ehlo(c)
    assert c.cmd("AUTH LOGIN")[1] == ["334 VXNlcm5hbWU6"]
    assert c.cmd("*")[1] == ["501 5.0.0 Error: authentication cancelled"]
    assert c.cmd("AUTH CRAM-MD5")[1][0].startswith("504 5.5.4")
    assert c.cmd("AUTH PLAIN")[1] == ["334 "]
    assert c.cmd("not base64!")[1][0].startswith("501 5.5.2")
    assert c.cmd("AUTH LOGIN " + b64("bob"))[1] == ["334 UGFzc3dvcmQ6"]    # initial response: the user
    assert c.cmd(b64(lh.USERS["bob"]))[1] == ["235 2.7.0 Authentication successful"]
    assert c.cmd("AUTH PLAIN " + lh.base64_plain("bob", lh.USERS["bob"]))[1][0].startswith("503 5.5.1")
    # BDAT then RSET: the half-received message is dropped
    c.send(b"MAIL FROM:<bob@example.org>\r\nRCPT TO:<x@example.test>\r\nBDAT 5\r\nhello")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 250]
    assert c.cmd("DATA")[1][0].startswith("503 5.5.1")
    assert c.cmd("RSET")[0] == 250
    assert server.incoming() == [] and relaytest.spool_files(server.spool, "tmp") == []
    assert "status=authenticated" in server.log() and lh.USERS["bob"] not in server.log()
