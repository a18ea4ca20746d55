"""Real Postfix bounces on loopback: a private Postfix (relaytest.start_postfix) relays every
message to reject_mx.py, which refuses recipients by their local part; Postfix then sends its
DSNs to the sender, whose domain it delivers to a Maildir. Used by test_postfix_live.py."""
import pathlib
import smtplib
import subprocess
import time

import relaytest

HERE = pathlib.Path(__file__).resolve().parent
SENDER = "sender@example.test"


def start(procs, directory, transports=None):
    """Starts reject_mx.py and Postfix; returns (config_dir, smtpd_port, maildir).
    transports: {domain: nexthop} routed elsewhere ("{smtpd}" in a nexthop is Postfix's own port)."""
    directory = pathlib.Path(directory)
    mx_port = relaytest.free_port()
    mx = procs.start([relaytest.PY, str(HERE / "reject_mx.py"), str(mx_port)], stdout=subprocess.PIPE, text=True)
    assert mx.stdout.readline().strip() == "READY"
    smtpd_port = relaytest.free_port()
    main_cf = {"default_transport": "smtp", "relay_transport": "smtp", "relayhost": f"[127.0.0.1]:{mx_port}",
               "smtp_dns_support_level": "disabled", "maximal_queue_lifetime": "0",
               "bounce_queue_lifetime": "0", "smtp_tls_security_level": "none"}
    if transports:
        routes = ", ".join(f"{domain}=smtp:{nexthop.format(smtpd=smtpd_port)}" for domain, nexthop in transports.items())
        main_cf["transport_maps"] = f"inline:{{{routes}}}"
    config = relaytest.start_postfix(
        directory / "pf",
        main_cf=main_cf,
        listeners=[f"127.0.0.1:{smtpd_port} inet n - n - - smtpd"])
    relaytest.wait_listening("127.0.0.1", smtpd_port)
    return config, smtpd_port, directory / "pf" / "mail" / "catchall"


def send(port, recipients, message_id):
    """One message from SENDER to recipients through Postfix's smtpd."""
    body = (f"From: {SENDER}\r\nTo: {', '.join(recipients)}\r\nSubject: test {message_id}\r\n"
            f"Message-ID: <{message_id}@example.test>\r\n\r\nhello\r\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.sendmail(SENDER, recipients, body.encode())


def wait_bounces(maildir, count, timeout=60):
    """The files of the first count bounces delivered to maildir/new, sorted by name."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        files = sorted((maildir / "new").glob("*")) if (maildir / "new").exists() else []
        if len(files) >= count:
            return files
        time.sleep(0.1)
    raise TimeoutError(f"{count} bounces did not arrive in {maildir}")
