"""The durable queue: claims, leases, heartbeats, cancels, and the allowed transitions, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from sintonia.errors import ResourceExhausted
from sintonia.jobs.queue import JobQueue
from sintonia.jobs.status import ALLOWED, JobStatus, can_move
from sintonia.storage.db import Database
from sintonia.storage.tuned_models import TunedModelStore
from support import just_before, record_model


@pytest.fixture
def database_url(any_database_url: str) -> str:
    # Here only, not for all of tests/jobs: the worker tests start processes of their own.
    return any_database_url


@pytest.fixture
def queue(store) -> JobQueue:
    for name in ("a", "b"):
        record_model(store, name)
    return JobQueue(store.db)


@pytest.mark.parametrize(
    "current, new, allowed",
    [
        (JobStatus.QUEUED, JobStatus.RUNNING, True),
        (JobStatus.QUEUED, JobStatus.CANCELLED, True),
        (JobStatus.QUEUED, JobStatus.SUCCEEDED, False),
        (JobStatus.RUNNING, JobStatus.QUEUED, True),
        (JobStatus.RUNNING, JobStatus.RUNNING, True),
        (JobStatus.RUNNING, JobStatus.FAILED, True),
        (JobStatus.SUCCEEDED, JobStatus.RUNNING, False),
        (JobStatus.CANCELLED, JobStatus.QUEUED, False),
    ],
)
def test_transitions(current, new, allowed) -> None:
    assert can_move(current, new) is allowed


def test_done_states_are_final() -> None:
    assert all(not ALLOWED[s] for s in JobStatus if s.done)


def test_jobs_are_claimed_oldest_first_and_once(queue) -> None:
    first, second = queue.enqueue("a"), queue.enqueue("b")
    claimed = queue.claim("w1")
    assert claimed.id == first.id and claimed.status is JobStatus.RUNNING
    assert claimed.attempts == 1 and claimed.worker == "w1"
    assert queue.claim("w2").id == second.id
    assert queue.claim("w3") is None


def test_an_expired_lease_lets_another_worker_take_over(store) -> None:
    record_model(store, "a")
    short = JobQueue(store.db, lease=timedelta(seconds=-1))  # every lease already expired
    job = short.enqueue("a")
    assert short.claim("w1").worker == "w1"
    taken = short.claim("w2")
    assert taken.id == job.id and taken.worker == "w2" and taken.attempts == 2
    assert not short.heartbeat(job.id, "w1")  # the old worker learns it lost the job
    assert short.heartbeat(job.id, "w2")


def test_a_live_lease_is_not_taken(queue) -> None:
    job = queue.enqueue("a")
    queue.claim("w1")
    assert queue.claim("w2") is None
    assert queue.heartbeat(job.id, "w1")


def test_cancel_a_queued_job_ends_it_at_once(queue) -> None:
    job = queue.enqueue("a")
    cancelled = queue.request_cancel(job.id)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.end_time is not None
    assert queue.claim("w1") is None


def test_cancel_a_running_job_is_a_request_the_worker_reads(queue) -> None:
    job = queue.enqueue("a")
    queue.claim("w1")
    assert not queue.cancel_requested(job.id)
    assert queue.request_cancel(job.id).status is JobStatus.RUNNING
    assert queue.cancel_requested(job.id)
    queue.finish(job.id, JobStatus.CANCELLED)
    assert queue.get(job.id).status is JobStatus.CANCELLED


def test_finish_refuses_a_move_out_of_a_final_state(queue) -> None:
    job = queue.enqueue("a")
    queue.claim("w1")
    queue.finish(job.id, JobStatus.SUCCEEDED)
    with pytest.raises(ValueError, match="succeeded -> running is not allowed"):
        queue.finish(job.id, JobStatus.RUNNING)


def test_a_handed_back_job_is_claimed_again(queue) -> None:
    job = queue.enqueue("a")
    queue.claim("w1")
    queue.finish(job.id, JobStatus.QUEUED)
    again = queue.claim("w2")
    assert again.id == job.id and again.attempts == 2


def test_jobs_go_with_their_model(queue, store) -> None:
    job = queue.enqueue("a")
    store.delete("a")
    assert queue.get(job.id) is None


def test_queue_positions_count_the_jobs_still_waiting_ahead(store) -> None:
    for name in ("a", "b", "c"):
        record_model(store, name)
    queue = JobQueue(store.db)
    a, b, c = (queue.enqueue(name) for name in ("a", "b", "c"))
    assert [queue.position(j) for j in (a, b, c)] == [1, 2, 3]
    queue.request_cancel(a.id)
    running = queue.claim("w1")  # b
    assert running.id == b.id and queue.position(running) is None
    assert queue.position(queue.get(c.id)) == 1


def test_admit_refuses_one_job_over_the_owner_limit(store) -> None:
    for name, owner in (("a", "ann@x.org"), ("b", "ann@x.org"), ("c", "bob@x.org")):
        record_model(store, name, owner=owner)
    queue = JobQueue(store.db)
    queue.admit("ann@x.org", limit=2)
    queue.enqueue("a")
    queue.enqueue("b")
    with pytest.raises(ResourceExhausted, match="2 tuning jobs queued or running; the limit is 2"):
        queue.admit("ann@x.org", limit=2)
    queue.admit("bob@x.org", limit=2)  # limits are per user
    queue.admit("ann@x.org", limit=0)  # 0: no limit
    queue.finish(queue.claim("w1").id, JobStatus.SUCCEEDED)
    queue.admit("ann@x.org", limit=2)  # a finished job frees its place


def test_only_the_holding_worker_can_finish_a_job(queue) -> None:
    job = queue.enqueue("a")
    queue.claim("w1")
    assert queue.finish(job.id, JobStatus.SUCCEEDED, worker="w2") is False
    assert queue.get(job.id).status is JobStatus.RUNNING
    assert queue.finish(job.id, JobStatus.SUCCEEDED, worker="w1") is True


def test_workers_claiming_at_once_take_each_job_exactly_once(store, database_url) -> None:
    # Each "worker" has its own engine, as separate processes would; on PostgreSQL the
    # claims lock rows (FOR UPDATE SKIP LOCKED), on SQLite they queue for the write lock.
    names = [f"m{i}" for i in range(12)]
    for name in names:
        record_model(store, name)
    jobs = {JobQueue(store.db).enqueue(name).id for name in names}
    workers = [JobQueue(Database(database_url)) for _ in range(4)]
    start = threading.Barrier(len(workers))
    claimed: dict[int, list[str]] = {i: [] for i in range(len(workers))}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        start.wait()
        try:
            while (job := workers[i].claim(f"w{i}")) is not None:
                claimed[i].append(job.id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    taken = [job_id for ids in claimed.values() for job_id in ids]
    assert sorted(taken) == sorted(jobs)  # every job, none twice
    for i, ids in claimed.items():
        assert all(
            store_job.worker == f"w{i}" and store_job.attempts == 1
            for store_job in map(workers[0].get, ids)
        )
    for worker in workers:
        worker.db.close()


def _create_at_once(servers: list[TunedModelStore], owner: str) -> tuple[list, list]:
    """Each server creates a model of `owner` and queues its job, all at once, each in one
    transaction as the create route does (limit 1): which passed, which were refused."""
    start = threading.Barrier(len(servers))
    passed: list[str] = []
    refused: list[str] = []

    def create(server: TunedModelStore, name: str) -> None:
        start.wait()
        try:
            with server.db.session():
                record_model(server, name, owner=owner)
                JobQueue(server.db).enqueue(name, limit=1)
            passed.append(name)
        except ResourceExhausted:
            refused.append(name)

    names = [f"{owner.split('@')[0]}-{i}" for i in range(len(servers))]
    pairs = zip(servers, names, strict=True)
    threads = [threading.Thread(target=create, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return passed, refused


def test_racing_creates_cannot_pass_the_owner_limit_together(store, database_url, tmp_path):
    # Each "server" has its own engine, as separate processes would.
    servers = [TunedModelStore(Database(database_url), tmp_path) for _ in range(4)]
    for round_ in range(3):
        passed, refused = _create_at_once(servers, f"ann{round_}@x.org")
        assert len(passed) == 1 and len(refused) == len(servers) - 1, (passed, refused)
        assert [m.id for m in store.list() if m.id.startswith(f"ann{round_}-")] == passed
    for server in servers:
        server.db.close()


def test_a_job_whose_model_is_deleted_as_it_finishes_is_simply_gone(queue, settings) -> None:
    # Seen on PostgreSQL: the worker read the job, the API deleted the model, and the
    # worker's write failed (StaleDataError) and killed the worker.
    job = queue.enqueue("a")
    queue.claim("w1")
    api = TunedModelStore(Database(settings.database_url), settings.artifacts_dir)
    with just_before(queue.db, "UPDATE jobs", lambda: api.delete("a")):
        assert queue.finish(job.id, JobStatus.SUCCEEDED, "w1") is False
    api.db.close()


def test_a_cancel_racing_a_claim_never_undoes_the_claim(queue, settings) -> None:
    job = queue.enqueue("a")
    other = JobQueue(Database(settings.database_url))
    with just_before(queue.db, "UPDATE jobs", lambda: other.claim("w1")):
        after = queue.request_cancel(job.id)
    # Claimed first, then asked to stop: the worker holds it and stops at its next step.
    assert after.status is JobStatus.RUNNING and after.worker == "w1"
    assert after.cancel_requested
    other.db.close()
