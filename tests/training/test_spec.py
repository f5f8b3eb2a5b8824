"""Hyperparameters: defaults, the effective learning rate, every refusal, and the step count."""

from __future__ import annotations

import math

import pytest

from sintonia.errors import HyperparametersInvalid, InvalidArgument
from sintonia.training.spec import Hyperparameters


def test_defaults_are_gemini_defaults() -> None:
    hp = Hyperparameters()
    assert (hp.epoch_count, hp.batch_size, hp.effective_learning_rate) == (5, 4, 0.001)
    assert hp.learning_rate is None
    assert hp.learning_rate_multiplier is None


@pytest.mark.parametrize(
    ("learning_rate", "multiplier", "expected"),
    [
        (None, None, 0.001),
        (0.01, None, 0.01),
        (None, 2.0, 0.002),
        (None, 0.5, 0.0005),
        (None, 1000.0, 1.0),  # exactly the maximum is allowed
        (1.0, None, 1.0),
    ],
)
def test_effective_learning_rate(
    learning_rate: float | None, multiplier: float | None, expected: float
) -> None:
    hp = Hyperparameters(learning_rate=learning_rate, learning_rate_multiplier=multiplier)
    assert hp.effective_learning_rate == pytest.approx(expected)


def test_rate_and_multiplier_together_are_refused() -> None:
    with pytest.raises(HyperparametersInvalid, match="Can't provide both") as info:
        Hyperparameters(learning_rate=0.01, learning_rate_multiplier=2.0)
    assert "learning_rate and learning_rate_multiplier" in str(info.value)
    assert isinstance(info.value, InvalidArgument)


# (fields, phrase the message must contain)
INVALID = [
    ({"epoch_count": 0}, "epoch_count must be 1 to 1000, got 0."),
    ({"epoch_count": 1001}, "epoch_count must be 1 to 1000, got 1001."),
    ({"batch_size": 0}, "batch_size must be 1 to 256, got 0."),
    ({"batch_size": 257}, "batch_size must be 1 to 256, got 257."),
    ({"learning_rate": -0.1}, "learning_rate must be a positive number, got -0.1."),
    ({"learning_rate": 0.0}, "learning_rate must be a positive number, got 0.0."),
    ({"learning_rate": math.nan}, "learning_rate must be a positive number, got nan."),
    ({"learning_rate": math.inf}, "learning_rate must be a positive number, got inf."),
    ({"learning_rate": 1.5}, "The learning rate must be at most 1.0, got 1.5."),
    ({"learning_rate_multiplier": 0.0}, "learning_rate_multiplier must be a positive number"),
    ({"learning_rate_multiplier": -2.0}, "learning_rate_multiplier must be a positive number"),
    ({"learning_rate_multiplier": math.nan}, "learning_rate_multiplier must be a positive"),
    ({"learning_rate_multiplier": 2000.0}, "The learning rate must be at most 1.0, got 2."),
    ({"lora_rank": 0}, "lora_rank must be 1 to 256"),
    ({"lora_rank": 257}, "lora_rank must be 1 to 256"),
    ({"lora_alpha": 0}, "lora_alpha at least 1"),
]


@pytest.mark.parametrize(("fields", "phrase"), INVALID, ids=[p for _, p in INVALID])
def test_invalid_values_are_refused(fields: dict[str, float], phrase: str) -> None:
    with pytest.raises(HyperparametersInvalid) as info:
        Hyperparameters(**fields)  # type: ignore[arg-type]
    assert phrase in str(info.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(HyperparametersInvalid) as info:
        Hyperparameters(epoch_count=0, batch_size=0, learning_rate=-1.0)
    message = str(info.value)
    assert "epoch_count must be" in message
    assert "batch_size must be" in message
    assert "learning_rate must be a positive number" in message


@pytest.mark.parametrize(
    "fields",
    [
        {"epoch_count": 1},
        {"epoch_count": 1000},
        {"batch_size": 1},
        {"batch_size": 256},
        {"lora_rank": 256, "lora_alpha": 1},
    ],
)
def test_bounds_are_inclusive(fields: dict[str, int]) -> None:
    hp = Hyperparameters(**fields)  # type: ignore[arg-type]
    for name, value in fields.items():
        assert getattr(hp, name) == value


@pytest.mark.parametrize(
    ("examples", "epochs", "batch", "steps"),
    [
        (15, 5, 2, 38),
        (15, 5, 4, 19),
        (20, 1, 4, 5),
        (20, 5, 4, 25),
        (1, 1, 256, 1),
        (21, 1, 4, 6),
    ],
)
def test_total_steps(examples: int, epochs: int, batch: int, steps: int) -> None:
    assert Hyperparameters(epoch_count=epochs, batch_size=batch).total_steps(examples) == steps


@pytest.mark.parametrize(
    "hp",
    [
        Hyperparameters(),
        Hyperparameters(epoch_count=3, batch_size=8, learning_rate=0.02, seed=7),
        Hyperparameters(learning_rate_multiplier=0.5, lora_rank=4, lora_alpha=8),
    ],
)
def test_dict_round_trip(hp: Hyperparameters) -> None:
    data = hp.to_dict()
    assert set(data) == {
        "epoch_count",
        "batch_size",
        "learning_rate",
        "learning_rate_multiplier",
        "seed",
        "lora_rank",
        "lora_alpha",
    }
    assert Hyperparameters.from_dict(data) == hp


def test_to_dict_values() -> None:
    assert Hyperparameters(learning_rate=0.01, seed=3).to_dict() == {
        "epoch_count": 5,
        "batch_size": 4,
        "learning_rate": 0.01,
        "learning_rate_multiplier": None,
        "seed": 3,
        "lora_rank": 8,
        "lora_alpha": 16,
    }


def test_from_dict_validates() -> None:
    with pytest.raises(HyperparametersInvalid, match="epoch_count must be 1 to 1000"):
        Hyperparameters.from_dict({"epoch_count": 0})
