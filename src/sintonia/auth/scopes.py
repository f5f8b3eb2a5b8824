"""OAuth-style scopes: what a credential may do, by its short name or Google's scope URL."""

from __future__ import annotations

from enum import StrEnum

from sintonia.errors import InvalidArgument


class Scope(StrEnum):
    TUNING = "tuning"
    """Create, edit, share and delete tuned models (and everything TUNING_READONLY allows)."""

    TUNING_READONLY = "tuning.readonly"
    """Read tuned models and their permissions."""

    GENERATE = "generate"
    """Call generateContent on the models the caller may read."""


DEFAULT_SCOPES = frozenset({Scope.TUNING, Scope.GENERATE})

_GOOGLE = "https://www.googleapis.com/auth/generative-language"
SCOPE_URLS: dict[str, Scope] = {
    f"{_GOOGLE}.tuning": Scope.TUNING,
    f"{_GOOGLE}.tuning.readonly": Scope.TUNING_READONLY,
    _GOOGLE: Scope.GENERATE,
}
"""Google's scope URLs, as gcloud and the SDKs write them, and the scope each one means."""


def parse_scopes(text: str) -> frozenset[Scope]:
    """Read a comma-separated list of scopes, e.g. "tuning, generate".

    Blank entries (a trailing comma) are skipped; short names are case-insensitive.

    Args:
        text: short names ("tuning", "tuning.readonly", "generate") or Google's scope URLs.

    Returns:
        The scopes named, without duplicates.

    Raises:
        InvalidArgument: nothing is named, or an entry is not a known scope.
    """
    valid = ", ".join(scope.value for scope in Scope)
    scopes: set[Scope] = set()
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        scope = SCOPE_URLS.get(entry) or _by_name(entry)
        if scope is None:
            raise InvalidArgument(
                f"Unknown scope '{entry}'; valid scopes are {valid} or their "
                f"{_GOOGLE}[.tuning[.readonly]] URLs."
            )
        scopes.add(scope)
    if not scopes:
        raise InvalidArgument(f"No scopes given; valid scopes are {valid}.")
    return frozenset(scopes)


def _by_name(entry: str) -> Scope | None:
    try:
        return Scope(entry.lower())
    except ValueError:
        return None
