"""What the worker does with a run whose process died (a Ray task or node lost): back to the
queue to resume from its checkpoint, failed on its third lost run (pauses don't count), never
re-queued once it ended or was asked to cancel. The executor here stands in for a Ray cluster
that loses runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sintonia.datasets import dataset_from_records
from sintonia.jobs.queue import Job
from sintonia.jobs.status import JobStatus
from sintonia.jobs.worker import MAX_LOST_RUNS, RunEnd, RunLost, Worker
from sintonia.models.catalog import local_base_model
from sintonia.models.loading import load_tokenizer
from sintonia.storage.tuned_models import FailureCode, State
from sintonia.training.service import TuningRequest, create_tuned_model, end_tuning
from support import tiny_task


class _Losing:
    """Runs nothing: does `before` (as the lost run had), then says the run was lost; the
    first `pauses` runs are paused instead (as by a worker's SIGTERM)."""

    def __init__(self, before: Callable[[Job], object] = lambda _job: None, pauses: int = 0):
        self.before = before
        self.pauses = pauses

    def run(self, job: Job, worker_id: str, should_pause: Callable[[], bool]) -> RunEnd:
        if self.pauses:
            self.pauses -= 1
            return RunEnd.PAUSED
        self.before(job)
        raise RunLost("the node running it died")


@pytest.fixture
def submit(settings, tiny_model_dir: Path) -> Callable[[Worker], str]:
    def submit(worker: Worker) -> str:
        base = local_base_model(tiny_model_dir)
        request = TuningRequest(
            dataset=dataset_from_records(tiny_task(24)), base_model=base, tuned_model_id="m"
        )
        create_tuned_model(worker.store, request, load_tokenizer(base, settings.models_dir))
        return worker.queue.enqueue("m").id

    return submit


@pytest.mark.parametrize("pauses", [0, 2])
def test_a_lost_run_is_queued_again_and_fails_on_its_third_loss(settings, submit, pauses):
    worker = Worker(settings, "w", executor=_Losing(pauses=pauses))
    job_id = submit(worker)
    for lost in [0] * pauses + list(range(1, MAX_LOST_RUNS)):
        assert worker.run_next()
        job = worker.queue.get(job_id)
        assert job.status is JobStatus.QUEUED and job.worker is None
        assert job.lost_runs == lost
        assert worker.store.get("m").state is State.CREATING

    assert worker.run_next()

    model = worker.store.get("m")
    job = worker.queue.get(job_id)
    assert job.status is JobStatus.FAILED
    assert (job.lost_runs, job.attempts) == (MAX_LOST_RUNS, MAX_LOST_RUNS + pauses)
    assert model.state is State.FAILED and model.error_code == FailureCode.INTERNAL
    assert f"lost {MAX_LOST_RUNS} times" in model.error_message
    assert "the node running it died" in model.error_message
    assert worker.run_next() is False


def test_a_lost_run_asked_to_cancel_ends_cancelled(settings, submit) -> None:
    worker = Worker(
        settings, "w", executor=_Losing(lambda job: worker.queue.request_cancel(job.id))
    )
    job_id = submit(worker)
    assert worker.run_next()
    assert worker.queue.get(job_id).status is JobStatus.CANCELLED
    assert worker.store.get("m").state is State.FAILED


def test_a_run_lost_after_its_model_ended_is_not_run_again(settings, submit) -> None:
    def end(job: Job) -> None:
        end_tuning(worker.store, job.tuned_model_id, State.FAILED, FailureCode.INTERNAL, "x")

    worker = Worker(settings, "w", executor=_Losing(end))
    job_id = submit(worker)
    assert worker.run_next()
    assert worker.queue.get(job_id).status is JobStatus.FAILED


def test_a_run_lost_after_its_model_was_deleted_leaves_nothing(settings, submit) -> None:
    worker = Worker(settings, "w", executor=_Losing(lambda job: worker.store.delete("m")))
    submit(worker)
    assert worker.run_next()
    assert worker.queue.for_model("m") == [] and worker.run_next() is False
