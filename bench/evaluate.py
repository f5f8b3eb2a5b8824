"""Held-out exact match of tuned adapters, in a process of its own.

The same code scores every trainer's adapter, so the comparison is of training quality alone:
the base model in fp32 (`Runtime(cpu, float32)`, what Sintonia serves with on a CPU), the
adapter loaded with `PeftModel.from_pretrained`, Sintonia's batched greedy `generate`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from peft import PeftModel

from bench.data import extraction_task
from bench.workload import MODELS_DIR, base_model
from sintonia.datasets.format import PromptFormat
from sintonia.inference.generate import GenerationConfig, generate
from sintonia.models.loading import Runtime, load_model

GENERATION_BATCH = 20
GREEDY = GenerationConfig(temperature=0.0, max_output_tokens=16)


def exact_match(adapter_dir: Path, held_out: list[tuple[str, str]]) -> dict[str, object]:
    """Score one adapter: the share of held-out answers that equal the expected output."""
    network, tokenizer = load_model(
        base_model(), MODELS_DIR, Runtime(torch.device("cpu"), torch.float32)
    )
    tuned = PeftModel.from_pretrained(network, adapter_dir).eval()
    fmt = PromptFormat.for_tokenizer(tokenizer)
    start = time.perf_counter()
    answers: list[str] = []
    for i in range(0, len(held_out), GENERATION_BATCH):
        prompts = [text for text, _ in held_out[i : i + GENERATION_BATCH]]
        answers += [g.text for g in generate(tuned, tokenizer, fmt, prompts, GREEDY)]
    wrong = [
        {"input": text, "expected": expected, "got": got}
        for (text, expected), got in zip(held_out, answers, strict=True)
        if got.strip() != expected
    ]
    return {
        "exact_match": 1 - len(wrong) / len(held_out),
        "eval_s": time.perf_counter() - start,
        "wrong": wrong,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--examples", type=int, required=True)
    parser.add_argument("--held-out", type=int, required=True)
    parser.add_argument("--train-seed", type=int, help="part of the workload; not needed here")
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("adapters", type=Path, nargs="+")
    args = parser.parse_args()
    _, held_out = extraction_task(args.seed, args.examples, args.held_out)
    scores = {str(a): exact_match(a, held_out) for a in args.adapters}
    args.result.write_text(json.dumps(scores))


if __name__ == "__main__":
    main()
