"""Resource ids: the Gemini resource-name rules, and names made from a display name.

Every id that arrives in a URL (tuned model, operation, permission) passes `check_id` before
it is looked up, and `TunedModelStore.artifact_dir` checks again before an id becomes a
path: the pattern has no "/", "." or NUL, so no id can name a file outside its folder.
"""

from __future__ import annotations

import re
import secrets
import string

from sintonia.errors import InvalidArgument

ID_PATTERN = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?")
MAX_DISPLAY_NAME = 40
_ID_ALPHABET = string.ascii_lowercase + string.digits


def random_id(length: int) -> str:
    """A letter, then lowercase letters and digits, from a cryptographic source: ids of
    operations, permissions and keys, and the suffix of generated tuned-model names. The
    leading letter keeps every generated id within ID_PATTERN."""
    first = secrets.choice(string.ascii_lowercase)
    return first + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length - 1))


def check_id(value: str, kind: str) -> str:
    """Check one resource id against the Gemini pattern.

    Args:
        value: the id, as it came in the URL.
        kind: what it names ("tuned model", "operation", "permission"), for the message.

    Returns:
        The id, unchanged.

    Raises:
        InvalidArgument: the id breaks the pattern.
    """
    if not ID_PATTERN.fullmatch(value):
        shown = value if len(value) <= 60 else value[:60] + "…"
        raise InvalidArgument(
            f"Invalid {kind} id {shown!r}: use 1 to 40 lowercase letters, digits and "
            "hyphens, starting with a letter and not ending with a hyphen."
        )
    return value


def check_tuned_model_id(model_id: str) -> str:
    """Accept "ID" or "tunedModels/ID"; return the bare id.

    Raises:
        InvalidArgument: the id breaks the pattern (this also keeps ids out of file paths).
    """
    return check_id(model_id.removeprefix("tunedModels/"), "tuned model")


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
