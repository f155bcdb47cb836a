"""Restore sets `contact.active_until` from the memberships, writing only the contacts
whose value (as the backup file gave it) is wrong (SQLite + PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database
from session_tui.data.deletion.restore import settle_active_until
from session_tui.data.tables import contact_t
from tests.helpers import T0, add_contacts, add_membership, add_product


def _active_until(db: Database) -> dict[str, object]:
    c = contact_t.c
    with db.engine.connect() as conn:
        return {r.email: r.active_until for r in conn.execute(select(c.email, c.active_until))}


def test_only_the_wrong_values_are_rewritten(db: Database) -> None:
    ann, ben, cem, dee = add_contacts(
        db,
        [
            ("ann@example.com", "Ann", "A"),
            ("ben@example.com", "Ben", "B"),
            ("cem@example.com", "Cem", "C"),
            ("dee@example.com", "Dee", "D"),
        ],
    )
    course = add_product(db, "Course")
    coaching = add_product(db, "Coaching")
    add_membership(db, ann, course, expires=T0 + timedelta(days=30))
    add_membership(db, ann, coaching, cancelled=T0 + timedelta(days=3))
    add_membership(db, ben, course)  # no end: FAR_FUTURE
    right = _active_until(db)
    assert right == {
        "ann@example.com": T0 + timedelta(days=30),
        "ben@example.com": FAR_FUTURE,
        "cem@example.com": None,
        "dee@example.com": None,
    }
    ids = [ann, ben, cem, dee]
    with db.engine.begin() as conn:
        assert settle_active_until(conn, db.dialect, ids) == 0  # all right: nothing written
        c = contact_t.c
        conn.execute(update(contact_t).where(c.id == ben).values(active_until=None))
        conn.execute(update(contact_t).where(c.id == cem).values(active_until=FAR_FUTURE))
        conn.execute(update(contact_t).where(c.id == ann).values(active_until=T0))
        assert settle_active_until(conn, db.dialect, [ben, cem, dee]) == 2
    got = _active_until(db)
    assert got == {**right, "ann@example.com": T0}  # ann was not among the ids
    with db.engine.begin() as conn:
        assert settle_active_until(conn, db.dialect, ids) == 1
        assert settle_active_until(conn, db.dialect, []) == 0
    assert _active_until(db) == right
