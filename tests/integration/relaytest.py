"""Shared helpers for the integration tests: the built programs, spools, certificates and
real peers (NSD, smtp-sink, Postfix) started on loopback, each stopped by its pid.

Every helper that starts a process registers it with a Processes object; use the
`procs` fixture (see conftest) or call stop_all() in a finally block.
"""
import os
import pathlib
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN = pathlib.Path(os.environ.get("RELAY_BIN", pathlib.Path(__file__).resolve().parents[2] / "build" / "bin"))
STAGES = ("tmp", "incoming", "outgoing", "active", "deferred", "hold", "failed", "sent")
PY = "/usr/bin/python3"   # Debian's python, with aiosmtpd and dnslib


def bin(name):
    """Path of a built program of the toolkit."""
    path = BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is not built")
    return str(path)


def run(args, input=None, env=None, timeout=60, check=False):
    """Runs a program; returns CompletedProcess with bytes stdout/stderr."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(args, input=input, env=full_env, timeout=timeout, check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def make_spool(root):
    """Creates an empty spool with every stage directory."""
    root = pathlib.Path(root)
    for stage in STAGES:
        (root / stage).mkdir(parents=True, exist_ok=True)
    return root


def spool_files(root, stage):
    """Names of the files in one stage of a spool, sorted."""
    return sorted(p.name for p in (pathlib.Path(root) / stage).iterdir())


def wait_published(spool, timeout=10.0):
    """Waits until smtp-listen has moved what it acknowledged out of tmp/: its intake journal
    publishes accepted messages into their stage within --publish-interval (100 ms by
    default), and a stage is read only after that. Nothing announces a publish, hence the poll."""
    end = time.monotonic() + timeout
    while spool_files(spool, "tmp"):
        assert time.monotonic() < end, f"messages still in {spool}/tmp after {timeout} s"
        time.sleep(0.01)


def read_spool_file(path):
    """(envelope dict of lists, message bytes) of one spool file."""
    data = pathlib.Path(path).read_bytes()
    head, sep, message = data.partition(b"\n\n")
    assert sep, f"{path}: no end of envelope"
    fields = {}
    for line in head.decode().split("\n"):
        name, _, value = line.partition("=")
        fields.setdefault(name, []).append(value)
    return fields, message


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago on host."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_listening(host, port, timeout=10.0):
    """Waits until something listens on host:port, without connecting (a probe would be a session)."""
    end = time.monotonic() + timeout
    pattern = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    while time.monotonic() < end:
        out = subprocess.run(["ss", "-Hltn", f"src {pattern}"], stdout=subprocess.PIPE, text=True).stdout
        if out.strip():
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {pattern}")


class Processes:
    """Processes a test started; stop_all() ends each one by its pid (SIGTERM, then SIGKILL)."""

    def __init__(self):
        self.procs = []

    def add(self, proc):
        self.procs.append(proc)
        return proc

    def start(self, args, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        return self.add(subprocess.Popen(args, **kw))

    def stop(self, proc, timeout=5):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)

    def stop_all(self):
        for proc in reversed(self.procs):
            self.stop(proc)
        self.procs.clear()


def make_certs(directory):
    """A test CA and certificates (testing.md recipe 1). Returns a dict of paths:
    ca, server_cert, server_key (CN/SAN mx.example.test, IP 127.0.0.1), wrong_cert (other.test),
    expired_cert, self_cert, self_key."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
         "-subj", "/CN=Relay Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=mx.example.test")
    (d / "server.ext").write_text("subjectAltName=DNS:mx.example.test,DNS:localhost,IP:127.0.0.1\n"
                                  "extendedKeyUsage=serverAuth\n")
    (d / "wrong.ext").write_text("subjectAltName=DNS:other.test\n")
    sign = ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key"]
    ossl(*sign, "-CAcreateserial", "-days", "825", "-extfile", "server.ext", "-out", "server.crt")
    ossl(*sign, "-days", "30", "-extfile", "wrong.ext", "-out", "wrong.crt")
    ossl(*sign, "-days", "-1", "-extfile", "server.ext", "-out", "expired.crt")
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.crt", "-days", "30",
         "-subj", "/CN=mx.example.test", "-addext", "subjectAltName=DNS:mx.example.test")
    for key in ("ca.key", "server.key", "self.key"):
        os.chmod(d / key, 0o600)
    return {"ca": str(d / "ca.crt"), "server_cert": str(d / "server.crt"), "server_key": str(d / "server.key"),
            "wrong_cert": str(d / "wrong.crt"), "expired_cert": str(d / "expired.crt"),
            "self_cert": str(d / "self.crt"), "self_key": str(d / "self.key")}


