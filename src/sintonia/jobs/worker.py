"""The worker: claims jobs from the queue and runs them, one at a time, heart-beating.

Cancellation is cooperative: the recipe asks `should_stop` before every step, and the job's
run answers from the database, so a cancel from any API process reaches it within one step.
Shutdown too: once `stopping` is set, the step in progress finishes, a checkpoint is written
and the job goes back to the queue, to resume there. A worker that finds its lease taken
over (it stalled past the lease) drops the job without writing anything more.

Where a claimed job runs is the `Executor`'s business: in this process (`InProcess`, the
default), or as a task on a Ray cluster (`jobs.ray_backend`). Claiming, heart-beating and
moving the job on stay here, the same for both.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from typing import Protocol

from sintonia.errors import TunedModelNotFound
from sintonia.jobs.queue import Job, JobQueue
from sintonia.jobs.status import JobStatus
from sintonia.models.loading import Runtime, pick_runtime
from sintonia.settings import Settings
from sintonia.storage.db import Database
from sintonia.storage.tuned_models import FailureCode, State, TunedModelStore
from sintonia.training.parallel import SOLO, ProcessGroup
from sintonia.training.service import end_tuning, run_tuning

log = logging.getLogger(__name__)

MAX_LOST_RUNS = 3
"""A job whose run is lost (its Ray task or node died) goes back to the queue to resume from
its checkpoint, unless that was its third lost run: then it fails, instead of crashing the
same way forever. Pauses and lease take-overs are not lost runs."""


class _LeaseLost(BaseException):  # noqa: N818 - not an error: unwinds past `except Exception`
    """Raised from `should_stop` when another worker holds the job now: this one must leave
    its records alone, not end the model nor hand the job back."""


class RunEnd(Enum):
    """How a job's run ended: what the worker then does with the job."""

    ENDED = "ended"
    """The model is ACTIVE or FAILED (also when cancelled)."""

    PAUSED = "paused"
    """Stopped by `should_pause` with a checkpoint: the job goes back to the queue."""

    DELETED = "deleted"
    """The model was deleted while it trained."""

    LEASE_LOST = "lease_lost"
    """Another worker holds the job now."""


class RunLost(Exception):  # noqa: N818 - named for what happened, like TunedModelNotFound
    """The process running the job died before it could say how the run ended."""


class Executor(Protocol):
    def run(self, job: Job, worker_id: str, should_pause: Callable[[], bool]) -> RunEnd:
        """Run `job`'s tuning to its end.

        Raises:
            RunLost: the run's process died (not a tuning error: those end the model).
        """


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def connect(settings: Settings) -> tuple[Database, TunedModelStore, JobQueue]:
    """The database, tuned-model store and job queue that `settings` name."""
    db = Database(settings.database_url)
    store = TunedModelStore(db, settings.artifacts)
    return db, store, JobQueue(db, timedelta(seconds=settings.job_lease_seconds))


def run_job(
    settings: Settings,
    store: TunedModelStore,
    queue: JobQueue,
    job: Job,
    worker_id: str,
    runtime: Runtime,
    should_pause: Callable[[], bool],
    group: ProcessGroup = SOLO,
) -> RunEnd:
    """Run a claimed job's tuning here; `should_stop` is answered from the database.

    Every executor comes down to this call, in this process or in a Ray task (once per rank
    of a data-parallel run).
    """
    try:
        model = run_tuning(
            store,
            settings,
            job.tuned_model_id,
            runtime,
            should_stop=lambda: _should_stop(queue, job, worker_id),
            should_pause=should_pause,
            group=group,
        )
    except TunedModelNotFound:
        return RunEnd.DELETED
    except _LeaseLost:
        return RunEnd.LEASE_LOST
    return RunEnd.PAUSED if model.state is State.CREATING else RunEnd.ENDED


def _should_stop(queue: JobQueue, job: Job, worker_id: str) -> bool:
    current = queue.get(job.id)
    if current is None:  # the model was deleted
        return True
    if current.worker != worker_id or current.status is not JobStatus.RUNNING:
        raise _LeaseLost
    return current.cancel_requested


class InProcess:
    """Runs each job in the worker's own process, on its device."""

    def __init__(self, settings: Settings, store: TunedModelStore, queue: JobQueue) -> None:
        self.settings = settings
        self.store = store
        self.queue = queue
        self.runtime: Runtime = pick_runtime(settings.device)

    def run(self, job: Job, worker_id: str, should_pause: Callable[[], bool]) -> RunEnd:
        return run_job(
            self.settings, self.store, self.queue, job, worker_id, self.runtime, should_pause
        )


