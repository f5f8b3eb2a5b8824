"""Resolving a request's model into a target, and filling its generation config."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sintonia.datasets.format import PromptFormat
from sintonia.errors import BaseModelNotFound, ModelNotReady, TunedModelNotFound
from sintonia.inference.adapter_files import Adapter
from sintonia.inference.generate import GenerationConfig
from sintonia.inference.targets import (
    Target,
    base_prompt_format,
    base_target,
    resolve_config,
    resolve_target,
    tuned_target,
)
from sintonia.models.catalog import get_base_model, local_base_model
from sintonia.storage.tuned_models import FailureCode, NewTunedModel, State, TunedModelStore
from sintonia.training.progress import Snapshot
from sintonia.training.spec import Hyperparameters

GEMMA = get_base_model("models/gemma-3-270m")  # temperature 0.0, topP 0.95, topK 64, 8192 out
FORMAT = PromptFormat(separator="\n", bos_token="<bos>", eos_token="<eos>")


def new(model_id: str = "m1", **fields: object) -> NewTunedModel:
    values: dict[str, object] = {
        "id": model_id,
        "base_model": GEMMA.name,
        "hyperparameters": Hyperparameters(),
        "example_count": 20,
        "total_steps": 25,
    }
    values.update(fields)
    return NewTunedModel(**values)  # type: ignore[arg-type]


def fake_adapter(model_id: str, epoch: int = 1) -> str:
    """The key an adapter would have: targets are resolved without reading any file."""
    return f"{model_id}/adapters/epoch-{epoch:04d}"


def make_active(store: TunedModelStore, model_id: str = "m1", **fields: object) -> str:
    store.create(new(model_id, **fields))
    store.mark_started(model_id, FORMAT, {})
    key = fake_adapter(model_id)
    store.record_epoch(model_id, 1, key)
    store.finish(model_id, State.ACTIVE)
    return key


# --- resolve_config ------------------------------------------------------------------------

TARGET = Target(
    "models/test", GEMMA, None, None, GenerationConfig(temperature=0.3, top_p=0.8, top_k=20)
)


@pytest.mark.parametrize(
    ("request_config", "expected"),
    [
        (GenerationConfig(), GenerationConfig(0.3, 0.8, 20, 256)),
        (
            GenerationConfig(temperature=1.0, top_p=0.5, top_k=3, max_output_tokens=10),
            GenerationConfig(1.0, 0.5, 3, 10),
        ),
        # 0 is a value the caller chose, not "unset".
        (GenerationConfig(temperature=0.0, top_k=0), GenerationConfig(0.0, 0.8, 0, 256)),
        (GenerationConfig(top_p=0.0), GenerationConfig(0.3, 0.0, 20, 256)),
        (GenerationConfig(max_output_tokens=8192), GenerationConfig(0.3, 0.8, 20, 8192)),
        (GenerationConfig(max_output_tokens=9000), GenerationConfig(0.3, 0.8, 20, 8192)),
        (
            GenerationConfig(stop_sequences=("\n",), seed=4),
            GenerationConfig(0.3, 0.8, 20, 256, ("\n",), 4),
        ),
    ],
)
def test_resolve_config(request_config: GenerationConfig, expected: GenerationConfig) -> None:
    assert resolve_config(request_config, TARGET, default_max_output_tokens=256) == expected


def test_resolve_config_caps_the_default_at_the_base_limit(tiny_model_dir: Path) -> None:
    tiny = base_target(local_base_model(tiny_model_dir))  # output limit 512
    resolved = resolve_config(GenerationConfig(), tiny, default_max_output_tokens=1000)
    assert resolved.max_output_tokens == 512
    asked = resolve_config(GenerationConfig(max_output_tokens=600), tiny, 100)
    assert asked.max_output_tokens == 512


# --- tuned_target --------------------------------------------------------------------------


def test_failed_model_is_not_ready(store: TunedModelStore) -> None:
    store.create(new())
    failed = store.finish("m1", State.FAILED, FailureCode.INTERNAL, "out of memory")
    with pytest.raises(ModelNotReady) as info:
        tuned_target(failed)
    assert str(info.value) == "tunedModels/m1 failed to tune: out of memory"


def test_failed_model_with_an_adapter_is_still_not_ready(store: TunedModelStore) -> None:
    store.create(new())
    store.mark_started("m1", FORMAT, {})
    store.record_epoch("m1", 1, fake_adapter("m1"))
    failed = store.finish("m1", State.FAILED, FailureCode.INTERNAL, "disk full")
    with pytest.raises(ModelNotReady, match="failed to tune: disk full"):
        tuned_target(failed)


def test_model_without_an_adapter_yet_is_not_ready(store: TunedModelStore) -> None:
    store.create(new())
    store.mark_started("m1", FORMAT, {})
    for step in (1, 2, 3):
        store.add_snapshot("m1", Snapshot(step, 1, 1.0, datetime.now(UTC)))
    with pytest.raises(ModelNotReady) as info:
        tuned_target(store.get("m1"))
    assert str(info.value) == (
        "tunedModels/m1 is still being tuned (step 3 of 25); "
        "it can be called once tuning completes."
    )


def test_model_not_started_is_not_ready(store: TunedModelStore) -> None:
    with pytest.raises(ModelNotReady, match=r"step 0 of 25"):
        tuned_target(store.create(new()))


def test_a_re_created_model_is_another_adapter(store: TunedModelStore) -> None:
    """Same id, same epoch, another tuning: never the first one's loaded or cached files."""
    make_active(store)
    first = tuned_target(store.get("m1")).adapter
    store.delete("m1")
    make_active(store)
    second = tuned_target(store.get("m1")).adapter
    assert first is not None and second is not None
    assert first.artifact == second.artifact == "m1/adapters/epoch-0001"
    assert first.revision != second.revision and first.key != second.key


