"""Tuning hyperparameters: frozen, validated once, stored with every tuned model."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from sintonia.errors import HyperparametersInvalid

DEFAULT_EPOCH_COUNT = 5
DEFAULT_BATCH_SIZE = 4
DEFAULT_LEARNING_RATE = 0.001

# Bounds that catch typos (an epoch count of 5000) before hours of CPU time are spent.
MAX_EPOCH_COUNT = 1000
MAX_BATCH_SIZE = 256
MAX_LEARNING_RATE = 1.0


@dataclass(frozen=True)
class Hyperparameters:
    """What the caller asks for: Gemini's hyperparameters plus a seed and the LoRA shape."""

    epoch_count: int = DEFAULT_EPOCH_COUNT
    """Passes over the dataset."""

    batch_size: int = DEFAULT_BATCH_SIZE
    """Examples per optimizer step."""

    learning_rate: float | None = None
    """AdamW step size; None means DEFAULT_LEARNING_RATE x learning_rate_multiplier."""

    learning_rate_multiplier: float | None = None
    """Scales the default rate (Gemini's oneof with learning_rate: give one, not both)."""

    seed: int = 0
    """Seeds the LoRA initialisation and the data order."""

    lora_rank: int = 8
    lora_alpha: int = 16

    def __post_init__(self) -> None:
        problems = []
        if self.learning_rate is not None and self.learning_rate_multiplier is not None:
            problems.append(
                "Can't provide both learning_rate and learning_rate_multiplier: give one."
            )
        if not 1 <= self.epoch_count <= MAX_EPOCH_COUNT:
            problems.append(f"epoch_count must be 1 to {MAX_EPOCH_COUNT}, got {self.epoch_count}.")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            problems.append(f"batch_size must be 1 to {MAX_BATCH_SIZE}, got {self.batch_size}.")
        for name in ("learning_rate", "learning_rate_multiplier"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                problems.append(f"{name} must be a positive number, got {value}.")
        if self.effective_learning_rate > MAX_LEARNING_RATE:
            problems.append(
                f"The learning rate must be at most {MAX_LEARNING_RATE}, "
                f"got {self.effective_learning_rate:g}."
            )
        if not 1 <= self.lora_rank <= 256 or self.lora_alpha < 1:
            problems.append("lora_rank must be 1 to 256 and lora_alpha at least 1.")
        if problems:
            raise HyperparametersInvalid(" ".join(problems))

    @property
    def effective_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        multiplier = self.learning_rate_multiplier
        return DEFAULT_LEARNING_RATE * (1.0 if multiplier is None else multiplier)

    def total_steps(self, example_count: int) -> int:
        """Gemini's count: ceil(examples x epochs / batch size); batches run across epochs."""
        return math.ceil(example_count * self.epoch_count / self.batch_size)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Hyperparameters:
        return cls(**data)  # type: ignore[arg-type]
