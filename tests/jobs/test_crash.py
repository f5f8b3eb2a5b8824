"""Kill -9 a worker process at random points, again and again: every job still ends ACTIVE
with a whole loss curve (each step recorded once), resumed from its checkpoints."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sintonia.jobs.queue import JobQueue
from sintonia.jobs.status import JobStatus
from sintonia.storage.tuned_models import State
from support import create_tiny_tuned_model

KILLS = 5
JOBS = ("first", "second")
EPOCHS = 6  # 24 examples, batch 4: 36 steps a job
CHECKPOINT_EVERY = 4


def _start_worker(settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "SINTONIA_HOME": str(settings.home),
        "SINTONIA_DATABASE_URL": settings.database_url,
        "SINTONIA_MODELS_DIR": str(settings.models_dir),
        "SINTONIA_JOB_LEASE_SECONDS": "1.5",  # a killed worker's job is free again soon
        "SINTONIA_CHECKPOINT_EVERY": str(CHECKPOINT_EVERY),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "sintonia.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _progress(store) -> int:
    return sum(store.get(name).completed_steps for name in JOBS)


def _all_done(queue: JobQueue) -> bool:
    return all(queue.for_model(name)[-1].status.done for name in JOBS)


@pytest.mark.parametrize("seed", [int(os.environ.get("SINTONIA_CRASH_SEED", "7"))])
def test_sigkill_at_random_points_loses_nothing(settings, store, tiny_model_dir: Path, seed):
    rng = random.Random(seed)
    queue = JobQueue(store.db)
    for name in JOBS:
        create_tiny_tuned_model(store, tiny_model_dir, name, epochs=EPOCHS)
        queue.enqueue(name)
    total = len(JOBS) * store.get(JOBS[0]).total_steps

    killed_at = [0]
    for _ in range(KILLS):
        # A random point of the remaining work: any step, a checkpoint being written...
        target = rng.randint(_progress(store) + 1, total - 1)
        worker = _start_worker(settings)
        try:
            deadline = time.monotonic() + 120
            while (progress := _progress(store)) < target and worker.poll() is None:
                assert time.monotonic() < deadline, "the worker made no progress"
                # Resumed from a checkpoint at most CHECKPOINT_EVERY steps back, not from 0.
                assert progress >= killed_at[-1] - CHECKPOINT_EVERY, (progress, killed_at)
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.05))
        finally:  # also when an assertion fails: no worker outlives the test
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        killed_at.append(_progress(store))

    worker = _start_worker(settings)
    try:
        deadline = time.monotonic() + 180
        while not _all_done(queue):
            assert time.monotonic() < deadline, f"jobs not done; killed at steps {killed_at}"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    attempts = 0
    for name in JOBS:
        model = store.get(name)
        job = queue.for_model(name)[-1]
        attempts += job.attempts
        assert job.status is JobStatus.SUCCEEDED, (name, killed_at)
        assert model.state is State.ACTIVE and model.epochs_completed == EPOCHS
        assert [s.step for s in model.snapshots] == list(range(1, model.total_steps + 1))
        assert model.snapshots[-1].mean_loss < model.snapshots[0].mean_loss
        assert (store.artifacts.path(model.adapter_key) / "adapter_model.safetensors").is_file()
    assert attempts >= KILLS + 2, f"kills did not interrupt jobs: {killed_at}"
    assert all(a < b for a, b in zip(killed_at, killed_at[1:], strict=False)), killed_at
