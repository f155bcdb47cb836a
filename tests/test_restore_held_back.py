"""Restore with the memberships and events held back until every contact is in
(PostgreSQL: a temporary COPY file; SQLite: TEMP tables, sqlite_later.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from session_tui.data.db import Database
from session_tui.data.deletion import (
    RestoreCancelled,
    delete_contacts,
    restore_backup,
    sqlite_later,
)
from session_tui.data.deletion import restore as restore_module
from tests.helpers import T0, add_contacts, add_membership, add_product
from tests.test_deletion import add_event, snapshot

PEOPLE = 2_345  # two batches of restore.BATCH (1,000) and a part of one


def seed_many(db: Database) -> list[int]:
    """Contacts over several batches; memberships added from the last contact to the
    first (so their ids fall as the contact ids rise: the held-back rows go in by id,
    not in file order), some with an end or a cancel date, each with history."""
    ids = add_contacts(db, [(f"h{i}@example.com", f"H{i}", "Held") for i in range(PEOPLE)])
    course = add_product(db, "Course")
    coaching = add_product(db, "Coaching")
    for n, cid in enumerate(reversed(ids[::3])):
        at = T0 + timedelta(minutes=n, microseconds=n * 7 + 1)
        m = add_membership(
            db,
            cid,
            course if n % 2 else coaching,
            "paid" if n % 3 else "comped",
            expires=at + timedelta(days=30) if n % 4 else None,
            cancelled=at + timedelta(days=2) if n % 5 == 0 else None,
            started=at,
        )
        add_event(db, m, "granted", at, f"detail {n} \x1b[1m")
        if n % 2:
            add_event(db, m, "extended", at + timedelta(days=1))
    return ids


def temp_tables(db: Database) -> list[str]:
    if not db.is_sqlite:
        return []
    with db.engine.connect() as conn:  # the pool hands out the restore's connection
        return list(
            conn.exec_driver_sql("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
            .scalars()
            .all()
        )


def test_held_back_restore_is_exact(db: Database) -> None:
    ids = seed_many(db)
    before = snapshot(db)
    memberships, events = (len(rows) for rows in list(before.values())[1:])
    assert memberships == len(ids[::3]) and events > memberships
    result = delete_contacts(db, ids)
    assert all(rows == [] for rows in snapshot(db).values())
    restored = restore_backup(db, result.backup_path)
    assert (restored.contacts, restored.memberships, restored.events) == (
        PEOPLE,
        memberships,
        events,
    )
    assert restored.renumbered == 0
    assert snapshot(db) == before  # every row, with its id and every value
    assert temp_tables(db) == []


def test_cancel_after_the_contacts_leaves_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled at the first poll after the file was read, i.e. once every contact
    is in and the held-back rows go in (SQLite: polled while its INSERT .. SELECT
    runs, which the poll interrupts): nothing is left, and a restore then works.
    SQLite holds rows back on the Python path, which it takes for a file that is
    not plain (sqlite_lines.py): made to take it here."""
    monkeypatch.setattr(restore_module, "_restore_plain", lambda *args: None)
    ids = seed_many(db)
    result = delete_contacts(db, ids)
    before = snapshot(db)
    reading_polls = PEOPLE // 500  # restore polls every CHUNK (500) contacts read
    polls: list[bool] = []

    def cancelled() -> bool:
        polls.append(True)
        return len(polls) > reading_polls

    raised: list[type[BaseException]] = []
    put_back = sqlite_later.SqliteLater.put_back

    def spy(self: sqlite_later.SqliteLater, poll: Any) -> None:
        try:
            put_back(self, poll)
        except BaseException as exc:
            raised.append(type(exc))
            raise

    monkeypatch.setattr(sqlite_later, "_POLL_EVERY", 100)
    monkeypatch.setattr(sqlite_later.SqliteLater, "put_back", spy)
    with pytest.raises(RestoreCancelled):
        restore_backup(db, result.backup_path, cancelled=cancelled)
    assert len(polls) == reading_polls + 1  # the first poll after reading cancelled
    if db.is_sqlite:
        assert raised == [OperationalError]  # interrupted inside the INSERT .. SELECT
    assert snapshot(db) == before
    assert temp_tables(db) == []
    assert restore_backup(db, result.backup_path).contacts == PEOPLE
    assert temp_tables(db) == []
