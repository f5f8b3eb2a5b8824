"""Request bodies as the Gemini clients send them, made uniform before validation.

The real service accepts snake_case and camelCase keys, trailing commas (the official curl
examples have them), and enums as names or numbers (the old SDK's REST transport sends
numbers). Each of those variations is undone here, once, so the schemas see one shape.
"""

from __future__ import annotations

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


def camel(key: str) -> str:
    """text_input -> textInput; camelCase keys pass through."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), key)


def normalize(value: Any) -> Any:
    """camelCase every key and turn enum numbers into names, recursively."""
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = camel(key)
        if name in _OPAQUE:
            out[name] = item
        elif name in ENUMS and isinstance(item, int) and not isinstance(item, bool):
            out[name] = ENUMS[name].get(item, item)
        else:
            out[name] = normalize(item)
    return out


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
