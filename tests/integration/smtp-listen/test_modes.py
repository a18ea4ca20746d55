"""Ways to run smtp-listen: stdin/stdout under tcpserver or inetd, sockets from systemd,
IPv6 listeners, and many sessions at once from Postfix's smtp-source."""
import os
import pathlib
import socket
import subprocess
import time

import listen_helpers as lh
import relaytest

SESSION = (b"EHLO client.example.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"
           b"Subject: stdio\r\n\r\nbody\r\n.\r\nQUIT\r\n")


def run_stdio(tmp_path, env):
    spool = relaytest.make_spool(tmp_path / "spool")
    out = relaytest.run([relaytest.bin("smtp-listen"), "--stdio", "--spool", str(spool), "--hostname",
                         "relay.example.test"], input=SESSION, env=env, timeout=20)
    return spool, out


def test_stdio_with_tcpserver_environment(tmp_path):
    spool, out = run_stdio(tmp_path, {"TCPREMOTEIP": "192.0.2.7", "TCPREMOTEPORT": "4567", "RELAYCLIENT": ""})
    assert out.returncode == 0, out.stderr
    replies = out.stdout.decode().split("\r\n")
    assert replies[0] == "220 relay.example.test ESMTP smtp-listen"
    assert "354 End data with <CR><LF>.<CR><LF>" in replies
    assert any(r.startswith("250 2.0.0 Ok: queued as ") for r in replies)
    assert replies[-2] == "221 2.0.0 Bye"
    names = relaytest.spool_files(spool, "incoming")
    assert len(names) == 1
    envelope, message = relaytest.read_spool_file(spool / "incoming" / names[0])
    assert envelope["client"] == ["192.0.2.7"]
    assert lh.received_and_rest(message)[1] == b"Subject: stdio\r\n\r\nbody\r\n"


def test_stdio_without_relayclient_refuses(tmp_path):
    spool, out = run_stdio(tmp_path, {"TCPREMOTEIP": "192.0.2.7"})
    assert b"554 5.7.1 <b@example.test>: Relay access denied" in out.stdout
    assert relaytest.spool_files(spool, "incoming") == []


def test_systemd_socket_activation(procs, tmp_path):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    spool = relaytest.make_spool(tmp_path / "spool")
    # LISTEN_PID must name smtp-listen itself: the shell sets it to its own pid and execs.
    cmd = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=smtp exec "$@"', "sh", relaytest.bin("smtp-listen"),
           "--spool", str(spool), "--allow-ip", "127.0.0.1"]
    proc = procs.start(cmd, stdout=subprocess.PIPE, stderr=open(tmp_path / "stderr", "wb"), bufsize=0,
                       pass_fds=(3,), preexec_fn=lambda: os.dup2(sock.fileno(), 3))
    assert proc.stdout.readline().decode() == f"listening 127.0.0.1:{port}\n"
    sock.close()
    out = subprocess.run(["swaks", "--server", f"127.0.0.1:{port}", "-f", "a@example.org", "-t", "b@example.test",
                          "--timeout", "10"], stdout=subprocess.PIPE, text=True, timeout=30)
    assert out.returncode == 0, out.stdout
    relaytest.wait_published(spool)
    assert len(relaytest.spool_files(spool, "incoming")) == 1


def test_ipv6_listener(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "::1/128", listen=("[::1]:0", "127.0.0.1:0"))
    v6 = lh.Client(server.ports["plain"][0], host="::1")   # Debian's swaks lacks IO::Socket::INET6
    lh.ehlo(v6)
    v6.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [v6.reply()[0] for _ in range(3)] == [250, 250, 354]
    assert v6.cmd("Subject: v6\r\n\r\nhi\r\n.")[0] == 250
    envelope, _ = server.message()
    assert envelope["client"] == ["::1"]
    # the IPv4 listener's clients are not in the allow list
    c = lh.Client(server.ports["plain"][1])
    lh.ehlo(c)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<b@example.test>")[0] == 554


