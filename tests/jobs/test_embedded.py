"""serve's embedded workers, with stand-in processes: a worker that was killed or crashed is
replaced (ever more slowly while replacements keep dying), one that stopped as asked is not,
and stopping stops them all."""

from __future__ import annotations

import subprocess
import sys
import time
from itertools import pairwise

import pytest

from sintonia.jobs import embedded
from sintonia.jobs.embedded import EmbeddedWorkers


class _StandIns(EmbeddedWorkers):
    """Each "worker" runs `script` instead of `sintonia worker`."""

    def __init__(self, script: str, count: int = 1) -> None:
        super().__init__(count, check_seconds=0.02)
        self.script = script
        self.started: list[subprocess.Popen] = []
        self.times: list[float] = []

    def _spawn(self) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-c", self.script])
        self.started.append(child)
        self.times.append(time.monotonic())
        return child


def _within(seconds: float, condition) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture(autouse=True)
def quick_restarts(monkeypatch) -> None:
    monkeypatch.setattr(embedded, "FIRST_DELAY", 0.05)


@pytest.mark.parametrize("how", ["import sys; sys.exit(1)", "import os; os.kill(os.getpid(), 9)"])
def test_a_worker_that_crashed_or_was_killed_is_replaced(how: str) -> None:
    workers = _StandIns(how, count=2)
    workers.start()
    try:
        assert _within(30, lambda: len(workers.started) >= 6)  # each slot, again and again
    finally:
        workers.stop(grace=5)


def test_replacements_that_keep_dying_come_ever_more_slowly() -> None:
    workers = _StandIns("import sys; sys.exit(1)")
    workers.start()
    try:
        assert _within(30, lambda: len(workers.started) >= 5)
    finally:
        workers.stop(grace=5)
    # Waits of 0.05, 0.1, 0.2, 0.4 s before the replacements: the gaps between starts grow.
    gaps = [later - earlier for earlier, later in pairwise(workers.times)]
    assert gaps[3] >= 0.4 and gaps[3] > gaps[0]


def test_a_worker_that_stopped_as_asked_is_not_replaced() -> None:
    workers = _StandIns("pass")  # exits 0, as a worker does after SIGTERM or Ctrl-C
    workers.start()
    try:
        assert _within(30, lambda: workers.started[0].poll() is not None)
        time.sleep(0.5)  # 25 checks
        assert len(workers.started) == 1
    finally:
        workers.stop(grace=5)


def test_stop_stops_every_worker() -> None:
    workers = _StandIns("import time; time.sleep(600)", count=2)
    workers.start()
    workers.stop(grace=30)
    assert [child.returncode for child in workers.started] == [-15, -15]  # SIGTERM
    time.sleep(0.2)
    assert len(workers.started) == 2  # none replaced after the stop
