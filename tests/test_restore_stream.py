"""Restore on PostgreSQL keeps the contacts' COPY open from batch to batch, and
settles `active_until` only where the file's value is not its memberships' (SQLite +
PostgreSQL): a cancel while the COPY is open leaves nothing, and a file with wrong
values is still put right."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database
from session_tui.data.deletion import RestoreCancelled, delete_contacts, restore_backup
from session_tui.data.tables import contact_t
from tests.helpers import T0, add_contacts, add_membership, add_product
from tests.test_deletion import snapshot
from tests.test_restore_held_back import PEOPLE, seed_many


def test_cancel_while_the_contacts_stream_leaves_nothing(db: Database) -> None:
    """Cancelled at the third poll (1,000 contacts read, the first batch sent into
    the open COPY): nothing is left, the connection is usable, a restore then works."""
    ids = seed_many(db)
    result = delete_contacts(db, ids)
    before = snapshot(db)
    polls: list[bool] = []

    def cancelled() -> bool:
        polls.append(True)
        return len(polls) > 2

    with pytest.raises(RestoreCancelled):
        restore_backup(db, result.backup_path, cancelled=cancelled)
    assert len(polls) == 3
    assert snapshot(db) == before
    assert restore_backup(db, result.backup_path).contacts == PEOPLE


def _rewrite(path: Path, change: Any) -> None:
    """A hand-edited backup: `change(record)` on each contact line."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    for record in lines[1:-1]:
        change(record)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in lines)


def _active_until(db: Database) -> dict[str, Any]:
    c = contact_t.c
    with db.engine.connect() as conn:
        return {r.email: r.active_until for r in conn.execute(select(c.email, c.active_until))}


def test_wrong_values_in_the_file_are_put_right(db: Database) -> None:
    ann, ben, cem, dee, eve = add_contacts(
        db, [(f"{n}@example.com", n.title(), "X") for n in ("ann", "ben", "cem", "dee", "eve")]
    )
    course = add_product(db, "Course")
    coaching = add_product(db, "Coaching")
    add_membership(db, ann, course, expires=T0 + timedelta(days=30))
    add_membership(db, ann, coaching, cancelled=T0 + timedelta(days=3))
    add_membership(db, ben, course)  # no end: FAR_FUTURE
    add_membership(db, dee, course, expires=T0 + timedelta(days=9))
    add_membership(db, eve, coaching, expires=T0 + timedelta(days=5))
    right = _active_until(db)
    assert right["ann@example.com"] == T0 + timedelta(days=30)
    assert right["ben@example.com"] == FAR_FUTURE and right["cem@example.com"] is None
    result = delete_contacts(db, [ann, ben, cem, dee, eve])

    def change(record: dict[str, Any]) -> None:
        contact = record["contact"]
        email = contact["email"]
        if email == "ann@example.com":
            contact["active_until"] = T0.isoformat()  # too early
        elif email == "ben@example.com":
            contact["active_until"] = None  # has a membership without end
        elif email == "cem@example.com":
            contact["active_until"] = FAR_FUTURE.isoformat()  # no memberships at all
        elif email == "dee@example.com":
            # Right once the time zone is dropped, as the server drops it.
            contact["active_until"] = (T0 + timedelta(days=9)).isoformat() + "+05:00"
        else:
            del contact["active_until"]  # a column the file lacks: NULL

    _rewrite(result.backup_path, change)
    restore_backup(db, result.backup_path)
    assert _active_until(db) == right
