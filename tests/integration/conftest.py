import os
import pathlib
import shutil
import tempfile

import pytest

import relaytest


@pytest.fixture
def procs():
    """Processes started by the test, all stopped by pid when it ends."""
    p = relaytest.Processes()
    yield p
    p.stop_all()


@pytest.fixture
def workdir():
    """A fresh directory under /tmp that peers running as other users (smtp-sink and Postfix
    run as nobody/postfix) can reach; pytest's tmp_path sits under a mode-700 directory."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="relaytest."))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
