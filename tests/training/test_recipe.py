"""The tuning loop on a tiny Gemma 3: loss falls, adapters are PEFT checkpoints, stop works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from sintonia.datasets.format import PromptFormat, encode_example
from sintonia.training.batches import collate
from sintonia.training.loss import output_token_loss
from sintonia.training.recipe import epoch_adapter_dir, tune
from sintonia.training.spec import Hyperparameters
from support import tiny_task


@pytest.fixture
def tiny(tiny_model_dir: Path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    model.requires_grad_(False)
    fmt = PromptFormat.for_tokenizer(tokenizer)
    encoded = [encode_example(fmt, tokenizer, x, y) for x, y in tiny_task(24)]
    return model, tokenizer, encoded


def test_output_token_loss_matches_full_logits_loss(tiny) -> None:
    model, tokenizer, encoded = tiny
    batch = collate(encoded[:4], tokenizer.pad_token_id)
    labels = batch.input_ids.masked_fill(~batch.label_mask, -100)
    reference = model(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, labels=labels
    ).loss
    assert output_token_loss(model, batch).item() == pytest.approx(reference.item(), rel=1e-5)


def test_loss_falls_and_each_epoch_saves_a_peft_adapter(tiny, tmp_path: Path) -> None:
    model, tokenizer, encoded = tiny
    hp = Hyperparameters(epoch_count=8, batch_size=4, learning_rate=0.01, seed=1)
    snapshots = []
    epochs_saved = []
    outcome = tune(
        model,
        encoded,
        hp,
        tmp_path,
        pad_id=tokenizer.pad_token_id,
        manifest={"dataset_sha256": "x"},
        on_step=snapshots.append,
        on_epoch=lambda epoch, path: epochs_saved.append((epoch, path)),
    )

    assert [s.step for s in snapshots] == list(range(1, hp.total_steps(24) + 1))
    first, last = snapshots[0].mean_loss, snapshots[-1].mean_loss
    assert last < first / 3, (first, last)
    assert outcome.epochs_completed == 8 and not outcome.cancelled
    assert [e for e, _ in epochs_saved] == list(range(1, 9))
    adapter = epoch_adapter_dir(tmp_path, 8)
    assert outcome.adapter_dir == adapter
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["lora_alpha"] == 16
    assert set(config["target_modules"]) == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }
    weights = load_file(adapter / "adapter_model.safetensors")
    assert weights and all(t.dtype == torch.float32 for t in weights.values())
    manifest = json.loads((adapter / "sintonia.json").read_text())
    assert manifest["epoch"] == 8 and manifest["dataset_sha256"] == "x"


def test_should_stop_keeps_the_last_completed_epoch(tiny, tmp_path: Path) -> None:
    model, tokenizer, encoded = tiny
    hp = Hyperparameters(epoch_count=3, batch_size=4, learning_rate=0.01)
    steps_seen = []
    # 24 examples / 4 = 6 steps per epoch: stop before step 9, in the middle of epoch 2.
    outcome = tune(
        model,
        encoded,
        hp,
        tmp_path,
        pad_id=tokenizer.pad_token_id,
        on_step=lambda s: steps_seen.append(s.step),
        should_stop=lambda: len(steps_seen) >= 8,
    )
    assert outcome.cancelled and outcome.completed_steps == 8
    assert outcome.epochs_completed == 1
    assert outcome.adapter_dir == epoch_adapter_dir(tmp_path, 1)
    assert not epoch_adapter_dir(tmp_path, 2).exists()


def test_same_seed_gives_the_same_losses(tiny_model_dir: Path, tmp_path: Path) -> None:
    def run(folder: Path) -> list[float]:
        tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
        model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
        model.requires_grad_(False)
        fmt = PromptFormat.for_tokenizer(tokenizer)
        encoded = [encode_example(fmt, tokenizer, x, y) for x, y in tiny_task(20)]
        losses: list[float] = []
        tune(
            model,
            encoded,
            Hyperparameters(epoch_count=1, seed=3),
            folder,
            pad_id=tokenizer.pad_token_id,
            on_step=lambda s: losses.append(s.mean_loss),
        )
        return losses

    assert run(tmp_path / "a") == run(tmp_path / "b")
