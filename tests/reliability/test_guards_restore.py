"""Issue 13, item 11: restore does not trust the backup file.

A hand-edited backup goes through the same validation and normalisation as import
and edit; statuses (contact.active_until) are recomputed from the memberships; any
row that fails refuses the whole file, naming the line, and nothing is written.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from session_tui.cli import main
from session_tui.data.clock import FAR_FUTURE
from session_tui.data.db import Database
from session_tui.data.deletion import (
    BackupError,
    RestoreConflict,
    delete_contacts,
    restore_backup,
)
from session_tui.data.tables import contact_t
from tests.helpers import add_contacts, add_membership, add_product
from tests.reliability.helpers import table_state

Edit = Callable[[list[dict[str, Any]]], None]


def backup_of_two(db: Database, tmp_path: Path) -> Path:
    """Delete bea and cy (bea has a membership); return their backup as plain JSONL."""
    ann, bea, cy = add_contacts(
        db,
        [
            ("ann@example.org", "Ann", "Able"),
            ("bea@example.org", "Bea", "Best"),
            ("cy@example.org", "Cy", "Cole"),
        ],
    )
    course = add_product(db, "Course")
    add_membership(db, bea, course, "paid")
    result = delete_contacts(db, [bea, cy], backups_dir=tmp_path / "backups")
    with gzip.open(result.backup_path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    plain = tmp_path / "backup.jsonl"
    plain.write_text(text, encoding="utf-8")
    return plain


def edited(path: Path, edit: Edit) -> Path:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    edit(records)
    out = path.with_name("edited.jsonl")
    out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return out


def contacts(db: Database) -> dict[str, tuple[Any, ...]]:
    c = contact_t.c
    with db.engine.connect() as conn:
        return {
            r.email: (r.first_name, r.last_name, r.active_until)
            for r in conn.execute(select(c.email, c.first_name, c.last_name, c.active_until))
        }


def test_upper_case_duplicate_of_an_existing_email_is_refused(db: Database, tmp_path: Path) -> None:
    plain = backup_of_two(db, tmp_path)

    def edit(records: list[dict[str, Any]]) -> None:
        records[2]["contact"]["email"] = "  ANN@Example.ORG "  # line 3: cy

    before = table_state(db)
    with pytest.raises(RestoreConflict, match="ann@example.org"):
        restore_backup(db, edited(plain, edit))
    assert table_state(db) == before


def test_overlong_name_with_escape_is_refused_naming_the_line(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = backup_of_two(db, tmp_path)

    def edit(records: list[dict[str, Any]]) -> None:
        records[2]["contact"]["first_name"] = "\x1b[2J" + "x" * 506  # 510 characters

    before = table_state(db)
    path = edited(plain, edit)
    with pytest.raises(BackupError) as caught:
        restore_backup(db, path)
    assert str(caught.value) == ("edited.jsonl, line 3: first name is longer than 200 characters")
    assert table_state(db) == before  # bea (line 2) was not restored either
    code = main(["restore", str(path), "--db", db.url])
    err = capsys.readouterr().err
    assert code == 1 and "line 3: first name is longer than 200 characters" in err
    assert "\x1b" not in err and table_state(db) == before


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("email", "not-an-email", "line 2: invalid email"),
        ("email", "", "line 2: email is empty"),
        ("last_name", 42, "line 2: last_name is not text"),
    ],
)
def test_invalid_contact_fields_are_refused(
    db: Database, tmp_path: Path, field: str, value: Any, reason: str
) -> None:
    plain = backup_of_two(db, tmp_path)

    def edit(records: list[dict[str, Any]]) -> None:
        records[1]["contact"][field] = value

    before = table_state(db)
    with pytest.raises(BackupError, match=reason):
        restore_backup(db, edited(plain, edit))
    assert table_state(db) == before


def test_invalid_membership_and_event_values_are_refused(db: Database, tmp_path: Path) -> None:
    plain = backup_of_two(db, tmp_path)
    before = table_state(db)

    def bad_payment(records: list[dict[str, Any]]) -> None:
        records[1]["memberships"][0]["payment_type"] = "stolen"

    with pytest.raises(BackupError, match="line 2: payment type must be paid, free or comped"):
        restore_backup(db, edited(plain, bad_payment))

    def bad_kind(records: list[dict[str, Any]]) -> None:
        records[1]["memberships"][0]["events"] = [
            {
                "id": 999,
                "membership_id": records[1]["memberships"][0]["id"],
                "at": "2026-01-01T00:00:00",
                "kind": "\x1b]0;pwned\x07",
                "detail": "",
                "actor": "x",
            }
        ]
        records[-1]["end"]["events"] = 1

    with pytest.raises(BackupError, match="line 2: unknown history event kind"):
        restore_backup(db, edited(plain, bad_kind))
    assert table_state(db) == before


def test_values_are_normalised_and_statuses_recomputed(db: Database, tmp_path: Path) -> None:
    plain = backup_of_two(db, tmp_path)

    def edit(records: list[dict[str, Any]]) -> None:
        cy = records[2]["contact"]
        cy["email"] = "  CY@Example.ORG "
        cy["first_name"] = " Cy\x1b[31m  Z "
        cy["active_until"] = FAR_FUTURE.isoformat()  # "active", with no memberships
        bea = records[1]
        bea["contact"]["active_until"] = None  # says "none", has an active membership
        bea["memberships"][0]["payment_type"] = " PAID "

    restore_backup(db, edited(plain, edit))
    got = contacts(db)
    assert got["cy@example.org"] == ("Cy[31m Z", "Cole", None)
    assert got["bea@example.org"][2] == FAR_FUTURE
    assert set(got) == {"ann@example.org", "bea@example.org", "cy@example.org"}


def test_a_genuine_backup_still_restores_exactly(db: Database, tmp_path: Path) -> None:
    ann, bea = add_contacts(
        db, [("ann@example.org", "Ann", "[bold]Able"), ("bea@example.org", "Bé", "Ñ")]
    )
    course = add_product(db, "Course")
    add_membership(db, ann, course, "comped")
    before = table_state(db)
    result = delete_contacts(db, [ann, bea], backups_dir=tmp_path / "b")
    restore_backup(db, result.backup_path)
    assert table_state(db) == before


def test_a_repeated_name_is_normalised_on_every_contact(db: Database, tmp_path: Path) -> None:
    """The restore works a name out once and looks it up after that: each contact
    that holds it still gets the normalised name and the sort key and search text of
    that name (as an edit would write them)."""
    from session_tui.data.collation import name_key, search_text

    plain = backup_of_two(db, tmp_path)

    def edit(records: list[dict[str, Any]]) -> None:
        for record in records[1:3]:
            record["contact"]["first_name"] = " Zoe\u0308\t Ann "  # decomposed ë, a tab
            record["contact"]["last_name"] = "Ørsted"

    restore_backup(db, edited(plain, edit))
    c = contact_t.c
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(c.email, c.first_name, c.last_name, c.name_key, c.search_text).where(
                c.email.in_(["bea@example.org", "cy@example.org"])
            )
        ).all()
    assert len(rows) == 2
    for email, first, last, key, text in rows:
        assert (first, last) == ("Zoë Ann", "Ørsted")
        assert bytes(key) == name_key("Zoë Ann", "Ørsted")
        assert text == search_text("Zoë Ann", "Ørsted", email)
