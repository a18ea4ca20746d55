"""relay-policy serve on sockets: many requests on one connection, a unix socket, SIGHUP
reloads the policy (a broken file keeps the old rules), a broken request closes only its
connection, and the transaction's recipients are counted per domain at END-OF-MESSAGE."""
import signal
import socket

from policykit import actions, make_policy, postfix_request, rp, start_server

RULES = """
[defaults]
sender-domains = shop.example
recipient-domain-recipients = 3/hour
max-recipients = 4
"""


def ask(sock, *requests):
    sock.sendall(b"".join(requests))
    data = b""
    while data.count(b"\n\n") < len(requests):
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return actions(data)


def test_tcp_connection_with_a_transaction(procs, tmp_path):
    p = make_policy(tmp_path, RULES)
    _, port = start_server(procs, p, "127.0.0.1:0")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        rcpts = [postfix_request("RCPT", recipient=f"r{i}@big.example") for i in range(5)]
        assert ask(s, *rcpts) == ["DUNNO"] * 4 + ["452 4.5.3 too many recipients, at most 4 per message"]
        # END-OF-MESSAGE counts the 4 recipients accepted at RCPT against big.example: over 3/hour.
        assert ask(s, postfix_request("END-OF-MESSAGE", recipient_count=4)) == [
            "550 5.7.1 message has 4 recipients, more than recipient-domain-recipients 3/hour allows for "
            "recipient domain big.example"]
        # A new transaction (instance) starts a new recipient list.
        assert ask(s, postfix_request("RCPT", recipient="a@small.example", instance="i2"),
                   postfix_request("RCPT", recipient="b@small.example", instance="i2"),
                   postfix_request("END-OF-MESSAGE", instance="i2", recipient_count=2)) == ["DUNNO"] * 3
        # RCPT looks at one more recipient of small.example; the whole message is counted at the end.
        assert ask(s, postfix_request("RCPT", recipient="c@small.example", instance="i3"),
                   postfix_request("RCPT", recipient="d@small.example", instance="i3")) == ["DUNNO"] * 2
        assert ask(s, postfix_request("END-OF-MESSAGE", instance="i3", recipient_count=2))[0].startswith(
            "451 4.7.1 rate limit recipient-domain-recipients 3/hour reached for recipient domain small.example")
        assert ask(s, postfix_request("CONNECT"), postfix_request("DATA")) == ["DUNNO", "DUNNO"]


def test_unix_socket_reload_and_broken_requests(procs, tmp_path):
    p = make_policy(tmp_path, RULES)
    path = str(tmp_path / "policy.sock")
    server, _ = start_server(procs, p, f"unix:{path}", log=tmp_path / "serve.log")
    def one(request):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(path)
            return ask(s, request)[0]
    other = postfix_request("RCPT", sender="a@other.example")
    assert one(other).startswith("550 5.7.1 sender domain other.example is not allowed")
    p.write_text(p.read_text().replace("sender-domains = shop.example", "sender-domains = shop.example other.example"))
    server.send_signal(signal.SIGHUP)
    assert wait_answer(lambda: one(other) == "DUNNO")
    p.write_text(p.read_text() + "nonsense\n")
    server.send_signal(signal.SIGHUP)
    assert wait_answer(lambda: b"keeping the rules in force" in (tmp_path / "serve.log").read_bytes())
    assert one(other) == "DUNNO"
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"x" * 9000 + b"\n")
        assert s.recv(100) == b""   # closed without an answer
    assert b"closing a policy client: line longer than 8192 bytes" in (tmp_path / "serve.log").read_bytes()
    assert one(postfix_request("RCPT")) == "DUNNO"   # the server goes on
    server.send_signal(signal.SIGTERM)
    assert server.wait(10) == 0


def wait_answer(predicate, tries=100):
    """Signals are asynchronous: ask again (bounded) until the server shows the effect."""
    import time
    for _ in range(tries):
        if predicate():
            return True
        time.sleep(0.05)
    return False
