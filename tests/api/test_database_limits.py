"""Input one database would take and the other refuse is a 400 on both (make test runs this
folder on SQLite, then on PostgreSQL): NUL characters in text, over-long email addresses."""

from __future__ import annotations

from live import TINY, Server, examples


def _create(server: Server, model_id: str, **fields: object) -> tuple[int, dict]:
    body = {
        "baseModel": TINY,
        "tuningTask": {"trainingData": {"examples": {"examples": examples()}}},
        **fields,
    }
    return server.call("POST", f"/v1beta/tunedModels?tunedModelId={model_id}", body)


def test_nul_in_a_description_is_refused_and_nothing_is_created(server: Server) -> None:
    status, body = _create(server, "nul-description", description="one\u0000two")
    assert status == 400, body
    assert "description contains a NUL character" in body["error"]["message"]
    assert server.call("GET", "/v1beta/tunedModels/nul-description")[0] == 404


def test_nul_in_a_patch_is_refused(server: Server, tuned: str) -> None:
    status, body = server.call(
        "PATCH", f"/v1beta/{tuned}?updateMask=displayName", {"displayName": "a\u0000b"}
    )
    assert status == 400, body
    assert "display name contains a NUL character" in body["error"]["message"]
    assert server.call("GET", f"/v1beta/{tuned}")[1]["displayName"] == "shared ok"


def test_an_email_longer_than_the_column_is_refused(server: Server, tuned: str) -> None:
    email = "x" * 320 + "@example.com"
    grant = {"granteeType": "USER", "emailAddress": email, "role": "READER"}
    status, body = server.call("POST", f"/v1beta/{tuned}/permissions", grant)
    assert status == 400, body
    assert "332 characters long; the limit is 320" in body["error"]["message"]
