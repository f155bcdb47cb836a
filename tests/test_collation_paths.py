"""Every way a contact's names or email get written also writes its derived columns:
`name_key` and `search_text` equal what data/collation.py computes from the stored
names and email, after a CSV import, demo data, an edit, a grant that creates the
contact, a plain insert, a delete and its undo (restore), and a restore of a backup
carrying stale values. On SQLite and PostgreSQL.

If a new write path forgets them, the contact sorts out of place and search misses
it; `session-tui check` would report it (tests/test_accents.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from sqlalchemy import select

from session_tui.data.collation import name_key, search_text
from session_tui.data.csvio import import_csv
from session_tui.data.db import Database
from session_tui.data.deletion import delete_contacts, restore_backup
from session_tui.data.demo import generate_demo
from session_tui.data.editing import update_contact
from session_tui.data.repositories.contacts import ContactQuery, ContactsRepository
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import PaymentType, contact_t
from tests.helpers import add_contacts

PEOPLE = [
    ("maria@example.com", "María", "Núñez"),
    ("jose@example.com", "José", "Ødegaard"),
    ("ann@example.com", "Ann", "Müller"),
    ("lea@example.com", "Léa", "Łukasiewicz"),
]


def mismatches(db: Database) -> list[tuple[str, str]]:
    """(email, what is wrong) for every contact whose derived columns are not the
    ones its stored names and email give; [] when all are right."""
    c = contact_t.c
    out: list[tuple[str, str]] = []
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(c.email, c.first_name, c.last_name, c.name_key, c.search_text)
        ).all()
    for r in rows:
        if bytes(r.name_key) != name_key(r.first_name, r.last_name):
            out.append((r.email, "name_key"))
        if r.search_text != search_text(r.first_name, r.last_name, r.email):
            out.append((r.email, "search_text"))
    return out


def found(db: Database, term: str) -> list[str]:
    repo = ContactsRepository(db)
    return sorted(r.email for r in repo.page(ContactQuery(search=term), 0, 100))


def test_plain_insert_fills_them(db: Database) -> None:
    add_contacts(db, PEOPLE)  # a Core insert giving only the names and email
    assert mismatches(db) == []
    assert found(db, "maria") == ["maria@example.com"]


def test_csv_import_fills_them(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    lines = ["email,first_name,last_name"] + [",".join(p) for p in PEOPLE]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_csv(db, path)
    assert report.added == len(PEOPLE)
    assert mismatches(db) == []
    assert found(db, "nunez") == ["maria@example.com"]
    assert found(db, "ODEGAARD") == ["jose@example.com"]


def test_demo_data_fills_them(db: Database) -> None:
    generate_demo(db, 300, seed=3)
    assert mismatches(db) == []


def test_an_edit_rewrites_them(db: Database) -> None:
    (cid,) = add_contacts(db, [("old@example.com", "Old", "Name")])
    update_contact(db, cid, 1, "Zoë", "Ørsted", "zoe@example.com")
    assert mismatches(db) == []
    assert found(db, "zoe orsted") == ["zoe@example.com"]
    assert found(db, "old") == []


def test_a_grant_that_creates_the_contact_fills_them(db: Database) -> None:
    ProductsRepository(db).add("Course")
    MembershipsRepository(db).grant(
        "new@example.com", "Course", PaymentType.PAID, first_name="Ødön", last_name="Çelik"
    )
    assert mismatches(db) == []
    assert found(db, "odon celik") == ["new@example.com"]


def test_delete_then_undo_puts_them_back(db: Database, tmp_path: Path) -> None:
    ids = add_contacts(db, PEOPLE)
    result = delete_contacts(db, ids[:2], backups_dir=tmp_path)
    assert found(db, "maria") == []
    restore_backup(db, result.backup_path)
    assert mismatches(db) == []
    assert found(db, "maria") == ["maria@example.com"]
    assert found(db, "jose") == ["jose@example.com"]


def test_a_restore_recomputes_them_from_the_backup_names(db: Database, tmp_path: Path) -> None:
    """A backup holds the names, not the derived columns; even one carrying stale
    derived values (hand-edited, or from another version) gets them recomputed."""
    ids = add_contacts(db, PEOPLE)
    result = delete_contacts(db, ids[:1], backups_dir=tmp_path)
    with gzip.open(result.backup_path, "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    entries = [obj for obj in lines if "contact" in obj]
    assert entries and all("name_key" not in e["contact"] for e in entries)
    assert all("search_text" not in e["contact"] for e in entries)
    for entry in entries:
        entry["contact"]["search_text"] = "stale"
    stale = tmp_path / "stale.jsonl.gz"
    with gzip.open(stale, "wt", encoding="utf-8") as f:
        for obj in lines:
            f.write(json.dumps(obj) + "\n")
    restore_backup(db, stale)
    assert mismatches(db) == []
    assert found(db, "maria") == ["maria@example.com"]
