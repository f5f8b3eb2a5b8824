"""Request bodies as hostile clients write them: `wire.parse_body` gives a dict or raises
InvalidArgument (400), never anything else."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sintonia.api import wire
from sintonia.errors import InvalidArgument


def nested(depth: int) -> bytes:
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


def test_nesting_up_to_the_limit_is_read() -> None:
    raw = nested(wire.MAX_DEPTH)
    assert json.dumps(wire.parse_body(raw), separators=(",", ":")).encode() == raw


@pytest.mark.parametrize("depth", [wire.MAX_DEPTH + 1, 950, 100_000])
def test_deeper_nesting_is_refused_not_a_recursion_error(depth: int) -> None:
    # 950 levels pass json.loads but once overflowed the recursive normalisation (a 500).
    with pytest.raises(InvalidArgument, match="nested"):
        wire.parse_body(nested(depth))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"displayName": "a\\ud800"}',
        b'{"a\\udfffb": 1}',
        b'{"metadata": {"k": ["\\ud800"]}}',
    ],
)
def test_lone_surrogates_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidArgument, match="surrogate pair on its own"):
        wire.parse_body(raw)


def test_a_whole_surrogate_pair_is_a_character() -> None:
    assert wire.parse_body(b'{"displayName": "\\ud83d\\ude00"}') == {"displayName": "😀"}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(number: str) -> None:
    with pytest.raises(InvalidArgument, match="not a finite number"):
        wire.parse_body(f'{{"temperature": {number}}}'.encode())


@settings(deadline=None, max_examples=200)
@given(st.binary(max_size=300))
def test_any_bytes_give_an_object_or_invalid_argument(raw: bytes) -> None:
    with contextlib.suppress(InvalidArgument):
        assert isinstance(wire.parse_body(raw, required=False), dict)


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=30,
)


@settings(deadline=None, max_examples=200)
@given(st.dictionaries(st.text(), JSON, max_size=4))
def test_any_json_object_normalises_to_one_that_serialises(value: dict) -> None:
    raw = json.dumps(value).encode()
    try:
        body = wire.parse_body(raw)
    except InvalidArgument:
        return
    json.dumps(body, allow_nan=False).encode("utf-8")  # what a response or the database needs
