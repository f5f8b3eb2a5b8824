"""Loading base models: the runtime choice, local directories, and a frozen tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sintonia.errors import ModelLoadError
from sintonia.models.catalog import local_base_model
from sintonia.models.loading import (
    Runtime,
    cpu_has_bf16,
    load_model,
    load_tokenizer,
    model_directory,
    pick_runtime,
)


def test_pick_runtime_cpu() -> None:
    runtime = pick_runtime("cpu")
    assert runtime.device == torch.device("cpu")
    assert runtime.dtype == (torch.bfloat16 if cpu_has_bf16() else torch.float32)


@pytest.mark.parametrize(("has_bf16", "dtype"), [(True, torch.bfloat16), (False, torch.float32)])
def test_pick_runtime_cpu_precision_follows_the_cpu(
    monkeypatch: pytest.MonkeyPatch, has_bf16: bool, dtype: torch.dtype
) -> None:
    monkeypatch.setattr("sintonia.models.loading.cpu_has_bf16", lambda: has_bf16)
    assert pick_runtime("cpu") == Runtime(torch.device("cpu"), dtype)


def test_pick_runtime_auto_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_runtime("auto").device == torch.device("cpu")


def test_model_directory_of_a_local_model_is_its_path(tiny_model_dir: Path, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    assert model_directory(local_base_model(tiny_model_dir), models_dir) == tiny_model_dir.resolve()
    assert not models_dir.exists()  # nothing converted, nothing cached


def test_load_model_is_frozen_and_in_eval_mode(tiny_model_dir: Path, tmp_path: Path) -> None:
    runtime = Runtime(torch.device("cpu"), torch.float32)
    network, tokenizer = load_model(local_base_model(tiny_model_dir), tmp_path, runtime)
    assert not network.training
    assert not any(p.requires_grad for p in network.parameters())
    assert all(p.dtype == torch.float32 for p in network.parameters())
    assert network.device.type == "cpu"
    assert network.config.num_hidden_layers == 2
    assert tokenizer.eos_token == "<eos>"
    assert tokenizer.pad_token_id == 0
    assert tokenizer.encode("ab", add_special_tokens=False) == tokenizer.convert_tokens_to_ids(
        ["a", "b"]
    )


def test_load_model_in_bf16(tiny_model_dir: Path, tmp_path: Path) -> None:
    runtime = Runtime(torch.device("cpu"), torch.bfloat16)
    network, _ = load_model(local_base_model(tiny_model_dir), tmp_path, runtime)
    assert {p.dtype for p in network.parameters()} == {torch.bfloat16}


def test_load_tokenizer(tiny_model_dir: Path, tmp_path: Path) -> None:
    tokenizer = load_tokenizer(local_base_model(tiny_model_dir), tmp_path)
    assert tokenizer.decode(tokenizer.encode("say cat", add_special_tokens=False)) == "say cat"


def test_load_model_without_weights_is_a_load_error(tmp_path: Path, tiny_model_dir: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        if (tiny_model_dir / name).exists():
            (broken / name).write_bytes((tiny_model_dir / name).read_bytes())
    runtime = Runtime(torch.device("cpu"), torch.float32)
    with pytest.raises(ModelLoadError, match="Could not load models/broken from"):
        load_model(local_base_model(broken), tmp_path / "models", runtime)
