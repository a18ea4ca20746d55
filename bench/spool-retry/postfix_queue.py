"""Postfix's queue manager over a deferred queue of the same shape as spool-retry's, for
bench.py. A private instance (relaytest.start_postfix, /etc/postfix untouched) whose relayhost
is a closed loopback port, so every delivery attempt fails and the mail is deferred again.

The queue is made by Postfix itself: one message is injected with sendmail(1) and deferred by
qmgr and smtp(8); its queue file (and its defer log) are the template of the 100,000. Each copy
is named as Postfix names a short queue id (5 hex digits of microseconds, then the inode number
in hex) and put in deferred/ under the hash directory Postfix uses (its first character);
`postsuper -s` checks the result (it renames any file whose name does not match its inode).
The mtime of a deferred queue file is its next attempt time: all are in the future while
postsuper runs (it asks qmgr for a scan); then the due 1% are aged into the past. Only the due files get a defer log (qmgr never reads the
others').

The next hop is one loopback port, in one of two states:
- a hand-off pass: a listener that accepts and never greets (smtp(8) waits for the banner), so
  no delivery ends and no deferral competes while qmgr takes the due messages in. Timed from
  the scan request until qmgr has logged "(queue active)" for every due message (moved to
  active/, its envelope records read). Then the connections are closed: the mail is deferred.
- an attempt pass: the port closed. Timed until every due message is logged status=deferred:
  smtp(8) connects and is refused; once the destination is marked dead, qmgr defers the rest
  itself ("delivery temporarily suspended", one call to the defer service each).
The scan request is qmgr's own trigger ("D": scan the deferred queue, honouring the mtimes), as
`postkick public qmgr D` sends it. The log is maillog_file (postlogd), followed by polling every
millisecond; its own timestamps have only seconds. minimal_backoff_time is short so that a
destination marked dead in one pass is tried again in the next.
"""
import os
import pathlib
import pwd
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "integration"))
import relaytest  # noqa: E402



