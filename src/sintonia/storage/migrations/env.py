"""Alembic's environment: runs the migrations on the connection it is handed.

`storage.schema.upgrade_to_head` (every Database() at start) and the revision tool
(`python -m sintonia.storage.migrations`) pass their connection in the config's attributes;
there is no alembic.ini, and no URL is read here.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from sintonia.storage.db import Base, UtcDateTime

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit(
        "Sintonia's migrations run when a Database opens (any sintonia command or server), "
        "or through `python -m sintonia.storage.migrations MESSAGE` for a new revision."
    )


def _render_item(kind: str, item: Any, _context: Any) -> str | bool:
    # A migration spells the stored type, not our Python wrapper of it: renaming or moving
    # UtcDateTime later must not break the migrations already written.
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite alters a table by copying it: batch operations do that, and run as plain ALTERs
    # on PostgreSQL, so one generated migration serves both.
    render_as_batch=True,
    render_item=_render_item,
)
with context.begin_transaction():
    context.run_migrations()
