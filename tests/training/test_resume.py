"""A run stopped at any step (paused, or killed) resumes from its checkpoint and ends the
same as a run that was never stopped: same steps, once each, same weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sintonia.models.loading import pick_runtime
from sintonia.storage.tuned_models import State
from sintonia.training.service import (
    CHECKPOINT_FILE,
    run_tuning,
)
from support import create_tiny_tuned_model


class _Killed(BaseException):  # noqa: N818 - stands for SIGKILL: nothing after it runs
    pass


@pytest.fixture
def tuning(tiny_model_dir: Path, settings, store):
    """Create a tuned model of the tiny base; returns (create, run)."""
    every3 = dataclasses.replace(settings, checkpoint_every=3)

    def create(model_id: str, learning_rate: float = 0.01) -> None:
        create_tiny_tuned_model(store, tiny_model_dir, model_id, learning_rate=learning_rate)

    def run(model_id: str, **callbacks):
        return run_tuning(store, every3, model_id, pick_runtime("cpu"), **callbacks)

    return create, run


def _weights(model, store) -> dict[str, torch.Tensor]:
    return load_file(store.artifacts.path(model.adapter_key) / "adapter_model.safetensors")


def _assert_same_run(resumed, reference, store) -> None:
    assert resumed.state is State.ACTIVE and resumed.epochs_completed == 3
    assert [s.step for s in resumed.snapshots] == list(range(1, 19))
    assert [s.epoch for s in resumed.snapshots] == [s.epoch for s in reference.snapshots]
    losses = [s.mean_loss for s in resumed.snapshots]
    assert losses == pytest.approx([s.mean_loss for s in reference.snapshots], rel=1e-4)
    expected = _weights(reference, store)
    for name, tensor in _weights(resumed, store).items():
        torch.testing.assert_close(tensor, expected[name], rtol=1e-4, atol=1e-6)


def test_a_paused_run_checkpoints_and_resumes_where_it_stopped(tuning, store) -> None:
    create, run = tuning
    create("straight")
    reference = run("straight")
    create("paused")
    steps = []
    paused = run("paused", on_step=steps.append, should_pause=lambda: len(steps) == 7)
    assert paused.state is State.CREATING and paused.completed_steps == 7
    assert store.artifacts.path(f"paused/{CHECKPOINT_FILE}").is_file()

    resumed = run("paused", on_step=steps.append)

    assert [s.step for s in steps] == list(range(1, 19))  # steps 1-7 were not taken again
    _assert_same_run(resumed, reference, store)
    assert not store.artifacts.path(f"paused/{CHECKPOINT_FILE}").exists()  # done: removed


@pytest.mark.parametrize("killed_at", [2, 8, 11])
def test_a_killed_run_resumes_from_its_last_checkpoint(tuning, store, killed_at: int) -> None:
    """Killed after step `killed_at`'s record: steps since the last checkpoint (every 3 and
    at each epoch's end, step 6 and 12) are taken again and recorded once."""
    create, run = tuning
    create("straight")
    reference = run("straight")
    create("killed")

    def kill(snapshot) -> None:
        if snapshot.step == killed_at:
            raise _Killed

    with pytest.raises(_Killed):
        run("killed", on_step=kill)
    assert store.get("killed").completed_steps == killed_at

    taken = []
    recorded_then = []

    def watch(snapshot) -> None:
        taken.append(snapshot)
        recorded_then.append([s.step for s in store.get("killed").snapshots])

    resumed = run("killed", on_step=watch)

    last_checkpoint = max(s for s in (0, 3, 6, 9) if s < killed_at)
    assert [s.step for s in taken] == list(range(last_checkpoint + 1, 19))
    # The lost steps' records went as the run resumed, not just when they were retaken.
    assert recorded_then[0] == list(range(1, last_checkpoint + 2))
    _assert_same_run(resumed, reference, store)


@pytest.mark.parametrize("damage", ["another run's", "unreadable"])
def test_a_checkpoint_that_does_not_fit_is_ignored(tuning, store, damage: str) -> None:
    create, run = tuning
    create("first")
    steps = []
    run("first", on_step=steps.append, should_pause=lambda: len(steps) == 5)
    create("second", learning_rate=0.02)  # same data, another run
    checkpoint = store.artifacts.path(f"first/{CHECKPOINT_FILE}").read_bytes()
    if damage == "unreadable":
        checkpoint = checkpoint[: len(checkpoint) // 2]
    store.artifacts.path(f"second/{CHECKPOINT_FILE}").write_bytes(checkpoint)

    taken = []
    model = run("second", on_step=taken.append)

    assert taken[0].step == 1  # started over
    assert model.state is State.ACTIVE and [s.step for s in model.snapshots] == list(range(1, 19))


def test_a_checkpoint_the_disk_refuses_does_not_stop_training(tuning, monkeypatch) -> None:
    create, run = tuning
    create("full-disk")
    refused = []

    def no_space(path, state) -> None:
        refused.append(state.step)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sintonia.training.checkpoint.write", no_space)
    model = run("full-disk")
    assert refused[:3] == [3, 6, 9]  # every 3 steps and at epoch ends, each one refused
    assert model.state is State.ACTIVE and model.completed_steps == 18
