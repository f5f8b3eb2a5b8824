"""API keys: shown once at creation, stored only as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from sintonia.auth.access import check_email
from sintonia.auth.scopes import Scope
from sintonia.errors import InvalidArgument, NotFound
from sintonia.storage.db import ApiKeyRow, Database
from sintonia.storage.names import random_id

KEY_PREFIX = "sk-"
MAX_KEY_LENGTH = 200
"""Longer input cannot be one of our keys (they are 46 characters); it is refused unhashed."""

MAX_NAME_LENGTH = 200
_KNOWN_SCOPES = frozenset(scope.value for scope in Scope)


LOCAL_USER = "local@localhost"
"""Who the caller is with --no-auth, who owns models made with the local CLI, and whom keys
act as unless created with another email."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, and with which scopes."""

    email: str
    scopes: frozenset[Scope]
    key_id: str | None = None
    """The API key used, if any (None for other credentials)."""

    def has_any(self, *scopes: Scope) -> bool:
        """True when the principal holds at least one of `scopes`."""
        return not self.scopes.isdisjoint(scopes)


@dataclass(frozen=True)
class ApiKey:
    """A key's record; the key itself is never kept."""

    id: str
    name: str
    owner: str
    scopes: frozenset[Scope]
    create_time: datetime
    revoke_time: datetime | None


def _hash(plaintext: str) -> str:
    # surrogatepass: any Python str hashes, even one with lone surrogates from a bad decode.
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


class KeyStore:
    """Create, list, revoke and check API keys."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, owner: str, scopes: frozenset[Scope]) -> tuple[str, ApiKey]:
        """Make a key for `owner`.

        Args:
            name: a label for people ("laptop", "ci").
            owner: the email address requests made with the key act as.
            scopes: what the key may do.

        Returns:
            The key itself (the only time it is available) and its record.

        Raises:
            InvalidArgument: the name is empty or too long, the owner is not an email address,
                or no scopes are given.
        """
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise InvalidArgument(f"Key name must be 1 to {MAX_NAME_LENGTH} characters.")
        check_email(owner, "owner")
        if not scopes:
            raise InvalidArgument("A key needs at least one scope.")
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.db.session() as session:
            key_id = random_id(8)
            while session.get(ApiKeyRow, key_id) is not None:
                key_id = random_id(8)
            row = ApiKeyRow(
                id=key_id,
                name=name,
                owner=owner,
                key_hash=_hash(plaintext),
                scopes=sorted(Scope(s).value for s in scopes),
                create_time=datetime.now(UTC),
                revoke_time=None,
            )
            session.add(row)
            return plaintext, _to_domain(row)

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        with self.db.session() as session:
            query = select(ApiKeyRow).order_by(ApiKeyRow.create_time, ApiKeyRow.id)
            return [_to_domain(row) for row in session.scalars(query)]

    def revoke(self, key_id: str) -> ApiKey:
        """Stop a key from working; revoking again keeps the first revoke time.

        Raises:
            NotFound: no key has this id.
        """
        with self.db.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"API key {key_id} does not exist.")
            if row.revoke_time is None:
                row.revoke_time = datetime.now(UTC)
            return _to_domain(row)

    def authenticate(self, plaintext: str) -> Principal | None:
        """The principal a key acts as; never raises, whatever the input.

        Returns:
            None when the key is unknown, revoked, or not a key at all.
        """
        if not isinstance(plaintext, str) or not plaintext.startswith(KEY_PREFIX):
            return None
        if len(plaintext) > MAX_KEY_LENGTH:
            return None
        with self.db.session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == _hash(plaintext)))
            if row is None or row.revoke_time is not None:
                return None
            return Principal(email=row.owner, scopes=_scopes(row.scopes), key_id=row.id)


def _scopes(values: list[str]) -> frozenset[Scope]:
    # A scope dropped from a later version is ignored rather than locking the key out.
    return frozenset(Scope(v) for v in values if v in _KNOWN_SCOPES)


def _to_domain(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        owner=row.owner,
        scopes=_scopes(row.scopes),
        create_time=row.create_time,
        revoke_time=row.revoke_time,
    )
