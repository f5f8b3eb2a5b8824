"""Read a dataset from a file, uploaded bytes or in-memory records, and validate it.

Each entry point returns a whole `Dataset` or raises `DatasetInvalid` with every problem found:
a parser locates raw records ("line 3", "row 5", "example 7") and reports what it could not
read, then `validate.check_record` reports what is wrong with what it could.

Parsers are generators and checking stops after the first thousand problems, so a hostile
file of a million tiny bad records costs milliseconds and a bounded amount of memory.

Every cell and string is text, kept exactly as written: a CSV cell such as "=1+2" or
"@SUM(A1)" is the text of an example, never evaluated. Sintonia writes datasets back only as
JSONL (`Dataset.to_jsonl`), never as CSV, so no spreadsheet opens a formula it wrote.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import Enum
from itertools import chain
from pathlib import Path
from typing import Literal, cast

from sintonia.datasets.encoding import decode_utf8
from sintonia.datasets.examples import Dataset, Example
from sintonia.datasets.jsontext import load_json, strip_trailing_commas
from sintonia.datasets.validate import (
    DEFAULT_LIMITS,
    Limits,
    LocatedRecord,
    check_count,
    check_record,
    describe_type,
    list_keys,
    missing_key_message,
    resolve_key,
)
from sintonia.errors import DatasetInvalid, Problem

Format = Literal["jsonl", "json", "csv"]

SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
}

# Only these end a line. str.splitlines() would also split on U+2028 and friends, which JSON
# strings may hold raw (json.dumps(ensure_ascii=False) writes them so).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# A file with thousands of bad lines needs the first of them fixed, not a response that lists
# them all; checking stops past this many, which also bounds the time and memory a hostile
# file can cost.
_MAX_PROBLEMS = 1000


class _Shape(Enum):
    INCOMPLETE = "incomplete"
    """Yielded when the file's shape was wrong or reading stopped early: the example count
    is then not checked, since "has 0 examples" would only mislead."""


INCOMPLETE = _Shape.INCOMPLETE

# What a parser yields, in reading order: a raw record, a problem it could not read past, or
# the INCOMPLETE mark.
_Item = LocatedRecord | Problem | _Shape


def read_dataset(
    path: str | os.PathLike[str],
    *,
    input_key: str = "text_input",
    output_key: str = "output",
    limits: Limits = DEFAULT_LIMITS,
) -> Dataset:
    """Read and validate a dataset file; its suffix picks the format.

    Args:
        path: A `.jsonl`/`.ndjson`, `.json` or `.csv` file, UTF-8 encoded.
        input_key: The key (or CSV column) holding the text input.
        output_key: The key (or CSV column) holding the expected output.
        limits: The limits to check, the file size among them (checked before reading).

    Returns:
        The dataset, its source the file's name.

    Raises:
        DatasetInvalid: With every problem found, including an unknown suffix, a missing
            file and a file that is too big.
    """
    path = Path(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(SUFFIXES)
        found = f"'{path.suffix}'" if path.suffix else "no suffix"
        message = f"unsupported file type ({found}); supported suffixes are {supported}"
        raise DatasetInvalid([Problem("file", None, message)], source=path.name)
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise DatasetInvalid([_too_big(size, limits)], source=path.name)
        data = path.read_bytes()
    except FileNotFoundError:
        problem = Problem("file", None, f"file not found: {path}")
        raise DatasetInvalid([problem], source=path.name) from None
    except OSError as error:
        problem = Problem("file", None, f"cannot read {path}: {error.strerror or error}")
        raise DatasetInvalid([problem], source=path.name) from None
    return parse_dataset(
        data, fmt, source=path.name, input_key=input_key, output_key=output_key, limits=limits
    )


def parse_dataset(
    data: bytes,
    fmt: Format,
    *,
    source: str,
    input_key: str = "text_input",
    output_key: str = "output",
    limits: Limits = DEFAULT_LIMITS,
) -> Dataset:
    """Parse and validate a dataset from a file's bytes, such as an upload.

    Args:
        data: The file's bytes: UTF-8, with or without a BOM, any line endings.
        fmt: "jsonl", "json" or "csv".
        source: The name to report problems under, such as the uploaded file's name.
        input_key: The key (or CSV column) holding the text input.
        output_key: The key (or CSV column) holding the expected output.
        limits: The limits to check, the size of `data` among them.

    Returns:
        The dataset.

    Raises:
        DatasetInvalid: With every problem found.
    """
    parsers = {"jsonl": _jsonl_records, "json": _json_records, "csv": _csv_records}
    if fmt not in parsers:
        message = f"unsupported format '{fmt}'; expected one of {', '.join(parsers)}"
        raise DatasetInvalid([Problem("file", None, message)], source=source)
    if len(data) > limits.max_file_bytes:
        raise DatasetInvalid([_too_big(len(data), limits)], source=source)
    text, problems = decode_utf8(data)
    items: Iterable[_Item]
    if text is None:
        items = [*problems, INCOMPLETE]
    else:
        items = chain(problems, parsers[fmt](text, input_key, output_key))
    return _build(items, source, input_key, output_key, limits, location="file")


def dataset_from_records(
    records: Iterable[object] | Mapping[str, Sequence[object]],
    *,
    source: str = "inline",
    input_key: str = "text_input",
    output_key: str = "output",
    limits: Limits = DEFAULT_LIMITS,
) -> Dataset:
    """Validate in-memory examples.

    Args:
        records: Dicts, (input, output) pairs, or one mapping of columns
            `{input_key: [...], output_key: [...]}`.
        source: The name to report problems under.
        input_key: The key holding the text input.
        output_key: The key holding the expected output.
        limits: The limits to check (the file size limit does not apply).

    Returns:
        The dataset.

    Raises:
        DatasetInvalid: With every problem found; locations are "example N", 0-based.
    """
    items: Iterable[_Item]
    if isinstance(records, Mapping):
        shapes = "a list of examples"
        items = _column_records(records, input_key, output_key, "dataset", other_shapes=shapes)
    elif isinstance(records, str | bytes):
        message = f"expected a list of examples, found {describe_type(records)}"
        items = [Problem("dataset", None, message), INCOMPLETE]
    else:
        items = _pair_records(records, input_key, output_key)
    return _build(items, source, input_key, output_key, limits, location="dataset")


def _build(
    items: Iterable[_Item],
    source: str,
    input_key: str,
    output_key: str,
    limits: Limits,
    location: str,
) -> Dataset:
    problems: list[Problem] = []
    examples: list[Example] = []
    count, complete, stopped_at = 0, True, None
    for item in items:
        if item is INCOMPLETE:
            complete = False
        elif isinstance(item, Problem):
            problems.append(item)
        elif isinstance(item, LocatedRecord):
            count += 1
            problems += check_record(
                item, input_key=input_key, output_key=output_key, limits=limits
            )
            if not problems:  # once anything is wrong no Dataset is built: stop collecting
                examples.append(_example(item.value, input_key, output_key))
        if len(problems) > _MAX_PROBLEMS:
            stopped_at = item.location if isinstance(item, LocatedRecord | Problem) else location
            break
    if complete and stopped_at is None:
        problems += check_count(count, limits=limits, location=location)
    if problems or not complete:
        problems.sort(key=_reading_order)
        if stopped_at is not None:
            message = (
                f"checking stopped at {stopped_at}, past {_MAX_PROBLEMS:,} problems; "
                "fix the ones above first"
            )
            problems = [*problems[:_MAX_PROBLEMS], Problem(location, None, message)]
        raise DatasetInvalid(problems, source=source)
    return Dataset(examples=tuple(examples), source=source)


def _example(value: object, input_key: str, output_key: str) -> Example:
    # Only called once validation passed: a mapping holding both keys, with string values.
    record = cast(Mapping[str, str], value)
    text_input = record[cast(str, resolve_key(record, input_key))]
    return Example(text_input=text_input, output=record[output_key])


def _reading_order(problem: Problem) -> tuple[int, int]:
    # "line 3" and "row 3" sort by number; "file" and "dataset" problems go last.
    _, _, number = problem.location.partition(" ")
    return (0, int(number)) if number.isdigit() else (1, 0)


def _too_big(size: int, limits: Limits) -> Problem:
    exact = f" ({size:,} bytes)" if size >= 1024 else ""
    limit = _human_size(limits.max_file_bytes)
    return Problem("file", None, f"the file is {_human_size(size)}{exact}; the limit is {limit}")


def _human_size(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size:,} bytes"


def _lines(text: str) -> Iterator[str]:
    # Lazily: a 4 MB file of empty lines would otherwise be a list of millions of strings.
    start = 0
    for found in _LINE_BREAK.finditer(text):
        yield text[start : found.start()]
        start = found.end()
    yield text[start:]


def _jsonl_records(text: str, input_key: str, output_key: str) -> Iterator[_Item]:
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        value, problem = load_json(line, f"line {number}")
        if problem is not None:
            yield problem  # and go on: the other lines may have problems too
        else:
            yield LocatedRecord(f"line {number}", value)


def _json_records(text: str, input_key: str, output_key: str) -> Iterator[_Item]:
    # Raw CRs cannot occur inside JSON strings, so this only makes json count lines the way
    # an editor does for files with old-Mac line endings.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    value, problem = load_json(strip_trailing_commas(text), None)
    if problem is not None:
        yield from (problem, INCOMPLETE)
    elif isinstance(value, list):
        yield from _indexed(value)
    elif isinstance(value, dict) and "examples" in value:
        inner = value["examples"]
        # The Gemini wire shape nests the list once more: {"examples": {"examples": [...]}}.
        if isinstance(inner, dict) and isinstance(inner.get("examples"), list):
            inner = inner["examples"]
        if isinstance(inner, list):
            yield from _indexed(inner)
        else:
            shape = 'a list of examples or {"examples": [...]}'
            message = f"must be {shape}, found {describe_type(inner)}"
            yield from (Problem("file", "examples", message), INCOMPLETE)
    else:
        other_shapes = 'a list of examples, {"examples": [...]}'
        yield from _column_records(value, input_key, output_key, "file", other_shapes=other_shapes)


def _indexed(values: Iterable[object]) -> Iterator[LocatedRecord]:
    # 0-based, as the Gemini API numbers examples[N].
    return (LocatedRecord(f"example {i}", value) for i, value in enumerate(values))


def _column_records(
    value: object, input_key: str, output_key: str, location: str, *, other_shapes: str
) -> Iterator[_Item]:
    """Records from columns {input_key: [...], output_key: [...]}, or the problem with them;
    `other_shapes` names what else would have been accepted, for that problem's message."""
    in_name = resolve_key(value, input_key) if isinstance(value, Mapping) else None
    if not isinstance(value, Mapping) or in_name is None or output_key not in value:
        columns = f'{{"{input_key}": [...], "{output_key}": [...]}}'
        found = describe_type(value)
        if isinstance(value, Mapping):
            found += f" with keys {list_keys(list(value))}"
        message = f"expected {other_shapes}, or columns {columns}; found {found}"
        yield from (Problem(location, None, message), INCOMPLETE)
        return
    columns = {in_name: value[in_name], output_key: value[output_key]}
    problems = [
        Problem(location, name, f"must be a list of values, found {describe_type(column)}")
        for name, column in columns.items()
        if not isinstance(column, list | tuple)
    ]
    if problems:
        yield from (*problems, INCOMPLETE)
        return
    inputs, outputs = (
        cast(Sequence[object], columns[in_name]),
        cast(Sequence[object], columns[output_key]),
    )
    if len(inputs) != len(outputs):
        message = (
            f"columns have different lengths: '{in_name}' has {len(inputs)} values, "
            f"'{output_key}' has {len(outputs)}"
        )
        yield Problem(location, None, message)
    # Unequal lengths were reported above; still check the pairs there are.
    pairs = ({in_name: i, output_key: o} for i, o in zip(inputs, outputs, strict=False))
    yield from _indexed(pairs)


