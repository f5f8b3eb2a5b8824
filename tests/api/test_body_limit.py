"""Oversized request bodies get 413 before the server has read them: raw sockets against the
live server, since an HTTP client library would insist on sending the whole body first."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

from live import TINY
from sintonia.settings import Settings

LIMIT = Settings.max_request_bytes  # the live server runs with the default
CHUNK = 64 * 1024


def _connect(server) -> socket.socket:
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    return sock


def _head(server, path: str, length_header: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"x-goog-api-key: {server.keys['owner']}\r\n{length_header}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> tuple[int, dict]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


def _send_chunks(sock: socket.socket, total: int) -> None:
    """Send `total` bytes as chunks, never the final empty chunk; stop early if the server has
    answered and closed (the kernel then refuses more)."""
    sent = 0
    try:
        while sent < total:
            data = b" " * CHUNK
            sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            sent += len(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(server) -> None:
    with _connect(server) as sock:
        # A gigabyte announced, nothing sent: an answer at all proves nothing was waited for.
        sock.sendall(_head(server, "/v1beta/tunedModels", "Content-Length: 1073741824"))
        status, body = _answer(sock)
    assert status == 413
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert body["error"]["message"].startswith(
        f"Request payload size exceeds the limit: {LIMIT} bytes (it declares 1,073,741,824 bytes)"
    )


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(server) -> None:
    with _connect(server) as sock:
        sock.sendall(_head(server, f"/v1beta/{TINY}:countTokens", "Transfer-Encoding: chunked"))
        # Past the limit, and the body never ends: the server must answer from what it counted.
        _send_chunks(sock, LIMIT + 2 * CHUNK)
        status, body = _answer(sock)
    assert status == 413
    assert body["error"]["message"].startswith(
        f"Request payload size exceeds the limit: {LIMIT} bytes (more was sent)"
    )


def test_a_chunked_body_under_the_limit_is_served(server) -> None:
    payload = json.dumps({"contents": [{"parts": [{"text": "hello"}]}]}).encode()
    with _connect(server) as sock:
        sock.sendall(_head(server, f"/v1beta/{TINY}:countTokens", "Transfer-Encoding: chunked"))
        sock.sendall(f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n")
        status, body = _answer(sock)
    assert (status, body) == (200, {"totalTokens": 5})


def test_the_limit_comes_from_the_environment() -> None:
    settings = Settings.from_env({"SINTONIA_HOME": "/x", "SINTONIA_MAX_REQUEST_BYTES": "1024"})
    assert settings.max_request_bytes == 1024
    assert Settings.from_env({"SINTONIA_HOME": "/x"}).max_request_bytes == 16 * 1024 * 1024
