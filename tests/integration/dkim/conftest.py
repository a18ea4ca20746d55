import pytest

import dkimtest
import relaytest


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Keys, key table and NSD, shared by the tests of one file."""
    procs = relaytest.Processes()
    try:
        yield dkimtest.Setup(tmp_path_factory.mktemp("dkim"), procs)
    finally:
        procs.stop_all()
