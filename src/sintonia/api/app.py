"""The FastAPI application: every route under /v1beta and /v1, errors in Google's shape."""

from __future__ import annotations

from fastapi import FastAPI

from sintonia import __version__
from sintonia.api import errors, openapi
from sintonia.api.deps import Services
from sintonia.api.limits import BodyLimit
from sintonia.api.routes import models, operations, permissions, tuned_models
from sintonia.settings import Settings
from sintonia.web import mount_ui


def create_app(settings: Settings, *, auth_enabled: bool = True) -> FastAPI:
    """Build the app; `auth_enabled=False` makes every caller the local user (loopback only)."""
    app = FastAPI(
        title="Sintonia",
        version=__version__,
        description="Self-hosted model tuning, speaking the Gemini tuning API.",
    )
    app.state.services = Services.open(settings, auth_enabled)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    # Operations and permissions first: their paths are longer than tunedModels/{target}.
    for version in ("v1beta", "v1"):
        for module in (operations, permissions, tuned_models, models):
            app.include_router(module.router, prefix=f"/{version}")
    openapi.install(app)
    mount_ui(app)  # the browser UI at `/`: a client of the routes above
    return app
