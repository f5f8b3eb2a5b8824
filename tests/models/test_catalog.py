"""The base-model catalog: bundled names, local directories, and the Gemini Model fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sintonia.errors import BaseModelNotFound, NotFound
from sintonia.models.catalog import (
    DEFAULT_BASE_MODEL,
    BaseModel,
    BundledGguf,
    LocalDirectory,
    get_base_model,
    list_base_models,
    local_base_model,
    normalize_model_name,
    resolve_base_model,
)

API_KEYS = {
    "name",
    "baseModelId",
    "version",
    "displayName",
    "description",
    "inputTokenLimit",
    "outputTokenLimit",
    "supportedGenerationMethods",
    "temperature",
    "topP",
    "topK",
    "maxTemperature",
}


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("gemma-3-270m", "models/gemma-3-270m"),
        ("models/gemma-3-270m", "models/gemma-3-270m"),
        ("smollm2-135m-instruct", "models/smollm2-135m-instruct"),
        ("models/smollm2-135m-instruct", "models/smollm2-135m-instruct"),
    ],
)
def test_get_base_model_with_or_without_prefix(given: str, name: str) -> None:
    model = get_base_model(given)
    assert model.name == name
    assert isinstance(model.source, BundledGguf)


@pytest.mark.parametrize(("given", "name"), [("x", "models/x"), ("models/x", "models/x")])
def test_normalize_model_name(given: str, name: str) -> None:
    assert normalize_model_name(given) == name


def test_default_base_model_is_bundled_gemma() -> None:
    model = get_base_model(DEFAULT_BASE_MODEL)
    assert model.name == "models/gemma-3-270m"
    assert model.short_id == "gemma-3-270m"
    assert (model.input_token_limit, model.output_token_limit) == (32768, 8192)
    assert list_base_models()[0] is model


@pytest.mark.parametrize("unknown", ["gemini-1.5-flash", "models/nope", "models/"])
def test_unknown_base_model_lists_the_available_ones(unknown: str) -> None:
    with pytest.raises(BaseModelNotFound) as info:
        get_base_model(unknown)
    assert isinstance(info.value, NotFound)
    assert str(info.value) == (
        f"{normalize_model_name(unknown)} is not found for API version v1beta, or is not "
        "supported for generateContent. Call ListModels to see the list of available models "
        "and their supported methods. Available base models: "
        "models/gemma-3-270m, models/smollm2-135m-instruct."
    )


@pytest.mark.parametrize("model", list_base_models(), ids=lambda m: m.name)
def test_to_api_has_exactly_the_gemini_model_fields(model: BaseModel) -> None:
    api = model.to_api()
    assert set(api) == API_KEYS
    assert api["name"] == model.name
    assert api["baseModelId"] == model.name.removeprefix("models/")
    assert api["version"] == "001"
    assert api["supportedGenerationMethods"] == [
        "generateContent",
        "countTokens",
        "createTunedModel",
    ]
    assert (api["temperature"], api["topP"], api["topK"], api["maxTemperature"]) == (
        0.0,
        0.95,
        64,
        2.0,
    )
    assert api["inputTokenLimit"] == model.input_token_limit
    assert api["outputTokenLimit"] == model.output_token_limit
    json.dumps(api)  # serialisable as the API returns it


def test_local_base_model(tiny_model_dir: Path) -> None:
    model = local_base_model(tiny_model_dir)
    assert model.name == "models/tiny-gemma"
    assert model.short_id == "tiny-gemma"
    assert model.display_name == "tiny-gemma"
    assert model.source == LocalDirectory(tiny_model_dir.resolve())
    assert (model.input_token_limit, model.output_token_limit) == (512, 512)
    assert "gemma3_text" in model.description
    assert str(tiny_model_dir.resolve()) in model.description
    assert "createTunedModel" in model.to_api()["supportedGenerationMethods"]


@pytest.mark.parametrize(
    ("folder", "config", "name", "limits"),
    [
        ("My Model_v2", {"max_position_embeddings": 131072}, "models/my-model-v2", (131072, 8192)),
        ("plain", {}, "models/plain", (2048, 2048)),
        ("___", {"max_position_embeddings": 1024}, "models/local-model", (1024, 1024)),
    ],
)
def test_local_base_model_name_and_limits(
    tmp_path: Path, folder: str, config: dict[str, int], name: str, limits: tuple[int, int]
) -> None:
    path = tmp_path / folder
    path.mkdir()
    (path / "config.json").write_text(json.dumps(config))
    model = local_base_model(path)
    assert model.name == name
    assert (model.input_token_limit, model.output_token_limit) == limits


@pytest.mark.parametrize("exists", [True, False])
def test_folder_without_config_is_not_a_model(tmp_path: Path, exists: bool) -> None:
    path = tmp_path / "empty"
    if exists:
        path.mkdir()
    with pytest.raises(BaseModelNotFound, match="is not a Hugging Face model directory") as info:
        local_base_model(path)
    assert "it has no config.json" in str(info.value)
    assert str(path) in str(info.value)


def test_resolve_a_path_string(tiny_model_dir: Path) -> None:
    model = resolve_base_model(str(tiny_model_dir))
    assert model.name == "models/tiny-gemma"
    assert model.source == LocalDirectory(tiny_model_dir.resolve())


def test_resolve_a_relative_directory(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny_model_dir.parent)
    model = resolve_base_model("tiny-gemma")
    assert model.source == LocalDirectory(tiny_model_dir.resolve())


@pytest.mark.parametrize("name", ["gemma-3-270m", "models/gemma-3-270m"])
def test_resolve_a_name(name: str) -> None:
    assert resolve_base_model(name) is get_base_model("models/gemma-3-270m")


def test_resolve_with_local_path_wins_over_the_name(tiny_model_dir: Path) -> None:
    model = resolve_base_model("models/gemma-3-270m", local_path=str(tiny_model_dir))
    assert model.name == "models/tiny-gemma"
    assert isinstance(model.source, LocalDirectory)


def test_resolve_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(BaseModelNotFound, match="no config.json"):
        resolve_base_model(str(tmp_path / "missing" / "model"))


def test_resolve_an_unknown_name() -> None:
    with pytest.raises(BaseModelNotFound, match="Available base models"):
        resolve_base_model("models/nope")
