#!/usr/bin/python3
"""Drives a relay-filter(7) streaming filter with N copies of one message; prints messages
per wall-clock second and per CPU-second of the filter process (user+sys).

usage: stream_driver.py COUNT MESSAGE-FILE -- FILTER [ARGS...]
"""
import os
import subprocess
import sys
import threading
import time


def main():
    count, message_file = int(sys.argv[1]), sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    message = open(message_file, "rb").read()
    envelope = b"version=1\nid=bench\nsender=bench@example.com\nrcpt=user@example.net\n\n"
    frame = b"%d %d\n" % (len(envelope), len(message)) + envelope + message
    # The extensions spool-run offers: requests sent ahead, and verdicts carrying only what
    # goes before the message.
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env=dict(os.environ, RELAY_FILTER_PROTOCOL="1",
                                     RELAY_FILTER_EXTENSIONS="pipelining prepend"))
    proc.stdin.write(b"relay-filter 1\n")
    proc.stdin.flush()
    if not proc.stdout.readline().startswith(b"relay-filter 1"):
        sys.exit("no handshake from the filter")
    signed = []

    def feed():
        for _ in range(count):
            proc.stdin.write(frame)
        proc.stdin.close()

    start = time.monotonic()
    writer = threading.Thread(target=feed)
    writer.start()
    for _ in range(count):
        code, length, _reason = proc.stdout.readline().split(b" ", 2)
        if code != b"0":
            sys.exit("filter answered %s" % code.decode())
        signed.append(proc.stdout.read(int(length.lstrip(b"+"))))
    elapsed = time.monotonic() - start
    writer.join()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if not signed or not signed[-1].startswith(b"DKIM-Signature:"):
        sys.exit("the filter did not sign")
    print("%.0f %.0f" % (count / elapsed, count / (usage.ru_utime + usage.ru_stime)))


if __name__ == "__main__":
    main()
