"""The real google-generativeai 0.8.6 (REST transport) against a live server: spec §5.

The SDK keeps its configuration in module globals, so every test configures it through the
`use_key` fixture, and every tuned model gets a fresh id: the server is shared by the session.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import google.generativeai as genai
import pytest
from google.api_core import exceptions

from live import TINY, examples

ACTIVE = genai.protos.TunedModel.State.ACTIVE
CREATING = genai.protos.TunedModel.State.CREATING
FAILED = genai.protos.TunedModel.State.FAILED
TUNING_TIMEOUT = 300  # seconds; 24 steps take ~1 s alone, but over a minute on a busy machine


@pytest.fixture
def use_key(server) -> Callable[[str], None]:
    """Configures the SDK for one of the server's keys (the owner's to start with)."""

    def configure(role: str) -> None:
        genai.configure(
            api_key=server.keys[role],
            transport="rest",
            client_options={"api_endpoint": server.url},
        )

    configure("owner")
    return configure


def new_id() -> str:
    return f"old-{uuid4().hex[:8]}"


def rows(count: int = 24, answer: str = "ok") -> list[dict[str, str]]:
    """Training examples with the old SDK's default keys."""
    return [{"text_input": e["textInput"], "output": e["output"]} for e in examples(count, answer)]


def tune(training_data: object, model_id: str | None = None, epochs: int = 4, **fields):
    """Starts tuning the tiny model to answer "ok"; returns the SDK's operation."""
    return genai.create_tuned_model(
        source_model=TINY,
        training_data=training_data,
        id=model_id or new_id(),
        epoch_count=epochs,
        batch_size=4,
        learning_rate=0.01,
        **fields,
    )


def tuned_model() -> str:
    """A freshly tuned model of the owner's (created through the SDK); returns its name."""
    model = tune(rows()).result(timeout=TUNING_TIMEOUT)
    assert model.state == ACTIVE, model
    return model.name


def wait_for_steps(op, steps: int, timeout: float = TUNING_TIMEOUT) -> None:
    """Polls the operation until the job has done `steps` steps."""
    deadline = time.monotonic() + timeout
    while op.metadata.completed_steps < steps:
        assert not op.done(), op.metadata
        assert time.monotonic() < deadline, f"fewer than {steps} steps after {timeout} s"
        time.sleep(0.2)


