"""Creating and running a tuning through the store, on the tiny local model."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sintonia.datasets import dataset_from_records
from sintonia.errors import DatasetInvalid, TunedModelExists
from sintonia.models.catalog import local_base_model
from sintonia.models.loading import load_tokenizer, pick_runtime
from sintonia.storage.db import Database, TunedModelRow
from sintonia.storage.tuned_models import FailureCode, State, TunedModelStore
from sintonia.training.service import (
    TuningRequest,
    create_tuned_model,
    dataset_key,
    run_tuning,
)
from sintonia.training.spec import Hyperparameters
from support import just_before, tiny_task


@pytest.fixture
def request_for(tiny_model_dir: Path):
    def make(**overrides) -> TuningRequest:
        fields = dict(
            dataset=dataset_from_records(tiny_task(24)),
            base_model=local_base_model(tiny_model_dir),
            hyperparameters=Hyperparameters(epoch_count=3, learning_rate=0.01),
            tuned_model_id="tiny-ok",
        )
        return TuningRequest(**(fields | overrides))

    return make


@pytest.fixture
def tokenizer(tiny_model_dir: Path, settings):
    return load_tokenizer(local_base_model(tiny_model_dir), settings.models_dir)


def test_create_records_the_model_and_a_copy_of_its_data(store, request_for, tokenizer) -> None:
    model = create_tuned_model(store, request_for(display_name="Tiny"), tokenizer)
    assert model.name == "tunedModels/tiny-ok" and model.state is State.CREATING
    assert model.base_model == "models/tiny-gemma" and model.base_model_path
    assert model.total_steps == 18 and model.example_count == 24
    data_file = store.artifacts.path(dataset_key(store, model))
    saved = data_file.read_text().splitlines()
    assert len(saved) == 24 and '"output": "ok"' in saved[0]
    with pytest.raises(TunedModelExists):
        create_tuned_model(store, request_for(), tokenizer)
    assert data_file.read_text().splitlines() == saved  # the first model's data is intact


def test_examples_too_long_for_the_base_model_create_nothing(store, request_for, tokenizer):
    pairs = tiny_task(24)
    pairs[5] = ("x" * 600, "ok")  # the tiny model's context is 512 tokens, one per character
    with pytest.raises(DatasetInvalid) as caught:
        create_tuned_model(store, request_for(dataset=dataset_from_records(pairs)), tokenizer)
    assert [str(p) for p in caught.value.problems] == [
        "example 5: is 604 tokens (input 601, output 3); the base model's limit is 512 tokens"
    ]
    assert store.list() == []


def test_run_ends_active_with_every_snapshot(store, settings, request_for, tokenizer) -> None:
    create_tuned_model(store, request_for(), tokenizer)
    seen = []
    model = run_tuning(store, settings, "tiny-ok", pick_runtime("cpu"), on_step=seen.append)
    assert model.state is State.ACTIVE and model.error_code is None
    assert [s.step for s in model.snapshots] == list(range(1, 19)) == [s.step for s in seen]
    assert model.snapshots[-1].mean_loss < model.snapshots[0].mean_loss
    assert model.epochs_completed == 3 and model.completed_steps == 18
    assert model.adapter_key == "tiny-ok/adapters/epoch-0003"
    assert (store.artifacts.path(model.adapter_key) / "adapter_model.safetensors").is_file()
    assert not list(settings.scratch_dir.iterdir())  # the run's scratch folder is gone
    assert model.prompt_format is not None and model.start_time and model.complete_time
    assert model.provenance["dataset_sha256"] == request_for().dataset.sha256
    assert set(model.provenance["versions"]) == {"sintonia", "torch", "transformers", "peft"}


def test_cancel_mid_run_keeps_the_last_completed_epoch(store, settings, request_for, tokenizer):
    create_tuned_model(store, request_for(), tokenizer)
    steps = []
    model = run_tuning(
        store,
        settings,
        "tiny-ok",
        pick_runtime("cpu"),
        on_step=steps.append,
        should_stop=lambda: len(steps) >= 8,
    )
    assert model.state is State.ACTIVE
    assert model.completed_steps == 8 and model.epochs_completed == 1
    assert model.adapter_key == "tiny-ok/adapters/epoch-0001"


def test_cancel_before_the_first_epoch_fails_with_cancelled(
    store, settings, request_for, tokenizer
) -> None:
    create_tuned_model(store, request_for(), tokenizer)
    model = run_tuning(store, settings, "tiny-ok", pick_runtime("cpu"), should_stop=lambda: True)
    assert model.state is State.FAILED and model.error_code == FailureCode.CANCELLED
    assert "before the first epoch completed" in model.error_message
    assert model.adapter_key is None


def test_a_damaged_dataset_copy_fails_with_invalid_argument(
    store, settings, request_for, tokenizer
) -> None:
    model = create_tuned_model(store, request_for(), tokenizer)
    store.artifacts.path(dataset_key(store, model)).write_text("not json\n")
    model = run_tuning(store, settings, "tiny-ok", pick_runtime("cpu"))
    assert model.state is State.FAILED and model.error_code == FailureCode.INVALID_ARGUMENT
    assert "line 1" in model.error_message


def test_an_unexpected_error_fails_the_model_with_internal(
    store, settings, request_for, tokenizer
) -> None:
    create_tuned_model(store, request_for(), tokenizer)
    store.artifacts.path("tiny-ok/adapters").write_text("a file where a folder must go")
    model = run_tuning(store, settings, "tiny-ok", pick_runtime("cpu"))
    assert model.state is State.FAILED and model.error_code == FailureCode.INTERNAL
    assert model.error_message.startswith("Tuning failed: ")


def test_a_create_that_fails_late_leaves_a_racing_create_its_data(
    store, settings, request_for, tokenizer
) -> None:
    # A client's retry racing its first attempt: the same id, the same data. The first fails
    # after writing its data file (over the job limit, say) while the retry waits on its row;
    # the retry then succeeds, and its data must still be there.
    retry_store = TunedModelStore(Database(settings.database_url), settings.artifacts_dir)
    inserting, retried = threading.Event(), []

    def retry() -> None:
        retried.append(create_tuned_model(retry_store, request_for(), tokenizer))

    def fails_late(_model: object) -> None:
        with just_before(retry_store.db, "INSERT INTO tuned_models", inserting.set):
            threading.Thread(target=retry, daemon=True).start()
            assert inserting.wait(60)
        raise RuntimeError("over the job limit")

    with pytest.raises(RuntimeError):
        create_tuned_model(store, request_for(), tokenizer, along=fails_late)
    deadline = time.monotonic() + 60
    while not retried and time.monotonic() < deadline:
        time.sleep(0.05)
    [model] = retried
    model = run_tuning(store, settings, model.id, pick_runtime("cpu"))
    assert model.state is State.ACTIVE, model.error_message
    retry_store.db.close()


def test_a_model_from_before_per_create_data_files_still_trains(
    store, settings, request_for, tokenizer
) -> None:
    # Such a model's provenance has no "dataset_file": its copy is named by content alone.
    model = create_tuned_model(store, request_for(), tokenizer)
    legacy = f"dataset-{model.provenance['dataset_sha256'][:16]}.jsonl"
    copy = store.artifacts.path(dataset_key(store, model))
    copy.rename(copy.with_name(legacy))
    with store.db.session() as session:
        row = session.get(TunedModelRow, "tiny-ok")
        row.provenance = {k: v for k, v in row.provenance.items() if k != "dataset_file"}
    model = run_tuning(store, settings, "tiny-ok", pick_runtime("cpu"))
    assert model.state is State.ACTIVE, model.error_message
