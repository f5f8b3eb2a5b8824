"""The artifact store: tuned models' files, in a local folder or in object storage (fsspec).

Keys are relative paths built from checked ids and fixed names (`<id>/checkpoint.pt`,
`<id>/adapters/epoch-0003`); nothing a request sends becomes a key. Readers never see half
of anything:

- a file is published whole: on a local disk by temp + fsync + rename (`storage.files`);
  in object storage an object exists only once its upload completes;
- a directory (an adapter) is published as a whole: on a local disk by renaming a complete
  copy into place; in object storage its files go first and a manifest (`.published`,
  listing them) last: readers take the manifest as the sign it is whole, and fetch only
  what it lists.

Fetching gives a local path to read: the store's own file on a local disk (no copy), a
downloaded copy otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import fsspec

from sintonia.storage.files import fsync_directory, write_atomically

MANIFEST = ".published"
_LOCAL = (None, "file", "local")


class ArtifactStore(Protocol):
    url: str

    def exists(self, key: str) -> bool:
        """Whether the file `key` is published."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None:
        """Publish `data` as the file `key`, replacing it whole. Raises: OSError."""
        ...

    def put_file(self, key: str, source: Path) -> None:
        """Publish a copy of the local file `source` as `key`. Raises: OSError."""
        ...

    def fetch_file(self, key: str, into: Path) -> Path | None:
        """A local path holding file `key` (`into` unless the store is local); None if absent.

        Raises: OSError.
        """
        ...

    def put_dir(self, key: str, source: Path) -> None:
        """Publish a copy of the local folder `source` as `key`, replacing it whole.

        Raises: OSError.
        """
        ...

    def fetch_dir(self, key: str, into: Path) -> Path | None:
        """A local folder holding directory `key`, None while it is not (wholly) published.

        On a remote store `into` is a cache slot: filled once, by renaming a complete copy
        into place, and returned as it is from then on.

        Raises: OSError.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove `key`, a file or a whole directory; nothing if absent. Raises: OSError."""
        ...


def open_artifacts(url: str | Path) -> ArtifactStore:
    """The store at `url`: a local folder (a path, or file://), or any fsspec URL whose
    package is installed (s3:// with s3fs, gs:// with gcsfs).

    Raises:
        ValueError: an unknown protocol, or one whose package is missing.
    """
    protocol, path = fsspec.core.split_protocol(str(url))
    if protocol in _LOCAL:
        return LocalArtifacts(Path(path).expanduser())
    try:
        # No listing cache: another process publishes while this one reads.
        fs, root = fsspec.core.url_to_fs(str(url), use_listings_cache=False)
    except (ImportError, ValueError) as exc:
        raise ValueError(f"Cannot open the artifact store {str(url)!r}: {exc}") from exc
    return RemoteArtifacts(str(url), fs, root.rstrip("/"))


def check_key(key: str) -> str:
    """Refuse a key that could leave the store's root (defence in depth: keys come from
    checked ids and fixed names)."""
    parts = key.split("/")
    if key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not an artifact key: {key!r}")
    return key


class LocalArtifacts:
    """A folder of this machine; what the embedded set-up uses."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put_bytes(self, key: str, data: bytes) -> None:
        write_atomically(self.path(key), lambda handle: handle.write(data))

    def put_file(self, key: str, source: Path) -> None:
        with source.open("rb") as reader:
            write_atomically(self.path(key), lambda handle: shutil.copyfileobj(reader, handle))

    def fetch_file(self, key: str, into: Path) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    def put_dir(self, key: str, source: Path) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            shutil.copytree(source, scratch, dirs_exist_ok=True)
            for file in scratch.rglob("*"):
                if file.is_file():
                    _fsync(file)
            shutil.rmtree(target, ignore_errors=True)
            scratch.rename(target)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        fsync_directory(target.parent)

    def fetch_dir(self, key: str, into: Path) -> Path | None:
        path = self.path(key)
        return path if path.is_dir() else None

    def delete(self, key: str) -> None:
        path = self.path(key)
        if path.is_dir():
            shutil.rmtree(path, onerror=_unless_gone)
        else:
            path.unlink(missing_ok=True)


class RemoteArtifacts:
    """Object storage (or any other fsspec file system) shared by every replica and worker."""

    def __init__(self, url: str, fs: fsspec.AbstractFileSystem, root: str) -> None:
        self.url = url
        self.fs = fs
        self.root = root

    def _path(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}"

    @contextlib.contextmanager
    def _translated(self, key: str) -> Iterator[None]:
        """Every failure is an OSError, as on a local disk: the S3 client raises its own
        exceptions for an unreachable endpoint or missing credentials."""
        try:
            yield
        except OSError:
            raise
        except Exception as exc:
            raise OSError(f"artifact store {self.url}, {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        with self._translated(key):
            return self.fs.isfile(self._path(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        with self._translated(key):
            self.fs.pipe_file(self._path(key), data)

    def put_file(self, key: str, source: Path) -> None:
        with self._translated(key):
            self.fs.put_file(str(source), self._path(key))

    def fetch_file(self, key: str, into: Path) -> Path | None:
        into.parent.mkdir(parents=True, exist_ok=True)
        scratch = _scratch_name(into)
        try:
            with self._translated(key):
                self.fs.get_file(self._path(key), str(scratch))
            os.replace(scratch, into)
        except FileNotFoundError:
            return None
        finally:
            scratch.unlink(missing_ok=True)
        return into

    def put_dir(self, key: str, source: Path) -> None:
        folder = self._path(key)
        with self._translated(key):
            # The old manifest goes first: from here until the new one lands, readers see
            # nothing rather than a mix of two versions.
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm_file(f"{folder}/{MANIFEST}")
            files = {}
            for file in sorted(p for p in source.rglob("*") if p.is_file()):
                name = file.relative_to(source).as_posix()
                self.fs.put_file(str(file), f"{folder}/{name}")
                files[name] = file.stat().st_size
            self.fs.pipe_file(f"{folder}/{MANIFEST}", json.dumps({"files": files}).encode())

    def fetch_dir(self, key: str, into: Path) -> Path | None:
        if into.is_dir():
            return into
        folder = self._path(key)
        try:
            with self._translated(key):
                files = json.loads(self.fs.cat_file(f"{folder}/{MANIFEST}"))["files"]
        except FileNotFoundError:
            return None
        into.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{into.name}.", dir=into.parent))
        try:
            with self._translated(key):
                for name, size in files.items():
                    local = scratch / check_key(name)
                    local.parent.mkdir(parents=True, exist_ok=True)
                    self.fs.get_file(f"{folder}/{name}", str(local))
                    if local.stat().st_size != size:  # republished while we read
                        raise OSError(f"{self.url}/{key}/{name} changed while it was fetched")
            scratch.rename(into)
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
            if into.is_dir():  # another thread fetched it first
                return into
            raise
        return into

    def delete(self, key: str) -> None:
        with self._translated(key), contextlib.suppress(FileNotFoundError):
            self.fs.rm(self._path(key), recursive=True)


def _unless_gone(_function: object, _path: str, exc_info: tuple) -> None:
    # A file that went meanwhile (a worker tidying the folder of a model being deleted) is
    # what a delete wants: only other errors count.
    if not issubclass(exc_info[0], FileNotFoundError):
        raise exc_info[1]


def _scratch_name(path: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    return Path(name)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
