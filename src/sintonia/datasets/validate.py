"""Checks on raw records, pure: every problem is collected and returned, nothing is raised.

A record is whatever a parser found at one location (a JSON value, a CSV row as a dict);
`validate_records` says everything wrong with a list of them at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields

from sintonia.errors import Problem

# The Gemini wire format spells the input key in camelCase; accept it for the default key.
_ALIASES: dict[str, str] = {"text_input": "textInput"}

# Keys people use for the same idea in other tools' formats; a missing key suggests these.
_INPUT_NEAR_MISSES = frozenset(
    {"text_input", "textinput", "input", "inputs", "input_text", "text", "prompt", "question"}
)
_OUTPUT_NEAR_MISSES = frozenset(
    {"output", "outputs", "output_text", "completion", "response", "target", "answer", "label"}
)

# Bounds on what a message quotes from a record, so one odd record cannot make a huge message.
_MAX_LISTED = 10
_MAX_GUESSED = 50
_MAX_KEY_CHARS = 60


@dataclass(frozen=True)
class Limits:
    """The Gemini tuning limits a dataset must meet."""

    min_examples: int = 20
    """Fewer examples than this is refused; 100 to 500 are recommended."""
    max_input_chars: int = 40_000
    max_output_chars: int = 5_000
    max_file_bytes: int = 4 * 1024 * 1024
    """Checked before a file is read, so a huge upload costs nothing."""

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"Limits.{f.name} must be >= 0, got {getattr(self, f.name)}")


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class LocatedRecord:
    """One raw record and where it was found: "line 3", "row 5" or "example 7"."""

    location: str
    value: object


def resolve_key(keys: Collection[str], key: str) -> str | None:
    """Which spelling of `key` a record (or CSV header) uses: `key` itself, or its alias
    (`textInput` for `text_input`).

    Args:
        keys: The record's keys or the header's columns.
        key: The configured key name.

    Returns:
        The key to read, or None when neither spelling is present.
    """
    if key in keys:
        return key
    alias = _ALIASES.get(key)
    return alias if alias is not None and alias in keys else None


def describe_type(value: object) -> str:
    """A JSON-flavoured name for what was found, so messages read the same for every format."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def suggest_key(wanted: str, present: Sequence[object], *, is_input: bool) -> str | None:
    """A present key that was probably meant as `wanted`, if any.

    Args:
        wanted: The key that is missing.
        present: The keys (or columns) the record does have, minus those already in use.
        is_input: Whether `wanted` is the input key (it picks the list of usual synonyms).

    Returns:
        The most likely key, or None when nothing looks close.
    """
    synonyms = _INPUT_NEAR_MISSES if is_input else _OUTPUT_NEAR_MISSES
    # Only the first few keys are worth a guess, and a record may have thousands.
    candidates = [key for key in present[:_MAX_GUESSED] if isinstance(key, str)]
    for key in candidates:
        if _normal(key) == _normal(wanted) or _normal(key) in synonyms:
            return key
    close = difflib.get_close_matches(wanted, candidates, n=1, cutoff=0.8) if candidates else []
    return close[0] if close else None


def _normal(key: str) -> str:
    return key.strip().lower().replace("-", "_").replace(" ", "_")


def missing_key_message(
    key: str,
    present: Sequence[object],
    *,
    is_input: bool,
    taken: Collection[str],
    csv: bool = False,
) -> str:
    """Say that `key` is missing, what there is instead, and which present key was likely meant.

    Args:
        key: The missing key (or column).
        present: The keys the record has (or the header's columns).
        is_input: Whether `key` is the input key.
        taken: Keys read for the other field, never suggested.
        csv: Word it for a CSV header rather than a record.

    Returns:
        The message.
    """
    noun, holder = ("column", "header") if csv else ("key", "record")
    has = f"{noun}s {list_keys(present)}" if present else f"no {noun}s"
    message = f"missing {noun} '{key}'; the {holder} has {has}"
    suggestion = suggest_key(key, [k for k in present if k not in taken], is_input=is_input)
    if suggestion is not None:
        message += f"; did you mean {_quoted(suggestion)}? Rename it to '{key}'"
    return message


