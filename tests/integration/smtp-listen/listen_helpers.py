"""Helpers for the smtp-listen tests: start the server on port 0 and learn its ports from
its "listening" lines, talk raw SMTP over a socket, and read what landed in the spool."""
import os
import pathlib
import re
import select
import socket
import ssl
import subprocess
import time

import relaytest

USERS = {"alice": "secret-alice", "bob": "s3cret bob"}


HASHERS = {"alice": ["mkpasswd", "-s"],              # yescrypt, Debian's default ($y$)
           "bob": ["openssl", "passwd", "-6", "-stdin"]}  # SHA-512 crypt ($6$)


def make_auth_file(directory):
    """user:hash lines made by the standard tools, mode 600: alice yescrypt, bob SHA-512."""
    lines = []
    for user, password in USERS.items():
        hashed = subprocess.run(HASHERS[user], input=password + "\n", check=True, stdout=subprocess.PIPE,
                                text=True).stdout.strip()
        assert hashed.startswith({"alice": "$y$", "bob": "$6$"}[user]), hashed
        lines.append(f"{user}:{hashed}\n")
    path = pathlib.Path(directory) / "users"
    path.write_text("# test users\n" + "".join(lines))
    os.chmod(path, 0o600)
    return str(path)


class Server:
    """A running smtp-listen; ports maps "plain"/"tls" to the bound ports."""

    def __init__(self, proc, spool, ports, stderr_path):
        self.proc, self.spool, self.ports, self.stderr_path = proc, spool, ports, stderr_path

    @property
    def port(self):
        return self.ports["plain"][0]

    @property
    def tls_port(self):
        return self.ports["tls"][0]

    def log(self):
        return pathlib.Path(self.stderr_path).read_text(errors="replace")

    def incoming(self):
        relaytest.wait_published(self.spool)
        return relaytest.spool_files(self.spool, "incoming")

    def message(self, name=None):
        names = self.incoming()
        assert names, "nothing in incoming/"
        return relaytest.read_spool_file(pathlib.Path(self.spool) / "incoming" / (name or names[-1]))


def start(procs, tmp_path, *args, certs=None, listen=("127.0.0.1:0",), listen_tls=(), timeout=10, env=None,
          spool=None):
    """Starts smtp-listen with a fresh spool (or the one given); waits for its "listening" lines
    (no polling)."""
    spool = relaytest.make_spool(spool or tmp_path / "spool")
    cmd = [relaytest.bin("smtp-listen"), "--spool", str(spool), "--hostname", "relay.example.test"]
    for spec in listen:
        cmd += ["--listen", spec]
    for spec in listen_tls:
        cmd += ["--listen-tls", spec]
    if certs:
        cmd += ["--tls-cert", certs["server_cert"], "--tls-key", certs["server_key"]]
    cmd += list(args)
    stderr_path = tmp_path / "smtp-listen.stderr"
    full_env = dict(os.environ, **(env or {}))
    proc = procs.start(cmd, stdout=subprocess.PIPE, stderr=open(stderr_path, "wb"), env=full_env, bufsize=0)
    ports = {"plain": [], "tls": []}
    end = time.monotonic() + timeout
    while len(ports["plain"]) + len(ports["tls"]) < len(listen) + len(listen_tls):
        ready, _, _ = select.select([proc.stdout], [], [], max(0, end - time.monotonic()))
        line = proc.stdout.readline().decode() if ready else ""
        if not line:
            raise RuntimeError("smtp-listen did not start: " + stderr_path.read_text())
        m = re.match(r"listening (\S+):(\d+)( tls)?$", line.strip())
        assert m, line
        ports["tls" if m.group(3) else "plain"].append(int(m.group(2)))
    return Server(proc, spool, ports, stderr_path)


class Client:
    """Raw SMTP over a socket, for what library clients refuse to send."""

    def __init__(self, port, host="127.0.0.1", timeout=10, tls=False, ca=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            self.wrap(ca)
        self.buffer = b""

    def wrap(self, ca, **kw):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False
        for k, v in kw.items():
            setattr(ctx, k, v)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="mx.example.test")

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """One whole reply: (code, [lines]). (None, []) when the server closed."""
        lines = []
        while True:
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return (None, lines)
                self.buffer += chunk
            line, _, self.buffer = self.buffer.partition(b"\n")
            text = line.decode(errors="replace").rstrip("\r")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return (int(text[:3]), lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self):
        """True when the server closed the connection (after any replies left)."""
        try:
            return self.sock.recv(65536) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def close(self):
        self.sock.close()


def ehlo(client, name="client.example.test"):
    code, lines = client.reply()
    assert code == 220, lines
    code, lines = client.cmd("EHLO " + name)
    assert code == 250, lines
    return lines


def received_and_rest(message):
    """Splits a spooled message into its first (Received) field and the rest."""
    assert message.startswith(b"Received: "), message[:80]
    m = re.match(rb"Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", message)
    return m.group(0), message[m.end():]


def base64_plain(user, password):
    """The initial response of AUTH PLAIN (RFC 4616)."""
    import base64
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
