"""The migrations: they build exactly db.py's tables, adopt pre-migration databases, and
several processes opening one new database at once upgrade it once."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, text

from sintonia.storage.db import Base, Database, engine_url
from sintonia.storage.schema import (
    INITIAL,
    MIGRATIONS,
    SchemaError,
    alembic_config,
    schema_diff,
)
from sintonia.storage.tuned_models import TunedModelStore
from support import record_model

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def _revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _tables(url: str) -> set[str]:
    engine = create_engine(engine_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _first_revision_only(url: str) -> None:
    """What `create_all` made before migrations: the first revision's tables, unversioned."""
    engine = create_engine(engine_url(url))
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), INITIAL)
        connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u:p@h/db?sslmode=require", "postgresql+psycopg://u:p@h/db?sslmode=require"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////data/sintonia.db", "sqlite:////data/sintonia.db"),
    ],
)
def test_postgresql_urls_use_psycopg_3(url: str, expected: str) -> None:
    assert engine_url(url) == expected


def test_the_migrations_build_exactly_the_tables_of_db_py(database_url: str) -> None:
    db = Database(database_url)
    with db.engine.connect() as connection:
        assert schema_diff(connection) == []
    assert _revision(db) == HEAD
    db.close()


def test_a_column_missing_from_the_migrations_is_seen(database_url: str) -> None:
    # The check above can fail: a column declared in the code but in no migration shows up.
    declared = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(declared)
    declared.tables["jobs"].append_column(Column("in_no_migration", Integer))
    db = Database(database_url)
    with db.engine.connect() as connection:
        diff = schema_diff(connection, declared)
    db.close()
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "jobs", "in_no_migration")]


def test_opening_again_changes_nothing(database_url: str, tmp_path) -> None:
    store = TunedModelStore(Database(database_url), tmp_path)
    record_model(store, "kept")
    store.db.close()
    again = TunedModelStore(Database(database_url), tmp_path)
    assert [m.id for m in again.list()] == ["kept"] and _revision(again.db) == HEAD
    again.db.close()


def test_a_database_from_before_migrations_is_adopted_with_its_rows(
    database_url: str, tmp_path
) -> None:
    _first_revision_only(database_url)
    engine = create_engine(engine_url(database_url))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, owner, key_hash, scopes, create_time) "
                "VALUES ('k1', 'old', 'a@x.com', :hash, '[\"tuning\"]', CURRENT_TIMESTAMP)"
            ),
            {"hash": "0" * 64},
        )
    engine.dispose()
    db = Database(database_url)
    assert _revision(db) == HEAD
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM api_keys")).scalars().all() == ["old"]
        assert schema_diff(connection) == []
    db.close()


def test_tables_that_are_not_the_first_revision_are_refused(database_url: str) -> None:
    engine = create_engine(engine_url(database_url))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tuned_models (id VARCHAR(40) PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(SchemaError, match=r"lacks table api_keys, .*tuned_models\.owner"):
        Database(database_url)
    assert _tables(database_url) == {"tuned_models"}  # left as it was: nothing stamped


def test_processes_opening_a_new_database_at_once_upgrade_it_once(database_url: str) -> None:
    # Threads, each with its own engine and connections, stand in for `sintonia serve` and
    # its workers starting together (a barrier makes them really race, which processes
    # importing at different speeds seldom do). Unlocked, they fail or deadlock.
    count = 6
    start = threading.Barrier(count)
    errors: list[BaseException] = []
    opened: list[Database] = []

    def open_it() -> None:
        start.wait()
        try:
            opened.append(Database(database_url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_it, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)  # unlocked, PostgreSQL's racing DDL deadlocks
    assert not any(thread.is_alive() for thread in threads), "the upgrades deadlocked"
    assert errors == [] and len(opened) == count
    with opened[0].engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert versions == [(HEAD,)]
    for db in opened:
        db.close()


def test_duplicate_everyone_grants_become_the_highest_one(database_url: str) -> None:
    # Before revision 0003, two concurrent grants to EVERYONE could both be stored.
    engine = create_engine(engine_url(database_url))
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0002")
        connection.execute(
            text(
                "INSERT INTO tuned_models (id, display_name, description, state, base_model, "
                "owner, temperature, top_p, top_k, hyperparameters, provenance, "
                "example_count, total_steps, completed_steps, epochs_completed, create_time, "
                "update_time) VALUES ('m1', '', '', 'ACTIVE', 'b', 'a@x.com', 1, 1, 1, '{}', "
                "'{}', 20, 5, 5, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for pid, grantee, role in [
            ("p1", "EVERYONE", "READER"),
            ("p2", "EVERYONE", "WRITER"),
            ("p3", "EVERYONE", "READER"),
            ("p4", "USER", "READER"),
        ]:
            connection.execute(
                text(
                    "INSERT INTO permissions (tuned_model_id, id, grantee_type, "
                    "email_address, role) VALUES ('m1', :id, :grantee, :email, :role)"
                ),
                {"id": pid, "grantee": grantee, "role": role, "email": None},
            )
    engine.dispose()
    db = Database(database_url)
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, role FROM permissions ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("p2", "WRITER"), ("p4", "READER")]
    db.close()
