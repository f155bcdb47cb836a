"""Deleting contacts with a backup first, undo/restore from the backup (SQLite + PostgreSQL)."""

from __future__ import annotations

import gzip
import json
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from session_tui import locations
from session_tui.data.collation import DERIVED_COLUMNS
from session_tui.data.db import Database
from session_tui.data.deletion import (
    BackupError,
    DeletionCancelled,
    RestoreCancelled,
    RestoreConflict,
    delete_contacts,
    inspect_backup,
    preview,
    restore_backup,
)
from session_tui.data.tables import contact_t, event_t, membership_t
from tests.helpers import T0, add_contacts, add_membership, add_product


def add_event(db: Database, membership_id: int, kind: str, at: datetime, detail: str = "") -> int:
    with db.engine.begin() as conn:
        res = conn.execute(
            event_t.insert().values(
                membership_id=membership_id, at=at, kind=kind, detail=detail, actor="tester"
            )
        )
        return int(res.inserted_primary_key[0])


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every row of the three tables a deletion touches."""
    with db.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
            for t in (contact_t, membership_t, event_t)
        }


def count(db: Database, table: Any) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def seed(db: Database) -> dict[str, Any]:
    """Four contacts; Ann and Ben have memberships with history, Cem has none."""
    ids = add_contacts(
        db,
        [
            ("ann@example.com", "Ann", "Smith"),
            ("ben@example.com", "Ben", "[bold]Jones"),
            ("cem@example.com", "Cem", "Yılmaz"),
            ("dee@example.com", "Dee", "Okafor"),
        ],
    )
    coaching = add_product(db, "1:1 Coaching")
    course = add_product(db, "Course")
    m1 = add_membership(db, ids[0], coaching, "paid", expires=T0 + timedelta(days=30))
    m2 = add_membership(db, ids[0], course, "free", cancelled=T0 + timedelta(days=3))
    m3 = add_membership(db, ids[1], coaching, "comped")
    m4 = add_membership(db, ids[3], course, "paid")
    add_event(db, m1, "granted", T0, "paid, expires 2026-01-31")
    add_event(db, m1, "extended", T0 + timedelta(days=1), "to 2026-01-31")
    add_event(db, m2, "granted", T0)
    add_event(db, m2, "cancelled", T0 + timedelta(days=3))
    add_event(db, m3, "granted", T0, "comped \x1b[31m")
    add_event(db, m4, "granted", T0)
    return {"ids": ids, "products": (coaching, course), "memberships": (m1, m2, m3, m4)}


def read_backup(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_delete_writes_private_complete_backup_then_deletes(db: Database) -> None:
    s = seed(db)
    ann, ben, cem, dee = s["ids"]
    before = snapshot(db)
    result = delete_contacts(db, [ben, ann, cem, ann])  # any order, repeats ignored

    assert (result.contacts, result.memberships, result.events, result.missing) == (3, 3, 5, 0)
    assert result.ids == tuple(sorted([ann, ben, cem]))
    after = snapshot(db)
    assert [r[0] for r in after["contact"]] == [dee]
    assert [r[0] for r in after["membership"]] == [s["memberships"][3]]
    assert len(after["membership_event"]) == 1

    path = result.backup_path
    assert path.parent == locations.backups_dir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob(".deleting-*")), "no partial file left behind"

    lines = read_backup(path)
    assert lines[0]["format"] == "session-tui-deletion-backup" and lines[0]["version"] == 1
    assert lines[0]["requested"] == 3
    assert lines[-1] == {"end": {"contacts": 3, "memberships": 3, "events": 5}}
    entries = lines[1:-1]
    assert [e["contact"]["id"] for e in entries] == sorted([ann, ben, cem])
    first = entries[0]
    # every column, ids, version, created_at and the denormalised active_until included;
    # not the sort key and search text (recomputed from the names on restore)
    assert set(first["contact"]) == {c.name for c in contact_t.columns} - set(DERIVED_COLUMNS)
    by_id = {r[0]: r for r in before["contact"]}
    assert first["contact"]["email"] == "ann@example.com"
    assert first["contact"]["version"] == 1
    assert first["contact"]["created_at"] == by_id[ann][4].isoformat()
    assert first["contact"]["active_until"] == (T0 + timedelta(days=30)).isoformat()
    assert [m["id"] for m in first["memberships"]] == list(s["memberships"][:2])
    assert set(first["memberships"][0]) == {c.name for c in membership_t.columns} | {"events"}
    assert [e["kind"] for e in first["memberships"][0]["events"]] == ["granted", "extended"]
    assert entries[1]["contact"]["last_name"] == "[bold]Jones"
    assert entries[1]["memberships"][0]["events"][0]["detail"] == "comped \x1b[31m"
    assert entries[2]["memberships"] == []


def test_undo_restores_identical_rows(db: Database) -> None:
    s = seed(db)
    before = snapshot(db)
    result = delete_contacts(db, s["ids"][:3])
    restored = restore_backup(db, result.backup_path)
    assert (restored.contacts, restored.memberships, restored.events) == (3, 3, 5)
    assert restored.renumbered == 0
    assert snapshot(db) == before


def test_restore_then_new_rows_do_not_collide(db: Database) -> None:
    """PostgreSQL: explicit ids must not leave the sequences behind."""
    s = seed(db)
    result = delete_contacts(db, s["ids"])
    restore_backup(db, result.backup_path)
    new = add_contacts(db, [("new@example.com", "New", "Person")])
    assert new[0] > max(s["ids"])
    m = add_membership(db, new[0], s["products"][0])
    assert m > max(s["memberships"])
    assert add_event(db, m, "granted", T0) > 0


def test_delete_skips_ids_that_are_already_gone(db: Database) -> None:
    s = seed(db)
    result = delete_contacts(db, [999_999, s["ids"][2], s["ids"][0]])
    assert (result.contacts, result.missing) == (2, 1)
    assert result.ids == (s["ids"][0], s["ids"][2])  # only those deleted, ascending
    assert count(db, contact_t) == 2


def test_delete_of_nothing_still_leaves_a_valid_backup(db: Database) -> None:
    seed(db)
    result = delete_contacts(db, [])
    assert result.contacts == 0
    assert inspect_backup(result.backup_path).contacts == 0
    assert count(db, contact_t) == 4


def test_many_contacts_in_chunks_with_progress(db: Database) -> None:
    people = [(f"p{i}@example.com", f"P{i}", "Many") for i in range(1_234)]
    ids = add_contacts(db, people)
    product = add_product(db, "Course")
    for cid in ids[:5]:
        add_event(db, add_membership(db, cid, product), "granted", T0)
    before = snapshot(db)
    calls: list[tuple[int, int]] = []
    result = delete_contacts(db, ids, progress=lambda d, t: calls.append((d, t)))
    assert result.contacts == 1_234 and result.memberships == 5 and result.events == 5
    assert count(db, contact_t) == 0
    assert len(calls) >= 3 and calls[-1] == (1_234, 1_234)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    restore_backup(db, result.backup_path)
    assert snapshot(db) == before


def test_cancel_before_commit_deletes_nothing_and_removes_the_backup(db: Database) -> None:
    s = seed(db)
    before = snapshot(db)
    polls = iter([False, True])  # first chunk runs, then the user cancels
    with pytest.raises(DeletionCancelled):
        delete_contacts(db, s["ids"], cancelled=lambda: next(polls, True))
    assert snapshot(db) == before
    assert list(locations.backups_dir().iterdir()) == []


def test_restore_refuses_a_taken_email_and_writes_nothing(db: Database) -> None:
    s = seed(db)
    result = delete_contacts(db, s["ids"][:2])
    add_contacts(db, [("ben@example.com", "Another", "Ben")])
    before = snapshot(db)
    with pytest.raises(RestoreConflict) as info:
        restore_backup(db, result.backup_path)
    assert "ben@example.com" in str(info.value)
    assert "nothing was restored" in str(info.value)
    assert snapshot(db) == before  # Ann was not restored either


def test_restore_refuses_a_taken_id_and_writes_nothing(db: Database) -> None:
    s = seed(db)
    dee = s["ids"][3]
    result = delete_contacts(db, [dee])
    with db.engine.begin() as conn:
        conn.execute(
            contact_t.insert().values(
                id=dee,
                email="taken@example.com",
                first_name="T",
                last_name="",
                created_at=T0,
                updated_at=T0,
                version=1,
            )
        )
    before = snapshot(db)
    with pytest.raises(RestoreConflict) as info:
        restore_backup(db, result.backup_path)
    assert f"id {dee}" in str(info.value)
    assert snapshot(db) == before


def test_restore_twice_is_refused(db: Database) -> None:
    s = seed(db)
    result = delete_contacts(db, s["ids"][:1])
    restore_backup(db, result.backup_path)
    before = snapshot(db)
    with pytest.raises(RestoreConflict):
        restore_backup(db, result.backup_path)
    assert snapshot(db) == before


def test_reused_membership_ids_are_renumbered_history_kept(db: Database) -> None:
    """SQLite hands out max(id)+1 again: a membership created after the delete may
    take a deleted membership's id. Restore gives the deleted one a new id instead of
    refusing, and its history follows it."""
    s = seed(db)
    dee = s["ids"][3]
    m4 = s["memberships"][3]
    result = delete_contacts(db, [dee])
    with db.engine.begin() as conn:  # simulate the reuse on both databases
        conn.execute(
            membership_t.insert().values(
                id=m4,
                contact_id=s["ids"][2],
                product_id=s["products"][1],
                payment_type="free",
                started_at=T0,
            )
        )
    restored = restore_backup(db, result.backup_path)
    assert restored.renumbered == 1
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(membership_t.c.id, membership_t.c.payment_type).where(
                membership_t.c.contact_id == dee
            )
        ).all()
        assert len(rows) == 1 and rows[0].id != m4 and rows[0].payment_type == "paid"
        kinds = (
            conn.execute(select(event_t.c.kind).where(event_t.c.membership_id == rows[0].id))
            .scalars()
            .all()
        )
    assert kinds == ["granted"]


def test_restore_refuses_missing_and_damaged_files(db: Database, tmp_path: Path) -> None:
    s = seed(db)
    result = delete_contacts(db, s["ids"][:2])
    before = snapshot(db)
    data = gzip.decompress(result.backup_path.read_bytes())

    with pytest.raises(BackupError, match="no such backup file"):
        restore_backup(db, tmp_path / "nope.jsonl.gz")

    cut = tmp_path / "cut.jsonl.gz"  # truncated gzip stream
    cut.write_bytes(result.backup_path.read_bytes()[:-30])
    with pytest.raises(BackupError):
        restore_backup(db, cut)

    lines = data.decode().splitlines(keepends=True)
    no_end = tmp_path / "no_end.jsonl"
    no_end.write_text("".join(lines[:-1]))
    with pytest.raises(BackupError, match="incomplete"):
        restore_backup(db, no_end)

    lost_line = tmp_path / "lost_line.jsonl"
    lost_line.write_text(lines[0] + lines[2] + lines[-1])
    with pytest.raises(BackupError, match="damaged"):
        restore_backup(db, lost_line)

    garbage = tmp_path / "garbage.csv"
    garbage.write_text("email,first_name\nann@example.com,Ann\n")
    with pytest.raises(BackupError, match="not a session-tui deletion backup"):
        restore_backup(db, garbage)

    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text(lines[0] + '{"contact": {"id": 1,\n' + lines[-1])
    with pytest.raises(BackupError, match="line 2 is not JSON"):
        restore_backup(db, bad_json)

    assert snapshot(db) == before

    plain = tmp_path / "plain.jsonl"  # a decompressed backup restores too
    plain.write_bytes(data)
    assert restore_backup(db, plain).contacts == 2


def test_search_index_follows_delete_and_restore(db: Database) -> None:
    """SQLite swaps the per-row FTS triggers for bulk statements during both; the
    index must match the table afterwards and the triggers must be back."""
    from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository

    s = seed(db)
    repo = ContactsRepository(db)

    def found(term: str) -> int:
        return repo.count(ContactQuery(search=term))

    result = delete_contacts(db, s["ids"][:2])
    assert found("ann") == 0 and found("okafor") == 1
    restore_backup(db, result.backup_path)
    assert found("ann") == 1 and found("[bold]jones") == 1
    add_contacts(db, [("zed@example.com", "Zed", "Later")])  # the insert trigger is back
    assert found("later") == 1
    delete_contacts(db, s["ids"][3:])
    with db.engine.begin() as conn:  # the delete trigger is back
        conn.execute(contact_t.delete().where(contact_t.c.email == "zed@example.com"))
    assert found("later") == 0 and found("okafor") == 0
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO contact_fts(contact_fts, rank) VALUES ('integrity-check', 1)"
            )


def test_reused_membership_and_event_ids_both_renumbered(db: Database) -> None:
    s = seed(db)
    ann = s["ids"][0]
    before = snapshot(db)
    m1, m2 = s["memberships"][:2]
    result = delete_contacts(db, [ann])
    gone_events = [r for r in before["membership_event"] if r[1] in (m1, m2)]
    with db.engine.begin() as conn:  # another contact's rows take the freed ids
        conn.execute(
            membership_t.insert().values(
                id=m1,
                contact_id=s["ids"][2],
                product_id=s["products"][0],
                payment_type="free",
                started_at=T0,
            )
        )
        conn.execute(
            event_t.insert().values(
                id=gone_events[0][0],
                membership_id=m1,
                at=T0,
                kind="granted",
                detail="",
                actor="x",
            )
        )
        conn.execute(
            event_t.insert().values(
                id=gone_events[-1][0],
                membership_id=m1,
                at=T0,
                kind="granted",
                detail="",
                actor="x",
            )
        )
    restored = restore_backup(db, result.backup_path)
    assert restored.renumbered == 3  # m1, and one event of m1 and one of m2
    with db.engine.connect() as conn:
        ms = conn.execute(
            select(membership_t)
            .where(membership_t.c.contact_id == ann)
            .order_by(membership_t.c.product_id)
        ).all()
        assert [m.payment_type for m in ms] == ["paid", "free"]
        kinds = {
            m.payment_type: conn.execute(
                select(event_t.c.kind)
                .where(event_t.c.membership_id == m.id)
                .order_by(event_t.c.at, event_t.c.id)
            )
            .scalars()
            .all()
            for m in ms
        }
    assert kinds == {"paid": ["granted", "extended"], "free": ["granted", "cancelled"]}


def test_cancelled_restore_restores_nothing(db: Database) -> None:
    s = seed(db)
    result = delete_contacts(db, s["ids"])
    before = snapshot(db)
    with pytest.raises(RestoreCancelled):
        restore_backup(db, result.backup_path, cancelled=lambda: True)
    assert snapshot(db) == before
    assert restore_backup(db, result.backup_path).contacts == 4


def test_cancel_after_the_file_was_read_restores_nothing(db: Database) -> None:
    """The cancel polls go on after the whole file is read (PostgreSQL: while the
    held-back memberships and events go in; SQLite: before the commit)."""
    people = [(f"c{i}@example.com", f"C{i}", "Late") for i in range(1_234)]
    ids = add_contacts(db, people)
    product = add_product(db, "Course")
    for cid in ids[::100]:
        add_event(db, add_membership(db, cid, product), "granted", T0)
    result = delete_contacts(db, ids)
    before = snapshot(db)
    polls: list[bool] = []

    def cancelled() -> bool:
        polls.append(True)
        return len(polls) > 2  # the two polls while reading (every 500 contacts) pass

    with pytest.raises(RestoreCancelled):
        restore_backup(db, result.backup_path, cancelled=cancelled)
    assert snapshot(db) == before
    calls: list[tuple[int, int]] = []
    restored = restore_backup(db, result.backup_path, progress=lambda d, t: calls.append((d, t)))
    assert (restored.contacts, restored.memberships, restored.events) == (1_234, 13, 13)
    assert calls[-1] == (1_234, 1_234) and len(calls) >= 3
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_restore_takes_rows_that_lack_a_column_added_later(db: Database) -> None:
    """A backup whose membership records lack a nullable column (written before it
    was added) restores, next to records that have it: each set of columns goes in
    by a statement of its own."""
    s = seed(db)
    before = snapshot(db)
    result = delete_contacts(db, s["ids"])
    lines = read_backup(result.backup_path)
    for record in lines[1:-1]:
        for m in record["memberships"][:1]:
            if m["cancelled_at"] is None:
                del m["cancelled_at"]
    with gzip.open(result.backup_path, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(line) + "\n" for line in lines)
    restored = restore_backup(db, result.backup_path)
    assert (restored.contacts, restored.memberships, restored.events) == (4, 4, 6)
    assert snapshot(db) == before


def test_preview_shows_the_first_few(db: Database) -> None:
    s = seed(db)
    rows = preview(db, reversed(s["ids"]), limit=2)
    assert [(r.full_name, r.email) for r in rows] == [
        ("Ann Smith", "ann@example.com"),
        ("Ben [bold]Jones", "ben@example.com"),
    ]


def test_sqlite_page_cache_is_reset_after_a_bulk_transaction(sqlite_db: Database) -> None:
    s = seed(sqlite_db)
    with sqlite_db.engine.connect() as conn:
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    result = delete_contacts(sqlite_db, s["ids"])
    restore_backup(sqlite_db, result.backup_path)
    with sqlite_db.engine.connect() as conn:  # the pool hands out the same connection
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == before


def test_new_rows_after_a_delete_never_take_the_deleted_ids(db: Database) -> None:
    """Undo puts rows back with their own ids: a contact, membership or event added
    after the delete must not have taken one of them (SQLite: AUTOINCREMENT)."""
    s = seed(db)
    newest = max(s["ids"])
    before = snapshot(db)
    result = delete_contacts(db, [newest])
    new = add_contacts(db, [("after@example.com", "After", "Delete")])
    assert new[0] > newest
    m = add_membership(db, new[0], s["products"][0])
    assert m > max(s["memberships"])
    restored = restore_backup(db, result.backup_path)
    assert restored.renumbered == 0
    after = snapshot(db)
    assert [r for r in after["contact"] if r[0] != new[0]] == before["contact"]