def test_smtp_source_load(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1")
    out = subprocess.run(["smtp-source", "-s", "20", "-m", "400", "-l", "10240", "-f", "a@example.org", "-t",
                          "b@example.test", f"127.0.0.1:{server.port}"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=60)
    assert out.returncode == 0, out.stdout
    names = server.incoming()
    assert len(names) == 400
    for name in names:
        envelope, message = server.message(name)
        assert envelope["rcpt"] == ["b@example.test"]
        rest = lh.received_and_rest(message)[1]
        head, _, body = rest.partition(b"\r\n\r\n")
        assert head.startswith(b"From: <a@example.org>\r\nTo: <b@example.test>\r\n")
        lines = body.split(b"\r\n")
        # smtp-source's body: numbered lines of X, 10240 bytes in all with its line ends
        assert lines[-1] == b"" and all(set(l) <= set(b"0123456789X") for l in lines[:-1])
        assert len(body) >= 10240
    assert "status=accepted" in server.log()


def test_stdio_implicit_tls(tmp_path):
    import ssl
    certs = relaytest.make_certs(tmp_path / "certs")
    spool = relaytest.make_spool(tmp_path / "spool")
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([relaytest.bin("smtp-listen"), "--stdio", "--implicit-tls", "--spool", str(spool),
                             "--tls-cert", certs["server_cert"], "--tls-key", certs["server_key"]],
                            stdin=theirs, stdout=theirs, stderr=subprocess.PIPE, env=dict(os.environ, RELAYCLIENT="1"))
    theirs.close()
    try:
        ctx = ssl.create_default_context(cafile=certs["ca"])
        tls = ctx.wrap_socket(ours, server_hostname="mx.example.test")
        tls.settimeout(10)
        f = tls.makefile("rb")
        assert f.readline().startswith(b"220 ")
        tls.sendall(SESSION)
        replies = b"".join(iter(f.readline, b""))
        assert b"250 2.0.0 Ok: queued as" in replies and replies.endswith(b"221 2.0.0 Bye\r\n")
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    envelope, _ = relaytest.read_spool_file(spool / "incoming" / relaytest.spool_files(spool, "incoming")[0])
    assert envelope["tls"][0].startswith("TLSv1.3 ") and envelope["protocol"] == ["ESMTPS"]


def test_drops_privileges_after_binding(procs, tmp_path):
    import pwd
    import shutil
    import tempfile
    nobody = pwd.getpwnam("nobody")
    top = pathlib.Path(tempfile.mkdtemp(prefix="smtp-listen-user."))   # pytest's tmp is 0700 root
    try:
        os.chmod(top, 0o755)
        spool = relaytest.make_spool(top / "spool")
        for d in [spool] + [spool / s for s in relaytest.STAGES]:
            os.chown(d, nobody.pw_uid, nobody.pw_gid)
        serve_as_nobody(procs, tmp_path, spool, nobody)
    finally:
        shutil.rmtree(top)


def serve_as_nobody(procs, tmp_path, spool, nobody):
    """smtp-listen --user nobody binds as root, then runs and writes the spool as nobody."""
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--user", "nobody", spool=spool)
    uid_line = next(l for l in open(f"/proc/{server.proc.pid}/status") if l.startswith("Uid:"))
    assert uid_line.split()[1:] == [str(nobody.pw_uid)] * 4
    c = lh.Client(server.port)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    assert c.cmd("Subject: nobody\r\n\r\nhi\r\n.")[0] == 250
    name = server.incoming()[0]
    assert os.stat(server.spool / "incoming" / name).st_uid == nobody.pw_uid


def test_notify_fd_and_tls_socket_from_systemd(procs, tmp_path):
    certs = relaytest.make_certs(tmp_path / "certs")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    spool = relaytest.make_spool(tmp_path / "spool")
    ready_r, ready_w = os.pipe()
    cmd = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=smtps exec "$@"', "sh", relaytest.bin("smtp-listen"),
           "--spool", str(spool), "--allow-ip", "127.0.0.1", "--tls-cert", certs["server_cert"], "--tls-key",
           certs["server_key"], "--notify-fd", str(ready_w)]
    procs.start(cmd, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "stderr", "wb"), pass_fds=(3, ready_w),
                preexec_fn=lambda: os.dup2(sock.fileno(), 3))
    os.close(ready_w)
    sock.close()
    assert os.read(ready_r, 10) == b"\n"          # ready: written once everything is bound
    assert os.read(ready_r, 10) == b""            # and closed
    c = lh.Client(port, tls=True, ca=certs["ca"])  # the socket named smtps speaks TLS at once
    lh.ehlo(c)
    assert c.cmd("QUIT")[0] == 221


def test_thousand_sessions_without_a_thread_each(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--max-sessions-per-ip", "1100",
                      "--sync-threads", "4")
    clients = []
    try:
        for _ in range(1000):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"EHLO many.example.test\r\n")
            clients.append(s)
        for s in clients:   # every session got its greeting and its EHLO reply
            data = b""
            while b"250 HELP\r\n" not in data:
                chunk = s.recv(4096)
                assert chunk, data
                data += chunk
            assert data.startswith(b"220 ")
        status = open(f"/proc/{server.proc.pid}/status").read()
        threads = int(next(l for l in status.splitlines() if l.startswith("Threads:")).split()[1])
        assert threads == 1 + 4 + 2 + 2  # event loop, sync workers, password workers, journal committer and publisher
        # the 1,001st is over --max-sessions (default 1000); with one gone, a message goes through
        over = lh.Client(server.port)
        assert over.reply()[1] == ["421 4.7.0 Error: too many sessions, try again later"]
        clients.pop().close()
        c = None
        for _ in range(50):   # the server notices the close at its next event
            c = lh.Client(server.port)
            code, lines = c.reply()
            if code == 220:
                break
            time.sleep(0.02)
        assert code == 220, lines
        assert c.cmd("EHLO client")[0] == 250
        c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
        assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
        assert c.cmd("Subject: busy\r\n\r\nhi\r\n.")[0] == 250
    finally:
        for s in clients:
            s.close()
