"""Request bodies, after `wire.normalize` (camelCase keys, enum names). Unknown fields are
ignored: the old SDK PATCHes whole models, output-only fields included."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class HyperparametersIn(_In):
    epochCount: int | None = None
    batchSize: int | None = None
    learningRate: float | None = None
    learningRateMultiplier: float | None = None


class TuningTaskIn(_In):
    hyperparameters: HyperparametersIn | None = None
    trainingData: dict[str, Any] | None = None


class TunedModelSourceIn(_In):
    tunedModel: str


class TunedModelIn(_In):
    """TunedModel create and update bodies (input fields only)."""

    displayName: str | None = None
    description: str | None = None
    baseModel: str | None = None
    tunedModelSource: TunedModelSourceIn | None = None
    temperature: float | None = None
    topP: float | None = None
    topK: int | None = None
    tuningTask: TuningTaskIn | None = None


class PartIn(_In):
    text: str | None = None
    inlineData: dict[str, Any] | None = None
    fileData: dict[str, Any] | None = None
    functionCall: dict[str, Any] | None = None
    functionResponse: dict[str, Any] | None = None

    def kind(self) -> str:
        """The part's kind, as the API names it."""
        for name in ("inlineData", "fileData", "functionCall", "functionResponse"):
            if getattr(self, name) is not None:
                return name
        return "text"


class ContentIn(_In):
    role: str | None = None
    parts: list[PartIn] = []


class GenerationConfigIn(_In):
    temperature: float | None = None
    topP: float | None = None
    topK: int | None = None
    maxOutputTokens: int | None = None
    candidateCount: int | None = None
    stopSequences: list[str] | None = None
    responseMimeType: str | None = None
    seed: int | None = None


class GenerateContentIn(_In):
    contents: list[ContentIn] = []
    systemInstruction: ContentIn | None = None
    generationConfig: GenerationConfigIn | None = None


class CountTokensIn(_In):
    contents: list[ContentIn] = []
    generateContentRequest: GenerateContentIn | None = None


class PermissionIn(_In):
    granteeType: str | None = None
    emailAddress: str | None = None
    role: str | None = None


class TransferOwnershipIn(_In):
    emailAddress: str
