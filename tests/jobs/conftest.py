"""A local Ray cluster shared by the Ray backend's tests (starting one takes seconds).

Module-scoped: the cluster goes as soon as the module's tests are done. A Ray driver whose
cluster disappears (`ray stop`, a process-tree kill) exits after a minute, so a cluster
left running through the rest of the session could take the whole test run down with it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
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
