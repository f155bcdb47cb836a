"""Editing a contact: validation, normalisation and optimistic locking (both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from session_tui.data.db import Database, open_database
from session_tui.data.editing import EMAIL_TAKEN, VersionConflict, update_contact
from session_tui.data.tables import contact_t
from session_tui.data.validation import ValidationError
from tests.helpers import add_contacts


def rows(db: Database) -> list[tuple[Any, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(contact_t).order_by(contact_t.c.id))]


@pytest.fixture
def two(db: Database) -> list[int]:
    return add_contacts(
        db, [("ann@example.com", "Ann", "Smith"), ("ben@example.com", "Ben", "Jones")]
    )


def test_save_normalises_and_bumps_version(db: Database, two: list[int]) -> None:
    saved = update_contact(
        db, two[0], 1, "  Anna\x1b[31m ", " van  der Berg ", "  Anna@Example.COM "
    )
    assert (saved.first_name, saved.last_name, saved.email) == (
        "Anna[31m",
        "van der Berg",
        "anna@example.com",
    )
    assert saved.version == 2
    with db.engine.connect() as conn:
        row = conn.execute(select(contact_t).where(contact_t.c.id == two[0])).one()
    assert row.version == 2 and row.email == "anna@example.com"
    assert row.updated_at >= row.created_at


def test_unchanged_save_writes_nothing(db: Database, two: list[int]) -> None:
    before = rows(db)
    saved = update_contact(db, two[0], 1, "Ann", "Smith", "ANN@example.com")
    assert saved.version == 1
    assert rows(db) == before


@pytest.mark.parametrize(
    ("first", "last", "email", "field", "needle"),
    [
        ("Ann", "Smith", "", "email", "empty"),
        ("Ann", "Smith", "   ", "email", "empty"),
        ("Ann", "Smith", "not-an-email", "email", "invalid"),
        ("Ann", "Smith", "ann@", "email", "invalid"),
        ("Ann", "Smith", "BEN@Example.com", "email", EMAIL_TAKEN),
        ("A" * 201, "Smith", "ann@example.com", "first_name", "200"),
        ("Ann", "S" * 201, "ann@example.com", "last_name", "200"),
    ],
)
def test_invalid_edits_write_nothing(
    db: Database, two: list[int], first: str, last: str, email: str, field: str, needle: str
) -> None:
    before = rows(db)
    with pytest.raises(ValidationError) as info:
        update_contact(db, two[0], 1, first, last, email)
    assert info.value.field == field
    assert needle in info.value.message
    assert rows(db) == before


def test_name_of_exactly_200_characters_is_fine(db: Database, two: list[int]) -> None:
    saved = update_contact(db, two[0], 1, "A" * 200, "", "ann@example.com")
    assert saved.first_name == "A" * 200


def test_version_conflict_between_two_connections(db_url: str) -> None:
    first = open_database(db_url)
    second = open_database(db_url)
    try:
        (cid,) = add_contacts(first, [("ann@example.com", "Ann", "Smith")])
        # Both sessions opened version 1; the second one saves first.
        update_contact(second, cid, 1, "Annie", "Smith", "annie@example.com")
        before = rows(first)
        with pytest.raises(VersionConflict) as info:
            update_contact(first, cid, 1, "Ann", "Smyth", "ann@example.com")
        current = info.value.current
        assert current is not None
        assert (current.first_name, current.email, current.version) == (
            "Annie",
            "annie@example.com",
            2,
        )
        assert "another user changed" in info.value.message
        assert rows(first) == before
        # Saving again on top of the current version works.
        assert update_contact(first, cid, 2, "Ann", "Smyth", "ann@example.com").version == 3
    finally:
        first.dispose()
        second.dispose()


def test_conflict_when_the_contact_was_deleted(db: Database, two: list[int]) -> None:
    with db.engine.begin() as conn:
        conn.execute(contact_t.delete().where(contact_t.c.id == two[0]))
    with pytest.raises(VersionConflict) as info:
        update_contact(db, two[0], 1, "Ann", "Smith", "ann@example.com")
    assert info.value.current is None
    assert "deleted" in info.value.message
