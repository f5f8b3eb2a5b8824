"""List pagination: pageSize and an opaque pageToken (the offset, base64-encoded)."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from sintonia.api import wire
from sintonia.errors import InvalidArgument

MAX_PAGE_SIZE = 1000


def page_window(params: Mapping[str, str], default_size: int) -> tuple[int, int]:
    """(size, start) from `pageSize`/`page_size` and `pageToken`/`page_token`.

    Raises:
        InvalidArgument: a pageSize that is not a number, or a token this server did not make.
    """
    try:
        size = int(wire.query_param(params, "pageSize") or default_size)
        token = wire.query_param(params, "pageToken")
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except (ValueError, UnicodeError) as exc:
        raise InvalidArgument(f"Invalid pageSize or pageToken: {exc}") from None
    if size < 1:  # 0 or negative: the default, as the real API does
        size = default_size
    return min(size, MAX_PAGE_SIZE), max(start, 0)


def next_page_token(next_start: int, total: int) -> str:
    """The token of the page after this one, or "" when this is the last."""
    if next_start >= total:
        return ""
    return base64.urlsafe_b64encode(str(next_start).encode()).decode()
