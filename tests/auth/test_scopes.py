"""Scope parsing: short names, Google's URLs, and every way to get it wrong."""

from __future__ import annotations

import pytest

from sintonia.auth.scopes import DEFAULT_SCOPES, Scope, parse_scopes
from sintonia.errors import InvalidArgument

URL = "https://www.googleapis.com/auth/generative-language"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tuning", {Scope.TUNING}),
        ("tuning.readonly", {Scope.TUNING_READONLY}),
        ("generate", {Scope.GENERATE}),
        ("tuning,generate", {Scope.TUNING, Scope.GENERATE}),
        ("  tuning ,\tgenerate\n", {Scope.TUNING, Scope.GENERATE}),
        ("TUNING", {Scope.TUNING}),
        ("tuning,tuning", {Scope.TUNING}),
        ("tuning,", {Scope.TUNING}),
        (f"{URL}.tuning", {Scope.TUNING}),
        (f"{URL}.tuning.readonly", {Scope.TUNING_READONLY}),
        (URL, {Scope.GENERATE}),
        (f"{URL}.tuning, generate, tuning.readonly", set(Scope)),
    ],
)
def test_parse_scopes_accepts(text: str, expected: set[Scope]) -> None:
    assert parse_scopes(text) == frozenset(expected)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("tuning,admin", "'admin'"),
        ("tuning.write", "'tuning.write'"),
        (f"{URL}.retriever", f"'{URL}.retriever'"),
        ("https://www.googleapis.com/auth/cloud-platform", "cloud-platform"),
        ("tuning generate", "'tuning generate'"),
    ],
)
def test_parse_scopes_names_the_unknown_entry_and_the_valid_ones(text: str, named: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_scopes(text)
    message = str(caught.value)
    assert named in message
    assert all(scope.value in message for scope in Scope)


@pytest.mark.parametrize("text", ["", "   ", ",", " , ,"])
def test_parse_scopes_refuses_nothing(text: str) -> None:
    with pytest.raises(InvalidArgument, match="No scopes given"):
        parse_scopes(text)


def test_default_scopes_tune_and_generate() -> None:
    assert frozenset({Scope.TUNING, Scope.GENERATE}) == DEFAULT_SCOPES
    assert parse_scopes(",".join(DEFAULT_SCOPES)) == DEFAULT_SCOPES