def list_keys(keys: Sequence[object]) -> str:
    """Quote the first few keys for a message: "'a', 'b' and 12 more", or "none"."""
    listed = ", ".join(_quoted(k) for k in keys[:_MAX_LISTED]) or "none"
    return f"{listed} and {len(keys) - _MAX_LISTED} more" if len(keys) > _MAX_LISTED else listed


def _quoted(key: object) -> str:
    # Keys come from the user's file; keep a pathological one from flooding the message.
    text = str(key)
    return f"'{text}'" if len(text) <= _MAX_KEY_CHARS else f"'{text[:_MAX_KEY_CHARS]}…'"


def check_record(
    record: LocatedRecord, *, input_key: str, output_key: str, limits: Limits
) -> list[Problem]:
    """Every problem with one record.

    Args:
        record: The record and its location.
        input_key: The key holding the text input.
        output_key: The key holding the expected output.
        limits: The length limits to check against.

    Returns:
        The problems, empty when the record is a good example.
    """
    value = record.value
    if not isinstance(value, Mapping):
        message = f"expected an object with keys '{input_key}' and '{output_key}'"
        return [Problem(record.location, None, f"{message}, found {describe_type(value)}")]
    # Keys read for one field are never suggested for the other.
    taken = {k for k in (resolve_key(value, input_key), resolve_key(value, output_key)) if k}
    wanted = (
        (input_key, limits.max_input_chars, True),
        (output_key, limits.max_output_chars, False),
    )
    problems: list[Problem] = []
    for key, limit, is_input in wanted:
        used = resolve_key(value, key)
        if used is None:
            message = missing_key_message(key, list(value), is_input=is_input, taken=taken)
            problems.append(Problem(record.location, key, message))
        else:
            problems += _check_text(record.location, used, value[used], limit)
    return problems


def _check_text(location: str, key: str, value: object, limit: int) -> list[Problem]:
    if not isinstance(value, str):
        return [Problem(location, key, f"must be a string, found {describe_type(value)}")]
    if not value.strip():
        return [Problem(location, key, "is empty" if not value else "contains only whitespace")]
    if len(value) > limit:
        return [
            Problem(location, key, f"is {len(value):,} characters long; the limit is {limit:,}")
        ]
    if (half := _SURROGATE.search(value)) is not None:
        return [Problem(location, key, _surrogate_message(half))]
    return []


# JSON can spell half of a UTF-16 pair alone ("\\ud800"); such a string is not text, and
# UTF-8 cannot store it, so the dataset could not even be saved.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate_message(half: re.Match[str]) -> str:
    return (
        f"holds U+{ord(half.group()):04X} at character {half.start():,}, half of a UTF-16 "
        "surrogate pair on its own, which is not text; write the character itself"
    )


def check_count(count: int, *, limits: Limits, location: str) -> list[Problem]:
    """The problem with having only `count` examples, if there is one.

    Args:
        count: How many records were found.
        limits: Gives the minimum.
        location: "file" for a file or upload, "dataset" for in-memory records.

    Returns:
        One problem when there are too few examples, else none.
    """
    if count >= limits.min_examples:
        return []
    noun = "example" if count == 1 else "examples"
    message = (
        f"has {count} {noun}; at least {limits.min_examples} are required (100–500 are recommended)"
    )
    return [Problem(location, None, message)]


def validate_records(
    records: Sequence[LocatedRecord],
    *,
    input_key: str = "text_input",
    output_key: str = "output",
    limits: Limits = DEFAULT_LIMITS,
    location: str = "dataset",
) -> list[Problem]:
    """Every problem with a list of raw records, including there being too few of them.

    Args:
        records: The records, each with its location.
        input_key: The key holding the text input (`textInput` is accepted for `text_input`).
        output_key: The key holding the expected output.
        limits: The limits to check against.
        location: Where the count problem is reported: "file" or "dataset".

    Returns:
        The problems in record order, the count problem last; empty when all is well.
    """
    problems: list[Problem] = []
    for record in records:
        problems += check_record(record, input_key=input_key, output_key=output_key, limits=limits)
    return problems + check_count(len(records), limits=limits, location=location)
