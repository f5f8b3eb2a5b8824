"""Train with TRL's SFTTrainer, in a process of its own, on the very same token ids.

Pre-tokenized rows (`input_ids` + `completion_mask`) with `completion_only_loss=True` make
SFTTrainer train on exactly Sintonia's prompt format with the loss on the output tokens only.
Everything not named here stays at TRL's default, as a user gets it: the model loaded from the
folder in fp32 (SFTTrainer's default dtype), gradient checkpointing on, fused AdamW, linear
decay, no warmup, weight decay 0, gradient clipping at 1.0.

TRL's `bf16` defaults to True, which refuses to start on a machine without a GPU ("You need to
assign use_cpu if you want to train the model on CPU"). The default row therefore sets
`bf16=False` (fp32, what the error leaves a CPU user with); `--bf16` sets `use_cpu=True` and
keeps `bf16=True`, which trains the fp32 weights under bf16 autocast.
"""

from __future__ import annotations

import time

from peft import LoraConfig
from transformers import AutoTokenizer, TrainerCallback
from trl import SFTConfig, SFTTrainer

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
from datasets import Dataset
from sintonia.models.loading import model_directory
from sintonia.training.recipe import LORA_TARGETS


class StepClock(TrainerCallback):
    """Records when each optimizer step ends."""

    def __init__(self) -> None:
        self.step_ends: list[float] = []

    def on_step_end(self, *_args: object, **_kwargs: object) -> None:
        self.step_ends.append(time.perf_counter())


def main() -> None:
    parser = child_parser(__doc__ or "")
    parser.add_argument("--bf16", action="store_true", help="use_cpu=True with bf16 autocast")
    args = parser.parse_args()
    workload = workload_from(args)
    folder = model_directory(base_model(), MODELS_DIR)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    encoded = encode_training_set(workload, tokenizer)
    rows = Dataset.from_dict(
        {
            "input_ids": [list(e.ids) for e in encoded],
            "completion_mask": [[0] * e.prompt_length + [1] * e.output_length for e in encoded],
        }
    )
    precision = {"use_cpu": True} if args.bf16 else {"bf16": False}
    config = SFTConfig(
        output_dir=str(args.adapter_dir / "trainer"),
        num_train_epochs=EPOCHS,
        per_device_train_batch_size=BATCH_SIZE,
        learning_rate=LEARNING_RATE,
        lr_scheduler_type="linear",
        warmup_steps=0,
        weight_decay=0.0,
        seed=workload.train_seed,
        completion_only_loss=True,
        logging_steps=1,  # every step's loss, for the final-loss figure
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        **precision,
    )
    lora = LoraConfig(
        r=LORA_RANK,
        lora_alpha=LORA_ALPHA,
        lora_dropout=0.0,
        target_modules=list(LORA_TARGETS),
        task_type="CAUSAL_LM",
    )
    clock = StepClock()
    # The model as a path: SFTTrainer loads it itself, in its default dtype.
    trainer = SFTTrainer(
        model=str(folder),
        args=config,
        train_dataset=rows,
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[clock],
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    trainer.train()
    train_s = time.perf_counter() - start
    train_cpu_s = time.process_time() - cpu_start
    adapter = args.adapter_dir / "adapter"
    trainer.model.save_pretrained(adapter)
    losses = [float(entry["loss"]) for entry in trainer.state.log_history if "loss" in entry]
    tokens, label_tokens = counted_tokens(encoded)
    result = TrainResult(
        trainer="trl-bf16" if args.bf16 else "trl",
        train_s=train_s,
        train_cpu_s=train_cpu_s,
        tokens=tokens,
        label_tokens=label_tokens,
        losses=losses,
        step_s=step_durations(start, clock.step_ends),
        adapter_dir=str(adapter),
    )
    write_result(result, args.result)


if __name__ == "__main__":
    main()
