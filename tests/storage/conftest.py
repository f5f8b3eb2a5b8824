"""These tests touch the database: each runs on SQLite and on PostgreSQL (tests/pg.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url
