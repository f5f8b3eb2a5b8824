"""API keys on a fresh database (SQLite and PostgreSQL): created once, checked by hash, revoked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from sintonia.auth.keys import KeyStore, Principal
from sintonia.auth.scopes import DEFAULT_SCOPES, Scope
from sintonia.errors import InvalidArgument, NotFound
from sintonia.storage.tuned_models import TunedModelStore


@pytest.fixture
def keys(store: TunedModelStore) -> KeyStore:
    return KeyStore(store.db)


def test_create_returns_the_key_once_and_a_record(keys: KeyStore) -> None:
    plaintext, key = keys.create("laptop", "a@x.com", DEFAULT_SCOPES)
    assert re.fullmatch(r"sk-[A-Za-z0-9_-]{43}", plaintext)
    assert re.fullmatch(r"[a-z0-9]{8}", key.id)
    assert (key.name, key.owner, key.scopes) == ("laptop", "a@x.com", DEFAULT_SCOPES)
    assert key.create_time.utcoffset() == timedelta(0)
    assert key.revoke_time is None
    assert keys.list() == [key]


def test_the_key_itself_is_stored_nowhere(keys: KeyStore) -> None:
    plaintext, _ = keys.create("laptop", "a@x.com", DEFAULT_SCOPES)
    with keys.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).all()
    cells = [str(cell) for row in rows for cell in row]
    assert len(rows) == 1
    assert not any(plaintext in cell or plaintext.removeprefix("sk-") in cell for cell in cells)


def test_authenticate_gives_the_owner_and_scopes(keys: KeyStore) -> None:
    plaintext, key = keys.create("ci", "a@x.com", frozenset({Scope.TUNING_READONLY}))
    assert keys.authenticate(plaintext) == Principal(
        email="a@x.com", scopes=frozenset({Scope.TUNING_READONLY}), key_id=key.id
    )


def test_keys_are_distinct(keys: KeyStore) -> None:
    first, a = keys.create("one", "a@x.com", DEFAULT_SCOPES)
    second, b = keys.create("two", "b@x.com", DEFAULT_SCOPES)
    assert first != second and a.id != b.id
    principal = keys.authenticate(second)
    assert principal is not None and principal.email == "b@x.com"
    assert [k.id for k in keys.list()] == [a.id, b.id]


@pytest.mark.parametrize(
    "garbage",
    ["", "sk-", "sk-nope", "nope", "sk-" + "a" * 10_000, "x" * 1_000_000, "sk-ключ😀", "sk-\ud800"],
    ids=["empty", "prefix", "short", "no-prefix", "long", "huge", "non-ascii", "lone-surrogate"],
)
def test_authenticate_refuses_garbage_without_raising(keys: KeyStore, garbage: str) -> None:
    keys.create("laptop", "a@x.com", DEFAULT_SCOPES)
    assert keys.authenticate(garbage) is None


def test_authenticate_refuses_a_near_miss(keys: KeyStore) -> None:
    plaintext, _ = keys.create("laptop", "a@x.com", DEFAULT_SCOPES)
    assert keys.authenticate(plaintext[:-1]) is None
    assert keys.authenticate(plaintext + " ") is None
    assert keys.authenticate(plaintext.upper()) is None


def test_revoke_stops_the_key_and_keeps_the_first_time(keys: KeyStore) -> None:
    plaintext, key = keys.create("laptop", "a@x.com", DEFAULT_SCOPES)
    revoked = keys.revoke(key.id)
    assert revoked.revoke_time is not None and revoked.revoke_time >= key.create_time
    assert keys.authenticate(plaintext) is None
    assert keys.revoke(key.id).revoke_time == revoked.revoke_time
    assert keys.list() == [revoked]


def test_revoke_unknown_names_the_id(keys: KeyStore) -> None:
    with pytest.raises(NotFound, match="nosuchid"):
        keys.revoke("nosuchid")


@pytest.mark.parametrize(
    ("name", "owner", "scopes", "match"),
    [
        ("", "a@x.com", DEFAULT_SCOPES, "name"),
        ("   ", "a@x.com", DEFAULT_SCOPES, "name"),
        ("n" * 201, "a@x.com", DEFAULT_SCOPES, "name"),
        ("laptop", "a", DEFAULT_SCOPES, "owner"),
        ("laptop", "a@b@c", DEFAULT_SCOPES, "owner"),
        ("laptop", "a b@x.com", DEFAULT_SCOPES, "owner"),
        ("laptop", "", DEFAULT_SCOPES, "owner"),
        ("laptop", "a@x.com", frozenset(), "scope"),
    ],
)
def test_create_refuses(
    keys: KeyStore, name: str, owner: str, scopes: frozenset[Scope], match: str
) -> None:
    with pytest.raises(InvalidArgument, match=match):
        keys.create(name, owner, scopes)
    assert keys.list() == []


def test_principal_has_any() -> None:
    principal = Principal("a@x.com", frozenset({Scope.TUNING_READONLY}))
    assert principal.has_any(Scope.TUNING, Scope.TUNING_READONLY)
    assert not principal.has_any(Scope.TUNING, Scope.GENERATE)
    assert not principal.has_any()
