"""Who may do what to a tuned model: roles, grantees, and the one rule that ranks them."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from sintonia.errors import InvalidArgument, PermissionDenied, TunedModelNotFound

if TYPE_CHECKING:  # storage.permissions imports this module for Role and GranteeType
    from sintonia.storage.permissions import Permission


class Role(StrEnum):
    """The roles nest: a reader may use the model, a writer may also edit and share it, and
    the owner may also delete it."""

    OWNER = "OWNER"
    WRITER = "WRITER"
    READER = "READER"

    @property
    def rank(self) -> int:
        """Higher is more: OWNER 3 > WRITER 2 > READER 1."""
        return _RANKS[self]


_RANKS = {Role.OWNER: 3, Role.WRITER: 2, Role.READER: 1}


class GranteeType(StrEnum):
    USER = "USER"
    GROUP = "GROUP"
    EVERYONE = "EVERYONE"


MAX_EMAIL_LENGTH = 320
"""64 characters before the "@" and 255 after, as RFC 5321 allows; the database column's size."""


def check_email(value: str, field: str) -> str:
    """Accept something shaped like an email address: one "@" with text on each side, no spaces
    or control characters, at most MAX_EMAIL_LENGTH characters.

    Args:
        value: the address.
        field: what it is, for the message ("owner", "emailAddress").

    Returns:
        The address, unchanged.

    Raises:
        InvalidArgument: the address does not look like one.
    """
    if len(value) > MAX_EMAIL_LENGTH:
        raise InvalidArgument(
            f"{field} is {len(value)} characters long; the limit is {MAX_EMAIL_LENGTH}."
        )
    local, _, domain = value.partition("@")
    odd = any(c.isspace() or not c.isprintable() for c in value)
    if value.count("@") != 1 or not local or not domain or odd:
        raise InvalidArgument(f"{field} {value!r} is not an email address (name@domain).")
    return value


def role_for(email: str, owner: str, permissions: Sequence[Permission]) -> Role | None:
    """The highest role `email` holds on a model; addresses compare case-insensitively.

    A GROUP grant matches the group's own address only: group membership is not modelled.

    Args:
        email: the caller's address.
        owner: the model's owner (TunedModelRow.owner).
        permissions: the model's permissions.

    Returns:
        The role, or None when the caller has none.
    """
    caller = email.lower()
    if caller and caller == owner.lower():
        return Role.OWNER
    roles = [
        p.role
        for p in permissions
        if p.grantee_type is GranteeType.EVERYONE
        or (caller and (p.email_address or "").lower() == caller)
    ]
    return max(roles, key=lambda role: role.rank, default=None)


def require_role(model_name: str, role: Role | None, needed: Role) -> None:
    """Check that `role` is at least `needed`.

    Args:
        model_name: "tunedModels/ID", for the messages.
        role: what the caller holds (from role_for).
        needed: what the action takes.

    Raises:
        TunedModelNotFound: the caller holds no role, so a stranger cannot tell a private model
            from a missing one.
        PermissionDenied: the caller's role is too low.
    """
    if role is None:
        raise TunedModelNotFound(f"Tuned model {model_name} does not exist.")
    if role.rank < needed.rank:
        raise PermissionDenied(f"You do not have permission to access tuned model {model_name}")