def free_loopback_port():
    """A loopback port nothing listens on (a connection to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Blackhole:
    """A TCP listener on loopback that accepts connections and never says anything."""

    def __init__(self):
        self.port = free_loopback_port()
        self.listener = None
        self.conns = []

    def open(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(1024)
        self.listener.setblocking(False)

    def accept_waiting(self):
        while self.listener:
            try:
                self.conns.append(self.listener.accept()[0])
            except BlockingIOError:
                return

    def close(self):
        """Closes the listener (the port then refuses) and every connection it took."""
        if self.listener:
            self.listener.close()
            self.listener = None
        for c in self.conns:
            c.close()
        self.conns = []


class PostfixQueue:
    def __init__(self, directory, message):
        self.dir = pathlib.Path(directory)
        self.queue = self.dir / "queue"
        self.log = self.dir / "maillog"
        self.message = message
        self.etc = None
        self.qmgr_pid = None
        self.due = []         # paths of the due queue files
        self.log_offset = 0
        self.next_hop = Blackhole()

    # ---- instance ---------------------------------------------------------------------
    def start(self):
        settings = {
            "maillog_file_prefixes": str(self.dir), "default_transport": "smtp", "relay_transport": "smtp",
            "relayhost": f"[127.0.0.1]:{self.next_hop.port}", "smtp_tls_security_level": "none",
            # One deferred-queue scan per request: none on a timer while the bench runs.
            "queue_run_delay": "3600s", "minimal_backoff_time": "1s", "maximal_backoff_time": "4000s",
            "qmgr_message_active_limit": "20000",
        }
        self.etc = relaytest.start_postfix(self.dir, main_cf=settings,
                                           extra_services=["pickup fifo n - n 60 1 pickup"])

    def stop(self):
        self.next_hop.close()
        if self.etc:
            relaytest.stop_postfix(self.etc)
            self.etc = None

    # ---- queue --------------------------------------------------------------------------
    def _template(self):
        """Injects one message and waits until Postfix has deferred it: (queue file bytes, defer log bytes)."""
        subprocess.run(["sendmail", "-C", self.etc, "-f", "app@example.org", "user@remote.test"],
                       input=self.message, check=True, timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace") if self.log.exists() else ""
            m = re.search(r"postfix/qmgr\[(\d+)\]: (\w+): from=<app@example.org>", text)
            if m and "status=deferred" in text:
                self.qmgr_pid = int(m.group(1))
                queue_id = m.group(2)
                sub = queue_id[0]
                data = (self.queue / "deferred" / sub / queue_id).read_bytes()
                defer_log = (self.queue / "defer" / sub / queue_id).read_bytes()
                (self.queue / "deferred" / sub / queue_id).unlink()
                (self.queue / "defer" / sub / queue_id).unlink()
                return data, defer_log
            time.sleep(0.05)
        raise SystemExit("postfix: the template message was not deferred within 30 s")

    def build(self, count, due_every=100):
        """count deferred queue files, every due_every-th one due now."""
        data, defer_log = self._template()
        owner = pwd.getpwnam("postfix")
        uid, gid = owner.pw_uid, owner.pw_gid
        scratch = self.queue / "bench-scratch"
        scratch.mkdir(mode=0o700, exist_ok=True)
        made_dirs = set()
        now = time.time()
        self.due = []
        for n in range(count):
            tmp = scratch / "q"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
            os.write(fd, data)
            os.fchown(fd, uid, gid)
            ino = os.fstat(fd).st_ino
            os.close(fd)
            queue_id = f"{n % 1000000:05X}{ino:X}"
            sub = queue_id[0]
            if sub not in made_dirs:
                for stage in ("deferred", "defer"):
                    d = self.queue / stage / sub
                    d.mkdir(mode=0o700, exist_ok=True)
                    os.chown(d, uid, gid)
                made_dirs.add(sub)
            path = self.queue / "deferred" / sub / queue_id
            os.rename(tmp, path)
            # Every file waits until postsuper's check (which asks qmgr for a scan) is over.
            when = now + 600 + n % 3900
            os.utime(path, (when, when))
            if n % due_every == 0:
                log_path = self.queue / "defer" / sub / queue_id
                log_path.write_bytes(defer_log)
                os.chown(log_path, uid, gid)
                os.chmod(log_path, 0o600)
                self.due.append(path)
        scratch.rmdir()
        check = subprocess.run(["postsuper", "-c", self.etc, "-s"], capture_output=True, text=True, timeout=120)
        if check.returncode != 0 or "renamed" in check.stderr.lower():
            raise SystemExit(f"postsuper -s found a queue Postfix would not have made: {check.stderr.strip()}")
        files = sum(len(os.listdir(self.queue / "deferred" / s)) for s in os.listdir(self.queue / "deferred"))
        if files != count:
            raise SystemExit(f"postfix deferred queue holds {files} files, expected {count}")
        self.settle()
        self.age_due()

    def settle(self, quiet_for=0.25, timeout=30):
        """Waits until qmgr has used no CPU for quiet_for seconds (a scan it was asked for is over)."""
        deadline = time.monotonic() + timeout
        last, quiet_since = self._qmgr_cpu_ns(), time.monotonic()
        while time.monotonic() - quiet_since < quiet_for:
            if time.monotonic() > deadline:
                raise SystemExit("postfix: qmgr did not go idle")
            time.sleep(0.05)
            cpu = self._qmgr_cpu_ns()
            if cpu != last:
                last, quiet_since = cpu, time.monotonic()

    def age_due(self):
        """Makes the due files due again after a pass deferred them (and nothing else)."""
        now = time.time()
        for n, path in enumerate(self.due):
            when = now - 1 - n % 60
            os.utime(path, (when, when))

    # ---- one pass -----------------------------------------------------------------------
    def _qmgr_cpu_ns(self):
        with open(f"/proc/{self.qmgr_pid}/schedstat") as f:
            return int(f.read().split()[0])

    def qmgr_memory_mb(self):
        """(VmRSS, VmHWM) of qmgr in MB."""
        fields = {}
        with open(f"/proc/{self.qmgr_pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.split()
        return int(fields["VmRSS"][0]) / 1024, int(fields["VmHWM"][0]) / 1024

    def _request_scan(self):
        # qmgr's trigger, as postkick sends it (postkick also writes a NUL after it, and dies of
        # SIGPIPE when qmgr has already closed the socket; the request itself was read).
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(self.queue / "public" / "qmgr"))
            s.sendall(b"D")

    def _follow(self, counts, done, timeout):
        """Reads new log lines until done(counts); counts "(queue active)" and status=deferred lines."""
        pending = b""
        deadline = time.perf_counter() + timeout
        with open(self.log, "rb") as log:
            log.seek(self.log_offset)
            while not done(counts):
                self.next_hop.accept_waiting()
                chunk = log.read()
                if not chunk:
                    if time.perf_counter() > deadline:
                        raise SystemExit(f"postfix: {counts} of {len(self.due)} due within {timeout} s")
                    time.sleep(0.001)
                    continue
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if b"(queue active)" in line:
                        counts["active"] += 1
                    elif b"status=deferred" in line:
                        counts["deferred"] += 1
            self.log_offset = log.tell() - len(pending)

    def run_pass(self, attempt, timeout=60):
        """(seconds, qmgr CPU seconds) of one deferred-queue scan: until every due message is
        active (hand-off) or, with attempt, deferred again. Leaves the due messages due again."""
        due = len(self.due)
        if attempt:
            self.next_hop.close()
        else:
            self.next_hop.open()
        self.log_offset = self.log.stat().st_size
        cpu_before = self._qmgr_cpu_ns()
        start = time.perf_counter()
        self._request_scan()
        key = "deferred" if attempt else "active"
        counts = {"active": 0, "deferred": 0}
        self._follow(counts, lambda c: c[key] >= due, timeout)
        elapsed = time.perf_counter() - start
        cpu = (self._qmgr_cpu_ns() - cpu_before) / 1e9
        if not attempt:
            self.next_hop.close()   # the waiting deliveries fail: all deferred again
            self._follow(counts, lambda c: c["deferred"] >= due, timeout)
        self.settle()
        if counts["active"] != due:
            raise SystemExit(f"postfix: {counts['active']} messages went active for {due} due")
        self.age_due()
        return elapsed, cpu
