"""The data order (plan_steps) and the padding (collate): pure functions, checked on tables."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

from sintonia.datasets.format import EncodedExample
from sintonia.training.batches import Batch, Step, collate, plan_steps

SHAPES = [  # (examples, epochs, batch size)
    (5, 2, 2),
    (15, 5, 2),
    (15, 5, 4),
    (20, 1, 4),
    (20, 3, 4),
    (7, 3, 3),
    (3, 4, 8),  # a batch longer than an epoch
    (1, 1, 1),
    (10, 2, 1),
]


def stream(steps: list[Step]) -> list[int]:
    return [i for step in steps for i in step.indices]


@pytest.mark.parametrize(("n", "epochs", "batch"), SHAPES)
def test_step_count_is_gemini_total_steps(n: int, epochs: int, batch: int) -> None:
    steps = plan_steps(n, epochs, batch, seed=0)
    assert len(steps) == math.ceil(n * epochs / batch)
    assert all(len(s.indices) == batch for s in steps[:-1])
    assert 1 <= len(steps[-1].indices) <= batch


@pytest.mark.parametrize(("n", "epochs", "batch"), SHAPES)
def test_each_epoch_visits_every_example_once(n: int, epochs: int, batch: int) -> None:
    order = stream(plan_steps(n, epochs, batch, seed=3))
    assert len(order) == n * epochs
    for epoch in range(epochs):
        assert sorted(order[epoch * n : (epoch + 1) * n]) == list(range(n))


@pytest.mark.parametrize(("n", "epochs", "batch"), SHAPES)
def test_step_epoch_is_the_epoch_of_its_last_example(n: int, epochs: int, batch: int) -> None:
    steps = plan_steps(n, epochs, batch, seed=1)
    position = 0
    for step in steps:
        position += len(step.indices)
        assert step.epoch == (position - 1) // n + 1


@pytest.mark.parametrize(("n", "epochs", "batch"), SHAPES)
def test_ends_epochs_marks_the_step_with_each_epochs_last_example(
    n: int, epochs: int, batch: int
) -> None:
    steps = plan_steps(n, epochs, batch, seed=2)
    ends: dict[int, int] = {}  # epoch -> 1-based step
    position = 0
    for number, step in enumerate(steps, start=1):
        start, position = position, position + len(step.indices)
        expected = tuple(e for e in range(1, epochs + 1) if start < e * n <= position)
        assert step.ends_epochs == expected
        ends.update((e, number) for e in step.ends_epochs)
    assert sorted(ends) == list(range(1, epochs + 1))
    assert Counter(e for s in steps for e in s.ends_epochs) == Counter(range(1, epochs + 1))


def test_epoch_boundaries_inside_a_batch() -> None:
    steps = plan_steps(5, 2, 2, seed=0)
    assert [s.epoch for s in steps] == [1, 1, 2, 2, 2]
    assert [s.ends_epochs for s in steps] == [(), (), (1,), (), (2,)]


def test_one_batch_can_end_several_epochs() -> None:
    steps = plan_steps(3, 4, 8, seed=0)
    assert [s.ends_epochs for s in steps] == [(1, 2), (3, 4)]
    assert [s.epoch for s in steps] == [3, 4]


def test_same_seed_same_plan() -> None:
    assert plan_steps(20, 3, 4, seed=7) == plan_steps(20, 3, 4, seed=7)


def test_different_seed_different_plan() -> None:
    assert stream(plan_steps(20, 3, 4, seed=7)) != stream(plan_steps(20, 3, 4, seed=8))


def test_epochs_are_shuffled_independently() -> None:
    order = stream(plan_steps(20, 2, 4, seed=0))
    assert order[:20] != order[20:]


# --- collate -------------------------------------------------------------------------------

PAD = 0
EXAMPLES = [
    EncodedExample(ids=(5, 6, 7, 8, 1), prompt_length=3),
    EncodedExample(ids=(9, 10, 1), prompt_length=2),
    EncodedExample(ids=(11, 12, 13, 14, 15, 16, 1), prompt_length=4),
]


def test_collate_right_pads_to_the_longest_example() -> None:
    batch = collate(EXAMPLES, pad_id=PAD)
    assert batch.input_ids.dtype == torch.long
    assert batch.input_ids.tolist() == [
        [5, 6, 7, 8, 1, 0, 0],
        [9, 10, 1, 0, 0, 0, 0],
        [11, 12, 13, 14, 15, 16, 1],
    ]


def test_collate_uses_the_given_pad_id() -> None:
    batch = collate(EXAMPLES[:2], pad_id=99)
    assert batch.input_ids.tolist() == [[5, 6, 7, 8, 1], [9, 10, 1, 99, 99]]


def test_collate_attention_mask_covers_real_tokens() -> None:
    batch = collate(EXAMPLES, pad_id=PAD)
    assert batch.attention_mask.tolist() == [
        [1, 1, 1, 1, 1, 0, 0],
        [1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 1],
    ]


def test_collate_label_mask_is_exactly_the_output_positions() -> None:
    batch = collate(EXAMPLES, pad_id=PAD)
    assert batch.label_mask.dtype == torch.bool
    assert batch.label_mask.tolist() == [
        [False, False, False, True, True, False, False],
        [False, False, True, False, False, False, False],
        [False, False, False, False, True, True, True],
    ]
    for row, example in enumerate(EXAMPLES):
        labelled = batch.input_ids[row][batch.label_mask[row]].tolist()
        assert labelled == list(example.ids[example.prompt_length :])


def test_token_count_excludes_padding() -> None:
    assert collate(EXAMPLES, pad_id=PAD).token_count == 5 + 3 + 7
    assert collate(EXAMPLES[1:2], pad_id=PAD).token_count == 3


def test_batch_to_keeps_every_tensor() -> None:
    batch = collate(EXAMPLES, pad_id=PAD)
    moved = batch.to("cpu")  # type: ignore[arg-type]
    assert isinstance(moved, Batch)
    for name in ("input_ids", "attention_mask", "label_mask"):
        tensor = getattr(moved, name)
        assert tensor.device.type == "cpu"
        assert torch.equal(tensor, getattr(batch, name))
    assert moved.token_count == batch.token_count


def test_collate_rounds_the_width_up_to_a_multiple() -> None:
    batch = collate(EXAMPLES, pad_id=PAD, multiple=16)
    assert batch.input_ids.shape == (3, 16)
    assert batch.token_count == 5 + 3 + 7
    assert batch.label_mask.sum().item() == 2 + 1 + 3
