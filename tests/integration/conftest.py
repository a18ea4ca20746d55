import pytest

import relaytest


@pytest.fixture
def procs():
    """Processes started by the test, all stopped by pid when it ends."""
    p = relaytest.Processes()
    yield p
    p.stop_all()
