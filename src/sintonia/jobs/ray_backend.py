"""The Ray backend: `sintonia worker --backend ray` runs each claimed job on a Ray cluster.

The worker process claims, heart-beats and moves jobs on exactly as the local worker does
(`worker.Worker`); only where a job runs changes (`RayExecutor`):

- one training process (SINTONIA_RAY_WORKERS=1): a Ray task with the job's resource request
  (SINTONIA_RAY_CPUS_PER_WORKER, _GPUS_PER_WORKER, _MEMORY_PER_WORKER) calls `run_job`, as
  the local worker does in its own process;
- several: Ray Train's TorchTrainer starts that many processes, each with the same request,
  in one torch.distributed group (gloo on CPUs, NCCL on GPUs), and each calls `run_job` as
  one rank of a data-parallel run (see `training.parallel`).

Cancel works as with the local worker: the run asks the database before every step. A pause
(SIGTERM to the worker) cannot reach the task through the worker's memory, so the worker
forwards it to a small actor (`_Control`) that the run's rank 0 asks before every step; rank
0 also leaves there how the run ended. The tasks open the database and the artifact store
themselves: across hosts these must be PostgreSQL and shared storage.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import ray
import torch

from sintonia.errors import InvalidArgument
from sintonia.jobs.queue import Job
from sintonia.jobs.worker import RunEnd, RunLost, connect, run_job
from sintonia.models.loading import Runtime, pick_runtime
from sintonia.settings import Settings
from sintonia.training.parallel import SOLO, ProcessGroup, TorchDistributed

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
"""How often the worker looks for its task's end and for a pause to forward."""

# The tasks run without the CLI's process set-up: weights come from packages, never a hub.
RUNTIME_ENV = {"env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}}


@ray.remote(num_cpus=0)
class _Control:
    """Between a worker and its job's task: the pause request in, the run's end out."""

    def __init__(self) -> None:
        self._pause = False
        self._end: str | None = None

    def pause(self) -> None:
        self._pause = True

    def pausing(self) -> bool:
        return self._pause

    def report(self, end: str) -> None:
        self._end = end

    def end(self) -> str | None:
        return self._end


def check_ray_settings(settings: Settings) -> None:
    """Raises InvalidArgument, naming the variable, for a resource request Ray would refuse."""
    problems = []
    if settings.ray_workers < 1:
        problems.append(f"SINTONIA_RAY_WORKERS must be at least 1, got {settings.ray_workers}.")
    for name, value in (
        ("SINTONIA_RAY_CPUS_PER_WORKER", settings.ray_cpus_per_worker),
        ("SINTONIA_RAY_GPUS_PER_WORKER", settings.ray_gpus_per_worker),
        ("SINTONIA_RAY_MEMORY_PER_WORKER", settings.ray_memory_per_worker),
    ):
        if value < 0:
            problems.append(f"{name} must be 0 or more, got {value}.")
    if problems:
        raise InvalidArgument(" ".join(problems))


class RayExecutor:
    """Runs each job as a task (or a Ray Train run) on the Ray cluster at `address`."""

    def __init__(self, settings: Settings, address: str | None = "auto") -> None:
        """Connect to the cluster (`address` "auto": the one on this host or RAY_ADDRESS;
        None: start a local one). A process already connected keeps its connection.

        Raises:
            InvalidArgument: a resource setting Ray would refuse.
            ConnectionError: no Ray cluster answers at `address`.
        """
        check_ray_settings(settings)
        self.settings = settings
        if not ray.is_initialized():
            ray.init(address=address, runtime_env=RUNTIME_ENV)

    def run(self, job: Job, worker_id: str, should_pause: Callable[[], bool]) -> RunEnd:
        control = _Control.remote()  # type: ignore[attr-defined]
        try:
            if self.settings.ray_workers == 1:
                resources = _task_resources(self.settings)
                ref = _run_task.options(**resources).remote(self.settings, job, worker_id, control)
            else:
                ref = _run_data_parallel.remote(self.settings, job, worker_id, control)
            forwarded = False
            while not ray.wait([ref], timeout=POLL_SECONDS)[0]:
                if not forwarded and should_pause():
                    control.pause.remote()
                    forwarded = True
            try:
                return RunEnd(ray.get(ref))
            except ray.exceptions.RayError as exc:
                raise RunLost(_first_line(exc)) from exc
        finally:
            ray.kill(control)


def _task_resources(settings: Settings) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "num_cpus": settings.ray_cpus_per_worker,
        "num_gpus": settings.ray_gpus_per_worker,
    }
    if settings.ray_memory_per_worker:
        resources["memory"] = settings.ray_memory_per_worker
    return resources


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def _run_here(
    settings: Settings,
    job: Job,
    worker_id: str,
    control: Any,
    runtime: Runtime,
    group: ProcessGroup,
) -> RunEnd:
    """One process's part of the job, on a Ray worker: its own database connection."""
    db, store, queue = connect(settings)
    try:
        return run_job(
            settings,
            store,
            queue,
            job,
            worker_id,
            runtime,
            should_pause=lambda: ray.get(control.pausing.remote()),
            group=group,
        )
    finally:
        db.close()


# max_retries=0: a lost run is the worker's to resume (from the checkpoint) or give up on.
@ray.remote(max_retries=0)
def _run_task(settings: Settings, job: Job, worker_id: str, control: Any) -> str:
    return _run_here(settings, job, worker_id, control, pick_runtime(settings.device), SOLO).value


@ray.remote(num_cpus=0, max_retries=0)
def _run_data_parallel(settings: Settings, job: Job, worker_id: str, control: Any) -> str:
    """Start the job's ranks with Ray Train and wait for them; returns rank 0's RunEnd."""
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    resources: dict[str, float] = {"CPU": settings.ray_cpus_per_worker}
    if settings.ray_gpus_per_worker:
        resources["GPU"] = settings.ray_gpus_per_worker
    if settings.ray_memory_per_worker:
        resources["memory"] = settings.ray_memory_per_worker
    trainer = TorchTrainer(
        _train_rank,
        train_loop_config={
            "settings": settings,
            "job": job,
            "worker_id": worker_id,
            "control": control,
        },
        scaling_config=ScalingConfig(
            num_workers=settings.ray_workers,
            use_gpu=settings.ray_gpus_per_worker > 0,
            resources_per_worker=resources,
        ),
        # Ray Train keeps a little state per run; the run restores nothing from it (the
        # checkpoint is ours), so each attempt gets a name of its own.
        run_config=RunConfig(
            name=f"{job.tuned_model_id}-{job.id}-{job.attempts}-{os.urandom(3).hex()}",
            storage_path=str(settings.home / "ray-train"),
        ),
    )
    failure: Exception | None = None
    try:
        trainer.fit()
    except Exception as exc:  # a rank raised or died: Ray Train stopped them all
        failure = exc
    end = ray.get(control.end.remote())
    if end is None:
        raise RuntimeError(f"the data-parallel run ended without rank 0's word: {failure}")
    return end


def _train_rank(config: dict[str, Any]) -> None:
    """One rank of a data-parallel job, in a Ray Train worker (its process group is set up)."""
    import ray.train.torch

    settings: Settings = config["settings"]
    if settings.ray_gpus_per_worker > 0:
        device = ray.train.torch.get_device()
    else:
        device = torch.device("cpu")
    group = TorchDistributed(device)
    end = _run_here(
        settings,
        config["job"],
        config["worker_id"],
        config["control"],
        pick_runtime(str(device)),
        group,
    )
    if group.rank == 0:
        ray.get(config["control"].report.remote(end.value))
