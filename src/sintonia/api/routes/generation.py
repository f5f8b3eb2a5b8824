"""generateContent, streamGenerateContent and countTokens, for tuned and base models alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.responses import StreamingResponse

from sintonia.api.deps import Services
from sintonia.api.resources import candidate_json, generate_response_json, usage_json
from sintonia.api.schemas import ContentIn, CountTokensIn, GenerateContentIn
from sintonia.datasets.format import PromptFormat
from sintonia.errors import InvalidArgument
from sintonia.inference.generate import Generation, GenerationConfig
from sintonia.inference.request import check_sampling, check_tuned_model_request
from sintonia.inference.targets import Target, base_prompt_format, resolve_config


def _text(name: str, contents: list[ContentIn]) -> tuple[str, str | None]:
    """The prompt text of a single-turn request, and the kind of any non-text part."""
    if len(contents) > 1:
        raise InvalidArgument(
            f"{name} takes a single-turn text input; the request has {len(contents)} turns."
        )
    parts = contents[0].parts if contents else []
    odd = next((p.kind() for p in parts if p.kind() != "text"), None)
    return "".join(p.text or "" for p in parts), odd


def _format(svc: Services, target: Target) -> PromptFormat:
    if target.prompt_format is not None:
        return target.prompt_format
    return base_prompt_format(PromptFormat.for_tokenizer(svc.engines.tokenizer(target.base)))


def _prepare(svc: Services, target: Target, body: dict[str, Any]) -> tuple[str, GenerationConfig]:
    request = GenerateContentIn.model_validate(body)
    text, odd = _text(target.name, request.contents)
    gen = request.generationConfig
    check_tuned_model_request(
        target.name,
        text,
        system_instruction=request.systemInstruction is not None,
        json_mode=bool(gen and gen.responseMimeType == "application/json"),
        non_text_part=odd,
    )
    if gen and (gen.candidateCount or 1) != 1:
        raise InvalidArgument("candidateCount must be 1.")
    if gen:
        check_sampling(
            target.base.max_temperature, gen.temperature, gen.topP, gen.topK, gen.maxOutputTokens
        )
    asked = (
        GenerationConfig()
        if gen is None
        else GenerationConfig(
            temperature=gen.temperature,
            top_p=gen.topP,
            top_k=gen.topK,
            max_output_tokens=gen.maxOutputTokens,
            stop_sequences=tuple(gen.stopSequences or ()),
            seed=gen.seed,
        )
    )
    return text, resolve_config(asked, target, svc.settings.default_max_output_tokens)


def generate_content(svc: Services, target: Target, body: dict[str, Any]) -> dict[str, Any]:
    text, config = _prepare(svc, target, body)
    engine = svc.engines.engine(target.base)
    result = engine.generate([text], _format(svc, target), config, target.adapter)[0]
    return generate_response_json(result, target.name)


def stream_generate_content(
    svc: Services, target: Target, body: dict[str, Any], sse: bool
) -> StreamingResponse:
    """SSE events (`alt=sse`) or one JSON array written as it grows (the old SDK)."""
    text, config = _prepare(svc, target, body)  # errors before the first byte get a status
    engine = svc.engines.engine(target.base)
    # Called here, not in the body: a missing adapter is an error status, not a cut stream.
    events = engine.stream(text, _format(svc, target), config, target.adapter)

    def chunks() -> Iterator[dict[str, Any]]:
        held = ""
        for event in events:
            if isinstance(event, Generation):
                # The last chunk carries the finish reason and the cumulative usage.
                yield {
                    "candidates": [candidate_json(held, event.finish_reason)],
                    "usageMetadata": usage_json(event.prompt_tokens, event.output_tokens),
                    "modelVersion": target.name,
                }
            else:
                if held:
                    yield {"candidates": [candidate_json(held)], "modelVersion": target.name}
                held = event

    def sse_body() -> Iterator[str]:
        for chunk in chunks():
            yield f"data: {json.dumps(chunk)}\r\n\r\n"

    def array_body() -> Iterator[str]:
        yield "["
        for i, chunk in enumerate(chunks()):
            yield ("," if i else "") + json.dumps(chunk)
        yield "]"

    if sse:
        return StreamingResponse(sse_body(), media_type="text/event-stream")
    return StreamingResponse(array_body(), media_type="application/json")


def count_tokens(svc: Services, target: Target, body: dict[str, Any]) -> dict[str, Any]:
    request = CountTokensIn.model_validate(body)
    contents = request.contents or (
        request.generateContentRequest.contents if request.generateContentRequest else []
    )
    text, _ = _text(target.name, contents)
    tokenizer = svc.engines.tokenizer(target.base)
    return {"totalTokens": len(tokenizer.encode(text, add_special_tokens=False)) if text else 0}
