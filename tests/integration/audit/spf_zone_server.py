"""A DNS server (python3-dnslib) answering from an SPF test-suite scenario's zonedata.

The openspf suites describe DNS data NSD zone files cannot express: queries that time out
(TIMEOUT), TXT strings with control or non-ASCII bytes, labels over 63 octets. This server
answers exactly what the scenario lists (README of testdata/spf): names not listed are
NXDOMAIN, TIMEOUT means no reply at all, SPF (type 99) records are served as TXT when a
name has no TXT record. UDP and TCP on one loopback port; the zone can be swapped while it runs.
"""
import threading

from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT, A, DNSError, DNSLabel
from dnslib.server import DNSLogger, DNSServer

MAX_CNAME_LINKS = 8


def _key(name):
    return name.rstrip(".").lower()


def _bytes(text):
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _label(name):
    return DNSLabel([_bytes(part) for part in name.rstrip(".").split(".")] if name.strip(".") else [])


def _txt(value):
    strings = value if isinstance(value, list) else [value]
    chunks = []
    for s in strings:
        data = _bytes(s)
        chunks += [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    return TXT(chunks)


class _Timeout(DNSError):
    """Raised to send no reply."""


class ZoneResolver:
    """dnslib resolver over one scenario's zonedata ({name: [{TYPE: value} | "TIMEOUT"]})."""

    def __init__(self, zonedata=None):
        self.lock = threading.Lock()
        self.zone = {}
        self.queries = 0
        self.load(zonedata or {})

    def load(self, zonedata):
        zone = {}
        for name, records in zonedata.items():
            entries = list(records)
            types = {next(iter(r)) for r in entries if isinstance(r, dict)}
            if "SPF" in types and "TXT" not in types:
                entries = [({"TXT": r["SPF"]} if isinstance(r, dict) and "SPF" in r else r) for r in entries]
            zone.setdefault(_key(name), []).extend(entries)
        with self.lock:
            self.zone = zone

    def _records(self, name, qtype):
        """(records of qtype at name, timed_out); None when the name does not exist."""
        entries = self.zone.get(_key(name))
        if entries is None:
            return None, False
        found = []
        for entry in entries:
            if entry == "TIMEOUT":
                if not found:
                    return [], True
                continue
            rtype, value = next(iter(entry.items()))
            if rtype != qtype or value == "NONE":
                continue
            if value == "TIMEOUT":
                return [], True
            found.append(value)
        return found, False

    def _rdata(self, qtype, value):
        if qtype == "A":
            return A(value)
        if qtype == "AAAA":
            return AAAA(value)
        if qtype == "MX":
            return MX(_label(value[1]), value[0])
        if qtype == "PTR":
            return PTR(_label(value))
        if qtype == "CNAME":
            return CNAME(_label(value))
        return _txt(value)

    def resolve(self, request, handler):
        with self.lock:
            self.queries += 1
            reply = request.reply()
            qname = b".".join(request.q.qname.label).decode("latin-1")
            qtype = QTYPE.get(request.q.qtype)
            name = qname
            for _ in range(MAX_CNAME_LINKS):
                if qtype != "CNAME":
                    cnames = [next(iter(e.values())) for e in self.zone.get(_key(name), [])
                              if isinstance(e, dict) and "CNAME" in e]
                    if cnames:
                        reply.add_answer(RR(_label(name), QTYPE.CNAME, rdata=CNAME(_label(cnames[0])), ttl=60))
                        name = cnames[0]
                        continue
                records, timed_out = self._records(name, qtype)
                if timed_out:
                    raise _Timeout("timeout")
                if records is None:
                    reply.header.rcode = RCODE.NXDOMAIN
                for value in records or []:
                    reply.add_answer(RR(_label(name), getattr(QTYPE, qtype), rdata=self._rdata(qtype, value), ttl=60))
                return reply
            reply.header.rcode = RCODE.SERVFAIL  # a CNAME loop
            return reply


class ZoneServer:
    """UDP and TCP servers on 127.0.0.1:port (0: any free port) answering from a ZoneResolver."""

    def __init__(self, zonedata=None, port=0):
        self.resolver = ZoneResolver(zonedata)
        quiet = DNSLogger(logf=lambda s: None)
        self.udp = DNSServer(self.resolver, address="127.0.0.1", port=port, logger=quiet)
        self.port = self.udp.server.server_address[1]
        self.tcp = DNSServer(self.resolver, address="127.0.0.1", port=self.port, tcp=True, logger=quiet)
        self.udp.start_thread()
        self.tcp.start_thread()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        self.udp.stop()
        self.tcp.stop()
        self.udp.server.server_close()
        self.tcp.server.server_close()
