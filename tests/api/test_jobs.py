"""The queue as clients see it: positions while waiting, and the per-user job limit (429)."""

from __future__ import annotations

from live import TINY, Server, examples


def _create(server: Server, model_id: str, key: str) -> tuple[int, dict]:
    body = {
        "baseModel": TINY,
        "tuningTask": {
            # Long enough to stay queued or running for the whole test; cancelled at its end.
            "hyperparameters": {"epochCount": 500, "learningRate": 0.01},
            "trainingData": {"examples": {"examples": examples()}},
        },
    }
    return server.call("POST", f"/v1beta/tunedModels?tunedModelId={model_id}", body, key=key)


def test_queued_jobs_show_their_position_and_a_fifth_job_gets_429(server: Server) -> None:
    # The stranger's own models: no other test's jobs count against this user's limit.
    ids = [f"limit-{i}" for i in range(4)]
    operations = []
    for model_id in ids:
        status, op = _create(server, model_id, "stranger")
        assert status == 200, op
        operations.append(op["name"])
    try:
        jobs = [server.call("GET", f"/v1beta/tunedModels/{i}/job", key="stranger") for i in ids]
        assert all(status == 200 for status, _ in jobs), jobs
        positions = [job.get("queuePosition") for _, job in jobs]
        waiting = [p for p in positions if p is not None]
        # The first may be running already; the others wait in creation order.
        assert len(waiting) >= 3 and waiting == sorted(waiting), positions
        assert jobs[-1][1]["state"] == "QUEUED" and jobs[-1][1]["operation"] == operations[-1]

        status, error = _create(server, "limit-4", "stranger")

        assert status == 429, error
        assert error["error"]["status"] == "RESOURCE_EXHAUSTED"
        assert "4 tuning jobs queued or running; the limit is 4" in error["error"]["message"]
        assert server.call("GET", "/v1beta/tunedModels/limit-4", key="stranger")[0] == 404
    finally:
        # The waiting ones first: cancelling the running one first frees the worker, which
        # could then take a job before its cancel arrives (seen under CI load).
        for model_id in reversed(ids):
            server.call("POST", f"/v1beta/tunedModels/{model_id}:cancel", {}, key="stranger")

    status, job = server.call("GET", f"/v1beta/tunedModels/{ids[-1]}/job", key="stranger")
    assert status == 200 and job["state"] == "CANCELLED" and "queuePosition" not in job
    # A cancelled job frees its place.
    status, op = _create(server, "limit-4", "stranger")
    assert status == 200, op
    server.call("POST", "/v1beta/tunedModels/limit-4:cancel", {}, key="stranger")


def test_the_owner_sees_a_finished_job_and_a_stranger_nothing(server: Server, tuned: str) -> None:
    status, job = server.call("GET", f"/v1beta/{tuned}/job")
    assert status == 200 and job["state"] == "SUCCEEDED" and job["attempts"] >= 1, job
    assert job["lostRuns"] == 0, job
    assert "queuePosition" not in job and job["endTime"] >= job["startTime"]
    status, error = server.call("GET", f"/v1beta/{tuned}/job", key="stranger")
    assert status == 404, error  # as for a model that does not exist
