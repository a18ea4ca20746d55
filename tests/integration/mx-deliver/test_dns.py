"""mx-deliver's routing against a real DNS server (NSD on loopback) and smtp-sink MX hosts:
MX preference order and failover, equal-preference spread, no MX -> A, null MX, NXDOMAIN,
SERVFAIL, a dead resolver, address families, and an MX that points back at the relay."""
import itertools

import pytest

import relaytest
from conftest import deposit, mx_deliver, shared_tmpdir

ZONE = relaytest.zone("example.test", [
    "@ MX 10 mx1", "@ MX 20 mx2", "mx1 A 127.0.0.2", "mx2 A 127.0.0.3",
    "equal MX 10 e1", "equal MX 10 e2", "e1 A 127.0.0.4", "e2 A 127.0.0.5",
    "plain A 127.0.0.6",
    "nullmx MX 0 .",
    "six MX 10 mx6", "mx6 A 127.0.0.7", "mx6 AAAA ::1",
    "v4only MX 10 mx4", "mx4 A 127.0.0.8",
    "loop MX 10 relay", "loop MX 20 mx2", "relay A 127.0.0.9",
    "selfonly MX 10 relay",
    "xn--bcher-kva MX 10 mx1",
])
BROKEN = "@ SOA ns. h. 1 1 1 1 1\nthis is not a record\n"


@pytest.fixture(scope="module")
def env():
    procs = relaytest.Processes()
    with shared_tmpdir("dns") as tmp:
        try:
            port = relaytest.start_nsd(procs, tmp / "nsd", {"example.test": ZONE, "broken.test": BROKEN})
            smtp_port = relaytest.free_port("127.0.0.2")
            yield {"resolver": f"127.0.0.1:{port}", "port": smtp_port, "tmp": tmp, "procs": procs}
        finally:
            procs.stop_all()


_sinks = itertools.count()


def sink(env, procs, address, *options):
    d = env["tmp"] / f"sink-{address}-{next(_sinks)}"
    relaytest.start_smtp_sink(procs, d, address=address, port=env["port"], options=options)
    return d


def deliver(env, *rcpts, extra=()):
    return mx_deliver("-f", "a@example.org", *rcpts, "--resolver", env["resolver"], "--port", env["port"],
                      "--max-wait", "5", *extra)


def test_best_mx_first(env, procs):
    first = sink(env, procs, "127.0.0.2")
    second = sink(env, procs, "127.0.0.3")
    rc, rows, err = deliver(env, "b@example.test")
    assert rc == 0, (rows, err)
    assert rows[0]["status"] == "sent" and rows[0]["remote"] == f"mx1.example.test[127.0.0.2]:{env['port']}"
    assert len(relaytest.sink_messages(first)) == 1 and not relaytest.sink_messages(second)


def test_failover_to_next_mx_when_first_refuses(env, procs):
    second = sink(env, procs, "127.0.0.3")  # mx1 has no listener: connection refused
    rc, rows, err = deliver(env, "b@example.test")
    assert rc == 0, (rows, err)
    assert rows[0]["remote"].startswith("mx2.example.test[127.0.0.3]")
    assert len(relaytest.sink_messages(second)) == 1


def test_failover_after_421_greeting(env, procs):
    sink(env, procs, "127.0.0.2", "-Q", "CONNECT")
    second = sink(env, procs, "127.0.0.3")
    rc, rows, err = deliver(env, "b@example.test")
    assert rc == 0, (rows, err)
    assert rows[0]["remote"].startswith("mx2.example.test")
    assert len(relaytest.sink_messages(second)) == 1


def test_all_mx_down_defers(env):
    rc, rows, err = deliver(env, "b@example.test")
    assert rc == 75
    assert rows[0]["status"] == "deferred" and rows[0]["dsn"] == "4.4.1"


def test_equal_preference_spreads(env, procs):
    e1 = sink(env, procs, "127.0.0.4")
    e2 = sink(env, procs, "127.0.0.5")
    for _ in range(16):
        rc, rows, err = deliver(env, "b@equal.example.test")
        assert rc == 0, (rows, err)
    n1, n2 = len(relaytest.sink_messages(e1)), len(relaytest.sink_messages(e2))
    assert n1 + n2 == 16
    assert n1 > 0 and n2 > 0  # all 16 on one host by chance: p = 2^-15


