"""A live `sintonia serve` on 127.0.0.1 (uvicorn + its worker process) over the tiny model."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from live import MODELS_CACHE, TINY, Server, examples, free_port, wait_done
from sintonia.auth.keys import KeyStore
from sintonia.auth.scopes import Scope
from sintonia.storage.db import Database


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    home = tmp_path_factory.mktemp("server-home")
    env = {
        **os.environ,
        "SINTONIA_HOME": str(home),
        "SINTONIA_MODELS_DIR": str(MODELS_CACHE),
        "SINTONIA_LOCAL_MODELS": str(tiny_model_dir),
    }
    db = Database(f"sqlite:///{home / 'sintonia.db'}")
    store = KeyStore(db)
    both = frozenset({Scope.TUNING, Scope.GENERATE})
    keys = {
        "owner": store.create("owner", "owner@example.com", both)[0],
        "writer": store.create("writer", "writer@example.com", both)[0],
        "reader": store.create("reader", "reader@example.com", both)[0],
        "stranger": store.create("stranger", "eve@example.com", both)[0],
        "readonly": store.create("ro", "owner@example.com", frozenset({Scope.TUNING_READONLY}))[0],
        "generate_only": store.create("gen", "owner@example.com", frozenset({Scope.GENERATE}))[0],
    }
    revoked, key = store.create("revoked", "owner@example.com", both)
    store.revoke(key.id)
    keys["revoked"] = revoked
    db.close()
    port = free_port()
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "sintonia.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    live = Server(f"http://127.0.0.1:{port}", home, keys)
    deadline = time.monotonic() + 60
    while True:
        try:
            if live.call("GET", "/v1beta/models")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((home / "server.log").read_text())
        time.sleep(0.2)
    yield live
    process.terminate()
    process.wait(timeout=30)
    log.close()


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
