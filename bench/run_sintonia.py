"""Train with Sintonia's recipe (`sintonia.training.recipe.tune`), in a process of its own.

The base model is loaded as the service loads it: `pick_runtime()` gives bf16 on a CPU with
AVX-512 BF16 or AMX, fp32 otherwise.
"""

from __future__ import annotations

import time

from bench.workload import (
    BATCH_SIZE,
    EPOCHS,
    LEARNING_RATE,
    LORA_ALPHA,
    LORA_RANK,
    MODELS_DIR,
    TrainResult,
    base_model,
    child_parser,
    counted_tokens,
    encode_training_set,
    step_durations,
    workload_from,
    write_result,
)
from sintonia.models.loading import load_network, load_tokenizer, pick_runtime
from sintonia.training.memory import release_freed_memory
from sintonia.training.progress import Snapshot
from sintonia.training.recipe import tune
from sintonia.training.spec import Hyperparameters


def main() -> None:
    args = child_parser(__doc__ or "").parse_args()
    workload = workload_from(args)
    # As the service does: tokenize, let the tokenizer go, then load the weights.
    tokenizer = load_tokenizer(base_model(), MODELS_DIR)
    encoded = encode_training_set(workload, tokenizer)
    pad_id = tokenizer.pad_token_id
    pad_id = pad_id if pad_id is not None else tokenizer.eos_token_id
    del tokenizer
    release_freed_memory()
    network = load_network(base_model(), MODELS_DIR, pick_runtime())
    hp = Hyperparameters(
        epoch_count=EPOCHS,
        batch_size=BATCH_SIZE,
        learning_rate=LEARNING_RATE,
        seed=workload.train_seed,
        lora_rank=LORA_RANK,
        lora_alpha=LORA_ALPHA,
    )
    losses: list[float] = []
    step_ends: list[float] = []

    def record(snapshot: Snapshot) -> None:
        step_ends.append(time.perf_counter())
        losses.append(snapshot.mean_loss)

    start, cpu_start = time.perf_counter(), time.process_time()
    outcome = tune(
        network,
        encoded,
        hp,
        args.adapter_dir,
        pad_id=pad_id,
        on_step=record,
    )
    train_s = time.perf_counter() - start
    train_cpu_s = time.process_time() - cpu_start
    if outcome.adapter_dir is None:
        raise RuntimeError("the recipe finished without saving an adapter")
    tokens, label_tokens = counted_tokens(encoded)
    result = TrainResult(
        trainer="sintonia",
        train_s=train_s,
        train_cpu_s=train_cpu_s,
        tokens=tokens,
        label_tokens=label_tokens,
        losses=losses,
        step_s=step_durations(start, step_ends),
        adapter_dir=str(outcome.adapter_dir),
    )
    write_result(result, args.result)


if __name__ == "__main__":
    main()
