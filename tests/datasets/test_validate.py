"""The pure record checks: one table of records and the exact problems each one has."""

from __future__ import annotations

import pytest

from sintonia.datasets.validate import (
    Limits,
    LocatedRecord,
    check_count,
    check_record,
    resolve_key,
    suggest_key,
    validate_records,
)

LIMITS = Limits()

# (record, input_key, output_key, expected [(field, phrase)]); the location is always "line 7".
RECORDS = [
    ({"text_input": "q", "output": "a"}, "text_input", "output", []),
    ({"textInput": "q", "output": "a", "extra": 1}, "text_input", "output", []),
    ({"question": "q", "answer": "a"}, "question", "answer", []),
    ({"text_input": "x" * 40_000, "output": "y" * 5_000}, "text_input", "output", []),
    (
        {"input": "q", "output": "a"},
        "text_input",
        "output",
        [("text_input", "the record has keys 'input', 'output'; did you mean 'input'?")],
    ),
    (
        {"prompt": "q", "response": "a"},
        "text_input",
        "output",
        [
            ("text_input", "did you mean 'prompt'? Rename it to 'text_input'"),
            ("output", "did you mean 'response'? Rename it to 'output'"),
        ],
    ),
    ({"text": "q", "target": "a"}, "text_input", "output", [
        ("text_input", "did you mean 'text'?"), ("output", "did you mean 'target'?")
    ]),
    ({"text_input": "q", "completion": "a"}, "text_input", "output", [
        ("output", "did you mean 'completion'?")
    ]),
    # The alias is only for the default key; with a custom key, textInput is a near miss.
    ({"textInput": "q", "answer": "a"}, "question", "answer", [
        ("question", "missing key 'question'; the record has keys 'textInput', 'answer'; did you")
    ]),
    ({"foo": "q", "output": "a"}, "text_input", "output", [
        ("text_input", "missing key 'text_input'; the record has keys 'foo', 'output'")
    ]),
    ({}, "text_input", "output", [
        ("text_input", "the record has no keys"), ("output", "the record has no keys")
    ]),
    ({"text_input": 42, "output": None}, "text_input", "output", [
        ("text_input", "must be a string, found a number (42)"),
        ("output", "must be a string, found null"),
    ]),
    ({"text_input": ["q"], "output": True}, "text_input", "output", [
        ("text_input", "found a list"), ("output", "found a boolean (true)")
    ]),
    ({"text_input": {"a": 1}, "output": 1.5}, "text_input", "output", [
        ("text_input", "found an object"), ("output", "found a number (1.5)")
    ]),
    ({"text_input": "", "output": " \n\t"}, "text_input", "output", [
        ("text_input", "is empty"), ("output", "contains only whitespace")
    ]),
    # An error on the alias names the key the record used.
    ({"textInput": "", "output": "a"}, "text_input", "output", [("textInput", "is empty")]),
    ({"text_input": "x" * 40_001, "output": "y" * 5_001}, "text_input", "output", [
        ("text_input", "is 40,001 characters long; the limit is 40,000"),
        ("output", "is 5,001 characters long; the limit is 5,000"),
    ]),
    ({"question": "", "answer": 3}, "question", "answer", [
        ("question", "is empty"), ("answer", "found a number (3)")
    ]),
    ([1, 2], "text_input", "output", [
        (None, "expected an object with keys 'text_input' and 'output', found a list")
    ]),
    ("q", "question", "answer", [
        (None, "expected an object with keys 'question' and 'answer', found a string")
    ]),
]  # fmt: skip


@pytest.mark.parametrize(("value", "input_key", "output_key", "expected"), RECORDS)
def test_check_record(
    value: object, input_key: str, output_key: str, expected: list[tuple[str | None, str]]
) -> None:
    record = LocatedRecord("line 7", value)
    problems = check_record(record, input_key=input_key, output_key=output_key, limits=LIMITS)
    assert [(p.field, p.location) for p in problems] == [(f, "line 7") for f, _ in expected]
    for problem, (_, phrase) in zip(problems, expected, strict=True):
        assert phrase in problem.message


@pytest.mark.parametrize(
    ("count", "location", "phrase"),
    [
        (0, "file", "has 0 examples; at least 20 are required (100–500 are recommended)"),
        (1, "dataset", "has 1 example; at least 20"),
        (19, "file", "has 19 examples"),
        (20, "file", None),
        (500, "dataset", None),
    ],
)
def test_check_count(count: int, location: str, phrase: str | None) -> None:
    problems = check_count(count, limits=LIMITS, location=location)
    if phrase is None:
        assert problems == []
    else:
        [problem] = problems
        assert (problem.location, problem.field) == (location, None)
        assert phrase in problem.message


def test_validate_records_collects_every_problem_then_the_count() -> None:
    records = [
        LocatedRecord("example 0", {"text_input": "q", "output": "a"}),
        LocatedRecord("example 1", {"text_input": "", "output": "a"}),
        LocatedRecord("example 2", {"text_input": "q", "output": "y" * 5_001}),
        LocatedRecord("example 3", 7),
    ]
    problems = validate_records(records, location="dataset")
    assert [(p.location, p.field) for p in problems] == [
        ("example 1", "text_input"),
        ("example 2", "output"),
        ("example 3", None),
        ("dataset", None),
    ]
    assert "has 4 examples" in problems[-1].message


def test_validate_records_with_smaller_limits() -> None:
    limits = Limits(min_examples=1, max_input_chars=3, max_output_chars=2)
    records = [LocatedRecord("row 2", {"q": "abcd", "a": "ab"})]
    [problem] = validate_records(records, input_key="q", output_key="a", limits=limits)
    assert (problem.location, problem.field) == ("row 2", "q")
    assert "is 4 characters long; the limit is 3" in problem.message


@pytest.mark.parametrize(
    ("keys", "key", "expected"),
    [
        (["text_input", "textInput"], "text_input", "text_input"),
        (["textInput"], "text_input", "textInput"),
        (["textInput"], "question", None),
        (["output"], "output", "output"),
        (["outputText"], "output", None),
    ],
)
def test_resolve_key(keys: list[str], key: str, expected: str | None) -> None:
    assert resolve_key(keys, key) == expected


@pytest.mark.parametrize(
    ("wanted", "present", "is_input", "expected"),
    [
        ("text_input", ["Text_Input"], True, "Text_Input"),
        ("text_input", ["text-input"], True, "text-input"),
        ("text_input", ["input", "foo"], True, "input"),
        ("output", ["foo", "answer"], False, "answer"),
        ("output", ["outptu"], False, "outptu"),
        ("output", ["foo", "bar"], False, None),
        ("output", ["prompt"], False, None),
        ("question", ["prompt"], True, "prompt"),
    ],
)
def test_suggest_key(wanted: str, present: list[str], is_input: bool, expected: str | None) -> None:
    assert suggest_key(wanted, present, is_input=is_input) == expected


def test_limits_refuse_negative_values() -> None:
    with pytest.raises(ValueError, match="max_output_chars must be >= 0"):
        Limits(max_output_chars=-1)
