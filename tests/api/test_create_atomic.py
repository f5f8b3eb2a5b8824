"""A create is one transaction: a process dying part-way through leaves no tuned model
without its owner or its job (which would stay CREATING forever, its id taken)."""

from __future__ import annotations

import dataclasses

import pytest

from live import TINY, examples
from sintonia.api.deps import Services
from sintonia.api.routes.tuned_models import _create
from sintonia.auth.keys import Principal
from sintonia.auth.scopes import DEFAULT_SCOPES
from sintonia.jobs.queue import JobQueue

BODY = {"baseModel": TINY, "tuningTask": {"trainingData": {"examples": {"examples": examples()}}}}


def test_a_create_that_dies_before_queueing_its_job_leaves_nothing(
    settings, tiny_model_dir, monkeypatch
) -> None:
    svc = Services.open(dataclasses.replace(settings, local_models=(tiny_model_dir,)))
    caller = Principal("a@x.com", frozenset(DEFAULT_SCOPES))

    def dies(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the process dies here")

    with monkeypatch.context() as patch:
        patch.setattr(JobQueue, "enqueue", dies)
        with pytest.raises(RuntimeError):
            _create(svc, caller, BODY, "m1")
    assert svc.store.list() == []
    assert not list(svc.store.artifacts.path(svc.store.artifact_dir("m1")).rglob("*.jsonl"))

    operation = _create(svc, caller, BODY, "m1")  # the id is free
    assert operation["name"].startswith("tunedModels/m1/operations/")
    assert [p.email_address for p in svc.permissions.list("m1")] == ["a@x.com"]
    assert [job.id for job in svc.queue.for_model("m1")] == [operation["name"].rsplit("/", 1)[1]]
    svc.db.close()
