"""Generation with the tiny model: adapters swapped per request, stops, batching."""

from __future__ import annotations

from pathlib import Path

import pytest

from sintonia.datasets.format import PromptFormat
from sintonia.errors import ModelLoadError
from sintonia.inference.adapter_files import Adapter, AdapterFiles
from sintonia.inference.engine import Engine
from sintonia.inference.generate import GenerationConfig
from sintonia.models.catalog import local_base_model
from sintonia.models.loading import pick_runtime
from sintonia.storage.artifacts import open_artifacts
from support import train_tiny_adapter

GREEDY = GenerationConfig(temperature=0.0, max_output_tokens=8)


@pytest.fixture(scope="module")
def store_root(tiny_model_dir: Path, tmp_path_factory) -> Path:
    """A local artifact store with an adapter per answer, under "ok/" and "no/"."""
    root = tmp_path_factory.mktemp("adapters")
    for answer in ("ok", "no"):
        train_tiny_adapter(tiny_model_dir, root / answer, answer)
    return root


@pytest.fixture(scope="module")
def adapters(store_root: Path) -> dict[str, Adapter]:
    keys = {p.parent.name: p.relative_to(store_root).as_posix() for p in store_root.glob("*/*")}
    return {answer: Adapter(f"says-{answer}", keys[answer], "r1") for answer in ("ok", "no")}


@pytest.fixture
def engine(tiny_model_dir: Path, tmp_path: Path, store_root: Path) -> Engine:
    files = AdapterFiles(open_artifacts(store_root), tmp_path / "cache")
    runtime = pick_runtime("cpu", training=False)
    return Engine(local_base_model(tiny_model_dir), tmp_path, runtime, files, capacity=1)


@pytest.fixture
def fmt(engine: Engine) -> PromptFormat:
    return PromptFormat.for_tokenizer(engine.tokenizer)


def test_each_tuned_model_answers_with_its_own_adapter(engine, fmt, adapters) -> None:
    ok = engine.generate(["say map", "say zip"], fmt, GREEDY, adapters["ok"])
    assert [(g.text, g.finish_reason) for g in ok] == [("ok", "STOP"), ("ok", "STOP")]
    no = engine.generate(["say map"], fmt, GREEDY, adapters["no"])
    assert no[0].text == "no"
    base = engine.generate(["say map"], fmt, GREEDY)
    assert base[0].text not in ("ok", "no")


def test_the_cache_loads_the_new_adapter_before_evicting_the_old(engine, fmt, adapters) -> None:
    engine.generate(["say a"], fmt, GREEDY, adapters["ok"])
    assert engine.loaded_adapters == (adapters["ok"].key,)
    broken = Adapter("broken", "missing", "r1")
    with pytest.raises(ModelLoadError):
        engine.generate(["say a"], fmt, GREEDY, broken)
    assert engine.loaded_adapters == (adapters["ok"].key,)  # still usable
    engine.generate(["say a"], fmt, GREEDY, adapters["no"])
    assert engine.loaded_adapters == (adapters["no"].key,)  # capacity 1: "ok" evicted
    assert engine.generate(["say a"], fmt, GREEDY, adapters["ok"])[0].text == "ok"


def test_stop_sequences_and_the_output_limit(engine, fmt, adapters) -> None:
    stopped = engine.generate(
        ["say a"],
        fmt,
        GenerationConfig(temperature=0.0, max_output_tokens=8, stop_sequences=("k",)),
        adapters["ok"],
    )[0]
    assert (stopped.text, stopped.finish_reason) == ("o", "STOP")
    capped = engine.generate(
        ["say a"], fmt, GenerationConfig(temperature=0.0, max_output_tokens=1), adapters["ok"]
    )[0]
    assert (capped.text, capped.finish_reason, capped.output_tokens) == ("o", "MAX_TOKENS", 1)


def test_a_batch_gives_what_each_prompt_gives_alone(engine, fmt, adapters) -> None:
    prompts = ["say a", "say a much longer input", "x"]
    batched = engine.generate(prompts, fmt, GREEDY)
    alone = [engine.generate([p], fmt, GREEDY)[0] for p in prompts]
    assert [g.text for g in batched] == [g.text for g in alone]
    assert [g.prompt_tokens for g in batched] == [len(p) + 1 for p in prompts]


def test_sampling_is_reproducible_with_a_seed(engine, fmt) -> None:
    config = GenerationConfig(temperature=1.0, top_p=0.9, top_k=20, max_output_tokens=6, seed=7)
    first = engine.generate(["say a"], fmt, config)[0].text
    assert engine.generate(["say a"], fmt, config)[0].text == first


def test_streaming_yields_pieces_then_the_whole_generation(engine, fmt, adapters) -> None:
    events = list(engine.stream("say a", fmt, GREEDY, adapters["ok"]))
    *pieces, final = events
    assert "".join(pieces) == final.text == "ok" and final.finish_reason == "STOP"


def test_streaming_never_leaks_a_stop_sequence(engine, fmt, adapters) -> None:
    config = GenerationConfig(temperature=0.0, max_output_tokens=8, stop_sequences=("k",))
    *pieces, final = list(engine.stream("say a", fmt, config, adapters["ok"]))
    assert "".join(pieces) == final.text == "o"


def test_a_closed_stream_frees_the_engine(engine, fmt) -> None:
    events = engine.stream("say a", fmt, GenerationConfig(temperature=0.0, max_output_tokens=64))
    next(events)
    events.close()  # a client that hung up
    assert engine.generate(["say a"], fmt, GREEDY)  # the lock was released


def test_a_missing_adapter_fails_the_stream_call_itself(engine, fmt) -> None:
    """Before any piece: the server answers it with an error status, not a cut stream."""
    with pytest.raises(ModelLoadError, match="The adapter of tunedModels/gone is missing at"):
        engine.stream("say a", fmt, GREEDY, Adapter("gone", "gone/epoch-0001", "r1"))
