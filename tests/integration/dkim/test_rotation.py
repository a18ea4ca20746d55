"""scripts/dkim-rotate.sh: a key rotation with two selectors live at once, against NSD."""
import os
import pathlib

import dkimtest
import relaytest

SCRIPT = str(pathlib.Path(__file__).resolve().parents[3] / "scripts" / "dkim-rotate.sh")
MESSAGE = b"From: Joe <joe@example.test>\r\nSubject: rotation\r\n\r\nbody\r\n"


def rotate(env, *args):
    return relaytest.run(["bash", SCRIPT, *args], env=env)


def test_rotation_steps(procs, tmp_path):
    keydir = tmp_path / "dkim"
    keydir.mkdir(mode=0o700)
    keytable = keydir / "keytable"
    env = {"KEYTABLE": str(keytable), "RELAY_BIN": str(relaytest.BIN)}
    old = rotate(env, "new", "example.test", "old")
    assert old.returncode == 0, old.stderr
    keytable.write_text(f"example.test old {keydir / 'example.test.old.pem'}\n")
    new = rotate(env, "new", "example.test", "new", "--type", "ed25519")
    assert new.returncode == 0 and b"k=ed25519" in new.stdout
    assert rotate(env, "new", "example.test", "unpublished").returncode == 0

    port = relaytest.start_nsd(procs, tmp_path / "nsd", {
        "example.test": relaytest.zone("example.test", [old.stdout.decode(), new.stdout.decode()])})
    env["RESOLVER"] = f"127.0.0.1:{port}"
    check = rotate(env, "check", "example.test", "new")
    assert check.returncode == 0, check.stderr
    missing = rotate(env, "check", "example.test", "unpublished")
    assert missing.returncode == 75 and b"no key record at unpublished._domainkey.example.test" in missing.stderr
    assert rotate(env, "switch", "example.test", "old", "unpublished").returncode == 75  # not live yet

    switched = rotate(env, "switch", "example.test", "old", "new")
    assert switched.returncode == 0, switched.stderr
    assert keytable.read_text() == f"example.test new {keydir / 'example.test.new.pem'}\n"
    signed = relaytest.run([relaytest.bin("dkim-sign"), "--keys", str(keytable)], input=MESSAGE).stdout
    assert [(t["s"], t["a"]) for t in dkimtest.signature_fields(signed)] == [("new", "ed25519-sha256")]
    verified = relaytest.run([relaytest.bin("dkim-verify"), "--resolver", env["RESOLVER"]], input=signed)
    assert verified.returncode == 0 and verified.stdout.startswith(b"pass d=example.test s=new")

    assert rotate(env, "retire", "example.test", "new").returncode == 78  # still signing with it
    retired = rotate(env, "retire", "example.test", "old")
    assert retired.returncode == 0
    assert retired.stdout == b'old._domainkey.example.test. IN TXT "v=DKIM1; p="\n'
    assert not (keydir / "example.test.old.pem").exists()
    assert (keydir / "retired" / "example.test.old.pem").exists()
    assert oct(os.stat(keydir / "retired").st_mode & 0o777) == "0o700"
