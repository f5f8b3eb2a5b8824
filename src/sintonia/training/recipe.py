"""The tuning recipe: LoRA on a frozen base model, one explicit loop, read top to bottom.

No trainer framework. The pieces it is built from are small and tested on their own:
`plan_steps` (data order), `collate` (padding and label mask), `output_token_loss` (logits
only where labels are). The base model's weights stay frozen (bf16 where the hardware is fast
at it); the LoRA matrices and AdamW's state are fp32.

A run can stop in three ways: done, cancelled (`should_stop`: keep the last whole epoch), or
paused (`should_pause`: write a checkpoint and come back later, see `checkpoint.py`).

The same loop runs data-parallel over a `ProcessGroup` (see `parallel.py`): every rank takes
its share of each step's examples and the ranks add up their gradients, so a step, the step
count and the loss are those of one process; rank 0 alone decides when to stop, and alone
reports and writes (snapshots, adapters, checkpoints).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import PreTrainedModel

from sintonia.datasets.format import EncodedExample
from sintonia.training import checkpoint as checkpoints
from sintonia.training.batches import PAD_MULTIPLE, collate, plan_steps
from sintonia.training.checkpoint import Checkpoint
from sintonia.training.loss import output_token_loss
from sintonia.training.memory import map_large_allocations
from sintonia.training.parallel import GO, PAUSE, SOLO, STOP, ProcessGroup
from sintonia.training.progress import Snapshot
from sintonia.training.spec import Hyperparameters

# The attention and MLP projections of Llama-style blocks (Gemma, SmolLM2, Qwen, Mistral...).
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
MAX_GRAD_NORM = 1.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TuningOutcome:
    completed_steps: int
    epochs_completed: int
    adapter_dir: Path | None
    """The last completed epoch's adapter; None when no epoch completed."""

    cancelled: bool
    paused: bool = False
    """Stopped by `should_pause` with a checkpoint written: the run is to be resumed."""


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often the loop saves its resumable state."""

    path: Path
    every: int
    """Steps between checkpoints (also one at each epoch's end); 0: epoch ends only."""

    fingerprint: dict[str, object]
    resume: Checkpoint | None = None
    """The state to continue from (read by the caller, who also trims its records)."""

    publish: Callable[[Path], None] = lambda _path: None
    """Called with `path` once a checkpoint is written there: copies it to where any worker
    can resume from (the artifact store). An OSError is a checkpoint not written."""

    def due(self, number: int, ends_epoch: bool) -> bool:
        return ends_epoch or (self.every > 0 and number % self.every == 0)


def epoch_adapter_dir(output_dir: Path, epoch: int) -> Path:
    return output_dir / f"epoch-{epoch:04d}"


def _save_adapter(model: PeftModel, target: Path, manifest: dict[str, object]) -> None:
    """PEFT's format (adapter_config.json + adapter_model.safetensors) plus sintonia.json.

    A plain write into the run's own folder: the caller publishes it whole (`on_epoch`), so
    readers never see half of one.
    """
    shutil.rmtree(target, ignore_errors=True)
    model.save_pretrained(target)
    # The resolved configuration travels inside the checkpoint, as nanoGPT does.
    (target / "sintonia.json").write_text(json.dumps(manifest, indent=2, default=str))


def tune(
    base: PreTrainedModel,
    examples: Sequence[EncodedExample],
    hp: Hyperparameters,
    output_dir: Path,
    *,
    pad_id: int,
    manifest: dict[str, object] | None = None,
    on_step: Callable[[Snapshot], None] = lambda _snapshot: None,
    on_epoch: Callable[[int, Path], None] = lambda _epoch, _path: None,
    should_stop: Callable[[], bool] = lambda: False,
    should_pause: Callable[[], bool] = lambda: False,
    checkpointing: Checkpointing | None = None,
    group: ProcessGroup = SOLO,
) -> TuningOutcome:
    """Tune LoRA adapters on `base` and save one adapter per completed epoch.

    Args:
        base: the base model, on its device; LoRA layers are injected into it in place.
        examples: the encoded dataset (see `sintonia.datasets.format`).
        hp: validated hyperparameters.
        output_dir: where `epoch-NNNN/` adapter folders are written.
        pad_id: token id used for padding (never a label).
        manifest: provenance saved beside each adapter (format, dataset hash, versions).
        on_step: called after every step with its snapshot.
        on_epoch: called with (epoch, adapter folder) once an epoch's adapter is saved.
        should_stop: checked before every step; when it returns True the run stops and
            keeps the last completed epoch.
        should_pause: checked before every step; when it returns True the run writes a
            checkpoint and returns, to be resumed later.
        checkpointing: where to save resumable state and the state to resume from; None
            for a run that cannot be resumed.
        group: the data-parallel ranks this process is one of; every rank calls `tune`
            with the same arguments, and only rank 0's callbacks are called.

    Returns:
        What was done, and where the last completed epoch's adapter is.
    """
    device = base.device
    map_large_allocations()  # the step's big buffers go back to the OS when freed
    torch.manual_seed(hp.seed)  # LoRA A matrices are initialised randomly
    lora = LoraConfig(
        r=hp.lora_rank,
        lora_alpha=hp.lora_alpha,
        lora_dropout=0.0,
        # Other architectures (GPT-2's c_attn, say) get every linear layer but the head.
        target_modules=[n for n in LORA_TARGETS if _has_module(base, n)] or "all-linear",
        task_type="CAUSAL_LM",
    )
    # autocast_adapter_dtype keeps the LoRA weights in fp32 over a bf16 base.
    model = get_peft_model(base, lora, autocast_adapter_dtype=True)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=hp.effective_learning_rate, weight_decay=0.0)
    causal_lm = model.get_base_model()

    steps = plan_steps(len(examples), hp.epoch_count, hp.batch_size, hp.seed)
    # The rate decays linearly to zero over the run (as in transformers' Trainer and TRL):
    # late steps refine instead of jumping around the minimum.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1 - i / len(steps))
    lead = group.rank == 0
    if lead:
        output_dir.mkdir(parents=True, exist_ok=True)
    last_adapter: Path | None = None
    epochs_done = completed = saved = 0
    resume = checkpointing.resume if checkpointing else None
    if resume is not None:
        _restore(model, optimizer, schedule, resume)
        saved = completed = resume.step
        epochs_done = resume.epochs_completed
        last_adapter = epoch_adapter_dir(output_dir, epochs_done) if epochs_done else None
    group.copy_from_lead([p.detach() for p in trainable])  # every rank starts from rank 0's

    def save_checkpoint() -> None:
        nonlocal saved
        state = _capture(model, optimizer, schedule, completed, epochs_done, checkpointing)
        try:
            checkpoints.write(checkpointing.path, state)
            checkpointing.publish(checkpointing.path)
            saved = completed
        except OSError as exc:  # e.g. a full disk: keep training, the last one still holds
            log.warning("checkpoint at step %d not written: %s", completed, exc)

    for number, step in enumerate(steps, start=1):
        if number <= completed:  # taken before the checkpoint we resumed from
            continue
        # Rank 0 asks; all ranks act on its answer, so they stop at the same step.
        action = group.lead_decides(
            lambda: STOP if should_stop() else PAUSE if should_pause() else GO
        )
        if action == STOP:
            break
        if action == PAUSE:
            if lead and checkpointing is not None and saved < completed:
                save_checkpoint()
            model.eval()
            return TuningOutcome(completed, epochs_done, last_adapter, False, paused=True)
        # This rank's share: every world-th example of the step (all of them in one process).
        shard = [examples[i] for i in step.indices[group.rank :: group.world]]
        batch = collate(shard, pad_id, PAD_MULTIPLE).to(device) if shard else None
        counts = torch.tensor(
            [batch.label_count, batch.token_count] if batch else [0, 0], device=device
        )
        group.sum(counts)  # (2,) the whole step's output tokens and real tokens
        loss = torch.zeros((), device=device)
        if batch is not None:
            # Summed over this shard's output tokens, divided by the step's: the ranks'
            # losses and gradients add up to the mean over the step's output tokens.
            loss = output_token_loss(causal_lm, batch, over=int(counts[0]))
            loss.backward()
        if group.world > 1:
            loss = _add_up_gradients(trainable, loss, group)
        torch.nn.utils.clip_grad_norm_(trainable, MAX_GRAD_NORM)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        completed = number

        if lead:
            snapshot = Snapshot(number, step.epoch, loss.item(), datetime.now(UTC), int(counts[1]))
            on_step(snapshot)
        for epoch in step.ends_epochs:
            last_adapter = epoch_adapter_dir(output_dir, epoch)
            epochs_done = epoch
            if lead:
                _save_adapter(
                    model,
                    last_adapter,
                    {**(manifest or {}), "epoch": epoch, "step": number, "saved": time.time()},
                )
                on_epoch(epoch, last_adapter)
        if (
            lead
            and checkpointing
            and number < len(steps)
            and checkpointing.due(number, bool(step.ends_epochs))
        ):
            save_checkpoint()

    model.eval()
    return TuningOutcome(completed, epochs_done, last_adapter, cancelled=completed < len(steps))


