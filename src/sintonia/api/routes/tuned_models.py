"""tunedModels: create (a long-running operation), get, list, patch, delete, and the
`tunedModels/{id}:verb` methods (generateContent, countTokens, cancel, transferOwnership)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from sintonia.api import openapi, wire
from sintonia.api.deps import (
    GENERATE,
    READ,
    WRITE,
    PrincipalDep,
    Services,
    ServicesDep,
    authorized_model,
    require_scope,
)
from sintonia.api.openapi import PAGE, ModelId
from sintonia.api.paging import next_page_token, page_window
from sintonia.api.resources import operation_json, tuned_model_json
from sintonia.api.routes import generation
from sintonia.api.schemas import (
    CountTokensIn,
    CountTokensOut,
    EmptyOut,
    GenerateContentIn,
    GenerateContentResponseOut,
    ListTunedModelsOut,
    OperationOut,
    TransferOwnershipIn,
    TunedModelIn,
    TunedModelOut,
)
from sintonia.auth.access import Role, check_email, role_for
from sintonia.auth.keys import Principal
from sintonia.datasets import dataset_from_records
from sintonia.errors import InvalidArgument
from sintonia.inference.request import check_sampling
from sintonia.inference.targets import Target, base_target, tuned_target
from sintonia.jobs.cancel import cancel_tuning
from sintonia.jobs.queue import Job
from sintonia.models.catalog import BaseModel, get_base_model, resolve_base_model
from sintonia.storage.names import check_display_name
from sintonia.storage.tuned_models import TunedModel
from sintonia.training.service import TuningRequest, create_tuned_model
from sintonia.training.spec import Hyperparameters

router = APIRouter()

NO_EXAMPLES = (
    "The request has no training examples (tuningTask.trainingData.examples.examples is "
    "empty or missing). If you used google-genai's tunings.tune: releases 1.47 and later drop "
    "the examples on the client side before sending. Use google-generativeai's "
    "create_tuned_model, curl with the examples inline, or the `sintonia tune` CLI."
)
MUTABLE = {
    "displayName": "display_name",
    "description": "description",
    "temperature": "temperature",
    "topP": "top_p",
    "topK": "top_k",
}


def _examples(body: TunedModelIn) -> list[Any]:
    data = body.tuningTask.trainingData if body.tuningTask else None
    examples = (data or {}).get("examples")
    if isinstance(examples, dict):
        examples = examples.get("examples")
    if not examples:
        raise InvalidArgument(NO_EXAMPLES)
    if not isinstance(examples, list):
        raise InvalidArgument("tuningTask.trainingData.examples.examples must be a list.")
    return examples


def _hyperparameters(body: TunedModelIn) -> Hyperparameters:
    hp = body.tuningTask.hyperparameters if body.tuningTask else None
    if hp is None:
        return Hyperparameters()
    given = {
        "epoch_count": hp.epochCount,
        "batch_size": hp.batchSize,
        "learning_rate": hp.learningRate,
        "learning_rate_multiplier": hp.learningRateMultiplier,
    }
    return Hyperparameters(**{k: v for k, v in given.items() if v is not None})


def _base(svc: Services, body: TunedModelIn) -> BaseModel:
    if body.tunedModelSource is not None:
        raise InvalidArgument(
            "Tuning a tuned model further (tunedModelSource) is not supported; "
            "give baseModel instead."
        )
    if not body.baseModel:
        raise InvalidArgument('baseModel is required, e.g. "models/gemma-3-270m".')
    return get_base_model(body.baseModel, svc.settings.local_models)


def _create(
    svc: Services, caller: Principal, raw: dict[str, Any], model_id: str | None
) -> dict[str, Any]:
    body = TunedModelIn.model_validate(raw)
    base = _base(svc, body)
    request = TuningRequest(
        dataset=dataset_from_records(_examples(body), source="trainingData"),
        base_model=base,
        hyperparameters=_hyperparameters(body),
        tuned_model_id=model_id,
        display_name=check_display_name(body.displayName or ""),
        description=body.description or "",
        temperature=body.temperature,
        top_p=body.topP,
        top_k=body.topK,
        owner=caller.email,
    )
    check_sampling(base.max_temperature, body.temperature, body.topP, body.topK)
    svc.queue.admit(caller.email, svc.settings.max_jobs_per_user)
    tokenizer = svc.engines.tokenizer(base)
    jobs: list[Job] = []

    def owner_and_job(model: TunedModel) -> None:
        # In the model's transaction: a crash part-way leaves no model without its owner or
        # its job, and a job over the limit leaves no model (nor its data file).
        svc.permissions.add_owner(model.id, caller.email)
        jobs.append(svc.queue.enqueue(model.id, limit=svc.settings.max_jobs_per_user))

    model = create_tuned_model(svc.store, request, tokenizer, along=owner_and_job)
    return operation_json(jobs[0], model)


@router.post(
    "/tunedModels",
    **openapi.route(OperationOut, body=TunedModelIn, query=[("tunedModelId", {"type": "string"})]),
)
async def create(request: Request, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    require_scope(caller, "ModelService.CreateTunedModel", *WRITE)
    raw = wire.parse_body(await request.body())
    model_id = wire.query_param(request.query_params, "tunedModelId")
    return await run_in_threadpool(_create, svc, caller, raw, model_id)


@router.get("/tunedModels/{model_id}", **openapi.route(TunedModelOut))
def get(model_id: ModelId, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    require_scope(caller, "ModelService.GetTunedModel", *READ)
    model = authorized_model(svc, caller, model_id, Role.READER)
    return tuned_model_json(model)


def _matches(svc: Services, caller: Principal, model: TunedModel, terms: list[str]) -> bool:
    permissions = svc.permissions.list(model.id)
    role = role_for(caller.email, model.owner, permissions)
    if role is None:
        return False
    everyone_only = (
        not any(
            p.grantee_type != "EVERYONE" and (p.email_address or "").lower() == caller.email.lower()
            for p in permissions
        )
        and model.owner.lower() != caller.email.lower()
    )
    wanted_public = False
    for term in terms:
        if term == "owner:me" and role is not Role.OWNER:
            return False
        if term == "writers:me" and role.rank < Role.WRITER.rank:
            return False
        if term == "readers:me" and everyone_only:
            return False
        if term == "readers:everyone":
            wanted_public = True
            if not any(p.grantee_type == "EVERYONE" for p in permissions):
                return False
        if ":" not in term:
            text = f"{model.display_name} {model.description} {model.id}".lower()
            if term.lower() not in text:
                return False
    # By default, models that are only readable because they are public are left out.
    return wanted_public or not everyone_only


@router.get(
    "/tunedModels",
    **openapi.route(ListTunedModelsOut, query=[*PAGE, ("filter", {"type": "string"})]),
)
def list_models(request: Request, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    require_scope(caller, "ModelService.ListTunedModels", *READ)
    size, start = page_window(request.query_params, 10)
    terms = (wire.query_param(request.query_params, "filter") or "").split()
    visible = [m for m in svc.store.list() if _matches(svc, caller, m, terms)]
    page = visible[start : start + size]
    body: dict[str, Any] = {"tunedModels": [tuned_model_json(m) for m in page]}
    token = next_page_token(start + size, len(visible))
    if token:
        body["nextPageToken"] = token
    return body


def _mask(request: Request, raw: dict[str, Any]) -> list[str]:
    mask = wire.query_param(request.query_params, "updateMask")
    if mask is None:  # google-genai sends no mask: update the mutable fields present
        return [f for f in MUTABLE if f in raw]
    paths = [wire.camel(p.strip()) for p in mask.split(",") if p.strip()]
    fixed = [p for p in paths if p not in MUTABLE]
    if fixed:
        raise InvalidArgument(
            f"updateMask names fields that cannot be updated: {', '.join(fixed)}. "
            f"Mutable fields: {', '.join(MUTABLE)}."
        )
    return paths


@router.patch(
    "/tunedModels/{model_id}",
    **openapi.route(TunedModelOut, body=TunedModelIn, query=[("updateMask", {"type": "string"})]),
)
async def patch(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    require_scope(caller, "ModelService.UpdateTunedModel", *WRITE)
    raw = wire.parse_body(await request.body())
    body = TunedModelIn.model_validate(raw)
    model = authorized_model(svc, caller, model_id, Role.WRITER)
    paths = _mask(request, raw)
    changes = {MUTABLE[p]: getattr(body, p) for p in paths}
    if "display_name" in changes:
        changes["display_name"] = check_display_name(changes["display_name"] or "")
    if "description" in changes:
        changes["description"] = changes["description"] or ""
    base = resolve_base_model(model.base_model, model.base_model_path)
    check_sampling(
        base.max_temperature, changes.get("temperature"), changes.get("top_p"), changes.get("top_k")
    )
    updated = svc.store.update(model.id, changes) if changes else model
    return tuned_model_json(updated)


@router.delete("/tunedModels/{model_id}", **openapi.route(EmptyOut))
def delete(model_id: ModelId, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    require_scope(caller, "ModelService.DeleteTunedModel", *WRITE)
    model = authorized_model(svc, caller, model_id, Role.OWNER)
    for job in svc.queue.for_model(model.id):  # a running job stops at its next step
        svc.queue.request_cancel(job.id)
    svc.store.delete(model.id)
    return {}


@router.post(
    "/tunedModels/{model_id}:generateContent",
    **openapi.route(GenerateContentResponseOut, body=GenerateContentIn),
)
async def generate_content(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    raw = wire.parse_body(await request.body(), required=False)
    target = await _generation_target(svc, caller, model_id)
    return await run_in_threadpool(generation.generate_content, svc, target, raw)


@router.post(
    "/tunedModels/{model_id}:streamGenerateContent",
    **openapi.route(
        None, body=GenerateContentIn, query=[("alt", {"enum": ["sse", "json"]})], stream=True
    ),
)
async def stream_generate_content(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> StreamingResponse:
    raw = wire.parse_body(await request.body(), required=False)
    target = await _generation_target(svc, caller, model_id)
    sse = request.query_params.get("alt") == "sse"
    return await run_in_threadpool(generation.stream_generate_content, svc, target, raw, sse)


@router.post(
    "/tunedModels/{model_id}:countTokens",
    **openapi.route(CountTokensOut, body=CountTokensIn, body_required=False),
)
async def count_tokens(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    """No official REST binding, but google-genai calls it (spec §1): the base's tokenizer."""
    raw = wire.parse_body(await request.body(), required=False)
    require_scope(caller, "GenerativeService.GenerateContent", *GENERATE)
    model = await run_in_threadpool(authorized_model, svc, caller, model_id, Role.READER)
    base = resolve_base_model(model.base_model, model.base_model_path)
    return await run_in_threadpool(generation.count_tokens, svc, base_target(base), raw)


