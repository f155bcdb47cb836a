"""SQLite's restore of a plain backup, parsed by SQLite (sqlite_lines.py), and its
fallback to the Python path for anything that is not plain.

A user relies on: `u` puts back exactly what was deleted, whichever path runs; a
hand-edited file is normalised and checked as before; a bad value is refused in
the same words as before, with nothing written; a cancel leaves nothing behind."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from session_tui.data.db import Database
from session_tui.data.deletion import (
    BackupError,
    RestoreCancelled,
    RestoreConflict,
    delete_contacts,
    restore_backup,
    sqlite_lines,
)
from session_tui.data.deletion import restore as restore_module
from session_tui.data.tables import contact_t, membership_t
from tests.helpers import T0, add_contacts, add_membership, add_product
from tests.test_deletion import add_event, read_backup, snapshot


def seed_varied(db: Database) -> list[int]:
    """Contacts whose values exercise the JSON text: accents, quotes, backslashes,
    control characters, markup, emoji; datetimes with and without microseconds; no,
    one and several memberships; ended, cancelled and open ones."""
    ids = add_contacts(
        db,
        [
            ("ann@example.com", "Ann", "Smith"),
            ("zoe@example.com", "Zoë", 'O"Brien'),
            ("back@example.com", "Back\\slash", "[bold]Jones[/]"),
            ("emoji@example.com", "Émile 🎉", "Łukasiewicz"),
            ("none@example.com", "", ""),
            ("josé@exämple.org", "José", "Ñúñez"),
        ],
    )
    coaching, course = add_product(db, "1:1 Coaching"), add_product(db, "Course")
    for n, cid in enumerate(ids[:4]):
        at = T0 + timedelta(days=n, microseconds=n * 1001)
        m = add_membership(
            db,
            cid,
            coaching,
            ("paid", "comped", "free", "paid")[n],
            expires=at + timedelta(days=30) if n % 2 else None,
            cancelled=at + timedelta(days=2) if n == 2 else None,
            started=at,
        )
        add_event(db, m, "granted", at, 'says "hi"\t\x1b[31m\\ \u2028')
        if n == 0:
            add_event(db, m, "extended", at + timedelta(hours=1), "to 2026-02-01")
            add_membership(db, cid, course, "free", started=T0)
    return ids


class PathSpy:
    """Which path each restore took: 'plain' (sqlite_lines) or 'python' (read_entries)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.taken: list[str] = []
        plain, python = restore_module.restore_plain, restore_module._restore

        def spy_plain(*args: Any, **kwargs: Any) -> Any:
            self.taken.append("plain")
            return plain(*args, **kwargs)

        def spy_python(*args: Any, **kwargs: Any) -> Any:
            self.taken.append("python")
            return python(*args, **kwargs)

        monkeypatch.setattr(restore_module, "restore_plain", spy_plain)
        monkeypatch.setattr(restore_module, "_restore", spy_python)


