import os
import shutil
import tempfile

import pytest


@pytest.fixture
def world_dir():
    """A directory Postfix's own users can reach (pytest's tmp_path sits under a 0700 parent)."""
    path = tempfile.mkdtemp(prefix="bounce-parse.")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
