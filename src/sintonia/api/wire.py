"""Request bodies as the Gemini clients send them, made uniform before validation.

The real service accepts snake_case and camelCase keys, trailing commas (the official curl
examples have them), and enums as names or numbers (the old SDK's REST transport sends
numbers). Each of those variations is undone here, once, so the schemas see one shape.
"""

from __future__ import annotations

import math
import re
from typing import Any

from sintonia.datasets.jsontext import load_json, strip_trailing_commas
from sintonia.errors import InvalidArgument

_SNAKE = re.compile(r"_([a-z0-9])")

# Enum fields and their proto numbers (google.ai.generativelanguage.v1beta).
ENUMS: dict[str, dict[int, str]] = {
    "state": {0: "STATE_UNSPECIFIED", 1: "CREATING", 2: "ACTIVE", 3: "FAILED"},
    "granteeType": {0: "GRANTEE_TYPE_UNSPECIFIED", 1: "USER", 2: "GROUP", 3: "EVERYONE"},
    "role": {0: "ROLE_UNSPECIFIED", 1: "OWNER", 2: "WRITER", 3: "READER"},
}

# Free-form maps whose keys are data, not field names: left as they are.
_OPAQUE = {"metadata", "labels"}

# The deepest real body (tuningTask.trainingData.examples.examples[i].textInput) is 6 levels;
# a limit far above that stops a hostile one from exhausting Python's recursion limit.
MAX_DEPTH = 64

# Half of a UTF-16 pair, which JSON can spell alone ("\\ud800"): not text, and UTF-8 (the
# database, the files, the response) cannot store it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def camel(key: str) -> str:
    """text_input -> textInput; camelCase keys pass through."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), key)


def normalize(value: Any, depth: int = 0, *, rename: bool = True) -> Any:
    """camelCase every key and turn enum numbers into names, recursively.

    Raises:
        InvalidArgument: nested deeper than MAX_DEPTH, or a string that is not Unicode text.
    """
    if depth > MAX_DEPTH:
        raise InvalidArgument(
            f"Invalid JSON payload received: nested more than {MAX_DEPTH} levels deep."
        )
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float) and not math.isfinite(value):
        # json.loads reads NaN, Infinity and 1e999; no field means them, and a response
        # holding one would not be JSON at all.
        raise InvalidArgument(f"Invalid JSON payload received: {value} is not a finite number.")
    if isinstance(value, list):
        return [normalize(v, depth + 1, rename=rename) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = camel(_text(key)) if rename else _text(key)
        if name in ENUMS and rename and isinstance(item, int) and not isinstance(item, bool):
            out[name] = ENUMS[name].get(item, item)
        else:
            out[name] = normalize(item, depth + 1, rename=rename and name not in _OPAQUE)
    return out


def _text(value: str) -> str:
    if (half := _SURROGATE.search(value)) is not None:
        raise InvalidArgument(
            f"Invalid JSON payload received: U+{ord(half.group()):04X} is half of a UTF-16 "
            "surrogate pair on its own, which is not text."
        )
    return value


def parse_body(raw: bytes, *, required: bool = True) -> dict[str, Any]:
    """Decode a JSON object body leniently.

    Raises:
        InvalidArgument: not UTF-8, not JSON, or not an object.
    """
    if not raw.strip():
        if required:
            raise InvalidArgument("The request body is empty; a JSON object is expected.")
        return {}
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"The request body is not UTF-8: {exc}.") from None
    value, problem = load_json(strip_trailing_commas(text), None)
    if problem is not None:
        raise InvalidArgument(f"Invalid JSON payload received. {problem}")
    if not isinstance(value, dict):
        raise InvalidArgument("Invalid JSON payload received: a JSON object is expected.")
    return normalize(value)


def query_param(params: Any, name: str) -> str | None:
    """A query parameter by its camelCase or snake_case name (the tutorials use page_size)."""
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
    return params.get(name) or params.get(snake)
