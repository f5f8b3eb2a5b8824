"""Two API processes, each with its worker, on one PostgreSQL database and one data dir: every
job created through either runs once, on one worker, and both workers take jobs."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text

from live import make_keys, spawn_server, start_tuning, wait_done, wait_until
from sintonia.storage.db import engine_url

JOBS = 4


def test_two_servers_on_one_database_run_each_job_exactly_once(
    postgres, tmp_path: Path, tiny_model_dir: Path
) -> None:
    url = postgres.fresh_url()
    home = tmp_path / "home"
    home.mkdir()
    keys = make_keys(url)
    # No per-user limit: all the jobs are the owner's, queued at once.
    env = {"SINTONIA_DATABASE_URL": url, "SINTONIA_MAX_JOBS_PER_USER": "0"}
    with ThreadPoolExecutor(2) as pool:  # started side by side: each takes seconds to import
        starts = [pool.submit(spawn_server, home, tiny_model_dir, keys, env=env) for _ in "ab"]
    servers = [start.result() for start in starts if start.exception() is None]
    try:
        assert len(servers) == 2, [start.exception() for start in starts]
        apis = [api for api, _ in servers]
        # Jobs wait for both workers: a worker still importing torch would find none left.
        log = home / "server.log"  # both servers and their workers write here
        wait_until(lambda: len(re.findall(r"worker \S+ ready", log.read_text())) == 2)
        # Created through both APIs in turn, each followed through the other one.
        operations = [start_tuning(apis[i % 2], f"replica-{i}") for i in range(JOBS)]
        done = [wait_done(apis[(i + 1) % 2], op) for i, op in enumerate(operations)]
    finally:
        for _, process in servers:
            process.terminate()  # its worker ends too
        for _, process in servers:
            process.wait(timeout=60)
    assert all("response" in op for op in done), [op.get("error") for op in done]
    assert {op["response"]["state"] for op in done} == {"ACTIVE"}

    engine = create_engine(engine_url(url))
    with engine.connect() as connection:
        jobs = connection.execute(text("SELECT status, attempts, worker FROM jobs")).all()
        steps = connection.execute(
            text(
                "SELECT m.total_steps, count(s.step), count(DISTINCT s.step), min(s.step), "
                "max(s.step) FROM tuned_models m JOIN snapshots s ON s.tuned_model_id = m.id "
                "GROUP BY m.id"
            )
        ).all()
    engine.dispose()
    assert len(jobs) == JOBS
    # One claim each (a second claim, even a take-over, would count a second attempt)...
    assert [(status, attempts) for status, attempts, _ in jobs] == [("succeeded", 1)] * JOBS
    # ...and both workers ran some of them.
    assert len({worker for _, _, worker in jobs}) == 2, jobs
    # Each model's loss curve is whole: every step once, none missing.
    assert len(steps) == JOBS
    assert all(
        count == distinct == total and (low, high) == (1, total)
        for total, count, distinct, low, high in steps
    ), steps
