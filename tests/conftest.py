"""Shared fixtures: settings in a temporary home, a store, and the tiny model (see support.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg import Postgres, server_url, unavailable
from support import build_tiny_model, copy_task  # noqa: F401  (copy_task: for tests)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gemma")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """This run's own database on the test PostgreSQL server (tests/pg.py), dropped at the end.

    Skipped, with the reason, where no server answers; failed where SINTONIA_TEST_POSTGRES
    names one that does not (CI), so CI cannot pass without the PostgreSQL tests.
    """
    maintenance, asked = server_url()
    if maintenance == "off":
        pytest.skip("PostgreSQL tests are off (SINTONIA_TEST_POSTGRES=off)")
    why = unavailable(maintenance)
    if why and asked:
        pytest.fail(f"{why}; SINTONIA_TEST_POSTGRES asks for it")
    if why:
        pytest.skip(f"{why}; set SINTONIA_TEST_POSTGRES to a server's URL to run these")
    run = Postgres(maintenance)
    run.create()
    yield run
    run.drop()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite in the test's home; tests of the storage, auth and queue run on both."""
    return _sqlite_url(tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite, then a fresh schema on the test PostgreSQL server (skipped where none)."""
    if request.param == "sqlite":
        return _sqlite_url(tmp_path)
    return request.getfixturevalue("postgres").fresh_url()


def _sqlite_url(tmp_path: Path) -> str:
    (tmp_path / "home").mkdir(exist_ok=True)
    return f"sqlite:///{tmp_path / 'home' / 'sintonia.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str):
    from sintonia.settings import Settings

    return Settings.from_env(
        {"SINTONIA_HOME": str(tmp_path / "home"), "SINTONIA_DATABASE_URL": database_url}
    )


@pytest.fixture
def store(settings):
    from sintonia.storage.db import Database
    from sintonia.storage.tuned_models import TunedModelStore

    db = Database(settings.database_url)
    yield TunedModelStore(db, settings.artifacts_dir)
    db.close()
