"""Tuned models in the database, returned as frozen dataclasses, never as ORM rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sintonia.datasets.format import PromptFormat
from sintonia.errors import Aborted, TunedModelExists, TunedModelNotFound
from sintonia.storage.artifacts import open_artifacts
from sintonia.storage.db import (
    Database,
    SnapshotRow,
    TunedModelRow,
    foreign_key_violation,
    unique_violation,
)
from sintonia.storage.names import check_id
from sintonia.training.progress import Snapshot
from sintonia.training.spec import Hyperparameters

log = logging.getLogger(__name__)


class State(StrEnum):
    """The Gemini TunedModel states (there is no CANCELLED: a cancelled model stays usable)."""

    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"


class FailureCode(IntEnum):
    """Why a tuning failed, as google.rpc.Code numbers: a failed operation's error carries them."""

    CANCELLED = 1
    INVALID_ARGUMENT = 3
    INTERNAL = 13


@dataclass(frozen=True)
class NewTunedModel:
    """What creating a tuned model records before training starts."""

    id: str
    base_model: str
    hyperparameters: Hyperparameters
    example_count: int
    total_steps: int
    display_name: str = ""
    description: str = ""
    owner: str = ""
    base_model_path: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run picks up: its checkpoint's step and last whole epoch."""

    step: int
    epochs_completed: int
    adapter_key: str | None
    """The last whole epoch's adapter in the artifact store, None before the first epoch ends."""


@dataclass(frozen=True)
class TunedModel:
    id: str
    display_name: str
    description: str
    base_model: str
    base_model_path: str | None
    state: State
    owner: str
    temperature: float | None
    top_p: float | None
    top_k: int | None
    hyperparameters: Hyperparameters
    prompt_format: PromptFormat | None
    provenance: dict[str, Any]
    example_count: int
    total_steps: int
    completed_steps: int
    epochs_completed: int
    adapter_key: str | None
    """The latest epoch's adapter folder in the artifact store (`<id>/adapters/epoch-NNNN`)."""
    error_code: int | None
    error_message: str | None
    create_time: datetime
    update_time: datetime
    start_time: datetime | None
    complete_time: datetime | None
    snapshots: tuple[Snapshot, ...]

    @property
    def name(self) -> str:
        return f"tunedModels/{self.id}"

    @property
    def revision(self) -> str:
        """Which tuning of this id (its creation time): a model deleted and created again
        under the same id has another, so nothing cached of the first one is served."""
        return self.create_time.strftime("%Y%m%dT%H%M%S%f")


def _now() -> datetime:
    return datetime.now(UTC)


