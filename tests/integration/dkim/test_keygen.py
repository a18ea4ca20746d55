"""dkim-keygen: key files, records in zone-file form (which NSD loads: see conftest), --print."""
import base64
import json
import os
import re
import stat
import subprocess

import pytest

import relaytest


def keygen(tmp_path, *args, key="k.pem"):
    return relaytest.run([relaytest.bin("dkim-keygen"), "-d", "Example.TEST", "-s", "s2026", "-k",
                          str(tmp_path / key), *args])


def record_strings(zone_text):
    """The quoted strings of a zone-file TXT record."""
    return re.findall(r'"((?:[^"\\]|\\.)*)"', zone_text)


def public_der(key):
    return subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                          capture_output=True).stdout


def test_rsa_default_key_and_record(tmp_path):
    result = keygen(tmp_path)
    assert result.returncode == 0, result.stderr
    key = tmp_path / "k.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    text = result.stdout.decode()
    assert text.startswith("s2026._domainkey.example.test. IN TXT (")
    strings = record_strings(text)
    assert len(strings) == 2 and all(len(s) <= 255 for s in strings)
    record = "".join(strings)
    assert record.startswith("v=DKIM1; h=sha256; k=rsa; t=s; p=")
    der = base64.b64decode(record.split("p=")[1])
    assert der == public_der(key)
    bits = subprocess.run(["openssl", "pkey", "-in", str(key), "-noout", "-text"], capture_output=True, text=True)
    assert "(2048 bit" in bits.stdout


def test_ed25519_record_holds_the_raw_public_key(tmp_path):
    result = keygen(tmp_path, "--type", "ed25519", "--json")
    row = json.loads(result.stdout)
    assert (row["name"], row["type"], row["bits"]) == ("s2026._domainkey.example.test", "ed25519", 256)
    assert row["record"].startswith("v=DKIM1; h=sha256; k=ed25519; t=s; p=")
    raw = base64.b64decode(row["record"].split("p=")[1])
    assert len(raw) == 32 and raw == public_der(tmp_path / "k.pem")[-32:]


@pytest.mark.parametrize("bits", [1024, 4096])
def test_rsa_sizes_split_into_255_byte_strings(tmp_path, bits):
    result = keygen(tmp_path, "--bits", str(bits))
    assert result.returncode == 0
    parts = record_strings(result.stdout.decode())
    assert all(len(p) == 255 for p in parts[:-1]) and 0 < len(parts[-1]) <= 255
    assert len(parts) == (1 if bits == 1024 else 4)


@pytest.mark.parametrize("args", [["--bits", "512"], ["--bits", "8192"], ["--type", "dsa"]])
def test_bad_parameters_are_usage_errors(tmp_path, args):
    result = keygen(tmp_path, *args)
    assert result.returncode == 64
    assert not (tmp_path / "k.pem").exists()


def test_flags(tmp_path):
    assert "t=y:s;" in keygen(tmp_path, "--testing", key="a.pem").stdout.decode()
    assert "t=" not in keygen(tmp_path, "--subdomains", key="b.pem").stdout.decode()


def test_existing_key_is_kept_and_print_repeats_its_record(tmp_path):
    first = keygen(tmp_path)
    before = (tmp_path / "k.pem").read_bytes()
    again = keygen(tmp_path)
    assert again.returncode == 78
    assert b"it exists (use --print for its record)" in again.stderr
    assert (tmp_path / "k.pem").read_bytes() == before
    printed = keygen(tmp_path, "--print")
    assert printed.returncode == 0 and printed.stdout == first.stdout
    os.chmod(tmp_path / "k.pem", 0o644)
    refused = keygen(tmp_path, "--print")
    assert refused.returncode == 77 and printed.stdout != b"" and refused.stdout == b""