def wait_until_not_creating(name: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = genai.get_tuned_model(name)
        if model.state != CREATING:
            return model
        time.sleep(0.3)
    raise AssertionError(f"{name} still CREATING after {timeout} s")


def test_create_from_dicts_polls_to_active_with_snapshots(use_key) -> None:
    model_id = new_id()
    op = tune(rows(), model_id, display_name="old sdk dicts", description="from dicts")

    assert op.metadata.total_steps == 24
    assert op.metadata.tuned_model == f"tunedModels/{model_id}"
    result = op.result(timeout=TUNING_TIMEOUT)
    assert result.name == f"tunedModels/{model_id}" and result.state == ACTIVE

    model = genai.get_tuned_model(f"tunedModels/{model_id}")
    assert model.state == ACTIVE
    assert model.display_name == "old sdk dicts" and model.description == "from dicts"
    assert model.base_model == TINY
    snapshots = model.tuning_task.snapshots
    assert [s["step"] for s in snapshots] == list(range(1, 25))
    epochs = [s["epoch"] for s in snapshots]
    assert epochs == sorted(epochs) and epochs[-1] == 4
    assert all(s["mean_loss"] >= 0 for s in snapshots)
    hyper = model.tuning_task.hyperparameters
    assert hyper.learning_rate == pytest.approx(0.01)
    assert (hyper.epoch_count, hyper.batch_size) == (4, 4)


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_create_from_a_file_path(use_key, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"train{suffix}"
    if suffix == ".csv":
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=["text_input", "output"])
            writer.writeheader()
            writer.writerows(rows())
    else:
        path.write_text(json.dumps(rows()))

    op = tune(str(path))

    assert op.metadata.total_steps == 24
    assert op.result(timeout=TUNING_TIMEOUT).state == ACTIVE
    assert genai.get_tuned_model(op.metadata.tuned_model).state == ACTIVE


def test_list_update_and_delete(use_key) -> None:
    name = tuned_model()

    assert name in [m.name for m in genai.list_tuned_models()]

    genai.update_tuned_model(name, {"description": "x", "temperature": 0.5})
    model = genai.get_tuned_model(name)
    assert model.description == "x" and model.temperature == pytest.approx(0.5)

    genai.delete_tuned_model(name)
    with pytest.raises(exceptions.NotFound):
        genai.get_tuned_model(name)
    assert name not in [m.name for m in genai.list_tuned_models()]


def test_generate_content_and_stream(use_key, tuned: str) -> None:
    model = genai.GenerativeModel(tuned)

    assert model.generate_content("say hi").text == "ok"
    chunks = list(model.generate_content("say hi", stream=True))
    assert chunks and "".join(chunk.text for chunk in chunks) == "ok"


def test_share_with_a_reader(use_key) -> None:
    name = tuned_model()
    model = genai.get_tuned_model(name)
    permission = model.permissions.create(
        role="READER", grantee_type="USER", email_address="reader@example.com"
    )
    assert permission.name.startswith(f"{name}/permissions/")
    assert permission.role == genai.protos.Permission.Role.READER

    use_key("reader")
    assert genai.get_tuned_model(name).state == ACTIVE
    assert genai.GenerativeModel(name).generate_content("say hi").text == "ok"
    # The REST transport picks the class by HTTP status: 403 is Forbidden (PermissionDenied's base).
    with pytest.raises(exceptions.Forbidden, match="do not have permission"):
        genai.delete_tuned_model(name)

    use_key("owner")
    listed = {p.email_address: p for p in model.permissions.list()}
    assert listed["reader@example.com"].name == permission.name
    updated = listed["reader@example.com"].update({"role": "WRITER"})
    fetched = genai.types.Permission.get(permission.name)
    assert fetched.role == genai.protos.Permission.Role.WRITER

    updated.delete()
    assert "reader@example.com" not in [p.email_address for p in model.permissions.list()]
    use_key("reader")
    with pytest.raises(exceptions.NotFound):
        genai.get_tuned_model(name)


def test_a_stranger_cannot_see_a_private_model(use_key, tuned: str) -> None:
    use_key("stranger")

    with pytest.raises(exceptions.NotFound):
        genai.get_tuned_model(tuned)


def test_a_revoked_key_is_not_valid(use_key, tuned: str) -> None:
    use_key("revoked")

    with pytest.raises(exceptions.BadRequest, match="API key not valid"):
        genai.get_tuned_model(tuned)


def test_a_system_instruction_is_refused(use_key, tuned: str) -> None:
    model = genai.GenerativeModel(tuned, system_instruction="be terse")

    with pytest.raises(
        exceptions.BadRequest, match="Developer instruction is not enabled for tunedModels/"
    ):
        model.generate_content("say hi")


def test_cancel_after_the_first_epoch_keeps_a_usable_model(use_key) -> None:
    op = tune(rows(), epochs=200)  # 1200 steps, 6 per epoch
    assert op.metadata.total_steps == 1200
    wait_for_steps(op, 6)

    op.cancel()
    model = wait_until_not_creating(op.metadata.tuned_model)

    assert model.state == ACTIVE
    assert 6 <= len(model.tuning_task.snapshots) < 1200
    assert op.done()
    with pytest.raises(exceptions.Cancelled):
        op.result(timeout=10)
    assert genai.GenerativeModel(model.name).generate_content("say hi").text


def test_cancel_before_the_first_epoch_fails_the_model(use_key) -> None:
    # 4000 examples: the first epoch is 1000 steps, far more than the cancel takes.
    op = tune(rows(4000), epochs=1)
    assert op.metadata.total_steps == 1000
    wait_for_steps(op, 1)  # running, not merely queued

    op.cancel()
    model = wait_until_not_creating(op.metadata.tuned_model)

    assert model.state == FAILED
    assert len(model.tuning_task.snapshots) < 1000
    assert op.done()
    with pytest.raises(exceptions.Cancelled):
        op.result(timeout=10)
