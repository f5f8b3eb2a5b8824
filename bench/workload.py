"""What both trainers are given: the same model, data, hyperparameters and seed.

Each trainer runs in its own process (`python -m bench.run_sintonia`, `python -m bench.run_trl`)
so that its peak RSS is its own; the parent passes the workload on the command line and reads
back a `TrainResult` as JSON.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.data import extraction_task
from sintonia.datasets.format import EncodedExample, PromptFormat, encode_example
from sintonia.models.catalog import BaseModel, get_base_model

BASE_MODEL = "models/gemma-3-270m"
MODELS_DIR = Path(__file__).resolve().parents[1] / ".cache" / "models"
"""Converted once from the bundled GGUF (about a minute the first time)."""

LORA_RANK = 8
LORA_ALPHA = 16
BATCH_SIZE = 4
LEARNING_RATE = 1e-3
EPOCHS = 1
FINAL_LOSS_STEPS = 5
"""The final loss is the mean of this many last step losses."""


@dataclass(frozen=True)
class Workload:
    seed: int
    """Generates the examples."""

    train_count: int
    held_out_count: int
    train_seed: int
    """Seeds the trainers (LoRA initialisation, data order); the same for both in a run."""

    def to_args(self) -> list[str]:
        return [
            f"--seed={self.seed}",
            f"--train-seed={self.train_seed}",
            f"--examples={self.train_count}",
            f"--held-out={self.held_out_count}",
        ]


@dataclass(frozen=True)
class TrainResult:
    trainer: str
    train_s: float
    """Wall time of training alone (not model loading, not evaluation)."""

    train_cpu_s: float
    """CPU time of the process over the same span (all threads): wall time much above
    train_cpu_s / threads means the run waited for the CPU (other load on the machine)."""

    tokens: int
    """Non-padding tokens trained on: len(ids) of every example, summed over the epochs."""

    label_tokens: int
    """Output tokens (the loss positions), summed over the epochs."""

    losses: list[float]
    step_s: list[float]
    """Wall time of each step (the first one includes the trainer's warm-up)."""

    adapter_dir: str

    @property
    def final_loss(self) -> float:
        tail = self.losses[-FINAL_LOSS_STEPS:]
        return sum(tail) / len(tail)


def step_durations(start: float, step_ends: list[float]) -> list[float]:
    marks = [start, *step_ends]
    return [b - a for a, b in zip(marks, marks[1:], strict=False)]


def base_model() -> BaseModel:
    return get_base_model(BASE_MODEL)


def encode_training_set(workload: Workload, tokenizer: object) -> list[EncodedExample]:
    """Sintonia's prompt format, used to build the very same token ids for both trainers."""
    train, _ = extraction_task(workload.seed, workload.train_count, workload.held_out_count)
    fmt = PromptFormat.for_tokenizer(tokenizer)  # type: ignore[arg-type]
    return [encode_example(fmt, tokenizer, text, output) for text, output in train]  # type: ignore[arg-type]


def counted_tokens(encoded: list[EncodedExample]) -> tuple[int, int]:
    """(all tokens, output tokens) trained on over the run."""
    total = sum(len(e.ids) for e in encoded) * EPOCHS
    return total, sum(e.output_length for e in encoded) * EPOCHS


def child_parser(description: str) -> argparse.ArgumentParser:
    """The command line of a trainer process: the workload, an adapter folder, a result file."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--examples", type=int, required=True)
    parser.add_argument("--held-out", type=int, required=True)
    parser.add_argument("--train-seed", type=int, required=True)
    parser.add_argument("--adapter-dir", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    return parser


def workload_from(args: argparse.Namespace) -> Workload:
    return Workload(args.seed, args.examples, args.held_out, args.train_seed)


def write_result(result: TrainResult, path: Path) -> None:
    path.write_text(json.dumps(asdict(result)))


def read_result(path: Path) -> TrainResult:
    return TrainResult(**json.loads(path.read_text()))
