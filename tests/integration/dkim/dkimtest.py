"""Helpers of the DKIM integration tests: keys made by dkim-keygen, their records served by
NSD, and the independent verifiers (dkimpy, Perl Mail::DKIM) pointed at that NSD."""
import base64
import os
import pathlib
import re
import subprocess

import dns.rdatatype
import dns.resolver

import relaytest

HERE = pathlib.Path(__file__).resolve().parent
DOMAIN = "example.test"

# RFC 8463 Appendix A: the message signed with ed25519-sha256 and rsa-sha256, and its keys.
RFC8463_MESSAGE = (
    b"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    b" d=football.example.com; i=@football.example.com;\r\n"
    b" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    b" subject : date : message-id : from : subject : date;\r\n"
    b" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    b" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    b" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    b" d=football.example.com; i=@football.example.com;\r\n"
    b" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    b" date : message-id : from : subject : date;\r\n"
    b" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    b" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    b" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    b" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
    b"From: Joe SixPack <joe@football.example.com>\r\n"
    b"To: Suzie Q <suzie@shopping.example.net>\r\n"
    b"Subject: Is dinner ready?\r\n"
    b"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    b"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    b"\r\n"
    b"Hi.\r\n"
    b"\r\n"
    b"We lost the game.  Are you hungry yet?\r\n"
    b"\r\n"
    b"Joe.\r\n")
RFC8463_RECORDS = [
    'brisbane._domainkey TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="',
    'test._domainkey TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6w'
    'y5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3'
    'Ip3G+2kryOTIKT+l/K4w3QIDAQAB"',
]


def keygen(directory, selector, *args):
    """Makes a key with dkim-keygen; returns (key path, zone-file record text)."""
    key = pathlib.Path(directory) / f"{selector}.pem"
    result = relaytest.run([relaytest.bin("dkim-keygen"), "--domain", DOMAIN, "--selector", selector,
                            "--key", str(key), *args], check=True)
    return key, result.stdout.decode()


def short_rsa_record(directory):
    """A 512-bit RSA key (too short for RFC 8301) made with openssl; returns (path, record)."""
    key = pathlib.Path(directory) / "short.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512", "-out", str(key)],
                   check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return key, f'short._domainkey TXT "v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"'


class Setup:
    """Keys of example.test (selectors rsa, ed, short; revoked publishes p=), a key table with
    rsa and ed, and NSD serving example.test and football.example.com."""

    def __init__(self, directory, procs):
        self.dir = pathlib.Path(directory)
        keys = self.dir / "keys"
        keys.mkdir(mode=0o700)
        self.rsa_key, rsa_record = keygen(keys, "rsa")
        self.ed_key, ed_record = keygen(keys, "ed", "--type", "ed25519")
        self.revoked_key, _ = keygen(keys, "revoked")
        self.short_key, short_record = short_rsa_record(keys)
        os.chmod(self.short_key, 0o600)
        self.keytable = self.write_keytable("both", [(DOMAIN, "rsa", self.rsa_key), (DOMAIN, "ed", self.ed_key)])
        zones = {
            DOMAIN: relaytest.zone(DOMAIN, [rsa_record, ed_record, short_record,
                                            'revoked._domainkey TXT "v=DKIM1; k=rsa; p="']),
            "football.example.com": relaytest.zone("football.example.com", RFC8463_RECORDS),
        }
        self.port = relaytest.start_nsd(procs, self.dir / "nsd", zones)
        self.resolver = f"127.0.0.1:{self.port}"

    def write_keytable(self, name, rows):
        path = self.dir / f"{name}.keytable"
        path.write_text("# domain selector key\n" + "".join(f"{d} {s} {k}\n" for d, s, k in rows))
        return path

    def sign(self, message, *args, env=None):
        return relaytest.run([relaytest.bin("dkim-sign"), "--keys", str(self.keytable), *args], input=message, env=env)

    def verify(self, message, *args):
        return relaytest.run([relaytest.bin("dkim-verify"), "--resolver", self.resolver, *args], input=message)

    def dnsfunc(self, name, timeout=5):
        """dkimpy's key lookup, asking the test NSD."""
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        try:
            answer = resolver.resolve(name.decode() if isinstance(name, bytes) else name, dns.rdatatype.TXT,
                                      lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(answer[0].strings)

    def dkimpy_results(self, message):
        """dkimpy's verdict for each DKIM-Signature of message, in order."""
        import dkim  # Debian's python3-dkim
        checker = dkim.DKIM(message)
        count = sum(1 for line in message.split(b"\n") if line.lower().startswith(b"dkim-signature:"))
        return [checker.verify(idx=i, dnsfunc=self.dnsfunc) for i in range(count)]

    def mail_dkim_results(self, message):
        """Perl Mail::DKIM's result per signature: [(selector, result, details)]."""
        result = relaytest.run(["perl", str(HERE / "mail_dkim_verify.pl"), str(self.port)], input=message,
                               check=True)
        return [tuple(line.split(" ", 2)) for line in result.stdout.decode().splitlines()]


def signature_fields(message):
    """The DKIM-Signature fields of message as {tag: value} dicts (whitespace removed)."""
    head = message.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")
    tags = []
    for line in re.sub(r"\n[ \t]", " ", head).split("\n"):
        name, _, value = line.partition(":")
        if name.lower() == "dkim-signature":
            pairs = (part.partition("=") for part in value.split(";"))
            tags.append({k.strip(): re.sub(r"\s", "", v) for k, _, v in pairs if k.strip()})
    return tags


_counter = 0


def deposit(spool, message, sender="bounces@example.test", stage="incoming"):
    """Writes one message into a stage of a relay-spool(5) spool; returns its queue id."""
    global _counter
    _counter += 1
    msg_id = f"1764395000.{_counter:06d}.{os.getpid()}_{_counter}.dkim-test"
    envelope = "\n".join(["version=1", f"id={msg_id}", f"sender={sender}", "arrival=1764395000", "protocol=ESMTPSA",
                          "rcpt=user@example.net", "rcpt.state=pending"]) + "\n\n"
    tmp = pathlib.Path(spool) / "tmp" / msg_id
    tmp.write_bytes(envelope.encode() + message)
    os.rename(tmp, pathlib.Path(spool) / stage / msg_id)
    return msg_id
