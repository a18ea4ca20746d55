#!/usr/bin/python3
"""A streaming filter for relay-filter(7) version 1, written from the man page alone.

Adds "X-Stream-Filter: PID COUNT" to each message. Behaviour per message, chosen by the
Subject: "hold" -> 65 with a reason, "defer" -> 75, "die" -> the process exits mid-message
(spool-run must put the message back and start a new filter), "garble" -> a broken verdict line,
"slow" -> no answer for 30 s.
Without RELAY_FILTER_PROTOCOL=1 it refuses to run (exit 64)."""
import os
import sys
import time


def read_exact(stream, n):
    data = stream.read(n)
    if len(data) != n:
        sys.exit(76)
    return data


def main():
    if os.environ.get("RELAY_FILTER_PROTOCOL") != "1":
        sys.exit(64)
    rin, rout = sys.stdin.buffer, sys.stdout.buffer
    if rin.readline() != b"relay-filter 1\n":
        sys.exit(76)
    rout.write(b"relay-filter 1\n")
    rout.flush()
    count = 0
    while True:
        header = rin.readline()
        if not header:
            return 0
        env_len, msg_len = (int(x) for x in header.split())
        envelope = read_exact(rin, env_len)
        message = read_exact(rin, msg_len)
        count += 1
        if not envelope.startswith(b"version=1\n") or not envelope.endswith(b"\n\n"):
            sys.exit(76)
        if b"Subject: die" in message:
            os._exit(3)
        if b"Subject: slow" in message:
            time.sleep(30)
        if b"Subject: garble" in message:
            rout.write(b"what?\n")
        elif b"Subject: hold" in message:
            rout.write(b"65 0 policy says no\n")
        elif b"Subject: defer" in message:
            rout.write(b"75 0 later\n")
        else:
            new = b"X-Stream-Filter: %d %d\r\n" % (os.getpid(), count) + message
            rout.write(b"0 %d \n" % len(new) + new)
        rout.flush()


if __name__ == "__main__":
    sys.exit(main())
