"""Database tables and sessions (SQLAlchemy): SQLite under the data dir, PostgreSQL by URL.

The tables here are the truth the migrations (storage/migrations/) must build: a test
compares the two, so a column added here needs its migration (see migrations/README.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
    validates,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

from sintonia.errors import Aborted, InvalidArgument
from sintonia.storage.schema import upgrade_to_head


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        # PostgreSQL answers in the session's TimeZone, whatever the server is set to.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def _refuse_nul(field: str, value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL (SQLite can): refuse it on every backend, as bad input.
    if value is not None and "\x00" in value:
        raise InvalidArgument(
            f"{field.replace('_', ' ')} contains a NUL character (\\u0000); text cannot hold one."
        )
    return value


class TunedModelRow(Base):
    __tablename__ = "tuned_models"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    base_model: Mapped[str] = mapped_column(String(200))
    base_model_path: Mapped[str | None] = mapped_column(Text)
    """Set when the base is a local directory rather than a bundled model."""

    state: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(320), default="", index=True)
    """The principal (an email address) that created the model."""

    temperature: Mapped[float | None] = mapped_column(Float)
    top_p: Mapped[float | None] = mapped_column(Float)
    top_k: Mapped[int | None] = mapped_column(Integer)
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    prompt_format: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    example_count: Mapped[int] = mapped_column(Integer)
    total_steps: Mapped[int] = mapped_column(Integer)
    completed_steps: Mapped[int] = mapped_column(Integer, default=0)
    epochs_completed: Mapped[int] = mapped_column(Integer, default=0)
    adapter_dir: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    update_time: Mapped[datetime] = mapped_column(UtcDateTime)
    start_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    complete_time: Mapped[datetime | None] = mapped_column(UtcDateTime)

    snapshots: Mapped[list[SnapshotRow]] = relationship(
        back_populates="tuned_model", cascade="all, delete-orphan", order_by="SnapshotRow.step"
    )

    @validates("display_name", "description")
    def _check_text(self, field: str, value: str | None) -> str | None:
        return _refuse_nul(field, value)

    @validates("error_message")
    def _escape_nul(self, _field: str, value: str | None) -> str | None:
        # Written by a worker, not a caller: keep the message rather than fail the write.
        return value.replace("\x00", "\\u0000") if value is not None else None


class SnapshotRow(Base):
    __tablename__ = "snapshots"

    tuned_model_id: Mapped[str] = mapped_column(
        ForeignKey("tuned_models.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
    mean_loss: Mapped[float] = mapped_column(Float)
    compute_time: Mapped[datetime] = mapped_column(UtcDateTime)

    tuned_model: Mapped[TunedModelRow] = relationship(back_populates="snapshots")


class PermissionRow(Base):
    """Who else may use a tuned model: a user, a group, or everyone, with a role."""

    __tablename__ = "permissions"
    # Back the store's duplicate-grantee check against two concurrent grants. EVERYONE has no
    # email address, and NULLs are never equal in a unique constraint: hence the second one.
    __table_args__ = (
        UniqueConstraint("tuned_model_id", "grantee_type", "email_address"),
        Index(
            "uq_permissions_everyone",
            "tuned_model_id",
            unique=True,
            sqlite_where=text("grantee_type = 'EVERYONE'"),
            postgresql_where=text("grantee_type = 'EVERYONE'"),
        ),
    )

    tuned_model_id: Mapped[str] = mapped_column(
        ForeignKey("tuned_models.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    grantee_type: Mapped[str] = mapped_column(String(20))
    email_address: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))


class ApiKeyRow(Base):
    """An API key: only its hash is kept; the key itself is shown once, at creation."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(320))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    revoke_time: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @validates("name")
    def _check_text(self, _field: str, value: str) -> str | None:
        return _refuse_nul("key name", value)


class JobRow(Base):
    """A tuning job in the durable queue; its id is the long-running operation's id."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tuned_model_id: Mapped[str] = mapped_column(
        ForeignKey("tuned_models.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), index=True)
    create_time: Mapped[datetime] = mapped_column(UtcDateTime)
    start_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    worker: Mapped[str | None] = mapped_column(String(100))
    lease_expires: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lost_runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Runs whose process died (a Ray task or node lost); pauses and take-overs don't count."""


def engine_url(url: str) -> str:
    """The URL SQLAlchemy connects with: `postgresql://` (or `postgres://`) means psycopg 3.

    SQLAlchemy's own default for `postgresql://` is psycopg2, which Sintonia does not install.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


class Database:
    """An engine and its sessions; upgrades the schema to the newest migration first.

    Raises:
        SchemaError: the database holds tables Sintonia's migrations did not make.
    """

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        sqlite = url.startswith("sqlite")
        # pre_ping: a server restart or an idle timeout must not fail the next request.
        self.engine: Engine = create_engine(engine_url(url), pool_pre_ping=not sqlite)
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        upgrade_to_head(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._current: ContextVar[Session | None] = ContextVar("session", default=None)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error.

        Inside another `session()` block of this database (same thread), that block's
        session: the outermost block commits it all or nothing, so several stores' writes
        can be made one transaction by wrapping them in one block.

        Raises:
            Aborted: a row this session read and changed was deleted by another writer
                before the change was written.
        """
        current = self._current.get()
        try:
            if current is not None:
                yield current
                return
            with self._sessions() as session, session.begin():
                token = self._current.set(session)
                try:
                    yield session
                finally:
                    self._current.reset(token)
        except StaleDataError as exc:  # a row read here was deleted before the write
            raise Aborted(
                "The record changed or was deleted while this request ran; read it again, "
                "then retry."
            ) from exc

    def close(self) -> None:
        self.engine.dispose()


def unique_violation(error: IntegrityError) -> bool:
    """True when `error` broke a primary key or unique constraint (not, say, a foreign key)."""
    orig = error.orig
    # psycopg: the SQLSTATE; sqlite3 (Python 3.11+): the extended result code's name.
    return getattr(orig, "sqlstate", None) == "23505" or getattr(
        orig, "sqlite_errorname", None
    ) in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def foreign_key_violation(error: IntegrityError) -> bool:
    """True when `error` refers to a row that does not exist (any more)."""
    orig = error.orig
    return (
        getattr(orig, "sqlstate", None) == "23503"
        or getattr(orig, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_FOREIGNKEY"
    )


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers (the CLI, the API) read while a tuning run writes its snapshots.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
