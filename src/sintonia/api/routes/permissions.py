"""Sharing a tuned model: permissions create, list, get, patch (role only), delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sintonia.api import openapi, wire
from sintonia.api.deps import (
    READ,
    WRITE,
    PrincipalDep,
    ServicesDep,
    authorized_model,
    require_scope,
)
from sintonia.api.openapi import PAGE, ModelId, PermissionId
from sintonia.api.paging import next_page_token, page_window
from sintonia.api.resources import permission_json
from sintonia.api.schemas import EmptyOut, ListPermissionsOut, PermissionIn, PermissionOut
from sintonia.auth.access import GranteeType, Role
from sintonia.errors import InvalidArgument
from sintonia.storage.names import check_id

router = APIRouter()


def _enum(cls: type, value: str | None, field: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        names = ", ".join(m.value for m in cls)
        raise InvalidArgument(f"{field} must be one of {names}; got {value!r}.") from None


@router.post(
    "/tunedModels/{model_id}/permissions", **openapi.route(PermissionOut, body=PermissionIn)
)
async def create(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    require_scope(caller, "PermissionService.CreatePermission", *WRITE)
    body = PermissionIn.model_validate(wire.parse_body(await request.body()))
    model = authorized_model(svc, caller, model_id, Role.WRITER)
    permission = svc.permissions.create(
        model.id,
        _enum(GranteeType, body.granteeType, "granteeType"),
        body.emailAddress,
        _enum(Role, body.role, "role"),
    )
    return permission_json(permission)


@router.get("/tunedModels/{model_id}/permissions", **openapi.route(ListPermissionsOut, query=PAGE))
def list_permissions(
    model_id: ModelId, request: Request, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    require_scope(caller, "PermissionService.ListPermissions", *READ)
    model = authorized_model(svc, caller, model_id, Role.READER)
    size, start = page_window(request.query_params, 10)
    permissions = svc.permissions.list(model.id)
    body: dict[str, Any] = {
        "permissions": [permission_json(p) for p in permissions[start : start + size]]
    }
    token = next_page_token(start + size, len(permissions))
    if token:
        body["nextPageToken"] = token
    return body


@router.get("/tunedModels/{model_id}/permissions/{pid}", **openapi.route(PermissionOut))
def get(
    model_id: ModelId, pid: PermissionId, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    require_scope(caller, "PermissionService.GetPermission", *READ)
    check_id(pid, "permission")
    model = authorized_model(svc, caller, model_id, Role.READER)
    return permission_json(svc.permissions.get(model.id, pid))


@router.patch(
    "/tunedModels/{model_id}/permissions/{pid}",
    # Only the role of a permission can change: the mask must say so.
    **openapi.route(PermissionOut, body=PermissionIn, query=[("updateMask", {"enum": ["role"]})]),
)
async def patch(
    model_id: ModelId,
    pid: PermissionId,
    request: Request,
    svc: ServicesDep,
    caller: PrincipalDep,
) -> dict[str, Any]:
    require_scope(caller, "PermissionService.UpdatePermission", *WRITE)
    check_id(pid, "permission")
    body = PermissionIn.model_validate(wire.parse_body(await request.body()))
    mask = wire.query_param(request.query_params, "updateMask")
    if mask is None or [p.strip() for p in mask.split(",")] != ["role"]:
        raise InvalidArgument(
            'updateMask is required and must be "role": only the role of a permission can change.'
        )
    model = authorized_model(svc, caller, model_id, Role.WRITER)
    return permission_json(
        svc.permissions.update_role(model.id, pid, _enum(Role, body.role, "role"))
    )


@router.delete("/tunedModels/{model_id}/permissions/{pid}", **openapi.route(EmptyOut))
def delete(
    model_id: ModelId, pid: PermissionId, svc: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    require_scope(caller, "PermissionService.DeletePermission", *WRITE)
    check_id(pid, "permission")
    model = authorized_model(svc, caller, model_id, Role.WRITER)
    svc.permissions.delete(model.id, pid)
    return {}
