"""The OpenAPI document: what each route reads and answers, for clients and the fuzz test.

Routes read their bodies leniently through `wire.parse_body` (snake_case keys, trailing
commas, enum numbers: spec §1), so FastAPI cannot infer them; each route names its body,
query parameters and answer with `route(...)` instead. `install` builds the document from
those, and drops FastAPI's 422 answer, which this server never gives (errors.py makes it 400).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import FastAPI, Path
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from sintonia.api.schemas import ErrorOut, GenerateContentResponseOut
from sintonia.storage.names import ID_PATTERN

_ID = {"pattern": f"^{ID_PATTERN.pattern}$", "maxLength": 40}
ModelId = Annotated[str, Path(description="A tuned model's id.", json_schema_extra=_ID)]
OperationId = Annotated[str, Path(description="An operation's id.", json_schema_extra=_ID)]
PermissionId = Annotated[str, Path(description="A permission's id.", json_schema_extra=_ID)]
BaseModelName = Annotated[str, Path(description='A base model, e.g. "gemma-3-270m".')]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": why}
    for code, why in (
        (400, "INVALID_ARGUMENT or FAILED_PRECONDITION; API_KEY_INVALID for an unknown key"),
        (401, "UNAUTHENTICATED: a Bearer token that is no key"),
        (403, "PERMISSION_DENIED: no credentials, a missing scope, or too low a role"),
        (404, "NOT_FOUND, also for a model the caller may not see"),
        (409, "ALREADY_EXISTS"),
        (413, "the request body is over the server's limit"),
        (429, "RESOURCE_EXHAUSTED: too many tuning jobs at once"),
    )
}

PAGE = (("pageSize", {"type": "integer"}), ("pageToken", {"type": "string"}))

# Models the document names by reference only (request bodies, stream chunks).
_REFERENCED: dict[str, type[BaseModel]] = {"GenerateContentResponseOut": GenerateContentResponseOut}


def route(
    answer: type[BaseModel] | None,
    *,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    query: Sequence[tuple[str, dict[str, Any]]] = (),
    stream: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for a route decorator that document it.

    Args:
        answer: the model of the 200 answer (ignored when `stream`).
        body: the model of the request body, if the route reads one.
        body_required: whether an empty body is refused.
        query: (name, JSON schema) of each query parameter the route reads.
        stream: the answer is a stream of GenerateContentResponse: a JSON array, or server-
            sent events with `alt=sse`.
    """
    extra: dict[str, Any] = {}
    if body is not None:
        _REFERENCED[body.__name__] = body
        schema = {"$ref": f"#/components/schemas/{body.__name__}"}
        extra["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": schema}},
        }
    if query:
        extra["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query
        ]
    ok: dict[str, Any] = {"model": answer, "description": "OK"}
    if stream:
        chunk = {"$ref": "#/components/schemas/GenerateContentResponseOut"}
        ok = {
            "description": "The answer as it grows",
            "content": {
                "application/json": {"schema": {"type": "array", "items": chunk}},
                # OpenAPI 3.1: the schema of one event, whose data is a JSON chunk.
                "text/event-stream": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "data": {
                                "type": "string",
                                "contentMediaType": "application/json",
                                "contentSchema": chunk,
                            }
                        },
                        "required": ["data"],
                    }
                },
            },
        }
    return {"response_model": None, "responses": {200: ok, **_ERRORS}, "openapi_extra": extra}


def install(app: FastAPI) -> None:
    """Serve the document at /openapi.json, built once from the routes."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in _REFERENCED.items():
                own = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(own.pop("$defs", {}))
                components[name] = own
            for path in schema["paths"].values():
                for operation in path.values():
                    operation["responses"].pop("422", None)
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
