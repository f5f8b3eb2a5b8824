"""Bytes to text: UTF-8 only, with a problem for every line that is not, instead of a crash."""

from __future__ import annotations

import codecs
import re

from sintonia.errors import Problem

# "surrogateescape" turns each undecodable byte into one of these lone surrogates, which valid
# UTF-8 can never produce, so finding them finds exactly the bad bytes.
_ESCAPED = re.compile("[\udc80-\udcff]")

# Past this many, more lines with bad bytes only repeat the same advice.
_MAX_REPORTED_LINES = 10

_RESAVE = "re-save the file as UTF-8"


def decode_utf8(data: bytes) -> tuple[str | None, list[Problem]]:
    """Decode a dataset file, dropping a UTF-8 BOM (Excel writes one).

    Bytes that are not UTF-8 become U+FFFD, each line holding one gets a problem, and the text
    is still returned so the caller can report the file's other problems too.

    Args:
        data: The file's bytes.

    Returns:
        The text, or None when it cannot be read at all (UTF-16), and the problems found.
    """
    # A NUL in the first two bytes is how UTF-16 without a BOM starts ('{' is "{\\0" in LE).
    # UTF-32's BOMs come first: the little-endian one begins with UTF-16's.
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        message = f"the file is UTF-32 encoded, which is not supported; {_RESAVE}"
        return None, [Problem("file", None, message)]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:2]:
        message = f"the file is UTF-16 encoded, which is not supported; {_RESAVE}"
        return None, [Problem("file", None, message)]
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    text = data[skipped:].decode("utf-8", "surrogateescape")
    problems = _bad_byte_problems(text, skipped)
    if problems:
        text = _ESCAPED.sub("\ufffd", text)
    return text, problems


def _bad_byte_problems(text: str, skipped: int) -> list[Problem]:
    problems: list[Problem] = []
    line, counted_to, last_bad_line, unreported = 1, 0, 0, 0
    for match in _ESCAPED.finditer(text):
        line += count_line_breaks(text[counted_to : match.start()])
        counted_to = match.start()
        if line == last_bad_line:
            continue
        last_bad_line = line
        if len(problems) == _MAX_REPORTED_LINES:
            unreported += 1
            continue
        offset = skipped + len(text[: match.start()].encode("utf-8", "surrogateescape"))
        byte = ord(match.group()) - 0xDC00
        message = f"the byte 0x{byte:02X} at offset {offset:,} is not valid UTF-8; {_RESAVE}"
        problems.append(Problem(f"line {line}", None, message))
    if unreported:
        message = f"{unreported} more lines hold bytes that are not valid UTF-8; {_RESAVE}"
        problems.append(Problem("file", None, message))
    return problems


def count_line_breaks(text: str) -> int:
    """How many line breaks `text` holds, counting "\\r\\n", "\\r" and "\\n" as one each."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")
