"""The one Settings object: the only place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where Sintonia keeps its state, and how it runs models."""

    home: Path
    """Data directory: database, converted base models, tuned-model artifacts."""

    database_url: str
    """SQLAlchemy URL; SQLite under `home` unless SINTONIA_DATABASE_URL says otherwise."""

    models_dir: Path
    """Converted base models (safetensors + tokenizer), one folder each; shareable."""

    device: str = "auto"
    """"auto" (CUDA when present, else CPU), or an explicit torch device such as "cpu"."""

    default_max_output_tokens: int = 256
    """Generation length when a request names none: bounded, since CPU decoding is slow."""

    local_models: tuple[Path, ...] = ()
    """Hugging Face model folders the server offers as base models, besides the bundled ones."""

    @property
    def artifacts_dir(self) -> Path:
        """Tuned-model artifacts (adapters, dataset copy), one folder per tuned model."""
        return self.home / "tuned"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("SINTONIA_HOME") or Path.home() / ".sintonia").expanduser()
        database_url = env.get("SINTONIA_DATABASE_URL") or f"sqlite:///{home / 'sintonia.db'}"
        return cls(
            home=home,
            database_url=database_url,
            models_dir=Path(env.get("SINTONIA_MODELS_DIR") or home / "models").expanduser(),
            device=env.get("SINTONIA_DEVICE", "auto"),
            default_max_output_tokens=int(env.get("SINTONIA_DEFAULT_MAX_OUTPUT_TOKENS", "256")),
            local_models=tuple(
                Path(p).expanduser()
                for p in env.get("SINTONIA_LOCAL_MODELS", "").split(os.pathsep)
                if p.strip()
            ),
        )
