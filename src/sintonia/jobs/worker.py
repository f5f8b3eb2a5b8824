"""The worker: claims jobs from the queue and runs them, one at a time, heart-beating.

Cancellation is cooperative: the recipe asks `should_stop` before every step, and the worker
answers from the database, so a cancel from any API process reaches it within one step.
Shutdown too: once `stopping` is set, the step in progress finishes, a checkpoint is written
and the job goes back to the queue, to resume there. A worker that finds its lease taken
over (it stalled past the lease) drops the job without writing anything more.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from datetime import timedelta

from sintonia.errors import TunedModelNotFound
from sintonia.jobs.queue import Job, JobQueue
from sintonia.jobs.status import JobStatus
from sintonia.models.loading import Runtime, pick_runtime
from sintonia.settings import Settings
from sintonia.storage.db import Database
from sintonia.storage.tuned_models import State, TunedModelStore
from sintonia.training.service import run_tuning

log = logging.getLogger(__name__)


class _LeaseLost(BaseException):  # noqa: N818 - not an error: unwinds past `except Exception`
    """Raised from `should_stop` when another worker holds the job now: this one must leave
    its records alone, not end the model nor hand the job back."""


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(self, settings: Settings, worker_id: str | None = None) -> None:
        self.settings = settings
        self.id = worker_id or default_worker_id()
        self.db = Database(settings.database_url)
        self.store = TunedModelStore(self.db, settings.artifacts)
        self.queue = JobQueue(self.db, timedelta(seconds=settings.job_lease_seconds))
        self.runtime: Runtime = pick_runtime(settings.device)
        self.stopping = threading.Event()

    def run(self, poll_seconds: float = 1.0) -> None:
        """Run jobs until `stopping` is set; a job in progress then goes back to the queue."""
        log.info("worker %s ready", self.id)
        while not self.stopping.is_set():
            if not self.run_next():
                self.stopping.wait(poll_seconds)

    def run_next(self) -> bool:
        """Claim and run one job; False when the queue was empty."""
        job = self.queue.claim(self.id)
        if job is None:
            return False
        log.info("running %s (attempt %d)", job.operation_name, job.attempts)
        beating = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(job, beating), daemon=True)
        heart.start()
        try:
            self._run(job)
        finally:
            beating.set()
            heart.join()
        return True

    def _heartbeat(self, job: Job, done: threading.Event) -> None:
        interval = self.queue.lease.total_seconds() / 4
        while not done.wait(interval):
            if not self.queue.heartbeat(job.id, self.id):
                log.warning("lost the lease on %s", job.operation_name)

    def _should_stop(self, job: Job) -> bool:
        current = self.queue.get(job.id)
        if current is None:  # the model was deleted
            return True
        if current.worker != self.id or current.status is not JobStatus.RUNNING:
            raise _LeaseLost
        return current.cancel_requested

    def _run(self, job: Job) -> None:
        try:
            model = run_tuning(
                self.store,
                self.settings,
                job.tuned_model_id,
                self.runtime,
                should_stop=lambda: self._should_stop(job),
                should_pause=self.stopping.is_set,
            )
        except TunedModelNotFound:
            # Deleted while training: drop whatever the last step wrote after the delete.
            with contextlib.suppress(OSError):  # unreachable store: litter, not an error
                self.store.delete_artifacts(job.tuned_model_id)
            return
        except _LeaseLost:
            log.warning("%s was taken over by another worker; dropped here", job.operation_name)
            return
        if model.state is State.CREATING:  # paused by `stopping`, with a checkpoint
            self.queue.finish(job.id, JobStatus.QUEUED, self.id)
            log.info("%s handed back to the queue", job.operation_name)
            return
        if self.queue.cancel_requested(job.id):
            status = JobStatus.CANCELLED
        else:
            status = JobStatus.SUCCEEDED if model.state is State.ACTIVE else JobStatus.FAILED
        self.queue.finish(job.id, status, self.id)
        log.info("%s ended %s (%s)", job.operation_name, status, model.state)
