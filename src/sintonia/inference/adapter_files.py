"""Tuned models' adapters as local folders, ready for PEFT to load.

On a local artifact store an adapter is loaded where it lies. On a remote one (s3://, gs://)
it is fetched once into a cache folder of this machine, one slot per tuned model, tuning
(`revision`) and epoch: a model deleted and tuned again under the same id never gets the
first one's files, and a slot, filled by a rename, is either whole or absent.
"""

from __future__ import annotations

import hashlib
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

    def __init__(self, artifacts: ArtifactStore, cache_dir: Path) -> None:
        self.artifacts = artifacts
        self.cache_dir = cache_dir

    def folder(self, adapter: Adapter) -> Path:
        """The adapter's local folder, fetched first if the store is remote.

        Raises:
            ModelLoadError: the store holds no whole adapter there, or could not be read.
        """
        name = PurePosixPath(adapter.artifact).name
        slot = self.cache_dir / check_key(f"{adapter.model_id}/{adapter.revision}/{name}")
        where = f"{self.artifacts.url.rstrip('/')}/{adapter.artifact}"
        try:
            folder = self.artifacts.fetch_dir(adapter.artifact, slot)
        except OSError as exc:
            raise ModelLoadError(f"Could not fetch the adapter at {where}: {exc}") from exc
        if folder is None or not (folder / "adapter_config.json").is_file():
            raise ModelLoadError(
                f"The adapter of tunedModels/{adapter.model_id} is missing at {where}."
            )
        if folder == slot:
            self._drop_other_revisions(adapter)
        return folder

    def _drop_other_revisions(self, adapter: Adapter) -> None:
        # Slots of an earlier tuning of this id: that model was deleted, nothing serves them.
        for other in (self.cache_dir / adapter.model_id).iterdir():
            if other.name != adapter.revision:
                shutil.rmtree(other, ignore_errors=True)


def adapter_files(settings: Settings) -> AdapterFiles:
    """The adapters of `settings.artifacts`, cached under `settings.adapter_cache_dir`."""
    return AdapterFiles(open_artifacts(settings.artifacts), settings.adapter_cache_dir)