def test_active_model_uses_its_own_sampling_defaults(store: TunedModelStore) -> None:
    key = make_active(store, temperature=0.7, top_p=0.5, top_k=5)
    model = store.get("m1")
    target = tuned_target(model)
    assert target == Target(
        name="tunedModels/m1",
        base=GEMMA,
        adapter=Adapter("m1", key, model.revision),
        prompt_format=FORMAT,
        defaults=GenerationConfig(temperature=0.7, top_p=0.5, top_k=5),
    )


def test_active_model_falls_back_to_the_base_defaults(store: TunedModelStore) -> None:
    make_active(store, temperature=0.0)
    target = tuned_target(store.get("m1"))
    assert target.defaults == GenerationConfig(temperature=0.0, top_p=0.95, top_k=64)
    make_active(store, "m2")
    assert tuned_target(store.get("m2")).defaults == GenerationConfig(0.0, 0.95, 64)


def test_model_still_tuning_serves_its_latest_epoch(store: TunedModelStore) -> None:
    store.create(new())
    store.mark_started("m1", FORMAT, {})
    key = fake_adapter("m1", epoch=2)
    store.record_epoch("m1", 2, key)
    target = tuned_target(store.get("m1"))
    assert target.adapter == Adapter("m1", key, store.get("m1").revision)


def test_tuned_model_of_a_local_base(store: TunedModelStore, tiny_model_dir: Path) -> None:
    make_active(store, base_model="models/tiny-gemma", base_model_path=str(tiny_model_dir))
    target = tuned_target(store.get("m1"))
    assert target.base == local_base_model(tiny_model_dir)


# --- resolve_target ------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["models/gemma-3-270m", "gemma-3-270m"])
def test_base_model_target(store: TunedModelStore, reference: str) -> None:
    target = resolve_target(store, reference)
    assert target == Target(
        "models/gemma-3-270m", GEMMA, None, None, GenerationConfig(0.0, 0.95, 64)
    )
    assert target.adapter is None


@pytest.mark.parametrize("reference", ["tunedModels/m1", "m1"])
def test_tuned_model_target(store: TunedModelStore, reference: str) -> None:
    key = make_active(store)
    target = resolve_target(store, reference)
    assert target.name == "tunedModels/m1"
    assert target.adapter == Adapter("m1", key, store.get("m1").revision)


def test_a_tuned_model_id_wins_over_a_base_name(store: TunedModelStore) -> None:
    make_active(store, "gemma-3-270m")
    assert resolve_target(store, "gemma-3-270m").name == "tunedModels/gemma-3-270m"
    assert resolve_target(store, "models/gemma-3-270m").adapter is None


@pytest.mark.parametrize("reference", ["nope", "Not_An_Id", "models/nope"])
def test_unknown_base_name(store: TunedModelStore, reference: str) -> None:
    with pytest.raises(BaseModelNotFound, match="for API version v1beta.*Available base models"):
        resolve_target(store, reference)


def test_unknown_tuned_model(store: TunedModelStore) -> None:
    with pytest.raises(TunedModelNotFound, match="Tuned model tunedModels/nope does not exist."):
        resolve_target(store, "tunedModels/nope")


def test_tuned_model_not_ready_is_not_hidden_by_a_base_lookup(store: TunedModelStore) -> None:
    store.create(new())
    with pytest.raises(ModelNotReady, match="step 0 of 25"):
        resolve_target(store, "m1")


def test_base_prompt_format_drops_only_the_separator() -> None:
    assert base_prompt_format(FORMAT) == PromptFormat(
        separator="", bos_token="<bos>", eos_token="<eos>"
    )
