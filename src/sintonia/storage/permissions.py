"""Tuned-model permissions in the database, returned as frozen dataclasses, never as ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sintonia.auth.access import GranteeType, Role, check_email
from sintonia.errors import AlreadyExists, InvalidArgument, PermissionNotFound, TunedModelNotFound
from sintonia.storage.db import Database, PermissionRow, TunedModelRow, unique_violation
from sintonia.storage.names import random_id


@dataclass(frozen=True)
class Permission:
    tuned_model_id: str
    id: str
    grantee_type: GranteeType
    email_address: str | None
    """None when grantee_type is EVERYONE."""

    role: Role

    @property
    def name(self) -> str:
        return f"tunedModels/{self.tuned_model_id}/permissions/{self.id}"


class PermissionStore:
    """Grant, list, change and withdraw access to tuned models; move ownership."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        tuned_model_id: str,
        grantee_type: GranteeType,
        email_address: str | None,
        role: Role,
    ) -> Permission:
        """Grant `role` on a model to a user, a group (by its address) or everyone.

        Raises:
            InvalidArgument: the email is missing or malformed for USER/GROUP, present for
                EVERYONE, or the role is OWNER (ownership moves by transfer_ownership).
            AlreadyExists: the grantee already has a permission on this model.
            TunedModelNotFound: no such model.
        """
        email = _check_grantee(grantee_type, email_address)
        if role is Role.OWNER:
            raise InvalidArgument(
                "The OWNER role cannot be granted; use transferOwnership to change the owner."
            )
        who = email if email is not None else "everyone"
        taken = AlreadyExists(
            f"{grantee_type.value} {who} already has a permission on "
            f"tunedModels/{tuned_model_id}; update its role instead."
        )
        try:
            with self.db.session() as session:
                _model_row(session, tuned_model_id)
                if _grantee_row(session, tuned_model_id, grantee_type, email) is not None:
                    raise taken
                return _to_domain(_add(session, tuned_model_id, grantee_type, email, role))
        except IntegrityError as exc:
            if unique_violation(exc):  # a concurrent grant to the same grantee won the race
                raise taken from exc
            raise

    def list(self, tuned_model_id: str) -> list[Permission]:
        """A model's permissions, highest role first, then by email address.

        Raises:
            TunedModelNotFound: no such model.
        """
        with self.db.session() as session:
            _model_row(session, tuned_model_id)
            rows = session.scalars(
                select(PermissionRow).where(PermissionRow.tuned_model_id == tuned_model_id)
            )
            permissions = [_to_domain(row) for row in rows]
        return sorted(permissions, key=lambda p: (-p.role.rank, p.email_address or "", p.id))

    def get(self, tuned_model_id: str, pid: str) -> Permission:
        """Raises: TunedModelNotFound, PermissionNotFound."""
        with self.db.session() as session:
            return _to_domain(_permission_row(session, tuned_model_id, pid))

    def update_role(self, tuned_model_id: str, pid: str, role: Role) -> Permission:
        """Change a grantee's role.

        Raises:
            InvalidArgument: the new role is OWNER, or the permission is the owner's.
            TunedModelNotFound, PermissionNotFound: no such model or permission.
        """
        if role is Role.OWNER:
            raise InvalidArgument(
                "The OWNER role cannot be granted; use transferOwnership to change the owner."
            )
        with self.db.session() as session:
            row = _permission_row(session, tuned_model_id, pid)
            if row.role == Role.OWNER:
                raise InvalidArgument(
                    "The owner's role cannot be changed; use transferOwnership to change the owner."
                )
            row.role = role.value
            return _to_domain(row)

    def delete(self, tuned_model_id: str, pid: str) -> None:
        """Withdraw a permission.

        Raises:
            InvalidArgument: the permission is the owner's.
            TunedModelNotFound, PermissionNotFound: no such model or permission.
        """
        with self.db.session() as session:
            row = _permission_row(session, tuned_model_id, pid)
            if row.role == Role.OWNER:
                raise InvalidArgument(
                    "The owner's permission cannot be deleted; use transferOwnership first."
                )
            session.delete(row)

    def add_owner(self, tuned_model_id: str, email: str) -> Permission:
        """Record the creator of a new model as its OWNER (a USER permission).

        Calling it again for the same owner returns the existing permission.

        Raises:
            InvalidArgument: the email is malformed, or the model already has another owner.
            TunedModelNotFound: no such model.
        """
        check_email(email, "owner")
        with self.db.session() as session:
            _model_row(session, tuned_model_id)
            owner = _owner_row(session, tuned_model_id)
            if owner is not None:
                if (owner.email_address or "").lower() != email.lower():
                    raise InvalidArgument(
                        f"tunedModels/{tuned_model_id} is already owned by "
                        f"{owner.email_address}; use transferOwnership."
                    )
                return _to_domain(owner)
            return _to_domain(_make_owner(session, tuned_model_id, email))

    def transfer_ownership(self, tuned_model_id: str, new_owner_email: str) -> None:
        """Make `new_owner_email` the owner; the previous owner keeps WRITER access.

        Done in one transaction: the model's `owner`, the old owner's permission (now WRITER)
        and the new owner's (created, or upgraded to OWNER).

        Raises:
            InvalidArgument: the email is malformed.
            TunedModelNotFound: no such model.
        """
        check_email(new_owner_email, "emailAddress")
        with self.db.session() as session:
            model = _model_row(session, tuned_model_id)
            old = model.owner
            if old and old.lower() == new_owner_email.lower():
                return
            for row in _role_rows(session, tuned_model_id, Role.OWNER):
                row.role = Role.WRITER.value
            if old and _grantee_row(session, tuned_model_id, GranteeType.USER, old) is None:
                _add(session, tuned_model_id, GranteeType.USER, old, Role.WRITER)
            _make_owner(session, tuned_model_id, new_owner_email)
            model.owner = new_owner_email
            model.update_time = datetime.now(UTC)