def _start_notify(procs, args, timeout, stderr):
    """Starts a daemon that speaks sd_notify and waits for READY=1 (no polling)."""
    sockdir = tempfile.mkdtemp(prefix="notify.")
    path = os.path.join(sockdir, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    proc = procs.start(args, env=env, stdout=stderr, stderr=stderr, start_new_session=True)
    end = time.monotonic() + timeout
    ready = False
    try:
        while not ready and proc.poll() is None and time.monotonic() < end:
            try:
                ready = b"READY=1" in s.recv(4096)
            except socket.timeout:
                pass
    finally:
        s.close()
        shutil.rmtree(sockdir, ignore_errors=True)
    if not ready:
        procs.stop(proc)
        raise RuntimeError(f"{args[0]} did not become ready")
    return proc


def start_nsd(procs, directory, zones, port=None, address="127.0.0.1"):
    """NSD serving zones ({"example.test": "zone file text with $ORIGIN/$TTL/SOA"}) on
    address:port (testing.md recipe 2). Returns the port. A zone whose text fails to load
    answers SERVFAIL, which tests use on purpose."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    port = port or free_port(address)
    # Response rate limiting off: tests ask one name hundreds of times a second.
    conf = [f'server: ip-address: {address} port: {port} username: "" chroot: "" database: "" server-count: 1 '
            f'zonesdir: "{d}" zonelistfile: "{d}/zone.list" xfrdfile: "{d}/xfrd.state" xfrdir: "{d}" '
            f'pidfile: "{d}/nsd.pid" logfile: "{d}/nsd.log" verbosity: 0 rrl-ratelimit: 0',
            "remote-control: control-enable: no"]
    for name, text in zones.items():
        (d / f"{name}.zone").write_text(text)
        conf.append(f"zone: name: {name} zonefile: {name}.zone")
    (d / "nsd.conf").write_text("\n".join(conf) + "\n")
    with open(d / "nsd.stderr", "ab") as err:
        _start_notify(procs, ["nsd", "-d", "-c", str(d / "nsd.conf")], 20, err)
    return port


def zone(origin, records, ttl=300):
    """Zone file text for origin with an SOA and NS, plus records (lines relative to origin)."""
    lines = [f"$ORIGIN {origin}.", f"$TTL {ttl}", "@ SOA ns hostmaster 1 3600 600 86400 300", "@ NS ns",
             "ns A 127.0.0.1"]
    return "\n".join(lines + list(records)) + "\n"


def start_smtp_sink(procs, directory, address="127.0.0.1", port=None, options=(), backlog=100):
    """Postfix's smtp-sink on address:port (testing.md recipe 4). Messages are dumped into
    directory/mail/ (as nobody) when "-d" is not in options. Returns (proc, port)."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o755)
    port = port or free_port(address)
    mail = d / "mail"
    mail.mkdir(exist_ok=True)
    shutil.chown(mail, "nobody")
    args = ["smtp-sink", "-u", "nobody", *options]
    if "-d" not in options:
        args += ["-d", f"{mail}/%Y%m%d%H/"]
    target = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    args += [target, str(backlog)]
    with open(d / "sink.stderr", "ab") as err:
        proc = procs.start(args, stdout=err, stderr=err)
    wait_listening(address, port)
    return proc, port


def sink_messages(directory):
    """Files smtp-sink dumped under directory/mail/, sorted by name."""
    return sorted(p for p in (pathlib.Path(directory) / "mail").rglob("*") if p.is_file())


POSTFIX_SERVICES = [
    "cleanup unix n - n - 0 cleanup", "qmgr unix n - n 300 1 qmgr", "rewrite unix - - n - - trivial-rewrite",
    "error unix - - n - - error", "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce",
    "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify", "proxymap unix - - n - - proxymap",
    "anvil unix - - n - 1 anvil", "scache unix - - n - 1 scache", "retry unix - - n - - error",
    "tlsmgr unix - - n 1000? 1 tlsmgr", "virtual unix - n n - - virtual", "postlog unix-dgram n - n - 1 postlogd",
    "smtp unix - - n - - smtp",
]


def start_postfix(directory, main_cf=None, listeners=(), extra_services=()):
    """A private Postfix instance (testing.md recipe 5) under directory, /etc/postfix untouched.
    main_cf: extra main.cf settings {name: value}; listeners: master.cf lines for smtpd, e.g.
    "127.0.0.1:2526 inet n - n - - smtpd". Returns the config directory; stop with
    stop_postfix(config_dir). Mail to example.test is delivered to directory/mail/catchall/."""
    d = pathlib.Path(directory)
    for sub in ("etc", "queue", "data", "mail"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o755)
    shutil.chown(d / "data", "postfix", "postfix")
    shutil.chown(d / "mail", "nobody")
    (d / "etc" / "main.cf").write_text("")
    for f in ("postfix-files", "dynamicmaps.cf"):
        shutil.copy(f"/etc/postfix/{f}", d / "etc" / f)
    settings = {
        "compatibility_level": "3.6", "meta_directory": f"{d}/etc", "queue_directory": f"{d}/queue",
        "data_directory": f"{d}/data", "maillog_file": f"{d}/maillog", "maillog_file_prefixes": "/tmp",
        "myhostname": "mx.example.test", "mydestination": "", "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4", "alias_maps": "", "smtpd_peername_lookup": "no",
        "default_transport": "error:no outbound mail", "relay_transport": "error:no outbound mail",
        "virtual_mailbox_domains": "example.test", "virtual_mailbox_base": f"{d}/mail",
        "virtual_mailbox_maps": "static:catchall/", "virtual_uid_maps": "static:65534",
        "virtual_gid_maps": "static:65534",
    }
    settings.update(main_cf or {})
    subprocess.run(["postconf", "-c", f"{d}/etc", "-e"] + [f"{k}={v}" for k, v in settings.items()], check=True)
    (d / "etc" / "master.cf").write_text("\n".join(list(listeners) + POSTFIX_SERVICES + list(extra_services)) + "\n")
    subprocess.run(["postfix", "-c", f"{d}/etc", "start"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    return f"{d}/etc"


def stop_postfix(config_dir):
    subprocess.run(["postfix", "-c", config_dir, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)