class TunedModelStore:
    """Create, read, update and delete tuned models and their artifacts."""

    def __init__(self, db: Database, artifacts: str | Path) -> None:
        """`artifacts`: the artifact store's URL or local folder (`Settings.artifacts`)."""
        self.db = db
        self.artifacts = open_artifacts(artifacts)

    def artifact_dir(self, model_id: str) -> str:
        """A tuned model's folder in the artifact store, as a key: `<id>`, holding
        dataset-<sha>-<random>.jsonl, adapters/epoch-NNNN/ and, while it tunes, checkpoint.pt.

        Raises:
            InvalidArgument: an id outside the pattern, which could name another folder.
        """
        return check_id(model_id, "tuned model")

    def delete_artifacts(self, model_id: str) -> None:
        """Remove a tuned model's files. Raises: OSError (the store failed)."""
        self.artifacts.delete(self.artifact_dir(model_id))

    def create(self, new: NewTunedModel) -> TunedModel:
        """Record a tuned model in state CREATING.

        Raises:
            TunedModelExists: the id is taken.
        """
        now = _now()
        row = TunedModelRow(
            id=new.id,
            display_name=new.display_name,
            description=new.description,
            base_model=new.base_model,
            base_model_path=new.base_model_path,
            state=State.CREATING.value,
            owner=new.owner,
            temperature=new.temperature,
            top_p=new.top_p,
            top_k=new.top_k,
            hyperparameters=new.hyperparameters.to_dict(),
            provenance=new.provenance,
            example_count=new.example_count,
            total_steps=new.total_steps,
            create_time=now,
            update_time=now,
        )
        try:
            with self.db.session() as session:
                if session.get(TunedModelRow, new.id) is not None:
                    raise TunedModelExists(f"Tuned model tunedModels/{new.id} already exists.")
                session.add(row)
                session.flush()  # a lost race shows here, also inside a larger transaction
        except IntegrityError as exc:
            if not unique_violation(exc):
                raise
            # Lost a race with another creator of the same id.
            raise TunedModelExists(f"Tuned model tunedModels/{new.id} already exists.") from exc
        return self.get(new.id)

    def get(self, model_id: str) -> TunedModel:
        """Raises: TunedModelNotFound."""
        with self.db.session() as session:
            row = session.get(TunedModelRow, model_id)
            if row is None:
                raise TunedModelNotFound(f"Tuned model tunedModels/{model_id} does not exist.")
            return self._to_domain(row)

    def list(self) -> list[TunedModel]:
        with self.db.session() as session:
            rows = session.scalars(select(TunedModelRow).order_by(TunedModelRow.create_time))
            return [self._to_domain(row) for row in rows]

    def delete(self, model_id: str) -> None:
        """Remove the model and its artifacts. Raises: TunedModelNotFound."""
        with self.db.session() as session:
            row = session.get(TunedModelRow, model_id)
            if row is None:
                raise TunedModelNotFound(f"Tuned model tunedModels/{model_id} does not exist.")
            session.delete(row)
        try:
            self.delete_artifacts(model_id)
        except OSError as exc:  # the model is gone; its files are only litter now
            log.warning("files of deleted tuned model %s not removed: %s", model_id, exc)

    def mark_started(
        self,
        model_id: str,
        prompt_format: PromptFormat,
        provenance: dict[str, Any],
        resumed: ResumePoint | None = None,
    ) -> None:
        """Training (re)starts: from step 0, or from a checkpoint's step.

        The records are trimmed to the resume point, so the steps the run takes again
        replace what a lost worker wrote after its last checkpoint: no gaps, no doubles.
        """
        step, epochs = (resumed.step, resumed.epochs_completed) if resumed else (0, 0)
        adapter = resumed.adapter_key if resumed else None
        with self._changing(model_id) as (_session, row):
            row.snapshots = [s for s in row.snapshots if s.step <= step]
            row.completed_steps, row.epochs_completed = step, epochs
            row.adapter_dir = adapter
            now = _now()
            row.start_time = row.start_time if resumed else now
            row.update_time = now
            row.prompt_format = prompt_format.to_dict()
            row.provenance = {**row.provenance, **provenance}

    def update(self, model_id: str, changes: dict[str, Any]) -> TunedModel:
        """Change the mutable fields (display_name, description, temperature, top_p, top_k)."""
        allowed = {"display_name", "description", "temperature", "top_p", "top_k"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"not mutable: {sorted(unknown)}")
        with self._changing(model_id) as (_session, row):
            for key, value in changes.items():
                setattr(row, key, value)
            row.update_time = _now()
        return self.get(model_id)

    def add_snapshot(self, model_id: str, snapshot: Snapshot) -> None:
        with self._changing(model_id) as (session, row):
            # merge, not add: a step a lost worker wrote late is overwritten, not a crash
            session.merge(
                SnapshotRow(
                    tuned_model_id=model_id,
                    step=snapshot.step,
                    epoch=snapshot.epoch,
                    mean_loss=snapshot.mean_loss,
                    compute_time=snapshot.compute_time,
                )
            )
            row.completed_steps = snapshot.step
            row.update_time = _now()

    def record_epoch(self, model_id: str, epoch: int, adapter_key: str) -> None:
        """An epoch's adapter is published: from now on the model can serve with it."""
        with self._changing(model_id) as (_session, row):
            row.epochs_completed = epoch
            row.adapter_dir = adapter_key
            row.update_time = _now()

    def finish(
        self,
        model_id: str,
        state: State,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> TunedModel:
        with self._changing(model_id) as (_session, row):
            row.state = state.value
            row.error_code, row.error_message = error_code, error_message
            row.complete_time = row.update_time = _now()
        return self.get(model_id)

    @contextmanager
    def _changing(self, model_id: str) -> Iterator[tuple[Session, TunedModelRow]]:
        """The model's row, to change in a session that commits on leaving.

        Raises:
            TunedModelNotFound: no such model, also when another process deletes it between
                this read and the write (the write then finds no row to update).
        """
        try:
            with self.db.session() as session:
                yield session, self._row(session, model_id)
                session.flush()  # inside a larger transaction too: a deleted row shows here
        except (Aborted, IntegrityError) as exc:
            if isinstance(exc, IntegrityError) and not foreign_key_violation(exc):
                raise
            raise TunedModelNotFound(f"Tuned model tunedModels/{model_id} does not exist.") from exc

    def _row(self, session: Any, model_id: str) -> TunedModelRow:
        row = session.get(TunedModelRow, model_id)
        if row is None:
            raise TunedModelNotFound(f"Tuned model tunedModels/{model_id} does not exist.")
        return row

    def _to_domain(self, row: TunedModelRow) -> TunedModel:
        return TunedModel(
            id=row.id,
            display_name=row.display_name,
            description=row.description,
            base_model=row.base_model,
            base_model_path=row.base_model_path,
            state=State(row.state),
            owner=row.owner,
            temperature=row.temperature,
            top_p=row.top_p,
            top_k=row.top_k,
            hyperparameters=Hyperparameters.from_dict(row.hyperparameters),
            prompt_format=PromptFormat.from_dict(row.prompt_format) if row.prompt_format else None,
            provenance=dict(row.provenance or {}),
            example_count=row.example_count,
            total_steps=row.total_steps,
            completed_steps=row.completed_steps,
            epochs_completed=row.epochs_completed,
            adapter_key=row.adapter_dir,
            error_code=row.error_code,
            error_message=row.error_message,
            create_time=row.create_time,
            update_time=row.update_time,
            start_time=row.start_time,
            complete_time=row.complete_time,
            snapshots=tuple(
                Snapshot(s.step, s.epoch, s.mean_loss, s.compute_time) for s in row.snapshots
            ),
        )
