"""Long-running operations of tuning jobs: get (poll), list, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sintonia.api import openapi
from sintonia.api.deps import (
    READ,
    WRITE,
    PrincipalDep,
    ServicesDep,
    authorized_model,
    require_scope,
)
from sintonia.api.openapi import PAGE, ModelId, OperationId
from sintonia.api.paging import next_page_token, page_window
from sintonia.api.resources import job_json, operation_json
from sintonia.api.schemas import EmptyOut, ListOperationsOut, OperationOut, TuningJobOut
from sintonia.auth.access import Role
from sintonia.errors import InvalidArgument, NotFound
from sintonia.jobs.cancel import cancel_tuning
from sintonia.storage.names import check_id

router = APIRouter()


@router.get("/tunedModels/{model_id}/operations/{op_id}", **openapi.route(OperationOut))
def get(
    model_id: ModelId, op_id: OperationId, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    require_scope(caller, "ModelService.GetOperation", *READ)
    check_id(op_id, "operation")
    model = authorized_model(svc, caller, model_id, Role.READER)
    job = svc.queue.get(op_id)
    if job is None or job.tuned_model_id != model.id:
        raise NotFound(f"Operation {model.name}/operations/{op_id} does not exist.")
    return operation_json(job, svc.store.get(model.id))


@router.get("/tunedModels/{model_id}/job", **openapi.route(TuningJobOut))
def get_job(model_id: ModelId, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    """The model's latest tuning job, with its place in the queue while it waits."""
    require_scope(caller, "ModelService.GetTuningJob", *READ)
    model = authorized_model(svc, caller, model_id, Role.READER)
    jobs = svc.queue.for_model(model.id)
    if not jobs:
        raise NotFound(f"{model.name} has no tuning job.")
    return job_json(jobs[-1], svc.queue.position(jobs[-1]))


@router.get("/tunedModels/{model_id}/operations", **openapi.route(ListOperationsOut, query=PAGE))
def list_operations(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    require_scope(caller, "ModelService.ListOperations", *READ)
    model = authorized_model(svc, caller, model_id, Role.READER)
    size, start = page_window(request.query_params, 10)
    jobs = svc.queue.for_model(model.id)
    return {
        "operations": [operation_json(j, model) for j in jobs[start : start + size]],
        "nextPageToken": next_page_token(start + size, len(jobs)),
    }


@router.post("/tunedModels/{model_id}/operations/{op_id}:cancel", **openapi.route(EmptyOut))
def cancel(
    model_id: ModelId, op_id: OperationId, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    require_scope(caller, "ModelService.CancelOperation", *WRITE)
    check_id(op_id, "operation")
    model = authorized_model(svc, caller, model_id, Role.WRITER)
    cancel_tuning(svc.queue, svc.store, model, op_id)
    return {}


@router.post("/tunedModels/{model_id}/operations/{target}", include_in_schema=False)
def unknown_verb(target: str) -> None:
    _, _, verb = target.partition(":")
    raise InvalidArgument(f"Unknown method '{verb}' on operations; only :cancel exists.")
