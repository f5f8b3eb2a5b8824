"""Tuned-model ids: the Gemini pattern, ids made from display names, and the name limit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sintonia.errors import InvalidArgument
from sintonia.storage.names import (
    ID_PATTERN,
    check_display_name,
    check_id,
    check_tuned_model_id,
    make_tuned_model_id,
    random_id,
)

MADE_ID = re.compile(r"[a-z][a-z0-9-]*-[a-z0-9]{12}")


@pytest.mark.parametrize(
    ("given", "bare"),
    [
        ("abc", "abc"),
        ("tunedModels/abc", "abc"),
        ("a", "a"),
        ("a1-b2", "a1-b2"),
        ("a" * 40, "a" * 40),
        ("tunedModels/" + "b" * 40, "b" * 40),
        ("number-generator-model-dzlmi0gswwqb", "number-generator-model-dzlmi0gswwqb"),
    ],
)
def test_valid_ids(given: str, bare: str) -> None:
    assert check_tuned_model_id(given) == bare


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "tunedModels/",
        "1abc",
        "-abc",
        "abc-",
        "ABC",
        "aBc",
        "a_b",
        "a b",
        "a" * 41,
        "../etc",
        "a/b",
        "tunedModels/a/b",
        "abc\n",
        "models/abc",
    ],
)
def test_invalid_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        check_tuned_model_id(bad)
    message = str(info.value)
    # Quoted as Python does, so control characters such as NUL show in the message.
    assert f"Invalid tuned model id {bad.removeprefix('tunedModels/')!r}" in message
    assert "1 to 40 lowercase letters, digits and hyphens, starting with a letter" in message


def test_made_id_joins_display_name_words_and_adds_a_suffix() -> None:
    made = make_tuned_model_id("Number generator model")
    assert re.fullmatch(r"number-generator-model-[a-z0-9]{12}", made)
    assert check_tuned_model_id(made) == made


@pytest.mark.parametrize(
    ("display_name", "stem"),
    [
        ("", "tuned"),
        ("   ", "tuned"),
        ("!!!", "tuned"),
        ("123 go", "tuned-123-go"),
        ("9lives", "tuned-9lives"),
        ("Hello, World!", "hello-world"),
        ("  spaced   out  ", "spaced-out"),
        ("Café Olé", "caf-ol"),
    ],
)
def test_made_id_stem(display_name: str, stem: str) -> None:
    made = make_tuned_model_id(display_name)
    assert made[:-13] == stem
    assert made[-13] == "-"
    assert re.fullmatch(r"[a-z0-9]{12}", made[-12:])
    assert ID_PATTERN.fullmatch(made)


@pytest.mark.parametrize(
    "display_name",
    [
        "A very long display name that goes on and on and on",
        "x" * 200,
        "a " * 100,
        "word-" * 30,
        "9" * 100,
        "abcdefghijklmnopqrstuvwxyz a",  # the cut lands just before a hyphen
    ],
)
def test_made_id_fits_the_limit_and_is_valid(display_name: str) -> None:
    made = make_tuned_model_id(display_name)
    assert len(made) <= 40
    assert MADE_ID.fullmatch(made)
    assert "--" not in made
    assert check_tuned_model_id(made) == made


def test_long_name_keeps_as_much_of_the_stem_as_fits() -> None:
    made = make_tuned_model_id("x" * 200)
    assert made[:-13] == "x" * 27
    assert len(made) == 40


def test_two_calls_give_different_ids() -> None:
    assert make_tuned_model_id("same name") != make_tuned_model_id("same name")


@pytest.mark.parametrize("name", ["", "My model", "x" * 40])
def test_display_name_within_limit(name: str) -> None:
    assert check_display_name(name) == name


def test_display_name_over_limit() -> None:
    with pytest.raises(InvalidArgument, match=r"displayName is 41 characters; the limit is 40\."):
        check_display_name("x" * 41)


@pytest.mark.parametrize("length", [1, 2, 8, 12, 40])
def test_generated_ids_always_match_the_pattern(length: int) -> None:
    # Operation and permission ids are checked against the pattern when they come back in a
    # URL, so an id the server made must never break it (a leading digit once could).
    assert all(ID_PATTERN.fullmatch(random_id(length)) for _ in range(500))


HOSTILE_IDS = [
    "..",
    ".",
    "../etc",
    "a/../../b",
    "/etc/passwd",
    "a%2Fb",
    "a\x00b",
    "a\\b",
    "C:\\Windows",
    "~root",
    "a\nb",
    "",
]


@pytest.mark.parametrize("bad", HOSTILE_IDS)
@pytest.mark.parametrize("kind", ["tuned model", "operation", "permission"])
def test_path_like_ids_are_refused(bad: str, kind: str) -> None:
    with pytest.raises(InvalidArgument, match=f"Invalid {kind} id"):
        check_id(bad, kind)


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_no_id_outside_the_pattern_becomes_an_artifact_path(store, bad: str) -> None:
    with pytest.raises(InvalidArgument):
        store.artifact_dir(bad)


@given(st.text(max_size=60))
def test_any_text_is_either_refused_or_a_plain_child_folder_name(text: str) -> None:
    from pathlib import Path

    root = Path("/srv/sintonia/tuned")
    try:
        checked = check_id(text, "tuned model")
    except InvalidArgument:
        return
    assert (root / checked).parent == root and (root / checked).name == text
    assert set(checked) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
