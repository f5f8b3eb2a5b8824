"""Raw HTTP against the live server: the create -> poll -> call flow, as curl would do it."""

from __future__ import annotations

from live import TINY, examples, wait_done


def test_create_poll_and_call_with_curl_style_body(server) -> None:
    # snake_case keys and trailing commas, as in the official curl tutorial.
    rows = ",".join(f'{{"text_input": "say v{i}", "output": "ok",}}' for i in range(24))
    raw = (
        '{"display_name": "curl style", "base_model": "tiny-gemma", "tuning_task": {'
        '"hyperparameters": {"batch_size": 4, "learning_rate": 0.01, "epoch_count": 3,},'
        f'"training_data": {{"examples": {{"examples": [{rows},]}},}},}},}}'
    ).encode()
    status, op = server.call("POST", "/v1beta/tunedModels", raw=raw)
    assert status == 200, op
    assert set(op) == {"name", "metadata"}
    assert op["metadata"]["totalSteps"] == 18
    assert op["metadata"]["@type"].endswith("CreateTunedModelMetadata")
    done = wait_done(server, op["name"])
    assert set(done) == {"name", "metadata", "done", "response"}
    model = done["response"]
    assert model["@type"].endswith("v1beta.TunedModel") and model["state"] == "ACTIVE"
    assert model["baseModel"] == TINY and model["displayName"] == "curl style"
    assert [s["step"] for s in model["tuningTask"]["snapshots"]] == list(range(1, 19))
    assert model["tuningTask"]["hyperparameters"] == {
        "epochCount": 3,
        "batchSize": 4,
        "learningRate": 0.01,
    }
    assert done["metadata"]["completedPercent"] == 100

    status, answer = server.call(
        "POST",
        f"/v1/{model['name']}:generateContent",
        {"contents": [{"parts": [{"text": "say hello"}]}]},
    )
    assert status == 200, answer
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == "ok"
    assert answer["candidates"][0]["finishReason"] == "STOP"


def test_multiplier_is_applied_and_never_returned(server) -> None:
    status, op = server.call(
        "POST",
        "/v1beta/tunedModels",
        {
            "baseModel": TINY,
            "tuningTask": {
                "hyperparameters": {"epochCount": 1, "learningRateMultiplier": 2.5},
                "trainingData": {"examples": {"examples": examples()}},
            },
        },
    )
    assert status == 200, op
    model = wait_done(server, op["name"])["response"]
    assert model["tuningTask"]["hyperparameters"]["learningRate"] == 0.0025
    assert "learningRateMultiplier" not in str(model) and "trainingData" not in str(model)
