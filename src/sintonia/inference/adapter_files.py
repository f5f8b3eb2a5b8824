"""Tuned models' adapters as local folders, ready for PEFT to load.

On a local artifact store an adapter is loaded where it lies. On a remote one (s3://, gs://)
it is fetched once into a cache folder of this machine, one slot per tuned model, tuning
(`revision`) and epoch: a model deleted and tuned again under the same id never gets the
first one's files, and a slot, filled by a rename, is either whole or absent. The cache keeps
under a size (`Settings.adapter_cache_bytes`) by removing the slots served longest ago (a
slot's modification time is its last use); an engine holds a loaded adapter in memory, so
removing its files only means fetching them again when it is next loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sintonia.errors import ModelLoadError
from sintonia.settings import Settings
from sintonia.storage.artifacts import ArtifactStore, check_key, open_artifacts


@dataclass(frozen=True)
class Adapter:
    """A tuned model's adapter: its folder in the artifact store, and which tuning wrote it."""

    model_id: str
    artifact: str
    """The folder's key in the artifact store (`<id>/adapters/epoch-NNNN`)."""

    revision: str
    """The tuned model's `revision`: another for a model re-created under the same id."""

    @property
    def key(self) -> str:
        """The adapter's name among those an engine holds loaded."""
        digest = hashlib.sha1(f"{self.artifact}@{self.revision}".encode()).hexdigest()[:10]
        return f"{self.model_id}-{digest}"


class AdapterFiles:
    """Local folders of adapters: the store's own, or copies fetched into `cache_dir`."""

    def __init__(self, artifacts: ArtifactStore, cache_dir: Path, max_bytes: int = 0) -> None:
        self.artifacts = artifacts
        self.cache_dir = cache_dir
        self.max_bytes = max_bytes
        """0: no cap."""

    def folder(self, adapter: Adapter) -> Path:
        """The adapter's local folder, fetched first if the store is remote.

        Raises:
            ModelLoadError: the store holds no whole adapter there, or could not be read.
        """
        name = PurePosixPath(adapter.artifact).name
        slot = self.cache_dir / check_key(f"{adapter.model_id}/{adapter.revision}/{name}")
        where = f"{self.artifacts.url.rstrip('/')}/{adapter.artifact}"
        fetching = not slot.is_dir()
        try:
            folder = self.artifacts.fetch_dir(adapter.artifact, slot)
        except OSError as exc:
            raise ModelLoadError(f"Could not fetch the adapter at {where}: {exc}") from exc
        if folder is None or not (folder / "adapter_config.json").is_file():
            raise ModelLoadError(
                f"The adapter of tunedModels/{adapter.model_id} is missing at {where}."
            )
        if folder == slot:
            with contextlib.suppress(FileNotFoundError):  # evicted meanwhile: fetched again
                os.utime(slot)  # used now
            if fetching:
                self._drop_other_revisions(adapter)
                self._keep_under_cap(slot)
        return folder

    def _drop_other_revisions(self, adapter: Adapter) -> None:
        # Slots of an earlier tuning of this id: that model was deleted, nothing serves them.
        for other in (self.cache_dir / adapter.model_id).iterdir():
            if other.name != adapter.revision:
                shutil.rmtree(other, ignore_errors=True)

    def _keep_under_cap(self, keep: Path) -> None:
        """Remove the slots used longest ago (never `keep`) until the cache fits its cap."""
        if not self.max_bytes:
            return
        slots = [slot for slot in self.cache_dir.glob("*/*/*") if slot.is_dir()]
        sizes = {slot: _size(slot) for slot in slots}
        total = sum(sizes.values())
        for slot in sorted(slots, key=_last_use):
            if total <= self.max_bytes:
                break
            if slot != keep:
                shutil.rmtree(slot, ignore_errors=True)
                total -= sizes[slot]


def _size(folder: Path) -> int:
    try:
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    except FileNotFoundError:  # removed by another process meanwhile
        return 0


def _last_use(slot: Path) -> float:
    try:
        return slot.stat().st_mtime
    except FileNotFoundError:  # removed by another process meanwhile
        return 0.0


def adapter_files(settings: Settings) -> AdapterFiles:
    """The adapters of `settings.artifacts`, cached under `settings.adapter_cache_dir`."""
    return AdapterFiles(
        open_artifacts(settings.artifacts),
        settings.adapter_cache_dir,
        settings.adapter_cache_bytes,
    )
