"""Resumable training state: LoRA weights, optimizer, schedule, RNG and the step reached.

One file per run, written in the run's folder and published to the artifact store, which
replaces the stored one whole: a crash or a full disk while writing leaves the previous
checkpoint intact. The data order needs no saving: it is a pure function of the seed
(`plan_steps`), so a resumed run skips the steps already taken.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)
FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    step: int
    """Steps completed (1-based count); the run resumes with step `step + 1`."""

    epochs_completed: int
    fingerprint: dict[str, Any]
    """What the run was (dataset hash, hyperparameters, step count): a checkpoint of another
    run is never resumed."""

    weights: dict[str, torch.Tensor]
    """The trainable (LoRA) parameters by name."""

    optimizer: dict[str, Any]
    schedule: dict[str, Any]
    rng: torch.Tensor


def write(path: Path, checkpoint: Checkpoint) -> None:
    """Save the checkpoint at `path`, in the run's own folder; the caller then publishes it
    to the artifact store, which replaces the stored one whole (`Checkpointing.publish`).

    Raises:
        OSError: the disk refused the write.
    """
    torch.save({"format": FORMAT, **checkpoint.__dict__}, path)


def read(path: Path, fingerprint: dict[str, Any]) -> Checkpoint | None:
    """The checkpoint at `path` if it belongs to the run described by `fingerprint`."""
    if not path.exists():
        return None
    try:
        payload = torch.load(path, weights_only=True)
        payload.pop("format")
        checkpoint = Checkpoint(**payload)
    except Exception as exc:  # unreadable: start over rather than fail the job
        log.warning("ignoring unreadable checkpoint %s: %s", path, exc)
        return None
    if checkpoint.fingerprint != fingerprint:
        log.warning("ignoring checkpoint %s of another run", path)
        return None
    return checkpoint
