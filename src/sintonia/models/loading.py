"""Load base models: bundled GGUF files are converted once to bf16 safetensors and cached.

Dequantising the bundled Gemma GGUF takes ~40 s; reloading the cached safetensors takes about
a second, so conversion happens once per data directory, under a file lock so that a server
and a worker starting together don't convert twice.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers import PreTrainedTokenizerBase as Tokenizer

from sintonia.errors import ModelLoadError
from sintonia.models.catalog import BaseModel, BundledGguf, LocalDirectory
from sintonia.storage.files import locked

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """Where and in which precision a model runs."""

    device: torch.device
    dtype: torch.dtype


@functools.cache
def cpu_has_bf16() -> bool:
    """AVX-512 BF16 or AMX: bf16 matmuls then run ~4x faster than fp32 on the CPU."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def pick_runtime(device: str = "auto", *, training: bool = True) -> Runtime:
    """CUDA when present (bf16 where supported), else the CPU.

    On the CPU, bf16 pays for training (large matmuls, ~2x faster end to end with AVX-512
    BF16) but not for generation: decoding a batch of 8 prompts measured 3.7x slower in bf16
    than in fp32 here, so generation on the CPU stays fp32.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        fast_bf16 = torch.cuda.is_bf16_supported()
    else:
        fast_bf16 = training and cpu_has_bf16()
    return Runtime(dev, torch.bfloat16 if fast_bf16 else torch.float32)


def _convert_gguf(source: BundledGguf, target: Path) -> None:
    """Dequantise a GGUF file and save it as bf16 safetensors plus tokenizer in `target`."""
    # Write next to the target, then rename: a crash mid-conversion leaves no half folder.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as scratch:
        gguf_path = source.locate(Path(scratch))
        if not gguf_path.is_file():
            raise ModelLoadError(f"{source.package} is installed but {gguf_path} is missing.")
        log.info("converting %s to safetensors (once; about a minute)", gguf_path.name)
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.bfloat16
        )
        # The weights are plain tensors once dequantised; the GGUF marker alone blocks saving.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        out = Path(scratch) / "model"
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        out.rename(target)


def model_directory(model: BaseModel, models_dir: Path) -> Path:
    """The Hugging Face directory holding `model`, converting a bundled GGUF on first use.

    Raises:
        ModelLoadError: the bundled file is missing or conversion failed.
    """
    if isinstance(model.source, LocalDirectory):
        return model.source.path
    target = models_dir / model.short_id
    if (target / "config.json").is_file():
        return target
    with locked(models_dir / f".{model.short_id}.lock"):
        if not (target / "config.json").is_file():  # another process may have finished first
            try:
                _convert_gguf(model.source, target)
            except ModelLoadError:
                raise
            except Exception as exc:
                raise ModelLoadError(f"Could not convert {model.name}: {exc}") from exc
    return target


def load_tokenizer(model: BaseModel, models_dir: Path) -> Tokenizer:
    return AutoTokenizer.from_pretrained(model_directory(model, models_dir))


def load_network(model: BaseModel, models_dir: Path, runtime: Runtime) -> PreTrainedModel:
    """Load a base model's weights, in eval mode and frozen (no tokenizer).

    Raises:
        ModelLoadError: the weights could not be loaded.
    """
    directory = model_directory(model, models_dir)
    try:
        network = AutoModelForCausalLM.from_pretrained(directory, dtype=runtime.dtype)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Could not load {model.name} from {directory}: {exc}") from exc
    network.to(runtime.device).eval()
    network.requires_grad_(False)
    return network


def load_model(
    model: BaseModel, models_dir: Path, runtime: Runtime
) -> tuple[PreTrainedModel, Tokenizer]:
    """Load a base model and its tokenizer (see `load_network`).

    Raises:
        ModelLoadError: the weights or the tokenizer could not be loaded.
    """
    network = load_network(model, models_dir, runtime)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_directory(model, models_dir))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Could not load the tokenizer of {model.name}: {exc}") from exc
    return network, tokenizer
