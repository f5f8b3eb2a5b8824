"""JSON text as people write it: trailing commas tolerated, every failure a problem."""

from __future__ import annotations

import json
import re

from sintonia.errors import Problem

_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_QUOTE_OR_COMMA = re.compile(r'[",]')
_CLOSER_AHEAD = re.compile(r"[ \t\r\n]*[\]}]")


def strip_trailing_commas(text: str) -> str:
    """Blank out each comma that directly precedes a `]` or `}`, outside string literals.

    The official Gemini curl examples have such commas, which json.loads refuses. Each comma
    becomes a space rather than vanishing, so json's error positions still match the file.
    The scan hops from quote to comma with regexes, so it stays linear on any input.

    Args:
        text: JSON text, perhaps with trailing commas.

    Returns:
        The text with trailing commas replaced by spaces; everything else unchanged.
    """
    pieces: list[str] = []
    kept_from = position = 0
    while (found := _QUOTE_OR_COMMA.search(text, position)) is not None:
        at = found.start()
        if text[at] == '"':
            # Skip the whole literal, escapes included, so commas in strings are never touched.
            end = _STRING_REST.match(text, at + 1)
            if end is None:
                break  # unterminated: json.loads will say so
            position = end.end()
            continue
        if _CLOSER_AHEAD.match(text, at + 1) and _follows_value(text, at):
            pieces += [text[kept_from:at], " "]
            kept_from = at + 1
        position = at + 1
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _follows_value(text: str, comma: int) -> bool:
    # "[1,]" has a trailing comma; "[,]" and "[1,,]" are broken, and stay so for json to report.
    before = comma - 1
    while before >= 0 and text[before] in " \t\r\n":
        before -= 1
    return before >= 0 and text[before] not in "[{,:"


def load_json(text: str, location: str | None) -> tuple[object, Problem | None]:
    """json.loads, with each way it can fail turned into a problem instead of an exception.

    Args:
        text: The JSON text.
        location: Where to report a failure, or None to use the error's own line.

    Returns:
        The value and None, or None and the problem.
    """
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        where = location or f"line {error.lineno}"
        return None, Problem(where, None, f"invalid JSON: {error.msg} (column {error.colno})")
    except RecursionError:
        return None, Problem(location or "file", None, "invalid JSON: nested too deeply")
    except ValueError as error:  # such as an integer with more digits than Python will convert
        return None, Problem(location or "file", None, f"invalid JSON: {error}")
