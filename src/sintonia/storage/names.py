"""Tuned-model ids: the Gemini resource-name rules, and names made from a display name."""

from __future__ import annotations

import re
import secrets
import string

from sintonia.errors import InvalidArgument

ID_PATTERN = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?")
MAX_DISPLAY_NAME = 40
_ID_ALPHABET = string.ascii_lowercase + string.digits


def random_id(length: int) -> str:
    """Lowercase letters and digits, from a cryptographic source: ids of operations,
    permissions and keys, and the suffix of generated tuned-model names."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def check_tuned_model_id(model_id: str) -> str:
    """Accept "ID" or "tunedModels/ID"; return the bare id.

    Raises:
        InvalidArgument: the id breaks the pattern (this also keeps ids out of file paths).
    """
    bare = model_id.removeprefix("tunedModels/")
    if not ID_PATTERN.fullmatch(bare):
        raise InvalidArgument(
            f"Invalid tuned model id '{bare}': use 1 to 40 lowercase letters, digits and "
            "hyphens, starting with a letter and not ending with a hyphen."
        )
    return bare


def make_tuned_model_id(display_name: str) -> str:
    """Display-name words joined by hyphens plus a random suffix, as the Gemini API does.

    "Number generator model" -> "number-generator-model-dzlmi0gswwqb".
    """
    suffix = random_id(12)
    words = re.findall(r"[a-z0-9]+", display_name.lower())
    stem = "-".join(words)[: 40 - len(suffix) - 1].strip("-")
    if not stem or not stem[0].isalpha():
        stem = f"tuned-{stem}".strip("-")[: 40 - len(suffix) - 1].strip("-")
    return f"{stem}-{suffix}"


def check_display_name(display_name: str) -> str:
    """Raises: InvalidArgument when longer than the Gemini limit of 40 characters."""
    if len(display_name) > MAX_DISPLAY_NAME:
        raise InvalidArgument(
            f"displayName is {len(display_name)} characters; the limit is {MAX_DISPLAY_NAME}."
        )
    return display_name
