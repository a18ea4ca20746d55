"""Helpers for the audit and DNS tests beyond relaytest: muting a DNS server to make timeouts."""
import contextlib
import os
import signal


@contextlib.contextmanager
def stopped(proc):
    """SIGSTOP to the server's process group (NSD answers from a child): the kernel still
    queues queries but nothing answers, so clients see timeouts. SIGCONT on leaving."""
    os.killpg(proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(proc.pid, signal.SIGCONT)
