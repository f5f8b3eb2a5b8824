"""A live `sintonia serve` on 127.0.0.1 (uvicorn + its worker process) over the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from live import TINY, Server, examples, live_server, wait_done


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    with live_server(tmp_path_factory.mktemp("server-home"), tiny_model_dir) as live:
        yield live


@pytest.fixture(scope="session")
def tuned(server: Server) -> str:
    """A tuned model (owner's), tuned to answer "ok"; returns its name."""
    status, op = server.call(
        "POST",
        "/v1beta/tunedModels?tunedModelId=shared-ok",
        {
            "baseModel": TINY,
            "displayName": "shared ok",
            "tuningTask": {
                "hyperparameters": {"epochCount": 4, "learningRate": 0.01},
                "trainingData": {"examples": {"examples": examples()}},
            },
        },
    )
    assert status == 200, op
    done = wait_done(server, op["name"])
    assert "response" in done, done
    return "tunedModels/shared-ok"
