"""The recipe's data-parallel run, with its ranks as threads of this process: the steps,
losses and weights of one process; rank 0 alone asks, reports and writes; all ranks stop
together. (Ray Train's processes and gloo: tests/jobs/test_ray_backend.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from sintonia.datasets.format import PromptFormat, encode_example
from sintonia.training.parallel import GO, STOP
from sintonia.training.recipe import TuningOutcome, tune
from sintonia.training.spec import Hyperparameters
from support import tiny_task


class _Shared:
    def __init__(self, world: int) -> None:
        self.world = world
        self.barrier = threading.Barrier(world, timeout=60)
        self.slots: list[Any] = [None] * world
        self.ready = [threading.Event() for _ in range(world)]


class _ThreadRank:
    """One rank of a `ProcessGroup` whose ranks are threads (collectives through a barrier)."""

    def __init__(self, shared: _Shared, rank: int) -> None:
        self.shared = shared
        self.rank = rank
        self.world = shared.world

    def _gather(self, value: Any) -> list[Any]:
        self.shared.slots[self.rank] = value
        self.shared.barrier.wait()
        values = list(self.shared.slots)
        self.shared.barrier.wait()  # all have read before any rank writes again
        return values

    def sum(self, tensor: torch.Tensor) -> None:
        tensor.copy_(torch.stack(self._gather(tensor.clone())).sum(dim=0))

    def copy_from_lead(self, tensors: Sequence[torch.Tensor]) -> None:
        self.shared.ready[self.rank].set()
        lead = self._gather([t.clone() for t in tensors])[0]
        for tensor, value in zip(tensors, lead, strict=True):
            tensor.copy_(value)

    def lead_decides(self, ask: Callable[[], int]) -> int:
        return self._gather(ask() if self.rank == 0 else None)[0]


@pytest.fixture
def encoded(tiny_model_dir: Path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    fmt = PromptFormat.for_tokenizer(tokenizer)
    return [encode_example(fmt, tokenizer, x, y) for x, y in tiny_task(24)], tokenizer.pad_token_id


def _base(tiny_model_dir: Path) -> torch.nn.Module:
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    return model.requires_grad_(False)


def _run_ranks(
    world: int, run: Callable[[_ThreadRank], TuningOutcome]
) -> list[TuningOutcome | BaseException]:
    shared = _Shared(world)
    results: list[TuningOutcome | BaseException] = [RuntimeError("did not run")] * world

    def rank_main(rank: int) -> None:
        try:
            results[rank] = run(_ThreadRank(shared, rank))
        except BaseException as exc:
            results[rank] = exc

    threads = [threading.Thread(target=rank_main, args=(r,)) for r in range(world)]
    # One rank at a time up to its first collective: LoRA initialisation draws from the
    # process-wide RNG, and loading and wrapping a model patch process-wide functions.
    for thread, ready in zip(threads, shared.ready, strict=True):
        thread.start()
        assert ready.wait(60)
    for thread in threads:
        thread.join(120)
    return results


@pytest.mark.parametrize(
    ("world", "batch_size"),
    [(2, 4), (2, 3), (3, 2)],  # even halves; uneven shares; a rank with no example each step
)
def test_ranks_take_the_steps_of_one_process(
    tiny_model_dir, encoded, tmp_path, world, batch_size
) -> None:
    examples, pad_id = encoded
    hp = Hyperparameters(epoch_count=2, batch_size=batch_size, learning_rate=0.01, seed=3)
    reference: list = []
    tune(
        _base(tiny_model_dir),
        examples,
        hp,
        tmp_path / "one",
        pad_id=pad_id,
        on_step=reference.append,
    )

    snapshots: list = []
    asked: list[int] = []

    def run(group: _ThreadRank) -> TuningOutcome:
        def should_stop() -> bool:
            asked.append(group.rank)
            return False

        return tune(
            _base(tiny_model_dir),
            examples,
            hp,
            tmp_path / f"rank{group.rank}",
            pad_id=pad_id,
            on_step=snapshots.append,
            should_stop=should_stop,
            group=group,
        )

    outcomes = _run_ranks(world, run)

    assert all(isinstance(o, TuningOutcome) and o.epochs_completed == 2 for o in outcomes)
    assert [s.step for s in snapshots] == [s.step for s in reference]  # rank 0's only
    assert [s.tokens for s in snapshots] == [s.tokens for s in reference]
    assert [s.mean_loss for s in snapshots] == pytest.approx(
        [s.mean_loss for s in reference], rel=1e-4
    )
    assert set(asked) == {0} and len(asked) == len(reference)
    assert (tmp_path / "rank0" / "epoch-0002" / "adapter_model.safetensors").is_file()
    assert not any((tmp_path / f"rank{r}").exists() for r in range(1, world))


def test_rank_0_stops_every_rank_at_the_same_step(tiny_model_dir, encoded, tmp_path) -> None:
    examples, pad_id = encoded
    hp = Hyperparameters(epoch_count=2, batch_size=4, learning_rate=0.01)
    steps: list = []

    def run(group: _ThreadRank) -> TuningOutcome:
        return tune(
            _base(tiny_model_dir),
            examples,
            hp,
            tmp_path / f"rank{group.rank}",
            pad_id=pad_id,
            on_step=steps.append,
            should_stop=lambda: len(steps) == 5,
            group=group,
        )

    outcomes = _run_ranks(2, run)

    assert [o.completed_steps for o in outcomes] == [5, 5]
    assert all(o.cancelled for o in outcomes)


_RANK = """
import json, sys
import torch, torch.distributed as dist
from sintonia.training.parallel import GO, TorchDistributed

dist.init_process_group(
    "gloo", init_method="file://" + sys.argv[1], rank=int(sys.argv[2]), world_size=2
)
group = TorchDistributed(torch.device("cpu"))
total = torch.tensor([group.rank + 1.0])
group.sum(total)
weights = torch.tensor([float(group.rank) + 5.0])
group.copy_from_lead([weights])
first = group.lead_decides(lambda: GO)

def broken():
    raise LookupError("the database is gone")

try:
    second = group.lead_decides(broken)
except LookupError:
    second = "raised"
print(json.dumps([total.item(), weights.item(), first, second]))
"""


def test_torch_distributed_over_gloo(tmp_path) -> None:
    """The real group, two processes over gloo: sums, copies rank 0's tensors, and when
    rank 0's question raises, rank 0 raises and the other rank is told STOP (not left
    waiting in a collective)."""
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", _RANK, str(tmp_path / "rendezvous"), str(rank)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    answers = [json.loads(rank.communicate(timeout=120)[0]) for rank in ranks]
    assert answers == [[3.0, 5.0, GO, "raised"], [3.0, 5.0, GO, STOP]]
