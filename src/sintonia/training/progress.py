"""Training progress as clients see it: per-step snapshots and the loss per epoch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Snapshot:
    """The loss after one step, as the Gemini API reports it (`TuningSnapshot`)."""

    step: int
    epoch: int
    mean_loss: float
    compute_time: datetime
    tokens: int = 0
    """Non-padding tokens in the step's batch, for throughput figures (not stored)."""


def mean_loss_per_epoch(snapshots: Iterable[Snapshot]) -> dict[int, float]:
    """Average of the step losses reported under each epoch, in epoch order."""
    sums: dict[int, list[float]] = {}
    for snap in snapshots:
        sums.setdefault(snap.epoch, []).append(snap.mean_loss)
    return {epoch: sum(v) / len(v) for epoch, v in sorted(sums.items())}
