"""The durable job queue: enqueue, claim with a lease, heartbeat, cancel, finish.

A claim is one conditional UPDATE (queued, or running with an expired lease -> running by
me), so two workers never take the same job, on SQLite or PostgreSQL alike. A worker that
stops heart-beating loses its lease and another worker takes the job over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, and_, cast, func, literal, or_, select, true, update

from sintonia.errors import ResourceExhausted
from sintonia.jobs.status import JobStatus, can_move
from sintonia.storage.db import Database, JobRow, TunedModelRow
from sintonia.storage.names import random_id

LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Job:
    id: str
    tuned_model_id: str
    status: JobStatus
    create_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    worker: str | None
    cancel_requested: bool
    attempts: int
    lost_runs: int

    @property
    def operation_name(self) -> str:
        return f"tunedModels/{self.tuned_model_id}/operations/{self.id}"


_OWNER_LOCKS = 0x4A4F4253
"""PostgreSQL advisory lock namespace ("JOBS") of the per-owner job limit."""


def _refuse_over(unfinished: int, limit: int) -> None:
    if limit and unfinished >= limit:
        raise ResourceExhausted(
            f"You have {unfinished} tuning jobs queued or running; the limit is {limit} "
            "at a time. Wait for one to finish, or cancel one, then try again."
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _job(row: JobRow) -> Job:
    return Job(
        row.id,
        row.tuned_model_id,
        JobStatus(row.status),
        row.create_time,
        row.start_time,
        row.end_time,
        row.worker,
        row.cancel_requested,
        row.attempts,
        row.lost_runs,
    )


class JobQueue:
    def __init__(self, db: Database, lease: timedelta = LEASE) -> None:
        self.db = db
        self.lease = lease

    def enqueue(self, tuned_model_id: str, *, limit: int = 0) -> Job:
        """Queue a job for the tuned model.

        With `limit` (0: none), its owner's unfinished jobs, this one included, may not exceed
        it. Checked after the insert, in the same transaction (the caller's, if it is in one),
        and on PostgreSQL under a lock per owner: two racing creates cannot both pass.

        Raises:
            ResourceExhausted: over the limit; nothing is queued.
        """
        row = JobRow(
            id=random_id(12),
            tuned_model_id=tuned_model_id,
            status=JobStatus.QUEUED.value,
            create_time=_now(),
            cancel_requested=False,
            attempts=0,
            lost_runs=0,
        )
        with self.db.session() as session:
            owner = session.scalar(
                select(TunedModelRow.owner).where(TunedModelRow.id == tuned_model_id)
            )
            if limit and self.db.engine.dialect.name == "postgresql":
                space = cast(literal(_OWNER_LOCKS), Integer)
                lock = func.pg_advisory_xact_lock(space, func.hashtext(owner))
                session.execute(select(lock))
            session.add(row)
            session.flush()
            if limit:  # SQLite: the insert took the database's write lock
                _refuse_over(self.unfinished_for(owner) - 1, limit)
        return _job(row)

    def get(self, job_id: str) -> Job | None:
        with self.db.session() as session:
            row = session.get(JobRow, job_id)
            return _job(row) if row else None

    def for_model(self, tuned_model_id: str) -> list[Job]:
        with self.db.session() as session:
            rows = session.scalars(
                select(JobRow)
                .where(JobRow.tuned_model_id == tuned_model_id)
                .order_by(JobRow.create_time)
            )
            return [_job(r) for r in rows]

    def claim(self, worker: str) -> Job | None:
        """Take the oldest runnable job, or None."""
        now = _now()
        runnable = or_(
            JobRow.status == JobStatus.QUEUED.value,
            and_(JobRow.status == JobStatus.RUNNING.value, JobRow.lease_expires < now),
        )
        with self.db.session() as session:
            query = select(JobRow.id).where(runnable, ~JobRow.cancel_requested)
            query = query.order_by(JobRow.create_time)
            if self.db.engine.dialect.name == "postgresql":
                # The row is locked as it is selected, so it is ours: locking more would only
                # hide them from other workers claiming at the same time.
                query = query.limit(1).with_for_update(skip_locked=True)
            else:
                # Another worker may take one between this select and the update: try a few.
                query = query.limit(5)
            candidates = list(session.scalars(query))
            for job_id in candidates:
                taken = session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, runnable)
                    .values(
                        status=JobStatus.RUNNING.value,
                        worker=worker,
                        lease_expires=now + self.lease,
                        attempts=JobRow.attempts + 1,
                        start_time=func.coalesce(JobRow.start_time, now),
                    )
                )
                if taken.rowcount == 1:
                    return _job(session.get(JobRow, job_id))
        return None

    def heartbeat(self, job_id: str, worker: str) -> bool:
        """Extend the lease; False when the job is no longer this worker's."""
        with self.db.session() as session:
            result = session.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.worker == worker,
                    JobRow.status == JobStatus.RUNNING.value,
                )
                .values(lease_expires=_now() + self.lease)
            )
            return result.rowcount == 1

    def request_cancel(self, job_id: str) -> Job | None:
        """Ask a job to stop; a queued job is cancelled at once. Returns the job after."""
        # Conditional updates, not read-then-write: a worker claiming the job meanwhile must
        # find it cancelled, or have it running with the request, never have its claim undone.
        with self.db.session() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED.value)
                .values(status=JobStatus.CANCELLED.value, end_time=_now(), cancel_requested=True)
            )
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.RUNNING.value)
                .values(cancel_requested=True)
            )
            row = session.get(JobRow, job_id, populate_existing=True)
            return _job(row) if row else None

    def cancel_requested(self, job_id: str) -> bool:
        with self.db.session() as session:
            return bool(session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))

    def position(self, job: Job) -> int | None:
        """1 for the next job to run, 2 for the one after...; None unless queued."""
        if job.status is not JobStatus.QUEUED:
            return None
        ahead = and_(
            JobRow.status == JobStatus.QUEUED.value,
            ~JobRow.cancel_requested,
            or_(
                JobRow.create_time < job.create_time,
                and_(JobRow.create_time == job.create_time, JobRow.id < job.id),
            ),
        )
        with self.db.session() as session:
            return 1 + session.scalar(select(func.count()).select_from(JobRow).where(ahead))

    def admit(self, owner: str, limit: int) -> None:
        """Check `owner` may start one more job (`limit` 0: no limit): a quick refusal before
        a create does its work; `enqueue` checks again, race-free.

        Raises:
            ResourceExhausted: `owner` has `limit` jobs queued or running already.
        """
        _refuse_over(self.unfinished_for(owner), limit)

    def unfinished_for(self, owner: str) -> int:
        """Jobs of `owner`'s tuned models that are queued or running."""
        unfinished = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
        with self.db.session() as session:
            query = (
                select(func.count())
                .select_from(JobRow)
                .join(TunedModelRow, TunedModelRow.id == JobRow.tuned_model_id)
                .where(TunedModelRow.owner == owner, JobRow.status.in_(unfinished))
            )
            return session.scalar(query)

    def finish(
        self, job_id: str, status: JobStatus, worker: str | None = None, *, lost: bool = False
    ) -> bool:
        """Move a job on; with `worker`, only if that worker still holds it. False if not, or
        if the job is gone (its tuned model was deleted, maybe a moment ago).

        `lost`: the run's process died; counted in the job's `lost_runs`.

        Raises:
            ValueError: the job's status cannot move to `status`.
        """
        movable = [old.value for old in JobStatus if can_move(old, status)]
        held = JobRow.worker == worker if worker is not None else true()
        # One conditional update: a delete or a take-over landing between a read and a write
        # would otherwise make the write fail (or undo the take-over).
        with self.db.session() as session:
            moved = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, held, JobRow.status.in_(movable))
                .values(
                    status=status.value,
                    lease_expires=None,
                    end_time=_now() if status.done else None,
                    lost_runs=JobRow.lost_runs + int(lost),
                    **({"worker": None} if status is JobStatus.QUEUED else {}),
                )
            )
            if moved.rowcount == 1:
                return True
            row = session.get(JobRow, job_id, populate_existing=True)
            if row is None or (worker is not None and row.worker != worker):
                return False
            raise ValueError(f"job {job_id}: {row.status} -> {status} is not allowed")
