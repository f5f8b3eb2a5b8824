"""Raw HTTP: every credential case and error shape of spec §3-§4, and the parsing rules of §1."""

from __future__ import annotations

import pytest

from live import TINY, create_tuned, examples, start_tuning, steps_done, wait_done, wait_until

NO_CREDENTIALS = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


def test_no_credentials_is_403(server) -> None:
    status, body = server.call("GET", "/v1beta/tunedModels", key=None)
    assert status == 403
    assert body["error"] == {"code": 403, "message": NO_CREDENTIALS, "status": "PERMISSION_DENIED"}


@pytest.mark.parametrize("key", ["sk-unknown", "revoked", "garbage é"])
def test_unknown_or_revoked_key_is_400_api_key_invalid(server, key) -> None:
    status, body = server.call("GET", "/v1beta/tunedModels", key=key)
    assert status == 400
    error = body["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    assert error["details"][0]["metadata"]["service"] == "generativelanguage.googleapis.com"


def test_key_in_query_and_bearer_token_are_accepted(server) -> None:
    assert server.call("GET", f"/v1beta/tunedModels?key={server.keys['owner']}", key=None)[0] == 200
    bearer = {"authorization": f"Bearer {server.keys['owner']}"}
    assert server.call("GET", "/v1beta/tunedModels", key=None, headers=bearer)[0] == 200


def test_bad_bearer_token_is_401(server) -> None:
    status, body = server.call(
        "GET", "/v1beta/tunedModels", key=None, headers={"authorization": "Bearer ya29.expired"}
    )
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
    assert body["error"]["message"].startswith("Request had invalid authentication credentials.")


def test_a_key_without_the_tuning_scope_gets_403_insufficient_scopes(server) -> None:
    status, body = server.call(
        "POST", "/v1beta/tunedModels", {"baseModel": TINY}, key="generate_only"
    )
    assert status == 403
    assert body["error"]["message"] == "Request had insufficient authentication scopes."
    detail = body["error"]["details"][0]
    assert detail["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert detail["metadata"]["method"] == (
        "google.ai.generativelanguage.v1beta.ModelService.CreateTunedModel"
    )


def test_readonly_scope_reads_but_cannot_write(server, tuned) -> None:
    assert server.call("GET", f"/v1beta/{tuned}", key="readonly")[0] == 200
    assert server.call("DELETE", f"/v1beta/{tuned}", key="readonly")[0] == 403


def test_strangers_cannot_tell_a_private_model_from_a_missing_one(server, tuned) -> None:
    private = server.call("GET", f"/v1beta/{tuned}", key="stranger")
    missing = server.call("GET", "/v1beta/tunedModels/no-such-model", key="stranger")
    assert private[0] == missing[0] == 404
    assert private[1]["error"]["status"] == "NOT_FOUND"
    assert (
        server.call(
            "POST",
            f"/v1beta/{tuned}:generateContent",
            {"contents": [{"parts": [{"text": "x"}]}]},
            key="stranger",
        )[0]
        == 404
    )


def test_unknown_base_model_is_404_with_the_api_wording(server) -> None:
    status, body = server.call(
        "POST",
        "/v1beta/tunedModels",
        {
            "baseModel": "gemini-1.5-flash-001-tuning",
            "tuningTask": {"trainingData": {"examples": {"examples": examples()}}},
        },
    )
    assert status == 404
    assert body["error"]["message"].startswith(
        "models/gemini-1.5-flash-001-tuning is not found for API version v1beta"
    )


def test_invalid_dataset_lists_every_problem_and_creates_nothing(server) -> None:
    rows = examples(19)
    rows[3] = {"textInput": "x" * 40_001, "output": "ok"}
    rows[7] = {"textInput": "hi"}
    status, body = server.call(
        "POST",
        "/v1beta/tunedModels?tunedModelId=bad-data",
        {"baseModel": TINY, "tuningTask": {"trainingData": {"examples": {"examples": rows}}}},
    )
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    message = body["error"]["message"]
    for phrase in ("example 3", "40,000", "example 7", "'output'", "at least 20"):
        assert phrase in message, phrase
    assert len(body["error"]["details"][0]["fieldViolations"]) == 3
    assert server.call("GET", "/v1beta/tunedModels/bad-data")[0] == 404


def test_no_examples_names_the_likely_cause(server) -> None:
    status, body = server.call(
        "POST",
        "/v1beta/tunedModels",
        {"baseModel": TINY, "tuningTask": {"hyperparameters": {"epochCount": 5}}},
    )
    assert status == 400
    assert "google-genai" in body["error"]["message"] and "1.47" in body["error"]["message"]


@pytest.mark.parametrize(
    "hyperparameters, phrase",
    [
        ({"learningRate": 0.01, "learningRateMultiplier": 2}, "Can't provide both"),
        ({"epochCount": 0}, "epoch_count"),
        ({"batchSize": 10_000}, "batch_size"),
    ],
)
def test_bad_hyperparameters_are_400(server, hyperparameters, phrase) -> None:
    status, body = server.call(
        "POST",
        "/v1beta/tunedModels",
        {
            "baseModel": TINY,
            "tuningTask": {
                "hyperparameters": hyperparameters,
                "trainingData": {"examples": {"examples": examples()}},
            },
        },
    )
    assert status == 400 and phrase in body["error"]["message"]


@pytest.mark.parametrize("model_id", ["Upper", "a_b", "-x", "x" * 41, "..%2Fetc"])
def test_ids_outside_the_pattern_are_refused(server, model_id) -> None:
    status, body = server.call("GET", f"/v1beta/tunedModels/{model_id}")
    assert status in (400, 404), body
    assert "error" in body


def test_duplicate_id_is_409(server, tuned) -> None:
    status, body = server.call(
        "POST",
        "/v1beta/tunedModels?tunedModelId=shared-ok",
        {"baseModel": TINY, "tuningTask": {"trainingData": {"examples": {"examples": examples()}}}},
    )
    assert status == 409 and body["error"]["status"] == "ALREADY_EXISTS"


def test_int_enums_floats_for_ints_and_int64_strings_are_accepted(server) -> None:
    # The old SDK's REST transport: enums as numbers; google-genai: "topK": 10.0.
    status, op = server.call(
        "POST",
        "/v1beta/tunedModels?tunedModelId=wire-rules",
        {
            "baseModel": TINY,
            "topK": 10.0,
            "state": 2,
            "readerProjectNumbers": ["123"],
            "tuningTask": {
                "hyperparameters": {"epochCount": 1.0, "batchSize": "4"},
                "trainingData": {"examples": {"examples": examples()}},
            },
        },
    )
    assert status == 200, op
    wait_done(server, op["name"])
    status, model = server.call("GET", "/v1beta/tunedModels/wire-rules")
    assert model["topK"] == 10 and model["state"] == "ACTIVE"
    status, permission = server.call(
        "POST",
        "/v1beta/tunedModels/wire-rules/permissions",
        {"granteeType": 1, "emailAddress": "reader@example.com", "role": 3},
    )
    assert status == 200, permission
    assert permission["granteeType"] == "USER" and permission["role"] == "READER"


def test_patch_with_mask_applies_only_the_mask(server) -> None:
    model = create_tuned(server, "patch-mask")  # its own: the shared model stays as it is
    name = model.pop("name")
    model.pop("@type")
    model |= {"description": "changed", "topP": 0.5, "state": 3}  # state is output-only
    status, patched = server.call("PATCH", f"/v1beta/{name}?updateMask=description", model)
    assert status == 200, patched
    assert patched["description"] == "changed" and patched["topP"] == 0.95
    assert patched["state"] == "ACTIVE"


def test_patch_without_mask_updates_the_mutable_fields_present(server) -> None:
    name = create_tuned(server, "patch-no-mask")["name"]
    status, patched = server.call("PATCH", f"/v1beta/{name}", {"displayName": "renamed", "topK": 7})
    assert status == 200 and patched["displayName"] == "renamed" and patched["topK"] == 7
    status, body = server.call("PATCH", f"/v1beta/{name}?updateMask=baseModel", {})
    assert status == 400 and "cannot be updated" in body["error"]["message"]


def test_roles_nest_reader_writer_owner(server) -> None:
    create_tuned(server, "roles")
    for email, role in (("reader@example.com", "READER"), ("writer@example.com", "WRITER")):
        assert (
            server.call(
                "POST",
                "/v1beta/tunedModels/roles/permissions",
                {"granteeType": "USER", "emailAddress": email, "role": role},
            )[0]
            == 200
        )
    call = {"contents": [{"parts": [{"text": "hi"}]}]}
    assert (
        server.call("POST", "/v1beta/tunedModels/roles:generateContent", call, key="reader")[0]
        == 200
    )
    assert (
        server.call("PATCH", "/v1beta/tunedModels/roles", {"description": "r"}, key="reader")[0]
        == 403
    )
    assert (
        server.call("PATCH", "/v1beta/tunedModels/roles", {"description": "w"}, key="writer")[0]
        == 200
    )
    assert server.call("DELETE", "/v1beta/tunedModels/roles", key="writer")[0] == 403
    listed = server.call("GET", "/v1beta/tunedModels?filter=owner:me", key="reader")[1]
    assert "tunedModels/roles" not in str(listed)
    assert "tunedModels/roles" in str(server.call("GET", "/v1beta/tunedModels", key="reader")[1])
    assert server.call("DELETE", "/v1beta/tunedModels/roles")[0] == 200


def test_everyone_permission_and_the_default_list_filter(server) -> None:
    create_tuned(server, "public-one", displayName="findable")
    assert (
        server.call(
            "POST",
            "/v1beta/tunedModels/public-one/permissions",
            {"granteeType": "EVERYONE", "role": "READER"},
        )[0]
        == 200
    )
    assert server.call("GET", "/v1beta/tunedModels/public-one", key="stranger")[0] == 200
    default = server.call("GET", "/v1beta/tunedModels", key="stranger")[1]
    assert "public-one" not in str(default)
    public = server.call("GET", "/v1beta/tunedModels?filter=readers:everyone", key="stranger")[1]
    assert "public-one" in str(public)
    assert "public-one" in str(server.call("GET", "/v1beta/tunedModels?filter=findable")[1])


def test_cancel_stops_within_a_step_and_keeps_the_last_epoch(server) -> None:
    operation = start_tuning(server, "long-run", epochs=400)
    wait_until(lambda: steps_done(server, "long-run") >= 8)  # past the first epoch (6 steps)
    assert server.call("POST", f"/v1beta/{operation}:cancel", {})[0] == 200
    done = wait_done(server, operation, timeout=60)
    assert done["error"]["code"] == 1 and "keeps epoch" in done["error"]["message"]
    model = server.call("GET", "/v1beta/tunedModels/long-run")[1]
    assert model["state"] == "ACTIVE"
    assert len(model["tuningTask"]["snapshots"]) < 400 * 6
    call = {"contents": [{"parts": [{"text": "hi"}]}]}
    assert server.call("POST", "/v1beta/tunedModels/long-run:generateContent", call)[0] == 200


def test_deleting_a_training_model_cancels_it(server) -> None:
    start_tuning(server, "doomed", epochs=400)
    wait_until(lambda: steps_done(server, "doomed") >= 1)
    assert server.call("DELETE", "/v1beta/tunedModels/doomed")[0] == 200
    assert server.call("GET", "/v1beta/tunedModels/doomed")[0] == 404
    # The worker notices at its next step and removes what it wrote after the delete.
    wait_until(lambda: not (server.home / "tuned" / "doomed").exists(), timeout=60)


def test_stream_without_alt_is_a_json_array(server, tuned) -> None:
    status, chunks = server.call(
        "POST",
        f"/v1beta/{tuned}:streamGenerateContent",
        {"contents": [{"role": "user", "parts": [{"text": "hey"}]}], "generationConfig": {}},
    )
    assert status == 200 and isinstance(chunks, list)
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == "ok"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 2


def test_base_models_list_get_and_generate(server) -> None:
    models = server.call("GET", "/v1/models?page_size=5")[1]["models"]
    tiny = next(m for m in models if m["name"] == TINY)
    assert "createTunedModel" in tiny["supportedGenerationMethods"]
    assert server.call("GET", f"/v1beta/{TINY}")[1]["inputTokenLimit"] == 512
    status, counted = server.call(
        "POST", f"/v1beta/{TINY}:countTokens", {"contents": [{"parts": [{"text": "hello"}]}]}
    )
    assert status == 200 and counted == {"totalTokens": 5}
    status, body = server.call(
        "POST",
        f"/v1beta/{TINY}:generateContent",
        {"contents": [{"parts": [{"text": "hello"}]}], "generationConfig": {"maxOutputTokens": 3}},
    )
    assert status == 200 and body["usageMetadata"]["candidatesTokenCount"] <= 3
