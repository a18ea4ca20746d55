#!/usr/bin/python3
"""Delivery rate to smtp-sink: mx-deliver (spool mode) beside Postfix's smtp client, same
messages, same sink, same run; plaintext and STARTTLS; with the connections each opened.

  bench/mx-deliver/bench.py [--messages 10000] [--size 10240] [--build build]

Postfix is a private instance (its own config and queue under a temporary directory):
messages are accepted into its hold queue first (not timed), then released and flushed,
and the time runs until the sink has counted every one. mx-deliver's time is its whole
spool run over the same number of messages in outgoing/ (claim, deliver, remove).
For TLS the sink sits behind a Postfix smtpd that terminates STARTTLS and passes each
transaction through (smtpd_proxy_filter), so both clients pay the same server side.
Loopback only; every process started is stopped by its pid."""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import relaytest  # noqa: E402


def sink_counts(path):
    """(sessions, messages) from smtp-sink -c's last counter line."""
    text = pathlib.Path(path).read_text(errors="replace").replace("\r", "\n")
    found = re.findall(r"sess=(\d+).*?mesg=(\d+)", text)
    return tuple(map(int, found[-1])) if found else (0, 0)


def wait_messages(path, target, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sink_counts(path)[1] >= target:
            return time.monotonic()
        time.sleep(0.02)
    raise TimeoutError(f"sink counted {sink_counts(path)[1]} of {target} messages")


def fill_spool(spool, n, size):
    body = b"From: a@example.org\r\nTo: b@example.test\r\nSubject: bench\r\n\r\n"
    line = b"x" * 78 + b"\r\n"
    body += line * ((size - len(body)) // len(line))
    now = int(time.time())
    for i in range(n):
        qid = f"{now}.{i:06d}.{os.getpid()}_{i}.bench"
        head = f"version=1\nid={qid}\nsender=a@example.org\narrival={now}\nrcpt=b@example.test\nrcpt.state=pending\n\n"
        (spool / "outgoing" / qid).write_bytes(head.encode() + body)


def run_mx_deliver(tmp, build, n, size, port, sink_out, tls):
    spool = relaytest.make_spool(tmp / f"spool-{'tls' if tls else 'plain'}")
    fill_spool(spool, n, size)
    before = sink_counts(sink_out)[1]
    args = [str(build / "bin" / "mx-deliver"), "--spool", str(spool), "--route", f"example.test=127.0.0.1:{port}",
            "--resolver", "127.0.0.1:9", "--no-keep-sent", "--tls", "encrypt" if tls else "none"]
    start = time.monotonic()
    r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    elapsed = time.monotonic() - start
    done = [line for line in r.stderr.decode().splitlines() if " done messages=" in line]
    if r.returncode != 0 or not done or f"sent={n} " not in done[-1]:
        raise RuntimeError(f"mx-deliver failed: {r.returncode} {done[-1:] or r.stderr.decode()[-500:]}")
    delivered = sink_counts(sink_out)[1] - before
    connections = int(re.search(r"connections=(\d+)", done[-1]).group(1))
    return n / elapsed, elapsed, connections, delivered


def postconf(conf, *settings):
    subprocess.run(["postconf", "-c", conf, "-e", *settings], check=True)
    subprocess.run(["postfix", "-c", conf, "reload"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def count_lines(path, pattern):
    try:
        return sum(1 for line in open(path, errors="replace") if pattern in line and ": connect from " in line)
    except FileNotFoundError:
        return 0


def run_postfix(tmp, conf, n, size, inject_port, sink_out, maillog, connect_pattern):
    queue = tmp / "postfix" / "queue"
    subprocess.run(["smtp-source", "-s", "20", "-m", str(n), "-l", str(size), "-f", "a@example.org",
                    "-t", "b@example.test", f"127.0.0.1:{inject_port}"], check=True, timeout=300)
    held = sum(1 for p in (queue / "hold").rglob("*") if p.is_file())
    if held != n:
        raise RuntimeError(f"postfix holds {held} of {n} messages")
    before = sink_counts(sink_out)[1]
    connects_before = count_lines(maillog, connect_pattern)
    start = time.monotonic()
    subprocess.run(["postsuper", "-c", conf, "-H", "ALL"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    subprocess.run(["postqueue", "-c", conf, "-f"], check=True)
    end = wait_messages(sink_out, before + n, 300)
    elapsed = end - start
    time.sleep(3)  # cached connections close after 2 s; then the sink and the log count them
    return n / elapsed, elapsed, count_lines(maillog, connect_pattern) - connects_before


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--size", type=int, default=10240)
    ap.add_argument("--build", default=str(ROOT / "build"))
    a = ap.parse_args()
    build = pathlib.Path(a.build)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-mx-deliver."))
    os.chmod(tmp, 0o755)
    procs = relaytest.Processes()
    conf = None
    try:
        certs = relaytest.make_certs(tmp / "certs")
        sink_port = relaytest.free_port()
        sink_out = tmp / "sink.out"
        with open(sink_out, "wb") as out:
            procs.start(["smtp-sink", "-u", "nobody", "-c", f"127.0.0.1:{sink_port}", "1000"], stdout=out,
                        stderr=subprocess.STDOUT)
        relaytest.wait_listening("127.0.0.1", sink_port)
        inject_port, tls_port = relaytest.free_port(), relaytest.free_port()
        front = (f"127.0.0.1:{tls_port} inet n - n - - smtpd -o syslog_name=postfix/tlsfront"
                 f" -o smtpd_proxy_filter=127.0.0.1:{sink_port} -o smtpd_tls_security_level=may"
                 f" -o smtpd_tls_cert_file={certs['server_cert']} -o smtpd_tls_key_file={certs['server_key']}"
                 " -o smtpd_recipient_restrictions=permit_mynetworks,reject")
        conf = relaytest.start_postfix(tmp / "postfix", main_cf={
            "default_transport": "smtp", "relay_transport": "smtp", "virtual_mailbox_domains": "",
            "relayhost": f"[127.0.0.1]:{sink_port}", "mynetworks": "127.0.0.0/8", "in_flow_delay": "0s",
            "smtpd_recipient_restrictions": "check_client_access static:HOLD, permit_mynetworks, reject",
            "smtp_tls_security_level": "none", "default_process_limit": "200",
        }, listeners=[f"127.0.0.1:{inject_port} inet n - n - - smtpd", front],
            extra_services=["pickup fifo n - n 60 1 pickup", "flush unix n - n 1000? 0 flush"])
        relaytest.wait_listening("127.0.0.1", tls_port)
        maillog = tmp / "postfix" / "maillog"
        n = a.messages
        print(f"{n} messages of {a.size} bytes, one recipient each, to smtp-sink on loopback")
        print(f"{'':28}{'msg/s':>9}{'seconds':>9}{'connections':>13}")
        rows = {}
        for tls in (False, True):
            label = "STARTTLS" if tls else "plaintext"
            port = tls_port if tls else sink_port
            rate, secs, conns, delivered = run_mx_deliver(tmp, build, n, a.size, port, sink_out, tls)
            if delivered != n:
                raise RuntimeError(f"the sink counted {delivered} of {n} from mx-deliver")
            print(f"mx-deliver   {label:<15}{rate:9.0f}{secs:9.2f}{conns:13d}")
            if tls:
                postconf(conf, f"relayhost=[127.0.0.1]:{tls_port}", "smtp_tls_security_level=encrypt")
                pattern = "postfix/tlsfront/smtpd"  # its "connect from" lines
            else:
                pattern = None
            sess_before = sink_counts(sink_out)[0]
            prate, psecs, pconns = run_postfix(tmp, conf, n, a.size, inject_port, sink_out, maillog,
                                               pattern or "\x00never")
            if not tls:
                pconns = sink_counts(sink_out)[0] - sess_before
            print(f"postfix smtp {label:<15}{prate:9.0f}{psecs:9.2f}{pconns:13d}")
            rows[label] = rate / prate
        for label, ratio in rows.items():
            print(f"ratio mx-deliver / postfix, {label}: {ratio:.2f}x")
    finally:
        if conf:
            relaytest.stop_postfix(conf)
        procs.stop_all()


if __name__ == "__main__":
    main()