def test_no_mx_uses_address_record(env, procs):
    plain = sink(env, procs, "127.0.0.6")
    rc, rows, err = deliver(env, "b@plain.example.test")
    assert rc == 0, (rows, err)
    assert rows[0]["remote"].startswith("plain.example.test[127.0.0.6]")
    assert len(relaytest.sink_messages(plain)) == 1


def test_null_mx_fails_without_connecting(env):
    rc, rows, err = deliver(env, "b@nullmx.example.test")
    assert rc == 100
    assert rows[0]["status"] == "failed" and rows[0]["dsn"] == "5.1.10" and rows[0]["remote"] == ""


def test_nxdomain_fails(env):
    rc, rows, err = deliver(env, "b@nosuch.example.test")
    assert rc == 100
    assert rows[0]["dsn"] == "5.1.2"


def test_servfail_defers(env):
    rc, rows, err = deliver(env, "b@www.broken.test")
    assert rc == 75
    assert rows[0]["status"] == "deferred" and rows[0]["dsn"] == "4.4.3"


def test_dead_resolver_defers(env):
    dead = relaytest.free_port("127.0.0.1")
    rc, rows, err = mx_deliver("-f", "a@example.org", "b@example.test", "--resolver", f"127.0.0.1:{dead}",
                               "--max-wait", "5")
    assert rc == 75, err
    assert rows[0]["status"] == "deferred" and rows[0]["dsn"] == "4.4.3"


def test_family_preference(env, procs):
    v4 = sink(env, procs, "127.0.0.7")
    v6 = sink(env, procs, "::1")
    rc, rows, err = deliver(env, "b@six.example.test", extra=["--family", "prefer-ipv6"])
    assert rc == 0, (rows, err)
    assert rows[0]["remote"] == f"mx6.example.test[::1]:{env['port']}"
    rc, rows, err = deliver(env, "b@six.example.test", extra=["--family", "ipv4-only"])
    assert rc == 0, (rows, err)
    assert rows[0]["remote"] == f"mx6.example.test[127.0.0.7]:{env['port']}"
    assert len(relaytest.sink_messages(v4)) == 1 and len(relaytest.sink_messages(v6)) == 1


def test_ipv6_only_without_aaaa_fails(env):
    rc, rows, err = deliver(env, "b@v4only.example.test", extra=["--family", "ipv6-only"])
    assert rc == 100
    assert rows[0]["dsn"] == "5.4.4"


def test_mx_pointing_at_myself(env, procs):
    second = sink(env, procs, "127.0.0.3")
    # This relay is the best MX of loop.example.test: only better MX hosts qualify, none do.
    rc, rows, err = deliver(env, "b@selfonly.example.test", extra=["--hostname", "relay.example.test"])
    assert rc == 100
    assert rows[0]["dsn"] == "5.4.6"
    # As a backup's backup it skips itself and those after it: here nothing better remains.
    rc, rows, err = deliver(env, "b@loop.example.test", extra=["--hostname", "relay.example.test"])
    assert rc == 100 and rows[0]["dsn"] == "5.4.6"
    assert not relaytest.sink_messages(second)


def test_spool_mode_routes_by_mx(env, procs):
    first = sink(env, procs, "127.0.0.2")
    spool = relaytest.make_spool(env["tmp"] / "spool")
    for i in range(6):
        deposit(spool, "a@example.org", [f"u{i}@example.test", f"v{i}@plain.example.test"])
    plain = sink(env, procs, "127.0.0.6")
    r = relaytest.run([relaytest.bin("mx-deliver"), "--spool", str(spool), "--resolver", env["resolver"],
                       "--port", str(env["port"]), "--max-wait", "5", "--concurrency", "3"])
    assert r.returncode == 0, r.stderr
    assert len(relaytest.spool_files(spool, "sent")) == 6
    assert len(relaytest.sink_messages(first)) == 6 and len(relaytest.sink_messages(plain)) == 6


def test_internationalized_domain(env, procs):
    first = sink(env, procs, "127.0.0.2")
    rc, rows, err = deliver(env, "b@b\u00fccher.example.test")
    assert rc == 0, (rows, err)
    assert rows[0]["remote"].startswith("mx1.example.test") and rows[0]["rcpt"] == "b@b\u00fccher.example.test"
    # An ASCII local part: the domain goes as its A-label, no SMTPUTF8 needed (RFC 6531 3.2).
    dump = relaytest.sink_messages(first)[0].read_bytes()
    assert b"X-Rcpt-Args: <b@xn--bcher-kva.example.test>" in dump and b"SMTPUTF8" not in dump
