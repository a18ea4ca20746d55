"""Helpers for the spool-tools tests: running the programs against a spool and reading it."""
import json
import pathlib

import relaytest


def tool(name, *args, spool=None, input=None, env=None, timeout=60):
    """Runs a spool tool (with --spool when given); returns CompletedProcess (bytes)."""
    argv = [relaytest.bin(name)]
    if spool is not None:
        argv += ["--spool", str(spool)]
    return relaytest.run(argv + [str(a) for a in args], input=input, env=env, timeout=timeout)


def sendmail(spool, *args, input=b"", env=None):
    return tool("relay-sendmail", *args, spool=spool, input=input, env=env)


def listing(spool, *args):
    """spool-ls --json as a list of dicts."""
    result = tool("spool-ls", "--json", *args, spool=spool)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def only_file(spool, stage):
    names = relaytest.spool_files(spool, stage)
    assert len(names) == 1, (stage, names)
    return pathlib.Path(spool) / stage / names[0]


def stage_counts(spool):
    return {stage: len(relaytest.spool_files(spool, stage)) for stage in relaytest.STAGES}


def empty_spool_except(spool, **expected):
    """Asserts each stage holds as many files as given (0 for the others)."""
    counts = stage_counts(spool)
    want = {stage: expected.get(stage, 0) for stage in relaytest.STAGES}
    assert counts == want, counts


def inject_subjects(spool, subjects):
    """Injects one message per subject (body "body of SUBJECT"); returns subject -> queue id."""
    ids = {}
    for subject in subjects:
        before = set(relaytest.spool_files(spool, "incoming"))
        assert sendmail(spool, "x@example.test", input=f"Subject: {subject}\n\nbody of {subject}\n".encode()).returncode == 0
        [new] = set(relaytest.spool_files(spool, "incoming")) - before
        ids[subject] = new
    return ids


def results(stdout):
    """spool-run's result lines as id -> outcome."""
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in stdout.decode().splitlines()}
