"""Kill -9 the whole server: what it acknowledged survives, and the job it was running
resumes from its checkpoint when a new server starts on the same data."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from live import make_keys, spawn_server, start_tuning, steps_done, wait_done, wait_until
from sintonia.jobs.queue import JobQueue
from sintonia.jobs.status import JobStatus
from sintonia.storage.db import Database
from sintonia.storage.tuned_models import TunedModelStore

FAST_RECOVERY = {"SINTONIA_JOB_LEASE_SECONDS": "1.5", "SINTONIA_CHECKPOINT_EVERY": "3"}


def _worker_pid(db: Database, model_id: str) -> int:
    job = JobQueue(db).for_model(model_id)[-1]
    assert job.worker, job
    return int(job.worker.rsplit(":", 1)[1])


def _progress(db: Database, model_id: str) -> int:
    return TunedModelStore(db, Path("unused")).get(model_id).completed_steps


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status  # exited, not yet reaped by init


def _wait_gone(pid: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            # Where is it stuck? The worker prints its threads' stacks on SIGUSR1.
            status = Path(f"/proc/{pid}/status").read_text()
            os.kill(pid, signal.SIGUSR1)
            time.sleep(2)
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"worker {pid} outlived serve by {timeout} s\n{status}\n{log.read_text()}")
        time.sleep(0.2)


@pytest.mark.parametrize("what", ["server", "server and worker"])
def test_acknowledged_state_survives_and_the_job_resumes(tmp_path, tiny_model_dir, what):
    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'sintonia.db'}"
    keys = make_keys(url)
    first, process = spawn_server(home, tiny_model_dir, keys, env=FAST_RECOVERY)
    db = Database(url)
    try:
        operation = start_tuning(first, "survivor", epochs=10)  # 60 steps
        wait_until(lambda: steps_done(first, "survivor") >= 6)
        waiting = start_tuning(first, "waiting")
        assert first.call("POST", "/v1beta/tunedModels/waiting:cancel", {})[0] == 200
        grant = {"granteeType": "USER", "emailAddress": "reader@example.com", "role": "READER"}
        status, _ = first.call("POST", "/v1beta/tunedModels/survivor/permissions", grant)
        assert status == 200
        worker = _worker_pid(db, "survivor")

        # No grace for anyone: straight after the last acknowledgement.
        if what == "server and worker":
            os.kill(worker, signal.SIGKILL)
        process.send_signal(signal.SIGKILL)
        process.wait()
        # The embedded worker outlives no server: it checkpoints and hands its job back.
        _wait_gone(worker, home / "server.log")
        reached = _progress(db, "survivor")
    finally:
        if process.poll() is None:
            process.kill()

    second, process = spawn_server(home, tiny_model_dir, keys, env=FAST_RECOVERY)
    try:
        assert second.call("GET", "/v1beta/tunedModels/survivor", key="reader")[0] == 200
        cancelled = wait_done(second, waiting)
        assert cancelled["error"]["code"] == 1, cancelled
        lowest = reached
        while not JobQueue(db).for_model("survivor")[-1].status.done:
            lowest = min(lowest, _progress(db, "survivor"))
            time.sleep(0.01)
        # Resumed from a checkpoint at most 3 steps back (SINTONIA_CHECKPOINT_EVERY), not 0.
        assert lowest >= reached - 3, (lowest, reached)
        done = wait_done(second, operation)
        assert "response" in done, done
        model = done["response"]
        steps = [s["step"] for s in model["tuningTask"]["snapshots"]]
        assert steps == list(range(1, 61))  # every step once: no gap, no double
        job = JobQueue(db).for_model("survivor")[-1]
        assert job.status is JobStatus.SUCCEEDED and job.attempts == 2
    finally:
        process.terminate()
        process.wait(timeout=60)
        db.close()


def test_serve_restarts_a_killed_worker_and_the_job_resumes(tmp_path, tiny_model_dir):
    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'sintonia.db'}"
    server, process = spawn_server(home, tiny_model_dir, make_keys(url), env=FAST_RECOVERY)
    db = Database(url)
    try:
        operation = start_tuning(server, "phoenix", epochs=10)  # 60 steps
        wait_until(lambda: steps_done(server, "phoenix") >= 6)
        killed = _worker_pid(db, "phoenix")
        os.kill(killed, signal.SIGKILL)  # as the kernel's out-of-memory killer would
        done = wait_done(server, operation)
        assert "response" in done, done
        steps = [s["step"] for s in done["response"]["tuningTask"]["snapshots"]]
        assert steps == list(range(1, 61))
        job = JobQueue(db).for_model("phoenix")[-1]
        assert job.attempts == 2 and _worker_pid(db, "phoenix") != killed
        assert f"tuning worker {killed} exited" in (home / "server.log").read_text()
    finally:
        process.terminate()
        process.wait(timeout=60)
        db.close()
