"""The artifact store, on a local folder and on a real S3 endpoint (moto's server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sintonia.storage.artifacts import (
    MANIFEST,
    ArtifactStore,
    LocalArtifacts,
    RemoteArtifacts,
    check_key,
    open_artifacts,
)


@pytest.fixture(params=["local", "s3"])
def artifacts(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return open_artifacts(tmp_path / "store")
    return open_artifacts(request.getfixturevalue("s3_url"))


def _adapter(folder: Path, weights: bytes = b"w" * 100) -> Path:
    (folder / "sub").mkdir(parents=True)
    (folder / "adapter_config.json").write_text('{"r": 8}')
    (folder / "adapter_model.safetensors").write_bytes(weights)
    (folder / "sub" / "note.txt").write_text("nested")
    return folder


def test_urls_pick_the_store(tmp_path: Path, s3_url: str) -> None:
    assert isinstance(open_artifacts(tmp_path), LocalArtifacts)
    assert open_artifacts(f"file://{tmp_path}").root == tmp_path
    assert isinstance(open_artifacts(s3_url), RemoteArtifacts)
    with pytest.raises(ValueError, match="Cannot open the artifact store 'nosuch://x'"):
        open_artifacts("nosuch://x")


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a//b", "a/./b", "a\\b", "", "a/"])
def test_no_key_leaves_the_root(key: str) -> None:
    with pytest.raises(ValueError, match="not an artifact key"):
        check_key(key)


def test_files_round_trip(artifacts: ArtifactStore, tmp_path: Path) -> None:
    assert not artifacts.exists("m1/data.jsonl")
    assert artifacts.fetch_file("m1/data.jsonl", tmp_path / "got" / "data.jsonl") is None
    artifacts.put_bytes("m1/data.jsonl", b"one\n")
    assert artifacts.exists("m1/data.jsonl")
    (tmp_path / "source.pt").write_bytes(b"checkpoint 1")
    artifacts.put_file("m1/checkpoint.pt", tmp_path / "source.pt")
    (tmp_path / "source.pt").write_bytes(b"checkpoint 2")  # the store kept a copy
    fetched = artifacts.fetch_file("m1/checkpoint.pt", tmp_path / "got" / "checkpoint.pt")
    assert fetched is not None and fetched.read_bytes() == b"checkpoint 1"
    artifacts.put_file("m1/checkpoint.pt", tmp_path / "source.pt")  # replaced whole
    fetched = artifacts.fetch_file("m1/checkpoint.pt", tmp_path / "got" / "checkpoint.pt")
    assert fetched is not None and fetched.read_bytes() == b"checkpoint 2"
    assert not list((tmp_path / "got").glob(".*"))  # no download scratch left behind


def test_directories_are_published_and_fetched_whole(
    artifacts: ArtifactStore, tmp_path: Path
) -> None:
    source = _adapter(tmp_path / "scratch" / "epoch-0001")
    slot = tmp_path / "cache" / "epoch-0001"
    assert artifacts.fetch_dir("m1/adapters/epoch-0001", slot) is None
    artifacts.put_dir("m1/adapters/epoch-0001", source)
    folder = artifacts.fetch_dir("m1/adapters/epoch-0001", slot)
    assert folder is not None
    assert (folder / "adapter_model.safetensors").read_bytes() == b"w" * 100
    assert (folder / "sub" / "note.txt").read_text() == "nested"
    assert not (folder / MANIFEST).exists()
    assert sorted(p.name for p in folder.parent.iterdir()) == ["epoch-0001"]  # no scratch


def test_delete_removes_a_model_and_only_it(artifacts: ArtifactStore, tmp_path: Path) -> None:
    artifacts.put_bytes("m1/data.jsonl", b"x")
    artifacts.put_dir("m1/adapters/epoch-0001", _adapter(tmp_path / "a"))
    artifacts.put_bytes("m10/data.jsonl", b"y")
    artifacts.delete("m1")
    assert not artifacts.exists("m1/data.jsonl")
    assert artifacts.fetch_dir("m1/adapters/epoch-0001", tmp_path / "slot") is None
    assert artifacts.exists("m10/data.jsonl")
    artifacts.delete("m1")  # already gone: nothing to do
    artifacts.delete("m10/data.jsonl")
    assert not artifacts.exists("m10/data.jsonl")


def test_a_remote_directory_without_its_manifest_is_not_there(s3_url: str, tmp_path) -> None:
    """Files uploaded by a writer that died before the manifest are never served."""
    artifacts = open_artifacts(s3_url)
    assert isinstance(artifacts, RemoteArtifacts)
    artifacts.put_dir("m1/adapters/epoch-0001", _adapter(tmp_path / "a"))
    artifacts.fs.rm_file(f"{artifacts.root}/m1/adapters/epoch-0001/{MANIFEST}")
    assert artifacts.fetch_dir("m1/adapters/epoch-0001", tmp_path / "slot") is None
    assert not (tmp_path / "slot").exists()


def test_a_remote_republication_is_never_read_half_old(s3_url: str, tmp_path) -> None:
    artifacts = open_artifacts(s3_url)
    assert isinstance(artifacts, RemoteArtifacts)
    artifacts.put_dir("m1/adapters/epoch-0002", _adapter(tmp_path / "old"))
    folder = f"{artifacts.root}/m1/adapters/epoch-0002"
    # A reader finds a manifest that no longer matches the files (a writer replacing them
    # after the reader's manifest read): the fetch fails and leaves no slot behind.
    manifest = json.loads(artifacts.fs.cat_file(f"{folder}/{MANIFEST}"))
    manifest["files"]["adapter_model.safetensors"] = 7
    artifacts.fs.pipe_file(f"{folder}/{MANIFEST}", json.dumps(manifest).encode())
    with pytest.raises(OSError, match="changed while it was fetched"):
        artifacts.fetch_dir("m1/adapters/epoch-0002", tmp_path / "slot")
    assert not (tmp_path / "slot").exists()
    # Republished whole, it is served.
    artifacts.put_dir("m1/adapters/epoch-0002", _adapter(tmp_path / "new", b"v" * 50))
    fetched = artifacts.fetch_dir("m1/adapters/epoch-0002", tmp_path / "slot")
    assert fetched is not None
    assert (fetched / "adapter_model.safetensors").read_bytes() == b"v" * 50


def test_a_remote_fetch_fills_its_cache_slot_once(s3_url: str, tmp_path: Path) -> None:
    artifacts = open_artifacts(s3_url)
    artifacts.put_dir("m1/adapters/epoch-0001", _adapter(tmp_path / "a"))
    slot = tmp_path / "slot"
    assert artifacts.fetch_dir("m1/adapters/epoch-0001", slot) == slot
    artifacts.delete("m1")
    assert artifacts.fetch_dir("m1/adapters/epoch-0001", slot) == slot  # no remote call


def test_an_unreachable_store_raises_oserror(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    import fsspec

    fs, root = fsspec.core.url_to_fs("s3://nowhere/p", skip_instance_cache=True, retries=1)
    artifacts = RemoteArtifacts("s3://nowhere/p", fs, root)
    with pytest.raises(OSError, match="artifact store s3://nowhere/p"):
        artifacts.put_bytes("m1/data.jsonl", b"x")


def test_a_local_failed_write_keeps_the_old_version(tmp_path: Path, monkeypatch) -> None:
    artifacts = open_artifacts(tmp_path / "store")
    assert isinstance(artifacts, LocalArtifacts)
    artifacts.put_dir("m1/adapters/epoch-0001", _adapter(tmp_path / "a"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "unreadable").symlink_to(tmp_path / "missing")  # copying it fails
    with pytest.raises(OSError):
        artifacts.put_dir("m1/adapters/epoch-0001", broken)
    folder = artifacts.path("m1/adapters/epoch-0001")
    assert (folder / "adapter_model.safetensors").read_bytes() == b"w" * 100
    assert sorted(p.name for p in folder.parent.iterdir()) == ["epoch-0001"]
