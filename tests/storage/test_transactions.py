"""Several stores' writes in one transaction: `Database.session()` blocks nest, and the
outermost commits all of them or none (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from sintonia.errors import TunedModelExists
from sintonia.jobs.queue import JobQueue
from sintonia.storage.permissions import PermissionStore
from sintonia.storage.tuned_models import TunedModelStore
from support import record_model


def _create_all(store: TunedModelStore, model_id: str) -> None:
    record_model(store, model_id)
    PermissionStore(store.db).add_owner(model_id, "a@x.com")
    JobQueue(store.db).enqueue(model_id)


def test_writes_in_one_block_are_kept_together(store: TunedModelStore) -> None:
    with store.db.session():
        _create_all(store, "m1")
    assert [m.id for m in store.list()] == ["m1"]
    assert len(PermissionStore(store.db).list("m1")) == 1
    assert len(JobQueue(store.db).for_model("m1")) == 1


def test_a_failure_late_in_the_block_undoes_the_earlier_writes(store: TunedModelStore) -> None:
    with pytest.raises(RuntimeError), store.db.session():
        _create_all(store, "m1")
        raise RuntimeError("the process dies here")
    assert store.list() == [] and JobQueue(store.db).for_model("m1") == []
    _create_all(store, "m1")  # the id is free again
    assert [m.id for m in store.list()] == ["m1"]


def test_a_taken_id_is_refused_inside_a_block_too(store: TunedModelStore) -> None:
    record_model(store, "m1")
    with pytest.raises(TunedModelExists), store.db.session():
        record_model(store, "m1")
    assert [m.id for m in store.list()] == ["m1"]
