"""A PostgreSQL server for tests: a database of its own per test run, a schema per test.

The server is SINTONIA_TEST_POSTGRES (a libpq URL of a database to connect to while creating
the run's own), by default the one on this machine and CI's: postgres@127.0.0.1:5432/test.
Where none answers, the tests that need it are skipped, saying so; where the variable names
a server (as .ci/run does), they fail instead, so CI cannot pass without running them.
SINTONIA_TEST_POSTGRES=off skips them on purpose.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from sintonia.storage.names import random_id

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
PREFIX = "sintonia_test_"
"""Then the run's start (Unix time), so that a later run can tell a killed run's database."""
STALE_AFTER = 24 * 3600


def server_url() -> tuple[str, bool]:
    """(maintenance URL, whether it was asked for explicitly)."""
    asked = os.environ.get("SINTONIA_TEST_POSTGRES", "")
    return asked or DEFAULT_SERVER, bool(asked)


def unavailable(maintenance: str) -> str | None:
    """Why the server cannot be used, or None when it can."""
    import psycopg

    try:
        with psycopg.connect(maintenance, connect_timeout=3, autocommit=True):
            return None
    except psycopg.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return f"no PostgreSQL at {maintenance} ({first_line})"


@dataclass
class Postgres:
    """The run's own database on the test server."""

    maintenance: str
    name: str = field(default_factory=lambda: f"{PREFIX}{int(time.time())}_{random_id(6)}")

    @property
    def url(self) -> str:
        base, _, _ = self.maintenance.rpartition("/")
        return f"{base}/{self.name}"

    def create(self) -> None:
        self._drop_stale()
        self._admin(self.maintenance, f'CREATE DATABASE "{self.name}"')

    def _drop_stale(self) -> None:
        """Drop the databases of runs that were killed before they could drop their own."""
        import psycopg

        with psycopg.connect(self.maintenance, autocommit=True) as connection:
            names = connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)
            ).fetchall()
        for (name,) in names:
            started = name.removeprefix(PREFIX).split("_")[0]
            if started.isdigit() and time.time() - int(started) > STALE_AFTER:
                Postgres(self.maintenance, name).drop()

    def drop(self) -> None:
        # FORCE: a process a failed test left behind must not keep the database alive.
        self._admin(self.maintenance, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def fresh_url(self) -> str:
        """A URL whose tables live in a new, empty schema: one test's database."""
        schema = f"t_{random_id(12)}"
        self._admin(self.url, f'CREATE SCHEMA "{schema}"')
        return f"{self.url}?options={quote(f'-csearch_path={schema}')}"

    @staticmethod
    def _admin(url: str, statement: str) -> None:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]  (names made here)