def _add_up_gradients(
    trainable: list[torch.nn.Parameter], loss: torch.Tensor, group: ProcessGroup
) -> torch.Tensor:
    """Sum the LoRA gradients and the loss over the ranks, in one collective; returns the
    step's loss. A rank with no examples in this step adds zeros."""
    parts = [p.grad if p.grad is not None else torch.zeros_like(p) for p in trainable]
    flat = torch.cat([t.reshape(-1) for t in parts] + [loss.detach().reshape(1)])  # (P+1,)
    group.sum(flat)
    offset = 0
    for parameter in trainable:
        size = parameter.numel()
        parameter.grad = flat[offset : offset + size].view_as(parameter)
        offset += size
    return flat[-1]


def _capture(
    model: PeftModel,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    step: int,
    epochs_completed: int,
    checkpointing: Checkpointing,
) -> Checkpoint:
    weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    return Checkpoint(
        step=step,
        epochs_completed=epochs_completed,
        fingerprint=checkpointing.fingerprint,
        weights=weights,
        optimizer=optimizer.state_dict(),
        schedule=schedule.state_dict(),
        rng=torch.get_rng_state(),
    )


def _restore(
    model: PeftModel,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    state: Checkpoint,
) -> None:
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.requires_grad:
                parameter.copy_(state.weights[name])
    optimizer.load_state_dict(state.optimizer)
    schedule.load_state_dict(state.schedule)
    torch.set_rng_state(state.rng)


def _has_module(model: torch.nn.Module, suffix: str) -> bool:
    return any(name.endswith(f".{suffix}") for name, _ in model.named_modules())
