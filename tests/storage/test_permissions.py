"""Tuned-model permissions on a fresh database (SQLite and PostgreSQL): each write, read back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from sintonia.api.errors import classify
from sintonia.auth.access import GranteeType, Role
from sintonia.errors import (
    Aborted,
    AlreadyExists,
    InvalidArgument,
    PermissionNotFound,
    TunedModelNotFound,
)
from sintonia.storage import permissions
from sintonia.storage.db import Database, PermissionRow
from sintonia.storage.permissions import Permission, PermissionStore
from sintonia.storage.tuned_models import TunedModelStore
from support import just_before, record_model

OWNER = "a@x.com"


def make_model(store: TunedModelStore, model_id: str = "m1", owner: str = OWNER) -> None:
    record_model(store, model_id, owner=owner)


@pytest.fixture
def perms(store: TunedModelStore) -> PermissionStore:
    make_model(store)
    permissions = PermissionStore(store.db)
    permissions.add_owner("m1", OWNER)
    return permissions


def test_add_owner_records_an_owner_user_permission(perms: PermissionStore) -> None:
    [owner] = perms.list("m1")
    assert (owner.grantee_type, owner.email_address, owner.role) == (
        GranteeType.USER,
        OWNER,
        Role.OWNER,
    )
    assert perms.add_owner("m1", "A@X.com") == owner  # again, same owner: unchanged


def test_add_owner_refuses_a_second_owner(perms: PermissionStore) -> None:
    with pytest.raises(InvalidArgument, match="transferOwnership"):
        perms.add_owner("m1", "b@x.com")


def test_create_get_and_name(perms: PermissionStore) -> None:
    created = perms.create("m1", GranteeType.USER, "b@x.com", Role.READER)
    assert re.fullmatch(r"[a-z0-9]{12}", created.id)
    assert created.name == f"tunedModels/m1/permissions/{created.id}"
    assert perms.get("m1", created.id) == created
    assert created == Permission("m1", created.id, GranteeType.USER, "b@x.com", Role.READER)


def test_create_everyone_has_no_email(perms: PermissionStore) -> None:
    for absent in (None, ""):
        public = perms.create("m1", GranteeType.EVERYONE, absent, Role.READER)
        assert public.email_address is None
        perms.delete("m1", public.id)


def test_list_puts_the_highest_role_first(perms: PermissionStore) -> None:
    perms.create("m1", GranteeType.USER, "c@x.com", Role.READER)
    perms.create("m1", GranteeType.GROUP, "team@x.com", Role.WRITER)
    perms.create("m1", GranteeType.EVERYONE, None, Role.READER)
    listed = [(p.role, p.email_address) for p in perms.list("m1")]
    assert listed == [
        (Role.OWNER, OWNER),
        (Role.WRITER, "team@x.com"),
        (Role.READER, None),  # everyone sorts before any address
        (Role.READER, "c@x.com"),
    ]


@pytest.mark.parametrize(
    ("grantee", "email", "role", "match"),
    [
        (GranteeType.USER, None, Role.READER, "emailAddress is required"),
        (GranteeType.USER, "", Role.READER, "emailAddress is required"),
        (GranteeType.GROUP, None, Role.WRITER, "emailAddress is required"),
        (GranteeType.USER, "not-an-email", Role.READER, "not an email"),
        (GranteeType.GROUP, "team @x.com", Role.READER, "not an email"),
        (GranteeType.USER, "a@b@c", Role.READER, "not an email"),
        # Refused before the database, which would refuse them (PostgreSQL) or keep them.
        (GranteeType.USER, "nul\x00@x.com", Role.READER, "not an email"),
        (GranteeType.USER, "b" * 315 + "@x.com", Role.READER, "321 characters long; the limit"),
        (GranteeType.EVERYONE, "b@x.com", Role.READER, "must be absent"),
        (GranteeType.USER, "b@x.com", Role.OWNER, "transferOwnership"),
        (GranteeType.EVERYONE, None, Role.OWNER, "transferOwnership"),
    ],
)
def test_create_refuses(
    perms: PermissionStore, grantee: GranteeType, email: str | None, role: Role, match: str
) -> None:
    with pytest.raises(InvalidArgument, match=match):
        perms.create("m1", grantee, email, role)
    assert len(perms.list("m1")) == 1


@pytest.mark.parametrize(
    ("grantee", "first", "second"),
    [
        (GranteeType.USER, "b@x.com", "b@x.com"),
        (GranteeType.USER, "b@x.com", "B@X.COM"),
        (GranteeType.GROUP, "team@x.com", "team@x.com"),
        (GranteeType.EVERYONE, None, None),
        (GranteeType.USER, OWNER, OWNER),  # the owner already has a USER permission
    ],
)
def test_create_refuses_the_same_grantee_twice(
    perms: PermissionStore, grantee: GranteeType, first: str | None, second: str | None
) -> None:
    if first != OWNER:
        perms.create("m1", grantee, first, Role.READER)
    with pytest.raises(AlreadyExists):
        perms.create("m1", grantee, second, Role.WRITER)


@pytest.mark.parametrize(
    ("grantee", "email"), [(GranteeType.USER, "b@x.com"), (GranteeType.EVERYONE, None)]
)
def test_two_racing_grants_to_one_grantee_store_one(
    perms: PermissionStore, monkeypatch, grantee: GranteeType, email: str | None
) -> None:
    # As if both grants checked for the grantee before either was stored: the database decides.
    monkeypatch.setattr(permissions, "_grantee_row", lambda *_args: None)
    perms.create("m1", grantee, email, Role.READER)
    with pytest.raises(AlreadyExists):
        perms.create("m1", grantee, email, Role.WRITER)
    assert [p.role for p in perms.list("m1") if p.email_address == email] == [Role.READER]


def test_a_user_and_a_group_with_one_address_are_two_grantees(perms: PermissionStore) -> None:
    perms.create("m1", GranteeType.USER, "b@x.com", Role.READER)
    perms.create("m1", GranteeType.GROUP, "b@x.com", Role.WRITER)
    assert len(perms.list("m1")) == 3


def test_unknown_model(perms: PermissionStore) -> None:
    calls = [
        lambda: perms.create("nope", GranteeType.USER, "b@x.com", Role.READER),
        lambda: perms.list("nope"),
        lambda: perms.get("nope", "p"),
        lambda: perms.update_role("nope", "p", Role.READER),
        lambda: perms.delete("nope", "p"),
        lambda: perms.add_owner("nope", OWNER),
        lambda: perms.transfer_ownership("nope", "b@x.com"),
    ]
    for call in calls:
        with pytest.raises(TunedModelNotFound, match="tunedModels/nope"):
            call()


def test_unknown_permission_names_it(perms: PermissionStore) -> None:
    for call in (
        lambda: perms.get("m1", "zzz"),
        lambda: perms.update_role("m1", "zzz", Role.READER),
        lambda: perms.delete("m1", "zzz"),
    ):
        with pytest.raises(PermissionNotFound, match="tunedModels/m1/permissions/zzz"):
            call()


def test_update_role(perms: PermissionStore) -> None:
    created = perms.create("m1", GranteeType.USER, "b@x.com", Role.READER)
    updated = perms.update_role("m1", created.id, Role.WRITER)
    assert updated.role is Role.WRITER
    assert perms.get("m1", created.id) == updated


def test_update_role_refuses_owner_either_way(perms: PermissionStore) -> None:
    created = perms.create("m1", GranteeType.USER, "b@x.com", Role.READER)
    with pytest.raises(InvalidArgument, match="transferOwnership"):
        perms.update_role("m1", created.id, Role.OWNER)
    [owner] = [p for p in perms.list("m1") if p.role is Role.OWNER]
    with pytest.raises(InvalidArgument, match="owner's role"):
        perms.update_role("m1", owner.id, Role.READER)
    assert perms.get("m1", owner.id).role is Role.OWNER


def test_delete(perms: PermissionStore) -> None:
    created = perms.create("m1", GranteeType.USER, "b@x.com", Role.READER)
    perms.delete("m1", created.id)
    with pytest.raises(PermissionNotFound):
        perms.get("m1", created.id)


def test_delete_refuses_the_owner(perms: PermissionStore) -> None:
    [owner] = perms.list("m1")
    with pytest.raises(InvalidArgument, match="owner's permission"):
        perms.delete("m1", owner.id)
    assert perms.list("m1") == [owner]


def test_deleting_the_model_deletes_its_permissions(
    store: TunedModelStore, perms: PermissionStore
) -> None:
    make_model(store, "m2")
    perms.add_owner("m2", OWNER)
    perms.create("m1", GranteeType.USER, "b@x.com", Role.READER)
    perms.create("m1", GranteeType.EVERYONE, None, Role.READER)
    store.delete("m1")
    with store.db.session() as session:
        left = session.scalars(select(PermissionRow.tuned_model_id)).all()
        assert session.scalar(select(func.count()).select_from(PermissionRow)) == 1
    assert left == ["m2"]


def test_transfer_ownership(store: TunedModelStore, perms: PermissionStore) -> None:
    perms.transfer_ownership("m1", "b@x.com")
    assert store.get("m1").owner == "b@x.com"
    roles = {p.email_address: (p.grantee_type, p.role) for p in perms.list("m1")}
    assert roles == {
        "b@x.com": (GranteeType.USER, Role.OWNER),
        OWNER: (GranteeType.USER, Role.WRITER),
    }


def test_transfer_ownership_upgrades_an_existing_grant(
    store: TunedModelStore, perms: PermissionStore
) -> None:
    reader = perms.create("m1", GranteeType.USER, "b@x.com", Role.READER)
    perms.transfer_ownership("m1", "B@x.com")
    assert store.get("m1").owner == "B@x.com"
    assert perms.get("m1", reader.id).role is Role.OWNER
    assert len(perms.list("m1")) == 2


def test_transfer_ownership_to_the_owner_changes_nothing(
    store: TunedModelStore, perms: PermissionStore
) -> None:
    before = perms.list("m1")
    perms.transfer_ownership("m1", "A@X.COM")
    assert perms.list("m1") == before
    assert store.get("m1").owner == OWNER


def test_transfer_ownership_keeps_a_writer_grant_when_the_old_owner_had_none(
    store: TunedModelStore,
) -> None:
    make_model(store, "legacy")  # created before permissions existed: no OWNER row
    perms = PermissionStore(store.db)
    perms.transfer_ownership("legacy", "b@x.com")
    roles = {p.email_address: p.role for p in perms.list("legacy")}
    assert roles == {"b@x.com": Role.OWNER, OWNER: Role.WRITER}


def test_transfer_ownership_refuses_a_bad_email(
    store: TunedModelStore, perms: PermissionStore
) -> None:
    with pytest.raises(InvalidArgument, match="not an email"):
        perms.transfer_ownership("m1", "nobody")
    assert store.get("m1").owner == OWNER


def test_transfer_ownership_is_one_transaction(
    store: TunedModelStore, perms: PermissionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sintonia.storage.permissions as module

    def fail(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_make_owner", fail)
    before = perms.list("m1")
    with pytest.raises(RuntimeError):
        perms.transfer_ownership("m1", "b@x.com")
    assert perms.list("m1") == before
    assert store.get("m1").owner == OWNER


def test_grantees_compare_case_insensitively_beyond_ascii(perms: PermissionStore) -> None:
    # SQLite's lower() folds ASCII only: the store compares in Python, as role_for does.
    perms.create("m1", GranteeType.USER, "Émile@x.com", Role.READER)
    with pytest.raises(AlreadyExists, match="émile@x.com already has a permission"):
        perms.create("m1", GranteeType.USER, "émile@x.com", Role.WRITER)


def test_a_role_change_racing_the_permissions_delete_is_aborted(perms, settings) -> None:
    # Two requests at once: the API answers the loser 409 ABORTED, not 500.
    grant = perms.create("m1", GranteeType.USER, "b@x.com", Role.READER)
    other = PermissionStore(Database(settings.database_url))
    with (
        just_before(perms.db, "UPDATE permissions", lambda: other.delete("m1", grant.id)),
        pytest.raises(Aborted, match="changed or was deleted while this request ran"),
    ):
        perms.update_role("m1", grant.id, Role.WRITER)
    assert classify(Aborted("")) == (409, "ABORTED")
    other.db.close()
