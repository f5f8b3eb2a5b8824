"""End to end on the real bundled models: GGUF conversion, tuning, generation (about 2 min).

The converted weights are cached in .cache/models at the repository root, so only the first
run on a machine pays for the conversion.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sintonia.demo import HELD_OUT, next_number_dataset
from sintonia.inference.adapter_files import adapter_files
from sintonia.inference.engine import Engine
from sintonia.inference.generate import GenerationConfig
from sintonia.inference.targets import resolve_target
from sintonia.models.catalog import get_base_model
from sintonia.models.loading import load_tokenizer, pick_runtime
from sintonia.settings import Settings
from sintonia.storage.db import Database
from sintonia.storage.tuned_models import State, TunedModelStore
from sintonia.training.progress import mean_loss_per_epoch
from sintonia.training.service import TuningRequest, create_tuned_model, run_tuning
from sintonia.training.spec import Hyperparameters

pytestmark = pytest.mark.e2e
MODELS_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "models"
GREEDY = GenerationConfig(temperature=0.0, max_output_tokens=12)


@pytest.fixture
def e2e_store(tmp_path: Path):
    settings = Settings.from_env(
        {"SINTONIA_HOME": str(tmp_path), "SINTONIA_MODELS_DIR": str(MODELS_CACHE)}
    )
    db = Database(settings.database_url)
    yield settings, TunedModelStore(db, settings.artifacts)
    db.close()


def _tune(settings: Settings, store: TunedModelStore, request: TuningRequest):
    model = create_tuned_model(
        store, request, load_tokenizer(request.base_model, settings.models_dir)
    )
    return run_tuning(store, settings, model.id, pick_runtime())


def test_gemma_learns_next_number_and_answers_unseen_inputs(e2e_store) -> None:
    settings, store = e2e_store
    model = _tune(
        settings,
        store,
        TuningRequest(dataset=next_number_dataset(200), tuned_model_id="next-number"),
    )
    assert model.state is State.ACTIVE, model.error_message
    per_epoch = mean_loss_per_epoch(model.snapshots)
    assert list(per_epoch) == [1, 2, 3, 4, 5]
    assert per_epoch[5] < per_epoch[1] / 3, per_epoch

    target = resolve_target(store, model.name)
    runtime = pick_runtime(training=False)
    engine = Engine(target.base, settings.models_dir, runtime, adapter_files(settings))
    prompts = [x for x, _ in HELD_OUT]
    base = engine.generate(prompts, target.prompt_format, GREEDY)
    tuned = engine.generate(prompts, target.prompt_format, GREEDY, target.adapter)
    rows = [
        (x, want, b.text, t.text) for (x, want), b, t in zip(HELD_OUT, base, tuned, strict=True)
    ]
    learned = [r for r in rows if r[3] == r[1] and r[2] != r[1]]
    # 7 of 8 measured; the bar leaves room for one more miss on other hardware.
    assert len(learned) >= 6, rows


def test_smollm2_converts_tunes_and_generates(e2e_store) -> None:
    settings, store = e2e_store
    model = _tune(
        settings,
        store,
        TuningRequest(
            dataset=next_number_dataset(20),
            base_model=get_base_model("models/smollm2-135m-instruct"),
            hyperparameters=Hyperparameters(epoch_count=2),
        ),
    )
    assert model.state is State.ACTIVE, model.error_message
    assert model.completed_steps == 10
    target = resolve_target(store, model.name)
    runtime = pick_runtime(training=False)
    engine = Engine(target.base, settings.models_dir, runtime, adapter_files(settings))
    result = engine.generate(["thirteen"], target.prompt_format, GREEDY, target.adapter)[0]
    assert result.text and result.output_tokens <= 12
