"""The real google-genai 3.6.1 against a live server, on both API versions: spec §6.

Every test gets its own `Client`; the models it creates get fresh ids, because the server is
shared by the whole session.
"""

from __future__ import annotations

import time
from uuid import uuid4

import pytest
from google import genai
from google.genai import errors, types

from live import TINY, Server, examples, wait_done


@pytest.fixture(params=["v1beta", "v1"])
def client(request: pytest.FixtureRequest, server: Server) -> genai.Client:
    """A google-genai client with the owner's key, on one API version."""
    return genai.Client(
        vertexai=False,
        api_key=server.keys["owner"],
        http_options=types.HttpOptions(base_url=server.url, api_version=request.param),
    )


def start_tuning(server: Server, epochs: int = 4) -> tuple[str, str]:
    """Creates an owner's model over raw HTTP; returns (model name, operation name)."""
    model_id = f"new-{uuid4().hex[:8]}"
    status, op = server.call(
        "POST",
        f"/v1beta/tunedModels?tunedModelId={model_id}",
        {
            "baseModel": TINY,
            "displayName": "genai test",
            "tuningTask": {
                "hyperparameters": {"epochCount": epochs, "batchSize": 4, "learningRate": 0.01},
                "trainingData": {"examples": {"examples": examples()}},
            },
        },
    )
    assert status == 200, op
    return f"tunedModels/{model_id}", op["name"]


def wait_for_steps(server: Server, operation: str, steps: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, op = server.call("GET", f"/v1beta/{operation}")
        assert status == 200 and not op.get("done"), op
        if op["metadata"].get("completedSteps", 0) >= steps:
            return
        assert time.monotonic() < deadline, f"fewer than {steps} steps after {timeout} s"
        time.sleep(0.2)


def test_tunings_get_reports_a_finished_job(client: genai.Client, tuned: str) -> None:
    job = client.tunings.get(name=tuned)

    assert job.name == tuned
    assert job.state == types.JobState.JOB_STATE_SUCCEEDED
    assert job.has_ended
    assert job.base_model == TINY
    assert job.tuned_model.model == tuned
    assert job.start_time and job.end_time and job.end_time >= job.start_time


def test_generate_content(client: genai.Client, tuned: str) -> None:
    response = client.models.generate_content(model=tuned, contents="say hi")

    assert response.text == "ok"
    assert response.candidates[0].finish_reason == types.FinishReason.STOP


def test_generate_content_stream(client: genai.Client, tuned: str) -> None:
    chunks = list(client.models.generate_content_stream(model=tuned, contents="say hi"))

    assert chunks and "".join(chunk.text or "" for chunk in chunks) == "ok"
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_count_tokens(client: genai.Client, tuned: str) -> None:
    # The tiny tokenizer has one token per character and adds no BOS.
    assert client.models.count_tokens(model=tuned, contents="say hi").total_tokens == 6


def test_list_and_get_tuned_models(client: genai.Client, tuned: str) -> None:
    names = [model.name for model in client.models.list(config={"query_base": False})]
    assert tuned in names

    model = client.models.get(model=tuned)
    assert model.name == tuned and model.display_name == "shared ok"
    assert model.tuned_model_info.base_model == TINY


def test_update_then_delete(client: genai.Client, server: Server) -> None:
    name, operation = start_tuning(server, epochs=1)
    wait_done(server, operation, timeout=300)

    client.models.update(model=name, config={"display_name": "renamed", "description": "d"})
    model = client.models.get(model=name)
    assert (model.display_name, model.description) == ("renamed", "d")

    client.models.delete(model=name)
    with pytest.raises(errors.ClientError) as raised:
        client.models.get(model=name)
    assert raised.value.code == 404


def test_json_mode_is_refused(client: genai.Client, tuned: str) -> None:
    config = types.GenerateContentConfig(response_mime_type="application/json")

    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model=tuned, contents="say hi", config=config)
    assert raised.value.code == 400
    assert f"Json mode is not enabled for {tuned}" in raised.value.message


@pytest.mark.filterwarnings("ignore:The SDK's tuning implementation is experimental")
def test_tune_explains_that_this_sdk_drops_the_examples(client: genai.Client) -> None:
    # google-genai 1.47+ sends no trainingData (spec §6): the server must say why it refuses.
    dataset = types.TuningDataset(
        examples=[types.TuningExample(text_input=e["textInput"], output="ok") for e in examples()]
    )
    config = types.CreateTuningJobConfig(
        tuned_model_display_name="genai tune", epoch_count=4, batch_size=4, learning_rate=0.01
    )

    with pytest.raises(errors.ClientError) as raised:
        client.tunings.tune(base_model=TINY, training_dataset=dataset, config=config)
    assert raised.value.code == 400
    assert "google-genai" in raised.value.message and "1.47" in raised.value.message


def test_cancel_stops_a_running_job(client: genai.Client, server: Server) -> None:
    name, operation = start_tuning(server, epochs=200)  # 1200 steps: minutes, uncancelled
    wait_for_steps(server, operation, 1)  # running, not merely queued

    client.tunings.cancel(name=name)

    deadline = time.monotonic() + 60
    while (job := client.tunings.get(name=name)).state == types.JobState.JOB_STATE_RUNNING:
        assert time.monotonic() < deadline, f"{name} still running 60 s after the cancel"
        time.sleep(0.3)
    assert job.has_ended
    done = wait_done(server, operation, timeout=10)
    assert done["error"]["code"] == 1  # google.rpc.Code CANCELLED
