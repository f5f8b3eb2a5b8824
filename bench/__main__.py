"""`python -m bench`: TRL's SFTTrainer and Sintonia's recipe, side by side, with ratios.

Each training runs in a fresh process (its peak RSS read with `os.wait4`, so one child per
figure); the runs alternate between trainers so that load from elsewhere on the machine falls
on both; each run's adapters are then scored on the held-out set by one evaluation process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from bench.flops import ModelShape, matmul_peak, training_flops
from bench.workload import EPOCHS, MODELS_DIR, TrainResult, Workload, base_model, read_result
from sintonia.models.loading import model_directory

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
TRAINERS = {
    "trl": ["bench.run_trl"],
    "trl-bf16": ["bench.run_trl", "--bf16"],
    "sintonia": ["bench.run_sintonia"],
}
BASELINE = "trl"
PACKAGES = ("torch", "transformers", "peft", "trl", "accelerate", "datasets")

# Wide enough for the table when the output goes to a file or a pipe.
console = Console(width=None if sys.stdout.isatty() else 120)


def _child(module: list[str], args: list[str], log: Path) -> float:
    """Run `python -m module args` to completion; return its peak RSS in MB.

    `os.wait4` returns the rusage of that one child (RUSAGE_CHILDREN would be the largest of
    every child so far).
    """
    env = os.environ | {"TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *module, *args], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise SystemExit(f"{' '.join(module)} failed ({proc.returncode}); log {log}:\n{tail}")
    return usage.ru_maxrss / 1024  # Linux reports KiB


def _train(name: str, workload: Workload, scratch: Path, run: int) -> dict[str, object]:
    folder = scratch / f"{name}-{run}"
    result_file = folder / "result.json"
    folder.mkdir()
    args = [*workload.to_args(), f"--adapter-dir={folder}", f"--result={result_file}"]
    rss_mb = _child(TRAINERS[name], args, folder / "log.txt")
    result = read_result(result_file)
    console.print(
        f"  run {run} {name:9} {result.train_s:6.1f} s ({result.train_cpu_s:5.1f} CPU s)  "
        f"{result.tokens / result.train_s:6.1f} tok/s  {rss_mb:6.0f} MB  "
        f"loss {result.final_loss:.4f}"
    )
    return {"result": result, "peak_rss_mb": rss_mb}


def _evaluate(
    runs: dict[str, dict[str, object]], workload: Workload, scratch: Path, run: int
) -> None:
    adapters = {name: str(r["result"].adapter_dir) for name, r in runs.items()}  # type: ignore[attr-defined]
    result_file = scratch / f"eval-{run}.json"
    args = [*workload.to_args(), f"--result={result_file}", *adapters.values()]
    _child(["bench.evaluate"], args, scratch / f"eval-{run}.log")
    scores = json.loads(result_file.read_text())
    for name, adapter in adapters.items():
        runs[name]["held_out"] = scores[adapter]
        console.print(
            f"  run {run} {name:9} held-out exact match {scores[adapter]['exact_match']:.3f}"
        )


def _median(rows: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)  # type: ignore[arg-type]


def _summarise(rows: list[dict[str, object]], flops: float) -> dict[str, float]:
    return {
        "train_s": _median(rows, "train_s"),
        "train_cpu_s": _median(rows, "train_cpu_s"),
        "tokens_per_s": _median(rows, "tokens_per_s"),
        "peak_rss_mb": _median(rows, "peak_rss_mb"),
        "final_loss": _median(rows, "final_loss"),
        "exact_match": _median(rows, "exact_match"),
        "flop_per_s": flops / _median(rows, "train_s"),
    }


def _flat(run: dict[str, object]) -> dict[str, object]:
    result: TrainResult = run["result"]  # type: ignore[assignment]
    fields = {k: v for k, v in asdict(result).items() if k != "adapter_dir"}  # a temp folder
    return {
        **fields,
        "final_loss": result.final_loss,
        "tokens_per_s": result.tokens / result.train_s,
        "peak_rss_mb": run["peak_rss_mb"],
        "exact_match": run["held_out"]["exact_match"],  # type: ignore[index]
        "held_out_wrong": run["held_out"]["wrong"],  # type: ignore[index]
    }


def _machine() -> dict[str, object]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in PACKAGES},
    }


def _print_table(medians: dict[str, dict[str, float]], runs: int) -> None:
    table = Table(title=f"Gemma 3 270M, LoRA r=8, 1 epoch, batch 4 — medians of {runs} runs")
    columns = (
        "trainer",
        "train s",
        "CPU s",
        "tokens/s",
        "peak RSS MB",
        "final loss",
        "held-out EM",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "trainer" else "right")
    for name, m in medians.items():
        table.add_row(
            name,
            f"{m['train_s']:.1f}",
            f"{m['train_cpu_s']:.1f}",
            f"{m['tokens_per_s']:.1f}",
            f"{m['peak_rss_mb']:.0f}",
            f"{m['final_loss']:.4f}",
            f"{m['exact_match']:.3f}",
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="trainings per trainer (medians)")
    parser.add_argument("--examples", type=int, default=100, help="training examples")
    parser.add_argument("--held-out", type=int, default=40, help="held-out examples")
    parser.add_argument("--seed", type=int, default=0, help="seeds the data and the trainers")
    parser.add_argument(
        "--vary-seed",
        action="store_true",
        help="train run i with seed+i-1 (both trainers alike; the data stay the same)",
    )
    parser.add_argument("--trl-bf16", action="store_true", help="add TRL with bf16 autocast")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args()
    workloads = [
        Workload(args.seed, args.examples, args.held_out, args.seed + (i if args.vary_seed else 0))
        for i in range(args.runs)
    ]
    names = ["trl", *(["trl-bf16"] if args.trl_bf16 else []), "sintonia"]

    # Convert the bundled GGUF here, once: inside the first child it would count as training
    # memory (a fresh clone measured TRL at 3.4 GB instead of 2.3 GB that way).
    console.print("preparing the base model (converted once, about a minute the first time)")
    folder = model_directory(base_model(), MODELS_DIR)

    console.print("measuring the matmul peak (2048³, best of 7)")
    peaks = {"bf16": matmul_peak(torch.bfloat16), "fp32": matmul_peak(torch.float32)}
    console.print(
        f"  bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s, fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s"
    )

    per_trainer: dict[str, list[dict[str, object]]] = {n: [] for n in names}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sintonia-bench-") as tmp:
        scratch = Path(tmp)
        for run, workload in enumerate(workloads, start=1):
            # Alternate the order, so neither trainer always runs first (or on a warmer cache).
            order = names if run % 2 else names[::-1]
            runs = {name: _train(name, workload, scratch, run) for name in order}
            _evaluate(runs, workload, scratch, run)
            for name, r in runs.items():
                per_trainer[name].append(_flat(r))

    # The FLOPs of the work both trainers did, from the same token ids.
    from transformers import AutoTokenizer  # late: only the count needs it

    from bench.workload import encode_training_set

    shape = ModelShape.from_config(json.loads((folder / "config.json").read_text()))
    encoded = encode_training_set(workloads[0], AutoTokenizer.from_pretrained(folder))
    flops = training_flops(shape, encoded, EPOCHS)

    medians = {n: _summarise(rows, flops) for n, rows in per_trainer.items()}
    ours, base = medians["sintonia"], medians[BASELINE]
    ratios = {
        "tokens_per_s": ours["tokens_per_s"] / base["tokens_per_s"],
        "peak_rss": ours["peak_rss_mb"] / base["peak_rss_mb"],
        "exact_match_difference": ours["exact_match"] - base["exact_match"],
    }
    mfu = ours["flop_per_s"] / peaks["bf16"]

    _print_table(medians, args.runs)
    console.print(
        f"Sintonia vs TRL ({BASELINE}): tokens/s x{ratios['tokens_per_s']:.2f} (target >= 3), "
        f"peak RSS x{ratios['peak_rss']:.2f} (target <= 0.6), "
        f"held-out EM {ratios['exact_match_difference']:+.3f} (target >= 0)"
    )
    console.print(
        f"Sintonia MFU: {ours['flop_per_s'] / 1e9:.1f} GFLOP/s achieved "
        f"({flops / 1e12:.2f} TFLOP useful) / {peaks['bf16'] / 1e9:.0f} GFLOP/s bf16 matmul "
        f"peak = {mfu:.1%}"
    )

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "workload": {
            "seed": args.seed,
            "train_seeds": [w.train_seed for w in workloads],
            "train_examples": args.examples,
            "held_out_examples": args.held_out,
            "base_model": base_model().name,
            "tokens_per_epoch": sum(len(e.ids) for e in encoded),
            "label_tokens_per_epoch": sum(e.output_length for e in encoded),
        },
        "matmul_peak_flop_per_s": peaks,
        "training_flops": flops,
        "linear_weights": shape.linear_weights,
        "medians": medians,
        "ratios_vs_" + BASELINE: ratios,
        "sintonia_mfu": mfu,
        "runs": per_trainer,
        "bench_wall_s": time.perf_counter() - started,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"written {args.output}")


if __name__ == "__main__":
    main()
