#!/usr/bin/python3
"""An aiosmtpd peer for mx-deliver's tests: per-recipient replies by local part
(soft* -> 450, hard* -> 550, else 250), every accepted message written to OUTDIR with its
envelope, optional STARTTLS or implicit TLS, AUTH (user/secret), SIZE limit.

fake_mx.py HOST PORT OUTDIR [--cert C --key K] [--smtps] [--size N] [--accept-soft] [--utf8]
           [--login-only]
Prints READY once the port answers."""
import argparse
import json
import pathlib
import ssl
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

p = argparse.ArgumentParser()
p.add_argument("host")
p.add_argument("port", type=int)
p.add_argument("out")
p.add_argument("--cert")
p.add_argument("--key")
p.add_argument("--smtps", action="store_true")
p.add_argument("--size", type=int, default=0)
p.add_argument("--accept-soft", action="store_true")
p.add_argument("--utf8", action="store_true")
p.add_argument("--login-only", action="store_true")
a = p.parse_args()
out = pathlib.Path(a.out)
out.mkdir(parents=True, exist_ok=True)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("soft") and not a.accept_soft:
            return "450 4.2.0 mailbox busy, try later"
        if address.startswith("hard"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        name = uuid.uuid4().hex
        (out / f"{name}.eml").write_bytes(envelope.original_content)
        meta = {"from": envelope.mail_from, "to": envelope.rcpt_tos, "mail_options": envelope.mail_options,
                "rcpt_options": envelope.rcpt_options, "tls": session.ssl is not None,
                "auth": session.authenticated}
        (out / f"{name}.json").write_text(json.dumps(meta))
        return "250 2.0.0 queued as " + name


def auth(server, session, envelope, mechanism, data):
    return AuthResult(success=(data.login, data.password) == (b"user", b"secret"), handled=False)


kw = dict(auth_exclude_mechanism=["PLAIN"]) if a.login_only else {}
if a.cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    kw.update(dict(ssl_context=ctx) if a.smtps else dict(tls_context=ctx, require_starttls=False))
c = Controller(Handler(), hostname=a.host, port=a.port, authenticator=auth, auth_require_tls=not a.smtps,
               data_size_limit=a.size or None, enable_SMTPUTF8=a.utf8, **kw)
c.start()
print("READY", flush=True)
try:
    time.sleep(600)
finally:
    c.stop()
