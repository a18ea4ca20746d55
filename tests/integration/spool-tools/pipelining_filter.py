#!/usr/bin/python3
"""A streaming filter for relay-filter(7) that accepts the pipelining extension, written from
the man page alone. It reads stdin with os.read into its own buffer, so it can tell whether
spool-run sent a request ahead.

Adds "X-Seen: SUBJECT PID AHEAD" to each message, where SUBJECT is the message's own Subject
(so a test can check that each verdict reached its own message) and AHEAD says whether more
input was waiting. Subject "wait": before answering, wait up to 3 s for the next request
(AHEAD is then "yes" only if spool-run sent it without this verdict). "hold" -> 65, "die" ->
the process exits mid-message, "garble" -> a broken verdict line.
With PIPELINING_FILTER_PLAIN=1 it answers the plain handshake instead. With
PIPELINING_FILTER_PREPEND=1 it accepts the prepend extension when offered and answers with the
X-Seen line alone ("0 +LENGTH"; Subject "same": "0 +0"); with PIPELINING_FILTER_PREPEND=unasked
it answers so without having accepted it. With PIPELINING_FILTER_BATCH=1 it holds its answers
while more input is already read (as relay::filter::serve() batches them), and Subject "gather"
first waits up to 3 s for a request with Subject "die" to be read too, so the answers before
it are held when the filter dies."""
import os
import re
import select
import sys


class Input:
    def __init__(self, fd):
        self.fd, self.buffer = fd, b""

    def fill(self, timeout=None):
        if timeout is not None and not select.select([self.fd], [], [], timeout)[0]:
            return False
        data = os.read(self.fd, 65536)
        if not data:
            return False
        self.buffer += data
        return True

    def line(self):
        while b"\n" not in self.buffer:
            if not self.fill():
                return None
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def exact(self, n):
        while len(self.buffer) < n:
            if not self.fill():
                sys.exit(76)
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data


def main():
    if os.environ.get("RELAY_FILTER_PROTOCOL") != "1":
        sys.exit(64)
    offered = os.environ.get("RELAY_FILTER_EXTENSIONS", "").split()
    pipelining = "pipelining" in offered and os.environ.get("PIPELINING_FILTER_PLAIN") != "1"
    prepend_mode = os.environ.get("PIPELINING_FILTER_PREPEND")
    accept_prepend = prepend_mode == "1" and "prepend" in offered
    prepend = accept_prepend or prepend_mode == "unasked"
    rin = Input(0)
    if rin.line() != b"relay-filter 1":
        sys.exit(76)
    accepted = [b"pipelining"] * pipelining + [b"prepend"] * accept_prepend
    os.write(1, b" ".join([b"relay-filter 1"] + accepted) + b"\n")
    batch = os.environ.get("PIPELINING_FILTER_BATCH") == "1"
    held = b""
    while True:
        if held and not (batch and rin.buffer):
            os.write(1, held)
            held = b""
        header = rin.line()
        if header is None:
            return 0
        env_len, msg_len = (int(x) for x in header.split())
        rin.exact(env_len)
        message = rin.exact(msg_len)
        subject = re.search(rb"Subject: (\S+)", message).group(1)
        if subject == b"wait" and not rin.buffer:
            rin.fill(timeout=3)
        while subject == b"gather" and b"Subject: die" not in rin.buffer and rin.fill(timeout=3):
            pass
        ahead = b"yes" if rin.buffer else b"no"
        if subject == b"die":
            os._exit(3)
        if subject == b"garble":
            answer = b"what?\n"
        elif subject == b"hold":
            answer = b"65 0 held " + subject + b"\n"
        elif prepend:
            added = b"" if subject == b"same" else b"X-Seen: %s %d %s\r\n" % (subject, os.getpid(), ahead)
            answer = b"0 +%d \n" % len(added) + added
        else:
            new = b"X-Seen: %s %d %s\r\n" % (subject, os.getpid(), ahead) + message
            answer = b"0 %d \n" % len(new) + new
        held += answer


if __name__ == "__main__":
    sys.exit(main())