class Worker:
    def __init__(
        self,
        settings: Settings,
        worker_id: str | None = None,
        executor: Executor | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.id = worker_id or default_worker_id()
        self.db, self.store, self.queue = connect(settings)
        self.executor = executor or InProcess(settings, self.store, self.queue)
        self.stopping = stopping or threading.Event()
        """Set it (never from a signal handler: see cli.worker) to end the current step, hand
        the job back to the queue and return from `run`."""

    def run(self, poll_seconds: float = 1.0) -> None:
        """Run jobs until `stopping` is set; a job in progress then goes back to the queue."""
        log.info("worker %s ready", self.id)
        while not self.stopping.is_set():
            try:
                ran = self.run_next()
            except Exception:
                # The database out of reach for a moment, say. A worker that died of it would
                # stop all tuning here; its job, if it had one, comes back when its lease ends.
                log.exception("worker %s: taking or running a job failed; trying again", self.id)
                ran = False
            if not ran:
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
        except Exception as exc:
            # Not a tuning error (those end the model): the worker's own bookkeeping failed.
            # Counted as a lost run, so that a job that keeps failing this way ends FAILED.
            log.exception("%s: the worker failed", job.operation_name)
            self._lost(job, RunLost(f"the worker failed: {exc}"))
        finally:
            beating.set()
            heart.join()
        return True

    def _heartbeat(self, job: Job, done: threading.Event) -> None:
        interval = self.queue.lease.total_seconds() / 4
        while not done.wait(interval):
            try:
                if not self.queue.heartbeat(job.id, self.id):
                    log.warning("lost the lease on %s", job.operation_name)
            except Exception:  # the database out of reach a moment: the next beat may pass
                log.exception("heartbeat of %s failed", job.operation_name)

    def _run(self, job: Job) -> None:
        try:
            end = self.executor.run(job, self.id, self.stopping.is_set)
        except RunLost as exc:
            self._lost(job, exc)
            return
        if end is RunEnd.DELETED:
            self._deleted(job)
            return
        if end is RunEnd.LEASE_LOST:
            log.warning("%s was taken over by another worker; dropped here", job.operation_name)
            return
        if end is RunEnd.PAUSED:  # by `stopping`, with a checkpoint
            self.queue.finish(job.id, JobStatus.QUEUED, self.id)
            log.info("%s handed back to the queue", job.operation_name)
            return
        self._ended(job)

    def _ended(self, job: Job, *, lost: bool = False) -> None:
        try:
            state = self.store.get(job.tuned_model_id).state
        except TunedModelNotFound:  # deleted right after it ended
            self._deleted(job)
            return
        if self.queue.cancel_requested(job.id):
            status = JobStatus.CANCELLED
        else:
            status = JobStatus.SUCCEEDED if state is State.ACTIVE else JobStatus.FAILED
        self.queue.finish(job.id, status, self.id, lost=lost)
        log.info("%s ended %s (%s)", job.operation_name, status, state)

    def _deleted(self, job: Job) -> None:
        # Deleted while training: drop whatever the last step wrote after the delete.
        with contextlib.suppress(OSError):  # unreachable store: litter, not an error
            self.store.delete_artifacts(job.tuned_model_id)

    def _lost(self, job: Job, exc: RunLost) -> None:
        """The run's process died: resume elsewhere from the checkpoint, or give up."""
        try:
            creating = self.store.get(job.tuned_model_id).state is State.CREATING
            # A job asked to cancel is not handed back: the queue never hands those out.
            lost = job.lost_runs + 1
            retry = lost < MAX_LOST_RUNS and not self.queue.cancel_requested(job.id)
            if creating and retry:
                self.queue.finish(job.id, JobStatus.QUEUED, self.id, lost=True)
                log.warning("%s lost (%s); back to the queue", job.operation_name, exc)
                return
            if creating:
                message = f"Tuning was lost {lost} times (the last time: {exc})."
                end_tuning(
                    self.store, job.tuned_model_id, State.FAILED, FailureCode.INTERNAL, message
                )
        except TunedModelNotFound:
            self._deleted(job)
            return
        self._ended(job, lost=True)
