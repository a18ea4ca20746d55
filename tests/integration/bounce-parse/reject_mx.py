#!/usr/bin/python3
"""A remote MX that refuses recipients by their local part, so that a real Postfix in front of
it writes real bounces: reject_mx.py PORT. Prints READY when it listens.

  unknown*  550 5.1.1 user unknown        full*  552 5.2.2 mailbox full
  spam*     550 5.7.1 blocked as spam     slow*  451 4.7.1 greylisted, try again later
  big*      accepted at RCPT, then 552 5.3.4 message too large at end of data

A local part that is a key of provider_replies.REPLIES gets that reply, at RCPT or at the end
of DATA (the first such recipient's).
"""
import sys
import time

from aiosmtpd.controller import Controller

from provider_replies import REPLIES as PROVIDER_REPLIES

REPLIES = {
    "unknown": "550 5.1.1 <{}>: Recipient address rejected: User unknown in virtual mailbox table",
    "full": "552 5.2.2 <{}>: Mailbox full, quota exceeded",
    "spam": "550 5.7.1 Service unavailable; client host blocked using zen.spamhaus.example",
    "slow": "451 4.7.1 <{}>: Recipient address rejected: greylisted, try again later",
}


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        stage, reply = PROVIDER_REPLIES.get(local, ("", ""))
        if stage == "rcpt":
            return reply.format(address)
        for prefix, reply in REPLIES.items():
            if local.startswith(prefix):
                return reply.format(address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        for address in envelope.rcpt_tos:
            stage, reply = PROVIDER_REPLIES.get(address.split("@")[0], ("", ""))
            if stage == "data":
                return reply.format(address)
        if any(r.startswith("big") for r in envelope.rcpt_tos):
            return "552 5.3.4 Message size exceeds fixed maximum message size"
        return "250 2.0.0 Ok: queued"


controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("READY", flush=True)
try:
    time.sleep(600)
finally:
    controller.stop()
