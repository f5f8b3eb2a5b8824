"""Text generation: batched prompts, KV cache, stop at EOS or at a stop sequence."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import (
    PreTrainedModel,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
)
from transformers import PreTrainedTokenizerBase as Tokenizer

from sintonia.datasets.format import PromptFormat, encode_prompt, eos_token_id


@dataclass(frozen=True)
class GenerationConfig:
    """Gemini's generationConfig fields that apply to text models; None means the default."""

    temperature: float | None = None
    """0 (or None with a greedy default) picks the most likely token each time."""

    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    stop_sequences: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class Generation:
    text: str
    finish_reason: str
    """"STOP" (end of sequence or a stop sequence) or "MAX_TOKENS"."""

    prompt_tokens: int
    output_tokens: int


def _cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Text before the first stop sequence (Gemini leaves the stop sequence out)."""
    cuts = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)


@dataclass(frozen=True)
class _Prepared:
    encoded: list[list[int]]
    width: int
    eos: int
    pad: int
    kwargs: dict[str, Any]


def _prepare(
    network: PreTrainedModel,
    tokenizer: Tokenizer,
    fmt: PromptFormat,
    prompts: Sequence[str],
    config: GenerationConfig,
) -> _Prepared:
    """Left-padded prompt ids and the `generate` arguments for `config`."""
    eos = eos_token_id(fmt, tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    encoded = [encode_prompt(fmt, tokenizer, p) for p in prompts]
    width = max(len(ids) for ids in encoded)
    # Left padding, so every row's next token is generated at the same position.
    input_ids = torch.full((len(encoded), width), pad, dtype=torch.long)
    attention_mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, ids in enumerate(encoded):
        input_ids[row, width - len(ids) :] = torch.tensor(ids)
        attention_mask[row, width - len(ids) :] = 1

    sample = bool(config.temperature)
    if config.seed is not None:
        torch.manual_seed(config.seed)
    kwargs: dict[str, Any] = {
        "input_ids": input_ids.to(network.device),
        "attention_mask": attention_mask.to(network.device),
        "max_new_tokens": config.max_output_tokens,
        "eos_token_id": eos,
        "pad_token_id": pad,
        "do_sample": sample,
    }
    if sample:
        kwargs |= {
            "temperature": config.temperature,
            "top_p": config.top_p or 1.0,
            "top_k": config.top_k or 0,
        }
    else:  # neutralise sampling fields a checkpoint's generation_config may carry
        kwargs |= {"temperature": None, "top_p": None, "top_k": None}
    if config.stop_sequences:
        kwargs |= {"stop_strings": list(config.stop_sequences), "tokenizer": tokenizer}
    return _Prepared(encoded, width, eos, pad, kwargs)


@torch.inference_mode()
def generate(
    network: PreTrainedModel,
    tokenizer: Tokenizer,
    fmt: PromptFormat,
    prompts: Sequence[str],
    config: GenerationConfig,
) -> list[Generation]:
    """Complete a batch of prompts in one `generate` call.

    Args:
        network: the model (a base model, or a base with an adapter active).
        tokenizer: its tokenizer.
        fmt: the prompt format the model was tuned with (applied to every prompt).
        prompts: the text inputs, as a user would send them.
        config: sampling settings, already resolved against the model's defaults.
    """
    prep = _prepare(network, tokenizer, fmt, prompts, config)
    out = network.generate(**prep.kwargs)
    results = []
    for row, ids in enumerate(prep.encoded):
        new = out[row, prep.width :].tolist()
        ended = prep.eos in new
        if ended:
            new = new[: new.index(prep.eos)]
        while new and new[-1] == prep.pad:  # rows that finished early are padded to the batch
            new.pop()
        text, stopped = _cut_at_stop(
            tokenizer.decode(new, skip_special_tokens=True), config.stop_sequences
        )
        reason = "STOP" if ended or stopped else "MAX_TOKENS"
        results.append(Generation(text, reason, len(ids), len(new)))
    return results


class _Cancel(StoppingCriteria):
    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> Any:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool)


def stream(
    network: PreTrainedModel,
    tokenizer: Tokenizer,
    fmt: PromptFormat,
    prompt: str,
    config: GenerationConfig,
) -> Iterator[str | Generation]:
    """Yield text as it is generated, then the whole `Generation` as the last item.

    Text that might be the start of a stop sequence is held back until it is known not to
    be one, so a stop sequence never leaks into the stream. Closing the iterator early (a
    client that hung up) stops the generation at the next token.
    """
    prep = _prepare(network, tokenizer, fmt, [prompt], config)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    cancel = threading.Event()
    failure: list[BaseException] = []
    counted: list[torch.Tensor] = []

    def run() -> None:
        try:
            with torch.inference_mode():
                counted.append(
                    network.generate(
                        **prep.kwargs,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Cancel(cancel)]),
                    )
                )
        except BaseException as exc:  # surfaced in the caller's thread below
            failure.append(exc)
            streamer.end()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    text, sent, stopped = "", 0, False
    hold = max((len(s) for s in config.stop_sequences), default=1) - 1
    try:
        for piece in streamer:
            text += piece
            cut, stopped = _cut_at_stop(text, config.stop_sequences)
            safe = len(cut) if stopped else max(sent, len(text) - hold)
            if safe > sent:
                yield cut[sent:safe]
                sent = safe
            if stopped:
                cancel.set()
                break
        worker.join()
        if failure:
            raise failure[0]
        if not stopped and len(text) > sent:
            yield text[sent:]
        new = counted[0][0, prep.width :].tolist() if counted else []
        ended = prep.eos in new
        if ended:
            new = new[: new.index(prep.eos)]
        final = cut if stopped else text
        reason = "STOP" if ended or stopped else "MAX_TOKENS"
        yield Generation(final, reason, len(prep.encoded[0]), len(new))
    finally:
        cancel.set()
        worker.join()
