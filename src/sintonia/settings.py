"""The one Settings object: the only place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where Sintonia keeps its state, and how it runs models."""

    home: Path
    """Data directory: database, converted base models, tuned-model artifacts."""

    database_url: str
    """SQLAlchemy URL; SQLite under `home` unless SINTONIA_DATABASE_URL says otherwise."""

    models_dir: Path
    """Converted base models (safetensors + tokenizer), one folder each; shareable."""

    artifacts: str
    """Where tuned models' files live (dataset copy, epoch adapters, checkpoint): an fsspec
    URL (SINTONIA_ARTIFACTS). A local folder by default (`artifacts_dir`); object storage
    (s3://bucket/prefix, gs://bucket/prefix) lets every API replica serve every tuned model
    and every worker resume every job. Credentials come from the store's own environment
    (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_S3, GOOGLE_APPLICATION_CREDENTIALS...)."""

    device: str = "auto"
    """"auto" (CUDA when present, else CPU), or an explicit torch device such as "cpu"."""

    default_max_output_tokens: int = 256
    """Generation length when a request names none: bounded, since CPU decoding is slow."""

    max_request_bytes: int = 16 * 1024 * 1024
    """Largest request body the API reads; a longer one is refused with 413 before it is read
    whole. A 4 MB dataset sent inline grows up to 3x in JSON (an ASCII-only encoder writes a
    4-byte emoji as a 12-byte surrogate pair), so 16 MiB holds it with its keys to spare."""

    adapter_cache_bytes: int = 2 * 1024**3
    """Disk the adapters fetched from a remote `artifacts` store may take on this machine;
    past it, those served longest ago are removed (fetched again if asked for). 0: no cap."""

    local_models: tuple[Path, ...] = ()
    """Hugging Face model folders the server offers as base models, besides the bundled ones."""

    checkpoint_every: int = 25
    """Steps between resumable checkpoints within an epoch (one is also written at each
    epoch's end); 0 for epoch ends only. A lost worker costs at most this many steps."""

    job_lease_seconds: float = 60.0
    """How long a worker holds a job without a heartbeat (it beats 4 times per lease) before
    another worker may take the job over, from its last checkpoint."""

    max_jobs_per_user: int = 4
    """Tuning jobs one user (all their keys together) may have queued or running at once;
    one more is refused with 429 RESOURCE_EXHAUSTED. 0: no limit."""

    ray_workers: int = 1
    """Training processes per job on the Ray backend (`sintonia worker --backend ray`); more
    than 1 trains data-parallel with Ray Train (each takes its share of every batch, so a
    worker count above the batch size leaves some idle)."""

    ray_cpus_per_worker: float = 1.0
    """CPUs Ray reserves for each of a job's training processes."""

    ray_gpus_per_worker: float = 0.0
    """GPUs Ray reserves for each training process; above 0, a job trains on GPUs (NCCL
    between the processes of a data-parallel job)."""

    ray_memory_per_worker: int = 0
    """Bytes of memory Ray reserves for each training process; 0 reserves none."""

    @property
    def artifacts_dir(self) -> Path:
        """The local folder `artifacts` names unless SINTONIA_ARTIFACTS says otherwise."""
        return self.home / "tuned"

    @property
    def scratch_dir(self) -> Path:
        """Local working folders of running tunings, published to `artifacts` as they go."""
        return self.home / "scratch"

    @property
    def adapter_cache_dir(self) -> Path:
        """Adapters fetched from a remote `artifacts` store, kept to serve them again."""
        return self.home / "cache" / "adapters"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("SINTONIA_HOME") or Path.home() / ".sintonia").expanduser()
        database_url = env.get("SINTONIA_DATABASE_URL") or f"sqlite:///{home / 'sintonia.db'}"
        return cls(
            home=home,
            database_url=database_url,
            models_dir=Path(env.get("SINTONIA_MODELS_DIR") or home / "models").expanduser(),
            artifacts=env.get("SINTONIA_ARTIFACTS") or str(home / "tuned"),
            device=env.get("SINTONIA_DEVICE", "auto"),
            default_max_output_tokens=int(env.get("SINTONIA_DEFAULT_MAX_OUTPUT_TOKENS", "256")),
            max_request_bytes=int(env.get("SINTONIA_MAX_REQUEST_BYTES") or cls.max_request_bytes),
            adapter_cache_bytes=int(
                env.get("SINTONIA_ADAPTER_CACHE_BYTES") or cls.adapter_cache_bytes
            ),
            checkpoint_every=int(env.get("SINTONIA_CHECKPOINT_EVERY", "25")),
            job_lease_seconds=float(env.get("SINTONIA_JOB_LEASE_SECONDS", "60")),
            max_jobs_per_user=int(env.get("SINTONIA_MAX_JOBS_PER_USER", "4")),
            ray_workers=int(env.get("SINTONIA_RAY_WORKERS", "1")),
            ray_cpus_per_worker=float(env.get("SINTONIA_RAY_CPUS_PER_WORKER", "1")),
            ray_gpus_per_worker=float(env.get("SINTONIA_RAY_GPUS_PER_WORKER", "0")),
            ray_memory_per_worker=int(env.get("SINTONIA_RAY_MEMORY_PER_WORKER", "0")),
            local_models=tuple(
                Path(p).expanduser()
                for p in env.get("SINTONIA_LOCAL_MODELS", "").split(os.pathsep)
                if p.strip()
            ),
        )
