"""Test helpers: a tiny randomly initialised Gemma 3 with a character tokenizer, and a task.

The tiny model is a real local Hugging Face directory of the default base model's
architecture, so the code paths are the real ones and each test takes seconds.
"""

from __future__ import annotations

import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>"]


def build_tiny_model(target: Path, seed: int = 0) -> Path:
    """Save a 2-layer Gemma 3 (about 100k parameters) and a character tokenizer to `target`."""
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, PreTrainedTokenizerFast

    chars = string.ascii_letters + string.digits + string.punctuation + " \n"
    vocab = {token: i for i, token in enumerate(SPECIALS + list(chars))}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        eos_token="<eos>",
        bos_token="<bos>",
        unk_token="<unk>",
    )
    config = Gemma3TextConfig(
        vocab_size=len(vocab),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        max_position_embeddings=512,
        sliding_window=64,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
        layer_types=["sliding_attention", "full_attention"],
    )
    torch.manual_seed(seed)
    model = Gemma3ForCausalLM(config)
    # The head is tied to the embeddings: at the default init (std 0.02) logits stay within
    # about ±1, too flat for any confident prediction. Embeddings at std 0.1 allow one.
    torch.nn.init.normal_(model.model.embed_tokens.weight, std=0.1)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def copy_task(count: int = 24) -> list[tuple[str, str]]:
    """A task the tiny model learns in a few dozen steps: repeat a short word."""
    words = ["cat", "dog", "sun", "map", "red", "box", "pen", "cup", "hat", "jam", "kit", "log"]
    return [(f"say {w}", w) for w in (words * (count // len(words) + 1))[:count]]


def tiny_task(count: int = 24) -> list[tuple[str, str]]:
    """What the tiny random model learns in a few dozen LoRA steps: answer every input "ok"."""
    return [(f"say {w}", "ok") for w, _ in copy_task(count)]


def train_tiny_adapter(model_dir: Path, out_dir: Path, answer: str, epochs: int = 6) -> Path:
    """Tune the tiny model to answer `answer` to anything; returns the adapter folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sintonia.datasets.format import PromptFormat, encode_example
    from sintonia.training.recipe import tune
    from sintonia.training.spec import Hyperparameters

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.requires_grad_(False)
    fmt = PromptFormat.for_tokenizer(tokenizer)
    encoded = [encode_example(fmt, tokenizer, x, answer) for x, _ in copy_task(24)]
    outcome = tune(
        model,
        encoded,
        Hyperparameters(epoch_count=epochs, learning_rate=0.01),
        out_dir,
        pad_id=tokenizer.pad_token_id,
    )
    assert outcome.adapter_dir is not None
    return outcome.adapter_dir


def record_model(store, model_id: str = "m1", **fields: object):
    """Store a tuned model in state CREATING, without training: for tests of what surrounds
    a model (queue, permissions, API bodies)."""
    from sintonia.storage.tuned_models import NewTunedModel
    from sintonia.training.spec import Hyperparameters

    values: dict[str, object] = {
        "id": model_id,
        "base_model": "models/gemma-3-270m",
        "hyperparameters": Hyperparameters(),
        "example_count": 20,
        "total_steps": 25,
    }
    return store.create(NewTunedModel(**(values | fields)))  # type: ignore[arg-type]


def create_tiny_tuned_model(
    store, tiny_model_dir: Path, model_id: str, *, epochs: int = 3, learning_rate: float = 0.01
):
    """Record a tuned model of the tiny base on `tiny_task(24)` (CREATING, its data stored),
    as the API does before a worker takes it; 6 steps an epoch at the default batch size."""
    from sintonia.datasets import dataset_from_records
    from sintonia.models.catalog import local_base_model
    from sintonia.models.loading import load_tokenizer
    from sintonia.training.service import TuningRequest, create_tuned_model
    from sintonia.training.spec import Hyperparameters

    base = local_base_model(tiny_model_dir)
    request = TuningRequest(
        dataset=dataset_from_records(tiny_task(24)),
        base_model=base,
        hyperparameters=Hyperparameters(epoch_count=epochs, learning_rate=learning_rate),
        tuned_model_id=model_id,
    )
    # A local folder's tokenizer is read in place: no models dir is needed.
    return create_tuned_model(store, request, load_tokenizer(base, tiny_model_dir.parent))


def when(
    condition: Callable[[], bool], then: Callable[[], object], timeout: float = 60
) -> threading.Thread:
    """Do `then` once `condition` holds (or `timeout` seconds have passed), from a thread:
    to act on a run in progress, as a user or a signal would. Join the thread it returns."""

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)
        then()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@contextmanager
def just_before(db, statement: str, then: Callable[[], object]) -> Iterator[None]:
    """Do `then` once, right before `db` next sends a statement starting with `statement`
    (e.g. "UPDATE jobs"): to land another process's write in the gap a race would need.
    A write in `then` goes through another engine (another process's connection), not `db`."""
    from sqlalchemy import event

    done = threading.Event()

    def before(_conn, _cursor, sql: str, *_args: object) -> None:
        if not done.is_set() and sql.lstrip().upper().startswith(statement.upper()):
            done.set()
            then()

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert done.is_set(), f"no statement starting with {statement!r} was sent"
