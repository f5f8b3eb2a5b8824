"""The database schema's version: every process upgrades it to the newest migration at start.

Several processes start at once on one database (`sintonia serve` and its workers, API
replicas), so the upgrade runs under a lock: a PostgreSQL advisory lock held by the upgrade's
transaction, or a lock file beside a SQLite database. The first process upgrades; the others
wait, then find the schema at head and change nothing.

A database made before the migrations existed (by `create_all`: tables, no alembic_version)
holds exactly the first revision's tables, so that revision is stamped on it and the later
ones run as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from sintonia.storage.files import locked

MIGRATIONS = Path(__file__).with_name("migrations")
INITIAL = "0001"
"""The revision whose tables `create_all` made before there were migrations."""

_LOCK_KEY = 0x53696E746F6E6961
"""PostgreSQL advisory lock key of schema upgrades ("Sintonia" in ASCII, as an int64)."""


class SchemaError(RuntimeError):
    """The database holds tables that Sintonia's migrations did not make.

    A start-up failure for the operator to resolve, never an answer to an API request.
    """


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database to the newest migration, adopting a pre-migration database.

    Raises:
        SchemaError: the database has Sintonia-named tables that are not the first
            revision's, so stamping it would hide a mismatch.
    """
    with _file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Released when this transaction ends; PostgreSQL's DDL is transactional, so the
            # next process in line sees all of the upgrade or none of it.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        current = MigrationContext.configure(connection).get_current_revision()
        if current is None and inspect(connection).has_table("tuned_models"):
            _check_adoptable(connection)
            command.stamp(alembic_config(connection), INITIAL)
        command.upgrade(alembic_config(connection), "head")


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for running the migrations on `connection` (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    # Revision files are named 0002_jobs_add_checkpoint.py: sorted, and read in order.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection  # read by migrations/env.py
    return config


def schema_diff(connection: Connection, metadata: MetaData | None = None) -> list[Any]:
    """What differs between the database's tables and `metadata` (db.py's by default).

    Empty when the migrations built exactly the tables the code declares.
    """
    from sintonia.storage.db import Base  # db.py imports this module for upgrade_to_head

    return compare_metadata(MigrationContext.configure(connection), metadata or Base.metadata)


def _check_adoptable(connection: Connection) -> None:
    expected = _initial_columns()
    found = inspect(connection)
    missing = []
    for table, columns in sorted(expected.items()):
        if not found.has_table(table):
            missing.append(f"table {table}")
            continue
        present = {column["name"] for column in found.get_columns(table)}
        missing += [f"{table}.{name}" for name in sorted(columns - present)]
    if missing:
        where = connection.engine.url.render_as_string(hide_password=True)
        raise SchemaError(
            f"The database {where} has tables from before Sintonia's migrations, but not "
            f"those of revision {INITIAL}: it lacks {', '.join(missing)}. Point "
            "SINTONIA_DATABASE_URL at a new database, or move this one aside."
        )


def _initial_columns() -> dict[str, set[str]]:
    """Each table of the first revision with its columns, read from a scratch database."""
    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as connection:
            command.upgrade(alembic_config(connection), INITIAL)
            tables = inspect(connection)
            return {
                table: {column["name"] for column in tables.get_columns(table)}
                for table in tables.get_table_names()
                if table != "alembic_version"
            }
    finally:
        scratch.dispose()


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock file beside a SQLite database file; nothing for other databases."""
    path = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not path or path == ":memory:":
        yield
        return
    with locked(Path(path).with_name(Path(path).name + ".upgrade-lock")):
        yield
