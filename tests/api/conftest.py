"""A live `sintonia serve` on 127.0.0.1 (uvicorn + its worker process) over the tiny model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from live import TINY, Server, examples, live_server, wait_done

DATABASES = ("sqlite", "postgresql")


def _database() -> str:
    """Which database the shared server uses: SINTONIA_TEST_DATABASE, SQLite by default."""
    name = os.environ.get("SINTONIA_TEST_DATABASE") or "sqlite"
    if name not in DATABASES:
        raise pytest.UsageError(f"SINTONIA_TEST_DATABASE={name}: use one of {DATABASES}")
    return name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `make test` runs this folder a second time with the shared server on PostgreSQL: only
    # the tests that reach that server's database are worth running again.
    if _database() == "sqlite":
        return
    again = [item for item in items if "server_database_url" in getattr(item, "fixturenames", ())]
    config.hook.pytest_deselected(items=[item for item in items if item not in again])
    items[:] = again


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    # A failing test shows the end of its live server's log: in CI that log is the only
    # account of what the server and its worker were doing.
    report = yield
    live = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(live, Server) and (live.home / "server.log").exists():
        lines = (live.home / "server.log").read_text(errors="replace").splitlines()
        report.sections.append(("server.log, last 60 lines", "\n".join(lines[-60:])))
    return report


@pytest.fixture(scope="session")
def server_database_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite in the server's home; with SINTONIA_TEST_DATABASE=postgresql, a fresh
    schema of this run's PostgreSQL database (skipped, saying why, where no server answers)."""
    if _database() == "sqlite":
        return None
    return request.getfixturevalue("postgres").fresh_url()


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, server_database_url: str | None
):
    home = tmp_path_factory.mktemp("server-home")
    with live_server(home, tiny_model_dir, database_url=server_database_url) as live:
        yield live


@pytest.fixture(scope="session")
def tuned(server: Server) -> str:
    """A tuned model (owner's), tuned to answer "ok"; returns its name."""
    status, op = server.call(
        "POST",
        "/v1beta/tunedModels?tunedModelId=shared-ok",
        {
            "baseModel": TINY,
            "displayName": "shared ok",
            "tuningTask": {
                "hyperparameters": {"epochCount": 4, "learningRate": 0.01},
                "trainingData": {"examples": {"examples": examples()}},
            },
        },
    )
    assert status == 200, op
    done = wait_done(server, op["name"])
    assert "response" in done, done
    return "tunedModels/shared-ok"
