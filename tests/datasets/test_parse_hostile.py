"""Hostile dataset input, property-tested: whatever the bytes, `parse_dataset` (and
`dataset_from_records`) returns a valid Dataset or raises DatasetInvalid with located problems.
Never another exception, never an unbounded list of problems, never a Dataset that cannot be
written back as UTF-8.

Formula-like CSV cells (=, +, -, @ first) are data: they are kept as plain text, exactly as
written, and never evaluated. Sintonia exports datasets only as JSONL (`Dataset.to_jsonl`), never
as CSV, so no spreadsheet ever opens a cell that Sintonia wrote.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sintonia.datasets import DEFAULT_LIMITS, Dataset, dataset_from_records, parse_dataset
from sintonia.errors import DatasetInvalid

FORMATS = ("jsonl", "json", "csv")
LOCATION = re.compile(r"(line|row|example) \d+|file|dataset")
MAX_LISTED = 1001  # 1,000 problems and one line saying that more were left out

# Hypothesis' defaults, minus the deadline: a slow shared CI core is not a failure here.
PROPERTY = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def outcome(parse, *args, **kwargs) -> Dataset | DatasetInvalid:
    """The Dataset, or the DatasetInvalid raised; any other exception fails the test."""
    try:
        dataset = parse(*args, **kwargs)
    except DatasetInvalid as error:
        assert_well_formed(error)
        return error
    assert_valid(dataset)
    return dataset


def assert_well_formed(error: DatasetInvalid) -> None:
    assert 1 <= len(error.problems) <= MAX_LISTED
    for problem in error.problems:
        assert LOCATION.fullmatch(problem.location), problem
        assert problem.message
    str(error).encode("utf-8")  # the message goes into an HTTP response


def assert_valid(dataset: Dataset) -> None:
    assert len(dataset) >= DEFAULT_LIMITS.min_examples
    for example in dataset.examples:
        for text, limit in (
            (example.text_input, DEFAULT_LIMITS.max_input_chars),
            (example.output, DEFAULT_LIMITS.max_output_chars),
        ):
            assert isinstance(text, str) and text.strip() and len(text) <= limit
    dataset.to_jsonl().encode("utf-8")  # what is stored with the tuned model
    assert len(dataset.sha256) == 64


# Text as people (and attackers) write it: any code point, the awkward ones made likely.
AWKWARD = st.sampled_from(["\x00", "\ufeff", "\u2028", "\r", "\n", '"', ",", "\\", "é", "😀"])
TEXT = st.text(st.characters(codec="utf-8") | AWKWARD, min_size=1, max_size=30)
FORMULA = st.builds(
    lambda lead, rest: lead + rest, st.sampled_from(["=", "+", "-", "@", "\t=", "\r="]), TEXT
)
PAIRS = st.lists(st.tuples(TEXT | FORMULA, TEXT | FORMULA), min_size=20, max_size=30)


def encode(pairs: list[tuple[str, str]], fmt: str) -> bytes:
    records = [{"text_input": i, "output": o} for i, o in pairs]
    if fmt == "jsonl":
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False).encode()
    out = io.StringIO()
    csv.writer(out).writerows([["text_input", "output"], *pairs])
    return out.getvalue().encode()


@PROPERTY
@given(data=st.binary(max_size=2000), fmt=st.sampled_from(FORMATS))
def test_random_bytes_give_a_dataset_or_located_problems(data: bytes, fmt: str) -> None:
    outcome(parse_dataset, data, fmt, source="random")


@PROPERTY
@given(
    lines=st.lists(st.binary(max_size=60) | st.sampled_from([b"{}", b"[]", b"1", b"\xef\xbb\xbf"])),
    fmt=st.sampled_from(FORMATS),
)
def test_random_lines_give_a_dataset_or_located_problems(lines: list[bytes], fmt: str) -> None:
    outcome(parse_dataset, b"\n".join(lines), fmt, source="lines")


@PROPERTY
@given(pairs=PAIRS, fmt=st.sampled_from(FORMATS))
def test_any_text_round_trips_exactly_formulas_included(
    pairs: list[tuple[str, str]], fmt: str
) -> None:
    result = outcome(parse_dataset, encode(pairs, fmt), fmt, source="text")
    # NUL, BOM and line separators are characters like any other: kept, not refused.
    if all(i.strip() and o.strip() for i, o in pairs):
        assert isinstance(result, Dataset), result
        # Kept verbatim: "=1+2" stays the text "=1+2", never a value computed from it.
        assert [(e.text_input, e.output) for e in result.examples] == pairs
    else:
        assert isinstance(result, DatasetInvalid)


@PROPERTY
@given(
    pairs=PAIRS,
    fmt=st.sampled_from(FORMATS),
    codec=st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252"]),
)
def test_wrong_encodings_are_named_not_misread(
    pairs: list[tuple[str, str]], fmt: str, codec: str
) -> None:
    text = encode(pairs, fmt).decode("utf-8", "surrogatepass")
    data = text.encode(codec, "replace")
    result = outcome(parse_dataset, data, fmt, source="encoded")
    if codec.startswith(("utf-16", "utf-32")):
        assert isinstance(result, DatasetInvalid)
        assert f"the file is {codec[:6].upper()} encoded" in str(result)
    elif isinstance(result, Dataset):
        assert data.isascii() or data.decode("utf-8", "strict")  # only if it was UTF-8 after all


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_utf8_bom_is_dropped(fmt: str) -> None:
    pairs = [(f"q{i}", f"a{i}") for i in range(20)]
    dataset = outcome(parse_dataset, codecs.BOM_UTF8 + encode(pairs, fmt), fmt, source="bom")
    assert isinstance(dataset, Dataset)
    assert dataset.examples[0].text_input == "q0"


# What json.loads can hand over from a request body: lone surrogates included ("\\ud800").
JSON_TEXT = st.text(st.characters() | AWKWARD | st.sampled_from(["\ud800", "\udfff"]))
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | JSON_TEXT,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["text_input", "textInput", "output"]) | TEXT, inner)
    ),
    max_leaves=40,
)
GOOD_RECORD = st.fixed_dictionaries({"text_input": JSON_TEXT, "output": JSON_TEXT})


@PROPERTY
@given(records=st.lists(GOOD_RECORD | JSON_VALUE, min_size=0, max_size=25) | JSON_VALUE)
def test_any_in_memory_value_gives_a_dataset_or_located_problems(records: object) -> None:
    outcome(dataset_from_records, records if isinstance(records, list | dict) else [records])


@PROPERTY
@given(records=st.lists(GOOD_RECORD, min_size=20, max_size=25))
def test_in_memory_text_is_kept_or_refused_never_half_stored(records: list[dict]) -> None:
    result = outcome(dataset_from_records, records)
    if isinstance(result, Dataset):
        assert [e.text_input for e in result.examples] == [r["text_input"] for r in records]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("depth", [50, 900, 5_000, 100_000])
def test_deeply_nested_json_is_a_problem_not_a_crash(fmt: str, depth: int) -> None:
    data = b"[" * depth + b"]" * depth
    result = outcome(parse_dataset, data, fmt, source="deep")
    assert isinstance(result, DatasetInvalid)


@pytest.mark.parametrize("depth", [50, 900, 5_000])
def test_deeply_nested_records_in_memory_are_a_problem_not_a_crash(depth: int) -> None:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    result = outcome(dataset_from_records, [{"text_input": value, "output": "o"}] * 20)
    assert isinstance(result, DatasetInvalid)
    assert "must be a string, found a list" in str(result)


def test_lone_surrogates_are_located_problems() -> None:
    # JSON may spell one ("\\ud800"); Python then holds a string UTF-8 cannot encode.
    rows = [{"text_input": f"q{i}", "output": "a"} for i in range(20)]
    data = "\n".join(json.dumps(r) for r in rows).replace('"q3"', '"q\\ud800"').encode()
    result = outcome(parse_dataset, data, "jsonl", source="surrogate")
    assert isinstance(result, DatasetInvalid)
    (problem,) = result.problems
    assert (problem.location, problem.field) == ("line 4", "text_input")
    assert "U+D800" in problem.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_huge_line_is_refused_by_size_or_length(fmt: str) -> None:
    pairs = [("x" * 3_000_000, "a")] + [(f"q{i}", "a") for i in range(19)]
    result = outcome(parse_dataset, encode(pairs, fmt), fmt, source="huge")
    assert isinstance(result, DatasetInvalid)
    if fmt == "csv":  # the CSV reader's own cap on a cell comes first
        assert "a cell is longer than 131,072 characters (an input may have 40,000)" in str(result)
    else:
        assert "3,000,000 characters long; the limit is 40,000" in str(result)
    bigger = outcome(parse_dataset, b"x" * (5 * 1024 * 1024), fmt, source="huge")
    assert "the limit is 4 MB" in str(bigger)


@pytest.mark.parametrize(
    "fmt, filler",
    [("jsonl", b"{}\n"), ("jsonl", b"x\n"), ("json", b"{},"), ("csv", b"a\n")],
)
def test_a_file_of_tiny_bad_records_stops_early(fmt: str, filler: bytes) -> None:
    # 4 MB of three-byte records is over a million problems: they are not all built (time
    # and memory), only the first thousand, then reading stops with a note saying where.
    head = {"json": b"[", "csv": b"text_input,output\n"}.get(fmt, b"")
    data = head + filler * ((DEFAULT_LIMITS.max_file_bytes - 20) // len(filler))
    data = data.rstrip(b",") + (b"]" if fmt == "json" else b"")
    started = time.perf_counter()
    result = outcome(parse_dataset, data, fmt, source="junk")
    assert time.perf_counter() - started < 5
    assert isinstance(result, DatasetInvalid)
    assert len(result.problems) == MAX_LISTED
    assert "checking stopped" in result.problems[-1].message


def test_a_million_bad_records_in_memory_stop_early() -> None:
    started = time.perf_counter()
    result = outcome(dataset_from_records, [{}] * 1_000_000)
    assert time.perf_counter() - started < 5
    assert isinstance(result, DatasetInvalid) and len(result.problems) == MAX_LISTED
