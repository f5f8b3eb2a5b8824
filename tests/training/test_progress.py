"""The loss per epoch, as the tuned model's snapshots report it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sintonia.training.progress import Snapshot, mean_loss_per_epoch

T = datetime(2025, 1, 1, tzinfo=UTC)


def snaps(*pairs: tuple[int, float]) -> list[Snapshot]:
    return [Snapshot(step, epoch, loss, T) for step, (epoch, loss) in enumerate(pairs, start=1)]


@pytest.mark.parametrize(
    ("snapshots", "expected"),
    [
        ([], {}),
        (snaps((1, 2.0)), {1: 2.0}),
        (snaps((1, 2.0), (1, 4.0), (2, 1.0), (2, 0.5)), {1: 3.0, 2: 0.75}),
        (snaps((1, 3.0), (2, 1.0), (2, 2.0), (2, 3.0)), {1: 3.0, 2: 2.0}),
        (snaps((1, 1.0), (3, 5.0)), {1: 1.0, 3: 5.0}),  # an epoch with no step of its own
    ],
)
def test_mean_loss_per_epoch(snapshots: list[Snapshot], expected: dict[int, float]) -> None:
    assert mean_loss_per_epoch(snapshots) == pytest.approx(expected)


def test_epochs_come_back_in_order_whatever_the_input_order() -> None:
    shuffled = [Snapshot(5, 3, 1.0, T), Snapshot(1, 1, 2.0, T), Snapshot(3, 2, 4.0, T)]
    result = mean_loss_per_epoch(shuffled)
    assert list(result) == [1, 2, 3]
    assert result == {1: 2.0, 2: 4.0, 3: 1.0}


def test_accepts_any_iterable() -> None:
    assert mean_loss_per_epoch(iter(snaps((1, 1.0), (1, 3.0)))) == {1: 2.0}
