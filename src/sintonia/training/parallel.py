"""The ranks of a data-parallel run, as the recipe sees them: who I am, and three collectives.

One recipe serves one process and many: each rank takes its share of every step's examples,
the ranks add up their LoRA gradients, and rank 0 (the lead) alone asks whether to stop and
writes anything. `SOLO` is the one-process run; `TorchDistributed` is a `torch.distributed`
process group (gloo on the CPU, NCCL on GPUs), such as the one Ray Train sets up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.distributed as dist

GO, STOP, PAUSE = 0, 1, 2
"""What the lead decides before each step; every rank acts on the same answer."""


class RankFailed(Exception):  # noqa: N818 - named for what happened
    """A rank of a data-parallel run stopped on an error: the runner must stop them all."""


class ProcessGroup(Protocol):
    rank: int
    world: int

    def sum(self, tensor: torch.Tensor) -> None:
        """Replace `tensor`, on every rank, with its sum over the ranks."""

    def copy_from_lead(self, tensors: Sequence[torch.Tensor]) -> None:
        """Overwrite each rank's `tensors` with rank 0's."""

    def lead_decides(self, ask: Callable[[], int]) -> int:
        """Rank 0's `ask()` (GO, STOP or PAUSE), on every rank; only rank 0 calls `ask`.

        When `ask` raises on rank 0, the other ranks get STOP (so none is left waiting in a
        collective) and rank 0 raises.
        """


@dataclass(frozen=True)
class _Solo:
    rank: int = 0
    world: int = 1

    def sum(self, tensor: torch.Tensor) -> None:
        pass

    def copy_from_lead(self, tensors: Sequence[torch.Tensor]) -> None:
        pass

    def lead_decides(self, ask: Callable[[], int]) -> int:
        return ask()


SOLO: ProcessGroup = _Solo()


class TorchDistributed:
    """The default `torch.distributed` process group, already initialised by the caller."""

    def __init__(self, device: torch.device) -> None:
        self.rank = dist.get_rank()
        self.world = dist.get_world_size()
        self.device = device  # NCCL only moves tensors that live on the rank's GPU

    def sum(self, tensor: torch.Tensor) -> None:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)

    def copy_from_lead(self, tensors: Sequence[torch.Tensor]) -> None:
        for tensor in tensors:
            dist.broadcast(tensor, src=0)

    def lead_decides(self, ask: Callable[[], int]) -> int:
        decision = torch.tensor([GO], device=self.device)
        if self.rank != 0:
            dist.broadcast(decision, src=0)
            return int(decision.item())
        try:
            decision.fill_(ask())
        except BaseException:
            decision.fill_(STOP)
            dist.broadcast(decision, src=0)
            raise
        dist.broadcast(decision, src=0)
        return int(decision.item())
