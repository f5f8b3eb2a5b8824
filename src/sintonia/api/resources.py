"""Response bodies: TunedModel, Operation, Permission, GenerateContentResponse, as JSON.

Operation polls are parsed by the old SDK with unknown fields forbidden, so every key here
is a field of the proto it stands for, and `@type` is set on metadata and response.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sintonia.errors import BaseModelNotFound
from sintonia.inference.generate import Generation
from sintonia.jobs.queue import Job
from sintonia.jobs.status import JobStatus
from sintonia.models.catalog import BaseModel, resolve_base_model
from sintonia.storage.permissions import Permission
from sintonia.storage.tuned_models import State, TunedModel
from sintonia.training.progress import Snapshot

_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta."


def timestamp(value: datetime) -> str:
    """RFC 3339, Z-normalised, microseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def snapshot_json(snap: Snapshot) -> dict[str, Any]:
    return {
        "step": snap.step,
        "epoch": snap.epoch,
        "meanLoss": proto_float(snap.mean_loss),
        "computeTime": timestamp(snap.compute_time),
    }


def proto_float(value: float) -> float | str:
    """A float as proto3 JSON writes it: a diverged loss is "NaN" or "Infinity", since a bare
    NaN is not JSON (the response would fail to render, a 500 on every poll)."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def inherited_defaults(model: TunedModel) -> tuple[float, float, int]:
    """The base model's temperature, topP and topK, which a tuned model inherits."""
    try:
        base = resolve_base_model(model.base_model, model.base_model_path)
    except BaseModelNotFound:  # a local base folder removed since: the catalog defaults hold
        return BaseModel.temperature, BaseModel.top_p, BaseModel.top_k
    return base.temperature, base.top_p, base.top_k


def tuned_model_json(model: TunedModel) -> dict[str, Any]:
    """A TunedModel. Never `trainingData` nor `learningRateMultiplier`: the old SDK refuses
    both; the effective learning rate stands in for a multiplier."""
    hp = model.hyperparameters
    task: dict[str, Any] = {
        "snapshots": [snapshot_json(s) for s in model.snapshots],
        "hyperparameters": {
            "epochCount": hp.epoch_count,
            "batchSize": hp.batch_size,
            "learningRate": hp.effective_learning_rate,
        },
    }
    if model.start_time:
        task["startTime"] = timestamp(model.start_time)
    if model.complete_time:
        task["completeTime"] = timestamp(model.complete_time)
    temperature, top_p, top_k = inherited_defaults(model)
    body: dict[str, Any] = {
        "name": model.name,
        "baseModel": model.base_model,
        "state": model.state.value,
        "createTime": timestamp(model.create_time),
        "updateTime": timestamp(model.update_time),
        "temperature": model.temperature if model.temperature is not None else temperature,
        "topP": model.top_p if model.top_p is not None else top_p,
        "topK": model.top_k if model.top_k is not None else top_k,
        "tuningTask": task,
    }
    if model.display_name:
        body["displayName"] = model.display_name
    if model.description:
        body["description"] = model.description
    return body


def operation_json(job: Job, model: TunedModel) -> dict[str, Any]:
    """A long-running Operation for a tuning job, with CreateTunedModelMetadata."""
    metadata: dict[str, Any] = {
        "@type": _TYPE + "CreateTunedModelMetadata",
        "tunedModel": model.name,
        "totalSteps": model.total_steps,
    }
    if model.completed_steps:
        metadata["completedSteps"] = model.completed_steps
        metadata["completedPercent"] = round(100 * model.completed_steps / model.total_steps, 2)
        metadata["snapshots"] = [snapshot_json(s) for s in model.snapshots]
    body: dict[str, Any] = {"name": job.operation_name, "metadata": metadata}
    # Done when the job and the model both say so. The worker ends the model first and the
    # job just after (a poll in between must not see a cancelled job as a success); a cancel
    # of a queued job ends the job first and the model just after (a poll in between must
    # not see a done operation on a model still training).
    if not job.status.done or model.state is State.CREATING:
        return body
    body["done"] = True
    if job.status is JobStatus.CANCELLED:
        kept = (
            f" The tuned model keeps epoch {model.epochs_completed} and can be called."
            if model.state is State.ACTIVE
            else ""
        )
        body["error"] = {"code": 1, "message": f"Operation cancelled.{kept}", "details": []}
    elif model.state is State.FAILED:
        body["error"] = {
            "code": model.error_code or 13,
            "message": model.error_message or "Tuning failed.",
            "details": [],
        }
    else:
        body["response"] = {"@type": _TYPE + "TunedModel", **tuned_model_json(model)}
    return body


def job_json(job: Job, queue_position: int | None) -> dict[str, Any]:
    """Sintonia's own view of a tuning job (not in the Gemini contract): where it is in the
    queue. Kept out of the operation's metadata, whose type the Google SDKs parse strictly."""
    body: dict[str, Any] = {
        "name": f"tunedModels/{job.tuned_model_id}/job",
        "operation": job.operation_name,
        "state": job.status.name,
        "attempts": job.attempts,
        "lostRuns": job.lost_runs,
        "createTime": timestamp(job.create_time),
    }
    if queue_position is not None:
        body["queuePosition"] = queue_position
    if job.start_time:
        body["startTime"] = timestamp(job.start_time)
    if job.end_time:
        body["endTime"] = timestamp(job.end_time)
    return body


def permission_json(permission: Permission) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": permission.name,
        "granteeType": permission.grantee_type.value,
        "role": permission.role.value,
    }
    if permission.email_address:
        body["emailAddress"] = permission.email_address
    return body


def candidate_json(text: str, finish_reason: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "index": 0,
    }
    if finish_reason:
        candidate["finishReason"] = finish_reason
    return candidate


def usage_json(prompt_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens,
    }


def generate_response_json(result: Generation, model_version: str) -> dict[str, Any]:
    return {
        "candidates": [candidate_json(result.text, result.finish_reason)],
        "usageMetadata": usage_json(result.prompt_tokens, result.output_tokens),
        "modelVersion": model_version,
    }
