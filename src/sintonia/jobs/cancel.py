"""Cancelling a tuning: the one place that knows what a cancel does to job and model."""

from __future__ import annotations

from sintonia.errors import NotFound
from sintonia.jobs.queue import JobQueue
from sintonia.jobs.status import JobStatus
from sintonia.storage.tuned_models import FailureCode, State, TunedModel, TunedModelStore
from sintonia.training.service import end_tuning


def cancel_tuning(queue: JobQueue, store: TunedModelStore, model: TunedModel, job_id: str) -> None:
    """Ask a job to stop at its next step (the worker keeps the last completed epoch).

    A queued job is cancelled at once: its model keeps the epochs an earlier run completed
    (ACTIVE), or, with none, ends FAILED with google.rpc code CANCELLED.

    Raises:
        NotFound: no such operation on this model.
    """
    job = queue.get(job_id)
    if job is None or job.tuned_model_id != model.id:
        raise NotFound(f"Operation {model.name}/operations/{job_id} does not exist.")
    job = queue.request_cancel(job_id)
    # A queued job is cancelled at once and no worker will end its model: end it here, with
    # the epochs an earlier run (paused or lost) may have completed.
    if job is not None and job.status is JobStatus.CANCELLED and model.state is State.CREATING:
        current = store.get(model.id)
        if current.epochs_completed:
            end_tuning(store, model.id, State.ACTIVE)
        else:
            message = "Tuning was cancelled before the first epoch completed; no adapter was kept."
            if not job.attempts:
                message = "Tuning was cancelled before it started."
            end_tuning(store, model.id, State.FAILED, FailureCode.CANCELLED, message)
