"""One engine per base model in a process, created on first use; tokenizers cached too."""

from __future__ import annotations

import threading

from transformers import PreTrainedTokenizerBase as Tokenizer

from sintonia.inference.adapter_files import adapter_files
from sintonia.inference.engine import Engine
from sintonia.models.catalog import BaseModel
from sintonia.models.loading import load_tokenizer, pick_runtime
from sintonia.settings import Settings


class EnginePool:
    """Base models stay loaded once per process: requests to different tuned models of the
    same base only swap adapters."""

    def __init__(self, settings: Settings, adapter_capacity: int = 8) -> None:
        self.settings = settings
        self.adapter_capacity = adapter_capacity
        self.adapter_files = adapter_files(settings)
        self._engines: dict[str, Engine] = {}
        self._tokenizers: dict[str, Tokenizer] = {}
        self._lock = threading.Lock()

    def engine(self, base: BaseModel) -> Engine:
        with self._lock:
            if base.name not in self._engines:
                runtime = pick_runtime(self.settings.device, training=False)
                self._engines[base.name] = Engine(
                    base,
                    self.settings.models_dir,
                    runtime,
                    self.adapter_files,
                    self.adapter_capacity,
                )
            return self._engines[base.name]

    def tokenizer(self, base: BaseModel) -> Tokenizer:
        """The tokenizer alone, without loading weights (for counting and validation)."""
        with self._lock:
            if base.name in self._engines:
                return self._engines[base.name].tokenizer
            if base.name not in self._tokenizers:
                self._tokenizers[base.name] = load_tokenizer(base, self.settings.models_dir)
            return self._tokenizers[base.name]
