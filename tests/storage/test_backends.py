"""What SQLite takes and PostgreSQL refuses or answers differently, made the same on both:
NUL characters in text, and times read back in UTC whatever the session's time zone."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from sintonia.auth.keys import KeyStore
from sintonia.auth.scopes import DEFAULT_SCOPES
from sintonia.errors import InvalidArgument
from sintonia.storage.db import Database
from sintonia.storage.tuned_models import FailureCode, State, TunedModelStore
from support import record_model


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"description": "one\x00two"}, "description contains a NUL character"),
        ({"display_name": "a\x00b"}, "display name contains a NUL character"),
    ],
)
def test_text_with_nul_is_refused_as_bad_input(store, fields: dict, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        record_model(store, "m1", **fields)
    assert store.list() == []


def test_an_update_with_nul_changes_nothing(store) -> None:
    record_model(store, "m1", description="before")
    with pytest.raises(InvalidArgument, match="description contains a NUL"):
        store.update("m1", {"description": "after\x00"})
    assert store.get("m1").description == "before"


def test_a_key_name_with_nul_is_refused(store) -> None:
    with pytest.raises(InvalidArgument, match="key name contains a NUL"):
        KeyStore(store.db).create("lap\x00top", "a@x.com", DEFAULT_SCOPES)


def test_a_failure_message_with_nul_is_kept_escaped(store) -> None:
    # Written by a worker from an exception's text: stored, not refused.
    record_model(store, "m1")
    failed = store.finish("m1", State.FAILED, FailureCode.INTERNAL, "bad byte \x00 here")
    assert failed.error_message == "bad byte \\u0000 here"


def test_times_come_back_in_utc_whatever_the_session_time_zone(postgres, tmp_path) -> None:
    url = postgres.fresh_url()
    # The session answers in UTC+05:30 (PostgreSQL converts timestamptz to its TimeZone).
    url = url.replace("options=", f"options={quote('-ctimezone=Asia/Kolkata ')}")
    db = Database(url)
    store = TunedModelStore(db, tmp_path)
    created = record_model(store, "m1").create_time
    reader = Database(url)
    again = TunedModelStore(reader, tmp_path).get("m1").create_time
    assert created.utcoffset() == again.utcoffset() == timedelta(0)
    assert again == created
    db.close()
    reader.close()
