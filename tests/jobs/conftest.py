"""A local Ray cluster shared by the Ray backend's tests (starting one takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'ray[train]'")
    from sintonia.jobs.ray_backend import RUNTIME_ENV

    # A cluster of this test run's own ("local": never one already running on the host), of
    # 2 CPUs: the two ranks of a data-parallel job take one each.
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        runtime_env=RUNTIME_ENV,
        log_to_driver=False,
    )
    yield
    ray.shutdown()
