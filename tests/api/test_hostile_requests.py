"""Hostile requests against the live server: each gets a 4xx in Google's error shape, never a
500. Each case here once answered 500 (found by test_fuzz.py or by hand), or guards a path."""

from __future__ import annotations

import pytest

from live import TINY

GENERATE = {"contents": [{"parts": [{"text": "hi"}]}]}


def assert_refused(answer: tuple[int, dict], status: int, phrase: str) -> None:
    code, body = answer
    assert code == status, body
    assert body["error"]["code"] == status
    assert phrase in body["error"]["message"], body


@pytest.mark.parametrize(
    "method, path, body",
    [
        # A field of the wrong type reached pydantic inside the route: its error was a 500.
        ("PATCH", "/v1beta/tunedModels/no-such-model", {"topP": []}),
        ("POST", "/v1beta/tunedModels", {"baseModel": ["x"]}),
        ("POST", f"/v1beta/{TINY}:generateContent", {"contents": "hi"}),
        ("POST", f"/v1beta/{TINY}:countTokens", {"contents": [{"parts": "x"}]}),
        ("POST", "/v1beta/tunedModels/no-such-model/permissions", {"role": 5.5}),
    ],
)
def test_a_field_of_the_wrong_type_is_400(server, method: str, path: str, body: dict) -> None:
    assert_refused(server.call(method, path, body), 400, "Invalid request: ")


@pytest.mark.parametrize(
    "raw, phrase",
    [
        (b'{"contents":' + b"[" * 5000 + b"]" * 5000 + b"}", "nested"),
        (b'{"contents":' + b"[" * 900 + b"]" * 900 + b"}", "nested more than 64 levels"),
        (b'{"generationConfig": {"temperature": NaN}}', "not a finite number"),
        (b'{"generationConfig": {"temperature": 1e999}}', "not a finite number"),
        (b'{"contents": [{"parts": [{"text": "\\ud800"}]}]}', "surrogate pair on its own"),
        (b"\xff\xfe{\x00}\x00", "not UTF-8"),
    ],
)
def test_malformed_json_is_400(server, raw: bytes, phrase: str) -> None:
    assert_refused(server.call("POST", f"/v1beta/{TINY}:countTokens", raw=raw), 400, phrase)


# Path segments that would name another file if an id ever became a path unchecked.
ESCAPES = ["..", "%2E%2E", "..%2F..%2Fetc", "%2Fetc%2Fpasswd", "a%00b", "%00", "C:%5Cx", "A", "a_b"]


@pytest.mark.parametrize("segment", ESCAPES)
@pytest.mark.parametrize(
    "method, template",
    [
        ("GET", "/v1beta/tunedModels/{}"),
        ("DELETE", "/v1beta/tunedModels/{}"),
        ("POST", "/v1beta/tunedModels/{}:generateContent"),
        ("GET", "/v1beta/tunedModels/{}/operations"),
        ("GET", "/v1beta/tunedModels/{}/permissions"),
        ("GET", "/v1beta/tunedModels/shared-ok/operations/{}"),
        ("POST", "/v1beta/tunedModels/shared-ok/operations/{}:cancel"),
        ("GET", "/v1beta/tunedModels/shared-ok/permissions/{}"),
        ("DELETE", "/v1beta/tunedModels/shared-ok/permissions/{}"),
        ("GET", "/v1beta/models/{}"),
    ],
)
def test_no_path_segment_escapes_its_resource(
    server, tuned, method: str, template: str, segment: str
) -> None:
    body = GENERATE if method == "POST" else None
    code, answer = server.call(method, template.format(segment), body)
    # 400 from the id check, or 404 when the router or the catalog finds no such resource.
    assert code in (400, 404), answer
    assert answer["error"]["status"] in ("INVALID_ARGUMENT", "NOT_FOUND")
    if code == 400:
        assert (
            "id" in answer["error"]["message"] and "lowercase letters" in answer["error"]["message"]
        )


@pytest.mark.parametrize(
    "path, kind",
    [
        ("/v1beta/tunedModels/shared-ok/operations/Op-1", "operation"),
        ("/v1beta/tunedModels/shared-ok/permissions/9abc", "permission"),
        ("/v1beta/tunedModels/Shared-OK", "tuned model"),
    ],
)
def test_ids_outside_the_pattern_say_which_id(server, tuned, path: str, kind: str) -> None:
    assert_refused(server.call("GET", path), 400, f"Invalid {kind} id")


@pytest.mark.parametrize(
    "path",
    [
        "/v1beta/tunedModels/shared-ok:bogus",
        "/v1beta/tunedModels/shared-ok:generateContent:extra",
        f"/v1beta/{TINY}:bogus",
        "/v1beta/tunedModels/shared-ok/operations/abc:bogus",
    ],
)
def test_an_unknown_method_is_400_naming_it(server, tuned, path: str) -> None:
    assert_refused(server.call("POST", path, {}), 400, "Unknown method")
