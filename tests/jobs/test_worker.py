"""The worker on the tiny model: runs a job, honours cancel, checkpoints and hands jobs back
on shutdown, and lets go of a job another worker took over."""

from __future__ import annotations

from pathlib import Path

import pytest

from sintonia.jobs.cancel import cancel_tuning
from sintonia.jobs.status import JobStatus
from sintonia.jobs.worker import Worker
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
