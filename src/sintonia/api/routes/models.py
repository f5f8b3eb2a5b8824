"""Base models: list, get, and generateContent / streamGenerateContent / countTokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from sintonia.api import wire
from sintonia.api.deps import GENERATE, PrincipalDep, ServicesDep, require_scope
from sintonia.api.paging import next_page_token, page_window
from sintonia.api.routes import generation
from sintonia.auth.scopes import Scope
from sintonia.errors import InvalidArgument
from sintonia.inference.targets import base_target
from sintonia.models.catalog import get_base_model, list_base_models

router = APIRouter()
ANY_SCOPE = tuple(Scope)


@router.get("/models")
def list_models(request: Request, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    require_scope(caller, "ModelService.ListModels", *ANY_SCOPE)
    size, start = page_window(request.query_params, 50)
    models = list_base_models(svc.settings.local_models)
    return {
        "models": [m.to_api() for m in models[start : start + size]],
        "nextPageToken": next_page_token(start + size, len(models)),
    }


@router.get("/models/{name}")
def get(name: str, svc: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    require_scope(caller, "ModelService.GetModel", *ANY_SCOPE)
    return get_base_model(name, svc.settings.local_models).to_api()


@router.post("/models/{target}")
async def verb(target: str, request: Request, svc: ServicesDep, caller: PrincipalDep) -> Any:
    name, _, method = target.partition(":")
    raw = wire.parse_body(await request.body(), required=False)
    require_scope(caller, "GenerativeService.GenerateContent", *GENERATE)
    base = base_target(get_base_model(name, svc.settings.local_models))
    if method == "generateContent":
        return await run_in_threadpool(generation.generate_content, svc, base, raw)
    if method == "streamGenerateContent":
        sse = request.query_params.get("alt") == "sse"
        return await run_in_threadpool(generation.stream_generate_content, svc, base, raw, sse)
    if method == "countTokens":
        return await run_in_threadpool(generation.count_tokens, svc, base, raw)
    raise InvalidArgument(f"Unknown method '{method}' on models/{name}.")
