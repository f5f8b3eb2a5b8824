"""Operation bodies: done only when the job is, with exactly the fields the old SDK parses."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from sintonia.api.resources import operation_json, snapshot_json
from sintonia.jobs.queue import JobQueue
from sintonia.jobs.status import JobStatus
from sintonia.storage.tuned_models import FailureCode, State
from sintonia.training.progress import Snapshot
from support import record_model


def _setup(store):
    record_model(store, "m")
    queue = JobQueue(store.db)
    return queue, queue.enqueue("m")


def test_a_model_ended_before_its_job_is_not_done_yet(store) -> None:
    queue, job = _setup(store)
    queue.claim("w")
    model = store.finish("m", State.ACTIVE)  # the worker ends the model, then the job
    body = operation_json(queue.get(job.id), model)
    assert set(body) == {"name", "metadata"}
    queue.finish(job.id, JobStatus.CANCELLED)
    body = operation_json(queue.get(job.id), model)
    assert body["done"] is True and body["error"]["code"] == 1 and "response" not in body


def test_a_job_cancelled_before_its_model_ends_is_not_done_yet(store) -> None:
    queue, job = _setup(store)
    queue.request_cancel(job.id)  # queued: cancelled at once; the model is ended just after
    assert queue.get(job.id).status is JobStatus.CANCELLED
    assert "done" not in operation_json(queue.get(job.id), store.get("m"))
    model = store.finish("m", State.FAILED, FailureCode.CANCELLED, "cancelled before it started")
    body = operation_json(queue.get(job.id), model)
    assert body["done"] is True and body["error"]["code"] == 1


def test_success_carries_the_typed_model_and_failure_the_rpc_code(store) -> None:
    queue, job = _setup(store)
    queue.claim("w")
    queue.finish(job.id, JobStatus.SUCCEEDED)
    done = operation_json(queue.get(job.id), store.finish("m", State.ACTIVE))
    assert set(done) == {"name", "metadata", "done", "response"}
    assert done["response"]["@type"].endswith(".v1beta.TunedModel")
    assert done["metadata"]["@type"].endswith(".v1beta.CreateTunedModelMetadata")
    failed = store.finish("m", State.FAILED, FailureCode.INVALID_ARGUMENT, "bad data")
    assert operation_json(queue.get(job.id), failed)["error"] == {
        "code": 3,
        "message": "bad data",
        "details": [],
    }


@pytest.mark.parametrize(
    "loss, written",
    [(0.25, 0.25), (math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")],
)
def test_a_diverged_loss_is_written_as_proto_json_not_a_bare_nan(loss, written) -> None:
    # A bare NaN is not JSON: the model and every poll of its operation answered 500.
    snap = Snapshot(step=1, epoch=0, mean_loss=loss, compute_time=datetime.now(UTC))
    body = snapshot_json(snap)
    assert body["meanLoss"] == written
    json.dumps(body, allow_nan=False)
