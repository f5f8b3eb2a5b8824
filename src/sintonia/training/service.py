"""Create a tuned model from a dataset, and run its tuning: what the CLI and the worker call."""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import PreTrainedTokenizerBase as Tokenizer

from sintonia.datasets import Dataset, read_dataset
from sintonia.datasets.format import EncodedExample, PromptFormat, encode_dataset, eos_token_id
from sintonia.errors import DatasetInvalid, TunedModelNotFound
from sintonia.models.catalog import (
    DEFAULT_BASE_MODEL,
    BaseModel,
    LocalDirectory,
    get_base_model,
    resolve_base_model,
)
from sintonia.models.loading import Runtime, load_network, load_tokenizer
from sintonia.settings import Settings
from sintonia.storage.names import (
    check_display_name,
    check_tuned_model_id,
    make_tuned_model_id,
    random_id,
)
from sintonia.storage.scratch import run_folder
from sintonia.storage.tuned_models import (
    FailureCode,
    NewTunedModel,
    ResumePoint,
    State,
    TunedModel,
    TunedModelStore,
)
from sintonia.training import checkpoint
from sintonia.training.memory import release_freed_memory
from sintonia.training.parallel import SOLO, ProcessGroup, RankFailed
from sintonia.training.progress import Snapshot
from sintonia.training.recipe import Checkpointing, epoch_adapter_dir, tune
from sintonia.training.spec import Hyperparameters

log = logging.getLogger(__name__)
ADAPTERS = "adapters"
CHECKPOINT_FILE = "checkpoint.pt"
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
    store: TunedModelStore,
    request: TuningRequest,
    tokenizer: Tokenizer,
    along: Callable[[TunedModel], None] = lambda _model: None,
) -> TunedModel:
    """Check everything, then record the tuned model (CREATING) and keep a copy of its data.

    Args:
        store: where tuned models live.
        request: what to tune.
        tokenizer: the base model's tokenizer, to check every example fits its context.
        along: writes that belong with the new model (its owner, its job), made in the same
            transaction: all of them are kept, or none, and then no copy of the data either.

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
    # The data is in the artifact store before the model is recorded: a model acknowledged
    # to a client always has its data, even after a crash right after the answer. Each
    # create writes a file of its own: one that fails removes its file without touching the
    # data of another create racing it for the same id (a client retrying, say).
    data_file = f"dataset-{request.dataset.sha256[:16]}-{random_id(8)}.jsonl"
    data_key = f"{store.artifact_dir(model_id)}/{data_file}"
    store.artifacts.put_bytes(data_key, request.dataset.to_jsonl().encode())
    try:
        with store.db.session():
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
                        "dataset_file": data_file,
                    },
                )
            )
            along(model)
    except BaseException:
        with contextlib.suppress(OSError):  # litter at worst: the create's error matters
            store.artifacts.delete(data_key)
        raise
    return model


def dataset_key(store: TunedModelStore, model: TunedModel) -> str:
    """Where the copy of `model`'s training data is in the artifact store."""
    # Models created before each create wrote a file of its own have one named by content.
    name = model.provenance.get("dataset_file") or (
        f"dataset-{model.provenance['dataset_sha256'][:16]}.jsonl"
    )
    return f"{store.artifact_dir(model.id)}/{name}"


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
    should_pause: Callable[[], bool] = lambda: False,
    on_step: Callable[[Snapshot], None] = lambda _s: None,
    group: ProcessGroup = SOLO,
) -> TunedModel:
    """Tune a recorded model, storing every snapshot and each epoch's adapter as it goes.

    A run resumes from the model's checkpoint when there is one (a worker was lost or
    paused), and writes one every `settings.checkpoint_every` steps and at each epoch's end.
    The model ends ACTIVE with its last completed epoch (also when cancelled), or FAILED
    with a google.rpc code: CANCELLED before any epoch completed, INVALID_ARGUMENT for data
    the base model cannot take, INTERNAL for anything else. When `should_pause` stops the
    run, the model stays CREATING, to be resumed.

    In a data-parallel run every rank of `group` calls this; rank 0 alone asks
    `should_stop`/`should_pause` and writes (records, adapters, checkpoints, the ending).
    """
    lead = group.rank == 0
    model = store.get(model_id)
    # Training writes on this machine; what other processes may read (each epoch's adapter,
    # each checkpoint) is published to the artifact store as soon as it is written.
    with run_folder(settings.scratch_dir, prefix=f"{model_id}-") as scratch:
        try:
            base = resolve_base_model(model.base_model, model.base_model_path)
            dataset = read_dataset(_fetch_dataset(store, model, scratch))
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
            checkpointing = _checkpointing(store, model_id, scratch, settings, manifest)
            if lead:
                resume_point = _resume_point(store, model_id, checkpointing)
                store.mark_started(model_id, fmt, manifest, resume_point)

            def record(snapshot: Snapshot) -> None:
                store.add_snapshot(model_id, snapshot)
                on_step(snapshot)

            def publish(epoch: int, adapter: Path) -> None:
                key = _adapter_key(store, model_id, epoch)
                store.artifacts.put_dir(key, adapter)
                store.record_epoch(model_id, epoch, key)
                shutil.rmtree(adapter)  # published: the scratch copy is of no more use

            outcome = tune(
                network,
                encoded,
                model.hyperparameters,
                scratch / ADAPTERS,
                pad_id=pad_id,
                manifest=manifest,
                on_step=record,
                should_stop=should_stop,
                should_pause=should_pause,
                checkpointing=checkpointing,
                on_epoch=publish,
                group=group,
            )
        except DatasetInvalid as exc:
            return _failed(store, model_id, group, FailureCode.INVALID_ARGUMENT, str(exc))
        except Exception as exc:
            if lead and not isinstance(exc, TunedModelNotFound):  # deleted: no failure of ours
                log.exception("tuning %s failed", model_id)
            return _failed(store, model_id, group, FailureCode.INTERNAL, f"Tuning failed: {exc}")
    if outcome.paused or not lead:
        return store.get(model_id)
    if outcome.adapter_dir is None:
        return end_tuning(
            store,
            model_id,
            State.FAILED,
            FailureCode.CANCELLED,
            f"Tuning was cancelled after {outcome.completed_steps} steps, before the first "
            "epoch completed; no adapter was kept.",
        )
    return end_tuning(store, model_id, State.ACTIVE)


