"""Faults: SIGKILL in the middle of DATA, a full disk, SIGTERM while a message is under way,
SIGHUP reloading the auth file without dropping sessions."""
import os
import pathlib
import signal
import time

import listen_helpers as lh
import relaytest

STAGES_BUT_TMP = [s for s in relaytest.STAGES if s != "tmp"]


def wait_for(predicate, timeout=10.0):
    """Bounded wait for a state no signal announces (a file the server writes)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def start_data(port, body_part):
    c = lh.Client(port)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(body_part)
    return c


def test_sigkill_during_data_leaves_no_message(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1")
    c = start_data(server.port, b"Subject: cut\r\n\r\n" + (b"x" * 70 + b"\r\n") * 3000)
    tmp = pathlib.Path(server.spool) / "tmp"
    assert wait_for(lambda: any(p.stat().st_size > 65536 for p in tmp.iterdir()))  # bytes reached the disk
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    assert c.closed()
    for stage in STAGES_BUT_TMP:
        assert relaytest.spool_files(server.spool, stage) == [], stage


def test_full_disk_answers_452_and_retry_works(procs, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    stages = " ".join(f"{spool}/{s}" for s in relaytest.STAGES)
    stderr_path = tmp_path / "stderr"
    # A private 256 KiB tmpfs (testing.md recipe 7); the server runs inside the mount namespace.
    script = (f"mount -t tmpfs -o size=256k tmpfs {spool} && mkdir {stages} && "
              f"exec {relaytest.bin('smtp-listen')} --spool {spool} --listen 127.0.0.1:0 --allow-ip 127.0.0.1")
    proc = procs.start(["unshare", "--mount", "sh", "-c", script], stdout=__import__("subprocess").PIPE,
                       stderr=open(stderr_path, "wb"), bufsize=0)
    line = proc.stdout.readline().decode()
    assert line.startswith("listening 127.0.0.1:"), stderr_path.read_text()
    port = int(line.strip().rsplit(":", 1)[1])
    inside = pathlib.Path(f"/proc/{proc.pid}/root") / str(spool).lstrip("/")
    c = lh.Client(port)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(b"Subject: big\r\n\r\n" + (b"y" * 98 + b"\r\n") * 4000 + b".\r\n")
    assert c.reply()[1] == ["452 4.3.1 Error: insufficient system storage"]
    assert os.listdir(inside / "incoming") == [] and os.listdir(inside / "tmp") == []
    # the space came back: the client's retry goes through
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    assert c.cmd("Subject: small\r\n\r\nhi\r\n.")[0] == 250
    assert len(os.listdir(inside / "incoming")) == 1
    assert "No space left on device" in stderr_path.read_text()


def test_sigterm_lets_the_message_finish(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1")
    busy = start_data(server.port, b"Subject: last one\r\n\r\nfirst half\r\n")
    idle = lh.Client(server.port)
    lh.ehlo(idle)
    server.proc.send_signal(signal.SIGTERM)
    assert idle.reply()[1] == ["421 4.3.2 relay.example.test Service shutting down"]
    assert idle.closed()
    busy.send(b"second half\r\n.\r\n")
    code, lines = busy.reply()
    assert code == 250, lines
    assert busy.reply()[1] == ["421 4.3.2 relay.example.test Service shutting down"]
    assert server.proc.wait(10) == 0
    _, message = server.message()
    assert lh.received_and_rest(message)[1] == b"Subject: last one\r\n\r\nfirst half\r\nsecond half\r\n"


def test_sighup_reloads_auth_file_keeping_sessions(procs, tmp_path):
    auth = pathlib.Path(lh.make_auth_file(tmp_path))
    only_alice = "".join(l + "\n" for l in auth.read_text().splitlines() if not l.startswith("bob:"))
    full = auth.read_text()
    auth.write_text(only_alice)
    server = lh.start(procs, tmp_path, "--auth-file", str(auth), "--allow-plaintext-auth", "--auth-failure-delay", "0")
    old = lh.Client(server.port)
    lh.ehlo(old)
    assert old.cmd("AUTH PLAIN " + lh.base64_plain("bob", lh.USERS["bob"]))[0] == 535
    auth.write_text(full)
    server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reloaded certificates, auth file and policy" in server.log())
    assert old.cmd("NOOP")[0] == 250             # not dropped
    assert old.cmd("AUTH PLAIN " + lh.base64_plain("bob", lh.USERS["bob"]))[0] == 235
    # a broken file on reload is refused and the old one kept
    os.chmod(auth, 0o644)
    server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "keeping the previous configuration" in server.log())
    new = lh.Client(server.port)
    lh.ehlo(new)
    assert new.cmd("AUTH PLAIN " + lh.base64_plain("alice", lh.USERS["alice"]))[0] == 235


def test_sighup_reloads_certificate_keeping_tls_sessions(procs, tmp_path):
    import shutil
    import ssl
    certs = relaytest.make_certs(tmp_path / "certs")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(certs["server_cert"], cert)
    shutil.copy(certs["server_key"], key)
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--tls-cert", str(cert), "--tls-key", str(key),
                      listen_tls=("127.0.0.1:0",))

    def served_cert():
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with ctx.wrap_socket(__import__("socket").create_connection(("127.0.0.1", server.tls_port), timeout=10)) as s:
            return s.getpeercert(binary_form=True)

    first = served_cert()
    kept = lh.Client(server.tls_port, tls=True, ca=certs["ca"])
    lh.ehlo(kept)
    shutil.copy(certs["self_cert"], cert)
    shutil.copy(certs["self_key"], key)
    server.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reloaded certificates" in server.log())
    assert served_cert() != first
    assert ssl.DER_cert_to_PEM_cert(served_cert()) == open(certs["self_cert"]).read()
    assert kept.cmd("NOOP")[0] == 250        # the session under way keeps its TLS


def send_one(port, subject):
    c = lh.Client(port)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    return c.cmd(f"Subject: {subject}\r\n\r\nhi\r\n.")


def test_sigkill_after_250_loses_nothing_and_duplicates_nothing(procs, tmp_path):
    # A long publish interval keeps the acknowledged messages in the journal and tmp/ only.
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--publish-interval", "10000")
    replies = [send_one(server.port, f"number {n}") for n in range(5)]
    assert all(code == 250 for code, _ in replies), replies
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    spool = pathlib.Path(server.spool)
    assert relaytest.spool_files(spool, "incoming") == []
    assert len(relaytest.spool_files(spool, "journal")) == 2   # the two files of the dead process
    queued = sorted(lines[0].rsplit(" ", 1)[1] for _, lines in replies)

    (tmp_path / "again").mkdir()
    again = lh.start(procs, tmp_path / "again", "--allow-ip", "127.0.0.1", spool=spool)
    assert "recovered 5 messages" in again.log()
    assert again.incoming() == queued
    subjects = sorted(lh.received_and_rest(again.message(name)[1])[1] for name in queued)
    assert subjects == [b"Subject: number %d\r\n\r\nhi\r\n" % n for n in range(5)]
    # the dead process's journal is gone; the live one's are the only journals
    assert relaytest.spool_files(spool, "journal") == [f"smtp-listen.{again.proc.pid}.{n}" for n in (0, 1)]
    again.proc.send_signal(signal.SIGTERM)
    assert again.proc.wait(10) == 0
    assert relaytest.spool_files(spool, "journal") == []


def test_a_failed_publish_stops_the_server_and_the_next_start_recovers(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1")
    spool = pathlib.Path(server.spool)
    (spool / "incoming").rmdir()
    code, lines = send_one(server.port, "kept")
    assert code == 250, lines   # durable in the journal
    # the move into incoming/ fails: the server stops rather than go on with a spool it cannot trust
    assert server.proc.wait(10) == 75
    assert "unable to move" in server.log() and "the next start recovers" in server.log()
    assert len(relaytest.spool_files(spool, "journal")) == 2
    (spool / "incoming").mkdir()
    (tmp_path / "again").mkdir()
    again = lh.start(procs, tmp_path / "again", "--allow-ip", "127.0.0.1", spool=spool)
    assert [lh.received_and_rest(again.message(n)[1])[1] for n in again.incoming()] == [b"Subject: kept\r\n\r\nhi\r\n"]
    assert send_one(again.port, "after")[0] == 250


def test_spool_error_answers_451_and_leaves_nothing(procs, tmp_path):
    server = lh.start(procs, tmp_path, "--allow-ip", "127.0.0.1", "--no-journal")
    os.rmdir(pathlib.Path(server.spool) / "incoming")   # the rename into it now fails (ENOENT)
    c = lh.Client(server.port)
    lh.ehlo(c)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    assert c.cmd("Subject: lost disk\r\n\r\nhi\r\n.")[1] == ["451 4.3.0 Error: queue file write error"]
    assert relaytest.spool_files(server.spool, "tmp") == []
    assert "status=deferred" in server.log()
    assert c.cmd("NOOP")[0] == 250
