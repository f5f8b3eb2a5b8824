"""The worker on the tiny model: runs a job, honours cancel, checkpoints and hands jobs back
on shutdown, and lets go of a job another worker took over."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from sintonia.jobs.cancel import cancel_tuning
from sintonia.jobs.status import JobStatus
from sintonia.jobs.worker import MAX_LOST_RUNS, Worker
from sintonia.storage.db import JobRow
from sintonia.storage.tuned_models import State
from support import create_tiny_tuned_model, when


@pytest.fixture
def worker(settings) -> Worker:
    return Worker(settings, worker_id="test-worker")


def _submit(worker: Worker, tiny_model_dir: Path, model_id: str, epochs: int) -> str:
    create_tiny_tuned_model(worker.store, tiny_model_dir, model_id, epochs=epochs)
    return worker.queue.enqueue(model_id).id


def test_a_job_runs_to_succeeded(worker, tiny_model_dir) -> None:
    job_id = _submit(worker, tiny_model_dir, "ok-model", epochs=2)
    assert worker.run_next() is True
    assert worker.queue.get(job_id).status is JobStatus.SUCCEEDED
    assert worker.store.get("ok-model").state is State.ACTIVE
    assert worker.run_next() is False  # nothing left


def test_cancel_reaches_the_running_job(worker, tiny_model_dir) -> None:
    job_id = _submit(worker, tiny_model_dir, "long", epochs=500)
    watcher = when(
        lambda: worker.store.get("long").completed_steps >= 8,
        lambda: worker.queue.request_cancel(job_id),
    )
    worker.run_next()
    watcher.join()
    model = worker.store.get("long")
    assert worker.queue.get(job_id).status is JobStatus.CANCELLED
    assert model.state is State.ACTIVE and model.epochs_completed >= 1
    assert model.completed_steps < 3000


def test_shutdown_checkpoints_and_another_worker_resumes(worker, tiny_model_dir) -> None:
    job_id = _submit(worker, tiny_model_dir, "handed-back", epochs=3)
    watcher = when(
        lambda: worker.store.get("handed-back").completed_steps >= 3, worker.stopping.set
    )
    worker.run_next()
    watcher.join()
    job = worker.queue.get(job_id)
    assert job.status is JobStatus.QUEUED and job.worker is None
    paused = worker.store.get("handed-back")
    assert paused.state is State.CREATING
    handed_back_at = paused.completed_steps

    other = Worker(worker.settings, worker_id="other-worker")
    assert other.run_next() is True

    model = other.store.get("handed-back")
    assert other.queue.get(job_id).status is JobStatus.SUCCEEDED
    assert model.state is State.ACTIVE and model.epochs_completed == 3
    assert [s.step for s in model.snapshots] == list(range(1, 19))
    # Steps before the hand-back kept their records: the other worker did not take them again.
    assert model.snapshots[handed_back_at - 1] == paused.snapshots[-1]


def test_cancelling_a_handed_back_job_keeps_its_completed_epoch(worker, tiny_model_dir) -> None:
    job_id = _submit(worker, tiny_model_dir, "paused", epochs=500)
    watcher = when(lambda: worker.store.get("paused").epochs_completed >= 1, worker.stopping.set)
    worker.run_next()
    watcher.join()

    cancel_tuning(worker.queue, worker.store, worker.store.get("paused"), job_id)

    model = worker.store.get("paused")
    assert worker.queue.get(job_id).status is JobStatus.CANCELLED
    assert model.state is State.ACTIVE and model.adapter_key == "paused/adapters/epoch-0001"


def test_a_worker_whose_job_was_taken_over_leaves_it_alone(worker, tiny_model_dir) -> None:
    """A worker that stalled past its lease finds another worker on its job: it stops
    without ending the model or moving the job."""
    job_id = _submit(worker, tiny_model_dir, "taken", epochs=500)

    def take_over() -> None:
        with worker.db.session() as session:
            session.get(JobRow, job_id).worker = "newer-worker"

    watcher = when(lambda: worker.store.get("taken").completed_steps >= 3, take_over)
    worker.run_next()
    watcher.join()
    job = worker.queue.get(job_id)
    assert job.status is JobStatus.RUNNING and job.worker == "newer-worker"
    assert worker.store.get("taken").state is State.CREATING


def test_a_model_deleted_while_training_leaves_no_files(worker, tiny_model_dir) -> None:
    _submit(worker, tiny_model_dir, "doomed", epochs=500)
    watcher = when(
        lambda: worker.store.get("doomed").completed_steps >= 3,
        lambda: worker.store.delete("doomed"),
    )
    worker.run_next()
    watcher.join()
    assert not worker.store.artifacts.path("doomed").exists()
    assert not list(worker.settings.scratch_dir.iterdir())


def test_a_failed_write_after_the_run_is_tried_again(worker, tiny_model_dir, monkeypatch) -> None:
    # As when the database was out of reach a moment: the worker used to die of it, and
    # with it all tuning on its machine.
    job_id = _submit(worker, tiny_model_dir, "bumpy", epochs=1)
    finish = worker.queue.finish
    failures = iter([OperationalError("UPDATE jobs", {}, Exception("server closed"))])

    def fails_once(*args, **kwargs):
        for failure in failures:
            raise failure
        return finish(*args, **kwargs)

    monkeypatch.setattr(worker.queue, "finish", fails_once)
    assert worker.run_next() is True
    assert worker.queue.get(job_id).status is JobStatus.SUCCEEDED
    assert worker.store.get("bumpy").state is State.ACTIVE


class _FailsFirst:
    """An executor that fails `times` times the way no executor should, then runs."""

    def __init__(self, worker: Worker, times: int) -> None:
        self.inner, self.left = worker.executor, times

    def run(self, job, worker_id, should_pause):
        if self.left:
            self.left -= 1
            raise RuntimeError("a bug in the worker")
        return self.inner.run(job, worker_id, should_pause)


@pytest.mark.parametrize("failures", [1, MAX_LOST_RUNS])
def test_a_job_the_worker_failed_goes_back_to_the_queue_a_few_times(
    worker, tiny_model_dir, failures
) -> None:
    job_id = _submit(worker, tiny_model_dir, "unlucky", epochs=1)
    worker.executor = _FailsFirst(worker, failures)
    while worker.run_next():
        pass
    job, model = worker.queue.get(job_id), worker.store.get("unlucky")
    assert job.lost_runs == failures
    if failures < MAX_LOST_RUNS:
        assert job.status is JobStatus.SUCCEEDED and model.state is State.ACTIVE
    else:
        assert job.status is JobStatus.FAILED and model.state is State.FAILED
        assert "a bug in the worker" in model.error_message


def test_the_worker_loop_outlives_a_failing_claim(worker, tiny_model_dir, monkeypatch) -> None:
    job_id = _submit(worker, tiny_model_dir, "later", epochs=1)
    claim = worker.queue.claim
    calls = []

    def flaky(worker_id):
        calls.append(worker_id)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        if worker.queue.get(job_id).status.done:
            worker.stopping.set()
            return None
        return claim(worker_id)

    monkeypatch.setattr(worker.queue, "claim", flaky)
    worker.run(poll_seconds=0.01)
    assert worker.queue.get(job_id).status is JobStatus.SUCCEEDED


def test_a_failed_heartbeat_does_not_stop_the_next_ones(settings, tiny_model_dir) -> None:
    # Heart-beating stopped for good would let the lease run out under a healthy worker.
    worker = Worker(dataclasses.replace(settings, job_lease_seconds=0.2), worker_id="w")
    job_id = _submit(worker, tiny_model_dir, "steady", epochs=4)
    beat, beats = worker.queue.heartbeat, []

    def flaky(*args):
        beats.append(args)
        if len(beats) == 1:
            raise OperationalError("UPDATE jobs", {}, Exception("server closed"))
        return beat(*args)

    worker.queue.heartbeat = flaky
    assert worker.run_next() is True
    assert worker.queue.get(job_id).status is JobStatus.SUCCEEDED
    assert len(beats) >= 3
