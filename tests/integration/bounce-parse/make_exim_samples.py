#!/usr/bin/python3
"""Writes corpus samples that a real Exim makes: make_exim_samples.py EXIM_ROOT CORPUS_DIR.

Exim cannot be installed beside Postfix, so it runs from its unpacked package (private_mta.py):

    apt-get download exim4-daemon-light libidn12
    for p in *.deb; do dpkg-deb -x "$p" EXIM_ROOT; done

Exim delivers each message of MESSAGES to reject_mx.py (the replies of provider_replies.py and
its prefixes), or fails to route it; its bounces and delay warnings to the sender land in a
Maildir and are saved as exim-real-NAME.eml. Then check every field of bounce-parse --json by
hand and save the lines without "source" as the .expected file (docs/bounce-parse.md)."""
import email
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import private_mta
import relaytest

HERE = pathlib.Path(__file__).resolve().parent
SENDER = "sender@example.test"
MESSAGES = {  # sample name: recipients
    "user-unknown": ["unknown1@remote.test"],
    "two-recipients": ["unknown2@remote.test", "full2@remote.test"],
    "unrouteable": ["someone@nowhere.test"],
    "gmail-unsolicited": ["gmail-unsolicited@gmail.com"],
    "sender-verify": ["exim-sender-verify@verifying.example"],
    "delay-warning": ["slow3@warn.test"],
    "retry-timeout": ["slow4@giveup.test"],
}

CONFIG = """
exim_user = nobody
exim_group = nogroup
exim_path = {exim}
keep_environment = LD_LIBRARY_PATH
primary_hostname = mx.exim.test
qualify_domain = example.test
spool_directory = {work}/spool
log_file_path = {work}/log/%slog
domainlist local_domains = example.test
never_users =
delay_warning = 1s
acl_smtp_rcpt = accept

begin routers
local:
  driver = accept
  domains = +local_domains
  transport = maildir
remote:
  driver = manualroute
  domains = ! nowhere.test
  route_list = * 127.0.0.1
  self = send
  transport = remote_smtp

begin transports
remote_smtp:
  driver = smtp
  port = {port}
  allow_localhost
maildir:
  driver = appendfile
  directory = {work}/Maildir
  maildir_format
  create_directory
  return_path_add
  envelope_to_add
  delivery_date_add
  user = nobody
  group = nogroup

begin retry
giveup.test  *  F,2s,1s
*            *  F,1h,15m
"""


def main():
    exim_root, corpus = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
    exim = exim_root / "usr" / "sbin" / "exim4"
    exim.chmod(0o755)  # it runs as root here; set-user-id, it would ignore LD_LIBRARY_PATH when it re-executes itself
    work = pathlib.Path(tempfile.mkdtemp(prefix="exim-samples."))
    work.chmod(0o755)
    procs = relaytest.Processes()
    try:
        for sub in ("spool", "log", "Maildir"):  # Exim runs as nobody (exim_user)
            (work / sub).mkdir()
            shutil.chown(work / sub, "nobody", "nogroup")
        port = relaytest.free_port()
        mx = procs.start([relaytest.PY, str(HERE / "reject_mx.py"), str(port)], stdout=subprocess.PIPE, text=True)
        assert mx.stdout.readline().strip() == "READY"
        (work / "exim.conf").write_text(CONFIG.format(exim=exim, work=work, port=port))
        # The binary looks up the user it was built for, whatever the configuration says.
        prelude = private_mta.namespace_prelude(work, {"Debian-exim": 65534}) + \
            f"export LD_LIBRARY_PATH={exim_root}/usr/lib/x86_64-linux-gnu && "
        exim_cmd = f"{exim} -C {work}/exim.conf"

        def run(command, stdin=b""):
            subprocess.run(["unshare", "-m", "sh", "-c", prelude + command], input=stdin, check=True, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        for name, recipients in MESSAGES.items():
            body = (f"From: {SENDER}\nTo: {', '.join(recipients)}\nSubject: test {name}\n"
                    f"Message-ID: <{name}@example.test>\n\nhello\n").encode()
            run(f"{exim_cmd} -odi -f {SENDER} {' '.join(recipients)}", body)
        time.sleep(3)  # past the delay warning and the giveup.test retry cutoff
        run(f"{exim_cmd} -qff")
        for bounce in sorted((work / "Maildir" / "new").glob("*")):
            data = bounce.read_bytes()
            message = email.message_from_bytes(data)
            match = next((line for line in data.decode(errors="replace").splitlines()
                          if line.lower().startswith("message-id: <") and "@example.test>" in line), "")
            name = match.split("<", 1)[1].split("@", 1)[0] if match else "unknown"
            if name in MESSAGES and message["From"] and "Mail Delivery System" in message["From"]:
                (corpus / f"exim-real-{name}.eml").write_bytes(data)
                print(f"exim-real-{name}.eml")
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
