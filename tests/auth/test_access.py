"""Roles: who holds which on a model, and what each role may do."""

from __future__ import annotations

import pytest

from sintonia.auth.access import (
    GranteeType,
    Role,
    check_email,
    require_role,
    role_for,
)
from sintonia.errors import InvalidArgument, PermissionDenied, TunedModelNotFound
from sintonia.storage.permissions import Permission

OWNER = "owner@x.com"


def grant(grantee: GranteeType, email: str | None, role: Role, pid: str = "p") -> Permission:
    return Permission("m", pid, grantee, email, role)


SHARED = [
    grant(GranteeType.USER, OWNER, Role.OWNER, "p0"),
    grant(GranteeType.USER, "writer@x.com", Role.WRITER, "p1"),
    grant(GranteeType.USER, "reader@x.com", Role.READER, "p2"),
    grant(GranteeType.GROUP, "team@googlegroups.com", Role.WRITER, "p3"),
    grant(GranteeType.USER, "both@x.com", Role.READER, "p4"),
    grant(GranteeType.GROUP, "both@x.com", Role.WRITER, "p5"),
]
PUBLIC = [*SHARED, grant(GranteeType.EVERYONE, None, Role.READER, "p6")]


@pytest.mark.parametrize(
    ("email", "permissions", "expected"),
    [
        (OWNER, [], Role.OWNER),
        ("Owner@X.com", [], Role.OWNER),
        (OWNER, PUBLIC, Role.OWNER),
        ("writer@x.com", SHARED, Role.WRITER),
        ("WRITER@x.COM", SHARED, Role.WRITER),
        ("reader@x.com", SHARED, Role.READER),
        ("team@googlegroups.com", SHARED, Role.WRITER),
        ("member@x.com", SHARED, None),  # group membership is not modelled
        ("both@x.com", SHARED, Role.WRITER),  # the highest of several grants
        ("stranger@x.com", SHARED, None),
        ("stranger@x.com", PUBLIC, Role.READER),
        ("writer@x.com", PUBLIC, Role.WRITER),  # everyone's READER does not lower a WRITER
        ("", SHARED, None),
        ("", PUBLIC, Role.READER),
    ],
)
def test_role_for(email: str, permissions: list[Permission], expected: Role | None) -> None:
    assert role_for(email, OWNER, permissions) is expected


def test_an_empty_owner_owns_nothing() -> None:
    assert role_for("", "", []) is None


@pytest.mark.parametrize(
    ("role", "needed"),
    [
        (Role.OWNER, Role.OWNER),
        (Role.OWNER, Role.WRITER),
        (Role.OWNER, Role.READER),
        (Role.WRITER, Role.WRITER),
        (Role.WRITER, Role.READER),
        (Role.READER, Role.READER),
    ],
)
def test_require_role_allows_enough(role: Role, needed: Role) -> None:
    require_role("tunedModels/m", role, needed)


@pytest.mark.parametrize(
    ("role", "needed"),
    [(Role.WRITER, Role.OWNER), (Role.READER, Role.OWNER), (Role.READER, Role.WRITER)],
)
def test_require_role_denies_too_little(role: Role, needed: Role) -> None:
    with pytest.raises(PermissionDenied) as caught:
        require_role("tunedModels/m", role, needed)
    assert str(caught.value) == "You do not have permission to access tuned model tunedModels/m"


@pytest.mark.parametrize("needed", list(Role))
def test_require_role_hides_the_model_from_strangers(needed: Role) -> None:
    with pytest.raises(TunedModelNotFound) as caught:
        require_role("tunedModels/m", None, needed)
    assert str(caught.value) == "Tuned model tunedModels/m does not exist."


def test_ranks() -> None:
    assert Role.OWNER.rank > Role.WRITER.rank > Role.READER.rank


@pytest.mark.parametrize("email", ["a@x.com", "a.b+c@sub.x.co", "A@X"])
def test_check_email_accepts(email: str) -> None:
    assert check_email(email, "owner") == email


@pytest.mark.parametrize("email", ["", "a", "a@", "@x.com", "a@b@c", "a @x.com", "a@x.com\n"])
def test_check_email_refuses(email: str) -> None:
    with pytest.raises(InvalidArgument, match="owner"):
        check_email(email, "owner")
