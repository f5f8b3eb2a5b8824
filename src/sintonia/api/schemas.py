"""Request bodies, after `wire.normalize` (camelCase keys, enum names), and response bodies.

Unknown request fields are ignored: the old SDK PATCHes whole models, output-only fields
included. The response models (`...Out`) describe what `api/resources.py` builds; they are
the OpenAPI document's response schemas, checked against live answers by the schemathesis
test. Unknown response fields are forbidden there, as the old SDK forbids them in operations.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from sintonia.datasets import DEFAULT_LIMITS


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class HyperparametersIn(_In):
    epochCount: int | None = None
    batchSize: int | None = None
    learningRate: float | None = None
    learningRateMultiplier: float | None = None


# The examples are read leniently and checked by `datasets.validate`, which names every bad
# example; this schema only documents their shape.
_TRAINING_DATA = {
    "type": "object",
    "properties": {
        "examples": {
            "type": "object",
            "properties": {
                "examples": {
                    "type": "array",
                    "minItems": DEFAULT_LIMITS.min_examples,
                    "items": {
                        "type": "object",
                        "properties": {
                            "textInput": {
                                "type": "string",
                                "maxLength": DEFAULT_LIMITS.max_input_chars,
                            },
                            "output": {
                                "type": "string",
                                "maxLength": DEFAULT_LIMITS.max_output_chars,
                            },
                        },
                        "required": ["textInput", "output"],
                    },
                }
            },
            "required": ["examples"],
        }
    },
    "required": ["examples"],
}


class TuningTaskIn(_In):
    hyperparameters: HyperparametersIn | None = None
    trainingData: Annotated[dict[str, Any] | None, WithJsonSchema(_TRAINING_DATA)] = None


class TunedModelSourceIn(_In):
    tunedModel: str


class TunedModelIn(_In):
    """TunedModel create and update bodies (input fields only)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"displayName": "Renamed", "description": "Adds one."}]},
    )

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
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "contents": [{"role": "user", "parts": [{"text": "say hello"}]}],
                    "generationConfig": {"maxOutputTokens": 4, "temperature": 0.5},
                }
            ]
        },
    )
    contents: list[ContentIn] = []
    systemInstruction: ContentIn | None = None
    generationConfig: GenerationConfigIn | None = None


class CountTokensIn(_In):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{"contents": [{"parts": [{"text": "hi"}]}]}]},
    )
    contents: list[ContentIn] = []
    generateContentRequest: GenerateContentIn | None = None


class PermissionIn(_In):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"granteeType": "USER", "emailAddress": "writer@example.com", "role": "WRITER"}
            ]
        },
    )
    granteeType: str | None = None
    emailAddress: str | None = None
    role: str | None = None


class TransferOwnershipIn(_In):
    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"emailAddress": "writer@example.com"}]}
    )
    emailAddress: str


# ---- Response bodies ------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# An optional response field is left out, never null: `X | Omitted = None` documents just X.
Omitted = SkipJsonSchema[None]
_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta."


class TuningSnapshotOut(_Out):
    step: int
    epoch: int
    meanLoss: float | Literal["NaN", "Infinity", "-Infinity"]
    computeTime: str


class HyperparametersOut(_Out):
    epochCount: int
    batchSize: int
    learningRate: float


class TuningTaskOut(_Out):
    snapshots: list[TuningSnapshotOut]
    hyperparameters: HyperparametersOut
    startTime: str | Omitted = None
    completeTime: str | Omitted = None


class TunedModelOut(_Out):
    name: str = Field(pattern=r"^tunedModels/[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")
    baseModel: str
    state: Literal["CREATING", "ACTIVE", "FAILED"]
    createTime: str
    updateTime: str
    temperature: float
    topP: float
    topK: int
    tuningTask: TuningTaskOut
    displayName: str | Omitted = None
    description: str | Omitted = None


class OperationTunedModelOut(TunedModelOut):
    type: Literal[_TYPE + "TunedModel"] = Field(alias="@type")


class CreateTunedModelMetadataOut(_Out):
    type: Literal[_TYPE + "CreateTunedModelMetadata"] = Field(alias="@type")
    tunedModel: str
    totalSteps: int
    completedSteps: int | Omitted = None
    completedPercent: float | Omitted = None
    snapshots: list[TuningSnapshotOut] | Omitted = None


class RpcStatusOut(_Out):
    """A google.rpc.Status inside an Operation: `code` is the gRPC code, not HTTP."""

    code: int
    message: str
    details: list[dict[str, Any]]


class OperationOut(_Out):
    """Only these five keys: the old SDK parses operations with unknown fields forbidden."""

    name: str
    metadata: CreateTunedModelMetadataOut
    done: bool | Omitted = None
    error: RpcStatusOut | Omitted = None
    response: OperationTunedModelOut | Omitted = None


class TuningJobOut(_Out):
    name: str
    operation: str
    state: Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]
    attempts: int
    lostRuns: int
    createTime: str
    queuePosition: int | Omitted = None
    startTime: str | Omitted = None
    endTime: str | Omitted = None


class ListTunedModelsOut(_Out):
    tunedModels: list[TunedModelOut]
    nextPageToken: str | Omitted = None


class ListOperationsOut(_Out):
    operations: list[OperationOut]
    nextPageToken: str


class PermissionOut(_Out):
    name: str
    granteeType: Literal["USER", "GROUP", "EVERYONE"]
    role: Literal["OWNER", "WRITER", "READER"]
    emailAddress: str | Omitted = None


class ListPermissionsOut(_Out):
    permissions: list[PermissionOut]
    nextPageToken: str | Omitted = None


class ModelOut(_Out):
    name: str
    baseModelId: str
    version: str
    displayName: str
    description: str
    inputTokenLimit: int
    outputTokenLimit: int
    supportedGenerationMethods: list[str]
    temperature: float
    topP: float
    topK: int
    maxTemperature: float


class ListModelsOut(_Out):
    models: list[ModelOut]
    nextPageToken: str


class PartOut(_Out):
    text: str


class ContentOut(_Out):
    parts: list[PartOut]
    role: Literal["model"]


class CandidateOut(_Out):
    content: ContentOut
    index: int
    finishReason: str | Omitted = None


class UsageMetadataOut(_Out):
    promptTokenCount: int
    candidatesTokenCount: int
    totalTokenCount: int


class GenerateContentResponseOut(_Out):
    """Also each chunk of a stream; only the last chunk carries `usageMetadata`."""

    candidates: list[CandidateOut]
    usageMetadata: UsageMetadataOut | Omitted = None
    modelVersion: str


class CountTokensOut(_Out):
    totalTokens: int


class EmptyOut(_Out):
    """`{}`: deletes, cancels and transfers answer with an empty object."""


class ErrorStatusOut(_Out):
    code: int
    message: str
    status: str
    details: list[dict[str, Any]] | Omitted = None


class ErrorOut(_Out):
    """Every error, in the google.rpc.Status shape of the real API."""

    error: ErrorStatusOut
