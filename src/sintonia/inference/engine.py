"""One base model in memory; tuned models' LoRA adapters are swapped in per request.

Adapters are small (megabytes) and load in milliseconds, so requests to different tuned
models of the same base never reload the base. A bounded LRU keeps the recently used ones.
An adapter's files come from `AdapterFiles` (fetched first from a remote artifact store).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from peft import PeftModel
from transformers import PreTrainedModel

from sintonia.datasets.format import PromptFormat
from sintonia.errors import ModelLoadError
from sintonia.inference.adapter_files import Adapter, AdapterFiles
from sintonia.inference.generate import Generation, GenerationConfig, generate, stream
from sintonia.models.catalog import BaseModel
from sintonia.models.loading import Runtime, load_model


class Engine:
    """Generation on one base model, with or without a tuned model's adapter."""

    def __init__(
        self,
        base_model: BaseModel,
        models_dir: Path,
        runtime: Runtime,
        files: AdapterFiles,
        capacity: int = 8,
    ) -> None:
        self.base_model = base_model
        self.files = files
        self.network, self.tokenizer = load_model(base_model, models_dir, runtime)
        self.capacity = max(1, capacity)
        self._peft: PeftModel | None = None
        self._loaded: OrderedDict[str, Path] = OrderedDict()
        # One generate() at a time: the active adapter is state shared by all requests.
        self._lock = threading.Lock()

    @property
    def loaded_adapters(self) -> tuple[str, ...]:
        return tuple(self._loaded)

    def _activate(self, adapter: Adapter, folder: Path) -> PeftModel:
        key = adapter.key
        try:
            if self._peft is None:
                self._peft = PeftModel.from_pretrained(self.network, folder, adapter_name=key)
            elif key not in self._loaded:
                self._peft.load_adapter(folder, adapter_name=key)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"Could not load the adapter at {folder}: {exc}") from exc
        self._loaded[key] = folder
        self._loaded.move_to_end(key)
        self._peft.set_adapter(key)
        # Evict only after the new adapter is in: a failed load leaves the cache as it was.
        while len(self._loaded) > self.capacity:
            oldest, _ = self._loaded.popitem(last=False)
            self._peft.delete_adapter(oldest)
        self._peft.eval()
        return self._peft

    def _folder(self, adapter: Adapter | None) -> Path | None:
        # Outside the lock: a slow download does not hold up requests to other models.
        return self.files.folder(adapter) if adapter is not None else None

    @contextmanager
    def _network(self, adapter: Adapter | None, folder: Path | None) -> Iterator[PreTrainedModel]:
        """The model to run, with `adapter` active (or none), held for this request alone."""
        with self._lock:
            if adapter is not None and folder is not None:
                yield self._activate(adapter, folder)
            elif self._peft is None:
                yield self.network
            else:
                with self._peft.disable_adapter():
                    yield self._peft

    def generate(
        self,
        prompts: Sequence[str],
        fmt: PromptFormat,
        config: GenerationConfig,
        adapter: Adapter | None = None,
    ) -> list[Generation]:
        """Generate with the base model alone (adapter None) or with a tuned model's adapter.

        Raises:
            ModelLoadError: the adapter is missing or cannot be loaded.
        """
        folder = self._folder(adapter)
        with self._network(adapter, folder) as network:
            return generate(network, self.tokenizer, fmt, prompts, config)

    def stream(
        self,
        prompt: str,
        fmt: PromptFormat,
        config: GenerationConfig,
        adapter: Adapter | None = None,
    ) -> Iterator[str | Generation]:
        """Text pieces as they come, then the `Generation` (see `generate.stream`).

        Raises:
            ModelLoadError: the adapter is missing, at once, before the first piece.
        """
        folder = self._folder(adapter)
        return self._stream(prompt, fmt, config, adapter, folder)

    def _stream(
        self,
        prompt: str,
        fmt: PromptFormat,
        config: GenerationConfig,
        adapter: Adapter | None,
        folder: Path | None,
    ) -> Iterator[str | Generation]:
        with self._network(adapter, folder) as network:
            yield from stream(network, self.tokenizer, fmt, prompt, config)
