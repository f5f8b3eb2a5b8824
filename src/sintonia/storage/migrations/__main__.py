"""Write the next migration: what the tables in storage/db.py have that the migrations lack.

    .venv/bin/python -m sintonia.storage.migrations "jobs: add checkpoint_step"

Alembic's autogenerate compares db.py with a scratch SQLite database upgraded to the newest
revision, and writes versions/NNNN_<message>.py for a person to read and correct.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from sintonia.storage.schema import MIGRATIONS, alembic_config, schema_diff, upgrade_to_head


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print(__doc__, file=sys.stderr)
        return 2
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    # Sequential ids ("0002" after "0001") keep the files in the order they run.
    rev_id = f"{int(head or 0) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            upgrade_to_head(engine)
            with engine.begin() as connection:
                if not schema_diff(connection):
                    print("db.py and the migrations agree: nothing to write.", file=sys.stderr)
                    return 1
                config = alembic_config(connection)
                _format_with_ruff(config)
                script = command.revision(config, argv[0], autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)  # one head, one new revision
    print(f"Wrote {script.path}: read it, then run .venv/bin/pytest tests/storage/test_schema.py")
    return 0


def _format_with_ruff(config: Config) -> None:
    # The generated file then passes `make lint` as written (ruff comes with the dev extra).
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():
        hooks = "post_write_hooks"
        config.set_section_option(hooks, "hooks", "ruff")
        config.set_section_option(hooks, "ruff.type", "exec")
        config.set_section_option(hooks, "ruff.executable", str(ruff))
        config.set_section_option(hooks, "ruff.options", "format REVISION_SCRIPT_FILENAME")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
