"""Create a tuned model from a dataset, and run its tuning: what the CLI and the worker call."""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from transformers import PreTrainedTokenizerBase as Tokenizer

from sintonia.datasets import Dataset, read_dataset
from sintonia.datasets.format import EncodedExample, PromptFormat, encode_dataset, eos_token_id
from sintonia.errors import DatasetInvalid
from sintonia.models.catalog import (
    DEFAULT_BASE_MODEL,
    BaseModel,
    LocalDirectory,
    get_base_model,
    resolve_base_model,
)
from sintonia.models.loading import Runtime, load_network, load_tokenizer
from sintonia.settings import Settings
from sintonia.storage.names import check_display_name, check_tuned_model_id, make_tuned_model_id
from sintonia.storage.tuned_models import (
    FailureCode,
    NewTunedModel,
    State,
    TunedModel,
    TunedModelStore,
)
from sintonia.training.memory import release_freed_memory
from sintonia.training.progress import Snapshot
from sintonia.training.recipe import tune
from sintonia.training.spec import Hyperparameters

log = logging.getLogger(__name__)
DATASET_FILE = "dataset.jsonl"
_VERSIONED = ("sintonia", "torch", "transformers", "peft")


@dataclass(frozen=True)
class TuningRequest:
    """A request to tune: the dataset, the base, and the tuned model's settings."""

    dataset: Dataset
    base_model: BaseModel = field(default_factory=lambda: get_base_model(DEFAULT_BASE_MODEL))
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    tuned_model_id: str | None = None
    display_name: str = ""
    description: str = ""
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    owner: str = ""
    """Who creates it (an email address); the server's caller, the CLI's local user."""


def library_versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in _VERSIONED}


def create_tuned_model(
    store: TunedModelStore, request: TuningRequest, tokenizer: Tokenizer
) -> TunedModel:
    """Check everything, then record the tuned model (CREATING) and keep a copy of its data.

    Args:
        store: where tuned models live.
        request: what to tune.
        tokenizer: the base model's tokenizer, to check every example fits its context.

    Raises:
        InvalidArgument (DatasetInvalid, ...): nothing is created.
        BaseModelNotFound, TunedModelExists.
    """
    base = request.base_model
    display_name = check_display_name(request.display_name)
    if request.tuned_model_id:
        model_id = check_tuned_model_id(request.tuned_model_id)
    else:
        model_id = make_tuned_model_id(display_name or Path(request.dataset.source).stem)
    fmt = PromptFormat.for_tokenizer(tokenizer)
    encode_dataset(fmt, tokenizer, request.dataset, base.input_token_limit)
    hp = request.hyperparameters
    local = base.source.path if isinstance(base.source, LocalDirectory) else None
    model = store.create(
        NewTunedModel(
            id=model_id,
            base_model=base.name,
            base_model_path=str(local) if local else None,
            hyperparameters=hp,
            example_count=len(request.dataset),
            total_steps=hp.total_steps(len(request.dataset)),
            display_name=display_name,
            description=request.description,
            owner=request.owner,
            temperature=request.temperature,
            top_p=request.top_p,
            top_k=request.top_k,
            provenance={
                "dataset_sha256": request.dataset.sha256,
                "dataset_source": request.dataset.source,
            },
        )
    )
    folder = store.artifact_dir(model_id)
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / f".{DATASET_FILE}.tmp"
    scratch.write_text(request.dataset.to_jsonl(), encoding="utf-8")
    os.replace(scratch, folder / DATASET_FILE)
    return model


def _encode(
    base: BaseModel, models_dir: Path, dataset: Dataset
) -> tuple[PromptFormat, list[EncodedExample], int]:
    """Tokenize the dataset, then let the tokenizer go before the weights load.

    Gemma's tokenizer holds ~320 MB that training never needs again: returning it first
    lowers the run's peak memory by as much.
    """
    tokenizer = load_tokenizer(base, models_dir)
    fmt = PromptFormat.for_tokenizer(tokenizer)
    encoded = encode_dataset(fmt, tokenizer, dataset, base.input_token_limit)
    pad_id = tokenizer.pad_token_id
    pad_id = pad_id if pad_id is not None else eos_token_id(fmt, tokenizer)
    del tokenizer
    release_freed_memory()
    return fmt, encoded, pad_id


def run_tuning(
    store: TunedModelStore,
    settings: Settings,
    model_id: str,
    runtime: Runtime,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_step: Callable[[Snapshot], None] = lambda _s: None,
) -> TunedModel:
    """Tune a recorded model, storing every snapshot and each epoch's adapter as it goes.

    The model ends ACTIVE with its last completed epoch (also when cancelled), or FAILED
    with a google.rpc code: CANCELLED before any epoch completed, INVALID_ARGUMENT for data
    the base model cannot take, INTERNAL for anything else.
    """
    model = store.get(model_id)
    folder = store.artifact_dir(model_id)
    try:
        base = resolve_base_model(model.base_model, model.base_model_path)
        dataset = read_dataset(folder / DATASET_FILE)
        fmt, encoded, pad_id = _encode(base, settings.models_dir, dataset)
        network = load_network(base, settings.models_dir, runtime)
        manifest = {
            "base_model": base.name,
            "prompt_format": fmt.to_dict(),
            "hyperparameters": model.hyperparameters.to_dict(),
            "learning_rate": model.hyperparameters.effective_learning_rate,
            "dataset_sha256": dataset.sha256,
            "examples": len(dataset),
            "versions": library_versions(),
            "device": str(runtime.device),
            "dtype": str(runtime.dtype).removeprefix("torch."),
        }
        store.mark_started(model_id, fmt, manifest)

        def record(snapshot: Snapshot) -> None:
            store.add_snapshot(model_id, snapshot)
            on_step(snapshot)

        outcome = tune(
            network,
            encoded,
            model.hyperparameters,
            folder / "adapters",
            pad_id=pad_id,
            manifest=manifest,
            on_step=record,
            should_stop=should_stop,
            on_epoch=lambda epoch, path: store.record_epoch(model_id, epoch, path),
        )
    except DatasetInvalid as exc:
        return store.finish(model_id, State.FAILED, FailureCode.INVALID_ARGUMENT, str(exc))
    except Exception as exc:
        log.exception("tuning %s failed", model_id)
        return store.finish(model_id, State.FAILED, FailureCode.INTERNAL, f"Tuning failed: {exc}")
    if outcome.adapter_dir is None:
        return store.finish(
            model_id,
            State.FAILED,
            FailureCode.CANCELLED,
            f"Tuning was cancelled after {outcome.completed_steps} steps, before the first "
            "epoch completed; no adapter was kept.",
        )
    return store.finish(model_id, State.ACTIVE)
