"""Parsing files, bytes and in-memory records: tables of good and bad inputs.

Each bad input lists every problem it must raise, in order, as (location, field, key phrase),
so a test also proves that all problems are reported at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from sintonia.datasets import (
    Dataset,
    Example,
    Limits,
    dataset_from_records,
    parse_dataset,
    read_dataset,
)
from sintonia.datasets.encoding import decode_utf8
from sintonia.datasets.jsontext import strip_trailing_commas
from sintonia.errors import DatasetInvalid

N = 20  # the minimum number of examples
PAIRS = [(f"question {i}", f"answer {i}") for i in range(N)]
EXAMPLES = tuple(Example(q, a) for q, a in PAIRS)
RECORDS = [{"text_input": q, "output": a} for q, a in PAIRS]

Expected = list[tuple[str, str | None, str]]


def jsonl(records: list[Any], newline: str = "\n") -> bytes:
    return newline.join(json.dumps(r, ensure_ascii=False) for r in records).encode()


def as_json(value: object) -> bytes:
    return json.dumps(value, indent=2).encode()


def as_csv(header: list[str], rows: list[list[str]], newline: str = "\r\n") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerows([header, *rows])
    return out.getvalue().encode()


def good(n: int = N) -> list[dict[str, str]]:
    return RECORDS[:n]


def problems_of(error: DatasetInvalid) -> Expected:
    return [(p.location, p.field, p.message) for p in error.problems]


def assert_problems(error: DatasetInvalid, expected: Expected) -> None:
    found = problems_of(error)
    assert [(loc, field) for loc, field, _ in found] == [(loc, f) for loc, f, _ in expected], found
    for (_, _, message), (_, _, phrase) in zip(found, expected, strict=True):
        assert phrase in message, (message, phrase)


# (format, bytes, keyword arguments, the examples expected)
GOOD_INPUTS = [
    pytest.param("jsonl", jsonl(RECORDS), {}, EXAMPLES, id="jsonl"),
    pytest.param(
        "jsonl", b"\n\n" + jsonl(RECORDS, "\n\n") + b"\n  \n", {}, EXAMPLES, id="jsonl-blank-lines"
    ),
    pytest.param("jsonl", jsonl(RECORDS, "\r\n") + b"\r\n", {}, EXAMPLES, id="jsonl-crlf"),
    pytest.param("jsonl", jsonl(RECORDS, "\r"), {}, EXAMPLES, id="jsonl-cr"),
    pytest.param("jsonl", b"\xef\xbb\xbf" + jsonl(RECORDS), {}, EXAMPLES, id="jsonl-bom"),
    pytest.param(
        "jsonl",
        jsonl([{"textInput": q, "output": a, "id": 1} for q, a in PAIRS]),
        {},
        EXAMPLES,
        id="jsonl-textInput-alias-extra-keys",
    ),
    pytest.param(
        "jsonl",
        jsonl([{"text_input": "a\u2028b", "output": "é ✓"}] * N),
        {},
        (Example("a\u2028b", "é ✓"),) * N,
        id="jsonl-unicode-line-separator-stays-in-string",
    ),
    pytest.param("json", as_json(RECORDS), {}, EXAMPLES, id="json-list"),
    pytest.param("json", as_json({"examples": RECORDS}), {}, EXAMPLES, id="json-examples"),
    pytest.param(
        "json",
        as_json({"examples": {"examples": [{"textInput": q, "output": a} for q, a in PAIRS]}}),
        {},
        EXAMPLES,
        id="json-gemini-wire-shape",
    ),
    pytest.param(
        "json",
        as_json({"text_input": [q for q, _ in PAIRS], "output": [a for _, a in PAIRS]}),
        {},
        EXAMPLES,
        id="json-columns",
    ),
    pytest.param(
        "json",
        as_json({"q": [q for q, _ in PAIRS], "a": [a for _, a in PAIRS]}),
        {"input_key": "q", "output_key": "a"},
        EXAMPLES,
        id="json-columns-custom-keys",
    ),
    pytest.param(
        "json",
        # As in the Gemini curl examples: a comma before each closing bracket, CRLF, a BOM.
        b"\xef\xbb\xbf{\r\n  \"examples\": {\r\n    \"examples\": [\r\n"
        + b"".join(
            b'      {"textInput": "%s,]", "output": "%s",},\r\n' % (q.encode(), a.encode())
            for q, a in PAIRS
        )
        + b"    ],\r\n  },\r\n}\r\n",
        {},
        tuple(Example(f"{q},]", a) for q, a in PAIRS),
        id="json-trailing-commas-crlf-bom",
    ),
    pytest.param("csv", as_csv(["text_input", "output"], PAIRS), {}, EXAMPLES, id="csv"),
    pytest.param(
        "csv",
        as_csv(["id", "answer", "question"], [["1", a, q] for q, a in PAIRS], "\n"),
        {"input_key": "question", "output_key": "answer"},
        EXAMPLES,
        id="csv-custom-columns",
    ),
    pytest.param(
        "csv",
        b"\xef\xbb\xbf"
        + as_csv(["textInput", "output"], [["line 1\r\nline 2", 'say "hi", then go']] * N)
        + b",\r\n\r\n",
        {},
        (Example("line 1\r\nline 2", 'say "hi", then go'),) * N,
        id="csv-bom-alias-quoted-newlines-blank-rows",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fmt", "data", "kwargs", "expected"), GOOD_INPUTS)
def test_parse_good_input(
    fmt: Any, data: bytes, kwargs: dict[str, str], expected: tuple[Example, ...]
) -> None:
    dataset = parse_dataset(data, fmt, source="upload", **kwargs)
    assert dataset == Dataset(examples=expected, source="upload")


TOO_LONG_INPUT = "x" * 40_001
TOO_LONG_OUTPUT = "y" * 5_001

# (format, bytes, keyword arguments, every problem expected, in order)
BAD_INPUTS = [
    pytest.param(
        "jsonl", jsonl(good(2)) + b'\n{"text_input": "q", "output": }\n' + jsonl(good(18)), {},
        [("line 3", None, "invalid JSON: Expecting value (column 31)")],
        id="jsonl-broken-line",
    ),
    pytest.param(
        "jsonl", jsonl([*good(), [1, 2], 7]), {},
        [
            ("line 21", None, "expected an object with keys 'text_input' and 'output', found a"),
            ("line 22", None, "found a number (7)"),
        ],
        id="jsonl-not-objects",
    ),
    pytest.param(
        "jsonl", jsonl([*good(), {"input": "q", "output": "a"}]), {},
        [("line 21", "text_input", "missing key 'text_input'; the record has keys 'input', "
          "'output'; did you mean 'input'? Rename it to 'text_input'")],
        id="missing-key-suggestion",
    ),
    pytest.param(
        "jsonl", jsonl([*good(), {"text_input": 12, "output": None}]), {},
        [
            ("line 21", "text_input", "must be a string, found a number (12)"),
            ("line 21", "output", "must be a string, found null"),
        ],
        id="non-string-values",
    ),
    pytest.param(
        "jsonl", jsonl([*good(), {"text_input": "", "output": "  "}]), {},
        [("line 21", "text_input", "is empty"), ("line 21", "output", "contains only whitespace")],
        id="empty-strings",
    ),
    pytest.param(
        "jsonl",
        jsonl([*good(), {"text_input": TOO_LONG_INPUT, "output": TOO_LONG_OUTPUT}]),
        {},
        [
            ("line 21", "text_input", "is 40,001 characters long; the limit is 40,000"),
            ("line 21", "output", "is 5,001 characters long; the limit is 5,000"),
        ],
        id="too-long",
    ),
    pytest.param(
        "jsonl", jsonl(good(12)), {},
        [("file", None, "has 12 examples; at least 20 are required (100–500 are recommended)")],
        id="too-few",
    ),
    pytest.param(
        "jsonl",
        jsonl(good(5)) + b"\n{oops\n" + jsonl([{"text_input": "q", "output": TOO_LONG_OUTPUT}])
        + b"\n" + jsonl(good(6)),
        {},
        [
            ("line 6", None, "invalid JSON"),
            ("line 7", "output", "is 5,001 characters long"),
            ("file", None, "has 12 examples"),
        ],
        id="three-problems-at-once",
    ),
    pytest.param(
        "jsonl",
        jsonl(good(1)) + b'\n{"text_input": "caf\xe9", "output": "a"}\n' + jsonl(good(3)),
        {},
        [
            ("line 2", None, "the byte 0xE9 at offset 70 is not valid UTF-8; re-save the file"),
            ("file", None, "has 5 examples"),
        ],
        id="jsonl-not-utf8-other-problems-still-reported",
    ),
    pytest.param(
        "csv", b"text_input,output\r\nq,a\r\ncaf\xe9,b\r\n", {},
        [
            ("line 3", None, "the byte 0xE9 at offset 27 is not valid UTF-8"),
            ("file", None, "has 2 examples"),
        ],
        id="csv-not-utf8",
    ),
    pytest.param(
        "json", b'[\n  {"text_input": "\x93quoted\x94", "output": "a"}\n]', {},
        [
            ("line 2", None, "the byte 0x93 at offset 20 is not valid UTF-8"),
            ("file", None, "has 1 example"),
        ],
        id="json-not-utf8",
    ),
    pytest.param(
        "jsonl", jsonl(RECORDS).decode().encode("utf-16"), {},
        [("file", None, "UTF-16 encoded, which is not supported; re-save the file as UTF-8")],
        id="utf16-bom",
    ),
    pytest.param(
        "csv", "text_input,output\n".encode("utf-16-be"), {},
        [("file", None, "UTF-16")],
        id="utf16-no-bom",
    ),
    pytest.param(
        "csv", as_csv(["text_input", "response"], PAIRS), {},
        [("row 1", "output", "missing column 'output'; the header has columns 'text_input', "
          "'response'; did you mean 'response'?")],
        id="csv-missing-column",
    ),
    pytest.param(
        "csv", as_csv(["q", "a"], PAIRS), {"input_key": "question", "output_key": "answer"},
        [
            ("row 1", "question", "missing column 'question'; the header has columns 'q', 'a'"),
            ("row 1", "answer", "missing column 'answer'"),
        ],
        id="csv-custom-columns-missing",
    ),
    pytest.param(
        "csv", as_csv(["text_input", "output"], [*PAIRS[:2], ["a", "b", "c"], ["d"], *PAIRS]), {},
        [
            ("row 4", None, "has 3 cells but the header has 2 columns"),
            ("row 5", None, "has 1 cell but the header has 2 columns"),
        ],
        id="csv-ragged-rows",
    ),
    pytest.param(
        "csv", as_csv(["question", "answer"], [*PAIRS, ["", "b"], ["a", " "]]),
        {"input_key": "question", "output_key": "answer"},
        [("row 22", "question", "is empty"), ("row 23", "answer", "contains only whitespace")],
        id="csv-empty-cells-name-custom-columns",
    ),
    pytest.param(
        "csv", b"text_input,output\nq,\n" + b"x" * 200_000 + b",a\n" + b"q,a\n" * 20, {},
        [
            ("row 2", "output", "is empty"),
            ("row 3", None, "a cell is longer than 131,072 characters (an input may have 40,000)"),
        ],
        id="csv-reading-stops-without-a-misleading-count",
    ),
    pytest.param(
        "jsonl", jsonl([*good(), {f"k{i}": 1 for i in range(30)}]), {},
        [
            ("line 21", "text_input", "the record has keys 'k0', 'k1', 'k2', 'k3', 'k4', 'k5', "
             "'k6', 'k7', 'k8', 'k9' and 20 more"),
            ("line 21", "output", "and 20 more"),
        ],
        id="many-keys-listed-briefly",
    ),
    pytest.param(
        "csv", b"", {},
        [("file", None, "the file is empty; expected a header row 'text_input' and 'output'")],
        id="csv-empty-file",
    ),
    pytest.param(
        "json", b"[" * 100_000, {}, [("file", None, "invalid JSON: nested too deeply")],
        id="json-deeply-nested",
    ),
    pytest.param(
        "json", b'[\n  {"text_input": "q", "output": "a"}\n  {"text_input": "q"}\n]', {},
        [("line 3", None, "invalid JSON: Expecting ',' delimiter (column 3)")],
        id="json-broken",
    ),
    pytest.param(
        "json", b"[1,,]", {}, [("line 1", None, "invalid JSON")], id="json-double-comma",
    ),
    pytest.param(
        "json", b'"just a string"', {},
        [("file", None, 'expected a list of examples, {"examples": [...]}, or columns '
          '{"text_input": [...], "output": [...]}; found a string')],
        id="json-wrong-top-level",
    ),
    pytest.param(
        "json", b'{"data": []}', {}, [("file", None, "found an object with keys 'data'")],
        id="json-unknown-object",
    ),
    pytest.param(
        "json", b'{"examples": {"items": []}}', {},
        [("file", "examples", 'must be a list of examples or {"examples": [...]}, found an')],
        id="json-examples-wrong-shape",
    ),
    pytest.param(
        "json", as_json({"text_input": ["q"] * 21, "output": ["a"] * 20}), {},
        [("file", None, "different lengths: 'text_input' has 21 values, 'output' has 20")],
        id="json-columns-unequal",
    ),
    pytest.param(
        "json", as_json({"text_input": "q", "output": "a"}), {},
        [("file", "text_input", "must be a list of values, found a string"),
         ("file", "output", "must be a list of values, found a string")],
        id="json-single-object",
    ),
    pytest.param(
        "json", as_json([*good(), {"textInput": "q"}, {"question": "q", "answer": "a"}]), {},
        [
            ("example 20", "output", "missing key 'output'; the record has keys 'textInput'"),
            ("example 21", "text_input", "did you mean 'question'?"),
            ("example 21", "output", "did you mean 'answer'?"),
        ],
        id="json-list-index-is-zero-based",
    ),
    pytest.param(
        "json", as_json([{"q": "x", "a": TOO_LONG_OUTPUT}]), {"input_key": "q", "output_key": "a"},
        [("example 0", "a", "is 5,001 characters long"), ("file", None, "has 1 example;")],
        id="json-custom-keys-named-in-errors",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fmt", "data", "kwargs", "expected"), BAD_INPUTS)
def test_parse_bad_input(fmt: Any, data: bytes, kwargs: dict[str, str], expected: Expected) -> None:
    with pytest.raises(DatasetInvalid) as caught:
        parse_dataset(data, fmt, source="upload", **kwargs)
    assert caught.value.source == "upload"
    assert_problems(caught.value, expected)


def test_parse_dataset_refuses_too_big_bytes_and_unknown_format() -> None:
    with pytest.raises(DatasetInvalid) as caught:
        parse_dataset(jsonl(RECORDS), "jsonl", source="up", limits=Limits(max_file_bytes=100))
    assert_problems(caught.value, [("file", None, "the file is 1 KB (1,")])
    assert "; the limit is 100 bytes" in caught.value.problems[0].message
    with pytest.raises(DatasetInvalid) as caught:
        parse_dataset(b"", "xml", source="up")  # type: ignore[arg-type]
    assert_problems(caught.value, [("file", None, "expected one of jsonl, json, csv")])


def test_thousands_of_problems_are_capped() -> None:
    with pytest.raises(DatasetInvalid) as caught:
        parse_dataset(b"{}\n" * 600, "jsonl", source="junk.jsonl")
    problems = caught.value.problems
    assert len(problems) == 1001
    assert problems[0].location == "line 1"
    # Checking stops once past the cap (line 501 brings problems 1,001 and 1,002).
    assert str(problems[-1]) == (
        "file: checking stopped at line 501, past 1,000 problems; fix the ones above first"
    )


def test_many_non_utf8_lines_are_summarised() -> None:
    data = b"\n".join([b'{"text_input": "\xe9", "output": "a"}'] * 25)
    with pytest.raises(DatasetInvalid) as caught:
        parse_dataset(data, "jsonl", source="latin1.jsonl")
    locations = [p.location for p in caught.value.problems]
    assert locations == [f"line {n}" for n in range(1, 11)] + ["file"]
    assert "15 more lines hold bytes that are not valid UTF-8" in caught.value.problems[-1].message


# (records, keyword arguments, the examples expected)
GOOD_RECORDS = [
    pytest.param(RECORDS, {}, EXAMPLES, id="dicts"),
    pytest.param(PAIRS, {}, EXAMPLES, id="tuples"),
    pytest.param([list(p) for p in PAIRS], {}, EXAMPLES, id="lists"),
    pytest.param((r for r in RECORDS), {}, EXAMPLES, id="generator"),
    pytest.param(
        {"text_input": [q for q, _ in PAIRS], "output": [a for _, a in PAIRS]}, {}, EXAMPLES,
        id="columns",
    ),
    pytest.param(
        [{"q": q, "a": a} for q, a in PAIRS], {"input_key": "q", "output_key": "a"}, EXAMPLES,
        id="custom-keys",
    ),
    pytest.param([{"textInput": q, "output": a} for q, a in PAIRS], {}, EXAMPLES, id="alias"),
]  # fmt: skip


@pytest.mark.parametrize(("records", "kwargs", "expected"), GOOD_RECORDS)
def test_dataset_from_good_records(
    records: Any, kwargs: dict[str, str], expected: tuple[Example, ...]
) -> None:
    assert dataset_from_records(records, **kwargs) == Dataset(expected, source="inline")


BAD_RECORDS = [
    pytest.param(
        [*PAIRS, ("q",), ("q", "a", "extra"), ("q", 5)], {},
        [
            ("example 20", None, "expected an (input, output) pair, found 1 item"),
            ("example 21", None, "found 3 items"),
            ("example 22", "output", "must be a string, found a number (5)"),
        ],
        id="bad-pairs",
    ),
    pytest.param(
        [*RECORDS, "q", None], {},
        [("example 20", None, "found a string"), ("example 21", None, "found null")],
        id="not-records",
    ),
    pytest.param(PAIRS[:3], {}, [("dataset", None, "has 3 examples")], id="too-few"),
    pytest.param(
        {"text_input": ["q"] * 20, "output": ["a"] * 21}, {},
        [("dataset", None, "different lengths")], id="columns-unequal",
    ),
    pytest.param(
        {"prompt": [], "output": []}, {}, [("dataset", None, "found an object with keys 'prompt'")],
        id="columns-missing",
    ),
    pytest.param("text", {}, [("dataset", None, "expected a list of examples, found a string")],
                 id="a-string"),
]  # fmt: skip


@pytest.mark.parametrize(("records", "kwargs", "expected"), BAD_RECORDS)
def test_dataset_from_bad_records(records: Any, kwargs: dict[str, str], expected: Expected) -> None:
    with pytest.raises(DatasetInvalid) as caught:
        dataset_from_records(records, **kwargs)
    assert caught.value.source == "inline"
    assert_problems(caught.value, expected)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("train.jsonl", jsonl(RECORDS)),
        ("train.NDJSON", jsonl(RECORDS)),
        ("train.json", as_json(RECORDS)),
        ("train.csv", as_csv(["text_input", "output"], PAIRS)),
    ],
)
def test_read_dataset(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    assert read_dataset(tmp_path / name) == Dataset(EXAMPLES, source=name)
    assert read_dataset(str(tmp_path / name)).source == name


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("train.txt", "unsupported file type ('.txt'); supported suffixes are .jsonl, .ndjson"),
        ("train", "unsupported file type (no suffix)"),
    ],
)
def test_read_dataset_unknown_suffix(tmp_path: Path, name: str, phrase: str) -> None:
    (tmp_path / name).write_bytes(jsonl(RECORDS))
    with pytest.raises(DatasetInvalid) as caught:
        read_dataset(tmp_path / name)
    assert_problems(caught.value, [("file", None, phrase)])


def test_read_dataset_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetInvalid) as caught:
        read_dataset(tmp_path / "nope.jsonl")
    assert caught.value.source == "nope.jsonl"
    assert_problems(caught.value, [("file", None, "file not found")])


def test_read_dataset_unreadable_path(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(DatasetInvalid) as caught:
        read_dataset(tmp_path / "dir.json")
    assert_problems(caught.value, [("file", None, "cannot read")])


def test_read_dataset_too_big_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as f:
        f.truncate(5 * 1024 * 1024 + 512 * 1024)  # sparse: costs no disk, and is never read
    with pytest.raises(DatasetInvalid) as caught:
        read_dataset(path)
    assert_problems(
        caught.value, [("file", None, "the file is 5.5 MB (5,767,168 bytes); the limit is 4 MB")]
    )


def test_read_dataset_too_big_with_smaller_limit(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    path.write_bytes(b"x" * 200)
    with pytest.raises(DatasetInvalid) as caught:
        read_dataset(path, limits=Limits(max_file_bytes=100))
    assert_problems(caught.value, [("file", None, "the file is 200 bytes; the limit is 100 bytes")])


def test_dataset_sha256_is_canonical_and_changes_with_the_examples() -> None:
    from_jsonl = parse_dataset(jsonl(RECORDS), "jsonl", source="a.jsonl")
    from_csv = parse_dataset(as_csv(["q", "a"], PAIRS), "csv", source="b", input_key="q",
                             output_key="a")  # fmt: skip
    assert from_jsonl.sha256 == from_csv.sha256 == dataset_from_records(PAIRS).sha256
    assert from_jsonl.sha256 == hashlib.sha256(from_jsonl.to_jsonl().encode()).hexdigest()
    changed = dataset_from_records([*PAIRS[:-1], ("question 19", "answer 19!")])
    assert changed.sha256 != from_jsonl.sha256
    assert len(from_jsonl) == N


def test_to_jsonl_is_one_object_per_line_keeping_non_ascii() -> None:
    dataset = Dataset((Example("¿qué?", "sí"), Example("a\nb", '"c"')), source="inline")
    assert dataset.to_jsonl() == (
        '{"text_input": "¿qué?", "output": "sí"}\n{"text_input": "a\\nb", "output": "\\"c\\""}\n'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1,]", "[1 ]"),
        ('{"a": 1 ,\n}', '{"a": 1  \n}'),
        ("[[1, 2,], {},\r\n]", "[[1, 2 ], {} \r\n]"),
        ('["a,]", "b",]', '["a,]", "b" ]'),
        ('["\\",]", 1,]', '["\\",]", 1 ]'),
        ('["\\\\",]', '["\\\\" ]'),
        ("[,]", "[,]"),
        ("[1,,]", "[1,,]"),
        ('{"a":,}', '{"a":,}'),
        ('["open, ]', '["open, ]'),
        ("[1, 2]", "[1, 2]"),
        ("", ""),
    ],
)
def test_strip_trailing_commas(text: str, expected: str) -> None:
    assert strip_trailing_commas(text) == expected


@pytest.mark.parametrize(
    ("data", "text", "locations"),
    [
        (b"\xef\xbb\xbfabc", "abc", []),
        (b"a\r\nb\rc\n\xff", "a\r\nb\rc\n\ufffd", ["line 4"]),
        (b"\xef\xbb\xbf\xff\xfe", "\ufffd\ufffd", ["line 1"]),
        (b"\xff\xfea\x00", None, ["file"]),
        (b"\xfe\xff\x00a", None, ["file"]),
    ],
)
def test_decode_utf8(data: bytes, text: str | None, locations: list[str]) -> None:
    decoded, problems = decode_utf8(data)
    assert decoded == text
    assert [p.location for p in problems] == locations