def temp_tables(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(
            conn.exec_driver_sql("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
            .scalars()
            .all()
        )


def rewrite(path: Path, edit: Any) -> None:
    """Hand-edit a backup: `edit(record)` on every contact line."""
    lines = read_backup(path)
    for record in lines[1:-1]:
        edit(record)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(
            json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines
        )


def test_a_genuine_backup_is_put_back_exactly_by_the_plain_path(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_db
    ids = seed_varied(db)
    before = snapshot(db)
    result = delete_contacts(db, ids)
    spy = PathSpy(monkeypatch)
    restored = restore_backup(db, result.backup_path)
    assert spy.taken == ["plain"]
    assert (restored.contacts, restored.memberships, restored.events) == (6, 5, 5)
    assert snapshot(db) == before  # every column, the sort key and search text too
    assert temp_tables(db) == []


def test_both_paths_store_the_same_rows(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same contacts deleted and put back once by each path: identical rows,
    and the search index finds them the same way."""
    db = sqlite_db
    ids = seed_varied(db)
    before = snapshot(db)
    spy = PathSpy(monkeypatch)
    restore_backup(db, delete_contacts(db, ids).backup_path)
    by_plain = snapshot(db)
    monkeypatch.setattr(restore_module, "_restore_plain", lambda *args: None)
    restore_backup(db, delete_contacts(db, ids).backup_path)
    assert spy.taken == ["plain", "python"]
    assert snapshot(db) == by_plain == before
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT rowid FROM contact_fts WHERE contact_fts MATCH 'lukasiewicz'"
        ).all()
    assert [r[0] for r in found] == [ids[3]]


def _upper_email(record: dict[str, Any]) -> None:
    record["contact"]["email"] = "  " + record["contact"]["email"].upper()


def _loose_payment(record: dict[str, Any]) -> None:
    for m in record["memberships"]:
        m["payment_type"] = m["payment_type"].capitalize()


def _date_only(record: dict[str, Any]) -> None:
    record["contact"]["created_at"] = record["contact"]["created_at"][:10]


def _keys_reordered(record: dict[str, Any]) -> None:
    record["contact"] = dict(reversed(list(record["contact"].items())))


def _spaced_name(record: dict[str, Any]) -> None:
    record["contact"]["first_name"] = "  " + record["contact"]["first_name"] + "  "


@pytest.mark.parametrize(
    ("edit", "check"),
    [
        (_upper_email, lambda row: row.email == row.email.strip().lower()),
        (_loose_payment, lambda row: True),
        (_date_only, lambda row: row.created_at.time() == T0.time().replace(hour=0)),
        (_keys_reordered, lambda row: True),
        (_spaced_name, lambda row: row.first_name == row.first_name.strip()),
    ],
    ids=[
        "email-upper-case",
        "payment-type-capitalised",
        "date-only",
        "keys-reordered",
        "name-spaces",
    ],
)
def test_a_hand_edited_file_takes_the_python_path_as_before(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, edit: Any, check: Any
) -> None:
    db = sqlite_db
    ids = add_contacts(db, [("ann@example.com", "Ann", "Smith"), ("ben@example.com", "Ben", "Ng")])
    m = add_membership(db, ids[0], add_product(db, "Course"), "paid")
    add_event(db, m, "granted", T0)
    before = snapshot(db)
    result = delete_contacts(db, ids)
    rewrite(result.backup_path, edit)
    spy = PathSpy(monkeypatch)
    restored = restore_backup(db, result.backup_path)
    assert spy.taken == ["plain", "python"]  # the plain path declined before writing
    assert restored.contacts == 2
    with db.engine.connect() as conn:
        rows = conn.execute(select(contact_t).order_by(contact_t.c.id)).all()
    assert all(check(row) for row in rows)
    if edit in (_upper_email, _loose_payment, _keys_reordered, _spaced_name):
        assert snapshot(db) == before  # normalised back to exactly what was deleted


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-02-30T10:00:00", "contact.created_at is not a date"),
        ("2026-13-01T10:00:00", "contact.created_at is not a date"),
    ],
)
def test_a_day_that_does_not_exist_is_refused_in_the_same_words(
    sqlite_db: Database, value: str, words: str
) -> None:
    db = sqlite_db
    ids = add_contacts(db, [("ann@example.com", "Ann", "Smith")])
    result = delete_contacts(db, ids)
    before = snapshot(db)

    def bad_day(record: dict[str, Any]) -> None:
        record["contact"]["created_at"] = value

    rewrite(result.backup_path, bad_day)
    with pytest.raises(BackupError, match=words):
        restore_backup(db, result.backup_path)
    assert snapshot(db) == before
    assert temp_tables(db) == []


def test_a_leap_day_and_microseconds_stay_on_the_plain_path(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_db
    leap = T0.replace(year=2024, month=2, day=29, microsecond=5)
    ids = add_contacts(db, [("ann@example.com", "Ann", "Smith")], created=leap)
    before = snapshot(db)
    result = delete_contacts(db, ids)
    spy = PathSpy(monkeypatch)
    restore_backup(db, result.backup_path)
    assert spy.taken == ["plain"]
    assert snapshot(db) == before


def test_a_wrong_active_until_in_the_file_is_settled_from_the_memberships(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status comes from the memberships, never from the file, on the plain
    path too: a contact the file calls active with no membership is not, and one
    with an open membership is active until the far future."""
    db = sqlite_db
    ids = add_contacts(db, [("ann@example.com", "Ann", "Smith"), ("ben@example.com", "Ben", "Ng")])
    add_membership(db, ids[1], add_product(db, "Course"), "paid")
    before = snapshot(db)
    result = delete_contacts(db, ids)

    def wrong(record: dict[str, Any]) -> None:
        record["contact"]["active_until"] = "2030-01-01T00:00:00"

    rewrite(result.backup_path, wrong)  # compact, as the app writes: still plain
    spy = PathSpy(monkeypatch)
    restore_backup(db, result.backup_path)
    assert spy.taken == ["plain"]
    assert snapshot(db) == before


def test_a_cancel_while_the_rows_go_in_leaves_nothing(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled at the first poll after the lines are read, i.e. while SQLite takes
    them apart and puts them in (the poll interrupts the statement): nothing is
    left, not even a temporary table, and the file then restores."""
    db = sqlite_db
    ids = add_contacts(db, [(f"c{i}@example.com", f"C{i}", "Late") for i in range(1_200)])
    product = add_product(db, "Course")
    for cid in ids[::7]:
        add_event(db, add_membership(db, cid, product), "granted", T0)
    result = delete_contacts(db, ids)
    before = snapshot(db)
    polls: list[bool] = []

    def cancelled() -> bool:
        polls.append(True)
        return len(polls) > 2  # the polls at 500 and 1,000 lines read pass

    monkeypatch.setattr(sqlite_lines, "_POLL_EVERY", 100)
    spy = PathSpy(monkeypatch)
    with pytest.raises(RestoreCancelled):
        restore_backup(db, result.backup_path, cancelled=cancelled)
    assert spy.taken == ["plain"]  # no second attempt after a cancel
    assert len(polls) == 3
    assert snapshot(db) == before
    assert temp_tables(db) == []
    assert restore_backup(db, result.backup_path).contacts == 1_200


def test_plain_line_matches_what_the_database_writes() -> None:
    """The shape `PLAIN_LINE` accepts, on lines as backup_sql.py writes them, and a
    few that it must leave to the Python path."""
    contact = (
        '{"id":7,"email":"a@b.org","first_name":"Zo\\u0007ë","last_name":"O\\"B",'
        '"created_at":"2026-01-01T12:00:00","updated_at":"2026-01-01T12:00:00.000250",'
        '"version":1,"active_until":null}'
    )
    event = (
        '{"id":3,"membership_id":2,"at":"2026-01-01T12:00:00","kind":"granted",'
        '"detail":"x\\ty","actor":"sam"}'
    )
    membership = (
        '{"id":2,"contact_id":7,"product_id":1,"payment_type":"paid",'
        '"started_at":"2026-01-01T12:00:00","expires_at":null,"cancelled_at":null,'
        f'"events":[{event},{event}]}}'
    )
    line = f'{{"contact":{contact},"memberships":[{membership}]}}\n'
    match = sqlite_lines.PLAIN_LINE.fullmatch
    assert match(line)
    assert match(f'{{"contact":{contact},"memberships":[]}}')
    for bad in (
        line.replace('"paid"', '"Paid"'),  # normalised by the Python path
        line.replace("12:00:00.000250", "12:00:00.000000"),  # not what isoformat writes
        line.replace('"version":1', '"version":"1"'),
        line.replace('"active_until":null', '"active_until":"2026-01-01"'),
        line.replace("Zo\\u0007ë", "Zo\\ud800"),  # an escaped surrogate
        line.replace('"version":1,', ""),  # an older file's missing column
        line.replace('"kind":"granted"', '"kind":"granted","kind":"granted"'),
    ):
        assert not match(bad), bad


def test_the_progress_bar_reaches_the_end_only_when_the_rows_are_in(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the file is the short part of a plain restore: the bar moves on with
    each step after it, never back, and is full only at the end."""
    db = sqlite_db
    ids = add_contacts(db, [(f"p{i}@example.com", f"P{i}", "Bar") for i in range(1_100)])
    result = delete_contacts(db, ids)
    spy = PathSpy(monkeypatch)
    calls: list[tuple[int, int]] = []
    restore_backup(db, result.backup_path, progress=lambda d, t: calls.append((d, t)))
    assert spy.taken == ["plain"]
    assert calls[-1] == (1_100, 1_100)
    assert all(done < total for done, total in calls[:-1])
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len({d for d, _ in calls}) >= 5  # reading, then each step after it


@pytest.mark.parametrize("outcome", ["restored", "refused"])
def test_foreign_keys_are_checked_again_after_a_plain_restore(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    """The plain path turns SQLite's foreign-key checks off for its own transaction
    only: whether it committed or met a clash, the next write is checked again."""
    db = sqlite_db
    ids = add_contacts(db, [("ann@example.com", "Ann", "Smith")])
    product = add_product(db, "Course")
    result = delete_contacts(db, ids)
    if outcome == "refused":
        add_contacts(db, [("ann@example.com", "Someone", "Else")])
        with pytest.raises(RestoreConflict):
            restore_backup(db, result.backup_path)
    else:
        spy = PathSpy(monkeypatch)
        restore_backup(db, result.backup_path)
        assert spy.taken == ["plain"]
    with pytest.raises(IntegrityError), db.write() as conn:
        conn.execute(
            membership_t.insert().values(
                contact_id=999_999, product_id=product, payment_type="paid", started_at=T0
            )
        )
