"""Shared fixtures: settings in a temporary home, a store, and the tiny model (see support.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import build_tiny_model, copy_task  # noqa: F401  (copy_task: for tests)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gemma")


@pytest.fixture
def settings(tmp_path: Path):
    from sintonia.settings import Settings

    return Settings.from_env({"SINTONIA_HOME": str(tmp_path / "home")})


@pytest.fixture
def store(settings):
    from sintonia.storage.db import Database
    from sintonia.storage.tuned_models import TunedModelStore

    db = Database(settings.database_url)
    yield TunedModelStore(db, settings.artifacts_dir)
    db.close()
