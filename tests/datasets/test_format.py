"""Prompt format: the same ids in training and generation, BOS detected from the tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
from tokenizers.processors import TemplateProcessing
from transformers import AutoTokenizer

from sintonia.datasets import dataset_from_records
from sintonia.datasets.format import (
    EncodedExample,
    PromptFormat,
    encode_dataset,
    encode_example,
    encode_prompt,
    token_stats,
)
from sintonia.errors import DatasetInvalid
from support import tiny_task


@pytest.fixture
def tokenizer(tiny_model_dir: Path):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_no_bos_when_the_tokenizer_adds_none(tokenizer) -> None:
    fmt = PromptFormat.for_tokenizer(tokenizer)
    assert fmt == PromptFormat(separator="\n", bos_token=None, eos_token="<eos>")


def test_bos_when_the_post_processor_adds_it(tokenizer) -> None:
    # Gemma's tokenizer adds BOS this way, with its add_bos_token flag reading False.
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(
        single="<bos> $A", special_tokens=[("<bos>", tokenizer.bos_token_id)]
    )
    fmt = PromptFormat.for_tokenizer(tokenizer)
    assert fmt.bos_token == "<bos>"
    assert encode_prompt(fmt, tokenizer, "hi")[0] == tokenizer.bos_token_id


def test_an_example_is_prompt_separator_output_eos(tokenizer) -> None:
    fmt = PromptFormat.for_tokenizer(tokenizer)
    example = encode_example(fmt, tokenizer, "Q: 2+2?", "4")
    assert tokenizer.decode(example.ids[: example.prompt_length]) == "Q: 2+2?\n"
    assert list(example.ids[example.prompt_length :]) == [
        tokenizer.convert_tokens_to_ids("4"),
        tokenizer.eos_token_id,
    ]
    assert example.ids[: example.prompt_length] == tuple(encode_prompt(fmt, tokenizer, "Q: 2+2?"))


def test_format_round_trips_through_a_dict() -> None:
    fmt = PromptFormat(separator="\n\n", bos_token="<s>", eos_token="</s>")
    assert PromptFormat.from_dict(fmt.to_dict()) == fmt


def test_encode_dataset_lists_every_example_over_the_context(tokenizer) -> None:
    pairs = tiny_task(22)
    pairs[3] = ("a" * 30, "ok")
    pairs[9] = ("b", "c" * 40)
    fmt = PromptFormat.for_tokenizer(tokenizer)
    with pytest.raises(DatasetInvalid) as caught:
        encode_dataset(fmt, tokenizer, dataset_from_records(pairs), max_tokens=20)
    assert [p.location for p in caught.value.problems] == ["example 3", "example 9"]
    assert "input 31, output 3" in caught.value.problems[0].message


def test_token_stats() -> None:
    encoded = [EncodedExample((1, 2, 3, 4), 3), EncodedExample((1, 2, 3, 4, 5, 6), 2)]
    stats = token_stats(encoded)
    assert (stats.input_tokens_max, stats.output_tokens_max) == (3, 4)
    assert (stats.input_tokens_mean, stats.output_tokens_mean) == (2.5, 2.5)
    assert (stats.longest_example, stats.total_tokens) == (1, 10)
