"""What routes depend on: the services of this process, and the calling principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from sintonia.auth.access import Role, require_role, role_for
from sintonia.auth.keys import LOCAL_USER, KeyStore, Principal
from sintonia.auth.scopes import Scope
from sintonia.errors import ApiKeyInvalid, NoCredentials, ScopeInsufficient, Unauthenticated
from sintonia.inference.pool import EnginePool
from sintonia.jobs.queue import JobQueue
from sintonia.settings import Settings
from sintonia.storage.db import Database
from sintonia.storage.names import check_tuned_model_id
from sintonia.storage.permissions import PermissionStore
from sintonia.storage.tuned_models import TunedModel, TunedModelStore

_METHOD = "google.ai.generativelanguage.v1beta.{}"


@dataclass
class Services:
    settings: Settings
    db: Database
    store: TunedModelStore
    queue: JobQueue
    keys: KeyStore
    permissions: PermissionStore
    engines: EnginePool
    auth_enabled: bool

    @classmethod
    def open(cls, settings: Settings, auth_enabled: bool = True) -> Services:
        db = Database(settings.database_url)
        return cls(
            settings,
            db,
            TunedModelStore(db, settings.artifacts),
            JobQueue(db),
            KeyStore(db),
            PermissionStore(db),
            EnginePool(settings),
            auth_enabled,
        )


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]


def principal(request: Request, svc: ServicesDep) -> Principal:
    """The caller, from `x-goog-api-key`, `?key=` or `Authorization: Bearer`.

    Raises:
        ApiKeyInvalid (400), Unauthenticated (401), NoCredentials (403): as the real API.
    """
    if not svc.auth_enabled:
        return Principal(LOCAL_USER, frozenset(Scope))
    key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if key:
        found = svc.keys.authenticate(key)
        if found is None:
            raise ApiKeyInvalid()
        return found
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        found = svc.keys.authenticate(token.strip())
        if found is None:
            raise Unauthenticated()
        return found
    raise NoCredentials()


PrincipalDep = Annotated[Principal, Depends(principal)]


def require_scope(caller: Principal, method: str, *scopes: Scope) -> None:
    """Raises: ScopeInsufficient (403) naming the method, as the real API does."""
    if not caller.has_any(*scopes):
        raise ScopeInsufficient(_METHOD.format(method))


READ = (Scope.TUNING, Scope.TUNING_READONLY)
WRITE = (Scope.TUNING,)
GENERATE = (Scope.GENERATE,)


def authorized_model(svc: Services, caller: Principal, model_id: str, needed: Role) -> TunedModel:
    """The tuned model, if the caller holds at least `needed` on it.

    Raises:
        InvalidArgument: a malformed id (so no id can reach the file system).
        TunedModelNotFound: missing, or private to others (the same answer, on purpose).
        PermissionDenied: visible, but the caller's role is too low.
    """
    bare = check_tuned_model_id(model_id)
    model = svc.store.get(bare)
    role = role_for(caller.email, model.owner, svc.permissions.list(bare))
    require_role(model.name, role, needed)
    return model
