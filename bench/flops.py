"""The machine's matmul peak and the useful FLOPs of a LoRA step on a frozen base.

Useful FLOPs count the work a step must do on non-padding tokens (the 2·M·N·K convention):

    linear  = 4 · N · tokens            N = weights of the decoder's linear layers
                                        (q, k, v, o, gate, up, down; no embedding)
    head    = 4 · V · C · label_tokens  V vocabulary, C hidden size; the head runs only
                                        where a label is
    attn    = 6 · L · H · d · Σ n(n+1)  per example of n tokens: causal QKᵀ and AV
                                        (2 · H · d · n(n+1) per layer forward, twice that back)

Each linear layer costs 2 FLOP per weight per token forward and 2 more backward to its input;
the frozen weights need no gradient of their own (the other 2), and the LoRA matrices are
negligible at rank 8 (under 1% of N).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from sintonia.datasets.format import EncodedExample

PEAK_SIZE = 2048


def matmul_peak(
    dtype: torch.dtype, size: int = PEAK_SIZE, trials: int = 7, repeats: int = 8
) -> float:
    """Best FLOP/s of `repeats` (size x size) @ (size x size) matmuls, over `trials` timings."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.mm(a, b)  # warm-up: thread pool and kernel selection
    best = float("inf")
    for _ in range(trials):
        start = time.perf_counter()
        for _ in range(repeats):
            torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 * repeats / best


@dataclass(frozen=True)
class ModelShape:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int

    @classmethod
    def from_config(cls, config: dict[str, object]) -> ModelShape:
        def get(key: str) -> int:
            return int(config[key])  # type: ignore[call-overload]

        return cls(
            layers=get("num_hidden_layers"),
            hidden=get("hidden_size"),
            heads=get("num_attention_heads"),
            kv_heads=get("num_key_value_heads"),
            head_dim=get("head_dim"),
            intermediate=get("intermediate_size"),
            vocab=get("vocab_size"),
        )

    @property
    def linear_weights(self) -> int:
        """N: weights of every decoder layer's projections, embedding and head excluded."""
        c, d = self.hidden, self.head_dim
        attention = c * (self.heads + 2 * self.kv_heads) * d + self.heads * d * c
        return self.layers * (attention + 3 * c * self.intermediate)


def training_flops(shape: ModelShape, encoded: Sequence[EncodedExample], epochs: int) -> float:
    """Useful FLOPs of LoRA training on a frozen base over `epochs` passes (formula above)."""
    tokens = sum(len(e.ids) for e in encoded)
    labels = sum(e.output_length for e in encoded)
    linear = 4 * shape.linear_weights * tokens
    head = 4 * shape.vocab * shape.hidden * labels
    pairs = sum(len(e.ids) * (len(e.ids) + 1) for e in encoded)
    attention = 6 * shape.layers * shape.heads * shape.head_dim * pairs
    return float(epochs * (linear + head + attention))
