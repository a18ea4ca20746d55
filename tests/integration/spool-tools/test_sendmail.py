"""relay-sendmail: sendmail's command line into the spool's incoming/, and every way it must
refuse without leaving anything behind."""
import os
import re
import subprocess

import pytest

import relaytest
from spooltools import empty_spool_except, only_file, sendmail, stage_counts, tool

PHP_MESSAGE = (b"To: Alice <alice@example.test>, bob@example.test\n"
               b"Cc: carol@example.test\n"
               b"Bcc: dave@example.test,\n"
               b"  eve@example.test\n"
               b"Subject: Order 42\n"
               b"MIME-Version: 1.0\n"
               b"Content-Type: text/plain; charset=UTF-8\n"
               b"\n"
               b"Thanks for your order.\n"
               b".\n"
               b"..leading dots stay\n")


@pytest.fixture
def spool(tmp_path):
    return relaytest.make_spool(tmp_path / "spool")


def test_php_mail_style_t_i(spool):
    # PHP's mail() runs "sendmail -t -i" and appends additional_params such as -f.
    result = sendmail(spool, "-t", "-i", "-fshop@example.test", input=PHP_MESSAGE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    envelope, message = relaytest.read_spool_file(only_file(spool, "incoming"))
    assert envelope["sender"] == ["shop@example.test"]
    assert envelope["protocol"] == ["local"]
    assert envelope["rcpt"] == ["alice@example.test", "bob@example.test", "carol@example.test",
                                "dave@example.test", "eve@example.test"]
    assert envelope["rcpt.state"] == ["pending"] * 5
    assert b"Bcc" not in message and b"dave@" not in message and b"eve@" not in message
    # Stored with CRLF line ends, byte for byte otherwise; the lone dot stays with -i.
    assert b"\n" not in message.replace(b"\r\n", b"")
    assert message.endswith(b"Thanks for your order.\r\n.\r\n..leading dots stay\r\n")
    assert b"Subject: Order 42\r\n" in message
    head = message.split(b"\r\n\r\n")[0].decode().replace("\r\n", "\n")
    assert re.search(r"^From: shop@example\.test$", head, re.M)
    assert re.search(r"^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$", head, re.M)
    assert re.search(r"^Message-ID: <[^@>]+@[^>]+>$", head, re.M)
    empty_spool_except(spool, incoming=1)


def test_recipients_as_arguments_keep_existing_headers(spool):
    text = (b"From: App <app@example.test>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
            b"Message-ID: <keep@example.test>\r\nSubject: x\r\n\r\nbody\r\n")
    result = sendmail(spool, "-oi", "-F", "Ignored Name", "x@example.test", "Y <y@example.test>, z@example.test",
                      input=text)
    assert result.returncode == 0, result.stderr
    envelope, message = relaytest.read_spool_file(only_file(spool, "incoming"))
    assert envelope["rcpt"] == ["x@example.test", "y@example.test", "z@example.test"]
    assert message == text  # nothing to add, nothing changed


def test_full_name_and_null_sender(spool):
    result = sendmail(spool, "-f", "<>", "-F", "Web Shop, Inc.", "x@example.test", input=b"Subject: s\n\nb\n")
    assert result.returncode == 0, result.stderr
    envelope, message = relaytest.read_spool_file(only_file(spool, "incoming"))
    assert envelope["sender"] == [""]
    assert re.search(rb'^From: "Web Shop, Inc\." <[^>]+@[^>]+>\r$', message, re.M)


def test_dot_ends_message_without_i(spool):
    result = sendmail(spool, "x@example.test", input=b"Subject: s\n\nfirst\n.\nnever stored\n")
    assert result.returncode == 0, result.stderr
    _, message = relaytest.read_spool_file(only_file(spool, "incoming"))
    assert message.endswith(b"\r\n\r\nfirst\r\n")


def test_headerless_input_with_recipient_becomes_body(spool):
    result = sendmail(spool, "x@example.test", input=b"just a line of text\nand another\n")
    assert result.returncode == 0, result.stderr
    _, message = relaytest.read_spool_file(only_file(spool, "incoming"))
    head, body = message.split(b"\r\n\r\n", 1)
    assert body == b"just a line of text\r\nand another\r\n"
    assert b"From: " in head and b"Date: " in head and b"Message-ID: " in head


def test_noop_options_and_dsn_options(spool):
    result = sendmail(spool, "-odi", "-oem", "-v", "-U", "-Am", "-B", "8BITMIME", "-N", "FAILURE,DELAY", "-R", "HDRS",
                      "-V", "order+42", "x@example.test", input="Subject: é\n\nbody é\n".encode())
    assert result.returncode == 0, result.stderr
    envelope, _ = relaytest.read_spool_file(only_file(spool, "incoming"))
    assert envelope["rcpt.notify"] == ["FAILURE,DELAY"]
    assert envelope["ret"] == ["HDRS"]
    assert envelope["envid"] == ["order+2B42"]
    assert envelope["body"] == ["8BITMIME"]
    # -v names the queue id on stderr.
    assert envelope["id"][0].encode() in result.stderr


def test_bp_and_mailq_list_the_queue(spool, tmp_path):
    assert sendmail(spool, "x@example.test", input=b"Subject: a\n\nb\n").returncode == 0
    listed = sendmail(spool, "-bp")
    assert listed.returncode == 0, listed.stderr
    assert b"<x@example.test> pending" in listed.stdout
    assert b"1 message." in listed.stdout
    mailq = tmp_path / "mailq"
    mailq.symlink_to(relaytest.bin("relay-sendmail"))
    via_name = relaytest.run([str(mailq), "--spool", str(spool)])
    assert via_name.returncode == 0 and via_name.stdout == listed.stdout


def test_default_spool_from_environment(spool):
    result = relaytest.run([relaytest.bin("relay-sendmail"), "x@example.test"], input=b"Subject: e\n\nb\n",
                           env={"RELAY_SPOOL": str(spool)})
    assert result.returncode == 0, result.stderr
    empty_spool_except(spool, incoming=1)


@pytest.mark.parametrize("args, data, code, words", [
    (["bad@@example.test"], b"Subject: s\n\nb\n", 65, b"unable to accept recipient 'bad@@example.test'"),
    (["no-domain"], b"Subject: s\n\nb\n", 65, b"unable to accept recipient 'no-domain'"),
    (["-f", "not an address", "x@example.test"], b"Subject: s\n\nb\n", 65, b"unable to use sender"),
    (["-t"], b"To: broken <\n\nb\n", 65, b"To header field"),
    (["-t"], b"no header here, just text\n", 65, b"no recipient addresses"),
    (["-t"], b"Subject: nobody\n\nb\n", 65, b"no recipient addresses"),
    (["x@example.test"], b"", 65, b"the input is empty"),
    (["x@example.test"], b"\n\n", 65, b"the input is empty"),
    ([], b"Subject: s\n\nb\n", 64, b"no recipients"),
    (["-q"], b"", 64, b"not supported"),
    (["-bs"], b"", 64, b"not supported"),
    (["-Z"], b"", 64, b"unknown option -Z"),
    (["-f"], b"", 64, b"needs a value"),
    (["-N", "SOMETIMES", "x@example.test"], b"Subject: s\n\nb\n", 64, b"-N SOMETIMES"),
    (["--max-size", "10", "x@example.test"], b"Subject: s\n\n" + b"b" * 100, 65, b"larger than 10 bytes"),
])
def test_bad_input_is_refused_and_leaves_nothing(spool, args, data, code, words):
    result = sendmail(spool, *args, input=data)
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith(b"relay-sendmail: fatal: unable to "), result.stderr
    assert words in result.stderr
    empty_spool_except(spool)


def test_missing_spool_is_temporary(tmp_path):
    result = sendmail(tmp_path / "nowhere", "x@example.test", input=b"Subject: s\n\nb\n")
    assert result.returncode == 75
    assert b"unable to open spool" in result.stderr


def test_unwritable_spool_is_permission_error(spool):
    os.chmod(spool, 0o755)
    os.chmod(spool / "tmp", 0o755)
    result = relaytest.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            relaytest.bin("relay-sendmail"), "--spool", str(spool), "x@example.test"],
                           input=b"Subject: s\n\nb\n")
    assert result.returncode == 77, result.stderr
    assert b"Permission denied" in result.stderr
    empty_spool_except(spool)


