"""The tuning workers `sintonia serve` runs beside the API: each a `sintonia worker` process,
restarted when it dies while serve runs (killed by the out-of-memory killer, or crashed),
stopped with serve.

A job whose worker died comes back to the queue when its lease runs out, and the restarted
worker resumes it from its checkpoint.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
"""Seconds before restarting a worker that died; doubled while restarts keep dying young."""

MAX_DELAY = 60.0

YOUNG = 60.0
"""A worker that dies within this many seconds of its start died young: a crash at start
(a bad setting, say) is retried ever more slowly instead of in a tight loop."""


class EmbeddedWorkers:
    def __init__(self, count: int, check_seconds: float = 0.5) -> None:
        self.count = count
        self.check_seconds = check_seconds
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._children: list[subprocess.Popen] = []
        self._watcher = threading.Thread(target=self._watch, name="workers", daemon=True)

    def start(self) -> None:
        with self._lock:
            self._children = [self._spawn() for _ in range(self.count)]
        self._watcher.start()

    def stop(self, grace: float = 60) -> None:
        """SIGTERM: each worker ends its current step and hands its job back to the queue."""
        self.stopping.set()
        with self._lock:
            children = list(self._children)
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                child.kill()

    def _spawn(self) -> subprocess.Popen:
        # --stop-with: the worker stops (handing its job back) when serve dies, even by SIGKILL.
        command = [sys.executable, "-m", "sintonia.cli", "worker", "--stop-with", str(os.getpid())]
        return subprocess.Popen(command)

    def _watch(self) -> None:
        started = dict.fromkeys(range(self.count), time.monotonic())
        delays = dict.fromkeys(range(self.count), FIRST_DELAY)
        while not self.stopping.wait(self.check_seconds):
            for slot in range(self.count):
                with self._lock:
                    code = self._children[slot].poll()
                # 0: it stopped as asked (a Ctrl-C at serve's terminal reaches the workers
                # too); only a worker that was killed or crashed is replaced.
                if code is None or code == 0:
                    continue
                young = time.monotonic() - started[slot] < YOUNG
                delay = delays[slot] if young else FIRST_DELAY
                delays[slot] = min(delay * 2, MAX_DELAY)
                log.warning(
                    "tuning worker %d exited (code %s); starting another in %.0f s",
                    self._children[slot].pid,
                    code,
                    delay,
                )
                if self.stopping.wait(delay):
                    return
                with self._lock:
                    if self.stopping.is_set():
                        return
                    self._children[slot] = self._spawn()
                started[slot] = time.monotonic()
