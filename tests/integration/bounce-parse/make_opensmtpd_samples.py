#!/usr/bin/python3
"""Writes corpus samples that a real OpenSMTPD makes: make_opensmtpd_samples.py SMTPD_ROOT CORPUS_DIR.

OpenSMTPD cannot be installed beside Postfix, so it runs from its unpacked package
(private_mta.py), with empty directories where it keeps its queue, socket and chroot, and its
own helpers in /usr/libexec:

    apt-get download opensmtpd && dpkg-deb -x opensmtpd_*.deb SMTPD_ROOT

It relays each message of MESSAGES to reject_mx.py and hands the bounces and delay warnings it
writes to the sender to a command that saves them; each is saved as opensmtpd-real-NAME.eml.
Then check every field of bounce-parse --json by hand and save the lines without "source" as
the .expected file (docs/bounce-parse.md)."""
import pathlib
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time

import private_mta
import relaytest

HERE = pathlib.Path(__file__).resolve().parent
SENDER = "sender@example.test"
MESSAGES = {  # sample name: recipients
    "user-unknown": ["unknown5@remote.test"],
    "two-recipients": ["full5@remote.test", "spam5@remote.test"],
    "delay-and-expiry": ["slow5@remote.test"],
}

CONFIG = """
queue ttl 5s
bounce warn-interval 2s
listen on 127.0.0.1 port {port}
table catchall {{ "@" = "nobody" }}
action "bounces" mda "/bin/sh -c 'cat > {work}/out/$$.eml'" virtual <catchall>
action "relay" relay host smtp://127.0.0.1:{mx_port}
match from any for domain "example.test" action "bounces"
match from any for any action "relay"
"""


def main():
    smtpd_root, corpus = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
    work = pathlib.Path(tempfile.mkdtemp(prefix="opensmtpd-samples."))
    work.chmod(0o755)
    (work / "out").mkdir()
    shutil.chown(work / "out", "nobody", "nogroup")
    procs = relaytest.Processes()
    try:
        mx_port, port = relaytest.free_port(), relaytest.free_port()
        mx = procs.start([relaytest.PY, str(HERE / "reject_mx.py"), str(mx_port)], stdout=subprocess.PIPE, text=True)
        assert mx.stdout.readline().strip() == "READY"
        (work / "smtpd.conf").write_text(CONFIG.format(port=port, mx_port=mx_port, work=work))
        prelude = private_mta.namespace_prelude(work, {"opensmtpd": 64990, "opensmtpq": 64991},
                                                tmpfs=("/var/lib", "/var/spool", "/run"))
        prelude += "mkdir -p /var/lib/opensmtpd/empty && "  # its chroot
        prelude += f"mount --bind {smtpd_root}/usr/libexec /usr/libexec && "  # its delivery helpers
        procs.start(["unshare", "-m", "sh", "-c", prelude + f"exec {smtpd_root}/usr/sbin/smtpd -d -f {work}/smtpd.conf"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        relaytest.wait_listening("127.0.0.1", port)
        for name, recipients in MESSAGES.items():
            body = (f"From: {SENDER}\r\nTo: {', '.join(recipients)}\r\nSubject: test {name}\r\n"
                    f"Message-ID: <{name}@example.test>\r\n\r\nhello\r\n")
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                s.sendmail(SENDER, recipients, body.encode())
        time.sleep(12)  # past the warning interval and the queue lifetime, with OpenSMTPD's retries
        written = set()
        for path in sorted((work / "out").glob("*.eml"), key=lambda p: p.stat().st_mtime):
            data = path.read_bytes()
            text = data.decode(errors="replace")
            name = next((n for n in MESSAGES if f"<{n}@example.test>" in text), None)
            if name is None:
                continue
            kind = "-warning" if "Action: delayed" in text else ""
            if f"{name}{kind}" in written:  # OpenSMTPD reports an expiry as a second delay
                kind = "-expired"
            written.add(f"{name}{kind}")
            target = corpus / f"opensmtpd-real-{name}{kind}.eml"
            target.write_bytes(data)
            print(target.name)
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
