"""A `sintonia worker` process stops on SIGTERM, and its signal handling cannot deadlock:
a worker whose handler set the event its main thread was waiting on once hung for good
(a second SIGTERM, from the parent-death signal, came while the first handler held the
event's lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

# The main thread holds the event's lock, as Event.wait does in passing, when SIGTERM comes.
HOLDING_THE_LOCK = """
import os, signal
from sintonia.cli import _stop_on_signals
stopping = _stop_on_signals()
with stopping._cond:
    os.kill(os.getpid(), signal.SIGTERM)  # its handler runs here, on this thread
    os.kill(os.getpid(), signal.SIGINT)
assert stopping.wait(10), "SIGTERM did not set the event"
"""


def test_a_signal_that_comes_while_the_event_is_locked_still_sets_it() -> None:
    done = subprocess.run([sys.executable, "-c", HOLDING_THE_LOCK], timeout=60, check=False)
    assert done.returncode == 0


def test_an_idle_worker_stops_on_sigterm(settings) -> None:
    env = {
        **os.environ,
        "SINTONIA_HOME": str(settings.home),
        "SINTONIA_DATABASE_URL": settings.database_url,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "sintonia.cli", "worker"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        for line in worker.stderr:  # until its loop waits on the empty queue
            if "ready" in line:
                break
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
            pytest.fail("the worker did not stop")
        worker.stderr.close()