def _pair_records(records: Iterable[object], input_key: str, output_key: str) -> Iterator[_Item]:
    for index, record in enumerate(records):
        location = f"example {index}"
        if not isinstance(record, list | tuple):
            yield LocatedRecord(location, record)  # a dict, or validation says why not
        elif len(record) == 2:
            yield LocatedRecord(location, {input_key: record[0], output_key: record[1]})
        else:
            noun = "item" if len(record) == 1 else "items"
            message = f"expected an (input, output) pair, found {len(record)} {noun}"
            yield Problem(location, None, message)


def _csv_records(text: str, input_key: str, output_key: str) -> Iterator[_Item]:
    header: list[str] | None = None
    number = 0  # rows as a spreadsheet numbers them: the header is row 1
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if not any(cells):
                continue  # a blank line, or a row of empty cells
            if header is None:
                header = cells
                missing = _missing_columns(header, f"row {number}", input_key, output_key)
                if missing:
                    yield from (*missing, INCOMPLETE)
                    return
            elif len(cells) != len(header):
                cell = "cell" if len(cells) == 1 else "cells"
                message = f"has {len(cells)} {cell} but the header has {len(header)} columns"
                yield Problem(f"row {number}", None, message)
            else:
                yield LocatedRecord(f"row {number}", dict(zip(header, cells, strict=True)))
    except csv.Error as error:
        # The reader cannot resynchronise after this; check the rows read so far, not the count.
        yield from (Problem(f"row {number + 1}", None, _csv_error(error)), INCOMPLETE)
        return
    if header is None:
        columns = f"'{input_key}' and '{output_key}'"
        problem = Problem("file", None, f"the file is empty; expected a header row {columns}")
        yield from (problem, INCOMPLETE)


def _csv_error(error: csv.Error) -> str:
    if "field limit" in str(error):  # the reader's own cap, far above the example limits
        return (
            f"a cell is longer than {csv.field_size_limit():,} characters (an input may have "
            f"{DEFAULT_LIMITS.max_input_chars:,}); the rows after it were not read"
        )
    return f"invalid CSV: {error}; the rows after it were not read"


def _missing_columns(
    header: list[str], location: str, input_key: str, output_key: str
) -> list[Problem]:
    taken = {k for k in (resolve_key(header, input_key), resolve_key(header, output_key)) if k}
    return [
        Problem(
            location,
            key,
            missing_key_message(key, header, is_input=is_input, taken=taken, csv=True),
        )
        for key, is_input in ((input_key, True), (output_key, False))
        if resolve_key(header, key) is None
    ]
