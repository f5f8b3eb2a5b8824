"""`sintonia tune / generate / models ... --server URL --api-key KEY` against the live server."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from live import TINY, examples
from sintonia.cli import app


def test_the_cli_tunes_calls_shows_and_deletes_through_the_api(server, tmp_path: Path) -> None:
    data = tmp_path / "ok.jsonl"
    rows = [json.dumps({"text_input": e["textInput"], "output": "ok"}) for e in examples()]
    data.write_text("\n".join(rows) + "\n")
    runner = CliRunner()
    env = {
        "SINTONIA_SERVER": server.url,
        "SINTONIA_API_KEY": server.keys["owner"],
        "SINTONIA_HOME": str(tmp_path / "client-home"),
    }

    def run(*args: str):
        return runner.invoke(app, list(args), env=env)

    tuned = run(
        "tune",
        str(data),
        "--base-model",
        TINY,
        "--id",
        "via-cli",
        "--epochs",
        "4",
        "--learning-rate",
        "0.01",
    )
    assert tuned.exit_code == 0, tuned.stderr
    assert tuned.stdout.strip().splitlines()[-1] == "tunedModels/via-cli"

    generated = run("generate", "via-cli", "say something")
    assert (generated.exit_code, generated.stdout) == (0, "ok\n")

    shown = run("models", "show", "via-cli")
    assert shown.exit_code == 0, shown.stderr
    assert "ACTIVE" in shown.stdout and "Mean loss per epoch" in shown.stdout
    assert "tunedModels/via-cli" in run("models", "list").stdout
    assert run("models", "delete", "via-cli").exit_code == 0
    gone = run("generate", "via-cli", "x")
    assert gone.exit_code == 1 and "does not exist" in gone.stderr


def test_a_bad_key_is_reported_in_words(server, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["models", "list", "--server", server.url, "--api-key", "sk-wrong"],
        env={"SINTONIA_HOME": str(tmp_path)},
    )
    assert result.exit_code == 2 and "API key not valid" in result.stderr
