"""Talking to a live `sintonia serve` in tests: the server handle and small helpers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MODELS_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "models"
TINY = "models/tiny-gemma"


@dataclass(frozen=True)
class Server:
    url: str
    home: Path
    keys: dict[str, str]
    """Plaintext keys by role: owner, reader, writer, stranger, readonly, generate_only."""

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        key: str | None = "owner",
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict]:
        """One HTTP request; returns (status, parsed JSON body)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        if key is not None:
            request.add_header("x-goog-api-key", self.keys.get(key, key))
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                text = response.read().decode()
                return response.status, json.loads(text) if text else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode() or "{}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def examples(count: int = 24, answer: str = "ok") -> list[dict[str, str]]:
    return [{"textInput": f"say w{i}", "output": answer} for i in range(count)]


def wait_done(server: Server, operation: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, op = server.call("GET", f"/v1beta/{operation}")
        assert status == 200, op
        if op.get("done"):
            return op
        time.sleep(0.3)
    raise AssertionError(f"{operation} not done after {timeout} s")


def start_tuning(server: Server, model_id: str, epochs: int = 1, **fields: object) -> str:
    """Create a tuned model of the tiny base (owner's key) and return its operation's name."""
    body = {
        "baseModel": TINY,
        "tuningTask": {
            "hyperparameters": {"epochCount": epochs, "learningRate": 0.01},
            "trainingData": {"examples": {"examples": examples()}},
        },
        **fields,
    }
    status, op = server.call("POST", f"/v1beta/tunedModels?tunedModelId={model_id}", body)
    assert status == 200, op
    return op["name"]


def create_tuned(server: Server, model_id: str, epochs: int = 1, **fields: object) -> dict:
    """Create a tuned model of the tiny base (owner's key), wait for it; returns the model."""
    done = wait_done(server, start_tuning(server, model_id, epochs, **fields))
    assert "response" in done, done
    return done["response"]


def steps_done(server: Server, model_id: str) -> int:
    model = server.call("GET", f"/v1beta/tunedModels/{model_id}")[1]
    return len(model.get("tuningTask", {}).get("snapshots", []))


def wait_until(condition, timeout: float = 240) -> None:
    """Poll `condition` until true; generous, since CI's first run also converts Gemma."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {timeout} s"
        time.sleep(0.2)


@contextmanager
def live_server(
    home: Path, tiny_model_dir: Path, *, workers: int = 1, database_url: str | None = None
) -> Iterator[Server]:
    """`sintonia serve` on a free port of 127.0.0.1 (uvicorn + its worker processes), with
    the tiny model as a local base model and a key per role (see `Server.keys`); its
    database is `database_url`, by default SQLite in `home`."""
    url = database_url or f"sqlite:///{home / 'sintonia.db'}"
    keys = make_keys(url)
    env = {"SINTONIA_DATABASE_URL": url}
    live, process = spawn_server(home, tiny_model_dir, keys, workers=workers, env=env)
    try:
        yield live
    finally:
        process.terminate()
        process.wait(timeout=30)


def make_keys(database_url: str) -> dict[str, str]:
    """A key per role, stored in the server's database; returns the plaintext keys."""
    from sintonia.auth.keys import KeyStore
    from sintonia.auth.scopes import Scope
    from sintonia.storage.db import Database

    db = Database(database_url)
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
    return keys


def spawn_server(
    home: Path,
    tiny_model_dir: Path,
    keys: dict[str, str],
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> tuple[Server, subprocess.Popen]:
    """Start `sintonia serve` over `home` and wait until it answers; the caller stops it."""
    environ = {
        **os.environ,
        "SINTONIA_HOME": str(home),
        "SINTONIA_MODELS_DIR": str(MODELS_CACHE),
        "SINTONIA_LOCAL_MODELS": str(tiny_model_dir),
        **(env or {}),
    }
    port = free_port()
    with (home / "server.log").open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sintonia.cli", "serve", "--port", str(port)]
            + ["--workers", str(workers)],
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    live = Server(f"http://127.0.0.1:{port}", home, keys)
    deadline = time.monotonic() + 60
    while True:
        try:
            if live.call("GET", "/v1beta/models")[0] == 200:
                return live, process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((home / "server.log").read_text())
        time.sleep(0.2)