def test_full_disk_is_temporary_and_leaves_nothing(tmp_path):
    # A 64 KiB tmpfs in a private mount namespace (testing.md recipe 7).
    disk = tmp_path / "disk"
    disk.mkdir()
    script = f"""
        mount -t tmpfs -o size=64k tmpfs {disk} || exit 99
        {relaytest.bin('spool-ctl')} --spool {disk}/spool init || exit 98
        head -c 200000 /dev/zero | tr '\\0' 'x' | fold -w 70 | sed '1i Subject: big\\n' |
          {relaytest.bin('relay-sendmail')} --spool {disk}/spool x@example.test
        echo "big=$?"
        printf 'Subject: small\\n\\nfits\\n' | {relaytest.bin('relay-sendmail')} --spool {disk}/spool x@example.test
        echo "small=$?"
        echo "tmp=$(ls {disk}/spool/tmp | wc -l) incoming=$(ls {disk}/spool/incoming | wc -l)"
    """
    result = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, timeout=60)
    out = result.stdout.decode()
    assert "big=75" in out, (out, result.stderr)
    assert b"No space left on device" in result.stderr
    # The failed message left nothing; the small one after it was queued.
    assert "small=0" in out and "tmp=0 incoming=1" in out, out


def test_killed_before_end_of_input_leaves_nothing(spool):
    proc = subprocess.Popen([relaytest.bin("relay-sendmail"), "--spool", str(spool), "x@example.test"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"Subject: half\n\nthe first half of a message\n")
        proc.stdin.flush()
        proc.kill()
        assert proc.wait(timeout=20) == -9
    finally:
        proc.stdin.close()
    empty_spool_except(spool)
