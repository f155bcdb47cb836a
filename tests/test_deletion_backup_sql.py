"""The backup lines the database builds are the lines Python used to write, byte for
byte (SQLite + PostgreSQL): awkward text, NULLs, datetimes with and without
microseconds, contacts without memberships and memberships without history."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from session_tui.data.collation import DERIVED_COLUMNS
from session_tui.data.db import Database
from session_tui.data.deletion import delete_contacts, restore_backup
from session_tui.data.deletion.backup_format import (
    CONTACT,
    EVENT,
    MEMBERSHIP,
    dumps,
    fetch_rows,
)
from session_tui.data.tables import contact_t, event_t, membership_t
from tests.helpers import T0, add_contacts, add_membership, add_product

# Every control character PostgreSQL text can hold, JSON's own escapes, and text
# that json.dumps(ensure_ascii=False) leaves as it is.
AWKWARD = "".join(chr(c) for c in range(1, 32)) + '"\\/ \x7f é ß 漢字 🎉 \u2028\u2029'


def python_lines(db: Database, ids: list[int]) -> list[str]:
    """The contact lines as the Python writer made them (rows -> dicts -> dumps)."""
    with db.engine.connect() as conn:
        contacts = fetch_rows(
            conn,
            select(*(c for c in contact_t.columns if c.name not in DERIVED_COLUMNS))
            .where(contact_t.c.id.in_(ids))
            .order_by(contact_t.c.id),
            CONTACT,
        )
        memberships = fetch_rows(
            conn,
            select(membership_t)
            .where(membership_t.c.contact_id.in_(ids))
            .order_by(membership_t.c.contact_id, membership_t.c.id),
            MEMBERSHIP,
        )
        events = fetch_rows(
            conn,
            select(event_t)
            .where(event_t.c.membership_id.in_([m["id"] for m in memberships] or [-1]))
            .order_by(event_t.c.membership_id, event_t.c.id),
            EVENT,
        )
    by_membership: dict[int, list[dict[str, Any]]] = {}
    for ev in events:
        by_membership.setdefault(ev["membership_id"], []).append(ev)
    by_contact: dict[int, list[dict[str, Any]]] = {}
    for m in memberships:
        m["events"] = by_membership.get(m["id"], [])
        by_contact.setdefault(m["contact_id"], []).append(m)
    return [dumps({"contact": c, "memberships": by_contact.get(c["id"], [])}) for c in contacts]


def test_database_built_backup_lines_equal_the_python_ones_byte_for_byte(db: Database) -> None:
    ids = add_contacts(
        db,
        [
            ("quote@example.com", 'Ann "The" \\ Boss', "Ünal-Øster 漢字"),
            ("plain@example.com", "", ""),
            ("emoji@example.com", "Zoë 🎉", "O'Brien"),
        ],
    )
    product = add_product(db, "Course")
    other = add_product(db, "Coaching")
    micro = T0 + timedelta(microseconds=123_456)
    tiny = T0 + timedelta(microseconds=1)
    m1 = add_membership(db, ids[0], product, "paid", expires=micro, cancelled=tiny)
    m2 = add_membership(db, ids[0], other, "comped")  # no history, NULL dates
    m3 = add_membership(db, ids[2], product, "free", expires=T0 + timedelta(days=400))
    with db.engine.begin() as conn:
        for membership, at, detail in (
            (m1, micro, AWKWARD),
            (m1, T0, ""),
            (m3, tiny, "line\nbreak\ttab"),
        ):
            conn.execute(
                event_t.insert().values(
                    membership_id=membership, at=at, kind="granted", detail=detail, actor=AWKWARD
                )
            )
    expected = python_lines(db, ids)
    assert m2 and len(expected) == 3

    result = delete_contacts(db, ids)

    with gzip.open(result.backup_path, "rb") as fh:
        lines = fh.read().decode("utf-8").split("\n")
    assert lines.pop() == ""  # the file ends with a newline; U+2028 is no line break
    assert lines[1:-1] == expected
    assert json.loads(lines[-1]) == {"end": {"contacts": 3, "memberships": 3, "events": 3}}
    # and it restores to the same rows
    restore_backup(db, result.backup_path)
    assert python_lines(db, ids) == expected


def test_delete_and_restore_more_than_one_batch_keeps_rows_and_search(db: Database) -> None:
    """Over one restore batch (5,000): every row back as it was, progress in order,
    and the search index (filled once at the end) finds them again."""
    from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository

    people = [(f"bulk{i}@example.com", f"Bülk{i}", "Lòad") for i in range(5_600)]
    ids = add_contacts(db, people)
    product = add_product(db, "Course")
    for cid in ids[::700]:
        add_membership(db, cid, product, "paid")
    with db.engine.connect() as conn:
        before = {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
            for t in (contact_t, membership_t, event_t)
        }
    repo = ContactsRepository(db)
    assert repo.count(ContactQuery(search="load")) == 5_600
    result = delete_contacts(db, ids)
    assert repo.count(ContactQuery(search="load")) == 0
    calls: list[tuple[int, int]] = []
    restore_backup(db, result.backup_path, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (5_600, 5_600) and len(calls) >= 11
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    with db.engine.connect() as conn:
        after = {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
            for t in (contact_t, membership_t, event_t)
        }
    assert after == before
    assert repo.count(ContactQuery(search="bulk5599")) == 1
    assert repo.count(ContactQuery(search="load")) == 5_600
