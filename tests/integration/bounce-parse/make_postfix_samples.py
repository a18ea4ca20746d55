#!/usr/bin/python3
"""Writes corpus samples that a real Postfix makes: make_postfix_samples.py CORPUS_DIR.

A private Postfix relays each message of MESSAGES to reject_mx.py, which refuses the recipients
with the replies of provider_replies.py; two more routes give Postfix's own failures (a host that
refuses connections, a route that loops back to Postfix). Each DSN Postfix delivers to the
sender's Maildir is saved as postfix-real-NAME.eml. Run as root (Postfix must start); then run
bounce-parse --json on each new sample, check every field by hand, and save the lines without
"source" as its .expected file (docs/bounce-parse.md)."""
import email
import shutil
import tempfile
import pathlib
import sys

import relaytest
import postfix_bounces

MESSAGES = {  # sample name: recipients
    "gmail-nosuchuser": ["gmail-nosuchuser@gmail.com"],
    "gmail-disabled": ["gmail-disabled@gmail.com"],
    "gmail-overquota": ["gmail-overquota@gmail.com"],
    "gmail-unauthenticated": ["gmail-unauthenticated@gmail.com"],
    "gmail-unsolicited": ["gmail-unsolicited@gmail.com"],
    "gmail-toobig": ["gmail-toobig@gmail.com"],
    "gmail-ratelimit": ["gmail-ratelimit@gmail.com"],
    "outlook-blocklist": ["outlook-blocklist@outlook.com"],
    "outlook-mailboxfull": ["outlook-mailboxfull@outlook.com"],
    "o365-banned-ip": ["o365-banned-ip@fabrikam.example"],
    "o365-recipient-not-found": ["o365-recipient-not-found@fabrikam.example"],
    "o365-dbeb": ["o365-dbeb@contoso.example"],
    "o365-ratelimit": ["o365-ratelimit@outlook.com"],
    "yahoo-nouser": ["yahoo-nouser@yahoo.com"],
    "yahoo-policy": ["yahoo-policy@yahoo.com"],
    "yahoo-tss09": ["yahoo-tss09@yahoo.com"],
    "webde-policy": ["webde-policy@web.de"],
    "gmail-receiving-rate": ["gmail-receiving-rate@gmail.com"],
    "outlook-hourly-limit": ["outlook-hourly-limit@hotmail.com"],
    "outlook-dynamic-ip": ["outlook-dynamic-ip@hotmail.com"],
    "o365-traffic-not-accepted": ["o365-traffic-not-accepted@contoso.example"],
    "o365-too-many-recipients": ["o365-too-many-recipients@contoso.example"],
    "o365-bad-outbound-sender": ["o365-bad-outbound-sender@contoso.example"],
    "exchange-hop-count": ["exchange-hop-count@corp.example"],
    "aol-not-accepted": ["aol-not-accepted@aol.com"],
    "tonline-blocked": ["tonline-blocked@t-online.de"],
    "mimecast-antispoof": ["mimecast-antispoof@protected.example"],
    "postgrey": ["postgrey@greylisting.example"],
    "address-rejected": ["address-rejected@strict.example"],
    "bad-syntax": ["bad-syntax@strict.example"],
    "gmail-security-content": ["gmail-security-content@gmail.com"],
    "gmail-low-reputation": ["gmail-low-reputation@gmail.com"],
    "mailru-disabled": ["mailru-disabled@mail.ru"],
    "system-storage": ["system-storage@busy.example"],
    "zoho-policy": ["zoho-policy@zoho.com"],
    "three-recipients": ["comcast-notcustomer@comcast.net", "icloud-nouser@icloud.com", "ok9@remote.test",
                         "exim-unrouteable@partner.example"],
    "sendmail-unknown": ["sendmail-unknown@legacy.example"],
    "mailbox-unavailable": ["plain-mailbox-unavailable@smallbiz.example"],
    "dovecot-quota": ["dovecot-quota@isp.example"],
    "sender-verify": ["exim-sender-verify@verifying.example"],
    "sender-domain": ["postfix-sender-domain@checking.example"],
    "relay-denied": ["postfix-relay-denied@wrong-mx.example"],
    "no-ptr": ["postfix-no-ptr@strict.example"],
    "spamhaus-listed": ["spamhaus-listed@filtering.example"],
    "amavis-virus": ["amavis-virus@campus.example"],
    "dmarc-reject": ["dmarc-reject@dmarc.example"],
    "toobig": ["postfix-toobig@small.example"],
    "connection-refused": ["someone@refused.test"],
    "mail-loop": ["someone@loop.test"],
}


def main():
    corpus = pathlib.Path(sys.argv[1])
    procs = relaytest.Processes()
    directory = pathlib.Path(tempfile.mkdtemp(prefix="bounce-samples."))
    directory.chmod(0o755)
    try:
        routes = {"refused.test": f"[127.0.0.1]:{relaytest.free_port()}", "loop.test": "[127.0.0.1]:{smtpd}"}
        config, port, maildir = postfix_bounces.start(procs, directory, transports=routes)
        try:
            for name, recipients in MESSAGES.items():
                postfix_bounces.send(port, recipients, name)
            bounces = postfix_bounces.wait_bounces(maildir, len(MESSAGES))
        finally:
            relaytest.stop_postfix(config)
        for bounce in bounces:
            data = bounce.read_bytes()
            returned = email.message_from_bytes(data).get_payload()[-1].get_payload()[0]
            name = returned["Message-ID"].strip("<>").split("@")[0]
            (corpus / f"postfix-real-{name}.eml").write_bytes(data)
            print(f"postfix-real-{name}.eml")
    finally:
        procs.stop_all()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
