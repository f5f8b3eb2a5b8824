"""What a tuned model refuses: one table of requests and the exact message of each refusal."""

from __future__ import annotations

import re

import pytest

from sintonia.errors import InvalidArgument, UnsupportedRequest
from sintonia.inference.request import MAX_INPUT_CHARS, check_sampling, check_tuned_model_request

MODEL = "tunedModels/x"

# (text, keyword arguments, the whole message)
REFUSED = [
    (
        "hi",
        {"system_instruction": True},
        "Developer instruction is not enabled for tunedModels/x",
    ),
    ("hi", {"json_mode": True}, "Json mode is not enabled for tunedModels/x"),
    (
        "hi",
        {"non_text_part": "inlineData"},
        "tunedModels/x accepts text input only; the request has a inlineData part.",
    ),
    (
        "hi",
        {"non_text_part": "fileData"},
        "tunedModels/x accepts text input only; the request has a fileData part.",
    ),
    ("", {}, "The request to tunedModels/x has no text input."),
    (" \n\t", {}, "The request to tunedModels/x has no text input."),
    (
        "x" * 40_001,
        {},
        "The input is 40,001 characters; tunedModels/x accepts at most 40,000 characters.",
    ),
    (
        "x" * 123_456,
        {},
        "The input is 123,456 characters; tunedModels/x accepts at most 40,000 characters.",
    ),
    # The first refusal wins: instruction, then JSON mode, then parts, then the text.
    (
        "",
        {"system_instruction": True, "json_mode": True, "non_text_part": "inlineData"},
        "Developer instruction is not enabled for tunedModels/x",
    ),
    (
        "",
        {"json_mode": True, "non_text_part": "inlineData"},
        "Json mode is not enabled for tunedModels/x",
    ),
    (
        "",
        {"non_text_part": "inlineData"},
        "tunedModels/x accepts text input only; the request has a inlineData part.",
    ),
]


@pytest.mark.parametrize(("text", "flags", "message"), REFUSED, ids=[m for _, _, m in REFUSED])
def test_refused(text: str, flags: dict[str, object], message: str) -> None:
    with pytest.raises(UnsupportedRequest) as info:
        check_tuned_model_request(MODEL, text, **flags)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert isinstance(info.value, InvalidArgument)


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("hi", {}),
        ("x" * 40_000, {}),
        (" padded ", {}),
        ("hi", {"system_instruction": False, "json_mode": False, "non_text_part": None}),
        ("hi", {"non_text_part": ""}),
    ],
    ids=["short", "at-limit", "padded", "all-false", "empty-part-kind"],
)
def test_accepted(text: str, flags: dict[str, object]) -> None:
    assert check_tuned_model_request(MODEL, text, **flags) is None  # type: ignore[arg-type]


def test_limit_is_the_documented_one() -> None:
    assert MAX_INPUT_CHARS == 40_000


@pytest.mark.parametrize(
    "settings, phrase",
    [
        ({"temperature": -0.1}, "temperature must be between 0 and 2"),
        ({"temperature": 2.5}, "temperature must be between 0 and 2"),
        ({"top_p": 0}, "topP must be in (0, 1]"),
        ({"top_p": 1.5}, "topP must be in (0, 1]"),
        ({"top_k": 0}, "topK must be at least 1"),
        ({"max_output_tokens": 0}, "maxOutputTokens must be at least 1"),
    ],
)
def test_sampling_out_of_range_is_refused(settings, phrase) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(phrase)):
        check_sampling(2.0, **settings)


def test_sampling_in_range_passes() -> None:
    check_sampling(2.0, temperature=0, top_p=1, top_k=1, max_output_tokens=1)
    check_sampling(2.0)
