"""Resolve what a generation request names ("tunedModels/x", "models/y") into what to run."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sintonia.datasets.format import PromptFormat
from sintonia.errors import BaseModelNotFound, InvalidArgument, ModelNotReady, TunedModelNotFound
from sintonia.inference.adapter_files import Adapter
from sintonia.inference.generate import GenerationConfig
from sintonia.models.catalog import BaseModel, get_base_model, resolve_base_model
from sintonia.storage.names import check_tuned_model_id
from sintonia.storage.tuned_models import State, TunedModel, TunedModelStore


@dataclass(frozen=True)
class Target:
    """A model to generate with: a base model, plus a tuned model's adapter and format."""

    name: str
    base: BaseModel
    adapter: Adapter | None
    prompt_format: PromptFormat | None
    """None for a base model: its prompt is the text as given (see `base_prompt_format`)."""

    defaults: GenerationConfig


def base_prompt_format(tuned_format: PromptFormat) -> PromptFormat:
    """A base model continues the text as given: no separator."""
    return replace(tuned_format, separator="")


def tuned_target(model: TunedModel) -> Target:
    """The target for a stored tuned model. Its adapter is fetched and checked when an
    engine loads it (`AdapterFiles`), on the host that serves the request.

    Raises:
        ModelNotReady: still tuning with no epoch done, or failed.
    """
    if model.state is State.FAILED:
        raise ModelNotReady(f"{model.name} failed to tune: {model.error_message}")
    if model.adapter_key is None or model.prompt_format is None:
        raise ModelNotReady(
            f"{model.name} is still being tuned (step {model.completed_steps} of "
            f"{model.total_steps}); it can be called once tuning completes."
        )
    base = resolve_base_model(model.base_model, model.base_model_path)
    defaults = GenerationConfig(
        temperature=model.temperature if model.temperature is not None else base.temperature,
        top_p=model.top_p if model.top_p is not None else base.top_p,
        top_k=model.top_k if model.top_k is not None else base.top_k,
    )
    adapter = Adapter(model.id, model.adapter_key, model.revision)
    return Target(model.name, base, adapter, model.prompt_format, defaults)


def base_target(base: BaseModel) -> Target:
    defaults = GenerationConfig(temperature=base.temperature, top_p=base.top_p, top_k=base.top_k)
    return Target(base.name, base, None, None, defaults)


def resolve_target(store: TunedModelStore, reference: str) -> Target:
    """ "tunedModels/ID" or "models/NAME"; a bare name is a tuned model's id, else a base model.

    Raises:
        TunedModelNotFound, BaseModelNotFound, ModelNotReady.
    """
    if reference.startswith("models/"):
        return base_target(get_base_model(reference))
    if reference.startswith("tunedModels/"):
        return tuned_target(store.get(check_tuned_model_id(reference)))
    try:
        return tuned_target(store.get(check_tuned_model_id(reference)))
    except (TunedModelNotFound, InvalidArgument):
        pass
    try:
        return base_target(get_base_model(reference))
    except BaseModelNotFound as exc:
        raise BaseModelNotFound(
            f"'{reference}' names no tuned model (tunedModels/{reference} does not exist) "
            f"and no base model: {exc}"
        ) from None


def resolve_config(
    request: GenerationConfig, target: Target, default_max_output_tokens: int
) -> GenerationConfig:
    """Fill what the request leaves out from the model's defaults; cap the output length."""
    wanted = request.max_output_tokens or default_max_output_tokens
    return replace(
        request,
        temperature=request.temperature
        if request.temperature is not None
        else target.defaults.temperature,
        top_p=request.top_p if request.top_p is not None else target.defaults.top_p,
        top_k=request.top_k if request.top_k is not None else target.defaults.top_k,
        max_output_tokens=min(wanted, target.base.output_token_limit),
    )
