"""Adapters as local folders: in place on a local store, fetched and cached from S3."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sintonia.errors import ModelLoadError
from sintonia.inference.adapter_files import Adapter, AdapterFiles, adapter_files
from sintonia.settings import Settings
from sintonia.storage.artifacts import ArtifactStore, open_artifacts

ADAPTER = Adapter("m1", "m1/adapters/epoch-0002", "20260101T000000000000")


def _publish(artifacts: ArtifactStore, tmp_path: Path, key: str, weights: bytes) -> None:
    source = tmp_path / "source" / key
    source.mkdir(parents=True)
    (source / "adapter_config.json").write_text("{}")
    (source / "adapter_model.safetensors").write_bytes(weights)
    artifacts.put_dir(key, source)


def test_a_local_store_is_read_in_place(tmp_path: Path) -> None:
    artifacts = open_artifacts(tmp_path / "store")
    _publish(artifacts, tmp_path, ADAPTER.artifact, b"w")
    files = AdapterFiles(artifacts, tmp_path / "cache")
    assert files.folder(ADAPTER) == tmp_path / "store" / "m1" / "adapters" / "epoch-0002"
    assert not (tmp_path / "cache").exists()  # nothing copied


@pytest.mark.parametrize("store", ["local", "s3"])
def test_a_missing_adapter_is_a_load_error(store: str, tmp_path: Path, request) -> None:
    url = str(tmp_path / "store") if store == "local" else request.getfixturevalue("s3_url")
    files = AdapterFiles(open_artifacts(url), tmp_path / "cache")
    with pytest.raises(ModelLoadError, match=r"The adapter of tunedModels/m1 is missing at .*"):
        files.folder(ADAPTER)
    # Published without its config (not an adapter): refused before PEFT reads it.
    source = tmp_path / "not-an-adapter"
    source.mkdir()
    (source / "adapter_model.safetensors").write_bytes(b"w")
    files.artifacts.put_dir(ADAPTER.artifact, source)
    with pytest.raises(ModelLoadError, match="missing at"):
        files.folder(ADAPTER)


def test_a_remote_adapter_is_fetched_once_per_revision(s3_url: str, tmp_path: Path) -> None:
    artifacts = open_artifacts(s3_url)
    _publish(artifacts, tmp_path, ADAPTER.artifact, b"first")
    files = AdapterFiles(artifacts, tmp_path / "cache")

    folder = files.folder(ADAPTER)
    assert folder == tmp_path / "cache" / "m1" / ADAPTER.revision / "epoch-0002"
    assert (folder / "adapter_model.safetensors").read_bytes() == b"first"

    # The model is deleted and tuned again under the same id: same key, another revision.
    artifacts.delete("m1")
    _publish(artifacts, tmp_path / "again", ADAPTER.artifact, b"second")
    again = Adapter("m1", ADAPTER.artifact, "20260202T000000000000")
    folder = files.folder(again)
    assert (folder / "adapter_model.safetensors").read_bytes() == b"second"
    assert [p.name for p in (tmp_path / "cache" / "m1").iterdir()] == [again.revision]

    artifacts.delete("m1")  # served from the cache from now on, without the store
    assert files.folder(again) == folder


def test_an_unreachable_store_is_a_load_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    import fsspec

    from sintonia.storage.artifacts import RemoteArtifacts

    fs, root = fsspec.core.url_to_fs("s3://nowhere/p", skip_instance_cache=True, retries=1)
    files = AdapterFiles(RemoteArtifacts("s3://nowhere/p", fs, root), tmp_path / "cache")
    with pytest.raises(ModelLoadError, match="Could not fetch the adapter at s3://nowhere/p/m1"):
        files.folder(ADAPTER)


def test_the_cache_keeps_under_its_cap_dropping_the_adapters_used_longest_ago(
    s3_url: str, tmp_path: Path
) -> None:
    artifacts = open_artifacts(s3_url)
    adapters = [Adapter(m, f"{m}/adapters/epoch-0001", "20260101T000000000000") for m in "abcd"]
    for adapter in adapters:
        _publish(artifacts, tmp_path / adapter.model_id, adapter.artifact, b"w" * 1000)
    files = AdapterFiles(artifacts, tmp_path / "cache", max_bytes=2 * 1002 + 500)  # two fit
    a, b, c, d = adapters

    def cached() -> set[str]:
        return {slot.parts[-3] for slot in (tmp_path / "cache").glob("*/*/*")}

    os.utime(files.folder(a), (1, 1))  # used long ago
    os.utime(files.folder(b), (2, 2))  # used a little later
    files.folder(c)  # used now: a goes
    assert cached() == {"b", "c"}
    assert (files.folder(a) / "adapter_model.safetensors").read_bytes() == b"w" * 1000
    assert cached() == {"a", "c"}  # fetched again, and b, used longest ago, went
    # One adapter over the cap on its own is still served.
    small = AdapterFiles(artifacts, tmp_path / "small", max_bytes=10)
    assert (small.folder(d) / "adapter_config.json").is_file()


def test_the_cap_comes_from_the_environment() -> None:
    settings = Settings.from_env({"SINTONIA_HOME": "/x", "SINTONIA_ADAPTER_CACHE_BYTES": "1234"})
    assert adapter_files(settings).max_bytes == 1234
    assert adapter_files(Settings.from_env({"SINTONIA_HOME": "/x"})).max_bytes == 2 * 1024**3
