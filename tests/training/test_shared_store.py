"""Tuning with the artifacts in object storage (moto's S3 server, see tests/s3.py): the files
are published as training goes, so another machine, with nothing of its own, serves the
tuned model or resumes its paused job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sintonia.models.loading import pick_runtime
from sintonia.settings import Settings
from sintonia.storage.db import Database
from sintonia.storage.tuned_models import State, TunedModelStore
from sintonia.training.service import (
    CHECKPOINT_FILE,
    run_tuning,
)
from support import create_tiny_tuned_model


@pytest.fixture
def machines(tmp_path: Path, s3_url: str, database_url: str):
    """Two hosts' settings: own (empty) homes, one database, one artifact store."""

    def machine(name: str) -> Settings:
        return Settings.from_env(
            {
                "SINTONIA_HOME": str(tmp_path / name),
                "SINTONIA_DATABASE_URL": database_url,
                "SINTONIA_ARTIFACTS": s3_url,
                "SINTONIA_CHECKPOINT_EVERY": "3",
            }
        )

    return machine("first"), machine("second")


@pytest.fixture
def store(machines):
    db = Database(machines[0].database_url)
    yield TunedModelStore(db, machines[0].artifacts)
    db.close()


def _create(store: TunedModelStore, tiny_model_dir: Path, model_id: str, epochs: int) -> None:
    create_tiny_tuned_model(store, tiny_model_dir, model_id, epochs=epochs)


def _objects(store: TunedModelStore, model_id: str) -> list[str]:
    fs, root = store.artifacts.fs, store.artifacts.root
    return sorted(p.removeprefix(f"{root}/") for p in fs.find(f"{root}/{model_id}"))


def test_a_model_tuned_into_s3_is_served_by_another_process(
    machines, store, tiny_model_dir: Path
) -> None:
    first, second = machines
    _create(store, tiny_model_dir, "shared", epochs=6)
    model = run_tuning(store, first, "shared", pick_runtime("cpu"))
    assert model.state is State.ACTIVE and model.adapter_key == "shared/adapters/epoch-0006"
    objects = _objects(store, "shared")
    assert [o for o in objects if o.endswith("adapter_model.safetensors")] == [
        f"shared/adapters/epoch-{e:04d}/adapter_model.safetensors" for e in range(1, 7)
    ]
    assert "shared/adapters/epoch-0006/.published" in objects
    assert f"shared/{CHECKPOINT_FILE}" not in objects  # done: removed
    assert not first.artifacts_dir.exists()  # nothing of it on the first machine's disk
    assert not list(first.scratch_dir.iterdir())

    # Another host: its own empty home, the same database and store.
    env = {
        **os.environ,
        "SINTONIA_HOME": str(second.home),
        "SINTONIA_DATABASE_URL": second.database_url,
        "SINTONIA_ARTIFACTS": second.artifacts,
    }
    generate = [sys.executable, "-m", "sintonia.cli", "generate", "shared", "say map"]
    result = subprocess.run(generate, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
    cached = second.adapter_cache_dir / "shared" / model.revision / "epoch-0006"
    assert (cached / "adapter_model.safetensors").is_file()


def test_a_paused_job_resumes_on_another_machine_from_the_stored_checkpoint(
    machines, store, tiny_model_dir: Path
) -> None:
    first, second = machines
    _create(store, tiny_model_dir, "moving", epochs=3)
    steps = []
    paused = run_tuning(
        store,
        first,
        "moving",
        pick_runtime("cpu"),
        on_step=steps.append,
        should_pause=lambda: len(steps) == 7,
    )
    assert paused.state is State.CREATING and paused.completed_steps == 7
    assert f"moving/{CHECKPOINT_FILE}" in _objects(store, "moving")
    assert not list(first.scratch_dir.iterdir())  # the first machine kept nothing

    on_second = TunedModelStore(store.db, second.artifacts)
    taken = []
    resumed = run_tuning(on_second, second, "moving", pick_runtime("cpu"), on_step=taken.append)

    assert [s.step for s in taken] == list(range(8, 19))  # from the checkpoint at step 7
    assert resumed.state is State.ACTIVE and resumed.epochs_completed == 3
    assert [s.step for s in resumed.snapshots] == list(range(1, 19))
    assert resumed.snapshots[-1].mean_loss < resumed.snapshots[0].mean_loss
    assert f"moving/{CHECKPOINT_FILE}" not in _objects(store, "moving")