def _failed(
    store: TunedModelStore, model_id: str, group: ProcessGroup, code: FailureCode, message: str
) -> TunedModel:
    """End the model FAILED; in a data-parallel run (rank 0 ends it), raise `RankFailed`.

    The other ranks may be waiting for this one in a collective: the runner (Ray Train) stops
    every rank once one raises, so none is left waiting.
    """
    if group.world == 1:
        return end_tuning(store, model_id, State.FAILED, code, message)
    try:
        if group.rank == 0:
            end_tuning(store, model_id, State.FAILED, code, message)
    finally:  # also when the model is gone meanwhile: every rank must stop all the same
        raise RankFailed(f"rank {group.rank}: {message}")  # noqa: B012


def _fetch_dataset(store: TunedModelStore, model: TunedModel, scratch: Path) -> Path:
    key = dataset_key(store, model)
    path = store.artifacts.fetch_file(key, scratch / Path(key).name)
    if path is None:
        raise FileNotFoundError(f"the dataset copy {key} is missing from {store.artifacts.url}")
    return path


def _adapter_key(store: TunedModelStore, model_id: str, epoch: int) -> str:
    name = epoch_adapter_dir(Path(ADAPTERS), epoch).name
    return f"{store.artifact_dir(model_id)}/{ADAPTERS}/{name}"


def _checkpointing(
    store: TunedModelStore,
    model_id: str,
    scratch: Path,
    settings: Settings,
    manifest: dict[str, Any],
) -> Checkpointing:
    """Written to `scratch`, published to the store; resumed from the store's, which any
    worker can read (the one that wrote it may be gone)."""
    # A checkpoint is resumed only by the same run: same data, hyperparameters and base.
    fingerprint = {
        key: manifest[key]
        for key in ("base_model", "prompt_format", "hyperparameters", "dataset_sha256")
    }
    key = f"{store.artifact_dir(model_id)}/{CHECKPOINT_FILE}"
    stored = store.artifacts.fetch_file(key, scratch / CHECKPOINT_FILE)
    return Checkpointing(
        scratch / CHECKPOINT_FILE,
        settings.checkpoint_every,
        fingerprint,
        checkpoint.read(stored, fingerprint) if stored else None,
        publish=lambda path: store.artifacts.put_file(key, path),
    )


def _resume_point(
    store: TunedModelStore, model_id: str, checkpointing: Checkpointing
) -> ResumePoint | None:
    state = checkpointing.resume
    if state is None:
        return None
    epochs = state.epochs_completed
    adapter = _adapter_key(store, model_id, epochs) if epochs else None
    return ResumePoint(state.step, epochs, adapter)


def end_tuning(
    store: TunedModelStore,
    model_id: str,
    state: State,
    code: FailureCode | None = None,
    message: str | None = None,
) -> TunedModel:
    """Finish the model; its checkpoint is then of no more use (the epoch adapters stay)."""
    model = store.finish(model_id, state, code, message)
    try:
        store.artifacts.delete(f"{store.artifact_dir(model_id)}/{CHECKPOINT_FILE}")
    except OSError as exc:  # the model is finished either way; the file is only litter
        log.warning("checkpoint of %s not removed: %s", model_id, exc)
    return model
