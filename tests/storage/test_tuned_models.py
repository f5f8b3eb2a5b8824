"""The tuned-model store on a fresh SQLite database: each write, read back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sintonia.datasets.format import PromptFormat
from sintonia.errors import TunedModelExists, TunedModelNotFound
from sintonia.settings import Settings
from sintonia.storage.db import Database, SnapshotRow, TunedModelRow
from sintonia.storage.tuned_models import (
    FailureCode,
    NewTunedModel,
    State,
    TunedModelStore,
)
from sintonia.training.progress import Snapshot
from sintonia.training.spec import Hyperparameters
from support import just_before

HP = Hyperparameters(epoch_count=2, batch_size=2, learning_rate=0.01, seed=5)
FORMAT = PromptFormat(separator="\n", bos_token="<bos>", eos_token="<eos>")


def new(model_id: str = "m1", **fields: object) -> NewTunedModel:
    values: dict[str, object] = {
        "id": model_id,
        "base_model": "models/gemma-3-270m",
        "hyperparameters": HP,
        "example_count": 20,
        "total_steps": 20,
        "display_name": "My model",
        "description": "a test",
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 10,
        "provenance": {"dataset_sha256": "abc"},
    }
    values.update(fields)
    return NewTunedModel(**values)  # type: ignore[arg-type]


def is_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.utcoffset() == timedelta(0)


def test_create_records_the_model_in_state_creating(store: TunedModelStore) -> None:
    before = datetime.now(UTC)
    model = store.create(new())
    assert model.id == "m1"
    assert model.name == "tunedModels/m1"
    assert model.state is State.CREATING
    assert (model.display_name, model.description) == ("My model", "a test")
    assert (model.base_model, model.base_model_path) == ("models/gemma-3-270m", None)
    assert (model.temperature, model.top_p, model.top_k) == (0.7, 0.9, 10)
    assert model.hyperparameters == HP
    assert model.provenance == {"dataset_sha256": "abc"}
    assert (model.example_count, model.total_steps) == (20, 20)
    assert (model.completed_steps, model.epochs_completed) == (0, 0)
    assert model.prompt_format is None
    assert model.adapter_key is None
    assert (model.error_code, model.error_message) == (None, None)
    assert model.start_time is None and model.complete_time is None
    assert model.snapshots == ()
    assert is_utc(model.create_time) and is_utc(model.update_time)
    assert before <= model.create_time <= datetime.now(UTC)
    assert model.update_time == model.create_time


def test_create_stores_a_local_base_path(store: TunedModelStore) -> None:
    model = store.create(new(base_model="models/tiny", base_model_path="/data/tiny"))
    assert (model.base_model, model.base_model_path) == ("models/tiny", "/data/tiny")


def test_duplicate_id_is_refused(store: TunedModelStore) -> None:
    store.create(new())
    with pytest.raises(TunedModelExists, match="Tuned model tunedModels/m1 already exists."):
        store.create(new(display_name="Another"))
    assert store.get("m1").display_name == "My model"


def test_get_unknown(store: TunedModelStore) -> None:
    with pytest.raises(TunedModelNotFound, match="tunedModels/nope does not exist"):
        store.get("nope")


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.delete("nope"),
        lambda s: s.mark_started("nope", FORMAT, {}),
        lambda s: s.add_snapshot("nope", Snapshot(1, 1, 1.0, datetime.now(UTC))),
        lambda s: s.record_epoch("nope", 1, "nope/adapters/epoch-0001"),
        lambda s: s.finish("nope", State.ACTIVE),
    ],
    ids=["delete", "mark_started", "add_snapshot", "record_epoch", "finish"],
)
def test_writes_to_an_unknown_model(
    store: TunedModelStore, call: Callable[[TunedModelStore], object]
) -> None:
    with pytest.raises(TunedModelNotFound, match="tunedModels/nope"):
        call(store)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.mark_started("m1", FORMAT, {}),
        lambda s: s.update("m1", {"display_name": "renamed"}),
        lambda s: s.add_snapshot("m1", Snapshot(1, 1, 1.0, datetime.now(UTC))),
        lambda s: s.record_epoch("m1", 1, "m1/adapters/epoch-0001"),
        lambda s: s.finish("m1", State.ACTIVE),
    ],
    ids=["mark_started", "update", "add_snapshot", "record_epoch", "finish"],
)
def test_a_write_racing_a_delete_finds_the_model_gone(
    settings: Settings, store: TunedModelStore, call: Callable[[TunedModelStore], object]
) -> None:
    # Another process (the API) deletes the model between this write's read and its write:
    # a worker must see "not found", which it knows how to handle, not a database error.
    store.create(new())
    api = TunedModelStore(Database(settings.database_url), settings.artifacts_dir)
    with (
        just_before(store.db, "UPDATE tuned_models", lambda: api.delete("m1")),
        pytest.raises(TunedModelNotFound, match="tunedModels/m1 does not exist"),
    ):
        call(store)
    api.db.close()


def test_list_is_ordered_by_creation(store: TunedModelStore) -> None:
    assert store.list() == []
    for model_id in ("zeta", "alpha", "mid"):
        store.create(new(model_id))
    listed = store.list()
    assert [m.id for m in listed] == ["zeta", "alpha", "mid"]
    assert listed[0].create_time <= listed[1].create_time <= listed[2].create_time


def test_mark_started_stores_the_format_and_merges_provenance(store: TunedModelStore) -> None:
    created = store.create(new())
    store.mark_started("m1", FORMAT, {"device": "cpu", "dataset_sha256": "def"})
    model = store.get("m1")
    assert isinstance(model.prompt_format, PromptFormat)
    assert model.prompt_format == FORMAT
    assert model.provenance == {"dataset_sha256": "def", "device": "cpu"}
    assert is_utc(model.start_time)
    assert model.start_time >= created.create_time
    assert model.update_time == model.start_time
    assert model.state is State.CREATING


def test_snapshots_update_progress_and_come_back_by_step(store: TunedModelStore) -> None:
    store.create(new())
    t0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for step, epoch, loss in [(2, 1, 1.5), (1, 1, 2.5), (3, 2, 0.5)]:
        store.add_snapshot("m1", Snapshot(step, epoch, loss, t0 + timedelta(seconds=step)))
    model = store.get("m1")
    assert model.completed_steps == 3
    assert model.snapshots == (
        Snapshot(1, 1, 2.5, t0 + timedelta(seconds=1)),
        Snapshot(2, 1, 1.5, t0 + timedelta(seconds=2)),
        Snapshot(3, 2, 0.5, t0 + timedelta(seconds=3)),
    )
    assert all(is_utc(s.compute_time) for s in model.snapshots)


def test_snapshot_time_in_another_zone_comes_back_as_utc(store: TunedModelStore) -> None:
    store.create(new())
    local = datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    store.add_snapshot("m1", Snapshot(1, 1, 1.0, local))
    (snap,) = store.get("m1").snapshots
    assert snap.compute_time == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert snap.compute_time.tzinfo == UTC


def test_record_epoch_stores_the_adapter_key(store: TunedModelStore) -> None:
    store.create(new())
    store.record_epoch("m1", 2, "m1/adapters/epoch-0002")
    model = store.get("m1")
    assert model.epochs_completed == 2
    assert model.adapter_key == "m1/adapters/epoch-0002"
    with store.db.session() as session:
        assert session.get(TunedModelRow, "m1").adapter_dir == "m1/adapters/epoch-0002"


def test_artifacts_follow_the_artifact_store(store: TunedModelStore, tmp_path: Path) -> None:
    """Keys are relative to the store: the files can move (another folder, object storage)."""
    store.create(new())
    store.record_epoch("m1", 1, "m1/adapters/epoch-0001")
    moved = TunedModelStore(store.db, tmp_path / "elsewhere")
    key = moved.get("m1").adapter_key
    assert moved.artifacts.path(key) == tmp_path / "elsewhere" / "m1" / "adapters" / "epoch-0001"


@pytest.mark.parametrize(
    ("state", "code", "message"),
    [
        (State.ACTIVE, None, None),
        (State.FAILED, FailureCode.INTERNAL, "out of memory"),
        (State.FAILED, FailureCode.INVALID_ARGUMENT, "dataset too long"),
        (State.ACTIVE, FailureCode.CANCELLED, "Cancelled after epoch 1."),
    ],
)
def test_finish(
    store: TunedModelStore, state: State, code: int | None, message: str | None
) -> None:
    store.create(new())
    finished = store.finish("m1", state, code, message)
    assert finished.state is state
    assert (finished.error_code, finished.error_message) == (code, message)
    assert is_utc(finished.complete_time)
    assert finished.update_time == finished.complete_time
    assert store.get("m1") == finished


def test_failure_codes_are_google_rpc_codes() -> None:
    assert (FailureCode.CANCELLED, FailureCode.INVALID_ARGUMENT, FailureCode.INTERNAL) == (
        1,
        3,
        13,
    )


def test_delete_removes_row_snapshots_and_artifacts(store: TunedModelStore) -> None:
    store.create(new())
    store.create(new("keep"))
    for model_id in ("m1", "keep"):
        store.add_snapshot(model_id, Snapshot(1, 1, 1.0, datetime.now(UTC)))
    folder = store.artifacts.path(store.artifact_dir("m1"))
    (folder / "adapters").mkdir(parents=True)
    (folder / "dataset.jsonl").write_text("{}\n")
    store.delete("m1")
    assert not folder.exists()
    with pytest.raises(TunedModelNotFound):
        store.get("m1")
    with store.db.session() as session:
        owners = session.scalars(select(SnapshotRow.tuned_model_id)).all()
    assert owners == ["keep"]
    assert [m.id for m in store.list()] == ["keep"]


def test_delete_without_artifact_folder(store: TunedModelStore) -> None:
    store.create(new())
    assert not store.artifacts.path("m1").exists()
    store.delete("m1")
    assert store.list() == []


def test_id_can_be_reused_after_delete(store: TunedModelStore) -> None:
    store.create(new())
    store.add_snapshot("m1", Snapshot(1, 1, 1.0, datetime.now(UTC)))
    store.delete("m1")
    model = store.create(new())
    assert model.snapshots == ()
    assert model.completed_steps == 0


def test_data_survives_a_new_database(settings: Settings, store: TunedModelStore) -> None:
    store.create(new())
    store.mark_started("m1", FORMAT, {"device": "cpu"})
    store.add_snapshot("m1", Snapshot(1, 1, 2.0, datetime(2025, 1, 1, tzinfo=UTC)))
    store.record_epoch("m1", 1, "m1/adapters/epoch-0001")
    before = store.finish("m1", State.ACTIVE)
    store.db.close()

    reopened = Database(settings.database_url)
    try:
        again = TunedModelStore(reopened, settings.artifacts_dir)
        assert again.get("m1") == before
        with reopened.session() as session:
            assert session.scalar(select(func.count()).select_from(SnapshotRow)) == 1
    finally:
        reopened.close()
