"""NSD on loopback for the DNS and audit tests: zone files in, readiness by sd_notify, stop by pid."""
import os
import signal
import socket
import subprocess
import tempfile
import time


def free_port(host="127.0.0.1"):
    """A UDP port nobody holds right now (NSD binds both UDP and TCP on it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Nsd:
    """Serves {zone name: zone file text} on 127.0.0.1:port until stop()."""

    def __init__(self, workdir, zones, port=None, timeout=15):
        self.dir = os.path.join(workdir, "nsd")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.server = f"127.0.0.1:{self.port}"
        lines = [
            f'server: ip-address: 127.0.0.1 port: {self.port} username: "" chroot: "" database: ""',
            f'  server-count: 1 zonesdir: "{self.dir}" zonelistfile: "{self.dir}/zone.list"',
            f'  xfrdfile: "{self.dir}/xfrd.state" xfrdir: "{self.dir}" pidfile: "{self.dir}/nsd.pid"',
            f'  logfile: "{self.dir}/nsd.log" verbosity: 0',
            "remote-control: control-enable: no",
        ]
        for name, text in zones.items():
            with open(os.path.join(self.dir, f"{name}.zone"), "w") as f:
                f.write(text)
            lines.append(f"zone: name: {name} zonefile: {name}.zone")
        conf = os.path.join(self.dir, "nsd.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = self._start(["nsd", "-d", "-c", conf], timeout)

    def _start(self, argv, timeout):
        sockdir = tempfile.mkdtemp(prefix="nsd-notify.")
        path = os.path.join(sockdir, "notify")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(path)
        listener.settimeout(0.2)
        stderr = open(os.path.join(self.dir, "nsd.stderr"), "ab")
        proc = subprocess.Popen(argv, env=dict(os.environ, NOTIFY_SOCKET=path), stdin=subprocess.DEVNULL,
                                stdout=stderr, stderr=stderr, start_new_session=True)
        ready, end = False, time.monotonic() + timeout
        try:
            while not ready and proc.poll() is None and time.monotonic() < end:
                try:
                    ready = b"READY=1" in listener.recv(4096)
                except socket.timeout:
                    pass
        finally:
            listener.close()
            os.unlink(path)
            os.rmdir(sockdir)
            stderr.close()
        if not ready:
            self._kill(proc)
            with open(os.path.join(self.dir, "nsd.stderr"), errors="replace") as f:
                raise RuntimeError("nsd did not become ready: " + f.read()[-2000:])
        return proc

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def pause(self):
        """SIGSTOP to NSD's process group (it serves from a child): queries queue, nothing answers."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.proc.pid, signal.SIGCONT)

    def stop(self):
        if self.proc.poll() is None:
            self.resume()
        self._kill(self.proc)


def zone(origin, *records, ttl=300):
    """A zone file with SOA and NS in front of the given record lines."""
    head = [f"$ORIGIN {origin}.", f"$TTL {ttl}", "@ SOA ns hostmaster 1 3600 600 86400 300", "@ NS ns",
            "ns A 127.0.0.1"]
    return "\n".join(head + list(records)) + "\n"
