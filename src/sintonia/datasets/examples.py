"""The validated dataset: frozen examples and their canonical JSONL form."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One training example: the text the model sees and the text it should answer."""

    text_input: str
    output: str


@dataclass(frozen=True)
class Dataset:
    """Examples that passed validation, and where they came from.

    Only `parse` builds these, after every check passed; nothing partial is ever returned.
    """

    examples: tuple[Example, ...]
    source: str
    """A file name, or "inline" for in-memory records."""

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of `to_jsonl()`: the same examples give the same digest, whatever the
        file format or key names they were read from."""
        return hashlib.sha256(self.to_jsonl().encode("utf-8")).hexdigest()

    def to_jsonl(self) -> str:
        """The canonical form: one {"text_input", "output"} object per line, each ending in "\\n".

        Returns:
            The examples as JSONL text, non-ASCII characters kept as they are.
        """
        lines = (
            json.dumps({"text_input": e.text_input, "output": e.output}, ensure_ascii=False)
            for e in self.examples
        )
        return "".join(f"{line}\n" for line in lines)
