"""Turn examples into token ids: the prompt format a tuned model is trained and served with.

The text_input is used exactly as given (any preamble included), followed by a separator; the
output follows, closed by the tokenizer's end-of-sequence token. The model learns to emit EOS
after its answer, which is how generation knows where an answer ends. The format is stored with
each tuned model and applied identically at generation time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sintonia.datasets.examples import Dataset
from sintonia.errors import DatasetInvalid, Problem

if TYPE_CHECKING:  # transformers is heavy to import; only type hints need it here
    from transformers import PreTrainedTokenizerBase as Tokenizer


@dataclass(frozen=True)
class PromptFormat:
    """How text becomes tokens for one base model's tokenizer."""

    separator: str = "\n"
    """Put between text_input and output, so the model sees where the answer starts."""

    bos_token: str | None = None
    """Prepended when the tokenizer expects it (Gemma does; SmolLM2 does not)."""

    eos_token: str = "</s>"
    """Appended to every output in training; generation stops when the model emits it."""

    @classmethod
    def for_tokenizer(cls, tokenizer: Tokenizer) -> PromptFormat:
        if tokenizer.eos_token is None:
            raise ValueError("the tokenizer has no end-of-sequence token")
        # Ask the tokenizer rather than its add_bos_token flag: Gemma's converted tokenizer
        # adds BOS through its post-processor while the flag reads False.
        probe = tokenizer.encode("a", add_special_tokens=True)
        adds_bos = tokenizer.bos_token_id is not None and probe[:1] == [tokenizer.bos_token_id]
        return cls(
            bos_token=tokenizer.bos_token if adds_bos else None, eos_token=tokenizer.eos_token
        )

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> PromptFormat:
        return cls(**data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EncodedExample:
    """Token ids of prompt + output; the loss covers ids[prompt_length:] only."""

    ids: tuple[int, ...]
    prompt_length: int

    @property
    def output_length(self) -> int:
        return len(self.ids) - self.prompt_length


def encode_prompt(fmt: PromptFormat, tokenizer: Tokenizer, text_input: str) -> list[int]:
    """Ids the model sees before it answers; identical in training and generation."""
    ids = tokenizer.encode(text_input + fmt.separator, add_special_tokens=False)
    if fmt.bos_token is not None:
        ids = [tokenizer.convert_tokens_to_ids(fmt.bos_token), *ids]
    return ids


def eos_token_id(fmt: PromptFormat, tokenizer: Tokenizer) -> int:
    return int(tokenizer.convert_tokens_to_ids(fmt.eos_token))


def encode_example(
    fmt: PromptFormat, tokenizer: Tokenizer, text_input: str, output: str
) -> EncodedExample:
    prompt = encode_prompt(fmt, tokenizer, text_input)
    # Encoded apart from the prompt so the prompt's tokens match generation time exactly.
    answer = tokenizer.encode(output, add_special_tokens=False)
    return EncodedExample(tuple(prompt + answer + [eos_token_id(fmt, tokenizer)]), len(prompt))


def encode_dataset(
    fmt: PromptFormat, tokenizer: Tokenizer, dataset: Dataset, max_tokens: int
) -> list[EncodedExample]:
    """Encode every example, checking each fits the base model's context.

    Raises:
        DatasetInvalid: listing every example longer than `max_tokens`.
    """
    encoded = [encode_example(fmt, tokenizer, ex.text_input, ex.output) for ex in dataset.examples]
    problems = [
        Problem(
            f"example {i}",
            None,
            f"is {len(e.ids)} tokens (input {e.prompt_length}, output {e.output_length}); "
            f"the base model's limit is {max_tokens} tokens",
        )
        for i, e in enumerate(encoded)
        if len(e.ids) > max_tokens
    ]
    if problems:
        raise DatasetInvalid(problems, source=dataset.source)
    return encoded


@dataclass(frozen=True)
class TokenStats:
    """Token counts per example, as `sintonia validate` reports them."""

    examples: int
    input_tokens_mean: float
    input_tokens_max: int
    output_tokens_mean: float
    output_tokens_max: int
    longest_example: int
    """Index of the example with the most tokens in all."""

    total_tokens: int


def token_stats(encoded: Sequence[EncodedExample]) -> TokenStats:
    inputs = [e.prompt_length for e in encoded]
    outputs = [e.output_length for e in encoded]
    totals = [len(e.ids) for e in encoded]
    return TokenStats(
        examples=len(encoded),
        input_tokens_mean=sum(inputs) / len(inputs),
        input_tokens_max=max(inputs),
        output_tokens_mean=sum(outputs) / len(outputs),
        output_tokens_max=max(outputs),
        longest_example=max(range(len(totals)), key=totals.__getitem__),
        total_tokens=sum(totals),
    )