def _check_grantee(grantee_type: GranteeType, email_address: str | None) -> str | None:
    if grantee_type is GranteeType.EVERYONE:
        if email_address:
            raise InvalidArgument("emailAddress must be absent when granteeType is EVERYONE.")
        return None
    if not email_address:
        raise InvalidArgument(f"emailAddress is required when granteeType is {grantee_type}.")
    return check_email(email_address, "emailAddress")


def _model_row(session: Session, tuned_model_id: str) -> TunedModelRow:
    row = session.get(TunedModelRow, tuned_model_id)
    if row is None:
        raise TunedModelNotFound(f"Tuned model tunedModels/{tuned_model_id} does not exist.")
    return row


def _permission_row(session: Session, tuned_model_id: str, pid: str) -> PermissionRow:
    _model_row(session, tuned_model_id)
    row = session.get(PermissionRow, (tuned_model_id, pid))
    if row is None:
        raise PermissionNotFound(
            f"Permission tunedModels/{tuned_model_id}/permissions/{pid} does not exist."
        )
    return row


def _grantee_row(
    session: Session, tuned_model_id: str, grantee_type: GranteeType, email: str | None
) -> PermissionRow | None:
    query = select(PermissionRow).where(
        PermissionRow.tuned_model_id == tuned_model_id,
        PermissionRow.grantee_type == grantee_type.value,
    )
    # Compared in Python, as role_for does: SQLite's lower() folds ASCII letters only, so
    # "Émile@x.com" and "émile@x.com" would be one grantee on PostgreSQL and two on SQLite.
    wanted = email.lower() if email is not None else None
    for row in session.scalars(query):
        if wanted is None or (row.email_address or "").lower() == wanted:
            return row
    return None


def _role_rows(session: Session, tuned_model_id: str, role: Role) -> list[PermissionRow]:
    query = select(PermissionRow).where(
        PermissionRow.tuned_model_id == tuned_model_id, PermissionRow.role == role.value
    )
    return list(session.scalars(query))


def _owner_row(session: Session, tuned_model_id: str) -> PermissionRow | None:
    rows = _role_rows(session, tuned_model_id, Role.OWNER)
    return rows[0] if rows else None


def _make_owner(session: Session, tuned_model_id: str, email: str) -> PermissionRow:
    row = _grantee_row(session, tuned_model_id, GranteeType.USER, email)
    if row is None:
        return _add(session, tuned_model_id, GranteeType.USER, email, Role.OWNER)
    row.role = Role.OWNER.value
    return row


def _add(
    session: Session,
    tuned_model_id: str,
    grantee_type: GranteeType,
    email: str | None,
    role: Role,
) -> PermissionRow:
    pid = random_id(12)
    while session.get(PermissionRow, (tuned_model_id, pid)) is not None:
        pid = random_id(12)
    row = PermissionRow(
        tuned_model_id=tuned_model_id,
        id=pid,
        grantee_type=grantee_type.value,
        email_address=email,
        role=role.value,
    )
    session.add(row)
    return row


def _to_domain(row: PermissionRow) -> Permission:
    return Permission(
        tuned_model_id=row.tuned_model_id,
        id=row.id,
        grantee_type=GranteeType(row.grantee_type),
        email_address=row.email_address,
        role=Role(row.role),
    )
