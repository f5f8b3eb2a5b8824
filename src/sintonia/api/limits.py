"""Request bodies past the server's limit are refused before they are read whole.

Routes read bodies with `await request.body()`, which holds all of it in memory; this ASGI
middleware stands in front of them. A declared `Content-Length` over the limit is answered at
once, without reading a byte of the body. A body without one (chunked) is counted as it
arrives, and the read that passes the limit raises `PayloadTooLarge` inside the route, so the
one error table in `api/errors.py` answers it like any other error.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sintonia.api.errors import error_response
from sintonia.errors import PayloadTooLarge


class BodyLimit:
    """ASGI middleware: at most `max_bytes` of request body per request."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = error_response(PayloadTooLarge(self.max_bytes, declared))
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    # The HTTP server (h11, httptools) has already refused a malformed or conflicting length.
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
