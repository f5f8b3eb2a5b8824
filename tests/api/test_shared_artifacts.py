"""Two live API replicas over one database and one S3 artifact store (tests/s3.py): a model
one replica tuned is served by the other, which starts with an empty home."""

from __future__ import annotations

from pathlib import Path

import pytest

from live import create_tuned, live_server, spawn_server
from sintonia.storage.artifacts import open_artifacts


def _generate(server, model: str, key: str, stream: bool = False) -> tuple[int, object]:
    verb = "streamGenerateContent?alt=json" if stream else "generateContent"
    body = {"contents": [{"parts": [{"text": "say map"}]}]}
    return server.call("POST", f"/v1beta/tunedModels/{model}:{verb}", body, key=key)


def test_a_replica_serves_a_model_another_one_tuned(
    tmp_path: Path, tiny_model_dir: Path, s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SINTONIA_ARTIFACTS", s3_url)
    first_home, second_home = tmp_path / "first", tmp_path / "second"
    first_home.mkdir()
    second_home.mkdir()
    artifacts = open_artifacts(s3_url)
    with live_server(first_home, tiny_model_dir) as first:
        create_tuned(first, "on-s3", epochs=3)
        create_tuned(first, "emptied", epochs=1)
        owner = first.keys["owner"]
        assert not (first_home / "tuned").exists()  # the files are in S3 alone
        artifacts.delete("emptied/adapters")  # a store that lost an adapter

        # The second replica shares the first's database (and keys); no worker of its own.
        shared_db = {"SINTONIA_DATABASE_URL": f"sqlite:///{first_home / 'sintonia.db'}"}
        second, process = spawn_server(
            second_home, tiny_model_dir, first.keys, workers=0, env=shared_db
        )
        try:
            status, answer = _generate(second, "on-s3", owner)
            assert status == 200, answer
            assert answer["candidates"][0]["content"]["parts"][0]["text"] == "ok"
            assert (second_home / "cache" / "adapters" / "on-s3").is_dir()

            # A stream fails with a status before its first byte, not as a cut stream.
            status, error = _generate(second, "emptied", owner, stream=True)
            assert status == 500, error
            assert "The adapter of tunedModels/emptied is missing at" in error["error"]["message"]

            assert second.call("DELETE", "/v1beta/tunedModels/on-s3", key=owner)[0] == 200
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert artifacts.fs.find(f"{artifacts.root}/on-s3") == []  # deleted by the second replica
    assert artifacts.fs.find(f"{artifacts.root}/emptied")  # the other model's data stays
