#!/usr/bin/python3
"""A scripted SMTP peer for faults aiosmtpd cannot make. raw_mx.py HOST PORT OUTDIR MODE
  drop-after-354: answers 354 to DATA, reads a little of the content, then closes.
  bad-tls:        offers STARTTLS, answers 220, then sends garbage and closes; sessions that
                  do not ask for STARTTLS are served normally (messages written to OUTDIR).
Prints READY once listening."""
import pathlib
import socketserver
import sys
import uuid

host, port, out, mode = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3]), sys.argv[4]
out.mkdir(parents=True, exist_ok=True)


class Session(socketserver.StreamRequestHandler):
    timeout = 30

    def say(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.say("220 raw.test ESMTP")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode(errors="replace").strip().upper()
            if cmd.startswith("EHLO"):
                self.say("250-raw.test")
                if mode == "bad-tls":
                    self.say("250-STARTTLS")
                self.say("250 8BITMIME")
            elif cmd.startswith("HELO"):
                self.say("250 raw.test")
            elif cmd == "STARTTLS":
                self.say("220 2.0.0 ready")
                self.wfile.write(b"this is not a TLS server hello\r\n" * 4)
                return
            elif cmd.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.say("250 2.0.0 ok")
            elif cmd == "DATA":
                self.say("354 go ahead")
                if mode == "drop-after-354":
                    self.rfile.readline(4096)
                    return
                data = b""
                while True:
                    chunk = self.rfile.readline(65536)
                    if not chunk or chunk == b".\r\n":
                        break
                    data += chunk
                (out / (uuid.uuid4().hex + ".eml")).write_bytes(data)
                self.say("250 2.0.0 queued")
            elif cmd == "QUIT":
                self.say("221 2.0.0 bye")
                return
            else:
                self.say("502 5.5.2 unknown command")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server((host, port), Session) as server:
    print("READY", flush=True)
    server.serve_forever()
