#!/usr/bin/env python3
"""Fill a relay spool with N messages quickly (no fsync: a listing benchmark needs a queue,
not durability). Files follow relay-spool(5); about half are deferred with a last response."""
import os
import sys
import time


def fill(root, count, stage_mix=("incoming", "outgoing", "deferred", "deferred", "hold")):
    for stage in ("tmp", "incoming", "outgoing", "active", "deferred", "hold", "failed", "sent"):
        os.makedirs(os.path.join(root, stage), exist_ok=True)
    body = ("Subject: benchmark\r\nFrom: app@example.test\r\n\r\n" + "x" * 60 + "\r\n") * 4
    now = int(time.time())
    for n in range(count):
        stage = stage_mix[n % len(stage_mix)]
        msg_id = "%010d.%06d.%d_%d.bench" % (now - count + n, n % 1000000, 4242, n)
        lines = ["version=1", "id=" + msg_id, "sender=app%d@example.test" % (n % 50),
                 "arrival=%d" % (now - count + n), "protocol=ESMTPSA", "auth=app"]
        if stage == "deferred":
            lines += ["attempts=2", "next-attempt=%d" % (now + 600), "defer-reason=connect"]
        if stage == "hold":
            lines.append("hold-reason=held by benchmark")
        for r in range(2):
            lines.append("rcpt=user%d.%d@dest%d.example" % (n, r, n % 97))
            if stage == "deferred":
                lines += ["rcpt.state=deferred", "rcpt.status=4.4.1",
                          "rcpt.response=connect to mx.dest.example[192.0.2.1]:25: Connection refused"]
            else:
                lines.append("rcpt.state=pending")
        path = os.path.join(root, stage, msg_id)
        with open(path, "w", newline="") as f:
            f.write("\n".join(lines) + "\n\n" + body)
        if stage == "deferred":
            os.utime(path, (now, now + 600))


if __name__ == "__main__":
    fill(sys.argv[1], int(sys.argv[2]))
