"""permissions: one EVERYONE grant per model

Two concurrent grants to EVERYONE could both be stored before (NULL email addresses are
never equal in the unique constraint). Where that happened, the grant with the higher role
stays: both were acknowledged, and this keeps the access either of them gave.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 23:00:39.544598
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_RANK = "CASE {t}.role WHEN 'WRITER' THEN 2 ELSE 1 END"


def upgrade() -> None:
    op.execute(
        "DELETE FROM permissions WHERE grantee_type = 'EVERYONE' AND EXISTS ("
        " SELECT 1 FROM permissions AS other"
        " WHERE other.tuned_model_id = permissions.tuned_model_id"
        " AND other.grantee_type = 'EVERYONE'"
        f" AND ({_RANK.format(t='other')} > {_RANK.format(t='permissions')}"
        f"  OR ({_RANK.format(t='other')} = {_RANK.format(t='permissions')}"
        "   AND other.id < permissions.id)))"
    )
    with op.batch_alter_table("permissions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_permissions_everyone",
            ["tuned_model_id"],
            unique=True,
            sqlite_where=sa.text("grantee_type = 'EVERYONE'"),
            postgresql_where=sa.text("grantee_type = 'EVERYONE'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("permissions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_permissions_everyone",
            sqlite_where=sa.text("grantee_type = 'EVERYONE'"),
            postgresql_where=sa.text("grantee_type = 'EVERYONE'"),
        )
