"""Base models: list, get, and generateContent / streamGenerateContent / countTokens.

A base model's name is only ever compared with the catalog's names, never made into a path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from sintonia.api import openapi, wire
from sintonia.api.deps import GENERATE, PrincipalDep, Services, ServicesDep, require_scope
from sintonia.api.openapi import PAGE, BaseModelName
from sintonia.api.paging import next_page_token, page_window
from sintonia.api.routes import generation
from sintonia.api.schemas import (
    CountTokensIn,
    CountTokensOut,
    GenerateContentIn,
    GenerateContentResponseOut,
    ListModelsOut,
    ModelOut,
)
from sintonia.auth.keys import Principal
from sintonia.auth.scopes import Scope
from sintonia.errors import InvalidArgument
from sintonia.inference.targets import Target, base_target
from sintonia.models.catalog import get_base_model, list_base_models

router = APIRouter()
ANY_SCOPE = tuple(Scope)


@router.get("/models", **openapi.route(ListModelsOut, query=PAGE))
def list_models(request: Request, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    require_scope(caller, "ModelService.ListModels", *ANY_SCOPE)
    size, start = page_window(request.query_params, 50)
    models = list_base_models(svc.settings.local_models)
    return {
        "models": [m.to_api() for m in models[start : start + size]],
        "nextPageToken": next_page_token(start + size, len(models)),
    }


@router.get("/models/{name}", **openapi.route(ModelOut))
def get(name: BaseModelName, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    require_scope(caller, "ModelService.GetModel", *ANY_SCOPE)
    return get_base_model(name, svc.settings.local_models).to_api()


def _target(svc: Services, caller: Principal, name: str) -> Target:
    require_scope(caller, "GenerativeService.GenerateContent", *GENERATE)
    return base_target(get_base_model(name, svc.settings.local_models))


@router.post(
    "/models/{name}:generateContent",
    **openapi.route(GenerateContentResponseOut, body=GenerateContentIn),
)
async def generate_content(
    name: BaseModelName, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    raw = wire.parse_body(await request.body(), required=False)
    target = _target(svc, caller, name)
    return await run_in_threadpool(generation.generate_content, svc, target, raw)


@router.post(
    "/models/{name}:streamGenerateContent",
    **openapi.route(
        None, body=GenerateContentIn, query=[("alt", {"enum": ["sse", "json"]})], stream=True
    ),
)
async def stream_generate_content(
    name: BaseModelName, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> StreamingResponse:
    raw = wire.parse_body(await request.body(), required=False)
    target = _target(svc, caller, name)
    sse = request.query_params.get("alt") == "sse"
    return await run_in_threadpool(generation.stream_generate_content, svc, target, raw, sse)


@router.post(
    "/models/{name}:countTokens",
    **openapi.route(CountTokensOut, body=CountTokensIn, body_required=False),
)
async def count_tokens(
    name: BaseModelName, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    raw = wire.parse_body(await request.body(), required=False)
    target = _target(svc, caller, name)
    return await run_in_threadpool(generation.count_tokens, svc, target, raw)


@router.post("/models/{target}", include_in_schema=False)
def unknown_verb(target: str) -> None:
    name, _, method = target.partition(":")
    raise InvalidArgument(f"Unknown method '{method}' on models/{name}.")
