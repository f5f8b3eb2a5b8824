"""Talking to a live `sintonia serve` in tests: the server handle and small helpers."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
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
