"""Cancelling a tuning: the one place that knows what a cancel does to job and model."""

from __future__ import annotations

from sintonia.errors import NotFound
from sintonia.jobs.queue import JobQueue
from sintonia.jobs.status import JobStatus
from sintonia.storage.tuned_models import FailureCode, State, TunedModel, TunedModelStore


def cancel_tuning(queue: JobQueue, store: TunedModelStore, model: TunedModel, job_id: str) -> None:
    """Ask a job to stop at its next step (the worker keeps the last completed epoch).

    A job that never started is cancelled at once and leaves its model FAILED with
    google.rpc code CANCELLED, since there is nothing to keep.

    Raises:
        NotFound: no such operation on this model.
    """
    job = queue.get(job_id)
    if job is None or job.tuned_model_id != model.id:
        raise NotFound(f"Operation {model.name}/operations/{job_id} does not exist.")
    job = queue.request_cancel(job_id)
    never_started = job is not None and job.status is JobStatus.CANCELLED and not job.attempts
    if never_started and model.state is State.CREATING:
        store.finish(
            model.id, State.FAILED, FailureCode.CANCELLED, "Tuning was cancelled before it started."
        )
