"""The `sintonia` command on the tiny local model: validate, tune, generate, models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sintonia.cli import app
from support import tiny_task


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()
    env = {"SINTONIA_HOME": str(tmp_path / "home")}

    def invoke(*args: str):
        return runner.invoke(app, list(args), env=env)

    return invoke


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "good.jsonl"
    rows = [json.dumps({"text_input": x, "output": y}) for x, y in tiny_task(24)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.jsonl"
    rows = [json.dumps({"text_input": x, "output": y}) for x, y in tiny_task(18)]
    rows[2] = '{"text_input": "oops", "output": }'
    rows[4] = json.dumps({"input": "say x", "output": "ok"})
    rows[6] = json.dumps({"text_input": "say y", "output": "o" * 5001})
    path.write_text("\n".join(rows) + "\n")
    return path


def test_validate_lists_every_problem_and_exits_2(run, bad_file) -> None:
    result = run("validate", str(bad_file))
    assert result.exit_code == 2
    for phrase in (
        "line 3",
        "invalid JSON",
        "line 5",
        "'text_input'",
        "line 7",
        "5,000",
        "17 examples",
        "at least 20",
    ):
        assert phrase in result.stderr, phrase


def test_tune_with_a_bad_dataset_creates_nothing(run, bad_file, tiny_model_dir) -> None:
    result = run("tune", str(bad_file), "--base-model", str(tiny_model_dir))
    assert result.exit_code == 2 and "nothing was created" in result.stderr
    listing = run("models", "list")
    assert "tunedModels/" not in listing.stdout


def test_validate_reports_tokens_and_steps(run, good_file, tiny_model_dir) -> None:
    result = run(
        "validate",
        str(good_file),
        "--base-model",
        str(tiny_model_dir),
        "--epochs",
        "3",
        "--batch-size",
        "5",
    )
    assert result.exit_code == 0, result.stderr
    assert "24 valid examples" in result.stdout
    assert "15 (ceil(24 × 3 epochs / batch size 5))" in result.stdout


def test_both_learning_rate_options_are_refused(run, good_file, tiny_model_dir) -> None:
    result = run(
        "tune",
        str(good_file),
        "--base-model",
        str(tiny_model_dir),
        "--learning-rate",
        "0.01",
        "--learning-rate-multiplier",
        "2",
    )
    assert result.exit_code == 2
    assert "Can't provide both learning_rate and learning_rate_multiplier" in result.stderr


def test_tune_then_generate_show_list_delete(run, good_file, tiny_model_dir) -> None:
    tuned = run(
        "tune",
        str(good_file),
        "--base-model",
        str(tiny_model_dir),
        "--id",
        "tiny-cli",
        "--epochs",
        "6",
        "--learning-rate",
        "0.01",
    )
    assert tuned.exit_code == 0, tuned.stderr
    assert tuned.stdout.strip().splitlines()[-1] == "tunedModels/tiny-cli"
    assert "epoch 6: mean loss" in tuned.stderr

    generated = run("generate", "tiny-cli", "say anything")
    assert generated.exit_code == 0, generated.stderr
    assert generated.stdout == "ok\n"  # only the text: scripts can use it

    shown = run("models", "show", "tunedModels/tiny-cli")
    assert shown.exit_code == 0
    for phrase in (
        "ACTIVE",
        "models/tiny-gemma",
        "step 36 of 36",
        "learning rate 0.01",
        "Mean loss per epoch",
        "Mean loss per step",
        "epoch end",
    ):
        assert phrase in shown.stdout, phrase
    assert "tunedModels/tiny-cli" in run("models", "list").stdout

    assert run("models", "delete", "tiny-cli").exit_code == 0
    missing = run("generate", "tiny-cli", "say anything")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_tuned_models_refuse_overlong_input(run, good_file, tiny_model_dir) -> None:
    assert (
        run(
            "tune",
            str(good_file),
            "--base-model",
            str(tiny_model_dir),
            "--id",
            "t",
            "--epochs",
            "1",
        ).exit_code
        == 0
    )
    result = run("generate", "t", "x" * 40_001)
    assert result.exit_code == 2 and "at most 40,000 characters" in result.stderr


def test_no_auth_is_refused_off_loopback(run) -> None:
    result = run("serve", "--host", "0.0.0.0", "--no-auth")
    assert result.exit_code == 2 and "--no-auth is refused on 0.0.0.0" in result.stderr


def test_keys_are_shown_once_listed_without_secret_and_revoked(run) -> None:
    created = run(
        "keys", "create", "--name", "ci", "--email", "ci@example.com", "--scopes", "tuning.readonly"
    )
    assert created.exit_code == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("sk-")
    listing = run("keys", "list")
    assert "ci@example.com" in listing.stdout and "tuning.readonly" in listing.stdout
    assert secret not in listing.stdout
    key_id = created.stderr.split()[2]
    assert run("keys", "revoke", key_id).exit_code == 0
    bad = run("keys", "create", "--name", "x", "--scopes", "everything")
    assert bad.exit_code == 2 and "everything" in bad.stderr