async def _generation_target(svc: Services, caller: Principal, model_id: str) -> Target:
    require_scope(caller, "GenerativeService.GenerateContent", *GENERATE)
    model = await run_in_threadpool(authorized_model, svc, caller, model_id, Role.READER)
    return tuned_target(model)


@router.post("/tunedModels/{model_id}:cancel", **openapi.route(EmptyOut))
async def cancel(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    """google-genai's tunings.cancel: cancels the model's unfinished jobs."""
    wire.parse_body(await request.body(), required=False)
    require_scope(caller, "ModelService.CancelOperation", *WRITE)
    model = authorized_model(svc, caller, model_id, Role.WRITER)
    for job in reversed(svc.queue.for_model(model.id)):
        if not job.status.done:
            cancel_tuning(svc.queue, svc.store, model, job.id)
    return {}


@router.post(
    "/tunedModels/{model_id}:transferOwnership", **openapi.route(EmptyOut, body=TransferOwnershipIn)
)
async def transfer_ownership(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    raw = wire.parse_body(await request.body(), required=False)
    require_scope(caller, "PermissionService.TransferOwnership", *WRITE)
    model = authorized_model(svc, caller, model_id, Role.OWNER)
    body = TransferOwnershipIn.model_validate(raw)
    svc.permissions.transfer_ownership(model.id, check_email(body.emailAddress, "emailAddress"))
    return {}


@router.post("/tunedModels/{target}", include_in_schema=False)
def unknown_verb(target: str) -> None:
    """`tunedModels/{id}:{verb}` for any verb not routed above."""
    model_id, _, name = target.partition(":")
    raise InvalidArgument(f"Unknown method '{name}' on tunedModels/{model_id}.")
